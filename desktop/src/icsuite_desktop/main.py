"""Entry point: `python -m icsuite_desktop.main` or `icsuite-desktop`."""

from __future__ import annotations

from icsuite_chassis.serve import serve
from icsuite_chassis.settings import load_settings

from .bootstrap import build_app
from .settings import DesktopSettings


def main() -> None:
    serve(load_settings(DesktopSettings), build_app)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()

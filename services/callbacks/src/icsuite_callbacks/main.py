"""Entry point: `python -m icsuite_callbacks.main` or `icsuite-callbacks`."""

from __future__ import annotations

from icsuite_chassis.serve import serve
from icsuite_chassis.settings import load_settings

from .bootstrap import build_app
from .settings import CallbacksSettings


def main() -> None:
    serve(load_settings(CallbacksSettings), build_app)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()

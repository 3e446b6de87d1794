"""The browser assets: htmx and its SSE extension from the npm registry, served from ``static/vendor``.

``python -m icsuite_desktop.assets`` installs the locked npm packages of ``desktop/package.json`` with
``npm ci`` (only when needed) and copies the files the pages load into ``static/vendor``; ``make install``
runs it, and the image's build does the same. Nothing is fetched from a CDN at run time.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
VENDOR = PACKAGE_DIR / "static" / "vendor"
VENDORED = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "htmx-sse.js": "htmx-ext-sse/dist/sse.js",
}
"""File in static/vendor -> its source under node_modules."""


def missing() -> list[str]:
    return [name for name in VENDORED if not (VENDOR / name).is_file()]


def project_dir() -> Path:
    """``desktop/`` of the repository (package.json beside ``src/``)."""
    return PACKAGE_DIR.parent.parent


def npm_install(project: Path) -> Path:
    """``npm ci`` when node_modules lacks a package or is older than the lock file; returns node_modules."""
    modules = project / "node_modules"
    lock = project / "package-lock.json"
    stale = not modules.is_dir() or (lock.is_file() and lock.stat().st_mtime > modules.stat().st_mtime)
    wanted = [*VENDORED.values(), "axe-core/axe.min.js"]
    if stale or any(not (modules / source).is_file() for source in wanted):
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("npm is needed to install the desktop's browser assets (Node.js 18 or newer)")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=project, check=True)
        modules.touch()
    return modules


def copy_vendored(modules: Path, target: Path = VENDOR) -> list[Path]:
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for name, source in VENDORED.items():
        shutil.copyfile(modules / source, target / name)
        copied.append(target / name)
    return copied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Install and copy the desktop's browser assets.")
    parser.add_argument("--project", type=Path, default=project_dir(), help="the folder with package.json")
    args = parser.parse_args(argv)
    if not (args.project / "package.json").is_file():
        print(f"no package.json in {args.project}", file=sys.stderr)
        return 2
    copied = copy_vendored(npm_install(args.project))
    print(f"desktop assets ready: {', '.join(p.name for p in copied)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

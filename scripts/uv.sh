#!/usr/bin/env bash
# Runs uv, installing it from PyPI first when the machine has none (a fresh machine needs only Python 3.11+).
set -euo pipefail
# under `uv run` the PATH starts with the project environment, which has no uv; uv names itself in $UV
if [ -n "${UV:-}" ] && [ -x "$UV" ]; then exec "$UV" "$@"; fi
if command -v uv >/dev/null 2>&1; then exec uv "$@"; fi
if ! python3 -m uv --version >/dev/null 2>&1; then
  echo "uv not found: installing it with pip (user site)" >&2
  python3 -m pip install --quiet --user --disable-pip-version-check uv >&2 \
    || python3 -m pip install --quiet --disable-pip-version-check uv >&2
fi
exec python3 -m uv "$@"

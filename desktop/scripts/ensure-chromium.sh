#!/usr/bin/env bash
# Prints the path of Debian's Chromium for the browser tests, installing the `chromium` package with apt-get
# when it is missing (as root, or with sudo); `apt-get update` runs first only when the package is unknown.
# Playwright is handed this executable: no browser is ever downloaded another way.
set -euo pipefail
find_chromium() { command -v chromium || command -v chromium-browser || true; }
path="$(find_chromium)"
if [ -z "$path" ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "chromium is missing and this machine has no apt-get: install Chromium and set IC_CHROMIUM" >&2
    exit 1
  fi
  sudo=""
  if [ "$(id -u)" != "0" ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-cache show chromium >/dev/null 2>&1; then
    echo "apt-get update (the package list does not know chromium yet)" >&2
    $sudo apt-get update -qq >&2
  fi
  echo "installing Debian's chromium with apt-get" >&2
  $sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
  path="$(find_chromium)"
fi
echo "$path"

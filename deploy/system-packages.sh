#!/usr/bin/env bash
# Debian packages the tests need besides Python: Chromium (the web chat's browser test drives it
# through Playwright; nothing is downloaded at test time) and fonts for its screenshots.
# Idempotent: does nothing when they are there. Needs root or sudo to install.
set -uo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Color Emoji" || missing+=(fonts-noto-color-emoji)
fc-list 2>/dev/null | grep -qi "DejaVu Sans" || missing+=(fonts-dejavu-core)
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "system-packages: run as root to install ${missing[*]} (apt-get); the browser test needs them" >&2
    exit 0
  fi
fi
echo "system-packages: installing ${missing[*]}"
if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null; }; then
  echo "system-packages: could not install ${missing[*]}; the web chat's browser test will fail" >&2
fi
exit 0

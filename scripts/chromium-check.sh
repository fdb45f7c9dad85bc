#!/usr/bin/env bash
# Make sure Debian's headless Chromium and its chromedriver are installed (apt packages
# `chromium` and `chromium-driver`) for the browser tests; never downloads a browser.
# Prints CHROMIUM_BINARY=... and CHROMEDRIVER=... for `eval`.
set -euo pipefail

log() { echo "chromium-check: $*" >&2; }

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    log "chromium or chromedriver not found; installing them with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq chromium chromium-driver >&2
fi
log "$(chromium --version 2>/dev/null || echo 'chromium: version unknown')"
echo "CHROMIUM_BINARY=$(command -v chromium)"
echo "CHROMEDRIVER=$(command -v chromedriver)"

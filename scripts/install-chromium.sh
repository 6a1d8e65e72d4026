#!/usr/bin/env bash
# Headless Chromium for the report's browser tests (tests/test_report_browser.py).
# Debian's `chromium` package, installed only when it is missing and we are root; a
# developer without root installs it once by hand (`sudo apt-get install chromium`).
# Nothing is downloaded by the tests themselves.
set -euo pipefail
CHROMIUM="${CJM_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if [ "$(id -u)" != "0" ]; then
    echo "install-chromium: $CHROMIUM is missing; install Debian's chromium package" \
         "(sudo apt-get install chromium) to run the report's browser tests" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core

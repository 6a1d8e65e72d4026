#!/bin/sh
# The tests start their own PostgreSQL server (tests/pg_server.py) and need its binaries
# (initdb, pg_ctl). Installs them when missing and we may (root with apt-get); otherwise
# says what to install. Never starts or changes a server.
set -eu
for bin in /usr/lib/postgresql/*/bin/initdb; do
    [ -x "$bin" ] && exit 0
done
command -v initdb >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "PostgreSQL server binaries missing: apt-get install -y postgresql"
    apt-get install -y -q postgresql >/dev/null || {
        apt-get update -q >/dev/null && apt-get install -y -q postgresql >/dev/null
    }
    exit 0
fi
echo "The tests need the PostgreSQL server binaries (initdb, pg_ctl), which are missing:" >&2
echo "install them as root (Debian/Ubuntu: apt-get install -y postgresql) and run make test again." >&2
exit 1

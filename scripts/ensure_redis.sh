#!/bin/sh
# The Celery integration test (tests/test_celery_cluster.py) starts its own Redis server on
# 127.0.0.1 as the broker, and needs the `redis-server` binary. Installs it when missing
# and we may (root with apt-get); otherwise says what to install. Never starts a server:
# the Debian package's own service is not used (the test runs redis-server itself).
set -eu
command -v redis-server >/dev/null 2>&1 && exit 0
[ -x /usr/bin/redis-server ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "redis-server missing: apt-get install -y redis-server"
    apt-get install -y -q redis-server >/dev/null || {
        apt-get update -q >/dev/null && apt-get install -y -q redis-server >/dev/null
    }
    exit 0
fi
echo "The Celery integration test needs redis-server, which is missing:" >&2
echo "install it as root (Debian/Ubuntu: apt-get install -y redis-server) and run make test again." >&2
exit 1

#!/bin/sh
# tests/setup-user.sh — creates the unprivileged user the tests run procache
# as (procache-test), when run as root. Idempotent.
set -eu
id procache-test >/dev/null 2>&1 && exit 0
[ "$(id -u)" = 0 ] || { echo "setup-user: must be root to create procache-test" >&2; exit 1; }
useradd --system --create-home --home-dir /var/lib/procache-test \
	--shell /bin/sh procache-test

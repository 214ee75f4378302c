#!/usr/bin/env bash
# examples/untrusted/run.sh — an untrusted workflow step: a script that
# tries to escape, run with --untrusted and limits. Each attempt is
# contained, and its legitimate output is kept.
set -uo pipefail
procache=${PROCACHE:-procache}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/procache-untrusted.XXXXXX")
trap 'rm -rf "$work"' EXIT
export PROCACHE_DIR="$work/cache"
mkdir -p "$work/home" "$work/step/out"
echo "s3cr3t-token" >"$work/home/.token" && chmod 600 "$work/home/.token"
chmod 755 "$work" "$work/step"
chmod 777 "$work/step/out"
cp "$(dirname "$0")/step.sh" "$work/step/step.sh"
cd "$work/step"
"$procache" run --untrusted --output out --timeout 30 --pids 64 --memory 256M \
	--best-effort-limits --mask "$work/home" --report report.json \
	-- sh step.sh "$work/home/.token"
echo "exit status: $?"
echo "legitimate output kept:"; cat out/result.txt
echo "host files untouched:"; cat "$work/home/.token"
test ! -e /etc/procache-untrusted-was-here && echo "  /etc unchanged"

#!/usr/bin/env bash
# examples/tests/run.sh — skippable test execution: each test file of a
# suite runs as one procache job; a test whose inputs did not change is
# skipped and its result (output and exit status) replayed, failures too.
set -euo pipefail
procache=${PROCACHE:-procache}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/procache-tests.XXXXXX")
trap 'rm -rf "$work"' EXIT
export PROCACHE_DIR="$work/cache"
cp -r "$(dirname "$0")/suite" "$work/suite"
cd "$work/suite"

suite() {
	local pass=0 fail=0 ran=0 t
	for t in tests/test_*.sh; do
		if "$procache" run --report r.json -- sh "$t" >"$t.log" 2>&1; then
			pass=$((pass + 1))
		else
			fail=$((fail + 1))
		fi
		grep -q '"status":[[:space:]]*"hit"' r.json || ran=$((ran + 1))
	done
	echo "$1: $pass passed, $fail failed; $ran test files ran, the rest were replayed"
}
suite "run 1"
suite "run 2 (nothing changed)"
sed -i 's/a - b/a + b/' lib/calc.sh
suite "run 3 (lib/calc.sh fixed: the tests that source it run again)"

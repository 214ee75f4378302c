#!/usr/bin/env bash
# tests/run-all.sh — runs every unit test binary and every shell test script,
# two at a time, and ends with one line "N passed, N failed".
#
# The chain linter (tools/chainlint.py) checks the shell scripts first.
#
# Every test program speaks the same protocol: one line per case, "ok N - ..."
# or "not ok N - ...", and a non-zero exit status if anything failed. A program
# that exits non-zero without printing "not ok" counts as one failure, so a
# crash can never pass silently.
#
# Environment: PROCACHE (binary under test), PROCACHE_BUILD (build directory
# with tests/unit and tests/helpers binaries), TESTS (space-separated subset of
# scripts to run, e.g. TESTS="tests/t0100-sandbox.sh"), JOBS (parallelism).
#
# The tracer's scripts (tests/t02*.sh, tests/hermetic/) run twice: as they
# are, and with the tracer's fast path forced off (PROCACHE_FAST_PATH=0,
# DESIGN.md §3.1), listed as SCRIPT@nofast: both must give the same verdicts.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${PROCACHE_BUILD:-build}
case $build in /*) ;; *) build="$top/$build" ;; esac
export PROCACHE_BUILD="$build"
export PROCACHE=${PROCACHE:-$top/procache}
jobs=${JOBS:-2}
# Jobs get a private /tmp (a fresh tmpfs; DESIGN.md §2), so a checkout or
# build under /tmp is invisible to them and most cases would fail with
# "command not found": refuse, with the reason, before running anything.
for d in "$top" "$build"; do
	case $(realpath -m "$d")/ in
	/tmp/*)
		echo "tests: '$d' is under /tmp, which every job sees as its own empty tmpfs;" \
			"clone or build elsewhere (e.g. /var/tmp)" >&2
		echo "0 passed, 1 failed"
		exit 1 ;;
	esac
done
# Logs of this invocation only: several may run at once (developers,
# helpers), and must not remove each other's logs.
mkdir -p "$top/tests/out"
out=$(mktemp -d "$top/tests/out/run.XXXXXX")

if [ -n "${TESTS:-}" ]; then
	progs=$(for p in $TESTS; do case $p in /*) echo "$p" ;; *) echo "$top/$p" ;; esac; done)
else
	# A unit test per source (a binary left by a removed source is not
	# run; one not built fails).
	progs=$(for src in "$top"/tests/unit/test-*.c; do
			echo "$build/tests/unit/$(basename "$src" .c)"
		done
		ls "$top"/tests/t[0-9]*.sh "$top"/tests/*/t[0-9]*.sh 2>/dev/null)
fi

# The chain linter first (tools/chainlint.py, with its self-test): a case
# whose commands are not joined by && passes whatever its commands do. Its
# findings are cases like any test's, in the closing count.
if [ -x /usr/bin/python3 ]; then python=/usr/bin/python3; else python=python3; fi
scripts=$(printf '%s\n' $progs | sed -n "s|^$top/||; /\.sh\$/p")
progs=$(for p in $progs; do
		echo "$p"
		case $p in */tests/t02[0-9][0-9]-*.sh | */tests/hermetic/t*.sh) echo "$p@nofast" ;; esac
	done)
start=$(date +%s.%N)
(cd "$top" && "$python" tools/chainlint.py --tap --self-test tests/chainlint $scripts) \
	>"$out/chainlint.log" 2>&1 </dev/null
rc=$?
if [ $rc -ne 0 ] && ! grep -q '^not ok ' "$out/chainlint.log"; then
	echo "not ok 0 - chainlint exited with status $rc without reporting a failure" >>"$out/chainlint.log"
fi
awk -v rc="$rc" -v s="$start" -v e="$(date +%s.%N)" \
	'BEGIN { printf "%s chainlint %.1f\n", rc, e - s }' >"$out/chainlint.log.rc"

run_one() {
	prog=$1 out=$2 fast=
	case $prog in *@nofast) prog=${prog%@nofast} fast=0 ;; esac
	name=$(echo "${prog#$top/}${fast:+@nofast}" | sed 's|^build[^/]*/||; s|/|_|g')
	log="$out/$name.log"
	start=$(date +%s.%N)
	case $prog in
	*.sh) (cd "$(dirname "$prog")" && ${fast:+env PROCACHE_FAST_PATH=$fast} bash "$prog") \
		>"$log" 2>&1 </dev/null ;;
	*) "$prog" >"$log" 2>&1 </dev/null ;;
	esac
	rc=$?
	end=$(date +%s.%N)
	if [ $rc -ne 0 ] && ! grep -q '^not ok ' "$log"; then
		echo "not ok 0 - $name exited with status $rc without reporting a failure" >>"$log"
	fi
	awk -v rc="$rc" -v n="$name" -v s="$start" -v e="$end" 'BEGIN { printf "%s %s %.1f\n", rc, n, e - s }' >"$log.rc"
}
export -f run_one
export top

printf '%s\n' $progs | xargs -P "$jobs" -I{} bash -c 'run_one "$1" "$2"' _ {} "$out"

passed=0 failed=0
for rc in "$out"/*.log.rc; do
	[ -e "$rc" ] || continue
	log=${rc%.rc}
	read -r status name secs <"$rc"
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -gt 0 ] || [ "$status" -ne 0 ]; then
		echo "FAIL $name ($p passed, $f failed, ${secs}s); log follows:"
		sed 's/^/    /' "$log"
	else
		echo "PASS $name ($p passed, ${secs}s)"
	fi
done
if [ $((passed + failed)) -eq 0 ]; then
	echo "no test ran"
	failed=1
fi
echo "$passed passed, $failed failed"
if [ "$failed" -eq 0 ]; then
	rm -rf "$out"
	exit 0
fi
echo "logs kept in $out"
exit 1

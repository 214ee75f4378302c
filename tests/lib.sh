# tests/lib.sh — a small test library in the style of git's t/test-lib.sh.
#
# A test script:
#	#!/usr/bin/env bash
#	test_description='what this file tests'
#	. "$(dirname "$0")/lib.sh"     (or ../lib.sh from a subdirectory)
#	test_expect_success 'a job runs' '
#		"$PROCACHE" run --no-cache -- true
#	'
#	test_done
#
# Each case is a shell snippet evaluated in the script's shell, inside a fresh
# directory of its own ($TEST_DIR); its commands are chained with && so the
# first failure fails the case. Output: "ok N - script: title" or "not ok ...".
#
# Helpers: test_must_fail CMD (must exit non-zero, not by a signal or by the
# shell's 126/127), test_expect_code N CMD, test_cmp EXPECTED ACTUAL,
# test_when_finished 'CMD' (cleanup run after the case, pass or fail),
# test_wait_for SECONDS [!] CMD (an event without an fd or pid to wait on),
# $JOB_HOLD and job_release PID (a job kept running until the test says),
# test_have_prereq NAME / test_skip_unless_prereq NAME (with CI=true a missing
# prerequisite fails instead of skipping), json_get FILE KEY (reads a report),
# run STATUS [run options] -- CMD (procache run whose report says STATUS).
#
# Environment for cases: PROCACHE (the binary), PROCACHE_DIR (a cache private
# to this script), HELPERS (compiled tests/helpers), TEST_ROOT (the script's
# scratch directory), TEST_DIR (the case's).

set -u
TEST_NAME=$(basename "$0" .sh)
TEST_SRC_DIR=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${PROCACHE:=$TOP/procache}"
: "${PROCACHE_BUILD:=$TOP/build}"
HELPERS=$PROCACHE_BUILD/tests/helpers
export PROCACHE HELPERS PROCACHE_BUILD TOP

# Scratch space: a "trash directory" inside the tree (as git's tests do),
# not under /tmp, which jobs see as a private tmpfs. Kept on failure for a
# post-mortem, and with TEST_KEEP=1.
# A tree checked out under /tmp (some CI systems do) gets its trash under
# /var/tmp instead: jobs see /tmp as a private tmpfs.
case $TOP/ in
/tmp/*) TEST_TRASH_DEFAULT=/var/tmp/procache-trash$(echo "$TOP" | tr / _) ;;
*) TEST_TRASH_DEFAULT=$TOP/tests/trash ;;
esac
TEST_ROOT=${TEST_TMPDIR:-$TEST_TRASH_DEFAULT}/$TEST_NAME.$$
rm -rf "$TEST_ROOT" && mkdir -p "$TEST_ROOT" || exit 1
export PROCACHE_DIR=$TEST_ROOT/cache
export HOME=$TEST_ROOT/home
mkdir -p "$HOME"
unset XDG_CACHE_HOME XDG_CONFIG_HOME

test_count=0
test_failures=0
test_skips=0
test_cleanup=""

say() { printf '%s\n' "$*"; }

test_when_finished() {
	test_cleanup="{ $*
	}; $test_cleanup"
}

_test_run_case() {
	local title=$1 body=$2 expect=$3
	test_count=$((test_count + 1))
	TEST_DIR=$TEST_ROOT/t$test_count
	mkdir -p "$TEST_DIR"
	test_cleanup=":"
	local rc
	# The case runs in a subshell, so a case cannot leak state into the next;
	# its cleanup runs there too, on the way out, whatever happened.
	(
		cd "$TEST_DIR" || exit 1
		trap '(eval "$test_cleanup") >/dev/null 2>&1' EXIT
		eval "$body"
	) >"$TEST_ROOT/case.out" 2>&1
	rc=$?
	if { [ "$expect" = success ] && [ $rc -eq 0 ]; } ||
	   { [ "$expect" = failure ] && [ $rc -ne 0 ]; }; then
		if [ "$expect" = failure ]; then
			say "ok $test_count - $TEST_NAME: $title # TODO known breakage"
		else
			say "ok $test_count - $TEST_NAME: $title"
		fi
		[ -n "${TEST_VERBOSE:-}" ] && sed 's/^/#   /' "$TEST_ROOT/case.out"
	else
		test_failures=$((test_failures + 1))
		say "not ok $test_count - $TEST_NAME: $title"
		say "#   body:"
		printf '%s\n' "$body" | sed 's/^/#     /'
		say "#   output (exit $rc):"
		tail -n 40 "$TEST_ROOT/case.out" | sed 's/^/#     /'
	fi
	return 0
}

# test_expect_success [PREREQ] TITLE BODY
test_expect_success() {
	if [ $# -eq 3 ]; then
		test_skip_unless_prereq "$1" "$2" || return 0
		shift
	fi
	_test_run_case "$1" "$2" success
}

# test_expect_failure TITLE BODY: a known bug, stated as such.
test_expect_failure() {
	_test_run_case "$1" "$2" failure
}

# test_must_fail CMD...: CMD must fail in an ordinary way (git's rule).
# Exit 0 fails the test, and so do the exits that mean something went
# wrong rather than "no": a death by a signal (129..192), 126 (cannot
# execute) and 127 (not found). A case that expects one of those says so
# with test_expect_code.
test_must_fail() {
	"$@"
	local rc=$?
	if [ $rc -eq 0 ]; then
		echo "test_must_fail: command succeeded: $*" >&2
		return 1
	elif [ $rc -gt 128 ] && [ $rc -le 192 ]; then
		echo "test_must_fail: died by signal $((rc - 128)): $*" >&2
		return 1
	elif [ $rc -eq 127 ]; then
		echo "test_must_fail: command not found: $*" >&2
		return 1
	elif [ $rc -eq 126 ]; then
		echo "test_must_fail: command found but not executable: $*" >&2
		return 1
	fi
	return 0
}

# test_expect_code N CMD...: CMD must exit with status N exactly (a death
# by signal S is 128+S).
test_expect_code() {
	local want=$1
	shift
	"$@"
	local rc=$?
	if [ $rc -ne "$want" ]; then
		echo "test_expect_code: expected exit $want, got $rc: $*" >&2
		return 1
	fi
	return 0
}

# test_wait_for SECONDS [!] CMD...: waits for an event that gives no fd or
# pid to wait on (a line in a file, a socket bound, a process gone): runs
# CMD every 10 ms until it succeeds (with "!", until it fails); after
# SECONDS, fails the test, saying what it waited for. A bound, not a
# delay: it returns as soon as the event has happened.
test_wait_for() {
	local secs=$1 negate="" deadline
	shift
	if [ "$1" = "!" ]; then
		negate=1
		shift
	fi
	deadline=$(( ${EPOCHREALTIME/./} + secs * 1000000 ))
	while :; do
		if [ -n "$negate" ]; then
			"$@" >/dev/null 2>&1 || return 0
		else
			"$@" >/dev/null 2>&1 && return 0
		fi
		if [ ${EPOCHREALTIME/./} -gt $deadline ]; then
			echo "test_wait_for: after ${secs}s, still ${negate:+not }false: ${negate:+! }$*" >&2
			return 1
		fi
		sleep 0.01
	done
}

# run_trash_gone RUN_ROOT: no run directory a runner retired is still being
# removed. A miss leaves its sandbox's teardown and the removal of its
# run directory (renamed .trash-<id> before it exits) to a child that
# does them once the runner has exited (DESIGN.md §1, "Teardown"): wait
# for it with test_wait_for 10 run_trash_gone "$PROCACHE_DIR/run".
run_trash_gone() { ! ls -A "$1" | grep -q "^\.trash-"; }

# A job that must still be running while the test changes something from
# outside ends its script with "$JOB_HOLD": it says "held" on stderr and
# waits until job_release sends it SIGUSR1 (then exits 0), or 60 s (then
# exits 1). Everything before JOB_HOLD in the script has happened once
# "held" shows; nothing after the release can race the change.
JOB_HOLD='trap "kill \$! 2>/dev/null; exit 0" USR1; echo held >&2; sleep 60 & wait; exit 1'

# job_release PID: sends SIGUSR1 to the held job of the procache process
# PID (its shell: the descendant named sh). The walk is tried again for
# up to 10 s: pgrep reads /proc while processes come and go, and on a
# loaded machine one walk was seen to miss the shell (CI, t1070).
job_release() {
	local pids all p tries=0
	while [ $tries -lt 1000 ]; do
		pids=$1 all=""
		while [ -n "$pids" ]; do
			all="$all $pids"
			pids=$(pgrep -d , -P "$pids")
		done
		for p in ${all//,/ }; do
			if [ "$(cat /proc/$p/comm 2>/dev/null)" = sh ]; then
				kill -USR1 "$p" && return 0
			fi
		done
		kill -0 "$1" 2>/dev/null || break
		tries=$((tries + 1))
		sleep 0.01
	done
	echo "job_release: no held job under pid $1" >&2
	return 1
}

test_cmp() {
	cmp -s "$1" "$2" && return 0
	echo "test_cmp: '$1' and '$2' differ:" >&2
	diff -u "$1" "$2" >&2 || :
	return 1
}

test_path_is_file() { [ -f "$1" ] || { echo "not a file: $1" >&2; return 1; }; }
test_path_is_dir() { [ -d "$1" ] || { echo "not a directory: $1" >&2; return 1; }; }
test_path_is_missing() { [ ! -e "$1" ] && [ ! -L "$1" ] || { echo "exists: $1" >&2; return 1; }; }

# Prerequisites. Each is a function test_prereq_NAME returning 0 when met.
test_prereq_ROOT() { [ "$(id -u)" = 0 ]; }
test_prereq_USERNS() { unshare --user --map-root-user true 2>/dev/null; }
test_prereq_UNPRIV_USER() { id procache-test >/dev/null 2>&1 || "$TOP/tests/setup-user.sh" >/dev/null 2>&1; }

test_have_prereq() { "test_prereq_$1"; }

# Returns 1 (and reports a skip, or a failure under CI=true) when unmet.
test_skip_unless_prereq() {
	local prereq=$1 title=$2
	test_have_prereq "$prereq" && return 0
	test_count=$((test_count + 1))
	if [ "${CI:-}" = true ]; then
		test_failures=$((test_failures + 1))
		say "not ok $test_count - $TEST_NAME: $title (prerequisite $prereq missing; CI=true forbids skipping)"
	else
		test_skips=$((test_skips + 1))
		say "ok $test_count - $TEST_NAME: $title # SKIP missing $prereq"
	fi
	return 1
}

# The system python when there is one, for the tests and for the jobs
# they run: a pyenv shim first on PATH costs a second a call (ten under
# load, past a test's wait for a server it started).
if [ -x /usr/bin/python3 ]; then
	PYTHON=/usr/bin/python3
	PATH=/usr/bin:$PATH
else
	PYTHON=python3
fi
export PATH

# json_get FILE KEY: prints a top-level value of a JSON file (strings bare).
json_get() {
	"$PYTHON" -c 'import json,sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v if isinstance(v, str) else json.dumps(v))' "$1" "$2"
}

# tree_snapshot DIR: one line per entry below DIR (type, mode, path,
# symlink target, content checksum), sorted, then one per extended
# attribute (DIR's own too); equal snapshots mean equal trees byte for
# byte, mode for mode and attribute for attribute.
tree_snapshot() {
	(cd "$1" && find . -mindepth 1 -printf '%y %m %p %l\n' | sort |
	while read -r type mode path target; do
		case $type in
		f) echo "f $mode $path $(md5sum <"$path" | cut -d" " -f1)" ;;
		l) echo "l $path -> $target" ;;
		*) echo "$type $mode $path" ;;
		esac
	done
	# extended attributes (POSIX ACLs included; security.selinux is the
	# host's label, not the tree's), one sorted line per attribute
	getfattr -R -P -h -d -m - -e hex . 2>/dev/null |
	sed -n -e 's/^# file: /F /p' -e '/=/p' |
	awk '$1 == "F" { f = substr($0, 3); next } { print "x " f " " $0 }' |
	{ grep -v ' security\.selinux=' || :; } | sort)
}

# run_report STATUS CMD...: runs procache run --report, checks the status.
# The job's exit status is procache's; it is returned.
expect_status() {
	local want=$1 got
	got=$(json_get "${2:-report.json}" status) || return 1
	if [ "$got" != "$want" ]; then
		echo "expected status '$want', got '$got'" >&2
		cat "${2:-report.json}" >&2
		return 1
	fi
}

# run STATUS [procache run options] -- CMD...: procache run --report
# report.json, whose status must be STATUS; procache's exit status is
# kept in $rc. (tests/faults has its own, which allows alternatives.)
run() {
	local want=$1
	shift
	rc=0
	"$PROCACHE" run --report report.json "$@" || rc=$?
	expect_status "$want"
}

test_done() {
	say "# $TEST_NAME: $((test_count - test_failures)) passed, $test_failures failed, $test_skips skipped"
	if [ $test_failures -eq 0 ] && [ -z "${TEST_KEEP:-}" ]; then
		chmod -R u+rwx "$TEST_ROOT" 2>/dev/null
		rm -rf "$TEST_ROOT"
	fi
	[ $test_failures -eq 0 ]
	exit $?
}

#!/usr/bin/env bash
test_description='hermeticity: what is out of the model (clock, randomness), uncacheable jobs (network, volatile /proc, inputs changed while running)'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-hermetic.sh"

# DESIGN §3: the clock and randomness are not preconditions. A hit replays
# what was recorded; --check is how such a job is found.
test_expect_success 'a job printing the clock: the hit replays the recorded time; --check says different' '
	hstart &&
	hmiss -- "$HELPERS/he-entropy" clock &&
	cp "$TEST_DIR/stdout" recorded &&
	hrun hit -- "$HELPERS/he-entropy" clock &&
	test_cmp recorded "$TEST_DIR/stdout" &&
	hrun hit --check -- "$HELPERS/he-entropy" clock &&
	test "$rc" = 1 &&
	test "$(hjson_get "$TEST_DIR/report.json" check)" = different
'

test_expect_success 'a job printing getrandom() bytes: the hit replays them; --check says different' '
	hstart &&
	hmiss -- sh -c "\"$HELPERS/he-entropy\" random >rand" &&
	cp rand recorded && echo stale >rand &&
	hrun hit -- sh -c "\"$HELPERS/he-entropy\" random >rand" &&
	test_cmp recorded rand &&
	hrun hit --check -- sh -c "\"$HELPERS/he-entropy\" random >rand" &&
	test "$rc" = 1 &&
	test "$(hjson_get "$TEST_DIR/report.json" check)" = different &&
	hjson_get "$TEST_DIR/report.json" differences >diffs &&
	grep -q "$W/rand" diffs
'

test_expect_success 'a job reading /dev/urandom: replayed; --check says different' '
	hstart &&
	hmiss -- sh -c "head -c 16 /dev/urandom | od -An -tx1" &&
	hrun hit --check -- sh -c "head -c 16 /dev/urandom | od -An -tx1" &&
	test "$(hjson_get "$TEST_DIR/report.json" check)" = different
'

test_expect_success 'a deterministic job: --check says same' '
	hstart && echo x >in &&
	hmiss -- sh -c "cat in >out" &&
	hrun hit --check -- sh -c "cat in >out" &&
	test "$rc" = 0 &&
	test "$(hjson_get "$TEST_DIR/report.json" check)" = same
'

test_expect_success '--net: uncacheable every time' '
	hstart &&
	hrun uncacheable --net -- sh -c "echo x >f" &&
	hreason_has network &&
	hrun uncacheable --net -- sh -c "echo x >f"
'

test_expect_success '/proc/cpuinfo is recorded by content: the second run hits' '
	hstart &&
	hmiss -- sh -c "grep -c ^processor /proc/cpuinfo" &&
	hhit -- sh -c "grep -c ^processor /proc/cpuinfo"
'

test_expect_success '/proc/meminfo, /proc/uptime, /proc/loadavg make the job uncacheable' '
	hstart &&
	hrun uncacheable -- sh -c "head -1 /proc/meminfo" &&
	hreason_has /proc/meminfo &&
	hrun uncacheable -- cat /proc/uptime &&
	hreason_has /proc/uptime &&
	hrun uncacheable -- cat /proc/loadavg
'

test_expect_success 'an input changed from outside while the job runs: uncacheable, nothing stored' '
	hstart && echo v1 >in &&
	("$PROCACHE" run --report "$TEST_DIR/report.json" -- sh -c "cat in; sleep 0.5" >"$TEST_DIR/stdout" 2>&1 &
	 i=0; while ! grep -q v1 "$TEST_DIR/stdout" 2>/dev/null; do
		i=$((i + 1)); test $i -lt 500 || exit 1; sleep 0.01; done
	 echo v2 >in; wait) &&
	test "$(hstatus "$TEST_DIR/report.json")" = uncacheable &&
	hreason_has "input changed during the run" &&
	hmiss -- sh -c "cat in; sleep 0.5" &&
	hstdout_is v2
'

test_expect_success 'a listed directory changed from outside while the job runs: uncacheable' '
	hstart && mkdir d && touch d/a &&
	("$PROCACHE" run --report "$TEST_DIR/report.json" -- sh -c "ls d; sleep 1" >"$TEST_DIR/stdout" 2>&1 &
	 i=0; while ! grep -q a "$TEST_DIR/stdout" 2>/dev/null; do
		i=$((i + 1)); test $i -lt 500 || exit 1; sleep 0.01; done
	 touch d/b; wait) &&
	test "$(hstatus "$TEST_DIR/report.json")" = uncacheable &&
	hreason_has "input changed during the run"
'

test_expect_success 'a path found absent created from outside while the job runs: uncacheable' '
	hstart &&
	("$PROCACHE" run --report "$TEST_DIR/report.json" -- sh -c "test -e late || echo absent; sleep 1" >"$TEST_DIR/stdout" 2>&1 &
	 i=0; while ! grep -q absent "$TEST_DIR/stdout" 2>/dev/null; do
		i=$((i + 1)); test $i -lt 500 || exit 1; sleep 0.01; done
	 touch late; wait) &&
	test "$(hstatus "$TEST_DIR/report.json")" = uncacheable &&
	hreason_has "input changed during the run"
'

test_expect_success 'a file only stat-ed, touched from outside while the job runs: the next run misses' '
	hstart && echo 12 >f && touch -d 2001-01-01 f &&
	("$PROCACHE" run --report "$TEST_DIR/report.json" -- sh -c "stat -c %s f; sleep 0.5" >"$TEST_DIR/stdout" 2>&1 &
	 i=0; while ! grep -q 3 "$TEST_DIR/stdout" 2>/dev/null; do
		i=$((i + 1)); test $i -lt 500 || exit 1; sleep 0.01; done
	 echo 34 >f; wait) &&
	status=$(hstatus "$TEST_DIR/report.json") &&
	test "$status" = miss -o "$status" = uncacheable &&
	hmiss -- sh -c "stat -c %s f; sleep 0.5" &&
	hstdout_is 3
'

test_done

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

test_expect_success '/proc/interrupts, /proc/diskstats make the job uncacheable' '
	hstart &&
	hrun uncacheable -- sh -c "head -1 /proc/interrupts" &&
	hreason_has /proc/interrupts &&
	hrun uncacheable -- cat /proc/diskstats &&
	hreason_has /proc/diskstats
'

# /proc/meminfo, /proc/uptime, /proc/loadavg are generated (t1120).
test_expect_success '/proc/meminfo, /proc/uptime, /proc/loadavg are generated: a hit' '
	hstart &&
	hmiss -- sh -c "head -1 /proc/meminfo; cat /proc/uptime /proc/loadavg" &&
	hhit -- sh -c "head -1 /proc/meminfo; cat /proc/uptime /proc/loadavg"
'

# The jobs below end with $JOB_HOLD (lib.sh): each stays running until the
# test has made its change, so the change always falls inside the run.
test_expect_success 'an input changed from outside while the job runs: uncacheable, nothing stored' '
	hstart && echo v1 >in &&
	hrun_held uncacheable "echo v2 >in" -- sh -c "cat in; $JOB_HOLD" &&
	hreason_has "input changed during the run" &&
	hrun_held miss : -- sh -c "cat in; $JOB_HOLD" &&
	hstdout_is v2
'

test_expect_success 'a listed directory changed from outside while the job runs: uncacheable' '
	hstart && mkdir d && touch d/a &&
	hrun_held uncacheable "touch d/b" -- sh -c "ls d; $JOB_HOLD" &&
	hreason_has "input changed during the run"
'

test_expect_success 'a path found absent created from outside while the job runs: uncacheable' '
	hstart &&
	hrun_held uncacheable "touch late" -- sh -c "test -e late || echo absent; $JOB_HOLD" &&
	hstdout_is absent &&
	hreason_has "input changed during the run"
'

test_expect_success 'a file only stat-ed, touched from outside while the job runs: the next run misses' '
	hstart && echo 12 >f && touch -d 2001-01-01 f &&
	hrun_held "miss uncacheable" "echo 34 >f" -- sh -c "stat -c %s f; $JOB_HOLD" &&
	hrun_held miss : -- sh -c "stat -c %s f; $JOB_HOLD" &&
	hstdout_is 3
'

test_done

#!/usr/bin/env bash
test_description='the test library itself: test_must_fail and test_expect_code'
. "$(dirname "$0")/lib.sh"

test_expect_success 'test_must_fail: an ordinary non-zero exit passes' '
	test_must_fail sh -c "exit 1" &&
	test_must_fail sh -c "exit 125" &&
	test_must_fail sh -c "exit 128" &&
	test_must_fail sh -c "exit 193" &&
	test_must_fail sh -c "exit 255"
'

test_expect_success 'test_must_fail: success fails the test, with a message' '
	! test_must_fail true 2>err &&
	grep "test_must_fail: command succeeded: true" err
'

test_expect_success 'test_must_fail: a death by signal fails the test, with a message' '
	! test_must_fail sh -c "kill -9 \$\$" 2>err &&
	grep "died by signal 9" err &&
	! test_must_fail sh -c "kill -TERM \$\$" 2>err &&
	grep "died by signal 15" err &&
	! test_must_fail sh -c "exit 129" 2>err &&
	! test_must_fail sh -c "exit 192" 2>err
'

test_expect_success 'test_must_fail: 126 and 127 fail the test, with a message' '
	! test_must_fail no-such-command-procache 2>err &&
	grep "command not found: no-such-command-procache" err &&
	printf "#!/bin/sh\n" >notexec && chmod 644 notexec &&
	! test_must_fail ./notexec 2>err &&
	grep "not executable: ./notexec" err
'

test_expect_success 'test_expect_code: the exact status, signal deaths included' '
	test_expect_code 0 true &&
	test_expect_code 3 sh -c "exit 3" &&
	test_expect_code 137 sh -c "kill -9 \$\$" &&
	test_expect_code 127 no-such-command-procache 2>/dev/null &&
	! test_expect_code 1 sh -c "exit 2" 2>err &&
	grep "expected exit 1, got 2" err
'

test_expect_success 'test_wait_for: returns once the event has happened' '
	# The event: a file that a background process makes a moment later.
	{ (sleep 0.2 && touch f) & } &&
	test_wait_for 10 test -e f &&
	test_wait_for 10 ! test -e g
'

test_expect_success 'test_wait_for: fails after its bound, saying what it waited for' '
	! test_wait_for 0 test -e never 2>err &&
	grep "after 0s, still false: test -e never" err &&
	touch always &&
	! test_wait_for 0 ! test -e always 2>err &&
	grep "still not false: ! test -e always" err
'

test_expect_success 'JOB_HOLD keeps a job running until job_release' '
	"$PROCACHE" run --no-cache -- sh -c "echo before; $JOB_HOLD" >out 2>err &
	pid=$! &&
	test_wait_for 60 grep -q "^held$" err &&
	job_release $pid &&
	# 0: ended by the release (a job held 60 s exits 1).
	wait $pid &&
	echo before >expect &&
	test_cmp expect out
'

test_done

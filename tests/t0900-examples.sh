#!/usr/bin/env bash
test_description='the examples and the demo run as their READMEs say (fast variants)'
. "$(dirname "$0")/lib.sh"

export TMPDIR=$TEST_ROOT

test_expect_success 'demo: a miss, then a hit, then a re-run after an input changed' '
	"$TOP/examples/demo/run.sh" "$PROCACHE" >out 2>&1 &&
	grep -q "procache said: miss, exit 0" out &&
	grep -q "procache said: hit, exit 0" out &&
	grep -q "^procache: hit, [0-9]* files restored" out
'

test_expect_success 'batch: 20 jobs, then all skipped, then exactly one re-run' '
	"$TOP/examples/batch/run.sh" 20 >out 2>&1 &&
	grep -q "^run 1 (cold cache): 20 jobs ran, 0 jobs skipped" out &&
	grep -q "^run 2 (nothing changed): 0 jobs ran, 20 jobs skipped" out &&
	grep -q "^run 3 (one input changed): 1 jobs ran, 19 jobs skipped" out
'

test_expect_success 'c-project: a clean rebuild is all hits, one edit reruns its compile and the link' '
	"$TOP/examples/c-project/run.sh" >out 2>&1 &&
	# in the log, should a build below not be what is expected
	cat out &&
	sed -n "/== build 2/,/== build 3/p" out >b2 &&
	test "$(grep -c ": hit" b2)" = 4 &&
	sed -n "/== build 3/,\$p" out >b3 &&
	grep -q "greet.c: miss" b3 && grep -q "link: miss" b3 &&
	grep -q "main.c: hit" b3 && grep -q "util.c: hit" b3 &&
	grep -q "Hello again, procache!" b3
'

test_expect_success 'tests: unchanged tests are replayed (failures too), a fix reruns only its readers' '
	"$TOP/examples/tests/run.sh" >out 2>&1 &&
	grep -q "^run 1: 2 passed, 1 failed; 3 test files ran" out &&
	grep -q "^run 2 (nothing changed): 2 passed, 1 failed; 0 test files ran" out &&
	grep -q "^run 3 .*: 3 passed, 0 failed; 2 test files ran" out
'

test_expect_success 'untrusted: each escape attempt is contained, the output is kept' '
	"$TOP/examples/untrusted/run.sh" >out 2>&1 &&
	grep -q "refused: cannot write /etc" out &&
	grep -q "No such file or directory" out &&
	grep -q "refused: .*Network is unreachable" out &&
	grep -q "fork failed after" out &&
	grep -q "^result: 42" out &&
	grep -q "^s3cr3t-token" out &&
	test_path_is_missing /etc/procache-untrusted-was-here
'

test_done

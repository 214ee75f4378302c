#!/usr/bin/env bash
test_description='hermeticity: environment, argv, cwd, umask, stdin'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-hermetic.sh"

ENVJOB='echo "${A-unset} ${B-unset}"'

test_expect_success 'an environment variable added, changed, removed: miss each time' '
	hstart &&
	hmiss -- sh -c "$ENVJOB" &&
	A=1 hmiss -- sh -c "$ENVJOB" && hstdout_is "1 unset" &&
	A=2 hmiss -- sh -c "$ENVJOB" && hstdout_is "2 unset" &&
	A=2 hhit -- sh -c "$ENVJOB" &&
	A= hmiss -- sh -c "$ENVJOB" && hstdout_is " unset" &&
	hhit -- sh -c "$ENVJOB" && hstdout_is "unset unset"
'

test_expect_success 'an unused variable added: miss (the whole environment is keyed)' '
	hstart &&
	hmiss -- sh -c "echo hi" &&
	UNUSED_BY_JOB=1 hmiss -- sh -c "echo hi"
'

test_expect_success 'the environment reordered: hit' '
	hstart &&
	env -i PATH=/usr/bin:/bin A=1 B=2 "$SHELL" -c "cd \"$W\" && \"$PROCACHE\" run --cache-dir \"$PROCACHE_DIR\" --report \"$TEST_DIR/report.json\" -- env" >out1 &&
	test "$(hstatus "$TEST_DIR/report.json")" = miss &&
	env -i B=2 A=1 PATH=/usr/bin:/bin "$SHELL" -c "cd \"$W\" && \"$PROCACHE\" run --cache-dir \"$PROCACHE_DIR\" --report \"$TEST_DIR/report.json\" -- env" >out2 &&
	test "$(hstatus "$TEST_DIR/report.json")" = hit &&
	test_cmp out1 out2 &&
	env -i B=2 A=1 PATH=/usr/bin:/bin "$SHELL" -c "cd \"$W\" && \"$PROCACHE\" run --cache-dir \"$PROCACHE_DIR\" --no-cache -- env" >out3 &&
	sort out1 >s1 && sort out3 >s3 && test_cmp s1 s3
'

test_expect_success 'argv changed, or split differently: miss' '
	hstart &&
	hmiss -- printf "%s|" a b &&
	hhit -- printf "%s|" a b &&
	hmiss -- printf "%s|" "a b" &&
	hmiss -- printf "%s|" a b c &&
	hmiss -- printf "%s|" ab
'

test_expect_success 'the same job from another directory with the same files: miss' '
	hstart && mkdir s1 s2 && echo x >s1/f && echo x >s2/f &&
	(W=$W/s1 && hmiss -- sh -c "cat f; pwd") &&
	(W=$W/s1 && hhit -- sh -c "cat f; pwd") &&
	(W=$W/s2 && hmiss -- sh -c "cat f; pwd" && hstdout_is "x
$W")
'

test_expect_success 'umask changed: miss; an output whose creation mode depends on it removed: miss' '
	hstart &&
	umask 022 && hmiss -- sh -c "umask; : >f" &&
	test "$(stat -c %a f)" = 644 &&
	hhit -- sh -c "umask; : >f" &&
	umask 077 && hmiss -- sh -c "umask; : >f" &&
	hstdout_is 0077 &&
	test "$(stat -c %a f)" = 644 &&
	rm f && hmiss -- sh -c "umask; : >f" &&
	test "$(stat -c %a f)" = 600 &&
	rm f && hhit -- sh -c "umask; : >f" &&
	test "$(stat -c %a f)" = 600
'

test_expect_success 'stdin content changed: miss; same bytes from another file: hit' '
	hstart && echo one >"$TEST_DIR/in1" && echo one >"$TEST_DIR/in2" && echo two >"$TEST_DIR/in3" &&
	hin "$TEST_DIR/in1" && hmiss -- sh -c "cat >got" &&
	hin "$TEST_DIR/in2" && hhit -- sh -c "cat >got" &&
	hin "$TEST_DIR/in3" && hmiss -- sh -c "cat >got" &&
	test_cmp "$TEST_DIR/in3" got &&
	hin /dev/null && hmiss -- sh -c "cat >got" &&
	test_must_fail test -s got
'

test_expect_success '--env-set and --env-unset shape the keyed environment' '
	hstart &&
	hmiss --env-set A=1 -- sh -c "$ENVJOB" && hstdout_is "1 unset" &&
	A=1 hhit -- sh -c "$ENVJOB" &&
	A=1 hmiss --env-unset A -- sh -c "$ENVJOB" && hstdout_is "unset unset"
'

test_done

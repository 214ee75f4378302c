#!/usr/bin/env bash
test_description='sandbox: namespaces, pid 1, signals, exit codes, output (real namespaces)'
. "$(dirname "$0")/lib.sh"

# The sandbox is driven through "procache run --no-cache". SBX_DRIVER=1
# drives it through build/tests/unit/test-sandbox --run instead (the
# sandbox module alone, same options).
if [ -n "${SBX_DRIVER:-}" ]; then
	SBX=("$PROCACHE_BUILD/tests/unit/test-sandbox" --run)
else
	SBX=("$PROCACHE" run --no-cache)
fi
sbx() { "${SBX[@]}" "$@"; }

# A non-loopback IPv4 address of this host (never an outside address).
host_ip=$(ip -4 -o addr show scope global 2>/dev/null | awk '{ print $4 }' | cut -d/ -f1 | head -n 1)
test_prereq_HOSTIP() { [ -n "$host_ip" ]; }

test_expect_success 'the job is pid 2 under its own init' '
	sbx -- sh -c "echo \$\$; cat /proc/1/cmdline | tr \"\\0\" \" \"; echo" >out &&
	test "$(head -n 1 out)" = 2
'

test_expect_success 'hostname is localhost, which resolves; host name untouched' '
	before=$(hostname) &&
	sbx -- hostname >out &&
	echo localhost >expect &&
	test_cmp expect out &&
	sbx -- sh -c "getent hosts \$(hostname)" >out &&
	grep "^127\.0\.0\.1 " out &&
	test "$(hostname)" = "$before"
'

test_expect_success 'the job sees only its own processes' '
	sbx -- sh -c "ls -d /proc/[0-9]* | wc -l" >out &&
	test "$(cat out)" -le 4
'

test_expect_success 'exit codes: 0, 3, 127 (not found), 126 (not executable), 137 (SIGKILL)' '
	test_expect_code 0 sbx -- true &&
	test_expect_code 3 sbx -- sh -c "exit 3" &&
	test_expect_code 127 sbx -- no-such-command-procache 2>err &&
	grep "no-such-command-procache" err &&
	printf "#!/bin/sh\necho hi\n" >notexec && chmod 644 notexec &&
	test_expect_code 126 sbx -- ./notexec &&
	test_expect_code 137 sbx -- sh -c "kill -9 \$\$"
'

test_expect_success 'a set-up failure is 125 with a message naming the path' '
	mkdir hidden &&
	(cd hidden && test_expect_code 125 sbx --mask "$TEST_DIR" -- true 2>../err) &&
	grep -E "cannot change directory to .*hidden|hidden by --mask" err
'

test_expect_success 'kill -9 -1 inside kills only the sandbox' '
	sleep 30 & outside=$! &&
	test_when_finished "kill $outside" &&
	start=$(date +%s) &&
	sbx -- sh -c "sleep 20 & kill -9 -1; wait; echo after" >out &&
	grep after out &&
	test $(($(date +%s) - start)) -lt 10 &&
	test_expect_code 137 sbx -- sh -c "/bin/kill -9 -1; sleep 5; echo survived" >out &&
	! grep survived out &&
	kill -0 $outside
'

# The orphans hold the write end of a pipe: cat sees its end once they have
# all exited. Init reaps them then; a zombie left after 10 s is a failure.
test_expect_success 'orphans are reaped by init: no zombie is left' '
	sbx -- sh -c "for i in 1 2 3 4 5; do (sh -c \"exit 0\" &); done | cat;
		i=0; while grep -q \"^State:.*Z\" /proc/[0-9]*/status 2>/dev/null; do
			i=\$((i + 1)); [ \$i -lt 1000 ] || break; sleep 0.01; done;
		grep -l \"^State:.*Z\" /proc/[0-9]*/status || echo no-zombies" >out &&
	grep no-zombies out
'

# Gone when procache returns: the kernel kills a PID namespace's processes
# before its init's exit is reported.
test_expect_success 'daemons left by the job die with the sandbox' '
	sbx -- sh -c "sleep 3217.$$ & echo started" >out &&
	grep started out &&
	! pgrep -f "sleep 3217.$$"
'

test_expect_success 'SIGINT to procache reaches the job' '
	# The job waits for the signal (it must still be running when it comes).
	cat >job.sh <<-\EOF &&
	trap "echo got-INT; exit 7" INT
	echo ready
	while :; do sleep 0.05; done
	EOF
	# A background command of a script starts with SIGINT ignored, which
	# procache keeps for the job (DESIGN.md §4): start it with the default.
	{ env --default-signal=INT "${SBX[@]}" -- sh job.sh >out 2>&1 & pid=$!; } &&
	test_wait_for 60 grep -q ready out &&
	kill -INT $pid &&
	test_expect_code 7 wait $pid &&
	grep got-INT out
'

test_expect_success 'SIGKILL of procache leaves no job process behind' '
	{ "${SBX[@]}" -- sh -c "echo ready; exec sleep 4711.$$" >out 2>&1 & pid=$!; } &&
	test_wait_for 60 grep -q ready out &&
	pgrep -f "sleep 4711.$$" &&
	kill -9 $pid &&
	test_wait_for 2 ! pgrep -f "sleep 4711.$$"
'

test_expect_success 'the job runs in its own session without a terminal' '
	sbx -- sh -c "ps -o sid=,pid= -p \$\$; tty || :" >out &&
	read sid pid <out &&
	test "$sid" = "$pid" &&
	grep "not a tty" out
'

test_expect_success 'only fds 0, 1, 2 reach the job' '
	exec 7>fd7 &&
	sbx -- sh -c "ls /proc/self/fd" >out &&
	exec 7>&- &&
	printf "0\n1\n2\n3\n" >expect &&
	test_cmp expect out
'

test_expect_success 'stdout and stderr stay separate; a job closing fd 1 breaks nothing' '
	sbx -- sh -c "echo out; echo err >&2; exec 1>&-; echo still >&2; exit 4" >out 2>err;
	test $? = 4 &&
	echo out >expect && test_cmp expect out &&
	printf "err\nstill\n" >expect && test_cmp expect err
'

test_expect_success 'a reader of our stdout going away: the job gets SIGPIPE at its next write, as bare' '
	# The job sleeps so that its reader is gone when it writes again.
	{ sh -c "echo a; sleep 0.3; echo b; exit 5" | true && bare=${PIPESTATUS[0]}; } &&
	{ sbx -- sh -c "echo a; sleep 0.3; echo b; exit 5" | true && rc=${PIPESTATUS[0]}; } &&
	test "$bare" = 141 && test "$rc" = 141 &&
	# a reader that stays gets everything
	sbx -- sh -c "echo a; sleep 0.3; echo b; exit 5" >out || rc=$? &&
	test "$rc" = 5 && printf "a\nb\n" >expect && test_cmp expect out
'

test_expect_success 'stdin reaches the job' '
	echo hello >in &&
	sbx -- cat <in >out &&
	test_cmp in out
'

test_expect_success 'loopback is up inside' '
	sbx -- sh -c "cat /sys/class/net/lo/operstate; ip -br link show lo" >out &&
	grep -E "UP|UNKNOWN" out &&
	test_expect_code 1 sbx -- "$HELPERS/sbx-connect" 127.0.0.1 9
'

test_expect_success HOSTIP 'the host is unreachable without --net, reachable with it' '
	test_expect_code 2 sbx -- "$HELPERS/sbx-connect" "$host_ip" 9 >out &&
	grep unreachable out &&
	test_expect_code 1 sbx --net -- "$HELPERS/sbx-connect" "$host_ip" 9
'

test_expect_success 'no capabilities leak to a rootless job; root keeps its own' '
	sbx -- sh -c "grep CapEff /proc/self/status" >out &&
	if [ "$(id -u)" = 0 ]; then ! grep "0000000000000000" out; else grep "0000000000000000" out; fi
'

test_expect_success 'no_new_privs is set' '
	sbx -- grep NoNewPrivs /proc/self/status >out &&
	grep "1" out
'

test_expect_success UNPRIV_USER 'rootless: pid, hostname and exit codes as procache-test' '
	mkdir -p u && chown procache-test: u && cd u &&
	as_user() { setpriv --reuid procache-test --regid procache-test --init-groups \
		env HOME="$PWD" PROCACHE_DIR="$PWD/cache" "$@"; } &&
	as_user "${SBX[@]}" -- sh -c "echo \$\$ \$(hostname) \$(id -u)" >out &&
	echo "2 localhost $(id -u procache-test)" >expect &&
	test_cmp expect out &&
	test_expect_code 3 as_user "${SBX[@]}" -- sh -c "exit 3" &&
	test_expect_code 127 as_user "${SBX[@]}" -- no-such-command-procache &&
	as_user "${SBX[@]}" -- grep CapEff /proc/self/status >out &&
	grep 0000000000000000 out
'

test_expect_success UNPRIV_USER 'untrusted: the job runs as 65534 without capabilities' '
	sbx --untrusted -- sh -c "id -u; id -g; grep CapEff /proc/self/status" >out &&
	printf "65534\n65534\n" >expect &&
	head -n 2 out >actual && test_cmp expect actual &&
	grep 0000000000000000 out
'

# The mount table is read without libmount (DESIGN.md section 2): a
# libmount.so.1 that does not load changes nothing.
test_expect_success 'a run does not load libmount' '
	mkdir junk && echo "not an ELF file" >junk/libmount.so.1 &&
	env LD_LIBRARY_PATH="$PWD/junk" \
		"$PROCACHE" run --no-cache -- sh -c "echo ran" >out 2>err &&
	echo ran >expect && test_cmp expect out && test_cmp /dev/null err
'

test_done

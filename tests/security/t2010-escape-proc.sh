#!/usr/bin/env bash
test_description='escape suite: host processes, kernel attack surface, privileges, terminals and resource limits'
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-escape.sh"

test_expect_success 'untrusted: kill -1 and kill of a host pid leave a host process alive' '
	sleep 3061 & victim=$! &&
	test_when_finished "kill $victim" &&
	run_ran --untrusted -- sh -c "kill -9 $victim; echo kill=\$?; kill -9 -1; echo all=\$?; $ESC kill $victim 9; ls /proc | grep -c \"^[0-9]\"" >out &&
	grep "kill: ESRCH" out && grep "^kill=1" out &&
	kill -0 $victim &&
	test "$(tail -n 1 out)" -le 4
'

test_expect_success 'untrusted: the job sees no host process; ptrace, process_vm_* and pidfd_getfd of init fail' '
	run_ran --untrusted -- sh -c "
		$ESC ptrace 1; $ESC ptrace-seize 1; $ESC vm-writev 1; $ESC vm-readv 1; $ESC pidfd-getfd 1 0
		$ESC ptrace $$; $ESC vm-writev $$
		ls /proc/1/fd >/dev/null 2>&1 || echo fd-denied
		readlink /proc/1/root >/dev/null 2>&1 || echo root-denied
		readlink /proc/1/exe >/dev/null 2>&1 || echo exe-denied
		cat /proc/1/environ >/dev/null 2>&1 || echo environ-denied" >out &&
	test "$(grep -c ": EPERM$" out)" = 5 &&
	test "$(grep -c ": ESRCH$" out)" = 2 &&
	grep fd-denied out && grep root-denied out && grep exe-denied out && grep environ-denied out
'

test_expect_success 'untrusted: kernel attack surface is refused (EPERM or ENOSYS)' '
	calls="open_by_handle_at io_uring_setup keyctl add_key bpf perf_event_open userfaultfd" &&
	calls="$calls kexec_load init_module acct swapon reboot pivot_root fsopen open_tree" &&
	calls="$calls personality mount unshare-user clone-newuser" &&
	run miss --untrusted -- sh -c "for c in $calls; do $ESC \$c; done; $ESC setns /proc/self/ns/user" >out &&
	! grep ": ok$" out &&
	grep -v -e ": EPERM$" -e ": ENOSYS$" -e "^setns (open): EACCES$" out >other || : &&
	test_cmp /dev/null other &&
	test "$(wc -l <out)" = 20
'

test_expect_success 'untrusted: mounting and nested user namespaces fail from the shell tools' '
	open_cwd &&
	run miss --untrusted -- sh -c "mkdir -p m; mount -t tmpfs none m && echo mounted; unshare -U true && echo unshared; unshare -Ur true && echo unshared-r; true" >out &&
	test_cmp /dev/null out
'

test_expect_success 'untrusted: TIOCSTI and TIOCSCTTY on the terminal fail' '
	script -q -e -c "$PROCACHE run --untrusted --report $TEST_DIR/report.json -- sh -c \"$ESC tiocsti 0 id; $ESC tiocsctty 0; $ESC tiocsti 1 id\" >$TEST_DIR/out" /dev/null </dev/null &&
	json_get report.json uncacheable >reasons &&
	grep "stdin is a terminal" reasons &&
	printf "tiocsti: EPERM\ntiocsctty: EPERM\ntiocsti: EPERM\n" >expect &&
	test_cmp expect out
'

test_expect_success 'untrusted: /proc/sys, /proc/sysrq-trigger and cgroup files cannot be written' '
	cat /proc/sys/kernel/core_pattern >core.before &&
	cat /proc/sys/vm/swappiness >swappiness.before &&
	run_ran --untrusted -- sh -c "
		echo \"|/bin/sh -c id\" >/proc/sys/kernel/core_pattern && echo wrote-core-pattern
		echo 1 >/proc/sys/vm/swappiness && echo wrote-swappiness
		echo h >/proc/sysrq-trigger && echo wrote-trigger
		echo 1 >/proc/sys/vm/drop_caches && echo wrote-drop
		echo \$\$ >/sys/fs/cgroup/pids/cgroup.procs && echo wrote-cgroup
		echo \$\$ >/sys/fs/cgroup/unified/cgroup.procs && echo wrote-cgroup2
		true" >out &&
	test_cmp /dev/null out &&
	cat /proc/sys/kernel/core_pattern >core.after && test_cmp core.before core.after &&
	cat /proc/sys/vm/swappiness >swappiness.after && test_cmp swappiness.before swappiness.after
'

test_expect_success 'untrusted --pids 64: forking 300 processes stops near 64, nothing left' '
	cat >bomb.py <<-\EOF &&
	import os, time
	n = 0
	try:
	    while n < 300:
	        if os.fork() == 0:
	            time.sleep(3062)
	            os._exit(0)
	        n += 1
	except OSError as e:
	    print("fork failed", e.errno)
	print(n)
	EOF
	run uncacheable --untrusted --pids 64 -- python3 "$TEST_DIR/bomb.py" >out 2>err &&
	test "$rc" = 0 &&
	grep "not cached: killed by the --pids limit" err &&
	grep "^fork failed 11$" out &&
	test "$(tail -n 1 out)" -lt 64 &&
	no_process "$TEST_DIR/bomb.py"
'

test_expect_success 'untrusted --pids 64: a shell fork bomb is contained by --timeout, nothing left' '
	start=$(date +%s) &&
	rc=0 && "$PROCACHE" run --untrusted --pids 64 --timeout 2 --report report.json -- \
		bash -c "bomb3068_$$() { bomb3068_$$ | bomb3068_$$ & }; bomb3068_$$; sleep 30" >/dev/null 2>&1 || rc=$? &&
	test "$rc" = 124 &&
	test $(($(date +%s) - start)) -le 15 &&
	no_process bomb3068_$$
'

test_expect_success 'untrusted --memory 64M: a memory hog is killed, the host is fine' '
	run uncacheable --untrusted --memory 64M -- python3 -c "
b = []
while True:
    b.append(bytearray(16 << 20))" 2>err &&
	test "$rc" != 0 &&
	grep "not cached: killed by the OOM killer" err &&
	echo still-alive >after && test_path_is_file after
'

test_expect_success 'untrusted --timeout: a job ignoring SIGTERM and its setsid daemons are all gone at exit' '
	start=$(date +%s) &&
	run uncacheable --untrusted --timeout 1 -- sh -c "trap \"\" TERM; setsid sleep 3063.$$ & (trap \"\" TERM; exec sleep 3064.$$) & sleep 3065.$$" &&
	test "$rc" = 124 &&
	grep "timed out after 1 s" report.json &&
	test $(($(date +%s) - start)) -le 10 &&
	no_process "sleep 306[345].$$"
'

test_expect_success 'untrusted: daemons left by a job that exits normally die with the sandbox' '
	run_ran --untrusted -- sh -c "setsid sh -c \"sleep 3066.$$\" </dev/null >/dev/null 2>&1 & (sleep 3067.$$ &) ; echo started" >out &&
	echo started >expect && test_cmp expect out &&
	no_process "sleep 306[67].$$"
'

test_done

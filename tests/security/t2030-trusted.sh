#!/usr/bin/env bash
test_description='trusted mode as root: the job keeps a container-like capability set; host-global state (sysctls, clock, modules, cgroups, devices, namespaces, keyrings) stays as it was'
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-escape.sh"

# Every case runs a trusted job (no --untrusted) as root, reads the host's
# value outside the sandbox before and after, and requires it unchanged.
# A probe that changes host state restores it when it is allowed (the
# clock, the frequency): a failure leaves the machine as it was.

Q="'"

# The capability sets of a job, from its /proc/self/status.
caps_of() {
	grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb):" "$1" | sed "s/[[:space:]]\{1,\}/ /"
}

# host_state: what the probes below could change, one line each.
host_state() {
	echo "swappiness $(cat /proc/sys/vm/swappiness)"
	echo "core_pattern $(cat /proc/sys/kernel/core_pattern)"
	echo "hostname $(hostname)"
	echo "domainname $(cat /proc/sys/kernel/domainname)"
	echo "modules $(cat /proc/modules 2>/dev/null | md5sum)"
	echo "swaps $(md5sum </proc/swaps)"
	echo "ksm $(cat /sys/kernel/mm/ksm/pages_to_scan 2>/dev/null)"
	echo "lo $(cat /sys/class/net/lo/operstate)"
}

# clock_same BEFORE AFTER: the realtime offset moved by less than 0.5 s,
# the frequency not at all (esc-calls time-state).
clock_same() {
	set -- $(cat "$1") $(cat "$2")
	d=$(( $3 - $1 )) &&
	test ${d#-} -lt 500 && test "$2" = "$4" ||
	{ echo "host clock changed: $1 $2 -> $3 $4" >&2; return 1; }
}

test_expect_success ROOT 'a root job has Docker'\''s default capability set, nothing inheritable or ambient' '
	run miss -- sh -c "cat /proc/self/status" >status &&
	caps_of status >actual &&
	cat >expect <<-\EOF &&
	CapInh: 0000000000000000
	CapPrm: 00000000a80425fb
	CapEff: 00000000a80425fb
	CapBnd: 00000000a80425fb
	CapAmb: 0000000000000000
	EOF
	test_cmp expect actual &&
	# the set is keyed: another set is another key
	run miss --cap-drop MKNOD -- sh -c "cat /proc/self/status" >status &&
	grep "^CapEff:.*00000000a00425fb" status &&
	run hit -- sh -c "cat /proc/self/status" >/dev/null &&
	run hit --cap-drop mknod -- sh -c "cat /proc/self/status" >/dev/null
'

test_expect_success ROOT '--cap-add and --cap-drop: names with or without CAP_, any case, ALL as Docker has it' '
	"$PROCACHE" run --no-cache --cap-add sys_time --cap-add CAP_NET_ADMIN -- cat /proc/self/status >s1 &&
	grep "^CapEff:.*00000000aa0435fb" s1 &&
	"$PROCACHE" run --no-cache --cap-drop ALL --cap-add Chown -- cat /proc/self/status >s2 &&
	grep "^CapEff:.*0000000000000001$" s2 &&
	grep "^CapBnd:.*0000000000000001$" s2 &&
	"$PROCACHE" run --no-cache --cap-drop all -- cat /proc/self/status >s3 &&
	grep "^CapEff:.*0000000000000000$" s3 &&
	"$PROCACHE" run --no-cache --cap-add ALL --cap-drop CAP_MKNOD -- cat /proc/self/status >s4 &&
	want=$(printf "%016x" $(( 0x$(sed -n "s/^CapBnd:[[:space:]]*//p" /proc/self/status) & ~(1 << 27) ))) &&
	grep "^CapEff:.*$want$" s4 &&
	test_expect_code 125 "$PROCACHE" run --no-cache --cap-add NOT_A_CAP -- true 2>err &&
	echo "procache: invalid value for $Q--cap-add$Q: $Q""NOT_A_CAP$Q (want a capability such as NET_ADMIN or CAP_SYS_TIME, or ALL)" >expect &&
	test_cmp expect err &&
	test_expect_code 125 "$PROCACHE" run --no-cache --cap-drop "" -- true 2>err &&
	test $(wc -l <err) = 1 &&
	test_expect_code 125 "$PROCACHE" run --no-cache --untrusted --cap-add CHOWN -- true 2>err &&
	grep "is for a job run as root" err &&
	# the config file has the same keys; the command line replaces them
	echo "{\"capabilities\": {\"add\": [\"SYS_TIME\"], \"drop\": [\"mknod\"]}}" >cfg.json &&
	"$PROCACHE" run --config cfg.json --no-cache -- cat /proc/self/status >s5 &&
	grep "^CapEff:.*00000000a20425fb" s5 &&
	"$PROCACHE" run --config cfg.json --no-cache --cap-drop CHOWN -- cat /proc/self/status >s6 &&
	grep "^CapEff:.*00000000a80425fa" s6 &&
	echo "{\"capabilities\": {\"add\": [\"SYS_NOPE\"]}}" >bad.json &&
	test_expect_code 125 "$PROCACHE" run --config bad.json --no-cache -- true 2>err &&
	grep "capabilities.add.: unknown capability .SYS_NOPE." err
'

test_expect_success ROOT 'the probes of the issue: /proc/sys remounted, a fresh procfs, the clock, cgroup2: all fail, the host is unchanged' '
	host_state >before && "$ESC" time-state >clock.before &&
	old=$(cat /proc/sys/vm/swappiness) && new=$(( (old + 7) % 100 )) &&
	test_when_finished "echo $old >/proc/sys/vm/swappiness" &&
	mkdir -p m && open_cwd &&
	run_ran -- sh -c "
		mount -o remount,rw /proc/sys && echo remounted
		echo $new >/proc/sys/vm/swappiness && echo wrote-sysctl
		mount -t proc proc m && echo mounted-proc
		echo $new >m/sys/vm/swappiness && echo wrote-fresh-proc
		$PYTHON -c \"import time; time.clock_settime(time.CLOCK_REALTIME, time.time())\" 2>/dev/null && echo set-clock
		$ESC clock_settime
		mount -t cgroup2 none m && echo mounted-cgroup2 && mkdir m/procache-probe-$$ && echo made-cgroup
		true" >out 2>err &&
	cat out &&
	! grep -e remounted -e wrote -e mounted -e set-clock -e made out &&
	grep "^clock_settime: EPERM$" out &&
	host_state >after && test_cmp before after &&
	"$ESC" time-state >clock.after && clock_same clock.before clock.after &&
	test_path_is_missing /sys/fs/cgroup/procache-probe-$$
'

test_expect_success ROOT 'the clock: clock_settime, settimeofday, adjtimex, clock_adjtime fail (EPERM), the host clock is unchanged' '
	"$ESC" time-state >clock.before &&
	run_ran -- sh -c "for c in clock_settime settimeofday adjtimex clock_adjtime; do $ESC \$c; done" >out &&
	printf "%s: EPERM\n" clock_settime settimeofday adjtimex clock_adjtime >expect &&
	test_cmp expect out &&
	"$ESC" time-state >clock.after && clock_same clock.before clock.after
'

test_expect_success ROOT 'kernel modules, kexec, reboot, swap, raw I/O ports, syslog: refused; modules and swaps unchanged' '
	host_state >before &&
	echo "not a module" >notmod &&
	run_ran -- sh -c "
		for c in init_module delete_module kexec_load kexec_file_load reboot swapon swapoff iopl ioperm syslog acct; do $ESC \$c; done
		$ESC finit_module notmod" >out &&
	cat out &&
	# ENOSYS: a kernel built without modules, kexec or I/O ports
	grep -v -e ": EPERM$" -e "^\(.*module\|kexec.*\|iopl\|ioperm\): ENOSYS$" out >other || : &&
	test_cmp /dev/null other &&
	test "$(wc -l <out)" = 12 &&
	host_state >after && test_cmp before after
'

test_expect_success ROOT 'device nodes the job makes never open: the host root disk, /dev/kmsg, /dev/mem; /dev/null still works' '
	dev=$("$PYTHON" -c "import os; d = os.stat(\"/\").st_dev; print(os.major(d), os.minor(d))") &&
	set -- $dev &&
	marker=procache-kmsg-$$ &&
	mkdir -p d && open_cwd &&
	run_ran -- sh -c "
		$ESC open-dev d/root $1 $2
		$ESC open-dev /dev/root $1 $2
		$ESC open-dev /tmp/root $1 $2
		mknod d/kmsg c 1 11 && echo $marker >d/kmsg && echo wrote-kmsg-node
		mknod /dev/kmsg c 1 11 && echo $marker >/dev/kmsg && echo wrote-kmsg-dev
		mknod /dev/mem2 c 1 1 && head -c 1 /dev/mem2 >/dev/null && echo read-mem
		echo null-ok >/dev/null && echo null-works
		head -c 4 /dev/zero | wc -c" >out 2>err &&
	cat out &&
	printf "open-dev: EACCES\nopen-dev: EACCES\nopen-dev: EACCES\nnull-works\n4\n" >expect &&
	test_cmp expect out &&
	! dmesg | grep -q "$marker" &&
	# the nodes are special files: the run is not stored, nothing applied
	test "$(json_get report.json status)" = uncacheable &&
	grep "created a special file" report.json &&
	test_path_is_missing d/root && test_path_is_missing d/kmsg
'

test_expect_success ROOT 'sysfs: remounting rw, a fresh sysfs and writing a knob fail; the host knob is unchanged' '
	host_state >before &&
	mkdir -p m && open_cwd &&
	run_ran -- sh -c "
		mount -o remount,rw /sys && echo remounted
		mount -t sysfs none m && echo mounted-sysfs
		echo 1234 >/sys/kernel/mm/ksm/pages_to_scan && echo wrote-ksm
		echo \$\$ >/sys/fs/cgroup/cgroup.procs && echo moved-cgroup
		mkdir /sys/fs/cgroup/procache-probe-$$ && echo made-cgroup
		true" >out 2>err &&
	test_cmp /dev/null out &&
	host_state >after && test_cmp before after
'

test_expect_success ROOT 'namespaces: no new user namespace (unshare, clone, unshare -Ur), no setns (the host'\''s are out of reach anyway) or unshare of another' '
	run_ran -- sh -c "
		$ESC unshare-user; $ESC clone-newuser; $ESC unshare-mnt; $ESC setns-mnt /proc/self/ns/mnt
		$ESC setns /proc/self/ns/net; $ESC setns /proc/self/ns/uts
		unshare -Ur true && echo unshared-user
		unshare -m true && echo unshared-mnt
		unshare -n true && echo unshared-net
		true" >out 2>err &&
	printf "%s: EPERM\n" unshare-user clone-newuser unshare-mnt setns-mnt setns setns >expect &&
	test_cmp expect out
'

test_expect_success ROOT 'with --cap-add SYS_ADMIN a user namespace may be made again (the rule follows the capability)' '
	run_ran --cap-add SYS_ADMIN -- sh -c "$ESC unshare-user" >out &&
	echo "unshare-user: ok" >expect && test_cmp expect out
'

test_expect_success ROOT 'hostname: the sandbox has its own, and the job cannot set it; the host name is unchanged' '
	hostname >before &&
	run_ran -- sh -c "hostname; $ESC sethostname procache-probe; hostname evil 2>/dev/null && echo set" >out &&
	printf "localhost\nsethostname: EPERM\n" >expect &&
	test_cmp expect out &&
	hostname >after && test_cmp before after
'

test_expect_success ROOT 'keyrings, bpf, perf of the whole machine, realtime scheduling: refused; no key reaches the host' '
	run_ran -- sh -c "for c in keyctl add_key add_key-user request_key bpf bpf-prog perf_event_open-cpu sched_setscheduler; do $ESC \$c; done" >out &&
	cat out &&
	! grep ": ok$" out &&
	test "$(wc -l <out)" = 8 &&
	! grep -q procache-esc /proc/keys
'

test_expect_success ROOT 'ptrace, process_vm_writev and kill of a host process fail; it runs on untraced' '
	sleep 3064.$$ & victim=$! &&
	test_when_finished "kill $victim" &&
	run_ran -- sh -c "$ESC ptrace $victim; $ESC ptrace-seize $victim; $ESC vm-writev $victim; $ESC kill $victim 9; $ESC pidfd-getfd $victim 0" >out &&
	cat out &&
	! grep ": ok$" out &&
	kill -0 $victim &&
	grep "^TracerPid:[[:space:]]*0$" /proc/$victim/status
'

test_expect_success ROOT '/proc/sysrq-trigger and /proc/sys cannot be written, even after trying to remount them' '
	host_state >before &&
	dmesg | grep -c "sysrq: HELP" >sysrq.before || : &&
	run_ran -- sh -c "
		mount -o remount,rw /proc/sysrq-trigger && echo remounted
		echo h >/proc/sysrq-trigger && echo wrote-trigger
		echo 1 >/proc/sys/vm/drop_caches && echo wrote-drop
		echo \"|/bin/false\" >/proc/sys/kernel/core_pattern && echo wrote-core
		umount /proc/sys && echo unmounted
		true" >out 2>err &&
	test_cmp /dev/null out &&
	dmesg | grep -c "sysrq: HELP" >sysrq.after || : &&
	test_cmp sysrq.before sysrq.after &&
	host_state >after && test_cmp before after
'

test_expect_success ROOT 'with --net: the host network cannot be configured (no NET_ADMIN)' '
	host_state >before &&
	run_ran --net -- sh -c "
		ip link set lo down && echo lo-down
		ip addr add 192.0.2.77/32 dev lo && echo addr-added
		true" >out 2>err &&
	test_cmp /dev/null out &&
	! ip addr show dev lo | grep -q 192.0.2.77 &&
	host_state >after && test_cmp before after
'

test_done

#!/usr/bin/env bash
test_description='hermeticity: host facts (memory, CPUs, load, cgroups) are generated from the key: hits when they cannot differ, misses when --memory or --cpus change'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-hermetic.sh"

NCPU=$(nproc)

# DESIGN §2 "Host facts": what the job is shown is a function of the key.
test_expect_success '/proc/meminfo: a hit; the memory shown follows --memory, which misses' '
	hstart &&
	hmiss -- sh -c "grep ^MemTotal: /proc/meminfo" &&
	hhit -- sh -c "grep ^MemTotal: /proc/meminfo" &&
	hmiss --memory 1G -- sh -c "grep ^MemTotal: /proc/meminfo" &&
	hstdout_is "MemTotal:        1048576 kB" &&
	hhit --memory 1G -- sh -c "grep ^MemTotal: /proc/meminfo" &&
	hmiss --memory 2G -- sh -c "grep ^MemTotal: /proc/meminfo" &&
	hstdout_is "MemTotal:        2097152 kB"
'

test_expect_success 'the generated files are byte-identical on every run' '
	hstart &&
	for i in 1 2; do
		"$PROCACHE" run --no-cache -- sh -c "cat /proc/meminfo /proc/stat /proc/uptime /proc/loadavg /proc/vmstat /sys/devices/system/cpu/online; cat /proc/pressure/* 2>/dev/null; find /sys/fs/cgroup -type f | sort | xargs cat" >"$TEST_DIR/facts$i" || return 1
	done &&
	test_cmp "$TEST_DIR/facts1" "$TEST_DIR/facts2" &&
	grep -q "^cpu0 " "$TEST_DIR/facts1"
'

test_expect_success 'sysinfo(2) agrees with /proc/meminfo (sysconf _SC_PHYS_PAGES)' '
	hstart &&
	hmiss --memory 1G -- python3 -c "import os; print(os.sysconf(\"SC_PHYS_PAGES\") * os.sysconf(\"SC_PAGE_SIZE\"))" &&
	hstdout_is 1073741824 &&
	hhit --memory 1G -- python3 -c "import os; print(os.sysconf(\"SC_PHYS_PAGES\") * os.sysconf(\"SC_PAGE_SIZE\"))"
'

test_expect_success 'the cgroup memory limit shown is --memory, in the host layout' '
	hstart &&
	job="cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes" &&
	hmiss --memory 64M -- sh -c "$job" &&
	hstdout_is 67108864 &&
	hhit --memory 64M -- sh -c "$job" &&
	hmiss --memory 128M -- sh -c "$job" &&
	hstdout_is 134217728
'

test_expect_success 'a cgroup namespace: /proc/self/cgroup shows / in every hierarchy' '
	hstart &&
	hmiss -- cat /proc/self/cgroup &&
	! grep -v ":/\$" "$TEST_DIR/stdout" &&
	hhit -- cat /proc/self/cgroup
'

test_expect_success 'the CPU count agrees everywhere; --cpus changes it and misses' '
	hstart &&
	job="nproc; cat /sys/devices/system/cpu/online; grep -c ^cpu[0-9] /proc/stat; python3 -c \"import os; print(os.cpu_count(), len(os.sched_getaffinity(0)))\"" &&
	hmiss --cpus 1 -- sh -c "$job" &&
	printf "1\n0\n1\n1 1\n" >"$TEST_DIR/expect1" &&
	test_cmp "$TEST_DIR/expect1" "$TEST_DIR/stdout" &&
	hhit --cpus 1 -- sh -c "$job" &&
	hmiss -- sh -c "$job" &&
	test "$(head -1 "$TEST_DIR/stdout")" = "$NCPU"
'

test_expect_success '/proc/cpuinfo and the CPU directories of /sys agree with --cpus; another --cpus misses' '
	hstart &&
	job="getconf _NPROCESSORS_CONF; getconf _NPROCESSORS_ONLN; grep -c ^processor /proc/cpuinfo; ls /sys/devices/system/cpu | grep -c \"^cpu[0-9]\"; lscpu -p=cpu | grep -vc ^#; wc -w </sys/devices/system/cpu/offline" &&
	hmiss --cpus 1 -- sh -c "$job" &&
	printf "1\n1\n1\n1\n1\n0\n" >"$TEST_DIR/expect1" &&
	test_cmp "$TEST_DIR/expect1" "$TEST_DIR/stdout" &&
	hhit --cpus 1 -- sh -c "$job" &&
	hmiss -- sh -c "$job" &&
	printf "$NCPU\n$NCPU\n$NCPU\n$NCPU\n$NCPU\n0\n" >"$TEST_DIR/expectn" &&
	test_cmp "$TEST_DIR/expectn" "$TEST_DIR/stdout" &&
	hhit -- sh -c "$job"
'

test_expect_success '/proc/cpuinfo is the same on every run (cpu MHz from bogomips), recorded as the cpuinfo host fact' '
	hstart &&
	for i in 1 2; do
		"$PROCACHE" run --no-cache --cpus 1 -- cat /proc/cpuinfo >"$TEST_DIR/ci$i" || return 1
	done &&
	test_cmp "$TEST_DIR/ci1" "$TEST_DIR/ci2" &&
	test "$(grep -c "^processor" "$TEST_DIR/ci1")" = 1 &&
	"$PROCACHE" trace --cpus 1 -- cat /proc/cpuinfo >trace.out 2>/dev/null &&
	grep "^hostfact cpuinfo = [0-9,-]* [0-9a-f]\{32\} " trace.out &&
	grep "^synth *\/proc\/cpuinfo\$" trace.out &&
	! grep "^content *\/proc\/cpuinfo" trace.out
'

test_expect_success '--cpus N shows a quota of N CPUs in the cgroup files' '
	hstart &&
	job="cat /sys/fs/cgroup/cpu.max 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us" &&
	hmiss --cpus 1 -- sh -c "$job" &&
	grep -E "^(100000|100000 100000)\$" "$TEST_DIR/stdout" &&
	hmiss -- sh -c "$job" &&
	grep -E "^(-1|max 100000)\$" "$TEST_DIR/stdout"
'

test_expect_success '--cpus beyond procache own CPUs is refused' '
	hstart &&
	rc=0 &&
	"$PROCACHE" run --cpus $((NCPU + 1)) -- true 2>err || rc=$? &&
	test "$rc" = 125 &&
	grep -q "cpus" err
'

test_expect_success 'the generated files are read-only' '
	hstart &&
	hmiss -- sh -c "echo x >/proc/meminfo 2>/dev/null || echo refused" &&
	hstdout_is refused
'

test_expect_success 'mountinfo: the overlays show no run id (upper and work named through /proc/self/fd)' '
	hstart &&
	for i in 1 2; do
		"$PROCACHE" run --no-cache -- cat /proc/self/mountinfo >"$TEST_DIR/mi$i" || return 1
		# the mounts procache makes (other mounts mirror the host
		# table, which other processes change)
		sed "s/^[0-9]* [0-9]* [0-9]*:[0-9]* //" "$TEST_DIR/mi$i" |
		awk "\$2 == \"/\" || \$2 ~ \"^/(proc|sys|dev|tmp)(/|\$)\"" >"$TEST_DIR/mi$i.strip"
	done &&
	grep -q "upperdir=/proc/self/fd/" "$TEST_DIR/mi1" &&
	! grep -q "$PROCACHE_DIR/run/" "$TEST_DIR/mi1" &&
	test_cmp "$TEST_DIR/mi1.strip" "$TEST_DIR/mi2.strip"
'

test_expect_success 'trace and -v list the generated files read' '
	hstart &&
	"$PROCACHE" trace -- sh -c "cat /proc/loadavg /sys/fs/cgroup/cgroup.procs 2>/dev/null; cat /proc/uptime" >trace.out 2>/dev/null &&
	grep "^synth *\/proc\/loadavg\$" trace.out &&
	grep "^synth *\/proc\/uptime\$" trace.out &&
	"$PROCACHE" run -v --no-cache -- cat /proc/loadavg 2>err >/dev/null &&
	grep "host facts the job read, generated by procache: /proc/loadavg" err
'

test_expect_success 'generated once per distinct content, under $CACHE/hostfacts' '
	hstart &&
	ls "$PROCACHE_DIR/hostfacts" >before &&
	"$PROCACHE" run --no-cache --memory 3G -- true &&
	"$PROCACHE" run --no-cache --memory 3G -- true &&
	ls "$PROCACHE_DIR/hostfacts" >after &&
	test $(($(wc -l <after) - $(wc -l <before))) = 1
'

test_expect_success 'the CPU (CPUID, read without a system call) is the key field cpu: the same machine hits' '
	hstart &&
	hmiss -- sh -c "echo built for this CPU" &&
	hhit -- sh -c "echo built for this CPU" &&
	"$PROCACHE" cache show last >show &&
	vendor=$(sed -n "s/^vendor_id[[:space:]]*: //p" /proc/cpuinfo | head -1) &&
	family=$(sed -n "s/^cpu family[[:space:]]*: //p" /proc/cpuinfo | head -1) &&
	model=$(sed -n "s/^model[[:space:]]*: //p" /proc/cpuinfo | head -1) &&
	stepping=$(sed -n "s/^stepping[[:space:]]*: //p" /proc/cpuinfo | head -1) &&
	grep -E "^  cpu +$vendor $family\.$model\.$stepping [0-9a-f]{32}\$" show &&
	test $(grep -c "^  cpu " show) = 1
'

# The audit login uid and session id: procache inherits them from the
# login that started it, and so does the job (DESIGN §3, "hostfact").
# Setting loginuid (CAP_AUDIT_CONTROL) also gives a new session id.
test_prereq_LOGINUID() { sh -c "echo 0 >/proc/self/loginuid" 2>/dev/null; }

# as-login UID CMD...: CMD with the login uid UID (a new audit session)
write_as_login() {
	cat >"$TEST_DIR/as-login" <<-\EOF &&
	#!/bin/sh
	echo "$1" >/proc/self/loginuid || exit 1
	shift
	exec "$@"
	EOF
	chmod +x "$TEST_DIR/as-login"
}

test_expect_success LOGINUID 'logname reads /proc/self/loginuid: the host fact loginuid, a miss when it changes' '
	hstart && write_as_login &&
	HWRAP="$TEST_DIR/as-login 0" &&
	hmiss -- logname &&
	hstdout_is root &&
	hhit -- logname &&
	"$PROCACHE" cache show last >show &&
	grep "\"name\":\"loginuid\".*\"value\":\"0\"" show &&
	HWRAP="$TEST_DIR/as-login 65534" &&
	hmiss -- logname &&
	hstdout_is nobody &&
	hhit -- logname &&
	hmiss -- sh -c "cat /proc/\$\$/task/*/loginuid; echo" &&
	hstdout_is 65534 &&
	hhit -- sh -c "cat /proc/\$\$/task/*/loginuid; echo" &&
	HWRAP="$TEST_DIR/as-login 0" &&
	hmiss -- sh -c "cat /proc/\$\$/task/*/loginuid; echo" &&
	hstdout_is 0
'

test_expect_success LOGINUID 'a read of /proc/self/sessionid misses in another audit session' '
	hstart && write_as_login &&
	hmiss -- cat /proc/self/sessionid &&
	hhit -- cat /proc/self/sessionid &&
	HWRAP="$TEST_DIR/as-login 0" &&
	hmiss -- sh -c "cd /proc/self/task && cat */sessionid" &&
	HWRAP="$TEST_DIR/as-login 0" &&
	hmiss -- sh -c "cd /proc/self/task && cat */sessionid"
'

# pid 1 of the job is procache's init, a fork of the runner: its command
# line would show options the key leaves out (-v, --report, --cache-dir)
# and the path procache was started by.
test_expect_success 'pid 1 shows a fixed command line and name, whatever procache was run with' '
	hstart &&
	J="tr \"\\0\" _ </proc/1/cmdline; echo; cat /proc/1/comm" &&
	printf "%s\n" procache-init_ procache-init >expect &&
	"$PROCACHE" run -- sh -c "$J" >out &&
	test_cmp expect out &&
	ln -s "$PROCACHE" "$TEST_DIR/a-much-longer-name-for-procache" &&
	"$TEST_DIR/a-much-longer-name-for-procache" run -v --no-cache \
		--report "$TEST_DIR/r.json" -- sh -c "$J" >out 2>/dev/null &&
	test_cmp expect out
'

test_done

#!/usr/bin/env bash
test_description='sandbox: --timeout, --memory, --pids, best-effort limits'
. "$(dirname "$0")/lib.sh"

# See t0100-sandbox-basic.sh: SBX_DRIVER=1 drives the sandbox module alone.
if [ -n "${SBX_DRIVER:-}" ]; then
	SBX=("$PROCACHE_BUILD/tests/unit/test-sandbox" --run)
else
	SBX=("$PROCACHE" run --no-cache)
fi
sbx() { "${SBX[@]}" "$@"; }

as_user() {
	setpriv --reuid procache-test --regid procache-test --init-groups \
		env HOME="$UHOME" PROCACHE_DIR="$UHOME/cache" "$@"
}

# The run's cgroups live below ours; none may be left behind.
own_cgroups() {
	for c in memory pids; do
		p=$(awk -F: -v c=$c '$2 ~ "(^|,)" c "(,|$)" { print $3 }' /proc/self/cgroup)
		[ -n "$p" ] && ls -d /sys/fs/cgroup/$c$p/procache-* 2>/dev/null
	done
	p=$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup)
	for m in /sys/fs/cgroup /sys/fs/cgroup/unified; do
		ls -d $m$p/procache-* 2>/dev/null
	done
	:
}

test_prereq_CGROUP_LIMITS() {
	[ "$(id -u)" = 0 ] && [ -d /sys/fs/cgroup/memory ] && [ -d /sys/fs/cgroup/pids ] ||
	grep -qw memory /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
}

test_expect_success 'timeout: 124, within the timeout plus the grace' '
	start=$(date +%s) &&
	test_expect_code 124 sbx --timeout 1 -- sleep 30 &&
	test $(($(date +%s) - start)) -lt 5
'

test_expect_success 'timeout: a job ignoring SIGTERM is killed after the grace' '
	start=$(date +%s) &&
	test_expect_code 124 sbx --timeout 1 -- sh -c "trap \"\" TERM; while :; do sleep 0.1; done" &&
	test $(($(date +%s) - start)) -lt 8
'

test_expect_success 'timeout: SIGTERM reaches the job first' '
	test_expect_code 124 sbx --timeout 1 -- sh -c "trap \"echo got-TERM; exit 9\" TERM; while :; do sleep 0.1; done" >out &&
	grep got-TERM out
'

test_expect_success 'a job ending before its timeout keeps its status' '
	test_expect_code 3 sbx --timeout 30 -- sh -c "exit 3"
'

test_expect_success CGROUP_LIMITS 'memory: a 64M limit stops a 256M hog (OOM kill: 137)' '
	test_expect_code 137 sbx --memory 64M -- python3 -c "b = bytearray(256 << 20); print(len(b))" >out &&
	! grep 268435456 out &&
	sbx --memory 64M -- python3 -c "b = bytearray(16 << 20); print(len(b))" >out &&
	grep 16777216 out &&
	test -z "$(own_cgroups)"
'

test_expect_success CGROUP_LIMITS 'pids: a fork bomb under --pids 64 is contained' '
	start=$(date +%s) &&
	test_must_fail sbx --pids 64 --timeout 30 -- sh -c "for i in \$(seq 200); do sleep 10 & done; echo all-forked" >out 2>err &&
	! grep all-forked out &&
	# Whatever the bomb makes the job exit with, procache returns in time.
	{ sbx --pids 64 --timeout 30 -- sh -c "bomb() { bomb | bomb & }; bomb; sleep 1; echo done" >out 2>&1 || :; } &&
	test $(($(date +%s) - start)) -lt 25 &&
	test -z "$(own_cgroups)"
'

test_expect_success UNPRIV_USER 'rootless: a limit without a usable cgroup is refused, naming it' '
	UHOME=$PWD/uhome && mkdir -p "$UHOME" && chown procache-test: "$UHOME" && cd "$UHOME" &&
	test_expect_code 125 as_user "${SBX[@]}" --memory 64M -- true 2>err &&
	grep "cannot enforce memory limit" err &&
	test_expect_code 125 as_user "${SBX[@]}" --pids 64 -- true 2>err &&
	grep "cannot enforce pids limit" err
'

test_expect_success UNPRIV_USER 'rootless: --best-effort-limits falls back to rlimits and says so' '
	UHOME=$PWD/uhome && mkdir -p "$UHOME" && chown procache-test: "$UHOME" && cd "$UHOME" &&
	test_must_fail as_user "${SBX[@]}" -v --best-effort-limits --memory 64M -- python3 -c "b = bytearray(256 << 20)" 2>err &&
	grep MemoryError err &&
	as_user "${SBX[@]}" --best-effort-limits --memory 512M -- python3 -c "print(1)" >out &&
	echo 1 >expect && test_cmp expect out
'

test_expect_success 'rootless: -v says which limit fell back to an rlimit' '
	test_have_prereq UNPRIV_USER &&
	UHOME=$PWD/uhome && mkdir -p "$UHOME" && chown procache-test: "$UHOME" && cd "$UHOME" &&
	as_user "${SBX[@]}" -v --best-effort-limits --memory 512M -- true 2>err &&
	grep RLIMIT_AS err
'

test_done

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

# The disk limit (--disk): the job's upper directories on a tmpfs of that
# size, in the runner's own mount namespace.
cache_files() {
	find "$PROCACHE_DIR/keys" "$PROCACHE_DIR/blobs" -type f 2>/dev/null | sort
}

test_expect_success ROOT 'disk: a job writing past --disk gets ENOSPC; uncacheable with the reason, nothing applied or stored' '
	"$PROCACHE" run -- true &&
	cache_files >before &&
	rc=0 &&
	"$PROCACHE" run --report report.json --disk 8M -- \
		sh -c "echo small >small; head -c 20M /dev/zero >big; echo head=\$?" >out 2>err || rc=$? &&
	echo head=1 >expect && test_cmp expect out &&
	grep "^head: .*No space left on device" err &&
	grep "^procache: warning: the job reached the disk limit of 8388608 bytes: none of its changes are applied" err &&
	test "$(json_get report.json status)" = uncacheable &&
	json_get report.json uncacheable >reasons &&
	grep "reached the disk limit of 8388608 bytes (ENOSPC in the sandbox)" reasons &&
	test "$(json_get report.json outputs.0.outcome)" = skipped &&
	test_path_is_missing big && test_path_is_missing small &&
	cache_files >after && test_cmp before after
'

test_expect_success ROOT 'disk: within the limit a run is stored and hits; the limit is a key field' '
	"$PROCACHE" run --report report.json --disk 8M -- sh -c "head -c 4M /dev/zero >mid; echo ok" >out &&
	test "$(json_get report.json status)" = miss &&
	test "$(stat -c %s mid)" = 4194304 &&
	rm mid &&
	"$PROCACHE" run --report report.json --disk 8M -- sh -c "head -c 4M /dev/zero >mid; echo ok" >out &&
	test "$(json_get report.json status)" = hit &&
	test "$(stat -c %s mid)" = 4194304 &&
	"$PROCACHE" run --report report.json --disk 16M -- sh -c "head -c 4M /dev/zero >mid; echo ok" >out &&
	test "$(json_get report.json status)" = miss
'

test_expect_success ROOT 'disk: printing past the limit is passed on whole, not kept' '
	"$PROCACHE" run --report report.json --disk 1M -- head -c 3M /dev/zero >out &&
	test "$(stat -c %s out)" = 3145728 &&
	json_get report.json uncacheable >reasons &&
	grep "printed more than the disk limit of 1048576 bytes" reasons
'

test_expect_success ROOT 'disk: the tmpfs is in the runner'\''s mount namespace only, and goes with it' '
	"$PROCACHE" run --no-cache --disk 8M -- sh -c "$JOB_HOLD" 2>err & pid=$! &&
	test_when_finished "kill -9 $pid 2>/dev/null" &&
	test_wait_for 10 grep -q held err &&
	grep " $PROCACHE_DIR/run/[0-9a-f]*/layers .* - tmpfs .*size=8192k" /proc/$pid/mountinfo &&
	! grep -q "$PROCACHE_DIR" /proc/self/mountinfo &&
	job_release $pid && wait $pid &&
	! grep -q "$PROCACHE_DIR" /proc/self/mountinfo
'

test_expect_success ROOT 'disk: --disk 0 has no tmpfs, the upper directories on the cache'\''s file system' '
	"$PROCACHE" run --no-cache --disk 0 -- sh -c "$JOB_HOLD" 2>err & pid=$! &&
	test_when_finished "kill -9 $pid 2>/dev/null" &&
	test_wait_for 10 grep -q held err &&
	! grep -q "$PROCACHE_DIR" /proc/$pid/mountinfo &&
	ls -d "$PROCACHE_DIR"/run/*/layers/0/upper &&
	job_release $pid && wait $pid
'

test_expect_success ROOT 'disk: a runner killed while its job writes leaves no mount and no process' '
	"$PROCACHE" run --no-cache --disk 64M -- sh -c "head -c 10M /dev/zero >f; echo written >&2; sleep 3065.$$" 2>err & pid=$! &&
	test_wait_for 10 grep -q written err &&
	kill -9 $pid && wait $pid || : &&
	test_wait_for 10 ! pgrep -f "sleep 3065.$$" &&
	! grep -q "$PROCACHE_DIR" /proc/self/mountinfo &&
	test_path_is_missing f
'

test_expect_success 'disk: the default is a quarter of the cache'\''s file system, at most half the memory; --disk and limits.disk change it' '
	want=$("$PYTHON" -c "import os
fs = os.statvfs(os.environ[\"PROCACHE_DIR\"] if os.path.isdir(os.environ[\"PROCACHE_DIR\"]) else \".\")
print(min(fs.f_blocks * fs.f_frsize // 4, os.sysconf(\"SC_PHYS_PAGES\") * os.sysconf(\"SC_PAGE_SIZE\") // 2))") &&
	"$PROCACHE" config >cfg &&
	grep "^limits.disk = $want	(default)$" cfg &&
	echo "{\"limits\": {\"disk\": \"2G\"}}" >c.json &&
	"$PROCACHE" config --config c.json >cfg &&
	grep "^limits.disk = 2147483648	(config file)$" cfg &&
	echo "{\"limits\": {\"disk\": \"10k\"}}" >bad.json &&
	test_expect_code 125 "$PROCACHE" run --config bad.json -- true 2>err &&
	grep "limits.disk" err &&
	test_expect_code 125 "$PROCACHE" run --disk 12k -- true 2>err &&
	grep "invalid value for .--disk." err &&
	test_expect_code 125 "$PROCACHE" run --disk lots -- true 2>err
'

test_expect_success UNPRIV_USER 'rootless: --disk is refused unless --best-effort-limits; the default is not enforced' '
	UHOME=$PWD/uhome && mkdir -p "$UHOME" && chown procache-test: "$UHOME" && cd "$UHOME" &&
	test_expect_code 125 as_user "$PROCACHE" run --no-cache --disk 8M -- true 2>err &&
	grep "cannot enforce the disk limit: procache is not root" err &&
	as_user "$PROCACHE" run --no-cache --best-effort-limits --disk 8M -- sh -c "head -c 9M /dev/zero >f" &&
	test "$(stat -c %s f)" = 9437184 &&
	as_user "$PROCACHE" run --no-cache -- true
'

test_done

#!/usr/bin/env bash
test_description='procache trace: observations of real jobs in the real sandbox'
. "$(dirname "$0")/lib.sh"

TR=$HELPERS/tr-calls

# has_obs FILE KIND PATH: the report lists an observation of KIND for PATH
has_obs() {
	python3 - "$@" <<'PY'
import json, sys
f, kind, path = sys.argv[1:4]
d = json.load(open(f))
ok = any(o["kind"] == kind and o["path"] == path for o in d["observations"])
if not ok:
    print("no %s observation of %s in:" % (kind, path), file=sys.stderr)
    for o in d["observations"]:
        print("  %s %s" % (o["kind"], o["path"]), file=sys.stderr)
    print("  taints: %s" % d["taints"], file=sys.stderr)
sys.exit(0 if ok else 1)
PY
}

# has_taint FILE SUBSTRING
has_taint() {
	python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if any(sys.argv[2] in t for t in d["taints"]) else 1)' "$@" || {
		echo "no taint containing '$2'" >&2; cat "$1" >&2; return 1; }
}

no_taints() {
	python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if not d["taints"] else 1)' "$1" || { cat "$1" >&2; return 1; }
}

test_expect_success ROOT 'reading a file records its content' '
	echo hello >in &&
	"$PROCACHE" trace --json -- "$TR" open "$TEST_DIR/in" >out.json &&
	has_obs out.json content "$TEST_DIR/in" &&
	no_taints out.json
'

test_expect_success ROOT 'missing files on a search path are absent observations' '
	"$PROCACHE" trace --json -- "$TR" open "$TEST_DIR/nothing-here" >out.json &&
	has_obs out.json absent "$TEST_DIR/nothing-here"
'

test_expect_success ROOT 'symlinks met while resolving are recorded' '
	echo x >target && ln -s target link &&
	"$PROCACHE" trace --json -- "$TR" open "$TEST_DIR/link" >out.json &&
	has_obs out.json symlink "$TEST_DIR/link" &&
	has_obs out.json content "$TEST_DIR/target"
'

test_expect_success ROOT 'a directory listing is recorded' '
	mkdir d && touch d/a d/b &&
	"$PROCACHE" trace --json -- "$TR" getdents "$TEST_DIR/d" >out.json &&
	has_obs out.json listing "$TEST_DIR/d"
'

test_expect_success ROOT 'a #! script records env, sh and the interpreters' '
	printf "#!/usr/bin/env sh\necho hi\n" >s.sh && chmod +x s.sh &&
	"$PROCACHE" trace --json -- ./s.sh >out.json &&
	has_obs out.json content "$TEST_DIR/s.sh" &&
	has_obs out.json content /usr/bin/env &&
	has_obs out.json content /usr/bin/dash &&
	has_obs out.json content "$(realpath /lib64/ld-linux-x86-64.so.2)"
'

test_expect_success ROOT 'read-then-overwrite records the first content, job state after' '
	echo first >in &&
	"$PROCACHE" trace --json -- "$TR" overwrite "$TEST_DIR/in" >out.json &&
	has_obs out.json content "$TEST_DIR/in" &&
	no_taints out.json &&
	echo first >expect && test_cmp expect in
'

test_expect_success ROOT 'files the job wrote are not host observations; > output records its directory' '
	"$PROCACHE" trace --json -- sh -c "echo a >\"$TEST_DIR/new\" && cat \"$TEST_DIR/new\"" >out.json &&
	! has_obs out.json content "$TEST_DIR/new" 2>/dev/null &&
	! has_obs out.json absent "$TEST_DIR/new" 2>/dev/null &&
	has_obs out.json stat "$TEST_DIR"
'

test_expect_success ROOT 'reading /proc/interrupts makes the job uncacheable' '
	"$PROCACHE" trace --json -- "$TR" open /proc/interrupts >out.json &&
	has_taint out.json /proc/interrupts
'

test_expect_success ROOT '/proc/meminfo is generated: listed as synthetic, not a taint' '
	"$PROCACHE" trace --json -- "$TR" open /proc/meminfo >out.json &&
	! has_taint out.json /proc/meminfo &&
	python3 -c "import json,sys; d = json.load(open(sys.argv[1])); assert \"/proc/meminfo\" in d[\"synthetic\"], d" out.json &&
	"$PROCACHE" trace -- "$TR" open /proc/meminfo >out.txt &&
	grep "^synth *\/proc\/meminfo\$" out.txt
'

test_expect_success ROOT 'connect() to a host unix socket taints, EACCES when untrusted' '
	python3 -c "import socket,sys,time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1); time.sleep(30)" "$TEST_DIR/s.sock" &
	pid=$! && test_when_finished "kill $pid" &&
	test_wait_for 30 test -S s.sock &&
	"$PROCACHE" trace --json -- "$TR" connect "$TEST_DIR/s.sock" >out.json &&
	has_taint out.json "host unix socket"
'

test_expect_success ROOT 'a datagram sent with sendmsg to a host unix socket taints' '
	python3 -c "import socket,sys,time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); time.sleep(30)" "$TEST_DIR/d.sock" &
	pid=$! && test_when_finished "kill $pid" &&
	test_wait_for 30 test -S d.sock &&
	"$PROCACHE" trace --json -- "$TR" sendmsg-dgram "$TEST_DIR/d.sock" >out.json &&
	has_taint out.json "syscall sendmsg: host unix socket"
'

test_expect_success ROOT 'an input modified from outside during the run is uncacheable' '
	echo one >in &&
	"$PROCACHE" trace --json -- sh -c "cat \"$TEST_DIR/in\" >/dev/null; $JOB_HOLD" >out.json 2>err &
	pid=$! &&
	test_wait_for 60 grep -q "^held$" err &&
	echo two >>in &&
	job_release $pid &&
	wait $pid &&
	has_taint out.json "input changed during the run"
'

test_expect_success ROOT 'multi-process and multi-threaded jobs' '
	echo a >a && echo b >b && echo c >c &&
	"$PROCACHE" trace --json -- "$TR" fork-open "$TEST_DIR/a" "$TEST_DIR/b" >out.json &&
	has_obs out.json content "$TEST_DIR/a" &&
	has_obs out.json content "$TEST_DIR/b" &&
	"$PROCACHE" trace --json -- "$TR" threads "$TEST_DIR/a" "$TEST_DIR/c" >out.json &&
	has_obs out.json content "$TEST_DIR/c"
'

test_expect_success ROOT 'paths through /proc/self/fd and /proc/$$/fd are followed' '
	mkdir sub && echo in >sub/in &&
	"$PROCACHE" trace --json -- "$TR" procfd "$TEST_DIR/sub" in >out.json &&
	has_obs out.json content "$TEST_DIR/sub/in" &&
	"$PROCACHE" trace --json -- bash -c "exec 7<\"$TEST_DIR/sub\" && cat /proc/\$\$/fd/7/in" >out2.json &&
	has_obs out2.json content "$TEST_DIR/sub/in" &&
	no_taints out2.json
'

test_expect_success ROOT 'a call interrupted by a signal mid-notification does not stop the tracer' '
	"$PROCACHE" trace --json -- "$HELPERS/tr-sigstorm" 5000 >out.json &&
	no_taints out.json
'

# The filter's program is compiled once per procache executable and set of
# options and kept in the cache (sandbox/trace-filter.c); a damaged file
# is not used but built again.
test_expect_success 'the compiled filter is kept in the cache; a damaged one is rebuilt' '
	"$PROCACHE" run --no-cache -- sh -c "echo x >/dev/null" &&
	ls "$PROCACHE_DIR"/filters/*.bpf >files &&
	test $(wc -l <files) = 1 &&
	f=$(cat files) && cp "$f" good &&
	"$PROCACHE" run --no-cache --untrusted -- true &&
	test $(ls "$PROCACHE_DIR"/filters/*.bpf | wc -l) = 2 &&
	printf "\\377" | dd of="$f" bs=1 seek=40 conv=notrunc 2>/dev/null &&
	! cmp -s good "$f" &&
	"$PROCACHE" trace --json -- cat "$TEST_DIR/files" >out.json &&
	has_obs out.json content "$TEST_DIR/files" &&
	"$PROCACHE" run --no-cache -- true &&
	cmp good "$f"
'

test_done

# tests/hermetic/lib-hermetic.sh — shared by the hermeticity scripts
# (tests/hermetic/t10NN-*.sh): each scenario is a job, a change made between
# two runs, and the verdict procache must give — miss (the job must run
# again) or hit (it may be skipped). Sourced after ../lib.sh.
#
# A case starts with `hstart`, which makes the work directory W=$TEST_DIR/w
# and moves there; jobs run with W as their cwd (and default --output).
# Reports, captured output and snapshots live in $TEST_DIR, outside W.
#
#	hrun STATUS [OPTS] -- CMD...   one run, its report status must be STATUS
#	hrun_held STATUS CHANGE [OPTS] -- CMD...
#	                               the same, CHANGE made while the job runs
#	                               (the job ends with $JOB_HOLD, lib.sh)
# STATUS may be several words ("miss uncacheable"): any of them will do.
#	hmiss [OPTS] -- CMD...         hrun miss
#	hhit [OPTS] -- CMD...          hrun hit, then proves the hit was right:
#	                               W is copied before the hit; the copy gets a
#	                               --no-cache run of the same job at the same
#	                               path; the two trees (tree_snapshot), stdouts
#	                               and exit codes must be equal.
#
# $HOPTS (a shell variable) is given to every run before the case's own
# options: a script about something else than times sets
# HOPTS=--mtime=content, so that rewriting an input with its old bytes
# (a new mtime) is not what decides its cases (t1090 tests times).
# $HWRAP, when set, is a command procache is run under (env
# --default-signal=INT: procache as a foreground shell would start it).
#
# After each run: $rc is procache's exit status, $TEST_DIR/stdout and
# $TEST_DIR/stderr the run's output, $TEST_DIR/report.json its report. The
# job's stdin is /dev/null, or the file named by `hin FILE` (a shell
# variable, not the environment: the environment is the job's, and keyed).

hstart() {
	W=$TEST_DIR/w
	mkdir -p "$W" && cd "$W"
}

hrun() {
	local want=$1
	shift
	cd "$W" || return 1
	rc=0
	${HWRAP:-} "$PROCACHE" run --report "$TEST_DIR/report.json" ${HOPTS:-} "$@" \
		<"${hstdin:-/dev/null}" >"$TEST_DIR/stdout" 2>"$TEST_DIR/stderr" || rc=$?
	hexpect_status "$want"
}

# hrun_held STATUS CHANGE [OPTS] -- sh -c "SCRIPT; $JOB_HOLD": as hrun, with
# CHANGE (a shell command; ':' for none) made from outside while the job
# runs: after SCRIPT (the job's observations), before the job ends.
hrun_held() {
	local want=$1 change=$2 pid
	shift 2
	cd "$W" || return 1
	"$PROCACHE" run --report "$TEST_DIR/report.json" "$@" \
		<"${hstdin:-/dev/null}" >"$TEST_DIR/stdout" 2>"$TEST_DIR/stderr" &
	pid=$!
	if ! test_wait_for 60 grep -q "^held$" "$TEST_DIR/stderr" ||
	   ! eval "$change" || ! job_release $pid; then
		kill $pid
		wait $pid
		return 1
	fi
	rc=0
	wait $pid || rc=$?
	hexpect_status "$want"
}

# hexpect_status "STATUS...": the last report's status is one of the
# STATUS words.
hexpect_status() {
	local got w
	got=$(hstatus "$TEST_DIR/report.json")
	for w in $1; do
		[ "$got" = "$w" ] && return 0
	done
	echo "expected status '$1', got '$got'" >&2
	cat "$TEST_DIR/report.json" >&2
	sed 's/^/stderr: /' "$TEST_DIR/stderr" >&2
	return 1
}

# hstatus REPORT: the report's top-level "status" (one tab deep in the
# report's layout). lib.sh's json_get starts python, which costs up to a
# second here per call through pyenv's shim; this suite reads thousands.
hstatus() {
	sed -n 's/^\t"status":[[:space:]]*"\([a-z]*\)",\{0,1\}$/\1/p' "$1"
}

hmiss() { hrun miss "$@"; }

hin() { hstdin=$1; }

hhit() {
	local hit_rc
	cd "$TEST_DIR" && rm -rf w.pre w.hit && cp -a w w.pre &&
	hrun hit "$@" &&
	hit_rc=$rc &&
	mv "$TEST_DIR/stdout" "$TEST_DIR/stdout.hit" &&
	tree_snapshot "$W" >"$TEST_DIR/snap.hit" &&
	cd "$TEST_DIR" && mv w w.hit && mv w.pre w &&
	hrun miss --no-cache "$@" &&
	tree_snapshot "$W" >"$TEST_DIR/snap.fresh" &&
	test_cmp "$TEST_DIR/snap.fresh" "$TEST_DIR/snap.hit" &&
	test_cmp "$TEST_DIR/stdout" "$TEST_DIR/stdout.hit" &&
	if [ "$hit_rc" != "$rc" ]; then
		echo "hit exited $hit_rc, a fresh run $rc" >&2
		return 1
	fi &&
	rm -rf "$TEST_DIR/w.hit" && cd "$W"
}

# hstdout_is TEXT: the last run's stdout is exactly TEXT plus a newline.
hstdout_is() {
	printf '%s\n' "$1" >"$TEST_DIR/expect" &&
	test_cmp "$TEST_DIR/expect" "$TEST_DIR/stdout"
}

# hreason_has WORD: the last report's uncacheable reasons mention WORD.
hreason_has() {
	hjson_get "$TEST_DIR/report.json" uncacheable >"$TEST_DIR/why" &&
	if ! grep -q -- "$1" "$TEST_DIR/why"; then
		echo "uncacheable reasons lack '$1':" >&2
		cat "$TEST_DIR/why" >&2
		return 1
	fi
}

# hjson_get FILE KEY: json_get through the system python (no pyenv shim).
hjson_get() {
	/usr/bin/python3 -c 'import json,sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v if isinstance(v, str) else json.dumps(v))' "$1" "$2"
}

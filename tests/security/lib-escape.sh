# tests/security/lib-escape.sh — shared by the escape suite (t20NN-*.sh).
# Sourced after ../lib.sh.

# run_ran [options] -- CMD...: as run, for cases where whether the run
# was stored is not the point: the status must be miss or uncacheable.
run_ran() {
	rc=0
	"$PROCACHE" run --report report.json "$@" || rc=$?
	case $(json_get report.json status) in
	miss|uncacheable) ;;
	*) echo "run_ran: unexpected status" >&2; cat report.json >&2; return 1 ;;
	esac
}

# The untrusted job runs as 65534: let it write in the case's directory
# (its cwd, the default output root) as an ordinary user could.
open_cwd() {
	chmod 0777 "$TEST_DIR"
}

# canary DIR: a world-writable directory outside every output root, with
# a file in it; the job may well write into it inside its sandbox, the
# host copy must never change. Its snapshot is left in DIR.snap.
canary() {
	mkdir -p "$1" && chmod 0777 "$1" && echo canary >"$1/f" && chmod 0666 "$1/f" &&
	tree_snapshot "$1" >"$1.snap"
}
canary_unchanged() {
	tree_snapshot "$1" >"$1.now" && test_cmp "$1.snap" "$1.now"
}

# A cheap fingerprint of a host directory's top level (names, types, sizes,
# mtimes): a new, removed or rewritten entry changes it.
dir_fingerprint() {
	find "$1" -maxdepth 1 -printf '%y %s %T@ %p\n' | sort
}

# kept_has PATH / outputs_has PATH: the report lists PATH under kept /
# outputs (any outcome); outcome_of PATH prints its outcome.
kept_has() {
	python3 -c 'import json,sys
r = json.load(open("report.json"))
sys.exit(0 if any(c["path"] == sys.argv[1] for c in r["kept"]) else 1)' "$1" ||
	{ echo "not kept: $1" >&2; cat report.json >&2; return 1; }
}
outcome_of() {
	python3 -c 'import json,sys
r = json.load(open("report.json"))
print(" ".join(c["outcome"] for c in r["outputs"] if c["path"] == sys.argv[1]))' "$1"
}

# no_process MARKER: no host process has MARKER in its command line. The
# markers carry $$ or $TEST_DIR: another checkout running this suite at the
# same time must not match.
no_process() {
	if pgrep -f "$1" >/dev/null; then
		echo "processes left: $(pgrep -af "$1")" >&2
		return 1
	fi
}

ESC=$HELPERS/esc-calls
ESC_SOCK=$HELPERS/esc-sock
ESC_FS=$HELPERS/esc-fs

# tests/faults/lib-faults.sh — helpers shared by the fault scripts
# (sourced after ../lib.sh).

# A seed for $RANDOM: FAULT_SEED when set (to replay a failure), else a
# fresh one. Every script prints it, so a failure can be reproduced.
# Each case calls fault_seed N: bash reseeds $RANDOM in subshells.
FAULT_SEED=${FAULT_SEED:-$(( $(date +%s%N) % 32768 ))}
say "# $TEST_NAME: FAULT_SEED=$FAULT_SEED"
fault_seed() { RANDOM=$((FAULT_SEED + ${1:-0})); }

# The Debian python3, when there: a pyenv shim first on PATH costs a
# second or more per start on a loaded machine.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# get_status [FILE]: the report's status in $status, read by the shell
# itself (no process started: the fault loops call it thousands of times).
get_status() {
	local line re='^[[:space:]]*"status":[[:space:]]*"([a-z]+)"'
	status=
	[ -r "${1:-report.json}" ] || return 0
	while IFS= read -r line; do
		if [[ $line =~ $re ]]; then
			status=${BASH_REMATCH[1]}
			return 0
		fi
	done <"${1:-report.json}"
}

# report_status [FILE]: prints it.
report_status() {
	local status
	get_status "$@"
	echo "$status"
}

# A single quote, for patterns inside single-quoted case bodies.
Q="'"

# test_line_count N FILE
test_line_count() {
	local n
	n=$(wc -l <"$2")
	[ "$n" -eq "$1" ] || { echo "expected $1 lines in $2, got $n:" >&2; cat "$2" >&2; return 1; }
}

# run STATUS [procache run options] -- CMD...: a run that must end with
# the report status STATUS (a|b alternatives allowed); procache's exit
# status is kept in $rc.
run() {
	local want=$1 got
	shift
	rc=0
	rm -f report.json
	"$PROCACHE" run --report report.json "$@" || rc=$?
	get_status && got=$status && [ -n "$got" ] || { cat report.json >&2; return 1; }
	case "|$want|" in
	*"|$got|"*) return 0 ;;
	esac
	echo "expected status '$want', got '$got' (exit $rc)" >&2
	cat report.json >&2
	return 1
}

# cache_verify_clean [DIR]: `procache cache verify` finds nothing wrong.
cache_verify_clean() {
	local dir=${1:-$PROCACHE_DIR}
	"$PROCACHE" cache --cache-dir "$dir" verify >verify.out 2>&1 || {
		echo "cache verify failed:" >&2
		cat verify.out >&2
		return 1
	}
	grep -q " 0 bad; .* 0 bad" verify.out || { cat verify.out >&2; return 1; }
}

# cache_is_sound [DIR]: cache_verify_clean, and independently of verify,
# every blob each entry names exists with its size.
cache_is_sound() {
	local dir=${1:-$PROCACHE_DIR}
	cache_verify_clean "$dir" || return 1
	"$PROCACHE" cache --cache-dir "$dir" ls --json >ls.json &&
	"$PY" - "$dir" "$PROCACHE" <<-\EOF
	import json, os, subprocess, sys
	d, exe = sys.argv[1], sys.argv[2]
	bad = 0
	for it in json.load(open("ls.json", encoding="utf-8", errors="surrogateescape")):
	    if it["corrupt"]:
	        print("entry listed as corrupt:", it["id"]); bad += 1; continue
	    e = json.loads(subprocess.run([exe, "cache", "--cache-dir", d, "show",
	            "--json", it["id"]], check=True, capture_output=True).stdout.decode("utf-8", "surrogateescape"))
	    res = e["result"]
	    refs = [res["stdout"], res["stderr"]] + [c for c in res["changes"] if "blob" in c]
	    for r in refs:
	        if r.get("size", 0) == 0:     # empty contents: no blob
	            continue
	        p = os.path.join(d, "blobs", r["blob"][:2], r["blob"])
	        if not os.path.isfile(p) or os.path.getsize(p) != r["size"]:
	            print("entry", it["id"], "names a missing blob", r["blob"]); bad += 1
	sys.exit(1 if bad else 0)
	EOF
}

# no_host_mounts_left: no mount of the host names the cache (every run's
# mounts live in its own mount namespace).
no_host_mounts_left() {
	! grep -F -- "$PROCACHE_DIR" /proc/self/mountinfo
}

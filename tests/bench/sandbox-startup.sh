#!/usr/bin/env bash
# tests/bench/sandbox-startup.sh — start-up cost of the sandbox: median of N
# runs of `true` under procache (--no-cache --no-trace), under the sandbox
# module alone (build/tests/unit/test-sandbox --run), under bwrap and under
# unshare, measured side by side with hyperfine; ratios against bwrap.
# Rootless (as procache-test) as well when that user exists.
# Prints a Markdown section (see tests/bench/lib.sh).
. "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT

runs=$(bench_runs 40 6)
warm=$(bench_runs 5 1)
export PROCACHE_DIR=$BENCH_SCRATCH/cache
mkdir -p "$PROCACHE_DIR" "$BENCH_SCRATCH/w"
cd "$BENCH_SCRATCH/w"

driver=$PROCACHE_BUILD/tests/unit/test-sandbox
cmds=(
	"$PROCACHE run --no-cache --no-trace -- true"
	"$PROCACHE run --no-cache -- true"
	"$driver --run -- true"
	"bwrap --unshare-all --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp true"
	"unshare --pid --mount --net --fork --mount-proc true"
)
names=("procache run --no-cache --no-trace" "procache run --no-cache (traced)" "sandbox module alone (test-sandbox --run)"
       "bwrap --unshare-all" "unshare --pid --mount --net --fork --mount-proc")

median_ms() { bench_hf "$@"; }

# table JSON BWRAP_INDEX UNSHARE_INDEX NAMES...: ratios pair by pair.
table() {
	local json=$1 ref=$2 ref2=$3 i m lo hi
	shift 3
	echo "| command | median ms | min | max | / bwrap | / unshare |"
	echo "|---|---|---|---|---|---|"
	read -r ref_m _ < <(median_ms "$json" "$ref")
	read -r ref2_m _ < <(median_ms "$json" "$ref2")
	i=0
	for n in "$@"; do
		read -r m lo hi < <(median_ms "$json" $i)
		echo "| $n | $m | $lo | $hi | $(bench_ratio "$m" "$ref_m") | $(bench_ratio "$m" "$ref2_m") |"
		i=$((i + 1))
	done
	echo
	read -r m _ < <(median_ms "$json" 1)
	bench_target "start-up, procache run --no-cache -- true / bwrap ($label)" "$(bench_ratio "$m" "$ref_m")" "$limit"
	read -r m _ < <(median_ms "$json" 0)
	echo
	echo "Untraced (--no-trace) / bwrap: $(bench_ratio "$m" "$ref_m"); the tracer's set-up"
	echo "(filter load, listener hand-over) is the difference between the first two rows."
}

echo "## Sandbox start-up"
echo
echo "\`true\` in a sandbox, $runs runs after $warm warm-up runs each, interleaved by"
echo "hyperfine in one invocation (\`hyperfine -N -w $warm -r $runs ...\`). procache"
echo "builds the whole view: an overlay per file system (root) or per top-level"
echo "directory (rootless), fresh /proc, /dev, /sys, /tmp, masks, loopback."
echo
echo "As root:"
echo
hyperfine -N -w "$warm" -r "$runs" --export-json "$BENCH_SCRATCH/root.json" "${cmds[@]}" >&2 || exit 1
label=root limit=0.8
table "$BENCH_SCRATCH/root.json" 3 4 "${names[@]}"

if id procache-test >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	chown -R procache-test: "$BENCH_SCRATCH" && chmod 755 "$BENCH_SCRATCH"
	as="setpriv --reuid procache-test --regid procache-test --init-groups env HOME=$BENCH_SCRATCH"
	ucmds=()
	for c in "${cmds[@]::3}"; do ucmds+=("$as $c"); done
	# bwrap as a user needs a user namespace (Debian's is not setuid)
	ucmds+=("$as bwrap --unshare-all --unshare-user --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp true")
	ucmds+=("$as unshare --user --map-root-user --pid --mount --net --fork --mount-proc true")
	echo
	echo "Rootless (as procache-test, through setpriv):"
	echo
	hyperfine -N -w "$warm" -r "$runs" --export-json "$BENCH_SCRATCH/user.json" "${ucmds[@]}" >&2 || exit 1
	label=rootless limit=1.2
	table "$BENCH_SCRATCH/user.json" 3 4 "${names[@]::3}" "bwrap --unshare-all --unshare-user" "unshare --user --map-root-user ..."
fi

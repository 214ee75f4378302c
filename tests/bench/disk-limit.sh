#!/usr/bin/env bash
# tests/bench/disk-limit.sh — what the disk limit costs (DESIGN.md section 2):
# the job's upper directories on a tmpfs of the run's own (the default)
# against the cache's file system (--disk 0). Start-up: `true` under
# procache run --no-cache; store: a miss writing one 100 MB file, with and
# without storing it (--refresh, --no-cache), whose difference is the store
# (a rename into the blob store on the cache's file system, a copy from the
# tmpfs). Measured side by side with hyperfine.
# Prints a Markdown section (see tests/bench/lib.sh).
. "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT

runs=$(bench_runs 30 5)
big_runs=$(bench_runs 10 3)
warm=$(bench_runs 3 1)
export PROCACHE_DIR=$BENCH_SCRATCH/cache
mkdir -p "$PROCACHE_DIR" "$BENCH_SCRATCH/w"
cd "$BENCH_SCRATCH/w"
head -c 100M /dev/urandom >src

pc="$PROCACHE run $BENCH_HF_ENV"
hyperfine -N -w "$warm" -r "$runs" --export-json start.json \
	"$pc --no-cache --disk 0 -- true" "$pc --no-cache -- true" >&2
# Each run stores a new blob and writes a new output: the cache cleared
# and out removed first.
hyperfine -N -w "$warm" -r "$big_runs" --export-json big.json \
	--prepare "sh -c 'rm -f out; $PROCACHE cache clear >/dev/null'" \
	"$pc --no-cache --disk 0 -- cp src out" "$pc --refresh --disk 0 -- cp src out" \
	"$pc --no-cache -- cp src out" "$pc --refresh -- cp src out" >&2

row() { read -r m lo hi < <(bench_hf "$1" "$2"); echo "| $3 | $m | $lo | $hi |"; }
ms() { bench_hf "$1" "$2" | cut -d" " -f1; }

echo "## Disk limit: the upper directories on a tmpfs of the run's own"
echo
echo "The default since the disk limit: every layer's upper and work directory"
echo "on a tmpfs of the limit's size in the runner's own mount namespace;"
echo "\`--disk 0\` keeps them on the cache's file system (ext4 here). hyperfine"
echo "\`-N -w $warm\`, $runs runs (start-up) and $big_runs runs (100 MB; before each, the"
echo "cache cleared and the output removed, so each stores a new blob and writes"
echo "a new file)."
echo
echo "| command | median ms | min | max |"
echo "|---|---|---|---|"
row start.json 0 "\`run --no-cache --disk 0 -- true\`"
row start.json 1 "\`run --no-cache -- true\` (tmpfs)"
row big.json 0 "\`run --no-cache --disk 0 -- cp src out\` (100 MB)"
row big.json 1 "\`run --refresh --disk 0 -- cp src out\`"
row big.json 2 "\`run --no-cache -- cp src out\` (tmpfs)"
row big.json 3 "\`run --refresh -- cp src out\` (tmpfs)"
echo
s0=$(awk -v a="$(ms big.json 1)" -v b="$(ms big.json 0)" 'BEGIN { printf "%.1f", a - b }')
s1=$(awk -v a="$(ms big.json 3)" -v b="$(ms big.json 2)" 'BEGIN { printf "%.1f", a - b }')
echo "Start-up with the tmpfs / without: $(bench_ratio "$(ms start.json 1)" "$(ms start.json 0)")."
echo "Storing the 100 MB output (--refresh minus --no-cache): $s0 ms renamed"
echo "from the cache's file system, $s1 ms copied from the tmpfs."

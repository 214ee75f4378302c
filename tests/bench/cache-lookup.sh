#!/usr/bin/env bash
# tests/bench/cache-lookup.sh — cache lookup and store costs, measured with
# the cache driver (build/tests/unit/test-lookup driver ...), in process so
# that process start-up is outside the clock.
#
# 1. Lookup of one entry with N content preconditions (N = 10 .. 100,000;
#    QUICK: up to 10,000), warm stat cache and page cache: the time of
#    cache_lookup() (list the key, read and check the entry, lstat and
#    stat-cache probe per precondition, touch, blob checks), mean of R
#    lookups. Target: < 5 ms at 1,000, linear.
# 2. 1 to 100 candidates under one key (10 preconditions each), the
#    matching one tried last (least recently used): one cache_lookup(),
#    median of runs; the matching entry is made the oldest again before
#    each run. (QUICK: 1, 10, 100.)
# Plots (gnuplot): docs/bench/lookup-preconditions.png, lookup-candidates.png.
# 3. Store of an entry with 10,000 output files (1 KiB each) captured on
#    the cache's file system: the files are hashed and renamed into the
#    blob store; against `cp -a` of the same tree as the peer.
. "$(dirname "$0")/lib.sh"
set -e

drv=$PROCACHE_BUILD/tests/unit/test-lookup
[ -x "$drv" ] || { echo "bench: $drv not built (make test-bins)" >&2; exit 1; }
trap bench_cleanup EXIT
export PROCACHE_DIR=$BENCH_SCRATCH/cache
mkdir -p "$PROCACHE_DIR"
if [ -n "$QUICK" ]; then sizes="10 100 1000 10000"; else sizes="10 100 1000 10000 100000"; fi

# Input files, old enough for the stat cache's same-tick guard.
inputs=$BENCH_SCRATCH/in
mkdir -p "$inputs"
max=${sizes##* }
python3 - "$inputs" "$max" <<'PY'
import os, sys
top, n = sys.argv[1], int(sys.argv[2])
for d in range((n + 999) // 1000):
    os.makedirs(f"{top}/d{d}", exist_ok=True)
for i in range(n):
    with open(f"{top}/d{i // 1000}/f{i}", "w") as f:
        f.write("x" * (i % 200))
PY
find "$inputs" -exec touch -d "1 hour ago" {} +
# The stat cache trusts a file only when its mtime AND ctime are 2 s old.
sleep 2.2
find "$inputs" -type f | sort >"$BENCH_SCRATCH/all"

echo "## Cache lookup and store"
echo
echo "Measured inside \`build/tests/unit/test-lookup driver\` (cache_lookup() and"
echo "cache_store() only; see tests/bench/cache-lookup.sh). Warm stat cache and"
echo "page cache."
echo
echo "| preconditions | lookup (µs, mean) | µs per precondition |"
echo "|---|---|---|"
for n in $sizes; do
	head -n "$n" "$BENCH_SCRATCH/all" >"$BENCH_SCRATCH/list$n"
	"$drv" driver store -k argv=bench -k n="$n" -C "$BENCH_SCRATCH/list$n" >/dev/null
	"$drv" driver lookup -k argv=bench -k n="$n" >/dev/null	# warms the stat cache
	reps=$(( n >= 100000 ? 5 : n >= 10000 ? 20 : 200 ))
	us=$("$drv" driver lookup -k argv=bench -k n="$n" -n "$reps")
	echo "| $n | $us | $(awk -v a="$us" -v n="$n" 'BEGIN { printf "%.3f", a / n }') |"
	echo "$n $us" >>"$BENCH_SCRATCH/pre.dat"
	[ "$n" = 1000 ] && us1000=$us
done
echo
[ -n "${us1000:-}" ] && bench_target "lookup with 1,000 preconditions (ms)" "$(awk -v u="$us1000" 'BEGIN { printf "%.2f", u / 1000 }')" 5
echo
bench_plot lookup-preconditions.png "cache_lookup() time vs preconditions" \
	"content preconditions in the entry" "lookup time (microseconds)" "$BENCH_SCRATCH/pre.dat" "2:one entry, warm stat cache"
echo

# 2. 1 to 100 candidates under one key, the match tried last.
if [ -n "$QUICK" ]; then cands="1 10 100"; else cands="1 2 5 10 20 50 100"; fi
var=$BENCH_SCRATCH/variant
head -n 9 "$BENCH_SCRATCH/all" >"$BENCH_SCRATCH/list9"
echo "| candidates under the key (10 preconditions each), match tried last | lookup (µs, median) | min | max |"
echo "|---|---|---|---|"
declare -A match
for nc in $cands; do	# store every set first, then one wait for the stat cache
	echo "v0" >"$var"
	match[$nc]=$("$drv" driver store -k argv=cands$nc -c "$var" -C "$BENCH_SCRATCH/list9")
	for i in $(seq 1 $((nc - 1))); do
		echo "v$i" >"$var"
		"$drv" driver store -k argv=cands$nc -c "$var" -C "$BENCH_SCRATCH/list9" >/dev/null
	done
done
echo "v0" >"$var" && touch -d "1 hour ago" "$var"
sleep 2.1	# ctime of the variant file: 2 s for the stat cache
for nc in $cands; do
	id=${match[$nc]}
	mfile=$PROCACHE_DIR/keys/${id:0:2}/$id.entry
	[ -f "$mfile" ] || { echo "bench: entry $mfile not found" >&2; exit 1; }
	times=()
	for r in $(seq 1 "$(bench_runs 15 5)"); do
		touch -d "2 hours ago" "$mfile"
		t=$("$drv" driver lookup -k argv=cands$nc -n 1) || { echo "bench: no hit among $nc candidates" >&2; exit 1; }
		times+=("$t")
	done
	read -r med lo hi < <(printf '%s\n' "${times[@]}" | bench_stats)
	printf '| %s | %.0f | %.0f | %.0f |\n' "$nc" "$med" "$lo" "$hi"
	echo "$nc $med" >>"$BENCH_SCRATCH/cands.dat"
done
echo
bench_plot lookup-candidates.png "cache_lookup() time vs candidates under one key" \
	"candidate entries under the key (match tried last)" "lookup time (microseconds)" "$BENCH_SCRATCH/cands.dat" "2:10 preconditions each"
echo

# 3. Store throughput: 10,000 output files.
[ -n "$QUICK" ] && nfiles=2000 || nfiles=10000
outs=$BENCH_SCRATCH/cache/run/outs
mkdir -p "$outs"
python3 - "$outs" "$nfiles" <<'PY'
import os, sys
top, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    with open(f"{top}/o{i}", "wb") as f:
        f.write(os.urandom(1024))
PY
cp -a "$outs" "$BENCH_SCRATCH/cache/run/outs-peer-src"
args=()
for i in $(seq 0 $((nfiles - 1))); do args+=(-o "/job/out/o$i=$outs/o$i"); done
s=$(date +%s%N)
"$drv" driver store -k argv=store-bench "${args[@]}" >/dev/null
e=$(date +%s%N)
store_ms=$(( (e - s) / 1000000 ))
s=$(date +%s%N)
cp -a "$BENCH_SCRATCH/cache/run/outs-peer-src" "$BENCH_SCRATCH/cache/run/outs-peer"
e=$(date +%s%N)
cp_ms=$(( (e - s) / 1000000 ))
echo "| store of $nfiles output files (1 KiB) | ms | files/s |"
echo "|---|---|---|"
echo "| procache cache_store (hash + rename into blobs/, whole process) | $store_ms | $(awk -v n="$nfiles" -v t="$store_ms" 'BEGIN { printf "%.0f", n / (t / 1000) }') |"
echo "| peer: cp -a of the same tree | $cp_ms | $(awk -v n="$nfiles" -v t="$cp_ms" 'BEGIN { printf "%.0f", n / (t / 1000) }') |"

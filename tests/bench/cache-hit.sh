#!/usr/bin/env bash
# Hit latency: `gcc -c` of a medium C file with several headers (system and
# project), on a procache hit (the whole procache process: key, lookup,
# precondition checks, materialization of x.o, replay), against ccache on
# a ccache hit (direct mode, CCACHE_DIR in the scratch directory) and the
# plain compile. hyperfine interleaves the commands; x.o is removed before
# every run so that each hit writes it.
#   QUICK=1: 5 runs.
. "$(dirname "$0")/lib.sh"
set -e
runs=$(bench_runs 30 5)
warm=$(bench_runs 3 1)
trap bench_cleanup EXIT
w=$BENCH_SCRATCH/w
mkdir -p "$w/include"
export PROCACHE_DIR=$BENCH_SCRATCH/cache CCACHE_DIR=$BENCH_SCRATCH/ccache
cd "$w"
bench_compile_job
lines=$(cat x.c include/*.h | wc -l)
find . -exec touch -d "1 hour ago" {} +
sleep 2.2	# the stat cache trusts files whose mtime and ctime are 2 s old
cc="gcc -Iinclude -O1 -c x.c -o x.o"
pc="$PROCACHE run $BENCH_HF_ENV"
# Fill both caches, then check that the next run is a hit. x.o is removed
# first each time: gcc readlink()s its output path, so the entry holds "x.o
# absent" (with x.o present the lookup misses, rightly).
rm -f x.o && $pc -v -- $cc 2>"$BENCH_SCRATCH/miss.log"
npre=$(grep -oE "[0-9]+ preconditions" "$BENCH_SCRATCH/miss.log" | cut -d" " -f1)
rm -f x.o && $pc --report "$BENCH_SCRATCH/r.json" -- $cc
grep -q '"status":.*"hit"' "$BENCH_SCRATCH/r.json" ||
	{ echo "bench: procache gave no hit:" >&2; cat "$BENCH_SCRATCH/r.json" >&2; exit 1; }
ccache $cc && ccache -z >/dev/null && ccache $cc
ccache -s | grep -Eq 'Hits: +1 ' || { echo "bench: no ccache hit" >&2; ccache -s >&2; exit 1; }
"$PROCACHE" cache stats --zero >/dev/null
hyperfine -N -w "$warm" -r "$runs" --prepare "rm -f x.o" --export-json "$BENCH_SCRATCH/hf.json" \
	"$pc -- $cc" "ccache $cc" "$cc" "$PROCACHE run $BENCH_HF_ENV --refresh -- $cc" >&2
# Every `procache run` above was a hit (--refresh does not look up).
hits=$(bench_pc_stat hits)
[ "$hits" = $((warm + runs)) ] ||
	{ echo "bench: $hits procache hits, expected $((warm + runs))" >&2; "$PROCACHE" cache stats >&2; exit 1; }
ccache -s | grep -Eq 'Misses: +0 ' || { echo "bench: ccache missed during the benchmark" >&2; ccache -s >&2; exit 1; }
ccache_hits=$(ccache -s | awk '/Hits:/ { print $2; exit }')

read -r p_m p_lo p_hi < <(bench_hf "$BENCH_SCRATCH/hf.json" 0)
read -r c_m c_lo c_hi < <(bench_hf "$BENCH_SCRATCH/hf.json" 1)
read -r g_m g_lo g_hi < <(bench_hf "$BENCH_SCRATCH/hf.json" 2)
read -r r_m r_lo r_hi < <(bench_hf "$BENCH_SCRATCH/hf.json" 3)
echo "## Hit latency: \`gcc -c\` of a medium C file"
echo
echo "x.c and three project headers ($lines lines) including 8 system headers,"
echo "compiled with \`$cc\`. \`hyperfine -N -w $warm -r $runs --prepare 'rm -f x.o'\`,"
echo "the commands interleaved; CCACHE_DIR and PROCACHE_DIR are in the scratch"
echo "directory. Every procache run was a hit (\`procache cache stats\`: $hits hits), every"
echo "ccache run a direct-mode hit ($ccache_hits hits, 0 misses). procache runs get"
echo "\`$BENCH_HF_ENV\` (hyperfine's random variable would change the key)."
echo
echo "The entry holds ${npre:-?} preconditions (the headers, gcc's programs and libraries,"
echo "the paths it probed); a hit checks them all, then writes x.o and replays."
echo
echo "| command | median ms | min ms | max ms | / ccache hit | / plain gcc |"
echo "|---|---|---|---|---|---|"
echo "| \`procache run -- $cc\` (hit) | $p_m | $p_lo | $p_hi | $(bench_ratio "$p_m" "$c_m") | $(bench_ratio "$p_m" "$g_m") |"
echo "| \`ccache $cc\` (hit) | $c_m | $c_lo | $c_hi | 1.00 | $(bench_ratio "$c_m" "$g_m") |"
echo "| \`$cc\` | $g_m | $g_lo | $g_hi | $(bench_ratio "$g_m" "$c_m") | 1.00 |"
echo "| \`procache run --refresh -- $cc\` (a miss: sandbox, trace, store) | $r_m | $r_lo | $r_hi | $(bench_ratio "$r_m" "$c_m") | $(bench_ratio "$r_m" "$g_m") |"
echo
bench_target "hit latency, procache hit / ccache hit (gcc -c)" "$(bench_ratio "$p_m" "$c_m")" 0.50

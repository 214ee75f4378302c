#!/usr/bin/env bash
# A batch workflow: 900 jobs of ~100 ms (shared/workloads/gen-batch.sh DIR
# 900 100: count the bases of one input file into one output file) through
# `xargs -P2`, bare and through procache: all miss (fresh cache), all hit,
# and one input changed (one miss, the rest hits). Every procache phase is
# checked with `procache cache stats` (exact hit and miss counts) and its
# outputs compared with the bare run's.
#   QUICK=1: 90 jobs, 1 run a phase (2 for the hits), no bare warm-up.
. "$(dirname "$0")/lib.sh"
set -e
n=$([ -n "$QUICK" ] && echo 90 || echo 900)
runs=$(bench_runs 3 1)
hruns=$(bench_runs 3 2)
gen=${WORKLOADS:-$BENCH_TOP/../shared/workloads}/gen-batch.sh
[ -f "$gen" ] || gen=/work/shared/workloads/gen-batch.sh
trap bench_cleanup EXIT
w=$BENCH_SCRATCH/batch
cp "$gen" "$BENCH_SCRATCH/gen-batch.sh"
bash "$BENCH_SCRATCH/gen-batch.sh" "$w" "$n" 100 >/dev/null
find "$w" -exec touch -d "1 hour ago" {} +
sleep 2.2	# the stat cache trusts files whose mtime and ctime are 2 s old
cd "$w"

bare() { ls inputs | xargs -P2 -I{} ./job.sh inputs/{} outputs/{}.out; }
pc() { ls inputs | xargs -P2 -I{} "$PROCACHE" run -- ./job.sh inputs/{} outputs/{}.out; }
elapsed() { local s e; s=$(date +%s%N); "$@"; e=$(date +%s%N); awk -v d=$((e - s)) 'BEGIN { print d / 1e9 }'; }
# expect HITS MISSES: the counters since the last check.
expect() {
	local h m
	h=$(bench_pc_stat hits) m=$(bench_pc_stat misses)
	[ "$h" = "$1" ] && [ "$m" = "$2" ] ||
		{ echo "bench: $h hits and $m misses, expected $1 and $2" >&2; "$PROCACHE" cache stats >&2; exit 1; }
	"$PROCACHE" cache stats --zero >/dev/null
}

# bare, after a warm-up run (QUICK: no warm-up but the generator's)
[ -n "$QUICK" ] || bare
t_bare=()
for ((i = 0; i < runs; i++)); do t_bare+=("$(elapsed bare)"); done
cp -a outputs "$BENCH_SCRATCH/expected"

t_miss=() t_hit=() t_chg=()
for ((i = 0; i < runs; i++)); do
	export PROCACHE_DIR=$BENCH_SCRATCH/cache.$i
	rm -rf outputs && mkdir outputs
	t_miss+=("$(elapsed pc)")
	expect 0 "$n"
	diff -r "$BENCH_SCRATCH/expected" outputs >/dev/null || { echo "bench: outputs of the misses differ" >&2; exit 1; }
done
for ((i = 0; i < hruns; i++)); do
	rm -rf outputs && mkdir outputs	# every hit writes its output
	t_hit+=("$(elapsed pc)")
	expect "$n" 0
	diff -r "$BENCH_SCRATCH/expected" outputs >/dev/null || { echo "bench: outputs of the hits differ" >&2; exit 1; }
done
for ((i = 0; i < runs; i++)); do
	f=$(ls inputs | sed -n "$((i + 1))p")
	echo "ACGT" >>"inputs/$f"	# one input changed
	t_chg+=("$(elapsed pc)")
	expect $((n - 1)) 1
done

read -r b_m b_lo b_hi < <(printf '%s\n' "${t_bare[@]}" | bench_stats)
read -r m_m m_lo m_hi < <(printf '%s\n' "${t_miss[@]}" | bench_stats)
read -r h_m h_lo h_hi < <(printf '%s\n' "${t_hit[@]}" | bench_stats)
read -r c_m c_lo c_hi < <(printf '%s\n' "${t_chg[@]}" | bench_stats)
echo "## Batch workflow: $n jobs of 100 ms through xargs -P2"
echo
echo "\`shared/workloads/gen-batch.sh DIR $n 100\`, then from DIR:"
echo
echo '```'
echo "ls inputs | xargs -P2 -I{} ./job.sh inputs/{} outputs/{}.out                   # bare"
echo "ls inputs | xargs -P2 -I{} procache run -- ./job.sh inputs/{} outputs/{}.out    # procache"
echo '```'
echo
echo "All miss: a fresh cache each run ($runs runs). All hit: outputs/ emptied first, so"
echo "every hit writes its file ($hruns runs). One input changed: a different input file"
echo "gets a line appended before each run ($runs runs). Each phase's hit and miss counts"
echo "were checked exactly (\`procache cache stats\`), and the outputs compared with the bare run's."
echo "Bare: $runs runs$([ -n "$QUICK" ] || echo " after a warm-up")."
echo
echo "| phase | median s | min s | max s | / bare | per job ms |"
echo "|---|---|---|---|---|---|"
row() { printf '| %s | %.2f | %.2f | %.2f | %s | %.1f |\n' "$1" "$2" "$3" "$4" "$(bench_ratio "$2" "$b_m")" "$(awk -v t="$2" -v n="$n" 'BEGIN { print t * 2000 / n }')"; }
row "bare" "$b_m" "$b_lo" "$b_hi"
row "procache, all miss" "$m_m" "$m_lo" "$m_hi"
row "procache, all hit" "$h_m" "$h_lo" "$h_hi"
row "procache, one input changed" "$c_m" "$c_lo" "$c_hi"
echo
echo "(per job: the wall time of a job slot, median x 2 / jobs, as 2 run at once.)"
echo
echo "All hit is $(bench_ratio "$b_m" "$h_m")x faster than bare; one changed input $(bench_ratio "$b_m" "$c_m")x;"
echo "the misses cost $(bench_ratio "$m_m" "$b_m")x bare."
echo
bench_target "batch, all hit / bare (20x faster is 0.05)" "$(awk -v h="$h_m" -v b="$b_m" 'BEGIN { printf "%.3f", h / b }')" 0.05

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
# expect PHASE HITS MISSES: the counters since the last check. A mismatch
# is a finding, reported in the section (and on stderr), not hidden.
anomalies=$BENCH_SCRATCH/anomalies
: >"$anomalies"
expect() {
	local h m u
	h=$(bench_pc_stat hits) m=$(bench_pc_stat misses) u=$(bench_pc_stat uncacheable)
	if [ "$h" != "$2" ] || [ "$m" != "$3" ]; then
		echo "- $1: $h hits, $m misses, $u uncacheable; expected $2 hits and $3 misses." \
			"Uncacheable reasons: $("$PROCACHE" cache stats --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["uncacheable_reasons"])')" >>"$anomalies"
		"$PROCACHE" cache stats >&2
	fi
	"$PROCACHE" cache stats --zero >/dev/null
}
# same_outputs PHASE: outputs/ against the bare run's.
same_outputs() {
	diff -r "$BENCH_SCRATCH/expected" outputs >"$BENCH_SCRATCH/diff" 2>&1 ||
		echo "- $1: outputs differ from the bare run's: $(grep -c . "$BENCH_SCRATCH/diff") lines of diff -r, e.g. \`$(head -1 "$BENCH_SCRATCH/diff")\`" >>"$anomalies"
}

# bare, after a warm-up run (QUICK: no warm-up but the generator's)
[ -n "$QUICK" ] || bare
t_bare=()
for ((i = 0; i < runs; i++)); do t_bare+=("$(elapsed bare)"); done
cp -a outputs "$BENCH_SCRATCH/expected"

# The floor of any per-job wrapper on this machine: xargs starting a static
# program that does nothing, once per job (what a hit can at best cost).
printf 'int main(void) { return 0; }\n' >"$BENCH_SCRATCH/noop.c"
cc -O2 -static -o "$BENCH_SCRATCH/noop" "$BENCH_SCRATCH/noop.c"
floor() { ls inputs | xargs -P2 -I{} "$BENCH_SCRATCH/noop" inputs/{} outputs/{}.out; }
floor
t_floor=()
for ((i = 0; i < hruns; i++)); do t_floor+=("$(elapsed floor)"); done

t_miss=() t_hit=() t_chg=()
for ((i = 0; i < runs; i++)); do
	export PROCACHE_DIR=$BENCH_SCRATCH/cache.$i
	rm -rf outputs && mkdir outputs
	t_miss+=("$(elapsed pc)")
	expect "all miss, run $((i + 1))" 0 "$n"
	same_outputs "all miss, run $((i + 1))"
done
for ((i = 0; i < hruns; i++)); do
	rm -rf outputs && mkdir outputs	# every hit writes its output
	t_hit+=("$(elapsed pc)")
	expect "all hit, run $((i + 1))" "$n" 0
	same_outputs "all hit, run $((i + 1))"
done
for ((i = 0; i < runs; i++)); do
	f=$(ls inputs | sed -n "$((i + 1))p")
	echo "ACGT" >>"inputs/$f"	# one input changed
	t_chg+=("$(elapsed pc)")
	expect "one input changed, run $((i + 1))" $((n - 1)) 1
done

read -r b_m b_lo b_hi < <(printf '%s\n' "${t_bare[@]}" | bench_stats)
read -r m_m m_lo m_hi < <(printf '%s\n' "${t_miss[@]}" | bench_stats)
read -r h_m h_lo h_hi < <(printf '%s\n' "${t_hit[@]}" | bench_stats)
read -r c_m c_lo c_hi < <(printf '%s\n' "${t_chg[@]}" | bench_stats)
read -r f_m f_lo f_hi < <(printf '%s\n' "${t_floor[@]}" | bench_stats)
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
echo "were checked (\`procache cache stats\`), and the outputs compared with the bare run's;"
echo "any difference is listed below the table."
echo "Bare: $runs runs$([ -n "$QUICK" ] || echo " after a warm-up")."
echo
echo "| phase | median s | min s | max s | / bare | per job ms |"
echo "|---|---|---|---|---|---|"
row() { printf '| %s | %.2f | %.2f | %.2f | %s | %.1f |\n' "$1" "$2" "$3" "$4" "$(bench_ratio "$2" "$b_m")" "$(awk -v t="$2" -v n="$n" 'BEGIN { print t * 2000 / n }')"; }
row "bare" "$b_m" "$b_lo" "$b_hi"
row "procache, all miss" "$m_m" "$m_lo" "$m_hi"
row "procache, all hit" "$h_m" "$h_lo" "$h_hi"
row "procache, one input changed" "$c_m" "$c_lo" "$c_hi"
row "floor: a static no-op program per job" "$f_m" "$f_lo" "$f_hi"
echo
echo "(per job: the wall time of a job slot, median x 2 / jobs, as 2 run at once.)"
echo
echo "The floor row is \`xargs -P2\` starting a statically linked \`int main(void) { return 0; }\`"
echo "per job ($hruns runs): the least any per-job wrapper can cost here, whatever it does."
echo "With it, no tool can be more than $(bench_ratio "$b_m" "$f_m")x faster than bare on this machine;"
echo "procache's all-hit run spends $(bench_ratio "$h_m" "$f_m")x the floor."
echo
echo "All hit is $(bench_ratio "$b_m" "$h_m")x faster than bare; one changed input $(bench_ratio "$b_m" "$c_m")x;"
echo "the misses cost $(bench_ratio "$m_m" "$b_m")x bare."
echo
if [ -s "$anomalies" ]; then
	echo "**Anomalies in this run** (each is a finding; the timings above include them):"
	echo
	cat "$anomalies"
	echo
fi
bench_target "batch, all hit / bare (20x faster is 0.05)" "$(awk -v h="$h_m" -v b="$b_m" 'BEGIN { printf "%.3f", h / b }')" 0.05

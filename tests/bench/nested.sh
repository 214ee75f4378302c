#!/usr/bin/env bash
# Nested caching (issue 19): a 300-job pipeline (shared/workloads/
# gen-batch.sh DIR 300 100, one process per job of ~100 ms) wrapped whole
# in one `procache run --nested`, against bare and against the same jobs
# wrapped one by one under `xargs -P2`.
#   bare            the pipeline alone
#   all miss        a fresh cache and --refresh: every unit runs and is
#                   stored (without --refresh, every `sleep 0.1` after the
#                   first is skipped: one key, time out of the model)
#   whole-job hit   nothing changed: the outer entry hits
#   all skipped     a file only the outer script reads changed: the outer
#                   job runs, every job.sh unit is skipped
#   one changed     one input changed: one unit runs, the rest are skipped
#   floor           the bare pipeline with job.sh a static program that
#                   exits at once: what creating the jobs costs (xargs -P2,
#                   fork, exec), which no skip can save; a skip's cost is
#                   (all skipped - floor) / jobs
# Every procache phase's unit counts (-v's "nested:" line) and outputs are
# checked against what it should give; a mismatch is listed as an anomaly.
#   QUICK=1: 60 jobs, 1 run a phase.
. "$(dirname "$0")/lib.sh"
set -e
n=$([ -n "$QUICK" ] && echo 60 || echo 300)
runs=$(bench_runs 3 1)
gen=${WORKLOADS:-$BENCH_TOP/../shared/workloads}/gen-batch.sh
[ -f "$gen" ] || gen=/work/shared/workloads/gen-batch.sh
trap bench_cleanup EXIT
w=$BENCH_SCRATCH/nested
cp "$gen" "$BENCH_SCRATCH/gen-batch.sh"
bash "$BENCH_SCRATCH/gen-batch.sh" "$w" "$n" 100 >/dev/null
cat >"$w/pipeline.sh" <<'EOF'
#!/bin/sh
# The outer job's own observation: a builtin read, in no unit.
read -r stamp <stamp
ls inputs | xargs -P2 -I{} ./job.sh inputs/{} outputs/{}.out
EOF
chmod +x "$w/pipeline.sh"
echo 0 >"$w/stamp"
# the floor's copy: the same inputs and pipeline, job.sh a static no-op
fl=$BENCH_SCRATCH/floor
mkdir -p "$fl/outputs"
cp -r "$w/inputs" "$w/pipeline.sh" "$w/stamp" "$fl/"
printf '%s\n' 'void _start(void) { __asm__ volatile("mov $60, %eax; xor %edi, %edi; syscall"); }' >"$BENCH_SCRATCH/noop.c"
if ${CC:-cc} -O2 -static -nostdlib -o "$fl/job.sh" "$BENCH_SCRATCH/noop.c" 2>/dev/null; then
	floor_what="a static program of one system call (exit)"
else
	cp "$(command -v true)" "$fl/job.sh"
	floor_what="\`true\` (no C compiler for a static one)"
fi
find "$w" -exec touch -d "1 hour ago" {} +
sleep 2.2	# the stat cache trusts files whose mtime and ctime are 2 s old
cd "$w"

elapsed() { local s e; s=$(date +%s%N); "$@"; e=$(date +%s%N); awk -v d=$((e - s)) 'BEGIN { print d / 1e9 }'; }
bare() { ./pipeline.sh; }
floor() { (cd "$fl" && ./pipeline.sh); }
nested() { "$PROCACHE" run -v --nested "$@" -- ./pipeline.sh 2>"$BENCH_SCRATCH/nested.err"; }
each() { ls inputs | xargs -P2 -I{} "$PROCACHE" run -- ./job.sh inputs/{} outputs/{}.out; }
anomalies=$BENCH_SCRATCH/anomalies
: >"$anomalies"
# at_least PHASE: job.sh units: RUN >= $2 and SKIPPED >= $3 (the inner
# tr, sort... units and ls add to the counts).
at_least() {
	local r s
	r=$(sed -n 's/.*nested: \([0-9]*\) units run, \([0-9]*\) skipped.*/\1/p' "$BENCH_SCRATCH/nested.err" | tail -1)
	s=$(sed -n 's/.*nested: \([0-9]*\) units run, \([0-9]*\) skipped.*/\2/p' "$BENCH_SCRATCH/nested.err" | tail -1)
	if [ -z "$r" ] || [ "$r" -lt "$2" ] || [ "$s" -lt "$3" ]; then
		echo "- $1: expected at least $2 units run and $3 skipped; -v said $(grep 'nested:' "$BENCH_SCRATCH/nested.err" | tail -1)" >>"$anomalies"
	fi
}
same_outputs() {
	diff -r "$BENCH_SCRATCH/expected" outputs >"$BENCH_SCRATCH/diff" 2>&1 ||
		echo "- $1: outputs differ from the bare run's: $(grep -c . "$BENCH_SCRATCH/diff") lines of diff -r" >>"$anomalies"
}

[ -n "$QUICK" ] || bare
t_bare=() t_floor=()
floor
for ((i = 0; i < runs; i++)); do
	t_bare+=("$(elapsed bare)")
	t_floor+=("$(elapsed floor)")
done
cp -a outputs "$BENCH_SCRATCH/expected"

t_miss=() t_whole=() t_skip=() t_chg=() t_each=() skip_phases=()
for ((i = 0; i < runs; i++)); do
	export PROCACHE_DIR=$BENCH_SCRATCH/cache.$i
	rm -rf outputs && mkdir outputs
	t_miss+=("$(elapsed nested --refresh)")
	at_least "all miss, run $((i + 1))" "$n" 0
	same_outputs "all miss, run $((i + 1))"
done
for ((i = 0; i < runs; i++)); do
	t_whole+=("$(elapsed nested)")
	grep -q '^procache: hit,' "$BENCH_SCRATCH/nested.err" ||
		echo "- whole-job hit, run $((i + 1)): not a hit: $(tail -1 "$BENCH_SCRATCH/nested.err")" >>"$anomalies"
done
for ((i = 0; i < runs; i++)); do
	echo "$((i + 1))" >stamp
	rm -rf outputs && mkdir outputs
	t_skip+=("$(elapsed nested)")
	at_least "all skipped, run $((i + 1))" 0 "$n"
	same_outputs "all skipped, run $((i + 1))"
	# -v's means of the supervisor's phases per skipped unit
	phases=$(sed -n 's/.*nested: a skipped unit took //p' "$BENCH_SCRATCH/nested.err" | tail -1)
	[ -z "$phases" ] || skip_phases+=("$phases")
	t_floor+=("$(elapsed floor)")
done
for ((i = 0; i < runs; i++)); do
	f=$(ls inputs | sed -n "$((i + 1))p")
	echo "ACGT" >>"inputs/$f"
	t_chg+=("$(elapsed nested)")
	at_least "one input changed, run $((i + 1))" 1 $((n - 1))
done
# the same jobs wrapped one by one, one input changed (a warm cache first)
export PROCACHE_DIR=$BENCH_SCRATCH/cache.each
each
for ((i = 0; i < runs; i++)); do
	f=$(ls inputs | sed -n "$((i + 4))p")
	echo "ACGT" >>"inputs/$f"
	t_each+=("$(elapsed each)")
done

read -r b_m b_lo b_hi < <(printf '%s\n' "${t_bare[@]}" | bench_stats)
read -r f_m f_lo f_hi < <(printf '%s\n' "${t_floor[@]}" | bench_stats)
read -r m_m m_lo m_hi < <(printf '%s\n' "${t_miss[@]}" | bench_stats)
read -r w_m w_lo w_hi < <(printf '%s\n' "${t_whole[@]}" | bench_stats)
read -r s_m s_lo s_hi < <(printf '%s\n' "${t_skip[@]}" | bench_stats)
read -r c_m c_lo c_hi < <(printf '%s\n' "${t_chg[@]}" | bench_stats)
read -r e_m e_lo e_hi < <(printf '%s\n' "${t_each[@]}" | bench_stats)
echo "## Nested caching: a $n-job pipeline wrapped whole"
echo
echo "\`shared/workloads/gen-batch.sh DIR $n 100\`, and in DIR a \`pipeline.sh\` that reads"
echo "a file \`stamp\` with the shell's builtin \`read\` (the outer job's own observation),"
echo "then runs the jobs:"
echo
echo '```'
echo "ls inputs | xargs -P2 -I{} ./job.sh inputs/{} outputs/{}.out"
echo '```'
echo
echo "| phase | median s | min s | max s | / bare |"
echo "|---|---|---|---|---|"
row() { printf '| %s | %.2f | %.2f | %.2f | %s |\n' "$1" "$2" "$3" "$4" "$(bench_ratio "$2" "$b_m")"; }
row "bare \`./pipeline.sh\`" "$b_m" "$b_lo" "$b_hi"
row "floor: bare, job.sh a static no-op" "$f_m" "$f_lo" "$f_hi"
row "\`procache run --nested\`, all miss" "$m_m" "$m_lo" "$m_hi"
row "\`procache run --nested\`, nothing changed (whole-job hit)" "$w_m" "$w_lo" "$w_hi"
row "\`procache run --nested\`, stamp changed (every job skipped)" "$s_m" "$s_lo" "$s_hi"
row "\`procache run --nested\`, one input changed" "$c_m" "$c_lo" "$c_hi"
row "jobs wrapped one by one (\`xargs -P2 procache run\`), one input changed" "$e_m" "$e_lo" "$e_hi"
echo
per_skip=$(awk -v s="$s_m" -v f="$f_m" -v n="$n" 'BEGIN { printf "%.2f", (s - f) * 1000 / n }')
echo "$runs runs a phase (the floor's runs: ${#t_floor[@]}, beside bare's and the all-skipped"
echo "runs); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg). The floor's job.sh is"
echo "$floor_what. One input changed is $(bench_ratio "$b_m" "$c_m")x faster than bare"
echo "(target 20x); all miss costs $(bench_ratio "$m_m" "$b_m")x bare (target 1.15x). A skipped"
echo "job costs $per_skip ms of wall time above the floor ((all skipped - floor) / $n jobs: the"
echo "outer run's own start, lookup and store included; target 2 ms), and"
echo "$(awk -v t="$s_m" -v n="$n" 'BEGIN { printf "%.2f", t * 2000 / n }') ms of a job slot in all (the all-skipped median x 2 / jobs)."
echo
if [ ${#skip_phases[@]} -gt 0 ]; then
	echo "Where the supervisor's time for a skipped unit went (\`-v\`'s means, ms, each"
	echo "all-skipped run; \`-vv\` says it per unit; \`exec\` is the program's own exec in its"
	echo "caller, the tracer's lock let go meanwhile):"
	echo
	printf -- '- %s\n' "${skip_phases[@]}"
	echo
fi
if [ -s "$anomalies" ]; then
	echo "**Anomalies in this run** (each is a finding; the timings above include them):"
	echo
	cat "$anomalies"
	echo
fi
bench_target "nested, one input changed / bare (20x faster is 0.05)" "$(awk -v c="$c_m" -v b="$b_m" 'BEGIN { printf "%.3f", c / b }')" 0.05
bench_target "nested, all miss / bare" "$(awk -v m="$m_m" -v b="$b_m" 'BEGIN { printf "%.3f", m / b }')" 1.15
bench_target "nested, ms per skipped job above the floor" "$per_skip" 2

#!/usr/bin/env bash
# The tracer's cost on a 60-file `make -j2` C build (shared/workloads):
# bare, under bubblewrap, in the sandbox untraced (--no-trace), traced
# with the fast path (DESIGN.md §3.1) and with it forced off
# (PROCACHE_FAST_PATH=0), and under `strace -f -e trace=%file`. The
# variants are alternated run by run (one round runs each once, in
# order), so that a change of load on the machine falls on all of them;
# medians of RUNS rounds after one warm-up round. Then the notifications
# and fast-path records of one traced build each way (procache -v).
#   QUICK=1: 6 files, 3 rounds.
. "$(dirname "$0")/lib.sh"
set -e
runs=$(bench_runs 9 3)
nsrc=$([ -n "$QUICK" ] && echo 6 || echo 60)
gen=${WORKLOADS:-$BENCH_TOP/../shared/workloads}/gen-c-project.sh
[ -f "$gen" ] || gen=/work/shared/workloads/gen-c-project.sh
proj=$BENCH_SCRATCH/proj
# The generator is copied into the scratch directory and run there: no
# generated code in the tree.
cp "$gen" "$BENCH_SCRATCH/gen-c-project.sh"
bash "$BENCH_SCRATCH/gen-c-project.sh" "$proj" "$nsrc" >/dev/null
trap bench_cleanup EXIT
export PROCACHE_DIR=$BENCH_SCRATCH/cache
cd "$proj"

# One build of each variant: `make clean`, then the build under it.
v_bare() { make -s -j2; }
v_bwrap() { bwrap --unshare-all --ro-bind / / --bind "$proj" "$proj" --dev /dev \
	--proc /proc --tmpfs /tmp --chdir "$proj" make -s -j2; }
v_untraced() { "$PROCACHE" run --no-cache --no-trace --output "$proj" -- make -s -j2; }
v_fast() { PROCACHE_FAST_PATH=1 "$PROCACHE" run --no-cache --output "$proj" -- make -s -j2; }
v_slow() { PROCACHE_FAST_PATH=0 "$PROCACHE" run --no-cache --output "$proj" -- make -s -j2; }
v_strace() { strace -f -e trace=%file -o /dev/null make -s -j2; }
variants="bare bwrap untraced fast slow strace"
declare -A label=(
	[bare]="bare: \`make -j2\`"
	[bwrap]="\`bwrap --unshare-all --ro-bind / / --bind PROJ PROJ --dev /dev --proc /proc --tmpfs /tmp -- make -j2\`"
	[untraced]="\`procache run --no-cache --no-trace -- make -j2\` (the sandbox alone)"
	[fast]="\`procache run --no-cache -- make -j2\` (traced, with the fast path)"
	[slow]="\`PROCACHE_FAST_PATH=0 procache run --no-cache -- make -j2\` (traced, notified only)"
	[strace]="\`strace -f -e trace=%file -o /dev/null make -j2\`"
)
for v in $variants; do : >"$BENCH_SCRATCH/t.$v"; done
for ((i = 0; i <= runs; i++)); do	# round 0: the warm-up
	for v in $variants; do
		make -s clean >/dev/null 2>&1 || true
		bench_sample "$BENCH_SCRATCH/t.$v" "$((i > 0))" -- "v_$v"
	done
done
declare -A med
echo "## Tracer cost on a $nsrc-file C build (make -j2)"
echo
echo "The project of \`shared/workloads/gen-c-project.sh DIR $nsrc\`. Each row: \`make clean\`,"
echo "then the build under the command shown. The variants alternate run by run; medians"
echo "of $runs rounds after a warm-up round."
echo
echo '| variant | median ms | min ms | max ms |'
echo '|---|---|---|---|'
for v in $variants; do
	read -r m lo hi < <(bench_stats <"$BENCH_SCRATCH/t.$v")
	med[$v]=$(awk -v m="$m" 'BEGIN { printf "%.6f", m / 1e6 }')
	awk -v l="${label[$v]}" -v m="$m" -v lo="$lo" -v hi="$hi" \
		'BEGIN { printf "| %s | %.1f | %.1f | %.1f |\n", l, m / 1e3, lo / 1e3, hi / 1e3 }'
done
echo
echo "| pair | ratio |"
echo "|---|---|"
echo "| traced (fast path) / untraced sandbox: the tracer alone | $(bench_ratio "${med[fast]}" "${med[untraced]}") |"
echo "| traced (fast path) / bubblewrap | $(bench_ratio "${med[fast]}" "${med[bwrap]}") |"
echo "| traced (notified only) / untraced sandbox | $(bench_ratio "${med[slow]}" "${med[untraced]}") |"
echo "| traced (fast path) / bare | $(bench_ratio "${med[fast]}" "${med[bare]}") |"
echo "| traced (fast path) / strace | $(bench_ratio "${med[fast]}" "${med[strace]}") |"
echo "| untraced sandbox / bare: the sandbox alone | $(bench_ratio "${med[untraced]}" "${med[bare]}") |"
echo "| bubblewrap / bare | $(bench_ratio "${med[bwrap]}" "${med[bare]}") |"
echo
bench_target "tracer on the C build, traced / untraced sandbox" \
	"$(bench_ratio "${med[fast]}" "${med[untraced]}")" 1.10

# Where the tracer's time goes: one traced build each way, with -v (the
# tracer's counts and procache's own CPU time) and -vv (notifications by
# system call).
count() {
	make -s clean >/dev/null 2>&1 || true
	PROCACHE_FAST_PATH=$1 "$PROCACHE" run -vv --no-cache --output "$proj" -- make -s -j2 \
		2>"$BENCH_SCRATCH/v.$1" >/dev/null
}
count 1
count 0
field() { sed -n "s/^procache: trace: \([0-9]*\) notifications, \([0-9]*\) fast-path records, \([0-9]*\) .*/\\$2/p" "$BENCH_SCRATCH/v.$1"; }
cpu() { sed -n "s/^procache: run: procache's own CPU time: \(.*\)/\1/p" "$BENCH_SCRATCH/v.$1"; }
echo
echo "One build each way, \`procache run -vv\`: what reaches the tracer, and procache's own"
echo "CPU time (the supervisor: the tracer's threads, the sandbox, the final checks)."
echo
echo "| | notifications | fast-path records | calls notified for want of a slot | procache's CPU |"
echo "|---|---|---|---|---|"
echo "| fast path | $(field 1 1) | $(field 1 2) | $(field 1 3) | $(cpu 1) |"
echo "| fast path forced off | $(field 0 1) | $(field 0 2) | $(field 0 3) | $(cpu 0) |"
echo
echo "Notified calls of the build by system call, with the fast path and without:"
echo
echo "| system call | fast path | forced off |"
echo "|---|---|---|"
for f in 1 0; do
	sed -n 's/^procache: debug: trace: notified \([a-z0-9_]*\): \([0-9]*\)$/\1 \2/p' \
		"$BENCH_SCRATCH/v.$f" >"$BENCH_SCRATCH/n.$f"
done
sort -u -k1,1 "$BENCH_SCRATCH/n.1" "$BENCH_SCRATCH/n.0" | awk '{ print $1 }' |
while read -r sc; do
	a=$(awk -v s="$sc" '$1 == s { print $2 }' "$BENCH_SCRATCH/n.1")
	b=$(awk -v s="$sc" '$1 == s { print $2 }' "$BENCH_SCRATCH/n.0")
	echo "$((${b:-0})) $sc ${a:-0} ${b:-0}"
done | sort -rn | awk '{ printf "| %s | %s | %s |\n", $2, $3, $4 }'
echo
echo "With the fast path, what is left notified is mostly ld.so's opens of the"
echo "libraries it loads (before the preload library is there), every execve that"
echo "runs a program (a PATH probe that finds nothing fails in the library: DESIGN.md"
echo "§3.1, failed execs) and every write; the records are the lookups the tracer had"
echo "not seen yet (a repeat is not published: DESIGN.md §3.1, the seen table)."

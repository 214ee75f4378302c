#!/usr/bin/env bash
# A batch rerun in place (issue 16): 300 clustalo alignments through
# `xargs -P2`, each job `clustalo -i inputs/X.fa -o outputs/X.aln --force`,
# run three times in the same tree with nothing changed in between: a
# fresh cache (all miss), then twice more. clustalo opens its output
# read-only before writing it, so the first run records "absent" and,
# without --declare-output, the second run (which finds the first's
# output there) misses for every job. With --declare-output the output
# is hidden from the job's view on every run, and the second run hits.
# Hits and misses are counted with `procache cache stats`; the outputs are
# compared with a bare run's.
#   QUICK=1: 60 jobs.
. "$(dirname "$0")/lib.sh"
set -e
command -v clustalo >/dev/null || { echo "## In-place rerun"; echo; echo "(clustalo missing: apt-get install clustalo)"; exit 0; }
n=$([ -n "$QUICK" ] && echo 60 || echo 300)
gen=${WORKLOADS:-$BENCH_TOP/../shared/workloads}/gen-batch.sh
[ -f "$gen" ] || gen=/work/shared/workloads/gen-batch.sh
w=$BENCH_SCRATCH/inplace
cp "$gen" "$BENCH_SCRATCH/gen-batch.sh"
# gen-batch.sh makes single sequences of 1200 bases; the first 180 bases
# of three make one alignment's input (a second of clustalo, not ten).
bash "$BENCH_SCRATCH/gen-batch.sh" "$BENCH_SCRATCH/seqs" $((3 * n)) 0 >/dev/null
mkdir -p "$w/inputs"
ls "$BENCH_SCRATCH/seqs/inputs" | paste - - - | while read -r a b c; do
	(cd "$BENCH_SCRATCH/seqs/inputs" && for f in "$a" "$b" "$c"; do head -4 "$f"; done) >"$w/inputs/${a%.fa}.fa"
done
find "$w" -exec touch -d "1 hour ago" {} +
sleep 2.2	# the stat cache trusts files whose mtime and ctime are 2 s old
cd "$w"

job() { echo "clustalo -i inputs/{} -o outputs/{}.aln --force"; }
bare() { ls inputs | xargs -P2 -I{} clustalo -i inputs/{} -o outputs/{}.aln --force; }
pc() { ls inputs | xargs -P2 -I{} "$PROCACHE" run "$@" -- clustalo -i inputs/{} -o outputs/{}.aln --force; }
elapsed() { local s e; s=$(date +%s%N); "$@"; e=$(date +%s%N); awk -v d=$((e - s)) 'BEGIN { printf "%.2f", d / 1e9 }'; }
counts() { echo "$(bench_pc_stat hits) $(bench_pc_stat misses) $(bench_pc_stat uncacheable)"; "$PROCACHE" cache stats --zero >/dev/null; }
anomalies=$BENCH_SCRATCH/anomalies
: >"$anomalies"
same_outputs() {
	diff -r "$BENCH_SCRATCH/expected" outputs >/dev/null 2>&1 ||
		echo "- $1: outputs differ from the bare run's" >>"$anomalies"
}

rm -rf outputs && mkdir outputs
bare
rm -rf outputs && mkdir outputs
t_bare=$(elapsed bare)
cp -a outputs "$BENCH_SCRATCH/expected"

declare_ok=
"$PROCACHE" run --help | grep -q -- --declare-output && declare_ok=1
rows=()
for mode in plain declared; do
	[ $mode = declared ] && [ -z "$declare_ok" ] && continue
	opts=()
	[ $mode = declared ] && opts=(--declare-output 'outputs/{}.aln')
	export PROCACHE_DIR=$BENCH_SCRATCH/cache.$mode
	rm -rf outputs && mkdir outputs
	for run in 1 2 3; do
		t=$(elapsed pc "${opts[@]}")
		read -r h m u < <(counts)
		same_outputs "$mode, run $run"
		rows+=("| $([ $mode = declared ] && echo "\`--declare-output outputs/X.aln\`" || echo "no option") | $run$([ $run = 1 ] && echo " (fresh cache)" || echo " (in place, nothing changed)") | $h | $m | $u | $t | $(bench_ratio "$t" "$t_bare") |")
	done
done

echo "## In-place rerun: $n clustalo jobs through xargs -P2"
echo
echo "\`shared/workloads/gen-batch.sh DIR $((3 * n)) 0\` makes the sequences; the first 180"
echo "bases of three make one input. Then, from the tree, three times in a row with nothing changed:"
echo
echo '```'
echo "ls inputs | xargs -P2 -I{} procache run [--declare-output 'outputs/{}.aln'] -- $(job)"
echo '```'
echo
echo "The first run starts from an empty outputs/ and a fresh cache; the next two"
echo "rerun in place. Bare (\`$(job)\` per input): $t_bare s."
echo
echo "| option | run | hits | misses | uncacheable | s | / bare |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "clustalo opens its output read-only (and then for appending) before it"
echo "truncates it: a run from an empty outputs/ records that the output is absent,"
echo "and the next run, which finds the first one's output there, misses. With"
echo "\`--declare-output\` the output is hidden from the job's view on every run,"
echo "so every run observes the same absence."
echo
if [ -s "$anomalies" ]; then
	echo "**Anomalies in this run:**"
	echo
	cat "$anomalies"
	echo
fi

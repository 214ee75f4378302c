#!/usr/bin/env bash
# Issue 22's closing figures: the 300-input batch of
# shared/workloads/gen-batch.sh (jobs of ~100 ms) through `xargs -P2`,
# side by side: bare, all miss (fresh cache), all hit in place (the
# outputs of the miss still there: a rerun of the same batch), and one
# input changed. Each procache phase is its own batch (PROCACHE_BATCH),
# and its counts come from `procache cache batch`, as a user would read
# them; the run directories left behind are counted too.
#   QUICK=1: 60 inputs.
. "$(dirname "$0")/lib.sh"
set -e
n=$([ -n "$QUICK" ] && echo 60 || echo 300)
gen=${WORKLOADS:-$BENCH_TOP/../shared/workloads}/gen-batch.sh
[ -f "$gen" ] || gen=/work/shared/workloads/gen-batch.sh
trap bench_cleanup EXIT
w=$BENCH_SCRATCH/batch-pipeline
cp "$gen" "$BENCH_SCRATCH/gen-batch.sh"
bash "$BENCH_SCRATCH/gen-batch.sh" "$w" "$n" 100 >/dev/null
find "$w" -exec touch -d "1 hour ago" {} +
sleep 2.2	# the stat cache trusts files whose mtime and ctime are 2 s old
cd "$w"
export PROCACHE_DIR=$BENCH_SCRATCH/cache

bare() { ls inputs | xargs -P2 -I{} ./job.sh inputs/{} outputs/{}.out; }
pc() { ls inputs | PROCACHE_BATCH=$1 xargs -P2 -I{} "$PROCACHE" run -- ./job.sh inputs/{} outputs/{}.out; }
elapsed() { local s e; s=$(date +%s%N); "$@"; e=$(date +%s%N); awk -v d=$((e - s)) 'BEGIN { print d / 1e9 }'; }
count() { "$PROCACHE" cache batch --json "$1" | sed -n "s/^[[:space:]]*\"$2\":[[:space:]]*\([0-9.]*\).*/\1/p"; }

bare	# warm-up
rm -rf outputs && mkdir outputs
t_bare=$(elapsed bare)
rm -rf outputs && mkdir outputs
t_miss=$(elapsed pc all-miss)
t_hit=$(elapsed pc all-hit-in-place)
echo "ACGT" >>"inputs/$(ls inputs | sed -n 7p)"
t_chg=$(elapsed pc one-input-changed)
# the last miss's teardown runs on after it exited (DESIGN.md §1)
for _ in $(seq 500); do ls -A "$PROCACHE_DIR/run" | grep -q '^\.trash-' || break; sleep 0.01; done
left=$(ls -A "$PROCACHE_DIR/run" | grep -vc '^\.clean-stamp$' || :)

echo "## Batch of $n inputs, as a pipeline reruns it (issue 22)"
echo
echo "\`shared/workloads/gen-batch.sh DIR $n 100\` through \`xargs -P2\`, bare and with"
echo "\`PROCACHE_BATCH=PHASE procache run -- ./job.sh ...\`, one run a phase, in this order;"
echo "all hit is a rerun with the outputs of the misses in place. Counts from"
echo "\`procache cache batch PHASE\`."
echo
echo "| phase | s | / bare | hits | misses | uncacheable | job time saved s |"
echo "|---|---|---|---|---|---|---|"
printf '| bare | %.2f | 1.00 | | | | |\n' "$t_bare"
for p in all-miss:$t_miss all-hit-in-place:$t_hit one-input-changed:$t_chg; do
	name=${p%%:*} t=${p#*:}
	printf '| %s | %.2f | %s | %s | %s | %s | %.1f |\n' "$name" "$t" "$(bench_ratio "$t" "$t_bare")" \
		"$(count "$name" hits)" "$(count "$name" misses)" "$(count "$name" uncacheable)" "$(count "$name" saved_s)"
done
echo
echo "Run directories left in the cache after the three phases: $left."
"$PROCACHE" cache stats | sed -n 's/^\(size\|on disk\) */- \1: /p'

#!/usr/bin/env bash
# A system-call-heavy job: stat() and read of 20,000 small files
# (tests/bench/bn-statread.c: a stat, an open, reads and a close per
# file, and the directory listings), bare, in the sandbox untraced and
# traced, under strace, and through the cache (a miss that stores 20,000
# content preconditions, then a hit that checks them all).
#   QUICK=1: 2,000 files, 3 runs.
. "$(dirname "$0")/lib.sh"
set -e
runs=$(bench_runs 7 3)
n=$([ -n "$QUICK" ] && echo 2000 || echo 20000)
drv=$PROCACHE_BUILD/tests/bench/bn-statread
[ -x "$drv" ] || make -s -C "$BENCH_TOP" "${drv#"$BENCH_TOP"/}" >&2
trap bench_cleanup EXIT
export PROCACHE_DIR=$BENCH_SCRATCH/cache
data=$BENCH_SCRATCH/files
python3 - "$data" "$n" <<'PY'
import os, sys
top, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = f"{top}/d{i // 100:03d}"
    if i % 100 == 0:
        os.makedirs(d)
    with open(f"{d}/f{i:05d}", "w") as f:
        f.write(("line %d\n" % i) * (1 + i % 50))
PY
# The stat cache trusts a file once its mtime and ctime are 2 s old.
find "$data" -exec touch -d "1 hour ago" {} +
sleep 2.2
cd "$BENCH_SCRATCH"
read -r files bytes < <("$drv" "$data")
[ "$files" = "$n" ] || { echo "bench: bn-statread read $files files, expected $n" >&2; exit 1; }

echo "## A system-call-heavy job: stat and read of $n files"
echo
echo "\`bn-statread DIR\` (tests/bench/bn-statread.c) over $n files ($((bytes / 1024)) KiB) in"
echo "$((n / 100)) directories: per file a \`stat()\`, an \`open()\`, reads, a \`close()\`."
echo "Medians of $runs runs after a warm-up."
echo
echo '| variant | median ms | min ms | max ms |'
echo '|---|---|---|---|'
bench_time bare "$runs" -- "$drv" "$data"
bare=$BENCH_MEDIAN; bench_row "bare: \`bn-statread DIR\`"
bench_time untraced "$runs" -- "$PROCACHE" run --no-cache --no-trace -- "$drv" "$data"
untraced=$BENCH_MEDIAN; bench_row "\`procache run --no-cache --no-trace -- bn-statread DIR\`"
bench_time traced "$runs" -- "$PROCACHE" run --no-cache -- "$drv" "$data"
traced=$BENCH_MEDIAN; bench_row "\`procache run --no-cache -- bn-statread DIR\` (traced)"
bench_time strace "$runs" -- strace -f -e trace=%file -o /dev/null "$drv" "$data"
strace_t=$BENCH_MEDIAN; bench_row "\`strace -f -e trace=%file -o /dev/null bn-statread DIR\`"
bench_time miss "$runs" -- "$PROCACHE" run --refresh -- "$drv" "$data"
miss=$BENCH_MEDIAN; bench_row "\`procache run --refresh -- bn-statread DIR\` (a miss: run, trace, store)"
"$PROCACHE" run --report "$BENCH_SCRATCH/hit.json" -- "$drv" "$data" >/dev/null
grep -q '"status":.*"hit"' "$BENCH_SCRATCH/hit.json" ||
	{ echo "bench: no hit for bn-statread:" >&2; cat "$BENCH_SCRATCH/hit.json" >&2; exit 1; }
bench_time hit "$runs" -- "$PROCACHE" run -- "$drv" "$data"
hit=$BENCH_MEDIAN; bench_row "\`procache run -- bn-statread DIR\` (a hit: check $n preconditions, replay)"
echo
echo "| pair | ratio |"
echo "|---|---|"
echo "| traced sandbox / untraced sandbox (the tracer alone) | $(bench_ratio "$traced" "$untraced") |"
echo "| traced sandbox / bare | $(bench_ratio "$traced" "$bare") |"
echo "| traced sandbox / strace | $(bench_ratio "$traced" "$strace_t") |"
echo "| strace / bare | $(bench_ratio "$strace_t" "$bare") |"
echo "| miss / traced sandbox (the store) | $(bench_ratio "$miss" "$traced") |"
echo "| hit / bare | $(bench_ratio "$hit" "$bare") |"
echo
per=$(awk -v t="$traced" -v u="$untraced" -v n="$n" 'BEGIN { printf "%.1f", (t - u) * 1e6 / n }')
echo "Tracer time per file: **$per µs** (two notified calls, stat and open, plus the"
echo "hash of the file opened and its content precondition)."

#!/usr/bin/env bash
# The tracer's cost on a 60-file `make -j2` C build (shared/workloads):
# bare, in the sandbox untraced (--no-trace), in the sandbox traced, and
# under `strace -f -e trace=%file` as the ptrace peer. Medians of RUNS
# clean builds, after one warm-up, in one run of this script. Then one
# `strace -f -c` build counts the system calls the job makes, joined with
# the tracer's table (sandbox/syscalls.c) to count the notifications.
#   QUICK=1: 6 files, 2 runs.
. "$(dirname "$0")/lib.sh"
set -e
runs=$(bench_runs 5 2)
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
build() { make -s clean >/dev/null 2>&1 || true; "$@" make -s -j2 >/dev/null; }

echo "## Tracer cost on a $nsrc-file C build (make -j2)"
echo
echo "The project of \`shared/workloads/gen-c-project.sh DIR $nsrc\`. Each row: \`make clean\`,"
echo "then the build under the command shown; medians of $runs runs after a warm-up."
echo
echo '| variant | median ms | min ms | max ms |'
echo '|---|---|---|---|'
bench_time bare "$runs" -- build env
bare=$BENCH_MEDIAN; bench_row "bare: \`make -j2\`"
bench_time untraced "$runs" -- build "$PROCACHE" run --no-cache --no-trace --output "$proj" --
untraced=$BENCH_MEDIAN; bench_row "\`procache run --no-cache --no-trace -- make -j2\`"
bench_time traced "$runs" -- build "$PROCACHE" run --no-cache --output "$proj" --
traced=$BENCH_MEDIAN; bench_row "\`procache run --no-cache -- make -j2\` (traced)"
bench_time strace "$runs" -- build strace -f -e trace=%file -o /dev/null
strace_t=$BENCH_MEDIAN; bench_row "\`strace -f -e trace=%file -o /dev/null make -j2\`"
echo
echo "| pair | ratio |"
echo "|---|---|"
echo "| traced sandbox / untraced sandbox (the tracer alone) | $(bench_ratio "$traced" "$untraced") |"
echo "| traced sandbox / bare | $(bench_ratio "$traced" "$bare") |"
echo "| traced sandbox / strace | $(bench_ratio "$traced" "$strace_t") |"
echo "| untraced sandbox / bare (the sandbox alone) | $(bench_ratio "$untraced" "$bare") |"
echo "| strace / bare | $(bench_ratio "$strace_t" "$bare") |"
echo
bench_target "tracer on the C build, traced / untraced sandbox" "$(bench_ratio "$traced" "$untraced")" 1.10

# Where the tracer's time goes: one build under `strace -f -c` counts the
# calls; the classes of sandbox/syscalls.c say which are notified (TRACED,
# TAINT and DENY are; PURE are not). Argument filters (ioctl, clone,
# sendto) let some calls of a notified name through, so this is an upper
# bound for those names.
make -s clean >/dev/null 2>&1 || true
strace -f -c -o "$BENCH_SCRATCH/counts" make -s -j2 >/dev/null
grep -oE '\{ "[a-z0-9_]+", TRACE_SC_[A-Z]+ \}' "$BENCH_TOP/sandbox/syscalls.c" |
	sed -E 's/\{ "([a-z0-9_]+)", TRACE_SC_([A-Z]+) \}/\1 \2/' >"$BENCH_SCRATCH/classes"
awk 'NR == FNR { cls[$1] = $2; next }
     /^ *[0-9.]+ +[0-9.]+ +[0-9]+ +[0-9]+/ {
	name = $NF; calls = $4
	if (name == "total") next
	c = (name in cls) ? cls[name] : "UNKNOWN"
	print calls, name, c
     }' "$BENCH_SCRATCH/classes" "$BENCH_SCRATCH/counts" | sort -rn >"$BENCH_SCRATCH/joined"
total=$(awk '{ s += $1 } END { print s + 0 }' "$BENCH_SCRATCH/joined")
notified=$(awk '$3 != "PURE" { s += $1 } END { print s + 0 }' "$BENCH_SCRATCH/joined")
echo
echo "System calls of one build (\`strace -f -c -o FILE make -j2\`): $total in all, $notified"
echo "of them notified to the tracer (a round trip to procache each: the job's"
echo "thread sleeps while procache reads its memory, resolves the path, records"
echo "the observation and hashes what was opened). Notified names, most frequent first:"
echo
echo "| system call | calls | class |"
echo "|---|---|---|"
awk '$3 != "PURE" { print "| " $2 " | " $1 " | " tolower($3) " |"; if (++n == 12) exit }' "$BENCH_SCRATCH/joined"
echo
per=$(awk -v t="$traced" -v u="$untraced" -v n="$notified" 'BEGIN { if (n > 0) printf "%.1f", (t - u) * 1e6 / n; else print "n/a" }')
echo "Tracer time per notification on this build: (traced - untraced) / notified = **$per µs**"
echo "(compare with the per-call cost measured in isolation in the next section; the rest is"
echo "hashing the files read and the store of the observations). The PURE calls (read, mmap,"
echo "close, fstat, ...) are not notified at all."

# The floor: the cheapest seccomp notification round trip on this machine
# (tests/bench/bn-notify-floor.c: no procache code, an answer with no
# work), and what it alone would add to this build.
fbin=$PROCACHE_BUILD/tests/bench/bn-notify-floor
[ -x "$fbin" ] || make -s -C "$BENCH_TOP" "${fbin#"$BENCH_TOP"/}" >&2
fline=$("$fbin" 50000)
set -- $fline	# floor: N calls, notified X us, plain Y us per call
floor_us=$5
cpus=$(nproc)
echo
echo "The floor: \`bn-notify-floor 50000\` (a 40-line C supervisor that answers each"
echo "notification at once, with SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) printed \`$fline\`."
echo "$notified notifications x $floor_us µs over $cpus CPUs is $(awk -v n="$notified" -v f="$floor_us" -v c="$cpus" -v u="$untraced" 'BEGIN { printf "%.0f%%", n * f / 1e6 / c / u * 100 }')"
echo "of the untraced build: what any seccomp-notification tracer would add to it here"
echo "before doing any work (the job's thread sleeps through two context switches per"
echo "call, and loses its caches and TLB to them)."

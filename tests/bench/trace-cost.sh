#!/usr/bin/env bash
# Cost of one notified system call, by kind, against the floor of the
# machine: N calls of one kind in a job (tests/helpers/tr-calls, raw
# system calls: always notified) traced, against the same job in the
# sandbox untraced; (traced - untraced) / N. The variants alternate run by
# run. Also one stat() through libc (tests/helpers/tr-fast): the fast
# path's cost per call (DESIGN.md §3.1), and the floor, a minimal
# supervisor that answers each notification at once
# (tests/bench/bn-notify-floor.c).
#   QUICK=1: fewer calls, 3 runs.
. "$(dirname "$0")/lib.sh"
set -e
runs=$(bench_runs 7 3)
n=$([ -n "$QUICK" ] && echo 5000 || echo 40000)
nexec=$([ -n "$QUICK" ] && echo 100 || echo 500)
tr=$PROCACHE_BUILD/tests/helpers/tr-calls
fast=$PROCACHE_BUILD/tests/helpers/tr-fast
floor=$PROCACHE_BUILD/tests/bench/bn-notify-floor
for b in "$tr" "$fast" "$floor"; do
	[ -x "$b" ] || make -s -C "$BENCH_TOP" "${b#"$BENCH_TOP"/}" >&2
done
trap bench_cleanup EXIT
export PROCACHE_DIR=$BENCH_SCRATCH/cache
cd "$BENCH_SCRATCH"
ln -s /usr/include/stdio.h link

# name calls command...
kinds=(
	"newfstatat|$n|$tr loop-stat $n /usr/include/stdio.h"
	"readlink|$n|$tr loop-readlink $n $BENCH_SCRATCH/link"
	"openat (and close)|$n|$tr loop-open $n /usr/include/stdio.h"
	"execve (fork, exec /bin/true, wait)|$nexec|$tr loop-exec $nexec /bin/true"
	"stat() through libc: the fast path|$n|$fast loop-stat $n /usr/include/stdio.h"
)
: >"$BENCH_SCRATCH/rows"
for k in "${kinds[@]}"; do
	IFS='|' read -r name calls cmd <<<"$k"
	: >"$BENCH_SCRATCH/u" && : >"$BENCH_SCRATCH/t"
	for ((i = 0; i <= runs; i++)); do
		for mode in u t; do
			args=(--no-cache)
			[ "$mode" = u ] && args+=(--no-trace)
			# shellcheck disable=SC2086 # cmd is words
			bench_sample "$BENCH_SCRATCH/$mode" "$((i > 0))" -- "$PROCACHE" run "${args[@]}" -- $cmd
		done
	done
	read -r um _ _ < <(bench_stats <"$BENCH_SCRATCH/u")
	read -r tm _ _ < <(bench_stats <"$BENCH_SCRATCH/t")
	awk -v n="$name" -v c="$calls" -v u="$um" -v t="$tm" \
		'BEGIN { printf "| %s | %d | %.1f | %.1f | %.2f |\n", n, c, u / 1e3, t / 1e3, (t - u) / c }' \
		>>"$BENCH_SCRATCH/rows"
done
: >"$BENCH_SCRATCH/f"
for ((i = 0; i < runs; i++)); do
	# "floor: N calls, notified X us, plain Y us per call": the round
	# trip is X - Y, as the kinds' rows are traced - untraced.
	set -- $("$floor" "$n")
	[ "$4" = notified ] && [ "$7" = plain ] ||
		{ echo "trace-cost: bn-notify-floor printed: $*" >&2; exit 1; }
	awk -v x="$5" -v y="$8" 'BEGIN { printf "%.3f\n", x - y }' >>"$BENCH_SCRATCH/f"
done
read -r fm flo fhi < <(bench_stats <"$BENCH_SCRATCH/f")

echo "## Cost per notified system call, by kind"
echo
echo "A job making N calls of one kind (\`tests/helpers/tr-calls loop-KIND N PATH\`: raw"
echo "system calls, always notified) run traced and untraced in the sandbox, alternately;"
echo "medians of $runs runs after a warm-up. The last row calls \`stat()\` through libc, which"
echo "the fast path records without a notification (after the first call the tracer has the"
echo "lookup already, and the library publishes nothing)."
echo
echo "| calls | N | untraced ms | traced ms | µs per call (traced - untraced) / N |"
echo "|---|---|---|---|---|"
cat "$BENCH_SCRATCH/rows"
echo
printf 'The floor, `bn-notify-floor %d` (a supervisor that answers each notification at\n' "$n"
printf 'once, with SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP): **%.1f µs** a notified call above a plain one (min %.1f,\n' "$fm" "$flo"
printf 'max %.1f, over %d runs). What a kind costs above it is procache'"'"'s own work: reading the\n' "$fhi" "$runs"
echo "path from the job's memory, the seen set (a repeated lookup), the walk and record of"
echo "a new one; for execve, the walk of the program and of its interpreter, read from its"
echo "ELF headers."

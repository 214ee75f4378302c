#!/usr/bin/env bash
# Cost of one notified system call: N stat() calls of one path under the
# tracer, against the same loop under a deny-only filter (not notified).
# Uses the tracer's own driver (build/tests/unit/test-trace, which forks,
# installs the filter and serves the listener without the sandbox).
#   QUICK=1: 20,000 calls, 3 runs (else 200,000 calls, 5 runs).
. "$(dirname "$0")/lib.sh"
set -e
n=$([ -n "$QUICK" ] && echo 20000 || echo 200000)
runs=$(bench_runs 5 3)
bin=$PROCACHE_BUILD/tests/unit/test-trace
[ -x "$bin" ] || make -s -C "$BENCH_TOP" "${bin#"$BENCH_TOP"/}" >&2
trap bench_cleanup EXIT
: >"$BENCH_SCRATCH/u" && : >"$BENCH_SCRATCH/t" && : >"$BENCH_SCRATCH/p"
for ((i = 0; i < runs; i++)); do
	line=$(TRACE_BENCH_N=$n PROCACHE_BUILD=$PROCACHE_BUILD "$bin" | grep '^# .* per notified call')
	# "# N stat calls: untraced U s, traced T s: P us per notified call"
	set -- $line
	echo "$6" >>"$BENCH_SCRATCH/u"
	echo "$9" >>"$BENCH_SCRATCH/t"
	echo "${11}" >>"$BENCH_SCRATCH/p"
	echo "$line" >>"$BENCH_SCRATCH/lines"
done
read -r u_m u_lo u_hi < <(bench_stats <"$BENCH_SCRATCH/u")
read -r t_m t_lo t_hi < <(bench_stats <"$BENCH_SCRATCH/t")
read -r p_m p_lo p_hi < <(bench_stats <"$BENCH_SCRATCH/p")
echo "## Cost per notified system call"
echo
echo "\`TRACE_BENCH_N=$n build/tests/unit/test-trace\` (test_cost_per_call): $n \`stat()\` calls"
echo "of one path, notified to the tracer, against the same loop under a filter that"
echo "notifies nothing; $runs runs:"
echo
echo "| | median | min | max |"
echo "|---|---|---|---|"
printf '| %d calls, not notified (s) | %.3f | %.3f | %.3f |\n' "$n" "$u_m" "$u_lo" "$u_hi"
printf '| %d calls, notified (s) | %.3f | %.3f | %.3f |\n' "$n" "$t_m" "$t_lo" "$t_hi"
printf '| µs per notified call | %.1f | %.1f | %.1f |\n' "$p_m" "$p_lo" "$p_hi"
echo
echo "A notification is two context switches to procache and back (the job's thread"
echo "sleeps meanwhile), the ioctls of the seccomp listener, a read of the path from the"
echo "job's memory, and the observation's bookkeeping."

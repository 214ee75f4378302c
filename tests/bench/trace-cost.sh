#!/usr/bin/env bash
# Cost of one notified system call: N stat() calls of one path under the
# tracer, against the same loop under a deny-only filter (not notified).
# Uses the tracer's own driver (build/tests/unit/test-trace, which forks,
# installs the filter and serves the listener without the sandbox).
. "$(dirname "$0")/lib.sh"
set -e
n=$([ -n "$QUICK" ] && echo 20000 || echo 200000)
bin=$PROCACHE_BUILD/tests/unit/test-trace
echo "## Cost per notified system call"
echo
echo "\`TRACE_BENCH_N=$n $bin\` (test_cost_per_call), three runs:"
echo
echo '```'
for i in 1 2 3; do
	TRACE_BENCH_N=$n PROCACHE_BUILD=$PROCACHE_BUILD "$bin" | grep '^# .* per notified call'
done
echo '```'

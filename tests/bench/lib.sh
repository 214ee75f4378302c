# tests/bench/lib.sh — shared by the benchmark scripts.
#
# A benchmark script prints a Markdown section on stdout (a "## " heading,
# the exact commands, and a table); tests/bench/run.sh collects them into
# docs/BENCHMARKS.md. Measurements are medians of repeated runs after a
# warm-up, with min and max, and ratios against peers measured in the same
# run — never absolute targets.
#
#   bench_time NAME RUNS -- CMD...    time CMD RUNS times (after 1 warm-up);
#                                     sets BENCH_MEDIAN BENCH_MIN BENCH_MAX (s)
#   bench_row NAME                    prints a table row for the last bench_time
#   bench_ratio A B                   prints A/B with two decimals
set -u
BENCH_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${PROCACHE:=$BENCH_TOP/procache}"
: "${PROCACHE_BUILD:=$BENCH_TOP/build}"
: "${QUICK:=}"
BENCH_SCRATCH=${BENCH_SCRATCH:-$BENCH_TOP/tests/trash/bench.$$}
mkdir -p "$BENCH_SCRATCH"

# runs: QUICK gives fewer repetitions.
bench_runs() { if [ -n "$QUICK" ]; then echo "${2:-3}"; else echo "${1:-10}"; fi; }

bench_time() {
	local name=$1 runs=$2
	shift 3
	local times=() i s e
	"$@" >/dev/null 2>&1 || { echo "bench: '$name' failed: $*" >&2; return 1; }
	for ((i = 0; i < runs; i++)); do
		s=$(date +%s%N)
		"$@" >/dev/null 2>&1 || { echo "bench: '$name' failed: $*" >&2; return 1; }
		e=$(date +%s%N)
		times+=($(((e - s) / 1000)))
	done
	read -r BENCH_MEDIAN BENCH_MIN BENCH_MAX < <(printf '%s\n' "${times[@]}" | sort -n | awk '
		{ v[NR] = $1 }
		END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      printf "%.6f %.6f %.6f\n", m / 1e6, v[1] / 1e6, v[NR] / 1e6 }')
	BENCH_NAME=$name
}

bench_ms() { awk -v s="$1" 'BEGIN { printf "%.2f", s * 1000 }'; }

bench_row() {
	printf '| %s | %s | %s | %s |\n' "${1:-$BENCH_NAME}" "$(bench_ms "$BENCH_MEDIAN")" \
		"$(bench_ms "$BENCH_MIN")" "$(bench_ms "$BENCH_MAX")"
}

bench_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

bench_cleanup() { chmod -R u+rwx "$BENCH_SCRATCH" 2>/dev/null; rm -rf "$BENCH_SCRATCH"; }

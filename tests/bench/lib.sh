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
# make passes PROCACHE_BUILD=build: relative to the top, whatever the cwd.
case $PROCACHE_BUILD in /*) ;; *) PROCACHE_BUILD=$BENCH_TOP/$PROCACHE_BUILD ;; esac
case $PROCACHE in /*) ;; *) PROCACHE=$BENCH_TOP/$PROCACHE ;; esac
case $BENCH_TOP/ in
/tmp/*) BENCH_SCRATCH=${BENCH_SCRATCH:-/var/tmp/procache-bench.$$} ;; # jobs see a private /tmp
*) BENCH_SCRATCH=${BENCH_SCRATCH:-$BENCH_TOP/tests/trash/bench.$$} ;;
esac
mkdir -p "$BENCH_SCRATCH"
# A private copy of the binary: the tree is shared, and a `make` elsewhere
# relinking ./procache mid-run makes exec fail (EACCES, ETXTBSY).
if [ -z "${BENCH_NO_COPY:-}" ] && [ -x "$PROCACHE" ]; then
	mkdir -p "$BENCH_SCRATCH/bin"
	cp "$PROCACHE" "$BENCH_SCRATCH/bin/procache.tmp" && mv "$BENCH_SCRATCH/bin/procache.tmp" "$BENCH_SCRATCH/bin/procache"
	PROCACHE=$BENCH_SCRATCH/bin/procache
fi

# runs: QUICK gives fewer repetitions.
bench_runs() { if [ -n "$QUICK" ]; then echo "${2:-3}"; else echo "${1:-10}"; fi; }

bench_time() {
	local name=$1 runs=$2
	shift 3
	local times=() i s e
	"$@" >/dev/null 2>"$BENCH_SCRATCH/bench_time.err" ||
		{ echo "bench: '$name' failed (exit $?): $*" >&2; tail -5 "$BENCH_SCRATCH/bench_time.err" >&2; return 1; }
	for ((i = 0; i < runs; i++)); do
		s=$(date +%s%N)
		"$@" >/dev/null 2>"$BENCH_SCRATCH/bench_time.err" ||
			{ echo "bench: '$name' failed (exit $?): $*" >&2; tail -5 "$BENCH_SCRATCH/bench_time.err" >&2; return 1; }
		e=$(date +%s%N)
		times+=($(((e - s) / 1000)))
	done
	read -r BENCH_MEDIAN BENCH_MIN BENCH_MAX < <(printf '%s\n' "${times[@]}" | sort -n | awk '
		{ v[NR] = $1 }
		END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      printf "%.6f %.6f %.6f\n", m / 1e6, v[1] / 1e6, v[NR] / 1e6 }')
	BENCH_NAME=$name
}

# bench_sample FILE KEEP -- CMD...: run CMD once (a failure ends the
# script with its message) and, when KEEP is 1 (not a warm-up), append its
# wall time in µs to FILE. For benchmarks that alternate their variants.
bench_sample() {
	local file=$1 keep=$2 s e
	shift 3
	s=$(date +%s%N)
	"$@" >/dev/null 2>"$BENCH_SCRATCH/bench_sample.err" || {
		echo "bench: failed (exit $?): $*" >&2
		tail -5 "$BENCH_SCRATCH/bench_sample.err" >&2
		exit 1
	}
	e=$(date +%s%N)
	[ "$keep" != 1 ] || echo "$(((e - s) / 1000))" >>"$file"
}

bench_ms() { awk -v s="$1" 'BEGIN { printf "%.2f", s * 1000 }'; }

bench_row() {
	printf '| %s | %s | %s | %s |\n' "${1:-$BENCH_NAME}" "$(bench_ms "$BENCH_MEDIAN")" \
		"$(bench_ms "$BENCH_MIN")" "$(bench_ms "$BENCH_MAX")"
}

bench_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

bench_cleanup() { chmod -R u+rwx "$BENCH_SCRATCH" 2>/dev/null; rm -rf "$BENCH_SCRATCH"; }
# From the start, so that a script failing early leaves no scratch behind.
trap bench_cleanup EXIT

# bench_stats: reads numbers (one a line) on stdin, prints "median min max".
bench_stats() {
	sort -g | awk '{ v[NR] = $1 }
		END { if (!NR) { print "0 0 0"; exit }
		      m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      printf "%.6f %.6f %.6f\n", m, v[1], v[NR] }'
}

# bench_now: wall clock in seconds (floating).
bench_now() { awk -v n="$(date +%s%N)" 'BEGIN { printf "%.6f", n / 1e9 }'; }

# bench_hf JSON INDEX: "median min max" in ms of hyperfine's result INDEX.
bench_hf() {
	python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]
print("%.2f %.2f %.2f" % (r["median"] * 1e3, r["min"] * 1e3, r["max"] * 1e3))' "$1" "$2"
}

# bench_target WHAT MEASURED LIMIT: records a target (MEASURED <= LIMIT is
# met) in $BENCH_TARGETS for run.sh's summary, and prints one line.
bench_target() {
	local verdict
	verdict=$(awk -v m="$2" -v l="$3" 'BEGIN { print (m <= l) ? "met" : "NOT met" }')
	echo "Target: $1 — measured $2, limit $3: **$verdict**."
	[ -n "${BENCH_TARGETS:-}" ] && printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$verdict" >>"$BENCH_TARGETS"
	return 0
}

# bench_plot PNG TITLE XLABEL YLABEL DATA COLS...: a log-log line plot with
# gnuplot of DATA (whitespace columns, x first); each COL is "N:title".
# Prints the Markdown image link (relative to docs/).
BENCH_PLOTS=${BENCH_PLOTS:-$BENCH_TOP/docs/bench}
bench_plot() {
	local png=$1 title=$2 xl=$3 yl=$4 data=$5 plot="" c
	shift 5
	command -v gnuplot >/dev/null || { echo "(gnuplot missing: no plot)"; return 0; }
	mkdir -p "$BENCH_PLOTS"
	for c in "$@"; do
		plot="$plot${plot:+, }'$data' using 1:${c%%:*} with linespoints lw 2 title '${c#*:}'"
	done
	gnuplot <<GP >&2
set terminal pngcairo size 800,500 noenhanced
set output '$BENCH_PLOTS/$png'
set title '$title'
set xlabel '$xl'
set ylabel '$yl'
set logscale xy
set grid
set key top left
plot $plot
GP
	echo "![$title](bench/$png)"
}

# hyperfine puts a variable of random length in each run's environment
# (HYPERFINE_RANDOMIZED_ENVIRONMENT_OFFSET); the environment is part of the
# job key, so procache runs timed by hyperfine unset it, or no run would hit.
BENCH_HF_ENV="--env-unset HYPERFINE_RANDOMIZED_ENVIRONMENT_OFFSET"

# bench_pc_stat KEY: a counter of `procache cache stats --json` ($PROCACHE_DIR).
bench_pc_stat() {
	"$PROCACHE" cache stats --json | python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# bench_compile_job: in the current directory, x.c and include/h{1,2,3}.h,
# the medium C file of the hit-latency benchmarks (cache-hit.sh,
# remote.sh), compiled with `gcc -Iinclude -O1 -c x.c -o x.o`.
bench_compile_job() {
	mkdir -p include
	for h in 1 2 3; do
		{
			echo "#ifndef H$h"
			echo "#define H$h"
			echo "#include <stddef.h>"
			echo "#include <stdint.h>"
			for i in $(seq 1 40); do
				echo "struct s${h}_$i { int a; double b; uint64_t c[$i]; };"
				echo "static inline int h${h}_f$i(const struct s${h}_$i *s) { return s->a * $i + (int)s->b; }"
			done
			echo "#endif"
		} >"include/h$h.h"
	done
	{
		for hdr in stdio.h stdlib.h string.h math.h errno.h unistd.h sys/stat.h fcntl.h; do
			echo "#include <$hdr>"
		done
		echo '#include "h1.h"'
		echo '#include "h2.h"'
		echo '#include "h3.h"'
		for i in $(seq 1 150); do
			echo "int fn$i(int x) { struct s1_$((i % 40 + 1)) s = { x, $i.5, {0} }; char b[32];"
			echo "  snprintf(b, sizeof b, \"%d\", h1_f$((i % 40 + 1))(&s)); return (int)strlen(b) + (int)sqrt((double)x) + (errno ? 1 : 0); }"
		done
	} >x.c
}

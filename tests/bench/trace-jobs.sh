#!/usr/bin/env bash
# The tracer on real programs' start-up, which is system-call heavy: a
# Python import of 50 standard modules, `node -e 1`, and `javac` of one
# class. Each in the sandbox untraced, traced with the fast path (DESIGN.md
# §3.1) and traced with it forced off, alternately; medians of RUNS runs
# after a warm-up. A program that is not installed is left out.
#   QUICK=1: 3 runs.
. "$(dirname "$0")/lib.sh"
set -e
runs=$(bench_runs 7 3)
trap bench_cleanup EXIT
export PROCACHE_DIR=$BENCH_SCRATCH/cache
mkdir -p "$BENCH_SCRATCH/w"
cd "$BENCH_SCRATCH/w"
mods="abc argparse ast asyncio base64 bisect calendar collections configparser contextlib
copy csv dataclasses datetime decimal difflib email enum fnmatch fractions functools
glob gzip hashlib heapq hmac html http inspect io itertools json logging lzma math
operator pathlib pickle pprint random re shlex shutil socket sqlite3 statistics string
subprocess tarfile tempfile"
printf 'import %s\n' $mods >imports.py
printf 'public class Hello { public static void main(String[] a) { System.out.println("hi"); } }\n' >Hello.java

jobs=()
[ -x /usr/bin/python3 ] && jobs+=("python3: import of 50 modules|/usr/bin/python3 -S imports.py")
command -v node >/dev/null && jobs+=("node -e 1|$(command -v node) -e 1")
command -v javac >/dev/null && jobs+=("javac of one class|$(command -v javac) -d out Hello.java")

echo "## Real programs' start-up: traced / untraced"
echo
echo "Each in the sandbox: \`procache run --no-cache --no-trace\` (untraced), \`procache run"
echo "--no-cache\` (traced, fast path), \`PROCACHE_FAST_PATH=0 procache run --no-cache\` (traced,"
echo "notified only); alternately, medians of $runs runs after a warm-up."
echo
echo "| job | untraced ms | fast path ms | notified only ms | fast / untraced | notified / untraced |"
echo "|---|---|---|---|---|---|"
for j in "${jobs[@]}"; do
	IFS='|' read -r name cmd <<<"$j"
	for m in u f s; do : >"$BENCH_SCRATCH/$m"; done
	for ((i = 0; i <= runs; i++)); do
		for m in u f s; do
			case $m in
			u) env=1 args=(--no-trace) ;;
			f) env=1 args=() ;;
			s) env=0 args=() ;;
			esac
			rm -rf out && mkdir out
			# shellcheck disable=SC2086 # cmd is words
			bench_sample "$BENCH_SCRATCH/$m" "$((i > 0))" -- env PROCACHE_FAST_PATH=$env \
				"$PROCACHE" run --no-cache "${args[@]}" --output "$BENCH_SCRATCH/w" -- $cmd
		done
	done
	read -r um _ _ < <(bench_stats <"$BENCH_SCRATCH/u")
	read -r fm _ _ < <(bench_stats <"$BENCH_SCRATCH/f")
	read -r sm _ _ < <(bench_stats <"$BENCH_SCRATCH/s")
	awk -v n="$name" -v u="$um" -v f="$fm" -v s="$sm" 'BEGIN {
		printf "| %s | %.1f | %.1f | %.1f | %.2f | %.2f |\n", n, u / 1e3, f / 1e3, s / 1e3, f / u, s / u }'
done
echo
echo "(The stat and read of 20,000 files is in the next section.)"

#!/usr/bin/env bash
# The tracer's cost on a 60-file `make -j2` C build (shared/workloads):
# bare, in the sandbox untraced (--no-trace), in the sandbox traced, and
# under `strace -f -e trace=%file` as the ptrace peer. Medians of RUNS
# clean builds, after one warm-up, in one run of this script.
. "$(dirname "$0")/lib.sh"
set -e
runs=$(bench_runs 5 3)
gen=${WORKLOADS:-$BENCH_TOP/../shared/workloads}/gen-c-project.sh
[ -x "$gen" ] || gen=/work/shared/workloads/gen-c-project.sh
proj=$BENCH_SCRATCH/proj
bash "$gen" "$proj" 60 >/dev/null
trap bench_cleanup EXIT
cd "$proj"
build() { make -s clean >/dev/null 2>&1 || true; "$@" make -s -j2 >/dev/null; }

echo "## Tracer cost on a 60-file C build (make -j2)"
echo
echo "Each row: \`make clean\` then the build; medians of $runs runs after a warm-up."
echo
echo '| variant | median ms | min ms | max ms |'
echo '|---|---|---|---|'
bench_time bare "$runs" -- build env
bare=$BENCH_MEDIAN; bench_row "bare make -j2"
bench_time untraced "$runs" -- build "$PROCACHE" run --no-cache --no-trace --output "$proj" --
untraced=$BENCH_MEDIAN; bench_row "procache run --no-cache --no-trace"
bench_time traced "$runs" -- build "$PROCACHE" run --no-cache --output "$proj" --
traced=$BENCH_MEDIAN; bench_row "procache run --no-cache (traced)"
if command -v strace >/dev/null; then
	bench_time strace "$runs" -- build strace -f -e trace=%file -o /dev/null
	strace_t=$BENCH_MEDIAN; bench_row "strace -f -e trace=%file"
fi
echo
echo "Tracer overhead over the untraced sandbox: $(bench_ratio "$traced" "$untraced")x;" \
	"sandbox+tracer over bare: $(bench_ratio "$traced" "$bare")x;" \
	"strace over bare: $(bench_ratio "${strace_t:-0}" "$bare")x."

#!/usr/bin/env bash
# Peak memory of procache: a miss and a hit of the C build (shared/
# workloads/gen-c-project.sh, `make -j2`), and of the 20,000-file stat+read
# job (tests/bench/bn-statread.c; QUICK: 2,000). Two figures a run:
#  - `/usr/bin/time -f %M`: the largest peak RSS of procache and of every
#    process it waited for (so on a miss, the job's biggest process: cc1);
#  - procache's own peak (VmHWM of the procache process, read from
#    /proc/PID/status every 10 ms until it exits).
#   QUICK=1: 6 source files, 2,000 files.
. "$(dirname "$0")/lib.sh"
set -e
nsrc=$([ -n "$QUICK" ] && echo 6 || echo 60)
nfiles=$([ -n "$QUICK" ] && echo 2000 || echo 20000)
gen=${WORKLOADS:-$BENCH_TOP/../shared/workloads}/gen-c-project.sh
[ -f "$gen" ] || gen=/work/shared/workloads/gen-c-project.sh
drv=$PROCACHE_BUILD/tests/bench/bn-statread
[ -x "$drv" ] || make -s -C "$BENCH_TOP" "${drv#"$BENCH_TOP"/}" >&2
command -v /usr/bin/time >/dev/null || { echo "bench: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }
trap bench_cleanup EXIT
export PROCACHE_DIR=$BENCH_SCRATCH/cache
proj=$BENCH_SCRATCH/proj
cp "$gen" "$BENCH_SCRATCH/gen-c-project.sh"
bash "$BENCH_SCRATCH/gen-c-project.sh" "$proj" "$nsrc" >/dev/null
data=$BENCH_SCRATCH/files
python3 - "$data" "$nfiles" <<'PY'
import os, sys
top, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = f"{top}/d{i // 100:03d}"
    if i % 100 == 0:
        os.makedirs(d)
    with open(f"{d}/f{i:05d}", "w") as f:
        f.write(("line %d\n" % i) * (1 + i % 50))
PY
find "$proj" "$data" -exec touch -d "1 hour ago" {} +
sleep 2.2

# measure STATUS RUN-ARGS...: runs `procache run -v --report R RUN-ARGS...`
# under /usr/bin/time, polls the VmHWM of its child (procache); sets TIME_KB
# HWM_KB NPRE (preconditions stored, on a miss); checks the report's status.
measure() {
	local want=$1 tpid pid="" k v rest
	shift
	rm -f "$BENCH_SCRATCH/report.json"
	/usr/bin/time -f %M -o "$BENCH_SCRATCH/time" "$PROCACHE" run -v --report "$BENCH_SCRATCH/report.json" "$@" \
		>/dev/null 2>"$BENCH_SCRATCH/log" &
	tpid=$!
	HWM_KB=0
	while [ -e "/proc/$tpid" ]; do
		[ -n "$pid" ] || read -r pid _ <"/proc/$tpid/task/$tpid/children" 2>/dev/null || true
		if [ -n "$pid" ]; then
			while read -r k v rest; do
				[ "$k" = VmHWM: ] && HWM_KB=$v
			done <"/proc/$pid/status" 2>/dev/null || true
		fi
		sleep 0.01
	done
	wait "$tpid" || true
	TIME_KB=$(tail -1 "$BENCH_SCRATCH/time")
	NPRE=$(grep -oE "[0-9]+ preconditions" "$BENCH_SCRATCH/log" | cut -d" " -f1)
	grep -q "\"status\":.*\"$want\"" "$BENCH_SCRATCH/report.json" ||
		{ echo "bench: expected a $want: $*" >&2; cat "$BENCH_SCRATCH/report.json" >&2; exit 1; }
}
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

echo "## Memory"
echo
echo "Peak resident memory (MiB). \`/usr/bin/time -f %M\` counts procache and everything it"
echo "waited for (on a miss: the job's biggest process); \"procache itself\" is the VmHWM of the"
echo "procache process, polled from /proc every 10 ms: a lower bound (the last sample can"
echo "precede the end of the run, e.g. a short store). On a hit, procache waits for no job, so"
echo "%M is procache's own peak, exactly."
echo
echo "| run | /usr/bin/time %M | procache itself | preconditions |"
echo "|---|---|---|---|"
cd "$proj"
make -s clean
/usr/bin/time -f %M -o "$BENCH_SCRATCH/time" make -s -j2 >/dev/null
bare_kb=$(tail -1 "$BENCH_SCRATCH/time")
make -s clean
# The miss, then make clean: the state the entry expects, for the hit.
measure miss --output "$proj" -- make -s -j2
npre=$NPRE
echo "| miss: \`procache run -- make -j2\` ($nsrc files) | $(mb "$TIME_KB") | $(mb "$HWM_KB") | $npre |"
make -s clean
measure hit --output "$proj" -- make -s -j2
echo "| hit: the same, after \`make clean\` | $(mb "$TIME_KB") | $(mb "$HWM_KB") | $npre |"
hit_kb=$TIME_KB
echo "| bare \`make -j2\` (for scale: its biggest process) | $(mb "$bare_kb") | | |"
cd "$BENCH_SCRATCH"
measure miss -- "$drv" "$data"
npre=$NPRE
echo "| miss: \`procache run -- bn-statread DIR\` ($nfiles files) | $(mb "$TIME_KB") | $(mb "$HWM_KB") | $npre |"
measure hit -- "$drv" "$data"
echo "| hit: the same | $(mb "$TIME_KB") | $(mb "$HWM_KB") | $npre |"
echo
bench_target "peak RSS of a hit (MiB, /usr/bin/time %M)" "$(mb "$hit_kb")" 8

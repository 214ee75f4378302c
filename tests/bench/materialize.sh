#!/usr/bin/env bash
# tests/bench/materialize.sh — materializing a 10,000-file / 500 MB tree
# (what a cache hit of a big job writes), against `cp -a` of the same tree.
#
# The tree: 100 directories of 100 files of 50 KiB (random bytes). Each run
# writes into a fresh destination (nothing is deleted between runs: on this
# ext4, creating files right after deleting many is several times slower,
# which would punish whichever tool runs second). cp -a and procache runs
# alternate. "procache" is the time of mat_apply() alone, measured inside
# build/tests/unit/test-materialize-bench (the tree walk and the hashing
# that the blob store would already have done are outside the clock); the
# whole process is timed too. "unchanged" re-applies onto an identical
# destination: every file is compared (size, then XXH3-128) and left alone.
#
#   QUICK=1: 2000 files / 100 MB, 3 runs.
. "$(dirname "$0")/lib.sh"
set -e

driver=$PROCACHE_BUILD/tests/unit/test-materialize-bench
[ -x "$driver" ] || { echo "bench: $driver not built (make test-bins)" >&2; exit 1; }
if [ -n "$QUICK" ]; then dirs=20; else dirs=100; fi
per_dir=100 size_kib=50
runs=$(bench_runs 5 3)
trap bench_cleanup EXIT

src=$BENCH_SCRATCH/src
python3 - "$src" "$dirs" "$per_dir" "$size_kib" <<'EOF'
import os, sys
top, dirs, per, kib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
for d in range(dirs):
    p = os.path.join(top, "d%03d" % d)
    os.makedirs(p)
    for f in range(per):
        with open(os.path.join(p, "f%03d.dat" % f), "wb") as fh:
            fh.write(os.urandom(kib * 1024))
EOF
sync
nfiles=$((dirs * per_dir))
mb=$((nfiles * size_kib / 1024))

median() { sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.6f %.6f %.6f\n", m, v[1], v[NR] }'; }
now() { date +%s%N; }

cp_t=() mat_t=() matproc_t=() unch_t=()
for ((i = 0; i <= runs; i++)); do	# run 0 is the warm-up
	s=$(now); cp -a "$src" "$BENCH_SCRATCH/cp.$i"; e=$(now)
	[ "$i" -gt 0 ] && cp_t+=($(awk -v d=$((e - s)) 'BEGIN { print d / 1e9 }'))
	s=$(now); line=$("$driver" "$src" "$BENCH_SCRATCH/mat.$i"); e=$(now)
	set -- $line
	[ "$4" = 0 ] || { echo "bench: first materialization left $4 files unchanged" >&2; exit 1; }
	[ "$5" = "$nfiles" ] || { echo "bench: wrote $5 files, expected $nfiles" >&2; exit 1; }
	if [ "$i" -gt 0 ]; then
		mat_t+=("$1")
		matproc_t+=($(awk -v d=$((e - s)) 'BEGIN { print d / 1e9 }'))
		line=$("$driver" "$src" "$BENCH_SCRATCH/mat.$i")
		set -- $line
		[ "$5" = 0 ] || { echo "bench: re-apply wrote $5 files" >&2; exit 1; }
		unch_t+=("$1")
	fi
done
cmp -s "$src/d000/f000.dat" "$BENCH_SCRATCH/mat.1/d000/f000.dat"
diff -r "$src" "$BENCH_SCRATCH/mat.1" >/dev/null

read -r cp_m cp_lo cp_hi < <(printf '%s\n' "${cp_t[@]}" | median)
read -r m_m m_lo m_hi < <(printf '%s\n' "${mat_t[@]}" | median)
read -r p_m p_lo p_hi < <(printf '%s\n' "${matproc_t[@]}" | median)
read -r u_m u_lo u_hi < <(printf '%s\n' "${unch_t[@]}" | median)

echo "## Materialization ($nfiles files, $mb MB)"
echo
echo "A tree of $dirs directories x $per_dir files x $size_kib KiB, copied to a fresh"
echo "destination $runs times (after a warm-up), alternating the tools, on $(findmnt -n -o FSTYPE --target "$BENCH_SCRATCH")."
echo
echo '```'
echo "cp -a SRC DEST.i"
echo "build/tests/unit/test-materialize-bench SRC DEST.i     # mat_apply(), timed inside"
echo "build/tests/unit/test-materialize-bench SRC DEST.i     # again: all unchanged"
echo '```'
echo
echo "| what | median ms | min ms | max ms |"
echo "|---|---|---|---|"
BENCH_MEDIAN=$cp_m BENCH_MIN=$cp_lo BENCH_MAX=$cp_hi bench_row "cp -a"
BENCH_MEDIAN=$m_m BENCH_MIN=$m_lo BENCH_MAX=$m_hi bench_row "procache mat_apply (fresh destination)"
BENCH_MEDIAN=$p_m BENCH_MIN=$p_lo BENCH_MAX=$p_hi bench_row "procache driver, whole process (walk + hash + apply)"
BENCH_MEDIAN=$u_m BENCH_MIN=$u_lo BENCH_MAX=$u_hi bench_row "procache mat_apply (identical destination: all unchanged)"
echo
echo "mat_apply / cp -a: $(bench_ratio "$m_m" "$cp_m")"

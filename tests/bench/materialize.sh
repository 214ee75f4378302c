#!/usr/bin/env bash
# tests/bench/materialize.sh — materializing a 10,000-file / 500 MB tree
# (what a cache hit of a big job writes), against `cp -a` of the same tree.
#
# The tree: 100 directories of 100 files of 50 KiB (random bytes). Each run
# writes into a fresh destination (nothing is deleted between runs: on this
# ext4, creating files right after deleting many is several times slower,
# which would punish whichever tool runs second). cp -a and procache runs
# alternate. "procache" is the time of mat_apply() alone, measured inside
# build/tests/bench/materialize-driver (the tree walk and the hashing
# that the blob store would already have done are outside the clock); the
# whole process is timed too. mat_apply() writes files with one worker
# thread per CPU (DESIGN.md §7 "Copy workers"); the "one thread" row is the
# same with MAT_SERIAL (--serial), cp -a's single-threaded equal.
# "unchanged" re-applies onto an identical destination: every file is
# compared (size, then XXH3-128) and left alone.
#
# Also `cp --reflink=auto` (the same as cp -a's data path on a file system
# without reflinks, such as ext4; a clone on btrfs/XFS).
#
# Scaling: 10 to 100,000 files of 1 KiB (QUICK: to 1,000), mat_apply()
# against cp -a, plotted to docs/bench/materialize-files.png.
#
# End to end: a job writing the same number of files (tests/bench/
# bn-writefiles.c, 50 KiB each) through `procache run`: the hit (lookup,
# materialization, replay: the whole process) against cp -a of the tree
# the job wrote, and against running the job bare.
#
#   QUICK=1: 1,000 files / 50 MB, 2 runs; end to end 500 files.
. "$(dirname "$0")/lib.sh"
set -e

driver=$PROCACHE_BUILD/tests/bench/materialize-driver
[ -x "$driver" ] || { echo "bench: $driver not built (make bench-bins)" >&2; exit 1; }
if [ -n "$QUICK" ]; then dirs=10; else dirs=100; fi
per_dir=100 size_kib=50
runs=$(bench_runs 3 2)
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

cp_t=() rl_t=() mat_t=() matproc_t=() unch_t=() ser_t=()
for ((i = 0; i <= runs; i++)); do	# run 0 is the warm-up
	s=$(now); cp -a "$src" "$BENCH_SCRATCH/cp.$i"; e=$(now)
	[ "$i" -gt 0 ] && cp_t+=($(awk -v d=$((e - s)) 'BEGIN { print d / 1e9 }'))
	s=$(now); cp -a --reflink=auto "$src" "$BENCH_SCRATCH/rl.$i"; e=$(now)
	[ "$i" -gt 0 ] && rl_t+=($(awk -v d=$((e - s)) 'BEGIN { print d / 1e9 }'))
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
	line=$("$driver" --serial "$src" "$BENCH_SCRATCH/ser.$i")
	set -- $line
	[ "$5" = "$nfiles" ] || { echo "bench: --serial wrote $5 files, expected $nfiles" >&2; exit 1; }
	[ "$i" -gt 0 ] && ser_t+=("$1")
done
cmp -s "$src/d000/f000.dat" "$BENCH_SCRATCH/mat.1/d000/f000.dat"
diff -r "$src" "$BENCH_SCRATCH/mat.1" >/dev/null

read -r cp_m cp_lo cp_hi < <(printf '%s\n' "${cp_t[@]}" | median)
read -r rl_m rl_lo rl_hi < <(printf '%s\n' "${rl_t[@]}" | median)
read -r m_m m_lo m_hi < <(printf '%s\n' "${mat_t[@]}" | median)
read -r p_m p_lo p_hi < <(printf '%s\n' "${matproc_t[@]}" | median)
read -r u_m u_lo u_hi < <(printf '%s\n' "${unch_t[@]}" | median)
read -r s_m s_lo s_hi < <(printf '%s\n' "${ser_t[@]}" | median)

echo "## Materialization ($nfiles files, $mb MB)"
echo
echo "A tree of $dirs directories x $per_dir files x $size_kib KiB, copied to a fresh"
echo "destination $runs times (after a warm-up), alternating the tools, on $(findmnt -n -o FSTYPE --target "$BENCH_SCRATCH"),"
echo "$(nproc) CPUs (mat_apply() writes files with one worker thread per CPU)."
echo
echo '```'
echo "cp -a SRC DEST.i"
echo "cp -a --reflink=auto SRC DEST.i"
echo "build/tests/bench/materialize-driver SRC DEST.i     # mat_apply(), timed inside"
echo "build/tests/bench/materialize-driver SRC DEST.i     # again: all unchanged"
echo "build/tests/bench/materialize-driver --serial SRC SER.i  # one thread"
echo '```'
echo
echo "| what | median ms | min ms | max ms |"
echo "|---|---|---|---|"
BENCH_MEDIAN=$cp_m BENCH_MIN=$cp_lo BENCH_MAX=$cp_hi bench_row "cp -a"
BENCH_MEDIAN=$rl_m BENCH_MIN=$rl_lo BENCH_MAX=$rl_hi bench_row "cp -a --reflink=auto"
BENCH_MEDIAN=$m_m BENCH_MIN=$m_lo BENCH_MAX=$m_hi bench_row "procache mat_apply (fresh destination)"
BENCH_MEDIAN=$s_m BENCH_MIN=$s_lo BENCH_MAX=$s_hi bench_row "procache mat_apply, one thread (MAT_SERIAL)"
BENCH_MEDIAN=$p_m BENCH_MIN=$p_lo BENCH_MAX=$p_hi bench_row "procache driver, whole process (walk + hash + apply)"
BENCH_MEDIAN=$u_m BENCH_MIN=$u_lo BENCH_MAX=$u_hi bench_row "procache mat_apply (identical destination: all unchanged)"
echo
echo "| pair | ratio |"
echo "|---|---|"
echo "| mat_apply / cp -a | $(bench_ratio "$m_m" "$cp_m") |"
echo "| mat_apply / cp -a --reflink=auto | $(bench_ratio "$m_m" "$rl_m") |"
echo "| mat_apply one thread / cp -a | $(bench_ratio "$s_m" "$cp_m") |"
echo "| driver whole process / cp -a | $(bench_ratio "$p_m" "$cp_m") |"
echo "| all unchanged / cp -a | $(bench_ratio "$u_m" "$cp_m") |"
echo
bench_target "materialization of $nfiles files, mat_apply / cp -a" "$(bench_ratio "$m_m" "$cp_m")" 1.00
rm -rf "$BENCH_SCRATCH"/cp.* "$BENCH_SCRATCH"/rl.* "$BENCH_SCRATCH"/mat.* "$BENCH_SCRATCH"/ser.* "$src"

# Scaling with the number of files (1 KiB each).
if [ -n "$QUICK" ]; then counts="10 100 1000"; else counts="10 100 1000 10000 100000"; fi
sruns=$(bench_runs 3 2)
echo
echo "### Scaling with the number of files"
echo
echo "Files of 1 KiB, 100 a directory; medians of $sruns runs into fresh destinations"
echo "(after a warm-up), cp -a and the driver alternating."
echo
echo "| files | mat_apply ms | driver process ms | cp -a ms | mat_apply / cp -a |"
echo "|---|---|---|---|---|"
for n in $counts; do
	sc=$BENCH_SCRATCH/scale$n
	python3 - "$sc/src" "$n" <<'PY'
import os, sys
top, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = "%s/d%04d" % (top, i // 100)
    if i % 100 == 0:
        os.makedirs(d)
    with open("%s/f%06d" % (d, i), "wb") as fh:
        fh.write(os.urandom(1024))
PY
	ct=() mt=() pt=()
	for ((i = 0; i <= sruns; i++)); do
		s=$(now); cp -a "$sc/src" "$sc/cp.$i"; e=$(now)
		[ "$i" -gt 0 ] && ct+=($(awk -v d=$((e - s)) 'BEGIN { print d / 1e9 }'))
		s=$(now); line=$("$driver" "$sc/src" "$sc/mat.$i"); e=$(now)
		set -- $line
		[ "$5" = "$n" ] || { echo "bench: wrote $5 files, expected $n" >&2; exit 1; }
		[ "$i" -gt 0 ] && mt+=("$1") && pt+=($(awk -v d=$((e - s)) 'BEGIN { print d / 1e9 }'))
	done
	read -r c_m _ < <(printf '%s\n' "${ct[@]}" | median)
	read -r x_m _ < <(printf '%s\n' "${mt[@]}" | median)
	read -r y_m _ < <(printf '%s\n' "${pt[@]}" | median)
	echo "| $n | $(bench_ms "$x_m") | $(bench_ms "$y_m") | $(bench_ms "$c_m") | $(bench_ratio "$x_m" "$c_m") |"
	echo "$n $(bench_ms "$x_m") $(bench_ms "$y_m") $(bench_ms "$c_m")" >>"$BENCH_SCRATCH/scale.dat"
	rm -rf "$sc"
done
echo
bench_plot materialize-files.png "materialization time vs files (1 KiB each)" "files" "milliseconds" \
	"$BENCH_SCRATCH/scale.dat" "2:procache mat_apply()" "3:driver process (walk + hash + apply)" "4:cp -a"

# End to end: a job that writes the files, and its hit.
en=$([ -n "$QUICK" ] && echo 500 || echo 10000)
eruns=$(bench_runs 3 2)
writer=$PROCACHE_BUILD/tests/bench/bn-writefiles
[ -x "$writer" ] || make -s -C "$BENCH_TOP" "${writer#"$BENCH_TOP"/}" >&2
e2e=$BENCH_SCRATCH/e2e
mkdir -p "$e2e"
cd "$e2e"
export PROCACHE_DIR=$BENCH_SCRATCH/cache
"$PROCACHE" run -- "$writer" out "$en" 50
mv out ref		# the tree the job wrote: cp -a's source
rm -f "$BENCH_SCRATCH/hit.json"
"$PROCACHE" run --report "$BENCH_SCRATCH/hit.json" -- "$writer" out "$en" 50
grep -q '"status":.*"hit"' "$BENCH_SCRATCH/hit.json" ||
	{ echo "bench: the writer job did not hit:" >&2; cat "$BENCH_SCRATCH/hit.json" >&2; exit 1; }
diff -r ref out >/dev/null || { echo "bench: the hit wrote a different tree" >&2; exit 1; }
rm -rf out
jt=() ht=() ct=() bt=()
for ((i = 0; i <= eruns; i++)); do
	sync
	s=$(now); "$PROCACHE" run -- "$writer" out "$en" 50; e=$(now); rm -rf out; sync
	[ "$i" -gt 0 ] && ht+=($(awk -v d=$((e - s)) 'BEGIN { print d / 1e9 }'))
	s=$(now); cp -a ref out; e=$(now); rm -rf out; sync
	[ "$i" -gt 0 ] && ct+=($(awk -v d=$((e - s)) 'BEGIN { print d / 1e9 }'))
	s=$(now); "$writer" out "$en" 50; e=$(now); rm -rf out; sync
	[ "$i" -gt 0 ] && bt+=($(awk -v d=$((e - s)) 'BEGIN { print d / 1e9 }'))
done
hits=$(bench_pc_stat hits)
[ "$hits" -ge $((eruns + 2)) ] || { echo "bench: only $hits hits in the end-to-end runs" >&2; exit 1; }
read -r h_m h_lo h_hi < <(printf '%s\n' "${ht[@]}" | median)
read -r c_m c_lo c_hi < <(printf '%s\n' "${ct[@]}" | median)
read -r b_m b_lo b_hi < <(printf '%s\n' "${bt[@]}" | median)
echo
echo "### End to end: a job writing $en files of 50 KiB"
echo
echo "\`procache run -- bn-writefiles out $en 50\` on a hit (every run a hit: $hits in"
echo "\`procache cache stats\`), against \`cp -a\` of the tree the job wrote and the job run"
echo "bare; \`out\` removed and \`sync\` between runs, outside the clock; $eruns runs after a warm-up."
echo
echo "| what | median ms | min ms | max ms |"
echo "|---|---|---|---|"
BENCH_MEDIAN=$h_m BENCH_MIN=$h_lo BENCH_MAX=$h_hi bench_row "\`procache run -- bn-writefiles out $en 50\` (hit)"
BENCH_MEDIAN=$c_m BENCH_MIN=$c_lo BENCH_MAX=$c_hi bench_row "\`cp -a ref out\`"
BENCH_MEDIAN=$b_m BENCH_MIN=$b_lo BENCH_MAX=$b_hi bench_row "\`bn-writefiles out $en 50\` (the job, bare)"
echo
echo "Hit / cp -a: $(bench_ratio "$h_m" "$c_m"); hit / bare job: $(bench_ratio "$h_m" "$b_m")."
echo
bench_target "end to end, hit of a job writing $en files / cp -a" "$(bench_ratio "$h_m" "$c_m")" 1.00

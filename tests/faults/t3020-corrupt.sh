#!/usr/bin/env bash
test_description='a corrupt cache (byte flips, truncations, deletions) gives a correct miss or hit, never a crash or a wrong replay'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-faults.sh"

FAULTS=${FAULT_CORRUPTIONS:-200}
JOBS=12

# Job J reads in/common, writes out/J/f1..f5, binary stdout, a stderr
# line, and exits J % 3.
write_job() {
	cat >job.sh <<-\EOF
	j=$1
	mkdir -p out/$j
	for k in 1 2 3 4 5; do
		{ cat in/common; echo "job $j file $k"; seq 1 $((j * 50 + k * 10)); } >out/$j/f$k
	done
	printf "job %s\000binary\377\n" $j
	echo "err $j" >&2
	exit $((j % 3))
	EOF
}

# expect_all: the right result of every job, from --no-cache runs in exp/.
expect_all() {
	local j
	rm -rf exp && mkdir -p exp/in && cp in/common exp/in/ && cp job.sh exp/ &&
	for j in $(seq 0 $((JOBS - 1))); do
		(cd exp && "$PROCACHE" run --no-cache -- sh job.sh $j >stdout.$j 2>stderr.$j
		 echo $? >rc.$j) || return 1
	done
}

# check_job J: run job J through the cache; it must be a hit or a miss,
# exit as the job does, and give exactly the --no-cache result.
check_job() {
	local j=$1
	rm -rf out/$j &&
	run "hit|miss" -- sh job.sh $j >stdout 2>stderr || return 1
	test "$rc" = "$(<exp/rc.$j)" || { echo "job $j: exit $rc" >&2; cat stderr >&2; return 1; }
	# procache may warn about what it found corrupt; the rest is the job's.
	grep -v "^procache: warning: " stderr >stderr.job
	test_cmp exp/stdout.$j stdout && test_cmp exp/stderr.$j stderr.job &&
	diff -r exp/out/$j out/$j
}

# corrupt FILE: flip a byte, truncate, or delete; says which.
corrupt() {
	local f=$1 size off
	size=$(stat -c %s "$f")
	case $((RANDOM % 3)) in
	0)
		if [ "$size" -gt 0 ]; then
			off=$(( (RANDOM * 32768 + RANDOM) % size ))
			byte=$(od -An -tu1 -j $off -N1 "$f") &&
			chmod u+w "$f" &&
			printf "\\$(printf %03o $(( byte ^ (1 << (RANDOM % 8)) )))" |
				dd of="$f" bs=1 seek=$off conv=notrunc status=none &&
			kind=flip
		else
			rm -f "$f" && kind=delete
		fi ;;
	1)
		chmod u+w "$f" && truncate -s $((size > 0 ? (RANDOM * 32768 + RANDOM) % size : 0)) "$f" &&
		kind=truncate ;;
	2)
		rm -f "$f" && kind=delete ;;
	esac
}

test_expect_success "$FAULTS corruptions of entries, blobs and the stat cache: each next run is a right hit or miss" '
	fault_seed 1 &&
	export PROCACHE_DIR=$TEST_DIR/cache &&
	write_job &&
	mkdir -p in out && echo "version 1" >in/common &&
	expect_all &&
	for j in $(seq 0 $((JOBS - 1))); do
		check_job $j && test "$(report_status)" = miss || return 1
	done &&
	for j in $(seq 0 $((JOBS - 1))); do
		check_job $j && test "$(report_status)" = hit || return 1
	done &&
	n=0 flips=0 truncs=0 dels=0 hits=0 misses=0 entries=0 blobs=0 others=0 &&
	while [ $n -lt $FAULTS ]; do
		n=$((n + 1))
		# An input changes now and then: old entries must not be hit.
		if [ $((n % 50)) = 0 ]; then
			echo "version $n" >in/common && expect_all || return 1
		fi
		mapfile -t files < <(cd "$PROCACHE_DIR" && find keys blobs stats statcache \
			-type f ! -name "*.hits" ! -name ".*" ! -name "*.lock" 2>/dev/null) &&
		f=${files[RANDOM % ${#files[@]}]} &&
		corrupt "$PROCACHE_DIR/$f" || return 1
		case $kind in flip) flips=$((flips + 1)) ;; truncate) truncs=$((truncs + 1)) ;; *) dels=$((dels + 1)) ;; esac
		case $f in keys/*) entries=$((entries + 1)) ;; blobs/*) blobs=$((blobs + 1)) ;; *) others=$((others + 1)) ;; esac
		# Two jobs run after each fault: a random one and, when the fault
		# hit an entry or blob of a known job, that one.
		j=$((RANDOM % JOBS)) &&
		check_job $j || { echo "fault $n: $kind of $f, then job $j" >&2; return 1; }
		get_status && case $status in hit) hits=$((hits + 1)) ;; *) misses=$((misses + 1)) ;; esac
		if [ $((n % 20)) = 0 ]; then
			# verify reports what is wrong, it does not crash.
			rc=0 && "$PROCACHE" cache verify >verify.out 2>&1 || rc=$?
			test $rc -le 1 || { echo "verify exit $rc" >&2; cat verify.out >&2; return 1; }
		fi
	done &&
	echo "# faults: $FAULTS ($flips byte flips, $truncs truncations, $dels deletions; $entries in entries, $blobs in blobs, $others in the stat cache or counters); runs after: $hits hits, $misses misses" &&
	# Every job, once more; then verify --fix leaves a clean cache.
	for j in $(seq 0 $((JOBS - 1))); do
		check_job $j || return 1
	done &&
	rc=0 && "$PROCACHE" cache verify --fix >verify.out 2>&1 || rc=$? &&
	test $rc -le 1 &&
	cache_is_sound &&
	for j in $(seq 0 $((JOBS - 1))); do
		check_job $j || return 1
	done
'

test_expect_success 'a blob replaced by other bytes of the same size: a miss, not a replay of them' '
	export PROCACHE_DIR=$TEST_DIR/cache &&
	write_job &&
	mkdir -p in out && echo "version 1" >in/common &&
	expect_all &&
	check_job 4 && test "$(report_status)" = miss &&
	blob=$(find "$PROCACHE_DIR/blobs" -type f -size +500c | head -1) &&
	chmod u+w "$blob" &&
	size=$(stat -c %s "$blob") &&
	head -c "$size" /dev/zero | tr "\0" Z >"$blob" &&
	check_job 4 && test "$(report_status)" = miss &&
	! grep -rq ZZZZ out/4
'

test_expect_success 'a miss whose output has the hash of a corrupt blob in the store applies its own bytes' '
	export PROCACHE_DIR=$TEST_DIR/cache &&
	write_job &&
	mkdir -p in out && echo "version 1" >in/common &&
	expect_all &&
	check_job 4 && test "$(report_status)" = miss &&
	for blob in $(find "$PROCACHE_DIR/blobs" -type f -size +500c); do
		chmod u+w "$blob" &&
		size=$(stat -c %s "$blob") &&
		head -c "$size" /dev/zero | tr "\0" Z >"$blob" || return 1
	done &&
	# Another key, the same outputs: the store finds their blobs present.
	rm -rf out/4 &&
	run miss --env-set OTHER=key -- sh job.sh 4 >stdout &&
	diff -r exp/out/4 out/4 &&
	check_job 4 &&
	cache_is_sound
'

test_expect_success 'an entry rewritten with a valid checksum but a wrong blob hash: a miss' '
	export PROCACHE_DIR=$TEST_DIR/cache &&
	write_job &&
	mkdir -p in out && echo "version 1" >in/common &&
	expect_all &&
	check_job 5 && test "$(report_status)" = miss &&
	entry=$(find "$PROCACHE_DIR/keys" -name "*.entry" | head -1) &&
	# Re-seal the payload with one blob name changed (valid envelope):
	# the binary payload holds each blob hash as its 16 bytes.
	"$PY" - "$entry" "$PROCACHE_DIR/blobs" <<-\EOF &&
	import os, sys
	p, blobs = sys.argv[1], sys.argv[2]
	d = open(p, "rb").read()
	payload = d[40:]
	for sub in sorted(os.listdir(blobs)):
	    for name in sorted(os.listdir(os.path.join(blobs, sub))):
	        h = bytes.fromhex(name)
	        if len(h) == 16 and h in payload:
	            payload = payload.replace(h, bytes([h[0] ^ 1]) + h[1:])
	            break
	    else:
	        continue
	    break
	else:
	    sys.exit("no blob of the entry found in its payload")
	open(p + ".payload", "wb").write(payload)
	EOF
	# The checksum is XXH3-128 in canonical (big-endian) form, as
	# xxh128sum prints it.
	sum=$(xxh128sum "$entry.payload" | cut -d" " -f1) &&
	"$PY" - "$entry" "$sum" <<-\EOF &&
	import sys, struct
	p, h = sys.argv[1], sys.argv[2]
	d = open(p, "rb").read()
	payload = open(p + ".payload", "rb").read()
	hdr = bytearray(d[:40])
	hdr[16:24] = struct.pack("<Q", len(payload))
	hdr[24:40] = bytes.fromhex(h)
	import os; os.chmod(p, 0o644)
	open(p, "wb").write(bytes(hdr) + payload)
	EOF
	rm "$entry.payload" &&
	# The envelope is valid: what verify finds is the missing blob.
	test_must_fail "$PROCACHE" cache verify >verify.out &&
	cat verify.out &&
	grep -q "blob" verify.out && ! grep -q "checksum" verify.out &&
	check_job 5 && test "$(report_status)" = miss
'

test_done

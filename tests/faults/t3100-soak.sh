#!/usr/bin/env bash
test_description='soak: 16 concurrent runners, cache gc --max-size in a loop beside them and random kill -9 of runners; the cache verifies, every job has exactly its own outputs, nothing is left behind'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-faults.sh"

# Sizes: make check runs a short soak (about a minute here); make soak the
# full one (SOAK_JOBS=5000 SOAK_POOL=1000).
RUNNERS=${SOAK_RUNNERS:-16}
JOBS=${SOAK_JOBS:-192}
POOL=${SOAK_POOL:-48}
# Each runner has POOL/RUNNERS IDs of its own: POOL a multiple of RUNNERS.
POOL=$(( (POOL + RUNNERS - 1) / RUNNERS * RUNNERS ))
KILL_ONE_IN=${SOAK_KILL_ONE_IN:-12}
GC_SIZE=${SOAK_GC_SIZE:-256K}
say "# $TEST_NAME: $RUNNERS runners, $JOBS jobs over $POOL distinct ones, a kill -9 in $KILL_ONE_IN, gc --max-size $GC_SIZE"

# Job ID writes into out/ID (its --output root): a file of its own, one
# every job shares (one blob for all), one shared by IDs alike modulo 7
# and 50, and prints one line. Its outputs, exactly: exp/ID (expect_outputs).
cat >"$TEST_ROOT/job.sh" <<-\EOF
id=$1
mkdir -p "out/$id/d"
echo "the same for every job" >"out/$id/common"
printf "job %s\n" "$id" >"out/$id/own"
seq 1 $((id % 50 + 1)) >"out/$id/d/seq"
head -c $(( (id % 7) * 3000 )) /dev/zero | tr "\0" x >"out/$id/d/pad"
echo "job $id"
EOF

# expect_outputs N: exp/ID for every ID below N, the outputs of job ID as
# outputs_of lists them.
expect_outputs() {
	"$PY" - "$1" <<-\EOF
	import hashlib, sys
	md5 = lambda b: hashlib.md5(b).hexdigest()
	for i in range(int(sys.argv[1])):
	    seq = "".join("%d\n" % k for k in range(1, i % 50 + 2)).encode()
	    with open("exp/%d" % i, "w") as f:
	        f.write("common %s\n" % md5(b"the same for every job\n"))
	        f.write("d/pad %s\n" % md5(b"x" * ((i % 7) * 3000)))
	        f.write("d/seq %s\n" % md5(seq))
	        f.write("own %s\n" % md5(b"job %d\n" % i))
	EOF
}

# outputs_of ID: the files of out/ID ("name md5"), sorted; a temporary
# file a killed runner named but had not renamed yet (two system calls,
# DESIGN.md section 7) is left out when it is whole (counted in
# $TEST_DIR/leftover), any other is listed as it is, and fails the check.
outputs_of() {
	local id=$1 f sum
	(cd "out/$id" 2>/dev/null && find . -type f | sed "s|^\./||" | sort) |
	while read -r f; do
		sum=$(md5sum <"out/$id/$f" | cut -d" " -f1)
		case ${f##*/} in
		.procache-tmp.*)
			if grep -q " $sum\$" "exp/$id"; then
				echo "$id/$f" >>leftover
				continue
			fi ;;
		esac
		echo "$f $sum"
	done
}

# worker W: JOBS/RUNNERS runs of IDs W, W+RUNNERS, ... (a worker's IDs are
# its own: the output it checks is the one its runs wrote); one run in
# KILL_ONE_IN is killed (-9) after up to 150 ms. Every run not killed must
# exit 0, print its line and leave exactly its outputs.
worker() {
	local w=$1 n id rc p runs=$((JOBS / RUNNERS)) per_pool=$((POOL / RUNNERS))
	RANDOM=$((FAULT_SEED + w))
	for n in $(seq 1 $runs); do
		id=$(( w + RUNNERS * (RANDOM % per_pool) ))
		if [ $((RANDOM % KILL_ONE_IN)) = 0 ]; then
			"$PROCACHE" run --output "out/$id" -- sh "$TEST_ROOT/job.sh" $id >/dev/null 2>&1 &
			p=$!
			sleep "0.$(printf %03d $((RANDOM % 150)))"
			kill -9 $p 2>/dev/null
			wait $p 2>/dev/null
			echo killed >>"count.$w"
			continue
		fi
		rc=0
		"$PROCACHE" run --output "out/$id" --report "report.$w" -- sh "$TEST_ROOT/job.sh" $id \
			>"stdout.$w" 2>"stderr.$w" || rc=$?
		get_status "report.$w"
		echo "$status" >>"count.$w"
		if [ "$status" = uncacheable ]; then
			json_get "report.$w" uncacheable >>"reasons.$w"
		fi
		if [ $rc != 0 ] || [ "$(cat "stdout.$w")" != "job $id" ]; then
			echo "job $id: exit $rc, stdout '$(cat "stdout.$w")': $(cat "stderr.$w")" >>"fail.$w"
		elif ! outputs_of $id | cmp -s - "exp/$id"; then
			{ echo "job $id: outputs differ ($status):"; outputs_of $id; } >>"fail.$w"
		fi
	done
}

# gc_loop: cache gc --max-size GC_SIZE every 100 ms while gc.go exists.
gc_loop() {
	while [ -e gc.go ]; do
		"$PROCACHE" cache gc --max-size $GC_SIZE >/dev/null 2>>gc.err
		echo >>gc.count
		sleep 0.1
	done
}

test_expect_success 'soak: concurrent runners, gc beside them, kill -9 at random' '
	fault_seed 1 &&
	export PROCACHE_DIR=$TEST_DIR/cache &&
	mkdir work && cd work && mkdir exp out &&
	expect_outputs $POOL &&
	touch gc.go &&
	{ gc_loop & } &&
	gc_pid=$! &&
	test_when_finished "rm -f gc.go; kill $gc_pid 2>/dev/null" &&
	pids= && start=$SECONDS &&
	for w in $(seq 0 $((RUNNERS - 1))); do
		{ worker $w & } && pids="$pids $!" || return 1
	done &&
	for p in $pids; do
		wait $p || return 1
	done &&
	echo "# $JOBS runs in $((SECONDS - start)) s" &&
	rm gc.go && wait $gc_pid &&
	cat count.* | sort | uniq -c >counts &&
	sed "s/^/# /" counts &&
	echo "# gc ran $(wc -l <gc.count) times" &&
	if ls reasons.* >/dev/null 2>&1; then cat reasons.* | sed "s/^/# uncacheable: /"; fi &&
	test_cmp /dev/null gc.err &&
	cat fail.* >fails 2>/dev/null || : &&
	test_cmp /dev/null fails &&
	grep -q " hit$" counts && grep -q " miss$" counts && grep -q " killed$" counts &&
	cache_is_sound
'

test_expect_success 'soak: after the storm, every job runs once more and has exactly its own outputs' '
	cd "$TEST_ROOT/t1/work" &&
	export PROCACHE_DIR=$TEST_ROOT/t1/cache &&
	for id in $(seq 0 $((POOL - 1))); do
		"$PROCACHE" run --output "out/$id" -- sh "$TEST_ROOT/job.sh" $id >stdout 2>stderr &&
		echo "job $id" >expect && test_cmp expect stdout &&
		outputs_of $id >actual && test_cmp exp/$id actual || return 1
	done &&
	if [ -s leftover ]; then sed "s/^/# whole temporary file of a killed runner: /" leftover; fi &&
	cache_is_sound
'

# The stale-run cleanup (cache gc, and a run at most once a minute) takes
# a half-made run directory (run/.tmp-<id>), a half-made host facts
# directory (hostfacts/.tmp-*) or a temporary file of the cache only when it is old enough (an hour; gc's 10 minutes): time is
# moved on for them (their mtimes an hour and a half back) and the cleanup
# has its chance (one cache gc).
test_expect_success 'soak: once the cleanup had its chance, no run directory, temporary file, process or mount is left' '
	cd "$TEST_ROOT/t1/work" &&
	export PROCACHE_DIR=$TEST_ROOT/t1/cache &&
	old=$(( $(date +%s) - 5400 )) &&
	find "$PROCACHE_DIR/run" "$PROCACHE_DIR/tmp" "$PROCACHE_DIR/keys" \
		"$PROCACHE_DIR/hostfacts" "$PROCACHE_DIR/stats" -mindepth 1 -maxdepth 3 \
		\( -path "*/run/.tmp-*" -o -path "*/tmp/*" -o -name ".tmp.*" \
		-o -path "*/hostfacts/.tmp-*" \) -prune \
		-exec touch -h -d @$old {} + &&
	"$PROCACHE" cache gc >/dev/null &&
	test_wait_for 10 run_trash_gone "$PROCACHE_DIR/run" &&
	ls -A "$PROCACHE_DIR/run" >run.left &&
	echo .clean-stamp >expect && test_cmp expect run.left &&
	ls -A "$PROCACHE_DIR/tmp" >tmp.left && test_cmp /dev/null tmp.left &&
	find "$PROCACHE_DIR" -name "*.tmp*" -o -name ".tmp*" >tmpfiles.left &&
	test_cmp /dev/null tmpfiles.left &&
	! pgrep -f "$TEST_ROOT/job.sh" &&
	! grep -q "$TEST_ROOT" /proc/self/mountinfo &&
	cache_is_sound
'

test_done

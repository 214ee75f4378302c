#!/usr/bin/env bash
test_description='16 procache processes running overlapping jobs against one cache: every result right, the cache sound'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-faults.sh"

JOBS=12
REPEAT=${FAULT_REPEAT:-8}

write_job() {
	cat >job.sh <<-\EOF
	j=$1
	mkdir -p out/$j
	for k in 1 2 3; do
		{ cat in/common; echo "job $j file $k"; seq 1 $((j * 40 + k)); } >out/$j/f$k
	done
	sleep 0.0$((j % 5))	# runs of different lengths overlap differently
	printf "job %s\377\n" $j
	exit $((j % 4))
	EOF
}

# one N J: invocation N runs job J; writes what it saw next to its number.
write_one() {
	cat >one.sh <<-\EOF
n=$1 j=$2
case $j in
verify)
	"$PROCACHE" cache verify >res/$n.verify 2>&1
	echo $? >res/$n.rc ;;
*)
	"$PROCACHE" run --report res/$n.json --output out/$j -- sh job.sh $j \
		>res/$n.stdout 2>res/$n.stderr
	echo $? >res/$n.rc ;;
esac
EOF
}


test_expect_success "16 processes, $JOBS jobs run $REPEAT times each in random order: all right" '
	fault_seed 1 &&
	write_job && write_one &&
	mkdir -p in out res && echo "version 1" >in/common &&
	for j in $(seq 0 $((JOBS - 1))); do
		mkdir -p exp/$j && (cd exp/$j && mkdir -p in out && cp ../../in/common in/ &&
			"$PROCACHE" run --no-cache -- sh ../../job.sh $j >stdout; echo $? >rc) || return 1
	done &&
	# The list: every job REPEAT times, and a cache verify every 16th,
	# shuffled.
	for r in $(seq 1 $REPEAT); do
		for j in $(seq 0 $((JOBS - 1))); do echo "$RANDOM $j" || return 1; done &&
		echo "$RANDOM verify" || return 1
	done | sort -n | cut -d" " -f2 | awk "{ print NR, \$0 }" >list &&
	xargs -P16 -L1 sh one.sh <list &&
	misses=0 hits=0 changed=0 &&
	while read -r n j; do
		if [ $j = verify ]; then
			test "$(cat res/$n.rc)" = 0 || { cat res/$n.verify >&2; return 1; }
			continue
		fi
		test "$(cat res/$n.rc)" = "$(cat exp/$j/rc)" &&
		test_cmp exp/$j/stdout res/$n.stdout &&
		st=$(report_status res/$n.json) &&
		case $st in
		hit) test_cmp /dev/null res/$n.stderr && hits=$((hits + 1)) ;;
		miss) test_cmp /dev/null res/$n.stderr && misses=$((misses + 1)) ;;
		uncacheable)
			# A concurrent run of the same job wrote into its output
			# while it ran: it saw that, and stored nothing (and
			# said so in one line).
			grep -q "input changed during the run: $PWD/out/$j" res/$n.json &&
			grep -q "^procache: warning: not cached: input changed during the run: $PWD/out/$j" res/$n.stderr &&
			test $(wc -l <res/$n.stderr) = 1 &&
			changed=$((changed + 1)) ;;
		*) echo "run $n (job $j): $st" >&2; cat res/$n.json >&2; false ;;
		esac || { echo "run $n (job $j)" >&2; return 1; }
	done <list &&
	echo "# $(wc -l <list) invocations ($REPEAT of them cache verify): $hits hits, $misses misses, $changed uncacheable (their output changed by another run)" &&
	test $hits -gt 0 &&
	for j in $(seq 0 $((JOBS - 1))); do
		diff -r exp/$j/out/$j out/$j || return 1
	done &&
	cache_is_sound &&
	test -z "$(ls -A "$PROCACHE_DIR/tmp")" &&
	# The counters add up: one record per run.
	"$PROCACHE" cache stats --json >stats.json &&
	stat_of() { sed -n "s/^[[:space:]]*\"$1\":[[:space:]]*\([0-9]*\),\{0,1\}$/\1/p" stats.json; } &&
	test "$(stat_of hits)" = $hits && test "$(stat_of misses)" = $misses &&
	test "$(stat_of uncacheable)" = $changed && test "$(stat_of errors)" = 0 &&
	test "$(stat_of stores)" = $misses &&
	no_host_mounts_left
'

# With its output directory removed, a job hits an entry stored by a run
# that found the directory absent; if every such run saw another make it
# meanwhile (uncacheable), it misses. Either way, the right result.
test_expect_success 'after the storm, each job once more: a hit or a miss with the right result' '
	cd ../t1 &&
	for j in $(seq 0 $((JOBS - 1))); do
		rm -rf out/$j &&
		run "hit|miss" --output out/$j -- sh job.sh $j >stdout 2>stderr &&
		test "$rc" = "$(cat exp/$j/rc)" && test_cmp exp/$j/stdout stdout &&
		diff -r exp/$j/out/$j out/$j || return 1
	done
'

# On a busy machine other processes mount and unmount file systems all the
# time (tests of other runs: a tmpfs made, used, unmounted, its directory
# removed). One that goes between the plan of a run's view and its
# set-up must not fail the run: the view shows the host as it is then.
test_expect_success ROOT 'host mounts coming and going while runs set up: every run succeeds' '
	mkdir churn &&
	touch churn.go &&
	test_when_finished "rm -f \"$PWD/churn.go\"" &&
	(
		i=0
		while [ -e churn.go ]; do
			i=$((i + 1))
			mkdir -p churn/d$i/m &&
			mount -t tmpfs -o size=64k tmpfs churn/d$i/m &&
			sleep 0.0$((i % 5)) &&
			umount churn/d$i/m &&
			rm -rf churn/d$i || exit 1
		done
	) &
	churner=$! &&
	for n in $(seq 1 60); do
		"$PROCACHE" run --no-cache -- sh -c "echo run-$n" >stdout 2>stderr &&
		echo run-$n >expect && test_cmp expect stdout ||
		{ cat stderr >&2; rm -f churn.go; wait $churner; return 1; }
	done &&
	rm churn.go &&
	wait $churner &&
	test "$(grep -c "$PWD/churn" /proc/self/mountinfo)" = 0
'

test_done

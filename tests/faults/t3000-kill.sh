#!/usr/bin/env bash
test_description='kill -9 of procache at random points of a run loses nothing and corrupts nothing'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-faults.sh"

KILLS=${FAULT_KILLS:-50}

# The job writes 20 files of about 8 KiB (version $1 in each), sleeps $2 ms
# and prints one line.
write_job() {
	cat >job.sh <<-\EOF
	mkdir -p out
	s="v$1-"; for k in 1 2 3 4 5 6 7 8 9 10 11; do s="$s$s"; done
	i=0
	while [ $i -lt 20 ]; do i=$((i + 1)); printf "%s %s\n" "$s" $i >out/f$i; done
	sleep $(printf "0.%03d" "$2")
	echo done $1
	EOF
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# sums DIR: one "name md5" line per file f1..f20 of DIR ("name -" when
# absent), in order.
sums() {
	local k sum name
	local -A by
	while read -r sum name; do
		by[$name]=$sum
	done < <(cd "$1" 2>/dev/null && md5sum f* 2>/dev/null)
	for k in $(seq 1 20); do
		echo "f$k ${by[f$k]:--}"
	done
}

# outputs_old_or_new V: every out/f<k> is whole: as before the run (in
# old.sums, or absent if it was) or as version V writes it (exp/V.sums);
# nothing else (no temporary file) is in out/. Counts files in each state
# in $n_old, $n_new.
outputs_old_or_new() {
	local v=$1 f k line
	n_old=0 n_new=0
	for f in out/* out/.[!.]*; do
		[ -e "$f" ] || continue
		case ${f#out/} in
		f[0-9]|f1[0-9]|f20) ;;
		.procache-tmp.*)
			# Killed between naming a complete temporary file and
			# renaming it (a window of two system calls): it must
			# hold a whole new file.
			grep -q " $(md5sum <"$f" | cut -d" " -f1)\$" exp/$v.sums || {
				echo "torn temporary file left in the output: $f" >&2
				return 1
			}
			leftover=$((leftover + 1))
			rm -f "$f"
			;;
		*) echo "unexpected file left in the output: $f" >&2; return 1 ;;
		esac
	done
	sums out >now.sums
	mapfile -t old <old.sums
	mapfile -t new <exp/$v.sums
	mapfile -t now <now.sums
	for k in $(seq 0 19); do
		if [ "${now[k]}" = "${old[k]}" ]; then
			n_old=$((n_old + 1))
		elif [ "${now[k]}" = "${new[k]}" ]; then
			n_new=$((n_new + 1))
		else
			echo "torn or foreign content: ${now[k]} (before: ${old[k]}, version $v: ${new[k]})" >&2
			return 1
		fi
	done
}

test_expect_success "kill -9 at a random point of $KILLS runs: outputs whole, cache sound, next run right" '
	fault_seed 1 &&
	export PROCACHE_DIR=$TEST_DIR/cache &&
	write_job &&
	for v in 0 1 2 3; do
		mkdir -p exp/$v && (cd exp/$v && sh ../../job.sh $v 0 >/dev/null) &&
		sums exp/$v/out >exp/$v.sums || return 1
	done &&
	# How long a miss takes here (the quickest of 3): kills land uniformly
	# over 1.2 times that.
	best=999999 &&
	for n in 1 2 3; do
		t0=$(now_ms) &&
		"$PROCACHE" run -- sh job.sh 9 0 calibrate$n >/dev/null &&
		t=$(( $(now_ms) - t0 )) &&
		if [ $t -lt $best ]; then best=$t; fi || return 1
	done &&
	window=$(( best * 12 / 10 + 1 )) &&
	echo "kill window ${window} ms" &&
	killed=0 finished=0 torn_across=0 hits=0 leftover=0 &&
	i=0 &&
	while [ $i -lt $KILLS ]; do
		i=$((i + 1))
		v=$((RANDOM % 4))
		case $((RANDOM % 4)) in 0) s=0 ;; 1) s=10 ;; 2) s=25 ;; 3) s=50 ;; esac
		d=$((RANDOM % window))
		# The kill lands at a random point: the delay is the test.
		# A new key each time (a miss), one time in 5 a key seen before
		# (a hit, when its run got as far as storing).
		tag=run$i
		if [ $((RANDOM % 5)) = 0 ]; then tag=again; fi
		sums out >old.sums || return 1
		"$PROCACHE" run -- sh job.sh $v $s $tag >stdout 2>stderr &
		pid=$!
		sleep "$(printf "%d.%03d" $((d / 1000)) $((d % 1000)))"
		kill -9 $pid 2>/dev/null
		krc=0 && wait $pid || krc=$?
		if [ $krc = 137 ]; then
			killed=$((killed + 1))
		else
			finished=$((finished + 1))
			test $krc = 0 && echo "done $v" >expect && test_cmp expect stdout || return 1
		fi
		outputs_old_or_new $v || { echo "after kill $i at ${d} ms" >&2; return 1; }
		if [ $n_old != 0 ] && [ $n_new != 0 ]; then
			torn_across=$((torn_across + 1))
		fi
		if [ $((i % 10)) = 0 ]; then
			cache_is_sound
		else
			cache_verify_clean
		fi || { echo "after kill $i at ${d} ms" >&2; return 1; }
		no_host_mounts_left || return 1
		# The next run is right, whatever the kill left.
		run "hit|miss" -- sh job.sh $v $s $tag >stdout || return 1
		if [ "$(report_status)" = hit ]; then hits=$((hits + 1)); fi
		test $rc = 0 && echo "done $v" >expect && test_cmp expect stdout &&
		sums out >now.sums && test_cmp exp/$v.sums now.sums ||
		{ echo "after kill $i at ${d} ms" >&2; return 1; }
	done &&
	echo "# kills: $KILLS ($killed killed, $finished finished first, $torn_across stopped between two output files; next run: $hits hits; $leftover whole temporary files left)" &&
	test $killed -gt $((KILLS / 3)) &&
	cache_is_sound
'

# A run directory named by its id (not .tmp-ID, being made) that is not
# in the list "seen" exists. Not a count: a run may clean the
# directories of earlier killed runs as it starts, when the cache's file
# system is short of space or a minute has passed.
new_run_dir() { ls "$PROCACHE_DIR/run" | grep -qvxF -f seen; }

test_expect_success 'run directories of killed runs are cleaned by a later run' '
	fault_seed 2 &&
	export PROCACHE_DIR=$TEST_DIR/cache &&
	write_job &&
	run miss -- sh job.sh 7 0 >/dev/null &&
	n=0 &&
	while [ $n -lt 6 ]; do
		n=$((n + 1)) &&
		ls -A "$PROCACHE_DIR/run" >seen &&
		{ "$PROCACHE" run --refresh -- sh job.sh 7 999 >/dev/null 2>&1 & pid=$!; } &&
		# Killed once its run directory exists (the job sleeps about a
		# second, so that it is still running then).
		test_wait_for 60 new_run_dir &&
		kill -9 $pid &&
		{ wait $pid || :; } || return 1
	done &&
	ls -A "$PROCACHE_DIR/run" >before &&
	cat before &&
	# The last killed run directory at least (a run of the loop may
	# have cleaned the earlier ones, see new_run_dir).
	test $(grep -cv "^\.clean-stamp$" before) -ge 1 &&
	# Stale directories are looked for at most once a minute.
	touch -d "2 minutes ago" "$PROCACHE_DIR/run/.clean-stamp" &&
	run miss -- sh job.sh 8 0 >/dev/null &&
	ls -A "$PROCACHE_DIR/run" >after &&
	cat after &&
	# What is left: the stamp, and this last run'"'"'s own trash.
	test $(grep -cv -e "^\.clean-stamp$" -e "^\.trash-" after) = 0 &&
	test $(grep -c "^\.trash-" after) -le 1 &&
	run hit -- sh job.sh 8 0 >/dev/null &&
	cache_is_sound
'

test_done

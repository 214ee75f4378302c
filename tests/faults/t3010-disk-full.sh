#!/usr/bin/env bash
test_description='a full disk under the cache or an output: exit 125 naming the path (or, when only the store failed, the results applied uncached), nothing partial left'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-faults.sh"

# small_fs DIR [SIZE]: a fresh tmpfs of SIZE (1M) on DIR, unmounted when
# the case ends.
small_fs() {
	mkdir -p "$1" &&
	mount -t tmpfs -o "size=${2:-1M}" tmpfs "$1" &&
	test_when_finished "umount -l '$PWD/$1'"
}

# nothing_partial CACHE: verify is clean, tmp/ is empty, and keys/ holds
# entries only (no temporary entry file).
nothing_partial() {
	cache_is_sound "$1" &&
	test -z "$(ls -A "$1/tmp")" || { ls -la "$1/tmp" >&2; return 1; }
	if [ -d "$1/keys" ]; then
		find "$1/keys" -type f ! -name "*.entry" ! -name "*.hits" ! -name "*.verified" >stray &&
		test_cmp /dev/null stray
	fi
}

# --disk 0: the upper directories on the cache's file system, as without
# a disk limit (the default puts them on a tmpfs of their own).
test_expect_success ROOT 'the cache file system fills while the job runs (125 naming the path), while storing (applied uncached, said once)' '
	fault_seed 1 &&
	mkdir -p out && echo old >out/keep &&
	echo old >expect-keep && echo new >expect-new &&
	seq 1 2000 >expect-stdout &&
	store_fail=0 capture_fail=0 stored=0 &&
	# The cache holds the generated host facts too (DESIGN §2): the file
	# system gets 1M more than they take, so the sizes below still fall
	# on each step.
	# So do the compiled seccomp filters and the stat cache, which the
	# end of a miss fills with what the job read (after its output is
	# captured): a run of the same programs fills them first, here to
	# measure them and in each file system below.
	warm() {
		"$PROCACHE" run --cache-dir "$1" --no-cache -- \
			sh -c "head -c 1 /dev/zero >/dev/null; seq 1 2 >/dev/null"
	} &&
	small_fs probe 4M &&
	warm "$PWD/probe/c" &&
	hf_kb=$(du -sk probe/c/hostfacts probe/c/filters probe/c/statcache |
		awk "{ s += \$1 } END { print s }") &&
	# From a file that fits to one that does not: each run fails at a
	# later step (capture, entry, blob) or succeeds.
	for k in $(seq 992 4 1064); do
		small_fs cfs $((1024 + hf_kb))k && warm "$PWD/cfs/c" || return 1
		rc=0
		"$PROCACHE" run --cache-dir "$PWD/cfs/c" --disk 0 --report report.json -- \
			sh -c "head -c ${k}000 /dev/zero >out/f 2>/dev/null; echo new >out/keep; seq 1 2000" \
			>stdout 2>stderr || rc=$? &&
		case $rc/$(report_status) in
		0/miss)
			test "$(stat -c %s out/f)" = ${k}000 &&
			stored=$((stored + 1)) ;;
		0/uncacheable)
			# The job ran, only its store failed: its results are
			# applied all the same (the captured files put back
			# from the blob store), one line says why, and the
			# report names the reason.
			grep "^procache:" stderr >pc-stderr &&
			test_line_count 1 pc-stderr &&
			grep -q "^procache: warning: cannot store the result (applying it uncached): .*$Q$PWD/cfs/c/[^$Q]*$Q: No space left on device$" pc-stderr &&
			grep -q "\"cannot store the result: .*No space left on device\"" report.json &&
			test_cmp expect-new out/keep && test -f out/f &&
			test_cmp expect-stdout stdout &&
			store_fail=$((store_fail + 1)) ;;
		125/*)
			# One line from procache (the job may say its own).
			grep "^procache:" stderr >pc-stderr &&
			test_line_count 1 pc-stderr &&
			grep -q "^procache: .*$Q$PWD/cfs/c/[^$Q]*$Q: No space left on device$" pc-stderr &&
			! grep -q "cannot store" pc-stderr &&
			# Nothing applied: the outputs are as they were.
			test_path_is_missing out/f && test_cmp expect-keep out/keep &&
			capture_fail=$((capture_fail + 1)) ;;
		*)
			echo "exit $rc for ${k} KB" >&2; cat stderr >&2; false ;;
		esac &&
		nothing_partial cfs/c &&
		# After a failure, the next run on this cache works: what the
		# failed run left (its run directory, blobs it had stored) does
		# not keep the disk full.
		if [ "$(report_status)" != miss ]; then
			run miss --cache-dir "$PWD/cfs/c" --disk 0 -- sh -c "echo small >out/small" &&
			echo small >expect && test_cmp expect out/small &&
			nothing_partial cfs/c
		fi &&
		rm -f out/f out/small && echo old >out/keep &&
		umount cfs || return 1
	done &&
	echo "# sizes: $stored stored, $store_fail failed storing, $capture_fail failed capturing" &&
	test $store_fail -ge 1 && test $capture_fail -ge 1 && test $stored -ge 1
'

test_expect_success ROOT 'an output file system fills while applying: 125 naming the file, the rest whole, a later hit completes it' '
	small_fs ofs &&
	echo old >ofs/keep &&
	cat >job.sh <<-\EOF &&
	echo new >ofs/keep
	head -c 600000 /dev/zero | tr "\0" a >ofs/a
	head -c 600000 /dev/zero | tr "\0" b >ofs/b
	echo done
	EOF
	test_expect_code 125 "$PROCACHE" run --report report.json --output ofs -- sh job.sh >stdout 2>stderr &&
	test "$(report_status)" = error &&
	test_line_count 1 stderr &&
	grep -q "^procache: cannot apply $Q$PWD/ofs/b$Q: No space left on device$" stderr &&
	# Changes apply in path order and stop at the failure: ofs/a is
	# whole, ofs/b absent, ofs/keep untouched; no temporary file is left.
	echo old >expect && test_cmp expect ofs/keep &&
	head -c 600000 /dev/zero | tr "\0" a >expect-a && test_cmp expect-a ofs/a &&
	test_path_is_missing ofs/b &&
	test "$(ls -A ofs | sort | tr "\n" " ")" = "a keep " &&
	nothing_partial "$PROCACHE_DIR" &&
	# With room again, the stored entry completes the outputs.
	mount -o remount,size=4M ofs &&
	run hit --output ofs -- sh job.sh >stdout &&
	echo done >expect && test_cmp expect stdout &&
	head -c 600000 /dev/zero | tr "\0" b >expect-b && test_cmp expect-b ofs/b &&
	test_cmp expect-a ofs/a &&
	echo new >expect && test_cmp expect ofs/keep &&
	nothing_partial "$PROCACHE_DIR"
'

test_expect_success ROOT 'a hit whose restore fills the output disk: 125, the entry stays good' '
	small_fs ofs 4M &&
	cat >job.sh <<-\EOF &&
	head -c 1500000 /dev/zero | tr "\0" x >ofs/x
	head -c 1500000 /dev/zero | tr "\0" y >ofs/y
	EOF
	run miss --output ofs -- sh job.sh &&
	rm ofs/x ofs/y &&
	head -c 2000000 /dev/zero >ofs/filler &&
	test_expect_code 125 "$PROCACHE" run --report report.json --output ofs -- sh job.sh 2>stderr &&
	test "$(report_status)" = error &&
	grep -q "^procache: cannot apply $Q$PWD/ofs/[xy]$Q: No space left on device$" stderr &&
	test -z "$(ls -A ofs | grep -v -e "^filler$" -e "^x$")" &&
	nothing_partial "$PROCACHE_DIR" &&
	rm ofs/filler &&
	run hit --output ofs -- sh job.sh &&
	test "$(stat -c %s ofs/x ofs/y | tr "\n" " ")" = "1500000 1500000 "
'

# (--disk 0: upper directories on the cache's file system, where the
# captured files are renamed into the blob store and must be put back.)
# The store fails when the cache's file system has no inode left (tmpfs
# counts a hard link as one): linking the captured files back fails too.
# A blob of this store's own is renamed back (no inode needed); a blob that
# an earlier entry shares cannot be moved, so that one file is lost from
# the run directory: the message says where its bytes still are, every
# other change is applied, and the run fails (125) naming the lost file.
test_expect_success ROOT 'a captured file that cannot be put back after a failed store: said with the blob holding it, the rest applied, 125' '
	small_fs cfs 8M &&
	mkdir out &&
	head -c 5000 /dev/urandom >shared &&
	run miss --cache-dir "$PWD/cfs/c" --disk 0 -- sh -c "cat shared >out/shared" &&
	rm out/shared &&
	# From no inode to spare up: each run fails at a later step; the
	# case wanted is the entry failing after the blobs were put.
	lost=0 &&
	for k in $(seq 0 80); do
		rm -rf cfs/c/run/.trash-* &&
		used=$(( $(stat -f -c "%c - %d" cfs) )) &&
		mount -o remount,nr_inodes=$((used + k)) cfs &&
		rc=0 &&
		{ "$PROCACHE" run --cache-dir "$PWD/cfs/c" --disk 0 --report report.json -- \
			sh -c "cat shared >out/shared; echo own-$k >out/own; echo out-$k" \
			>stdout 2>stderr || rc=$?; } &&
		if grep -q "cannot put .* back" stderr; then
			# said with the path of the blob still holding the
			# bytes; the other output applied, the lost one not
			test $rc = 125 &&
			test "$(report_status)" = error &&
			grep -q "^procache: warning: cannot store the result (applying it uncached): .*; cannot put $Q$PWD/cfs/c/run/[0-9a-f]*/layers/[0-9]*/upper$PWD/out/shared$Q back (its bytes stay in $Q$PWD/cfs/c/blobs/[0-9a-f/]*$Q): No space left on device" stderr &&
			blob=$(sed -n "s|.*its bytes stay in $Q\([^$Q]*\)$Q.*|\1|p" stderr) &&
			test_cmp shared "$blob" &&
			grep -q "^procache: cannot apply $Q$PWD/out/shared$Q: its captured file was lost when the store failed$" stderr &&
			test_path_is_missing out/shared &&
			echo own-$k >expect && test_cmp expect out/own &&
			echo out-$k >expect && test_cmp expect stdout &&
			lost=$((lost + 1))
		else
			case $rc in 0|125) ;; *) cat stderr >&2; false ;; esac
		fi &&
		rm -f out/shared out/own &&
		mount -o remount,nr_inodes=100000 cfs &&
		cache_is_sound cfs/c &&
		if [ $lost -ge 1 ]; then break; fi || return 1
	done &&
	test $lost -ge 1
'

test_expect_success ROOT 'with a disk limit the job writes into its own tmpfs: a full cache file system only fails the store' '
	small_fs cfs 1M &&
	mkdir -p out &&
	run uncacheable --cache-dir "$PWD/cfs/c" --disk 8M -- \
		sh -c "head -c 3000000 /dev/zero >out/big; echo done" >stdout 2>stderr &&
	{ test $rc = 0 || { echo "exit $rc" >&2; cat stderr >&2; false; }; } &&
	echo done >expect && test_cmp expect stdout &&
	{ grep -q "^procache: warning: cannot store the result (applying it uncached): .*No space left on device" stderr ||
		{ cat stderr >&2; false; }; } &&
	test "$(stat -c %s out/big)" = 3000000 &&
	nothing_partial cfs/c
'

test_done

#!/usr/bin/env bash
test_description='hermeticity: the tracer fast path (DESIGN.md §3.1): records judged in order, programs without the library, what the job sees is keyed'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-hermetic.sh"

# make check runs this script with the fast path on and forced off
# (tests/run-all.sh): every verdict must be the same both ways.
# Inputs rewritten with their old bytes get new mtimes: what these cases
# are about is the order in which calls are judged, not times (t1090), so
# they run with --mtime=content (the weaker precondition), as t1050 does.
HOPTS=--mtime=content
FAST=$HELPERS/tr-fast

test_expect_success 'read then delete its input: the content read is the precondition' '
	hstart && echo a >in &&
	hmiss -- "$FAST" read-unlink in &&
	test_path_is_missing in &&
	echo a >in &&
	hhit -- "$FAST" read-unlink in &&
	echo b >in &&
	hmiss -- "$FAST" read-unlink in
'

test_expect_success 'read then rewrite its input: the first content is the precondition' '
	hstart && echo a >in &&
	hmiss -- "$FAST" read-rewrite in &&
	echo new >expect && test_cmp expect in &&
	echo a >in &&
	hhit -- "$FAST" read-rewrite in &&
	echo b >in &&
	hmiss -- "$FAST" read-rewrite in
'

test_expect_success 'a file the job made, read and removed: not an input' '
	hstart &&
	hmiss -- "$FAST" create-read-rm mine &&
	hhit -- "$FAST" create-read-rm mine
'

# Its read is a record, its chmod a notified write: the record is judged
# before the write (the file is the job's then), not after as a host path
# (which would record it absent: the rerun, with the output applied,
# would miss every time).
test_expect_success 'a file the job made, read, then chmod-ed and kept: the rerun hits' '
	hstart && umask 022 &&
	hmiss -- "$FAST" create-read-chmod out &&
	test -f out &&
	hhit -- "$FAST" create-read-chmod out
'

test_expect_success 'every interposed lookup: a changed symlink target misses' '
	hstart && echo x >a && echo y >b && ln -s a l &&
	hmiss -- "$FAST" lookups l missing a/x &&
	hhit -- "$FAST" lookups l missing a/x &&
	rm l && ln -s b l &&
	hmiss -- "$FAST" lookups l missing a/x &&
	echo z >missing &&
	hmiss -- "$FAST" lookups l missing a/x
'

test_expect_success 'relative paths and a changed cwd, from many threads' '
	hstart && mkdir d && echo 1 >d/f && ln -s f d/l &&
	hmiss -- sh -c "cd d && \"$FAST\" threads 6 10 f l nothing" &&
	hhit -- sh -c "cd d && \"$FAST\" threads 6 10 f l nothing" &&
	echo 2 >d/f &&
	hmiss -- sh -c "cd d && \"$FAST\" threads 6 10 f l nothing"
'

test_expect_success 'a static program and a cleared environment are still traced' '
	hstart && echo 1 >in &&
	hmiss -- "$HELPERS/tr-fast-static" lookups in &&
	hhit -- "$HELPERS/tr-fast-static" lookups in &&
	echo 2 >in &&
	hmiss -- "$HELPERS/tr-fast-static" lookups in &&
	hmiss -- env -i "$FAST" lookups in &&
	hhit -- env -i "$FAST" lookups in &&
	echo 3 >in &&
	hmiss -- env -i "$FAST" lookups in
'

# (LeakSanitizer's ptrace of its own threads at exit is allowed: t1060.)
test_expect_success 'a program built with AddressSanitizer runs, directly and from a shell, and hits' '
	hstart &&
	hmiss -- "$HELPERS/tr-fast-asan" env &&
	echo LD_PRELOAD= >expect && test_cmp expect "$TEST_DIR/stdout" &&
	hhit -- "$HELPERS/tr-fast-asan" env &&
	hmiss -- sh -c "\"$HELPERS/tr-fast-asan\" stat x; echo \$?" &&
	echo 0 >expect && test_cmp expect "$TEST_DIR/stdout"
'

test_expect_success 'the fast path is keyed: on and forced off do not share entries' '
	hstart && (
		export PROCACHE_FAST_PATH=1 &&
		hmiss -- "$FAST" env &&
		echo LD_PRELOAD=/dev/.procache/fastpath.so >expect &&
		test_cmp expect "$TEST_DIR/stdout" &&
		hhit -- "$FAST" env &&
		export PROCACHE_FAST_PATH=0 &&
		hmiss -- "$FAST" env &&
		echo LD_PRELOAD= >expect &&
		test_cmp expect "$TEST_DIR/stdout" &&
		hhit -- "$FAST" env
	)
'

test_expect_success 'a preload of the job own is kept, ours after it' '
	hstart && (
		export PROCACHE_FAST_PATH=1 &&
		hmiss --env-set LD_PRELOAD=libm.so.6 -- "$FAST" env &&
		echo LD_PRELOAD=libm.so.6:/dev/.procache/fastpath.so >expect &&
		test_cmp expect "$TEST_DIR/stdout"
	)
'

# Issue 15: the times a stat shows are observations. A stat or an fd's
# stat read from the channel holds the mtime as the notified one does.
test_expect_success 'a stat and an fstat through the channel hold the mtime' '
	hstart && echo a >in && HOPTS= &&
	for how in stat fstat; do
		touch -d 2001-02-03 in &&
		hmiss -- "$FAST" $how in &&
		hhit -- "$FAST" $how in &&
		touch -d 2001-02-04 in &&
		hmiss -- "$FAST" $how in || return 1
	done
'

# A stat of the job's own file is a record, its rename a notified call:
# the record is handled before the rename, so the mark "the job saw its
# times" moves to the new name and the file keeps on a hit the time the
# job was shown.
test_expect_success 'a file the job made, stat-ed, then renamed: a hit keeps the time it saw' '
	hstart && HOPTS= &&
	hmiss -- sh -c "echo x >f.tmp && stat -c %.9Y f.tmp >seen && mv f.tmp f" &&
	test "$(stat -c %.9Y f)" = "$(cat seen)" &&
	rm f seen &&
	hrun hit -- sh -c "echo x >f.tmp && stat -c %.9Y f.tmp >seen && mv f.tmp f" &&
	test "$(stat -c %.9Y f)" = "$(cat seen)"
'

test_done

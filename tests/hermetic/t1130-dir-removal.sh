#!/usr/bin/env bash
test_description='hermeticity: a directory removed or replaced (rmdir, rename onto it) is observed with its entries'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-hermetic.sh"
# What decides these cases is a directory's entries, not times (t1090).
HOPTS=--mtime=content

# rmdir succeeds only on an empty directory: recorded empty, a hit after a
# file was put there deleted it with the directory (found in review).
test_expect_success 'rmdir of a host directory, recorded empty, now with a file: miss, the file kept' '
	hstart && mkdir e &&
	hmiss -- rmdir e &&
	test_path_is_missing e &&
	mkdir e && hhit -- rmdir e &&
	mkdir e && echo precious >e/f &&
	hmiss -- rmdir e &&
	test "$rc" = 1 &&
	echo precious >expect && test_cmp expect e/f
'

test_expect_success 'rmdir of a host directory, recorded not empty, now empty: miss' '
	hstart && mkdir e && echo x >e/f &&
	hmiss -- rmdir e &&
	test "$rc" = 1 && test_path_is_file e/f &&
	hhit -- rmdir e &&
	rm e/f &&
	hmiss -- rmdir e &&
	test "$rc" = 0 && test_path_is_missing e
'

# (rm -d reads the directory first; Python's os.rmdir with dir_fd is the
# bare unlinkat(dirfd, "e", AT_REMOVEDIR))
RMDIRAT="import os; os.rmdir(\"e\", dir_fd=os.open(\".\", os.O_RDONLY))"

test_expect_success 'unlinkat(AT_REMOVEDIR), recorded empty, now with a file: miss' '
	hstart && mkdir e &&
	hmiss -- "$PYTHON" -c "$RMDIRAT" &&
	test_path_is_missing e &&
	mkdir e && echo precious >e/f &&
	hmiss -- "$PYTHON" -c "$RMDIRAT" &&
	test "$rc" = 1 &&
	echo precious >expect && test_cmp expect e/f
'

# rename(2) onto a directory replaces it only when it is empty.
test_expect_success 'rename onto a host directory, recorded empty, now with a file: miss, the file kept' '
	hstart && mkdir b &&
	hmiss -- sh -c "mkdir t && echo 1 >t/x && mv -T t b" &&
	echo 1 >expect && test_cmp expect b/x &&
	rm -rf b && mkdir b && echo precious >b/keep &&
	hmiss -- sh -c "mkdir t && echo 1 >t/x && mv -T t b" &&
	test "$rc" != 0 &&
	echo precious >expect && test_cmp expect b/keep
'

test_expect_success 'rename onto a host directory, recorded not empty, now empty: miss' '
	hstart && mkdir b && echo y >b/keep &&
	hmiss -- sh -c "mkdir t && echo 1 >t/x && mv -T t b" &&
	test "$rc" != 0 &&
	rm -r t b/keep &&
	hmiss -- sh -c "mkdir t && echo 1 >t/x && mv -T t b" &&
	test "$rc" = 0 &&
	echo 1 >expect && test_cmp expect b/x
'

test_expect_success 'rmdir of a host directory whose files the job removed first: a file added since: miss' '
	hstart && mkdir e && echo x >e/f &&
	hmiss -- sh -c "rm e/f && rmdir e" &&
	test_path_is_missing e &&
	mkdir e && echo x >e/f &&
	hhit -- sh -c "rm e/f && rmdir e" &&
	mkdir e && echo x >e/f && echo precious >e/g &&
	hmiss -- sh -c "rm e/f && rmdir e" &&
	echo precious >expect && test_cmp expect e/g
'

# --nested: the unit `rmdir e` observes e's entries too (its own
# lookup, inside an outer run that misses for another reason).
test_expect_success 'rmdir under --nested, recorded empty, now with a file: the unit is not skipped' '
	hstart && echo 1 >stamp && mkdir e &&
	hmiss --nested -- sh -c "cat stamp; rmdir e; echo rmdir=\$?" &&
	printf "1\nrmdir=0\n" >expect && test_cmp expect "$TEST_DIR/stdout" &&
	echo 2 >stamp && mkdir e && echo precious >e/f &&
	hmiss --nested -- sh -c "cat stamp; rmdir e; echo rmdir=\$?" &&
	printf "2\nrmdir=1\n" >expect && test_cmp expect "$TEST_DIR/stdout" &&
	echo precious >expect && test_cmp expect e/f
'

test_done

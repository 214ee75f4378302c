#!/usr/bin/env bash
test_description='hermeticity: file contents and files only stat-ed'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-hermetic.sh"

test_expect_success 'content edited: miss; unchanged: hit' '
	hstart && echo v1 >in &&
	hmiss -- sh -c "cat in >out" &&
	hhit -- sh -c "cat in >out" &&
	echo v2 >in &&
	hmiss -- sh -c "cat in >out" &&
	echo v2 >expect && test_cmp expect out
'

test_expect_success 'same size, mtime and atime restored with touch -r: miss' '
	hstart && echo aaaa >in && touch -r /etc/passwd in && cp -p in ref &&
	hmiss -- cat in &&
	echo bbbb >in && touch -r ref in &&
	test "$(stat -c %s.%Y in)" = "$(stat -c %s.%Y ref)" &&
	hmiss -- cat in &&
	hstdout_is bbbb
'

test_expect_success 'content edited, restored to the same bytes: miss (cat was shown the mtime); with --mtime=content: hit' '
	hstart && echo same >in &&
	hmiss -- sh -c "cat in >out" &&
	hmiss --mtime=content -- sh -c "cat in >out" &&
	echo other >in && echo same >in &&
	hhit --mtime=content -- sh -c "cat in >out" &&
	hmiss -- sh -c "cat in >out"
'

test_expect_success 'a read file made executable (same bytes): miss (content records the mode)' '
	hstart && echo x >in &&
	hmiss -- sh -c "cat in; test -x in && echo exec" &&
	chmod +x in &&
	hmiss -- sh -c "cat in; test -x in && echo exec" &&
	printf "x\nexec\n" >expect && test_cmp expect "$TEST_DIR/stdout"
'

# stat -c "%s %a %U" observes size, mode and owner, not the time.
test_expect_success 'a file only stat-ed grows: miss' '
	hstart && echo 12 >f &&
	hmiss -- stat -c "%s %a" f &&
	echo 12345 >f &&
	hmiss -- stat -c "%s %a" f &&
	hstdout_is "6 644"
'

test_expect_success 'a file only stat-ed, edited at the same size: miss (its mtime moved and its bytes differ)' '
	hstart && echo 12 >f && touch -d 2001-01-01 f &&
	hmiss -- stat -c "%s %a" f &&
	echo 34 >f &&
	hmiss -- stat -c "%s %a" f
'

test_expect_success 'a file only stat-ed, edited at the same size with its mtime restored: hit (nothing a stat shows changed)' '
	hstart && echo 12 >f && touch -d 2001-01-01 f &&
	hmiss -- stat -c "%s %a %Y" f &&
	echo 34 >f && touch -d 2001-01-01 f &&
	hhit -- stat -c "%s %a %Y" f
'

# make reads a source only when it is newer than its target: the stat is
# all the job sees of an up-to-date source.
test_expect_success 'make: an up-to-date target, its source edited at the same size: miss' '
	hstart && echo 1 >src && printf "out: src\n\tcp src out\n" >Makefile &&
	touch -d 2001-01-01 src && cp src out && touch -d 2002-02-02 out &&
	hmiss -- make -s &&
	hhit -- make -s &&
	echo 2 >src &&
	hmiss -- make -s &&
	echo 2 >expect && test_cmp expect out
'

test_expect_success 'a file only stat-ed changes mode: miss' '
	hstart && echo 12 >f && chmod 644 f &&
	hmiss -- stat -c "%s %a" f &&
	chmod 600 f &&
	hmiss -- stat -c "%s %a" f &&
	hstdout_is "3 600"
'

test_expect_success 'a file only stat-ed changes owner: miss' '
	hstart && echo 12 >f &&
	hmiss -- stat -c "%s %u" f &&
	chown 12345 f &&
	hmiss -- stat -c "%s %u" f &&
	hstdout_is "3 12345"
'

test_expect_success 'a file only stat-ed, mtime changed: miss; with --mtime=content: hit' '
	hstart && echo 12 >f && touch -d 2001-01-01 f &&
	hmiss -- stat -c "%s %a" f &&
	hmiss --mtime=content -- stat -c "%s %a" f &&
	hmiss --strict-stat -- stat -c "%s %a" f &&
	touch -d 2002-02-02 f &&
	hmiss -- stat -c "%s %a" f &&
	hhit -- stat -c "%s %a" f &&
	hhit --mtime=content -- stat -c "%s %a" f &&
	hmiss --strict-stat -- stat -c "%s %a" f &&
	hhit --strict-stat -- stat -c "%s %a" f
'

# A directory's mtime is observed when the job listed it and lstat-ed it
# (tar, find, cp -a: DESIGN.md §3): a touch misses there. A shell stats its
# working directory, a compiler its -I directories, following symlinks,
# and stat(1) does not list what it names: not observed, so a file made
# there by someone else costs no miss.
test_expect_success 'a directory only stat-ed changes mode: miss; gains an entry: hit (its mtime is not observed), with --strict-stat: miss' '
	hstart && mkdir d && chmod 755 d &&
	hmiss -- stat -c "%F %a" d &&
	hmiss -- stat -L -c "%F %a" d &&
	hmiss -- sh -c "cd d && echo in-d" &&
	hmiss --strict-stat -- stat -c "%F %a" d &&
	touch d/new &&
	hhit -- stat -c "%F %a" d &&
	hhit -- stat -L -c "%F %a" d &&
	hhit -- sh -c "cd d && echo in-d" &&
	hmiss --strict-stat -- stat -c "%F %a" d &&
	chmod 700 d &&
	hmiss -- stat -c "%F %a" d &&
	hstdout_is "directory 700"
'

test_expect_success 'a directory listed and lstat-ed (find) touched, same entries: miss; with --mtime=content: hit' '
	hstart && mkdir d && echo x >d/f && touch -d 2001-01-01 d &&
	hmiss -- find d -name f &&
	hmiss --mtime=content -- find d -name f &&
	hhit -- find d -name f &&
	touch -d 2002-02-02 d &&
	hmiss -- find d -name f &&
	hhit --mtime=content -- find d -name f &&
	touch d/g && rm d/g &&
	hmiss -- find d -name f
'

test_expect_success 'a path probed absent (test -e) appears: miss' '
	hstart &&
	hmiss -- sh -c "if test -e flag; then echo on; else echo off; fi" &&
	hhit -- sh -c "if test -e flag; then echo on; else echo off; fi" &&
	touch flag &&
	hmiss -- sh -c "if test -e flag; then echo on; else echo off; fi" &&
	hstdout_is on
'

test_expect_success 'a directory walked, then lstat-ed after a process outside the job added an entry: stored, not "changed during the run", then a hit' '
	hstart && mkdir -p d/sub &&
	{ (sleep 0.5 && : >d/new) & } &&
	hmiss -- sh -c "cd d/sub && stat -L -c %F .. && sleep 1.5 && stat -c %F .." &&
	wait &&
	hhit -- sh -c "cd d/sub && stat -L -c %F .. && sleep 1.5 && stat -c %F .."
'

test_expect_success 'a path probed present disappears: miss' '
	hstart && touch flag &&
	hmiss -- sh -c "if test -e flag; then echo on; else echo off; fi" &&
	rm flag &&
	hmiss -- sh -c "if test -e flag; then echo on; else echo off; fi" &&
	hstdout_is off
'

test_expect_success 'a file read through a hard link, changed through another name: miss' '
	hstart && echo v1 >a && ln a b && touch -d 2001-01-01 a &&
	hmiss -- cat b &&
	echo v2 >a && touch -d 2001-01-01 a &&
	hmiss -- cat b &&
	hstdout_is v2
'

test_expect_success 'a large file changed in one byte in the middle, size and mtime kept: miss' '
	hstart && head -c 300000 /dev/zero >big && touch -d 2001-01-01 big &&
	hmiss -- sh -c "md5sum <big" &&
	printf x | dd of=big bs=1 seek=150000 conv=notrunc 2>/dev/null && touch -d 2001-01-01 big &&
	hmiss -- sh -c "md5sum <big" &&
	test "$(cat "$TEST_DIR/stdout")" = "$(md5sum <big)"
'

test_expect_success 'a file only stat-ed, larger than what is hashed (16 MiB), touched: miss' '
	hstart && truncate -s 17M big && touch -d 2001-01-01 big &&
	hmiss -- stat -c %s big &&
	hhit -- stat -c %s big &&
	touch big &&
	hmiss -- stat -c %s big
'

test_expect_success 'a file only stat-ed gains a hard link elsewhere: miss (stat shows the link count)' '
	hstart && echo 12 >f && mkdir other &&
	hmiss -- stat -c "%s %h" f &&
	hhit -- stat -c "%s %h" f &&
	ln f other/g &&
	hmiss -- stat -c "%s %h" f &&
	hstdout_is "3 2"
'

test_done

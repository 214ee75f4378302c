#!/usr/bin/env bash
test_description='real world: Unix tools (coreutils, findutils, sed, awk, grep, diff, patch, tar, procps) hit on rerun with an exact replay'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-realworld.sh"

tree_setup() {
	mkdir -p d/sub && printf 'one\ntwo\nthree\ntwo\n' >d/a.txt &&
	printf 'x\n' >d/sub/b.txt && ln -s a.txt d/link && chmod 0640 d/sub/b.txt
}

test_expect_success 'cp -r: a tree with a symlink' '
	rw_case cp tree_setup "echo four >>d/a.txt" "cp -r d e && ls e e/sub"
'

test_expect_success 'mv: a file' '
	rw_case mv tree_setup "echo four >>d/a.txt" "mv d/a.txt d/renamed.txt && cat d/renamed.txt"
'

test_expect_success 'ls: names only (no -l)' '
	rw_case ls tree_setup "touch d/new" "ls -R d"
'

test_expect_success 'find: names, types and sizes' '
	rw_case find tree_setup "echo more >>d/sub/b.txt" "find d -printf \"%y %s %p\n\" | sort"
'

test_expect_success 'sort, uniq, wc, cut, tr: a pipeline' '
	rw_case coreutils tree_setup "echo one >>d/a.txt" \
		"sort d/a.txt | uniq -c | tr a-z A-Z | cut -c1-12 >counts && wc -l <counts && cat counts"
'

# sed -i copies the file's ACL and xattrs to its new file (fgetxattr,
# fsetxattr).
test_expect_success 'sed -i: an edit in place' '
	rw_case sed tree_setup "echo two >>d/a.txt" "sed -i s/two/TWO/ d/a.txt && cat d/a.txt"
'

test_expect_success 'awk: sums' '
	rw_case awk "printf \"a 1\nb 2\na 3\n\" >t.txt" "echo \"b 10\" >>t.txt" \
		"awk \"{s[\\\$1] += \\\$2} END {for (k in s) print k, s[k]}\" t.txt | sort"
'

test_expect_success 'grep -rn' '
	rw_case grep tree_setup "echo two >>d/sub/b.txt" "grep -rn two d | sort"
'

test_expect_success 'diff and patch' '
	rw_case patch "printf \"a\nb\nc\n\" >old && printf \"a\nB\nc\n\" >new" "echo d >>new" \
		"diff -u old new >p.diff; patch -o patched old <p.diff >/dev/null && cmp patched new && cat p.diff | tail -n +3"
'

test_expect_success 'md5sum, sha256sum' '
	rw_case sums tree_setup "echo z >>d/sub/b.txt" "sha256sum d/a.txt d/sub/b.txt && md5sum d/a.txt"
'

test_expect_success 'tar: create an archive' '
	rw_case tar-c tree_setup "echo z >>d/sub/b.txt" "tar cf t.tar d && tar tvf t.tar | awk \"{print \\\$1, \\\$3, \\\$6}\""
'

tar_setup() {
	tree_setup && tar cf ../t.tar d && rm -rf d && mv ../t.tar .
}
test_expect_success 'tar: extract an archive (modes, times, symlinks)' '
	RW_TIMES=. rw_case tar-x tar_setup "echo junk >>t.tar" "tar xf t.tar && ls -R d"
'

test_expect_success 'ln -s, chmod, touch -d' '
	RW_TIMES=^d/a.txt\$ rw_case ln tree_setup "echo z >>d/a.txt" \
		"ln -s d/a.txt l && chmod 0600 d/a.txt && touch -d 2001-02-03 d/a.txt && cat l"
'

test_expect_success 'split, seq, od, xxd' '
	rw_need xxd &&
	rw_case split "seq 1 100 >n.txt" "seq 1 5 >>n.txt" \
		"split -l 30 n.txt part- && ls part-* && od -c part-aa | head -2 && xxd part-ad | head -1"
'

test_expect_success 'file: the types of files' '
	rw_need file &&
	rw_case file tree_setup "echo \"#!/bin/sh\" >d/a.txt" "file d/a.txt d/sub d/link"
'

test_expect_success 'free, uptime, nproc: what the job is shown of the machine' '
	rw_need free uptime &&
	rw_case machine "echo 1 >input" "echo 2 >input" "cat input; free -b; uptime; nproc"
'

test_expect_success 'ps: the sandbox processes' '
	rw_need ps &&
	rw_case ps "echo 1 >input" "echo 2 >input" "cat input; ps -e -o pid,comm"
'

test_expect_success 'sh script: a loop writing files' '
	rw_case shell "printf \"for i in 1 2 3; do echo \\\$i >f\\\$i; done\nls\n\" >s.sh" \
		"echo \"echo end\" >>s.sh" "sh s.sh"
'

test_done

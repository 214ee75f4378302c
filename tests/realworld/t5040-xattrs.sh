#!/usr/bin/env bash
test_description='real world: programs that read or copy extended attributes (ls -l, cp -a, mv of a directory, tar --xattrs, rsync -aX)'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-realworld.sh"

# Each of these reads extended attributes (coreutils ls -l reads the ACL
# and SELinux label of every entry; cp -a, tar and rsync copy them;
# overlayfs turns a directory rename into a copy): modelled (DESIGN.md
# section 3), so each hits and replays the attributes.

tree_setup() {
	mkdir -p d/sub && printf 'one\ntwo\n' >d/a.txt && printf 'x\n' >d/sub/b.txt &&
	ln -s a.txt d/link && chmod 0640 d/sub/b.txt &&
	/usr/bin/python3 -c "import os; os.setxattr(\"d/a.txt\", \"user.origin\", b\"rw\")" &&
	touch -d 2001-01-01 d/a.txt
}

test_expect_success 'ls -l' '
	rw_case ls-l tree_setup "echo three >>d/a.txt" "ls -lR --time-style=+%Y d | grep -v ^total"
'

test_expect_success 'cp -a' '
	RW_TIMES=. rw_case cp-a tree_setup "echo three >>d/a.txt" "cp -a d e && ls e"
'

test_expect_success 'mv of a directory' '
	rw_case mv-dir tree_setup "echo three >>d/a.txt" "mv d d2 && ls -R d2"
'

tarx_setup() {
	tree_setup && tar --xattrs -cf ../t.tar d && rm -rf d && mv ../t.tar .
}
test_expect_success 'tar --xattrs -x' '
	RW_TIMES=. rw_case tar-xattrs tarx_setup "echo junk >>t.tar" "tar --xattrs -xf t.tar && ls -R d"
'

test_expect_success 'rsync -aX' '
	rw_need rsync &&
	RW_TIMES=. rw_case rsync tree_setup "echo three >>d/a.txt" "rsync -aX d/ e/ && ls -R e"
'

test_done

#!/usr/bin/env bash
test_description='hermeticity: extended attributes are observations and changes (issue 16)'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-hermetic.sh"

# Every case is run from the same starting tree twice: the second run is a
# hit whose tree (xattrs included: tree_snapshot) equals a fresh run's
# (hhit), and an input whose attributes change makes the job miss.
HOPTS=--mtime=content

# user_xattrs_work: the work directory's file system keeps user.* xattrs.
test_expect_success 'the work directory keeps user xattrs and POSIX ACLs' '
	hstart && echo a >probe &&
	setfattr -n user.probe -v 1 probe &&
	setfacl -m u:nobody:r probe &&
	getfacl -c probe | grep -q "^user:nobody:r--$" &&
	rm probe
'

test_expect_success 'getfattr: hit; a value changed, an attribute added or removed: miss' '
	hstart && echo a >f && setfattr -n user.a -v one f &&
	hmiss -- getfattr -d f &&
	hhit -- getfattr -d f &&
	grep -q "user.a=\"one\"" "$TEST_DIR/stdout" &&
	setfattr -n user.a -v two f &&
	hmiss -- getfattr -d f &&
	grep -q "user.a=\"two\"" "$TEST_DIR/stdout" &&
	setfattr -n user.b -v x f &&
	hmiss -- getfattr -d f &&
	setfattr -x user.b f &&
	hhit -- getfattr -d f &&
	setfattr -x user.a f &&
	hmiss -- getfattr -d f
'

test_expect_success 'getfattr -n of an absent attribute: hit, miss once it is there' '
	hstart && echo a >f &&
	hrun miss -- sh -c "getfattr -n user.none f; echo rc=\$?" &&
	hhit -- sh -c "getfattr -n user.none f; echo rc=\$?" &&
	setfattr -n user.none -v now f &&
	hmiss -- sh -c "getfattr -n user.none f; echo rc=\$?" &&
	grep -q "rc=0" "$TEST_DIR/stdout"
'

test_expect_success '--explain names the file whose attributes differ' '
	hstart && echo a >f && setfattr -n user.a -v one f &&
	hmiss -- getfattr -d f &&
	setfattr -n user.a -v two f &&
	hmiss --explain -- getfattr -d f &&
	grep -q "\"kind\":[[:space:]]*\"xattrs\"" "$TEST_DIR/report.json" &&
	grep -q "\"found\":[[:space:]]*\"extended attributes user.a=74776f\"" "$TEST_DIR/report.json"
'

test_expect_success 'setfattr on a new file, a host file and a host directory: hit, the same attributes' '
	hstart && mkdir out && echo g >out/g && mkdir out/d &&
	JOB="echo n >out/new && setfattr -n user.n -v 1 out/new &&
	     setfattr -n user.g -v 2 out/g && setfattr -n user.d -v 3 out/d &&
	     setfattr -n user.top -v 4 out" &&
	hmiss -- sh -c "$JOB" &&
	getfattr -n user.d --only-values out/d | grep -qx 3 &&
	getfattr -n user.top --only-values out | grep -qx 4 &&
	setfattr -x user.g out/g && setfattr -x user.d out/d &&
	setfattr -x user.top out && rm out/new &&
	hhit -- sh -c "$JOB" &&
	getfattr -n user.n --only-values out/new | grep -qx 1 &&
	getfattr -n user.top --only-values out | grep -qx 4
'

test_expect_success 'setfattr -x of a host attribute: hit, removed again' '
	hstart && echo a >f && setfattr -n user.a -v 1 f && setfattr -n user.b -v 2 f &&
	hmiss -- setfattr -x user.a f &&
	setfattr -n user.a -v 1 f &&
	hhit -- setfattr -x user.a f &&
	hmiss -- getfattr -d f &&
	! grep -q user.a "$TEST_DIR/stdout" &&
	grep -q user.b "$TEST_DIR/stdout"
'

test_expect_success 'setfacl/getfacl: hit with the same ACL; a changed ACL on the input: miss' '
	hstart && echo a >f &&
	hmiss -- sh -c "setfacl -m u:nobody:rw f && getfacl -c f" &&
	setfacl -b f &&
	hhit -- sh -c "setfacl -m u:nobody:rw f && getfacl -c f" &&
	getfacl -c f | grep -q "^user:nobody:rw-$" &&
	hmiss -- getfacl -c f &&
	setfacl -m u:nobody:r f &&
	hmiss -- getfacl -c f &&
	grep -q "^user:nobody:r--$" "$TEST_DIR/stdout"
'

test_expect_success 'a default ACL is inherited by what the job creates; changed: miss' '
	hstart && mkdir d && setfacl -d -m u:nobody:rx d &&
	hmiss -- sh -c "echo x >d/new && mkdir d/sub" &&
	rm -r d/new d/sub &&
	hhit -- sh -c "echo x >d/new && mkdir d/sub" &&
	getfacl -c d/sub | grep -q "^default:user:nobody:r-x$" &&
	rm -r d/new d/sub &&
	setfacl -d -m u:nobody:r d &&
	hmiss -- sh -c "echo x >d/new && mkdir d/sub"
'

test_expect_success 'ls -l (reads ACLs of every entry): hit; an ACL added to an entry: miss' '
	hstart && echo a >f && echo b >g &&
	hmiss -- ls -l --time-style=+ f g &&
	hhit -- ls -l --time-style=+ f g &&
	setfacl -m u:nobody:r g &&
	hmiss -- ls -l --time-style=+ f g &&
	grep -q "^-rw-r--r--+ " "$TEST_DIR/stdout"
'

test_expect_success 'cp -a of a tree with xattrs and ACLs: hit, the copy has them' '
	hstart && mkdir -p src/sub && echo a >src/a && echo b >src/sub/b &&
	setfattr -n user.a -v 1 src/a && setfattr -n user.sub -v 2 src/sub &&
	setfacl -m u:nobody:r src/sub/b &&
	hmiss -- cp -a src dst &&
	getfattr -n user.sub --only-values dst/sub | grep -qx 2 &&
	rm -r dst &&
	hhit -- cp -a src dst &&
	getfacl -c dst/sub/b | grep -q "^user:nobody:r--$" &&
	rm -r dst &&
	setfattr -n user.a -v changed src/a &&
	hmiss -- cp -a src dst &&
	getfattr -n user.a --only-values dst/a | grep -qx changed
'

test_expect_success 'mv dir dir2 (overlayfs copies a directory rename): hit, the same attributes' '
	hstart && mkdir -p dir/sub && echo a >dir/a && setfattr -n user.a -v 1 dir/a &&
	setfattr -n user.dir -v 2 dir && setfacl -m u:nobody:r dir/sub &&
	hmiss -- mv dir dir2 &&
	test_path_is_missing dir &&
	getfattr -n user.dir --only-values dir2 | grep -qx 2 &&
	mv dir2 dir &&
	hhit -- mv dir dir2 &&
	getfattr -n user.a --only-values dir2/a | grep -qx 1
'

test_expect_success 'tar --xattrs -x: hit, the same attributes; another archive: miss' '
	hstart && mkdir t && echo a >t/a && setfattr -n user.a -v 1 t/a &&
	setfacl -m u:nobody:r t/a &&
	tar --xattrs --acls -cf a.tar t && rm -r t && mkdir x &&
	hmiss -- tar --xattrs --acls -xf a.tar -C x &&
	getfattr -n user.a --only-values x/t/a | grep -qx 1 &&
	rm -r x && mkdir x &&
	hhit -- tar --xattrs --acls -xf a.tar -C x &&
	rm -r x && mkdir x && mkdir t && echo a >t/a && setfattr -n user.a -v 2 t/a &&
	tar --xattrs -cf a.tar t && rm -r t &&
	hmiss -- tar --xattrs --acls -xf a.tar -C x &&
	getfattr -n user.a --only-values x/t/a | grep -qx 2
'

test_expect_success 'rsync -aX: hit, the same attributes; a changed source attribute: miss' '
	hstart && mkdir src && echo a >src/a && setfattr -n user.a -v 1 src/a &&
	setfattr -n user.src -v s src &&
	hmiss -- rsync -aX src/ dst/ &&
	rm -r dst &&
	hhit -- rsync -aX src/ dst/ &&
	getfattr -n user.a --only-values dst/a | grep -qx 1 &&
	rm -r dst &&
	setfattr -n user.a -v 2 src/a &&
	hmiss -- rsync -aX src/ dst/ &&
	getfattr -n user.a --only-values dst/a | grep -qx 2
'

test_expect_success 'an attribute procache cannot restore (trusted.*): uncacheable, named' '
	hstart && echo a >f &&
	# trusted.* needs CAP_SYS_ADMIN, which a trusted job lacks by default
	hrun uncacheable --cap-add SYS_ADMIN -- setfattr -n trusted.procache.test -v 1 f &&
	hreason_has trusted.procache.test
'

test_expect_success 'a read-write open of a host file keeps its attributes: a changed one misses' '
	hstart && echo a >f && setfattr -n user.a -v 1 f &&
	hmiss -- sh -c "echo more >>f" &&
	echo a >f && setfattr -n user.a -v 1 f &&
	hhit -- sh -c "echo more >>f" &&
	echo a >f && setfattr -n user.a -v 2 f &&
	hmiss -- sh -c "echo more >>f" &&
	getfattr -n user.a --only-values f | grep -qx 2
'

test_expect_success 'an output rewritten (O_TRUNC) keeps its attributes; removed since: hit unless it had some' '
	hstart && echo in >in && echo old >out && echo old >tagged &&
	setfattr -n user.t -v 1 tagged &&
	hmiss -- sh -c "cat in >out" &&
	rm out &&
	hhit -- sh -c "cat in >out" &&
	hmiss -- sh -c "cat in >tagged" &&
	getfattr -n user.t --only-values tagged | grep -qx 1 &&
	setfattr -n user.t -v 2 tagged &&
	hmiss -- sh -c "cat in >tagged" &&
	getfattr -n user.t --only-values tagged | grep -qx 2 &&
	rm tagged &&
	hmiss -- sh -c "cat in >tagged" &&
	test_must_fail getfattr -n user.t tagged
'

# Rootless (a user namespace, overlayfs with userxattr: its own markers
# are user.overlay.*, never shown as the job's).
as_user() {
	setpriv --reuid procache-test --regid procache-test --init-groups \
		env -i PATH=/usr/bin:/bin HOME="$UHOME" PROCACHE_DIR="$UHOME/cache" "$@"
}

test_expect_success UNPRIV_USER 'rootless: cp -a and setfattr: hit, the same attributes, no overlay marker' '
	UHOME=$TEST_DIR/uhome && mkdir -p "$UHOME/w/src/sub" && cd "$UHOME/w" &&
	echo a >src/a && setfattr -n user.a -v 1 src/a && setfattr -n user.sub -v 2 src/sub &&
	chmod 755 "$TEST_DIR" && chown -R procache-test: "$UHOME" &&
	JOB="cp -a src dst && setfattr -n user.new -v 3 dst/a && rm -r src/sub" &&
	as_user "$PROCACHE" run --mtime=content --report "$UHOME/r1.json" -- sh -c "$JOB" &&
	grep -q "\"status\":[[:space:]]*\"miss\"" "$UHOME/r1.json" &&
	tree_snapshot . >"$TEST_DIR/snap.miss" &&
	rm -r dst && mkdir src/sub && setfattr -n user.sub -v 2 src/sub &&
	chown -R procache-test: "$UHOME" &&
	as_user "$PROCACHE" run --mtime=content --report "$UHOME/r2.json" -- sh -c "$JOB" &&
	grep -q "\"status\":[[:space:]]*\"hit\"" "$UHOME/r2.json" &&
	tree_snapshot . >"$TEST_DIR/snap.hit" &&
	test_cmp "$TEST_DIR/snap.miss" "$TEST_DIR/snap.hit" &&
	getfattr -n user.new --only-values dst/a | grep -qx 3 &&
	! getfattr -R -d -m - . | grep -q overlay
'

# VFS_CAP_REVISION_2 | effective, permitted CAP_NET_RAW (bit 13)
CAP_NET_RAW=0x0100000200200000000000000000000000000000

test_expect_success ROOT 'as root: file capabilities the job sets: hit, restored' '
	hstart && cp /bin/true ./tool &&
	hmiss -- setfattr -n security.capability -v $CAP_NET_RAW tool &&
	getfattr -n security.capability -e hex tool | grep -q "=$CAP_NET_RAW$" &&
	setfattr -x security.capability tool &&
	hhit -- setfattr -n security.capability -v $CAP_NET_RAW tool &&
	getfattr -n security.capability -e hex tool | grep -q "=$CAP_NET_RAW$"
'

# Inode flags (chattr) are no precondition: the stat, the content and the
# extended attributes stay the same. Reading them taints (DESIGN §5).
test_expect_success 'lsattr (ioctl FS_IOC_GETFLAGS) and FS_IOC_FSGETXATTR make the job uncacheable' '
	hstart && echo data >f &&
	hrun uncacheable -- lsattr f &&
	hreason_has FS_IOC_GETFLAGS &&
	if chattr +d f 2>/dev/null; then
		hrun uncacheable -- lsattr f &&
		chattr -d f
	fi &&
	hrun uncacheable -- python3 -c "import fcntl; fcntl.ioctl(open(\"f\"), 0x801c581f, bytes(28))" &&
	hreason_has FS_IOC_FSGETXATTR &&
	hmiss -- cat f &&
	hhit -- cat f
'

test_done

#!/usr/bin/env bash
test_description='hermeticity: an untrusted job reaches a host path by the permissions and ACLs of every directory on the way'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-hermetic.sh"

# As root, procache's own walk is never refused; the untrusted job (uid
# 65534, no capabilities) is, by the search permission of each directory
# on the way, the write permission of a parent it removes from, and the
# ACLs of each (DESIGN.md §3, "Access"). Each change below leaves the
# file itself as it was, so only those records can make the rerun miss.
# A bare run as nobody gives what hhit's fresh run gives. Each key is
# recorded both ways (refused, then allowed), so that going back is a hit
# of the first entry, which hhit proves right.
# A file rewritten with its old bytes is not what decides these cases.
HOPTS=--mtime=content

test_expect_success 'the work directory keeps POSIX ACLs, and procache runs as root' '
	test "$(id -u)" = 0 &&
	hstart && echo a >probe && setfacl -m u:nobody:r probe &&
	getfacl -c probe | grep -q "^user:nobody:r--$" && rm probe
'

test_expect_success 'search permission of a directory on the way: 700, 755, back to 700' '
	hstart && mkdir d && chmod 700 d && echo secret >d/f && chmod 644 d/f &&
	hmiss --untrusted -- cat d/f && test "$rc" = 1 &&
	grep -q "Permission denied" "$TEST_DIR/stderr" &&
	chmod 755 d &&
	hmiss --untrusted -- cat d/f && hstdout_is secret &&
	chmod 700 d &&
	hhit --untrusted -- cat d/f && test "$rc" = 1 &&
	chmod 755 d &&
	hhit --untrusted -- cat d/f && hstdout_is secret
'

test_expect_success 'search permission of a directory on the way: 755, then 700' '
	hstart && mkdir d && chmod 755 d && echo secret >d/f && chmod 644 d/f &&
	hmiss --untrusted -- cat d/f && hstdout_is secret &&
	chmod 700 d &&
	hmiss --untrusted -- cat d/f && test "$rc" = 1
'

test_expect_success 'the owner of a directory on the way: chown nobody of a 700 directory' '
	hstart && mkdir d && chmod 700 d && echo secret >d/f && chmod 644 d/f &&
	hmiss --untrusted -- cat d/f && test "$rc" = 1 &&
	chown nobody d &&
	hmiss --untrusted -- cat d/f && hstdout_is secret &&
	chown root d &&
	hhit --untrusted -- cat d/f && test "$rc" = 1
'

test_expect_success 'search permission of an ancestor of an absolute path' '
	hstart && mkdir -p a/b && echo secret >a/b/f && chmod 755 a a/b &&
	hmiss --untrusted -- cat "$W/a/b/f" && hstdout_is secret &&
	chmod 700 a &&
	hmiss --untrusted -- cat "$W/a/b/f" && test "$rc" = 1 &&
	chmod 755 a &&
	hhit --untrusted -- cat "$W/a/b/f" && hstdout_is secret
'

test_expect_success 'an ACL on the file read (mode unchanged): miss, and back' '
	hstart && echo secret >f && chmod 640 f &&
	hmiss --untrusted -- cat f && test "$rc" = 1 &&
	setfacl -m u:nobody:r f && test "$(stat -c %a f)" = 640 &&
	hmiss --untrusted -- cat f && hstdout_is secret &&
	setfacl -b f && test "$(stat -c %a f)" = 640 &&
	hhit --untrusted -- cat f && test "$rc" = 1 &&
	setfacl -m u:nobody:r f &&
	hhit --untrusted -- cat f && hstdout_is secret
'

test_expect_success 'an ACL on the file read, allowed first: removed, miss' '
	hstart && echo secret >f && chmod 640 f && setfacl -m u:nobody:r f &&
	hmiss --untrusted -- cat f && hstdout_is secret &&
	setfacl -b f && test "$(stat -c %a f)" = 640 &&
	hmiss --untrusted -- cat f && test "$rc" = 1
'

test_expect_success 'the group of the file read (mode unchanged): chgrp nogroup of a 640 file' '
	hstart && echo secret >f && chmod 640 f &&
	hmiss --untrusted -- cat f && test "$rc" = 1 &&
	chgrp "$(id -gn nobody)" f &&
	hmiss --untrusted -- cat f && hstdout_is secret
'

test_expect_success 'an ACL on a directory on the way (mode unchanged): miss, and back' '
	hstart && mkdir d && chmod 750 d && echo secret >d/f && chmod 644 d/f &&
	hmiss --untrusted -- cat d/f && test "$rc" = 1 &&
	setfacl -m u:nobody:x d && test "$(stat -c %a d)" = 750 &&
	hmiss --untrusted -- cat d/f && hstdout_is secret &&
	setfacl -b d && chmod 750 d &&
	hhit --untrusted -- cat d/f && test "$rc" = 1
'

test_expect_success 'unlink: the write permission of the parent, 755 then 777' '
	hstart && mkdir d && chmod 755 d && echo x >d/f &&
	hmiss --untrusted -- rm -f d/f && test "$rc" = 1 &&
	test_path_is_file d/f &&
	chmod 777 d &&
	hmiss --untrusted -- rm -f d/f && test "$rc" = 0 &&
	test_path_is_missing d/f
'

test_expect_success 'unlink: recorded at 777, then 755: miss, the file stays' '
	hstart && mkdir d && chmod 777 d && echo x >d/f &&
	hmiss --untrusted -- rm -f d/f && test "$rc" = 0 &&
	test_path_is_missing d/f &&
	echo x >d/f &&
	hhit --untrusted -- rm -f d/f && test_path_is_missing d/f &&
	echo x >d/f && chmod 755 d &&
	hmiss --untrusted -- rm -f d/f && test "$rc" = 1 &&
	test_path_is_file d/f
'

test_expect_success 'unlink: an ACL granting write on the parent (mode unchanged)' '
	hstart && mkdir d && chmod 775 d && echo x >d/f &&
	hmiss --untrusted -- rm -f d/f && test "$rc" = 1 &&
	setfacl -m u:nobody:rwx d && test "$(stat -c %a d)" = 775 &&
	hmiss --untrusted -- rm -f d/f && test_path_is_missing d/f
'

test_expect_success 'unlink of a symlink in a sticky directory: its owner' '
	hstart && mkdir s && chmod 1777 s && ln -s target s/l &&
	hmiss --untrusted -- unlink s/l && test "$rc" = 1 &&
	test -L s/l &&
	chown -h nobody s/l &&
	hmiss --untrusted -- unlink s/l && test "$rc" = 0 &&
	! test -L s/l
'

test_expect_success 'a root job without CAP_DAC_OVERRIDE: the search permission of a directory of another owner' '
	hstart && mkdir d && echo secret >d/f && chmod 644 d/f &&
	chown nobody d && chmod 700 d &&
	hmiss --cap-drop DAC_OVERRIDE -- cat d/f && test "$rc" = 1 &&
	chmod 755 d &&
	hmiss --cap-drop DAC_OVERRIDE -- cat d/f && hstdout_is secret &&
	chmod 700 d &&
	hhit --cap-drop DAC_OVERRIDE -- cat d/f && test "$rc" = 1
'

# Rootless (procache-test): procache's walk is refused where the job's
# lookup is (t1080), but an lstat never asks for write permission. (The
# job, whose user namespace does not map root, cannot copy up a root-owned
# directory to remove from it even at 777: EOVERFLOW, another error than
# the recorded EACCES, which a hit would replay.)
as_user() {
	setpriv --reuid procache-test --regid procache-test --init-groups \
		env HOME="$UHOME" PROCACHE_DIR="$UHOME/cache" PATH=/usr/bin:/bin "$@"
}

# urun STATUS CMD...: like hrun, as procache-test, in $W.
urun() {
	local want=$1 got
	shift
	rc=0
	(cd "$W" && as_user "$PROCACHE" run --report "$UHOME/report.json" "$@" \
		</dev/null >"$UHOME/stdout" 2>"$UHOME/stderr") || rc=$?
	got=$(hstatus "$UHOME/report.json")
	if [ "$got" != "$want" ]; then
		echo "expected status $want, got $got" >&2
		cat "$UHOME/report.json" "$UHOME/stderr" >&2
		return 1
	fi
}

for mode in "" --untrusted; do
	test_expect_success UNPRIV_USER "rootless ${mode:-trusted}: unlink, the write permission of a parent owned by root" '
		UHOME=$TEST_DIR/uhome$mode && W=$UHOME/w && mkdir -p "$W/d" &&
		echo x >"$W/d/f" && chown -R procache-test: "$UHOME" &&
		chown root: "$W/d" && chmod 755 "$W/d" && chmod 755 "$TEST_DIR" &&
		urun miss $mode -- rm -f d/f && test "$rc" = 1 &&
		test_path_is_file "$W/d/f" &&
		grep -q "Permission denied" "$UHOME/stderr" &&
		chmod 777 "$W/d" &&
		urun miss $mode -- rm -f d/f &&
		! grep -q "Permission denied" "$UHOME/stderr"
	'
done

test_expect_success UNPRIV_USER 'rootless --untrusted: unlink from its own 555 directory, then 755' '
	UHOME=$TEST_DIR/uhome-own && W=$UHOME/w && mkdir -p "$W/d" &&
	echo x >"$W/d/f" && chown -R procache-test: "$UHOME" &&
	chmod 555 "$W/d" && chmod 755 "$TEST_DIR" &&
	urun miss --untrusted -- rm -f d/f && test "$rc" = 1 &&
	test_path_is_file "$W/d/f" &&
	chmod 755 "$W/d" &&
	urun miss --untrusted -- rm -f d/f && test "$rc" = 0 &&
	test_path_is_missing "$W/d/f"
'

test_expect_success 'an untrusted rerun with nothing changed: hit (reads, a listing, a script)' '
	hstart && mkdir d && echo secret >d/f &&
	hmiss --untrusted -- cat d/f && hstdout_is secret &&
	hhit --untrusted -- cat d/f && hstdout_is secret &&
	hmiss --untrusted -- sh -c "ls d; cat d/f; cd d && cat ./f ../d/f" &&
	hhit --untrusted -- sh -c "ls d; cat d/f; cd d && cat ./f ../d/f"
'

test_done

#!/usr/bin/env bash
test_description='escape suite: a hostile job cannot write host files outside the output roots, directly or through its diff'
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-escape.sh"

test_expect_success 'untrusted: writes to /etc, $HOME and the cwd parent stay in the sandbox' '
	mkdir -p parent/w && echo p >parent/f && chmod 0777 parent/w && cd parent/w &&
	dir_fingerprint /etc >../../etc.before &&
	dir_fingerprint "$HOME" >../../home.before &&
	tree_snapshot .. | sed "/ \.\/w/d" >../../parent.before &&
	cat >job.sh <<-EOF &&
	echo x >/etc/procache-escape && echo wrote-etc
	echo x >>/etc/passwd && echo wrote-passwd
	echo x >"$HOME/procache-escape" && echo wrote-home
	echo x >../procache-escape && echo wrote-parent
	echo x >>../f && echo wrote-parent-f
	echo ok >inside
	EOF
	run miss --untrusted -- sh job.sh >out &&
	test "$rc" = 0 &&
	! grep wrote out &&
	test_path_is_missing /etc/procache-escape &&
	test_path_is_missing "$HOME/procache-escape" &&
	dir_fingerprint /etc >../../etc.after && test_cmp ../../etc.before ../../etc.after &&
	dir_fingerprint "$HOME" >../../home.after && test_cmp ../../home.before ../../home.after &&
	tree_snapshot .. | sed "/ \.\/w/d" >../../parent.after &&
	test_cmp ../../parent.before ../../parent.after &&
	echo ok >expect && test_cmp expect inside
'

test_expect_success 'untrusted: a write the sandbox lets through (a world-writable dir outside the output root) is kept, never applied' '
	open_cwd && canary "$TEST_ROOT/canary2" &&
	run miss --untrusted -- sh -c "echo evil >$TEST_ROOT/canary2/new && echo evil >$TEST_ROOT/canary2/f && cat $TEST_ROOT/canary2/f" >out &&
	echo evil >expect && test_cmp expect out &&
	kept_has "$TEST_ROOT/canary2/new" &&
	kept_has "$TEST_ROOT/canary2/f" &&
	canary_unchanged "$TEST_ROOT/canary2"
'

# The diff-application attacks, in both modes.
for mode in untrusted trusted; do
	opt=; [ $mode = untrusted ] && opt=--untrusted

	test_expect_success "$mode: out/link -> host dir, then out/link/x in the same job: nothing written through the link" '
		open_cwd && canary "$TEST_ROOT/c-$mode-1" &&
		mkdir out && chmod 0777 out &&
		run miss $opt --output out -- sh -c "ln -s $TEST_ROOT/c-$mode-1 out/link && echo evil >out/link/x; echo evil >out/link/f; true" &&
		test -L out/link &&
		kept_has "$TEST_ROOT/c-$mode-1/x" &&
		canary_unchanged "$TEST_ROOT/c-$mode-1"
	'

	test_expect_success "$mode: a symlink left by one job is not followed when the next job writes below it (miss and hit)" '
		open_cwd && canary "$TEST_ROOT/c-$mode-2" &&
		mkdir out && chmod 0777 out &&
		run miss $opt --output out -- ln -s "$TEST_ROOT/c-$mode-2" out/link &&
		test -L out/link &&
		run miss $opt --output out -- sh -c "mkdir -p out/link/sub; echo evil >out/link/sub/x; echo evil >out/link/f" &&
		kept_has "$TEST_ROOT/c-$mode-2/sub/x" &&
		kept_has "$TEST_ROOT/c-$mode-2/f" &&
		canary_unchanged "$TEST_ROOT/c-$mode-2" &&
		run hit $opt --output out -- sh -c "mkdir -p out/link/sub; echo evil >out/link/sub/x; echo evil >out/link/f" &&
		canary_unchanged "$TEST_ROOT/c-$mode-2" &&
		test -L out/link
	'

	test_expect_success "$mode: the output root replaced by a symlink to a host dir is refused" '
		open_cwd && canary "$TEST_ROOT/c-$mode-3" &&
		mkdir out && chmod 0777 out && echo keep >out/keep &&
		run miss $opt --output "$TEST_DIR/out" -- sh -c "rm -rf out; ln -s $TEST_ROOT/c-$mode-3 out; echo evil >out/x; true" &&
		canary_unchanged "$TEST_ROOT/c-$mode-3" &&
		test -d out && ! test -L out
	'

	test_expect_success "$mode: paths with .. created by the job land outside the root only in the sandbox" '
		mkdir -p p/w/out/a && chmod -R 0777 p && cd p/w &&
		tree_snapshot .. | sed "/ \.\/w/d" >../../parent.before &&
		run miss $opt --output out -- sh -c "echo evil >out/../../dotdot; echo evil >out/a/../../../dotdot2; echo in >out/a/../b; true" &&
		test_path_is_missing ../dotdot && test_path_is_missing ../../dotdot2 &&
		tree_snapshot .. | sed "/ \.\/w/d" >../../parent.after &&
		test_cmp ../../parent.before ../../parent.after &&
		echo in >expect && test_cmp expect out/b &&
		! grep -q "\.\." report.json
	'
done

# Regression: the report was opened after the job's changes were applied,
# following a symlink the job had left at its name (root wrote JSON into
# any host file).
for mode in untrusted trusted; do
	opt=; [ $mode = untrusted ] && opt=--untrusted

	test_expect_success "$mode: --report through a symlink the job leaves at its name writes nothing outside" '
		open_cwd && canary "$TEST_ROOT/c-$mode-report" &&
		echo keep >"$TEST_ROOT/c-$mode-report/victim" && chmod 0666 "$TEST_ROOT/c-$mode-report/victim" &&
		tree_snapshot "$TEST_ROOT/c-$mode-report" >"$TEST_ROOT/c-$mode-report.snap" &&
		test_expect_code 125 "$PROCACHE" run $opt --report r.json -- sh -c "rm -f r.json; ln -s $TEST_ROOT/c-$mode-report/victim r.json" 2>err &&
		grep "replaced it" err &&
		test -L r.json &&
		canary_unchanged "$TEST_ROOT/c-$mode-report" &&
		test_expect_code 125 "$PROCACHE" run $opt --report r2.json -- sh -c "rm -f r2.json; ln -s $TEST_ROOT/c-$mode-report/new r2.json" 2>err &&
		canary_unchanged "$TEST_ROOT/c-$mode-report"
	'
done

# Regression: a symlink a hostile job left in the output root was followed
# by the next run writing its --report, --diff-json or --log there (as
# root; with -vv the log holds paths the job chose: a cron line).
test_expect_success 'untrusted: symlinks left by a job at the names of the next run'"'"'s --report, --diff-json, --log are not followed' '
	open_cwd && canary "$TEST_ROOT/c-own" &&
	run miss --untrusted -- sh -c "for f in r.json d.json l.log; do ln -s $TEST_ROOT/c-own/\$f \$f; done; ln -s $TEST_ROOT/c-own/f f.json" &&
	test -L r.json && test -L d.json && test -L l.log && test -L f.json &&
	test_expect_code 125 "$PROCACHE" run --report r.json -- true 2>err &&
	grep "cannot write report .r.json.: Too many levels of symbolic links" err &&
	test_expect_code 125 "$PROCACHE" run --no-cache --diff-json d.json -- true &&
	test_expect_code 125 "$PROCACHE" run -vv --log l.log -- true &&
	test_expect_code 125 "$PROCACHE" run --report f.json -- true &&
	canary_unchanged "$TEST_ROOT/c-own" &&
	"$PROCACHE" run --report /dev/stdout -- true >stdout.json &&
	json_get stdout.json status >/dev/null
'

test_expect_success 'untrusted: the job cannot forge the report file' '
	open_cwd &&
	test_expect_code 2 "$PROCACHE" run --untrusted --report r.json -- sh -c "echo {\"status\":\"hit\"} >r.json" &&
	json_get r.json status >status && echo miss >expect && test_cmp expect status
'

test_expect_success 'untrusted: a hard link to a host file outside the root, written through, is a copy' '
	open_cwd && canary "$TEST_ROOT/c-hardlink" &&
	run miss --untrusted -- sh -c "ln $TEST_ROOT/c-hardlink/f hl && echo evil >>hl" &&
	kept_has "$TEST_ROOT/c-hardlink/f" &&
	canary_unchanged "$TEST_ROOT/c-hardlink" &&
	test "$(stat -c %h hl)" = 1 &&
	printf "canary\nevil\n" >expect && test_cmp expect hl
'

test_expect_success 'untrusted: fifos, sockets and device nodes made by the job are never applied' '
	open_cwd &&
	run uncacheable --untrusted -- sh -c "mkfifo fifo; python3 -c \"import socket; socket.socket(socket.AF_UNIX).bind(\\\"sock\\\")\"; mknod null c 1 3 || echo mknod-refused" >out &&
	grep mknod-refused out &&
	grep "special file: $TEST_DIR/fifo" report.json &&
	grep "special file: $TEST_DIR/sock" report.json &&
	test_path_is_missing fifo && test_path_is_missing sock && test_path_is_missing null
'

test_expect_success 'untrusted: a setuid file made by the job is applied without its setuid bit (owned by root now)' '
	open_cwd &&
	run miss --untrusted -- sh -c "cp /usr/bin/id suid-id && chmod 6755 suid-id && mkdir sgid-dir && chmod 2777 sgid-dir" &&
	test_path_is_file suid-id &&
	test "$(stat -c %a suid-id)" = 755 &&
	test "$(stat -c %a sgid-dir)" = 777
'

test_expect_success 'untrusted: a setuid-root binary gains no privilege (no_new_privs)' '
	open_cwd &&
	cp /usr/bin/id suid-id && chown root:root suid-id && chmod 4755 suid-id &&
	run miss --untrusted -- sh -c "./suid-id -u; ./suid-id -ru; su -c id root </dev/null; echo su=\$?; passwd -S root; echo passwd=\$?" >out &&
	printf "65534\n65534\n" >expect && head -n 2 out >actual && test_cmp expect actual &&
	! grep "su=0" out && ! grep "uid=0" out &&
	! grep "passwd=0" out
'

test_expect_success 'untrusted: masked paths and the cache cannot be read or written' '
	open_cwd &&
	mkdir secret-dir && echo s3cret >secret-dir/key && echo s3cret >secret-file &&
	run miss -- sh -c "echo cached >cached-out" &&
	blob=$(find "$PROCACHE_DIR/blobs" -type f | head -n 1) && test -n "$blob" &&
	tree_snapshot "$PROCACHE_DIR" | grep -v -e statcache -e "stats/" -e "run/" >cache.before &&
	run miss --untrusted --mask "$TEST_DIR/secret-dir" --mask "$TEST_DIR/secret-file" -- sh -c "
		cat secret-dir/key secret-file $blob 2>/dev/null; ls -A secret-dir $PROCACHE_DIR;
		echo x >$PROCACHE_DIR/FORMAT; echo x >secret-file; touch secret-dir/new; rm -f $blob; true" >out &&
	! grep s3cret out && ! grep cached out &&
	! grep -e blobs -e keys -e FORMAT out &&
	echo s3cret >expect && test_cmp expect secret-dir/key && test_cmp expect secret-file &&
	test_path_is_missing secret-dir/new && test_path_is_file "$blob" &&
	tree_snapshot "$PROCACHE_DIR" | grep -v -e statcache -e "stats/" -e "run/" >cache.after &&
	comm -23 cache.before cache.after >changed && test_cmp /dev/null changed
'

# Root-built overlays (untrusted as root, trusted) use trusted.overlay.*.
# Overlayfs (6.7+) lets a job set trusted.overlay.* / user.overlay.* on
# overlay files, stored *escaped* in the upper directory
# (trusted.overlay.overlay.opaque): the diff must not read them as markers.
# A 0/0 character device is refused by overlayfs (EPERM, EEXIST on an
# existing name).
for mode in untrusted trusted; do
	opt=; [ $mode = untrusted ] && opt=--untrusted

	test_expect_success "$mode: forged overlay markers (opaque xattrs, a 0/0 whiteout) delete nothing on apply" '
		open_cwd &&
		mkdir -p out/d out/e && echo keep >out/d/keep && echo keep >out/e/keep && echo keep >out/w &&
		chmod -R a+rwX out &&
		cat >job.sh <<-EOF &&
		$ESC_FS setxattr trusted.overlay.opaque y out/d
		$ESC_FS setxattr trusted.overlay.whiteout y out/d/keep
		$ESC_FS setxattr user.overlay.opaque y out/e
		$ESC_FS setxattr user.overlay.whiteout y out/e/keep
		echo new >out/d/new
		$ESC_FS whiteout out/w
		$ESC_FS whiteout out/e/gone
		cat out/d/keep out/e/keep out/w
		EOF
		run uncacheable $opt --diff-json diff.json -- sh job.sh >out.txt &&
		! grep "^whiteout: ok" out.txt &&
		! grep -e dir_replaced -e delete diff.json &&
		test "$(grep -c keep out.txt)" = 3 &&
		echo keep >expect &&
		test_cmp expect out/d/keep && test_cmp expect out/e/keep && test_cmp expect out/w &&
		echo new >expect && test_cmp expect out/d/new &&
		test_path_is_missing out/e/gone
	'
done

test_expect_success UNPRIV_USER 'rootless untrusted (userxattr overlays): user.overlay markers refused, nothing deleted on apply' '
	mkdir -p u/out/d && echo keep >u/out/d/keep && echo keep >u/out/w &&
	chown -R procache-test: u && cd u &&
	cat >job.sh <<-EOF &&
	$ESC_FS setxattr user.overlay.opaque y out/d
	$ESC_FS setxattr user.overlay.whiteout y out/d/keep
	$ESC_FS whiteout out/w
	echo new >out/d/new
	cat out/d/keep out/w
	EOF
	chown procache-test: job.sh &&
	setpriv --reuid procache-test --regid procache-test --init-groups \
		env HOME="$PWD" PROCACHE_DIR="$PWD/cache" "$PROCACHE" run --untrusted --report report.json --diff-json diff.json -- sh job.sh >out.txt &&
	! grep -e dir_replaced -e delete diff.json &&
	! grep "^whiteout: ok" out.txt &&
	test "$(grep -c keep out.txt)" = 2 &&
	echo keep >expect && test_cmp expect out/d/keep && test_cmp expect out/w &&
	echo new >expect && test_cmp expect out/d/new
'

# A private copy of the binary, so that a rebuild of the shared tree during
# the test cannot be mistaken for a write by the job.
test_expect_success 'untrusted: the procache binary cannot be overwritten through /proc/1/exe or its path' '
	open_cwd &&
	cp "$PROCACHE" ./procache-bin && chmod 0755 . ./procache-bin &&
	md5sum <procache-bin >sum.before &&
	PROCACHE=$TEST_DIR/procache-bin run uncacheable --untrusted -- sh -c "
		$ESC_FS open-write /proc/1/exe; $ESC_FS open-write /proc/self/exe
		$ESC_FS open-write $TEST_DIR/procache-bin; echo x >>$TEST_DIR/procache-bin; true" >out &&
	test "$(grep -c "^open-write: E" out)" = 3 &&
	md5sum <procache-bin >sum.after && test_cmp sum.before sum.after
'

test_expect_success 'untrusted: only fds 0, 1 and 2 reach the job' '
	open_cwd &&
	run miss --untrusted -- ls /proc/self/fd >out 3<"$TEST_DIR" 4>"$TEST_DIR/fd4" 7</dev/null &&
	printf "0\n1\n2\n3\n" >expect && test_cmp expect out &&
	run miss --untrusted -- sh -c "for n in 3 4 5 6 7 8 9; do test -e /proc/self/fd/\$n && echo leaked \$n; done; true" >out 3<"$TEST_DIR" 7</dev/null &&
	test_cmp /dev/null out
'

test_expect_success 'untrusted: filling the upper directory: host untouched outside the cache, run state cleaned up' '
	open_cwd && canary "$TEST_ROOT/c-fill" &&
	# Run directories of earlier cases whose runner died (exit 125 on a
	# refused --diff-json) wait for the once-a-minute scan: not this run.
	ls -A "$PROCACHE_DIR/run" >earlier &&
	run miss --untrusted -- sh -c "head -c 33554432 /dev/zero >$TEST_ROOT/c-fill/big; ls -l $TEST_ROOT/c-fill/big" >out &&
	grep 33554432 out &&
	kept_has "$TEST_ROOT/c-fill/big" &&
	canary_unchanged "$TEST_ROOT/c-fill" &&
	ls -A "$PROCACHE_DIR/run" | grep -v -e "^\.trash-" -e "^\.clean-stamp$" |
		grep -vxF -f earlier >live || : &&
	test_must_fail test -s live &&
	find "$PROCACHE_DIR/blobs" -type f -size +32M >bigblobs && test_must_fail test -s bigblobs
'

test_done

#!/usr/bin/env bash
test_description='sandbox: copy-on-write view of the host, the diff, masks, fresh /proc /dev /sys /tmp'
. "$(dirname "$0")/lib.sh"

# See t0100-sandbox-basic.sh: SBX_DRIVER=1 drives the sandbox module alone.
if [ -n "${SBX_DRIVER:-}" ]; then
	SBX=("$PROCACHE_BUILD/tests/unit/test-sandbox" --run)
else
	SBX=("$PROCACHE" run --no-cache)
fi
# procache applies a run's changes under --output (default: the cwd);
# these tests look at the sandbox, so nothing is applied anywhere.
mkdir -p "$TEST_ROOT/no-output"
SBX+=(--output "$TEST_ROOT/no-output")
sbx() { "${SBX[@]}" "$@"; }

# snapshot DIR...: every entry's path, type, mode, size, link target and
# content hash, so "byte-identical" can be compared with test_cmp.
snapshot() {
	find "$@" -printf '%p %y %m %s %l\n' | sort &&
	find "$@" -type f -print0 | sort -z | xargs -0 -r sha256sum
}

# diff_lines JSON BASE: "kind relative-path" per change under BASE.
diff_lines() {
	python3 - "$1" "$2" <<-\EOF
	import json, sys
	base = sys.argv[2].rstrip("/") + "/"
	for c in json.load(open(sys.argv[1])):
	    p = c["path"]
	    if p.startswith(base):
	        print(c["kind"], p[len(base):])
	EOF
}

as_user() {
	setpriv --reuid procache-test --regid procache-test --init-groups \
		env HOME="$UHOME" PROCACHE_DIR="$UHOME/cache" "$@"
}

# Every file the job opened for writing is a change, even with its old
# bytes (: >>same; touch same): see sandbox/diff.c.
test_expect_success 'writes anywhere leave the host byte-identical; the diff lists exactly them' '
	E=/etc/procache-t0110.$$ && U=/usr/local/share/procache-t0110.$$ &&
	test_when_finished "rm -rf $E $U" &&
	mkdir -p $E $U c/olddir c/dir1 c/d2f c/repl &&
	for f in over app mode del ren same olddir/a dir1/a d2f/a repl/old; do echo "$f" >c/$f || return 1; done &&
	echo conf >$E/conf && echo gone >$E/gone && echo same >$E/same &&
	echo data >$U/data && echo "#!/bin/sh" >$U/script && chmod 755 $U/script &&
	snapshot "$PWD/c" $E $U >before &&
	cat >job.sh <<-EOF &&
	set -e
	cd c
	echo new >new
	echo overwritten >over
	echo more >>app
	chmod 600 mode
	rm del
	mv ren ren2
	mkdir newdir && echo x >newdir/f
	rm -r olddir
	mv dir1 dir2
	rm -r d2f && echo now-a-file >d2f
	rm -r repl && mkdir repl && echo n >repl/n
	: >>same
	touch same
	echo changed >$E/conf
	rm $E/gone
	echo n >$E/newconf
	: >>$E/same
	echo more >>$U/data
	chmod 700 $U/script
	EOF
	sbx --diff-json diff.json -- sh job.sh &&
	snapshot "$PWD/c" $E $U >after &&
	test_cmp before after &&
	diff_lines diff.json "$PWD/c" >actual &&
	cat >expect <<-\EOF &&
	file app
	file d2f
	delete del
	delete dir1
	dir dir2
	file dir2/a
	file new
	dir newdir
	file newdir/f
	delete olddir
	file mode
	file over
	delete ren
	file ren2
	dir_replaced repl
	file repl/n
	file same
	EOF
	sort expect >expect.sorted && sort actual >actual.sorted &&
	test_cmp expect.sorted actual.sorted &&
	diff_lines diff.json $E >actual &&
	printf "file conf\ndelete gone\nfile newconf\nfile same\n" >expect &&
	test_cmp expect actual &&
	diff_lines diff.json $U >actual &&
	printf "file data\nfile script\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'a directory replaced by a file is a file over the old directory' '
	mkdir -p c/d && echo a >c/d/a &&
	sbx --diff-json diff.json -- sh -c "rm -r c/d && echo f >c/d" &&
	test_path_is_dir c/d &&
	diff_lines diff.json "$PWD/c" >actual &&
	echo "file d" >expect &&
	test_cmp expect actual
'

test_expect_success ROOT 'a file bind-mounted on the host is shown read-only, not copied up' '
	echo hostdata >src && : >tgt &&
	mount --bind "$PWD/src" "$PWD/tgt" &&
	test_when_finished "umount \"$PWD/tgt\"" &&
	sbx --diff-json diff.json -- sh -c "cat tgt; echo x >tgt 2>/dev/null || echo ro" >out &&
	printf "hostdata\nro\n" >expect &&
	test_cmp expect out &&
	test "$(cat diff.json)" = "[]"
'


# The mount table is read from /proc/self/mountinfo, where the kernel
# writes a space as \040 and a backslash as \134: such a mount point is
# still a layer of its own (its files visible, its writes in the diff).
test_expect_success ROOT 'a host mount whose path has a space and a backslash is shown' '
	d="mnt sp\\ace" &&
	mkdir "$d" && mount -t tmpfs none "$PWD/$d" &&
	test_when_finished "umount \"$PWD/$d\"" &&
	echo onmount >"$d/f" &&
	sbx --diff-json diff.json -- sh -c "cat \"$d/f\"; echo new >\"$d/g\"" >out &&
	echo onmount >expect && test_cmp expect out &&
	test_path_is_missing "$d/g" &&
	diff_lines diff.json "$PWD/$d" >actual &&
	echo "file g" >expect && test_cmp expect actual
'
test_expect_success 'fifos and device-like files are reported as special' '
	sbx --diff-json diff.json -- mkfifo fifo &&
	test_path_is_missing fifo &&
	diff_lines diff.json "$PWD" >actual &&
	echo "special fifo" >expect &&
	test_cmp expect actual
'

test_expect_success 'paths with spaces, commas, colons and backslashes' '
	d="we ird, dir:x\\y" &&
	mkdir "$d" && echo old >"$d/in, put:1\\2" &&
	(cd "$d" && sbx --diff-json ../diff.json -- sh -c "cat \"in, put:1\\\\2\" >\"out, f:g\\\\h i\"; pwd") >out &&
	echo "$PWD/$d" >expect && test_cmp expect out &&
	test_path_is_missing "$d/out, f:g\\h i" &&
	diff_lines diff.json "$PWD/$d" >actual &&
	printf "file out, f:g\\\\h i\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'the job cannot see the cache or its own run directory' '
	mkdir -p "$PROCACHE_DIR" && echo secret >"$PROCACHE_DIR/secret" &&
	sbx -- sh -c "ls -A \"$PROCACHE_DIR\"; test -e \"$PROCACHE_DIR/run\" && echo visible; grep -c overlay /proc/self/mountinfo" >out &&
	! grep -e secret -e visible out
'

test_expect_success '--mask hides a directory (empty, read-only) and a file (empty)' '
	mkdir -p m && echo s >m/secret && echo t >topsecret &&
	sbx --mask "$PWD/m" --mask "$PWD/topsecret" -- sh -c "ls -A m; cat topsecret; echo x >m/new || echo ro" >out 2>/dev/null &&
	echo ro >expect &&
	test_cmp expect out
'

test_expect_success '/tmp is private unless --share-tmp' '
	n=procache-t0110-$$ &&
	test_when_finished "rm -f /tmp/$n" &&
	sbx --diff-json diff.json -- sh -c "echo x >/tmp/$n; ls /tmp | wc -l" >out &&
	test "$(cat out)" = 1 &&
	test_path_is_missing /tmp/$n &&
	test "$(cat diff.json)" = "[]" &&
	sbx --share-tmp --diff-json diff.json -- sh -c "echo x >/tmp/$n" &&
	test_path_is_missing /tmp/$n &&
	diff_lines diff.json /tmp >actual &&
	echo "file $n" >expect &&
	test_cmp expect actual
'

test_expect_success 'fresh /proc, minimal /dev, read-only /sys and /proc/sys' '
	sbx -- sh -c "ls /dev | sort | tr \"\\n\" \" \"; echo;
		readlink /dev/ptmx; readlink /dev/stdout;
		echo x >/dev/null && echo null-ok;
		echo 1 >/proc/sys/kernel/printk 2>/dev/null || echo procsys-ro;
		touch /sys/x 2>/dev/null || echo sys-ro;
		test -e /proc/1/status && echo proc-ok" >out &&
	echo "fd full null ptmx pts random shm stderr stdin stdout tty urandom zero " >expect &&
	head -n 1 out >actual && test_cmp expect actual &&
	grep -x pts/ptmx out && grep -x /proc/self/fd/1 out &&
	grep -x null-ok out && grep -x procsys-ro out && grep -x sys-ro out &&
	grep -x proc-ok out
'

test_expect_success 'a pseudo-terminal can be opened in the private devpts' '
	sbx -- python3 -c "import os; m, s = os.openpty(); print(os.ttyname(s))" >out &&
	grep "^/dev/pts/0$" out
'

test_expect_success 'no run directory is left live; stale and trashed ones are cleaned' '
	sbx -- true &&
	test -z "$(ls -A "$PROCACHE_DIR/run" 2>/dev/null | grep -v "^\\.")" &&
	mkdir -p "$PROCACHE_DIR/run/0123456789abcdef/layers/0/work/work" &&
	chmod 000 "$PROCACHE_DIR/run/0123456789abcdef/layers/0/work/work" &&
	: >"$PROCACHE_DIR/run/0123456789abcdef/lock" &&
	touch -d "2 minutes ago" "$PROCACHE_DIR/run/.clean-stamp" &&
	sbx -- true &&
	test_path_is_missing "$PROCACHE_DIR/run/0123456789abcdef" &&
	test -z "$(ls -A "$PROCACHE_DIR/run" | grep -v -e "^\\.clean-stamp$" -e "^\\.trash-")"
'

test_expect_success '/sys shows the host submounts but its cgroup tree, read-only; no host cgroup mount in the view' '
	awk "\$5 ~ \"^/sys/\" && \$5 !~ \"^/sys/fs/cgroup(/|\$)\" { print \$5 }" /proc/self/mountinfo | sort -u >host &&
	sbx -- cat /proc/self/mountinfo >mi &&
	awk "\$5 ~ \"^/sys/\" && \$5 !~ \"^/sys/fs/cgroup(/|\$)\" && \$4 !~ \"/hostfacts/\" { print \$5 }" mi | sort -u >view &&
	test_cmp host view &&
	awk "\$5 ~ \"^/sys(/|\$)\" && \$6 !~ \"^ro\" { print }" mi >writable &&
	test_cmp /dev/null writable &&
	# the sandbox module alone (SBX_DRIVER) shows no host facts: /sys whole
	{ test -n "${SBX_DRIVER:-}" ||
	  ! awk "{ for (i = 7; i < NF; i++) if (\$i == \"-\") print \$(i + 1) }" mi | grep -x -e cgroup -e cgroup2; }
'

test_expect_success 'a miss tears its sandbox down after it exits: no live run directory, the trash goes, the caller pipe ends with it' '
	"$PROCACHE" run --cache-dir "$PWD/c" --no-cache -- sh -c "echo out; echo err >&2" 2>err | cat >out &&
	echo out >expect && test_cmp expect out &&
	echo err >expect && test_cmp expect err &&
	test -z "$(ls -A c/run | grep -v -e "^\\.clean-stamp$" -e "^\\.trash-")" &&
	test_wait_for 10 run_trash_gone c/run &&
	test -z "$(ls -A c/run | grep -v "^\\.clean-stamp$")"
'

test_expect_success UNPRIV_USER 'rootless: writes land in the diff, the host is untouched, /etc is not writable' '
	UHOME=$PWD/uhome && S="$UHOME/src, x:y" && A=$UHOME/art &&
	mkdir -p "$S" "$A" && echo in >"$S/input" && echo keep >"$S/keep" &&
	mkdir "$S/sub" && echo s >"$S/sub/s" &&
	chown -R procache-test: "$UHOME" &&
	snapshot "$S" >before &&
	(cd "$S" && as_user "${SBX[@]}" --diff-json "$A/diff.json" -- sh -c "
		set -e; cat input >output; echo more >>keep; rm sub/s; mkdir -p a/b; echo c >a/b/c;
		touch /etc/procache-t0110 2>/dev/null && echo etc-writable || :; echo \$\$") >out &&
	echo 2 >expect && test_cmp expect out &&
	snapshot "$S" >after &&
	test_cmp before after &&
	test_path_is_missing /etc/procache-t0110 &&
	diff_lines "$A/diff.json" "$S" >actual &&
	printf "dir a\ndir a/b\nfile a/b/c\nfile keep\nfile output\ndelete sub/s\n" >expect &&
	test_cmp expect actual
'

test_expect_success UNPRIV_USER 'rootless: a directory of the job right below a top-level one is writable' '
	O=/opt/procache-t0110.$$ && mkdir $O && chown procache-test: $O &&
	test_when_finished "rm -rf $O" &&
	UHOME=$PWD/uhome && mkdir -p "$UHOME/w" && chown -R procache-test: "$UHOME" &&
	(cd "$UHOME/w" && as_user "${SBX[@]}" --diff-json "$UHOME/diff.json" -- sh -c "echo x >$O/f && echo ok") >out &&
	echo ok >expect && test_cmp expect out &&
	test_path_is_missing $O/f &&
	diff_lines "$UHOME/diff.json" $O >actual &&
	echo "file f" >expect && test_cmp expect actual
'

test_expect_success UNPRIV_USER 'rootless: a masked working directory fails with 125' '
	UHOME=$PWD/uhome && mkdir -p "$UHOME/w" && chown -R procache-test: "$UHOME" && cd "$UHOME/w" &&
	test_expect_code 125 as_user "${SBX[@]}" --mask "$UHOME/w" -- true 2>err ||
	test_expect_code 125 as_user "${SBX[@]}" --mask "$UHOME" -- true 2>err &&
	grep -E "cannot change directory|hidden by --mask" err
'

test_expect_success 'untrusted: root-owned files cannot be changed or read where 65534 may not' '
	echo data >owned && chmod 600 owned &&
	sbx --untrusted -- sh -c "cat owned 2>/dev/null || echo no-read; echo x >>owned 2>/dev/null || echo no-write; ls /root >/dev/null 2>&1 || echo no-root" >out &&
	printf "no-read\nno-write\nno-root\n" >expect &&
	test_cmp expect out &&
	echo data >expect && test_cmp expect owned
'

test_done

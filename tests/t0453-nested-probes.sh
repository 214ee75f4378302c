#!/usr/bin/env bash
test_description='procache run --nested (DESIGN §13): false-hit probes at the unit level; each job runs on a fresh cache, then again after one change, against what a bare run gives'
. "$(dirname "$0")/lib.sh"

# Each script reads ./stamp with a builtin (no unit): bumping it makes the
# whole job miss, so its units are looked up one by one.
nested() {
	"$PROCACHE" run --nested -vv -- ./r.sh 2>err.$1 >out.$1
}

test_expect_success 'a unit sees its environment, argv and cwd in its key' '
	mkdir keys && (cd keys &&
	mkdir a b && echo AA >a/f && echo BB >b/f && echo x >v &&
	cat >r.sh <<-\EOF &&
	#!/bin/bash
	read -r s <stamp
	export FOO=$(cat v)
	sh -c "echo \$FOO"
	sh -c "echo \$0" "$(cat v)"
	(cd a && cat f); (cd b && cat f)
	EOF
	chmod +x r.sh && echo 0 >stamp &&
	nested 1 && printf "x\nx\nAA\nBB\n" >expect && test_cmp expect out.1 &&
	echo y >v && echo 1 >stamp &&
	nested 2 && printf "y\ny\nAA\nBB\n" >expect && test_cmp expect out.2)
'

test_expect_success 'a unit misses when its interpreter, a symlinked executable or a data symlink changes' '
	mkdir interp && (cd interp &&
	printf "#!/bin/sh\necho interp-A\n" >ip && chmod +x ip &&
	printf "#!./ip\n" >s.sh && chmod +x s.sh &&
	ln -s /bin/echo tool && echo aa >a && echo bb >b && ln -s a link &&
	printf "#!/bin/bash\nread -r s <stamp\n./s.sh\n./tool hi\ncat link\n" >r.sh &&
	chmod +x r.sh && echo 0 >stamp && nested 1 &&
	printf "#!/bin/sh\necho interp-B\n" >ip &&
	ln -sfn /usr/bin/printf tool && ln -sfn b link && echo 1 >stamp &&
	nested 2 && printf "interp-B\nhibb\n" >expect && test_cmp expect out.2)
'

test_expect_success 'a listing a sibling grew and a path a sibling created are seen' '
	mkdir grow && (cd grow && mkdir d &&
	cat >r.sh <<-\EOF &&
	#!/bin/bash
	read -r s <stamp
	ls d; touch d/y; ls d
	sh -c "test -e d/z && echo z || echo noz"; sh -c "touch d/z"
	sh -c "test -e d/z && echo z || echo noz"
	EOF
	chmod +x r.sh && echo 0 >stamp && nested 1 &&
	printf "y\nnoz\nz\n" >expect && test_cmp expect out.1 &&
	rm -rf d && mkdir d && echo 1 >stamp && nested 2 &&
	test_cmp expect out.2 && grep "nested: 0 units run" err.2)
'

test_expect_success 'fd 0 a file at different offsets, /dev/null: each its own entry' '
	mkdir off && (cd off && printf "l1\nl2\n" >f &&
	cat >r.sh <<-\EOF &&
	#!/bin/bash
	read -r s <stamp
	wc -c <f; { read -r x; wc -c; } <f; wc -c </dev/null
	EOF
	chmod +x r.sh && echo 0 >stamp && nested 1 &&
	printf "6\n3\n0\n" >expect && test_cmp expect out.1 &&
	echo 1 >stamp && nested 2 && test_cmp expect out.2 &&
	# the wc inside { } shares its description of f with the shell:
	# refused (a skip would not move the offset the shell reads on)
	grep "nested: 0 units run, 2 skipped, 1 refused" err.2)
'

test_expect_success 'a skipped unit whose host input then changes: the whole job misses' '
	mkdir comp && (cd comp && echo A >in1 && echo B >in2 &&
	printf "#!/bin/bash\nread -r s <stamp\ncat in1\nsh -c \"cat in2\"\n" >r.sh &&
	chmod +x r.sh && echo 0 >stamp && nested 1 &&
	echo 1 >stamp && nested 2 && grep "nested: 0 units run, 2 skipped" err.2 &&
	echo C >in2 && nested 3 && printf "A\nC\n" >expect && test_cmp expect out.3 &&
	grep "^procache: miss" err.3)
'

test_expect_success 'a skipped outer unit whose inner units ran last time' '
	mkdir inner && (cd inner && echo a >a && echo b >b &&
	printf "#!/bin/bash\nread -r s <stamp\nsh -c \"cat a; sh -c \\\\\"cat b\\\\\"\"\n" >r.sh &&
	chmod +x r.sh && echo 0 >stamp && nested 1 &&
	echo B >b && echo 1 >stamp && nested 2 &&
	echo 2 >stamp && nested 3 && printf "a\nB\n" >expect && test_cmp expect out.3 &&
	grep "(sh, pid [0-9]*) skipped" err.3)
'

# A process the unit forked that made no notified call before the
# unit's root exited was unknown to nest_units, so the unit was stored
# and replayed without the child's work; the children a process leaves
# at its exit are now put in its units (trace-nest.c, adopt_children()).
test_expect_success 'a unit whose forked child outlives it is never replayed' '
	mkdir outlive && (cd outlive &&
	# the child makes no notified call before the unit ends: a busy loop
	cat >r.sh <<-\EOF &&
	#!/bin/bash
	read -r s <stamp
	/usr/bin/python3 -c "
	import os
	if os.fork() == 0:
	    for i in range(10000000): pass
	    open(\"late.txt\", \"a\").write(\"late\\n\")
	    os._exit(0)
	print(\"early\")
	"
	sleep 2.5 3</dev/null
	cat late.txt
	EOF
	chmod +x r.sh && echo 0 >stamp && nested 1 &&
	printf "early\nlate\n" >expect && test_cmp expect out.1 &&
	rm late.txt && echo 1 >stamp && { nested 2 || :; } && test_cmp expect out.2)
'

# A skipped unit would leave the offset of the fd-0 file description it
# shares with its parent where it was at the exec, where a real run moves
# it: such a unit is refused (nest-exec.c, shares_file()).
test_expect_success 'a unit whose stdin file description its parent shares is refused, so the offset moves as in a run' '
	mkdir stdinoff && (cd stdinoff && printf "l1\nl2\n" >f &&
	printf "#!/bin/bash\nread -r s <stamp\n{ head -c 2 >/dev/null; wc -c; } <f\n" >r.sh &&
	chmod +x r.sh && echo 0 >stamp && nested 1 &&
	echo 1 >stamp && nested 2 && echo 4 >expect && test_cmp expect out.2)
'

# Bug: a skipped unit's files are applied with the times of their
# recording (cache_entry_apply_at() keeps them, t0452 relies on it), older
# than a file the parent wrote just before: `-nt` (make's test) flips.
test_expect_failure 'a skipped unit'"'"'s output is newer than what its parent wrote before it' '
	mkdir nt && (cd nt && echo data >src &&
	cat >r.sh <<-\EOF &&
	#!/bin/bash
	read -r s <stamp
	: >before
	cp src out
	[ out -nt before ] && echo fresh || echo stale
	EOF
	chmod +x r.sh && echo 0 >stamp && nested 1 &&
	echo fresh >expect && test_cmp expect out.1 &&
	sleep 1 && rm out && echo 1 >stamp && nested 2 &&
	grep "(cp, pid [0-9]*) skipped" err.2 && test_cmp expect out.2)
'

# Bug: a skipped unit's files are applied with the times of their
# recording (t0452), older than what a run gives now: make then sees
# g.o older than prog and does not relink a stale prog.
test_expect_failure 'make relinks after a skipped compile, as after a run' '
	mkdir mt && (cd mt &&
	printf "#!/bin/bash\nmake -s\ncat prog\n" >r.sh && chmod +x r.sh &&
	printf "prog: g.o\n\tcat g.o >prog\ng.o: g.c\n\tcp g.c g.o\n" >Makefile &&
	echo v1 >g.c && touch -d @1700000000 g.c && nested 1 &&
	sleep 1 && echo v2 >g.c && nested 2 &&
	sleep 1 && echo v1 >g.c && touch -d @1700000000 g.c && rm g.o && nested 3 &&
	echo v1 >expect && test_cmp expect out.3)
'

# Bug: a skipped unit's files are materialized as new inodes (temp file
# and rename, cache/materialize.c), where the program wrote in place: a
# hard link to the file, or an fd its parent holds open, keeps the old
# bytes.
test_expect_failure 'a skipped unit'"'"'s in-place write reaches a hard link and an open fd' '
	mkdir inplace && (cd inplace &&
	cat >r.sh <<-\EOF &&
	#!/bin/bash
	read -r s <stamp
	rm -f f g; echo old >f; ln f g 3</dev/null
	sh -c "echo new >f"
	read -r v <g; echo "g: $v"
	echo old >p
	/usr/bin/python3 -c "import subprocess; fh = open(\"p\"); subprocess.run([\"sh\", \"-c\", \"echo new >p\"]); print(\"fd: \" + fh.read().strip())"
	EOF
	chmod +x r.sh && echo 0 >stamp && nested 1 &&
	printf "g: new\nfd: new\n" >expect && test_cmp expect out.1 &&
	echo 1 >stamp && nested 2 && grep "(sh, pid [0-9]*) skipped" err.2 &&
	test_cmp expect out.2)
'

# A skipped `ln f g` would materialize g as a copy of f (a unit's files
# are stored by copy): a unit linking a file it did not write is refused
# (trace_nest_moved()), and one leaving a file with two names is not
# stored (runner/nest.c).
test_expect_success 'ln makes a hard link on every run: never replayed as a copy' '
	mkdir ln && (cd ln &&
	printf "#!/bin/bash\nread -r s <stamp\nrm -f f g; echo x >f\nln f g\n[ f -ef g ] && echo linked || echo separate\n" >r.sh &&
	chmod +x r.sh && echo 0 >stamp && nested 1 &&
	echo linked >expect && test_cmp expect out.1 &&
	echo 1 >stamp && nested 2 && ! grep "(ln, pid [0-9]*) skipped" err.2 &&
	test_cmp expect out.2)
'

# A unit whose fd 0 is a regular file open for writing (<>f) can write it
# through fd 0 or a copy of it (>&0), naming no path: the change would
# not be in its result. Refused (nest-exec.c: "fd0 is a file open for
# writing").
test_expect_success 'a unit writing the file on its fd 0 (<>f) is never replayed without the write' '
	mkdir rw && (cd rw &&
	printf "#!/bin/bash\nread -r s <stamp\nrm -f f; : >f\nsh -c \"echo viadup >&0\" <>f\ncat f\n" >r.sh &&
	chmod +x r.sh && echo 0 >stamp && nested 1 &&
	echo viadup >expect && test_cmp expect out.1 &&
	echo 1 >stamp && nested 2 && test_cmp expect out.2)
'

# A rename or link shows the source's bytes to no one, yet puts the file
# into the unit's result as it was: a skipped `mv a b` would write b
# with the bytes a had when recorded, and a skipped `mv b a` put them
# back over the user's file. A unit moving or linking a file it did not
# write is refused (trace_nest_moved()).
test_expect_success 'mv moves the bytes its source has now' '
	mkdir mv && (cd mv &&
	printf "#!/bin/bash\nread -r s <stamp\nmv c d\nread -r v <d; echo \"d: \$v\"\nmv d c\n" >r.sh &&
	chmod +x r.sh && echo x >c && echo 0 >stamp && nested 1 &&
	echo "d: x" >expect && test_cmp expect out.1 &&
	echo y >c && echo 1 >stamp && nested 2 &&
	echo "d: y" >expect && test_cmp expect out.2 &&
	echo y >expect && test_cmp expect c)
'

# The same cause: a skipped `ln h h2` would write h2, and h itself, with
# the bytes h had when it was recorded.
test_expect_success 'ln leaves the bytes of its source as they are now' '
	mkdir lnsrc && (cd lnsrc &&
	printf "#!/bin/bash\nread -r s <stamp\nrm -f h2\nln h h2\nread -r v <h2; echo \"h2: \$v\"\n" >r.sh &&
	chmod +x r.sh && echo x >h && echo 0 >stamp && nested 1 &&
	echo y >h && echo 1 >stamp && nested 2 &&
	echo y >expect && test_cmp expect h &&
	echo "h2: y" >expect && test_cmp expect out.2)
'

# Fd 0 unseen (DESIGN §13.3): a unit whose fd 0 is /dev/null or a pipe
# and that never observes it is keyed without it (make -jN gives its
# stdin to one recipe and a dead pipe to the others). Each call below
# tells one from the other: the unit must run again, not replay.
test_expect_success 'fd 0 unseen: a unit that observes its fd 0 is keyed by it' '
	mkdir unseen && (cd unseen &&
	cat >r.sh <<-\EOF &&
	#!/bin/bash
	read -r s <stamp
	ops="fstat lseek fcntl fadvise fstatfs poll statx fdinfo readlink statfs ficlone scm fddir fdinfodir"
	if [ "$s" = 0 ]; then
		for op in $ops; do "$HELPERS/tr-calls" stdin $op </dev/null; done
		sh -c "exec cat" </dev/null
		sh -c "[ -p /dev/stdin ] && echo pipe || echo other" </dev/null
	else
		for op in $ops; do : | "$HELPERS/tr-calls" stdin $op; done
		echo x | sh -c "exec cat"
		: | sh -c "[ -p /dev/stdin ] && echo pipe || echo other"
	fi
	EOF
	chmod +x r.sh && echo 0 >stamp && nested 1 &&
	echo 1 >stamp && ./r.sh >expect && nested 2 && test_cmp expect out.2 &&
	! grep "skipped in" err.2)
'

# A unit skipped by an entry found under its exact fd 0 may have observed
# it; the unit around it must not be stored as if it had not.
test_expect_success 'fd 0 unseen: a unit around one skipped under its exact key is keyed by fd 0' '
	mkdir unseen2 && (cd unseen2 &&
	cat >r.sh <<-\EOF &&
	#!/bin/bash
	read -r s <stamp
	if [ "$s" = 0 ]; then
		sh -c "\"\$HELPERS/tr-calls\" stdin fstat" </dev/null
		sh -c "\"\$HELPERS/tr-calls\" stdin fstat; echo done" </dev/null
	else
		: | sh -c "\"\$HELPERS/tr-calls\" stdin fstat; echo done"
	fi
	EOF
	chmod +x r.sh && echo 0 >stamp && nested 1 &&
	grep "unit [0-9]* (.*tr-calls.*skipped in" err.1 &&
	echo 1 >stamp && ./r.sh >expect && nested 2 && test_cmp expect out.2 &&
	! grep "skipped in" err.2)
'

# A unit that first looks at a file without its times (access: test -r)
# and then stats it: the times it was shown are checked, not dropped as
# a second look at the same path.
test_expect_success 'a unit that access()es then stat()s a file is keyed by its mtime' '
	mkdir accstat && (cd accstat &&
	echo data >f &&
	cat >r.sh <<-\EOF &&
	#!/bin/bash
	read -r s <stamp
	sh -c "test -r f && stat -c %Y f"
	EOF
	chmod +x r.sh && echo 0 >stamp && nested 1 &&
	touch -d 2001-01-01 f && echo 1 >stamp &&
	./r.sh >expect && nested 2 && test_cmp expect out.2 &&
	! grep "skipped in" err.2)
'

# A unit that chmods a file it did not write (perl: no stat first)
# stores the file as its result: its bytes are part of what it relied on.
test_expect_success 'a unit that chmods a file without reading it misses after the bytes change' '
	mkdir chm && (cd chm &&
	printf aaaa >f &&
	cat >r.sh <<-\EOF &&
	#!/bin/bash
	read -r s <stamp
	perl -e "chmod 0644, q(f)"
	cat f; echo
	EOF
	chmod +x r.sh && echo 0 >stamp && nested 1 &&
	printf bbbb >f && echo 1 >stamp &&
	./r.sh >expect && printf bbbb >f && nested 2 && test_cmp expect out.2 &&
	test "$(cat f)" = bbbb)
'

# A unit that chmods a directory it did not make would store the tree
# beneath it as its result: it is refused, and runs.
test_expect_success 'a unit that chmods a directory it did not make is refused' '
	mkdir chd && (cd chd &&
	mkdir d && printf aaaa >d/x &&
	cat >r.sh <<-\EOF &&
	#!/bin/bash
	read -r s <stamp
	perl -e "chmod 0755, q(d)"
	EOF
	chmod +x r.sh && echo 0 >stamp && nested 1 &&
	grep "changes the attributes of a directory it did not make" err.1 &&
	printf bbbb >d/x && echo 1 >stamp && nested 2 &&
	test "$(cat d/x)" = bbbb)
'

# Pids repeat between runs in the sandbox's PID namespace: a unit reading
# /proc/$PPID reads its parent's state (here its comm, set from a file
# the parent read with a builtin), which is in no key. Refused
# (trace_nest_proc_pid()); its own /proc/$$ is fine.
test_expect_success 'a unit reading /proc of its parent is refused, of itself is not' '
	mkdir procpid && (cd procpid &&
	cat >r.sh <<-\EOF &&
	#!/bin/sh
	read -r s <stamp
	read a b <v
	printf %s "$a" >/proc/self/comm
	sh -c "sleep 1 4</dev/null; read c </proc/\$PPID/comm; echo \"comm \$c\"" &
	sleep 0.3 4</dev/null
	printf %s "$b" >/proc/self/comm
	wait
	sh -c "read c </proc/\$\$/comm; echo \"own \$c\""
	EOF
	chmod +x r.sh && echo "A B" >v && echo 0 >stamp && nested 1 &&
	printf "comm B\nown sh\n" >expect && test_cmp expect out.1 &&
	grep "reads /proc of another process" err.1 &&
	echo "A C" >v && echo 1 >stamp && nested 2 &&
	printf "comm C\nown sh\n" >expect && test_cmp expect out.2 &&
	grep "unit [0-9]* (sh, pid [0-9]*) skipped" err.2)
'

# Only the number of seccomp filters is in a unit's key: a parent that
# installs a filter before the exec (one denying uname when v says B)
# gave the unit an entry recorded under another filter. A unit started
# under a filter or Landlock domain the job set up is refused.
test_expect_success 'a unit under a seccomp filter its parent installed is refused' '
	mkdir filt && (cd filt &&
	cat >f.py <<-\EOF &&
	import ctypes, struct, subprocess
	libc = ctypes.CDLL(None, use_errno=True)
	deny = open("v").read().strip() == "B"
	ALLOW = 0x7fff0000; ERR = 0x00050000 | 1
	ins = [(0x20,0,0,0), (0x15,0,1,63), (0x06,0,0, ERR if deny else ALLOW), (0x06,0,0,ALLOW)]
	buf = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *i) for i in ins))
	class P(ctypes.Structure): _fields_ = [("len", ctypes.c_ushort), ("f", ctypes.c_void_p)]
	p = P(len(ins), ctypes.cast(buf, ctypes.c_void_p))
	assert libc.prctl(38, 1, 0, 0, 0) == 0
	print("filter", libc.prctl(22, 2, ctypes.byref(p), 0, 0), flush=True)
	subprocess.run(["/bin/uname", "-s"])
	EOF
	printf "#!/bin/sh\nread -r s <stamp\n/usr/bin/python3 f.py\nuname -s\n" >r.sh &&
	chmod +x r.sh && echo A >v && echo 0 >stamp && nested 1 &&
	grep "runs under a seccomp filter" err.1 &&
	grep "python3, pid [0-9]*) refused: installs a seccomp filter" err.1 &&
	echo B >v && echo 1 >stamp && ./r.sh >expect 2>/dev/null &&
	printf "filter 0\nLinux\n" >expect2 && test_cmp expect2 expect &&
	nested 2 && test_cmp expect out.2 &&
	grep "unit [0-9]* (uname, pid [0-9]*) skipped" err.2)
'

# A write through an fd opened before the unit's exec is not notified:
# the conflict rule missed the parent's write of f while the unit ran,
# and the unit recorded what it read after, which the lookup checks at
# the exec, before the write. A unit reading a file another process
# held open for writing at its exec is refused (held_open()).
test_expect_success 'a unit reading a file its parent writes through an older fd is refused' '
	mkdir heldw && (cd heldw &&
	cat >r.sh <<-\EOF &&
	#!/bin/sh
	read -r s <stamp
	exec 3<>f
	sh -c "sleep 1 4</dev/null; read l <f; echo \"got \$l\"" 3>&- &
	read -r v <v
	sleep 0.3 4</dev/null
	echo "$v" >&3
	wait
	EOF
	chmod +x r.sh && echo A >v && echo 0 >stamp && nested 1 &&
	echo "got A" >expect && test_cmp expect out.1 &&
	grep "reads a file another process holds open for writing" err.1 &&
	echo B >v && echo 1 >stamp && nested 2 &&
	echo "got B" >expect && test_cmp expect out.2)
'

# The same through the unit's fd 0: its content is observed at the exec,
# before the files held open for writing are known.
test_expect_success 'a unit whose stdin file its parent writes through an older fd is refused' '
	mkdir heldw0 && (cd heldw0 &&
	cat >r.sh <<-\EOF &&
	#!/bin/sh
	read -r s <stamp
	: >f
	exec 3<>f
	sh -c "sleep 1 4</dev/null; read l; echo \"got \$l\"" <f 3>&- &
	read -r v <v
	sleep 0.3 4</dev/null
	echo "$v" >&3
	wait
	EOF
	chmod +x r.sh && echo A >v && echo 0 >stamp && nested 1 &&
	echo "got A" >expect && test_cmp expect out.1 &&
	grep "reads a file another process holds open for writing" err.1 &&
	echo B >v && echo 1 >stamp && nested 2 &&
	echo "got B" >expect && test_cmp expect out.2)
'

# held_open() looks only at the processes that may hold a file open for
# writing: one that opened one with write access, its descendants, and
# orphans (their parent, and its mark, gone). Here the writer is a child
# that inherited the fd from a parent which closed its own copy, and then
# an orphan whose parent exited.
test_expect_success 'a unit reading a file a child of the opener writes through the inherited fd is refused' '
	mkdir heldc && (cd heldc &&
	cat >r.sh <<-\EOF &&
	#!/bin/sh
	read -r s <stamp
	exec 3<>f
	sh -c "sleep 0.6 4</dev/null; read -r v <v; echo \"\$v\" >&3" &
	exec 3>&-
	sleep 0.2 4</dev/null
	sh -c "sleep 1 4</dev/null; read l <f; echo \"got \$l\""
	wait
	EOF
	chmod +x r.sh && echo A >v && echo 0 >stamp && nested 1 &&
	echo "got A" >expect && test_cmp expect out.1 &&
	grep "reads a file another process holds open for writing" err.1 &&
	echo B >v && echo 1 >stamp && nested 2 &&
	echo "got B" >expect && test_cmp expect out.2)
'

test_expect_success 'a unit reading a file an orphan writes through an inherited fd is refused' '
	mkdir heldo && (cd heldo &&
	cat >r.sh <<-\EOF &&
	#!/bin/sh
	read -r s <stamp
	sh -c "exec 3<>f; { sleep 0.6 4</dev/null; read -r v <v; echo \"\$v\" >&3; } & exit 0"
	sleep 0.2 4</dev/null
	sh -c "sleep 1 4</dev/null; read l <f; echo \"got \$l\""
	EOF
	chmod +x r.sh && echo A >v && echo 0 >stamp && nested 1 &&
	echo "got A" >expect && test_cmp expect out.1 &&
	grep "reads a file another process holds open for writing" err.1 &&
	echo B >v && echo 1 >stamp && nested 2 &&
	echo "got B" >expect && test_cmp expect out.2)
'

# A file lock is state shared with every process of the job: whether a
# unit gets one, or what F_GETLK tells it, depends on what processes
# outside it hold, which is in no key. Unit entries are shared between
# jobs, so a lookup from a job whose parent holds no lock must not find
# the answer recorded under one that did.
test_expect_success 'a unit taking or testing a file lock (flock, fcntl) is refused' '
	mkdir lock && (cd lock && echo x >L &&
	cat >q.pl <<-\EOF &&
	use Fcntl;
	open F, "<L" or die; my $s = pack("s s x4 q q i x4", F_WRLCK, 0, 0, 0, 0);
	fcntl(F, F_GETLK, $s) or die; print unpack("s", $s) == F_UNLCK ? "free\n" : "held\n";
	EOF
	cat >f.pl <<-\EOF &&
	open F, "<L" or die; print flock(F, 6) ? "got\n" : "busy\n";
	EOF
	cat >held.pl <<-\EOF &&
	use Fcntl;
	open G, "<L" or die; my $l = pack("s s x4 q q i x4", F_RDLCK, 0, 0, 0, 0);
	fcntl(G, F_SETLK, $l) or die; flock(G, 1) or die;
	system("perl", "q.pl"); system("perl", "f.pl");
	EOF
	printf "#!/bin/sh\nread -r s <stamp\nperl held.pl\n" >r.sh &&
	chmod +x r.sh && echo 0 >stamp && nested 1 &&
	printf "held\nbusy\n" >expect && test_cmp expect out.1 &&
	printf "#!/bin/sh\nread -r s <stamp\nperl q.pl\nperl f.pl\n" >r.sh &&
	echo 1 >stamp && nested 2 &&
	printf "free\ngot\n" >expect && test_cmp expect out.2 &&
	cat >held.pl <<-\EOF &&
	open G, "<L" or die; flock(G, 2) or die;
	system("perl", "f.pl");
	EOF
	printf "#!/bin/sh\nread -r s <stamp\nperl held.pl\nperl f.pl\n" >r.sh &&
	echo 2 >stamp && nested 3 &&
	printf "busy\ngot\n" >expect && test_cmp expect out.3 &&
	grep "takes or tests a file lock" err.3)
'

# What a process passes on at execve beyond the key's /proc fields: its
# I/O priority (ionice, read back with ioprio_get) is keyed; its memory
# policy (numactl, set_mempolicy), which no /proc file of another
# process shows, refuses the units started under it. Entries are shared
# between jobs: a job without either must not get the recorded answer.
test_expect_success 'a unit is keyed by its I/O priority, refused under a memory policy the job set' '
	mkdir ioprio && (cd ioprio &&
	cat >g.pl <<-\EOF &&
	my $m = pack("i", 0); syscall(239, $m, 0, 0, 0, 0) == 0 or die;
	print syscall(252, 1, 0), " ", unpack("i", $m), "\n";
	EOF
	cat >s.pl <<-\EOF &&
	my $mask = pack("Q", 1); syscall(238, 2, $mask, 64) == 0 or die; system("perl", "g.pl");
	EOF
	printf "#!/bin/bash\nperl g.pl\n" >g.sh &&
	printf "#!/bin/sh\nread -r s <stamp\nionice -c3 ./g.sh\nperl s.pl\n" >r.sh &&
	chmod +x r.sh g.sh && echo 0 >stamp && nested 1 &&
	printf "#!/bin/sh\nread -r s <stamp\n./g.sh\nperl g.pl\n" >r.sh &&
	echo 1 >stamp && nested 2 && ./r.sh >expect &&
	test_cmp expect out.2 && grep "^0 0$" out.2 &&
	grep "perl, pid [0-9]*) refused: runs under a seccomp filter, Landlock domain or inherited attribute" err.1)
'

# Whether stdout and stderr are one pipe (2>&1) is what fstat tells a
# program, and some look: a unit that said "same" must not be replayed
# where they are two pipes.
test_expect_success 'a unit whose stdout and stderr are one pipe is keyed so' '
	mkdir same && (cd same &&
	cat >p.sh <<-\EOF &&
	#!/bin/bash
	perl -e "print((stat STDOUT)[1] == (stat STDERR)[1] ? qq(same\n) : qq(two\n))"
	EOF
	printf "#!/bin/bash\nread -r s <stamp\n./p.sh 2>&1 | cat\n" >r.sh &&
	chmod +x r.sh p.sh && echo 0 >stamp && nested 1 &&
	echo same >expect && test_cmp expect out.1 &&
	printf "#!/bin/bash\nread -r s <stamp\n./p.sh | cat\n" >r.sh &&
	echo 1 >stamp && nested 2 && echo two >expect && test_cmp expect out.2)
'

# System V IPC and POSIX message queues are shared with the job's other
# processes by key or name, not by path: what a unit receives was in no
# key, and a skipped sender sent nothing. Every use refuses the units
# around it (the IPC namespace is the job's: a job starts empty).
test_expect_success 'a unit using a System V message queue or a POSIX one is refused' '
	mkdir ipc && (cd ipc &&
	cat >send.pl <<-\EOF &&
	use IPC::SysV qw(IPC_CREAT);
	my $id = msgget(4242, IPC_CREAT | 0600) // die; msgsnd($id, pack("l! a*", 1, $ARGV[0]), 0) or die;
	EOF
	cat >recv.pl <<-\EOF &&
	use IPC::SysV qw(IPC_NOWAIT);
	my $id = msgget(4242, 0); defined $id or do { print "noq\n"; exit };
	my $b; print msgrcv($id, $b, 100, 0, IPC_NOWAIT) ? substr($b, length(pack("l!", 0))) . "\n" : "empty\n";
	EOF
	cat >send.c <<-\EOF &&
	#include <mqueue.h>
	#include <string.h>
	#include <fcntl.h>
	int main(int c, char **v) { mqd_t q = mq_open("/q", O_CREAT | O_WRONLY, 0600, NULL); (void)c;
		return q < 0 || mq_send(q, v[1], strlen(v[1]), 0); }
	EOF
	cat >recv.c <<-\EOF &&
	#include <mqueue.h>
	#include <stdio.h>
	#include <fcntl.h>
	int main(void) { char b[9000]; mqd_t q = mq_open("/q", O_RDONLY | O_NONBLOCK); ssize_t n;
		if (q < 0) { puts("noq"); return 0; }
		n = mq_receive(q, b, sizeof b, NULL); if (n < 0) puts("empty"); else printf("%.*s\n", (int)n, b); return 0; }
	EOF
	cc -o send send.c -lrt && cc -o recv recv.c -lrt &&
	printf "#!/bin/sh\nread -r s <stamp\nperl send.pl A; perl recv.pl\n./send A; ./recv\n" >r.sh &&
	chmod +x r.sh && echo 0 >stamp && nested 1 &&
	printf "A\nA\n" >expect && test_cmp expect out.1 &&
	printf "#!/bin/sh\nread -r s <stamp\nperl send.pl B; perl recv.pl\n./send B; ./recv\n" >r.sh &&
	echo 1 >stamp && nested 2 && printf "B\nB\n" >expect && test_cmp expect out.2 &&
	grep "refused: uses System V IPC" err.2)
'

# A unit that changes another process (its parent here: renice -p $PPID)
# has an effect no result holds: skipped, the parent kept its priority.
# One that reads another process's priority or limits observes what no
# key holds. Both are refused; a change of its own is in no way shared.
test_expect_success 'a unit changing or reading the priority of another process is refused' '
	mkdir renice && (cd renice &&
	cat >r.sh <<-\EOF &&
	#!/bin/bash
	read -r s <stamp
	perl -e "setpriority(0, getppid, 5)"; nice
	perl -e "print getpriority(0, getppid), qq(\n)"
	perl -e "setpriority(0, 0, 7); print getpriority(0, 0), qq(\n)"
	EOF
	chmod +x r.sh && echo 0 >stamp && nested 1 &&
	printf "5\n5\n7\n" >expect && test_cmp expect out.1 &&
	echo 1 >stamp && nested 2 && test_cmp expect out.2 &&
	grep "priority, limits or scheduling of another process" err.2 &&
	grep "unit [0-9]* (perl, pid [0-9]*) skipped" err.2)
'

# A FIFO opened by path: what a unit reads there is what another process
# writes, and what it writes there another reads; neither is in a key or
# a result.
test_expect_success 'a unit opening a FIFO by path is refused' '
	mkdir fifo && (cd fifo &&
	cat >r.sh <<-\EOF &&
	#!/bin/bash
	read -r s <stamp
	rm -f f; mkfifo f
	(echo "$s" >f &); cat f
	sh -c "echo w$s >f" & read -r l <f; echo "$l"; wait
	EOF
	chmod +x r.sh && echo A >stamp && nested 1 &&
	printf "A\nwA\n" >expect && test_cmp expect out.1 &&
	echo B >stamp && nested 2 && printf "B\nwB\n" >expect && test_cmp expect out.2 &&
	grep "refused: opens a FIFO by path" err.2)
'

# A unit talking to a process outside it through a socket: what it gets
# is that process's doing, and a skipped client never connects (its
# server waited in accept() for good).
test_expect_success 'a unit connecting to its parent through a socket is refused' '
	mkdir sock && (cd sock && mkdir sub &&
	cat >sub/srv.py <<-\EOF &&
	import socket, subprocess
	s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind("\0pc-t0453"); s.listen(1)
	s.settimeout(10)
	p = subprocess.Popen(["/usr/bin/python3", "sub/cli.py"])
	try:
	    c, _ = s.accept(); c.sendall(open("stamp").read().encode()); c.close()
	except socket.timeout:
	    print("no client")
	p.wait()
	EOF
	cat >sub/cli.py <<-\EOF &&
	import socket
	s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect("\0pc-t0453")
	print("got", s.recv(100).decode().strip())
	EOF
	printf "#!/bin/sh\nread -r s <stamp\n/usr/bin/python3 sub/srv.py\n" >r.sh &&
	chmod +x r.sh && echo A >stamp && nested 1 &&
	echo "got A" >expect && test_cmp expect out.1 &&
	echo B >stamp && nested 2 && echo "got B" >expect && test_cmp expect out.2 &&
	grep "refused: communicates through a socket" err.2)
'

# fd 1's open file description is its parent's and siblings' too:
# FIONBIO (as F_SETFL O_NONBLOCK) there changes how their writes block.
# A skipped unit would not: the later writer's EAGAIN was gone.
test_expect_success 'a unit making its stdout non-blocking by FIONBIO is refused' '
	mkdir fionbio && (cd fionbio &&
	cat >r.sh <<-\EOF &&
	#!/bin/bash
	read -r s <stamp
	{ perl -e "my \$v = pack(q(i), 1); ioctl(STDOUT, 0x5421, \$v) or die"
	  head -c 300000 /dev/zero 2>/dev/null; echo "head $?" >rc; } | { sleep 1.0$s; wc -c; }
	cat rc
	EOF
	chmod +x r.sh && echo 1 >stamp && nested 1 &&
	printf "65536\nhead 1\n" >expect && test_cmp expect out.1 &&
	echo 2 >stamp && nested 2 && test_cmp expect out.2 &&
	grep "perl, pid [0-9]*) refused: makes its output non-blocking" err.2)
'

test_expect_success ROOT 'a root job without CAP_DAC_OVERRIDE: a directory closed to it since is not skipped through (its units run)' '
	mkdir access && (cd access && mkdir d && echo secret >d/f &&
	chmod 755 d && chmod 644 d/f &&
	printf "#!/bin/bash\nread -r s <stamp\ncat d/f\necho rc=\$?\n" >r.sh &&
	chmod +x r.sh && echo 0 >stamp &&
	caps="--cap-drop CAP_DAC_OVERRIDE --cap-drop CAP_DAC_READ_SEARCH" &&
	"$PROCACHE" run --nested -vv $caps -- ./r.sh >out.1 2>err.1 &&
	printf "secret\nrc=0\n" >expect && test_cmp expect out.1 &&
	grep "less access than root" err.1 &&
	chown nobody d && chmod 700 d && echo 1 >stamp &&
	"$PROCACHE" run --nested -vv $caps -- ./r.sh >out.2 2>err.2 &&
	chown root d && chmod 755 d &&
	echo rc=1 >expect && test_cmp expect out.2 &&
	grep "Permission denied" err.2 && ! grep "units run, [1-9][0-9]* skipped" err.2)
'

# tar lists a directory and lstats it, and archives its mtime and a
# symlink's own: a unit kept neither (a job keeps both, DESIGN §3), so a
# touched directory replayed the old archive; so did the job's entry
# stored with the unit skipped (the times composed as a file's only).
test_expect_success 'a unit shown the times of a directory it listed, or of a symlink, misses when they move' '
	mkdir dtimes && (cd dtimes && mkdir d && echo a >d/f && ln -s f d/l &&
	touch -d 2001-01-01 d/f && touch -h -d 2001-01-01 d/l d &&
	cat >r.sh <<-\EOF &&
	#!/bin/bash
	read -r s <stamp
	tar --sort=name -cf - d | od -c | md5sum
	stat -c %Y d/l
	EOF
	chmod +x r.sh && echo 0 >stamp && nested 1 &&
	touch -d 2002-02-02 d && touch -h -d 2002-02-02 d/l && echo 1 >stamp &&
	nested 2 && ./r.sh >expect && test_cmp expect out.2 &&
	grep "nested: 2 units run" err.2 &&
	echo 2 >stamp && nested 3 && grep "nested: 0 units run" err.3 &&
	touch -d 2003-03-03 d && nested 4 && ./r.sh >expect && test_cmp expect out.4)
'

# cd (a stat showing no times), then a file made in the directory, then
# find (an lstat of it that shows them): the directory as it is then,
# not a change during the run that refuses the units.
test_expect_success 'a unit that writes into a directory, then lists and lstats it, is not refused' '
	mkdir dwrite && (cd dwrite && mkdir d && echo a >d/a &&
	cat >r.sh <<-\EOF &&
	#!/bin/bash
	read -r s <stamp
	sh -c "cd d && touch x && find . -maxdepth 1 -name x"
	EOF
	chmod +x r.sh && echo 0 >stamp && nested 1 &&
	echo ./x >expect && test_cmp expect out.1 &&
	grep "nested: 3 units run, 0 skipped, 0 refused" err.1)
'

# find -printf %T@ of a subdirectory it did not read, from its parent
# listing and an lstat: a file made in the subdirectory moves it.
test_expect_success 'a unit printing the mtime of a subdirectory of a directory it listed misses when a file is made there' '
	mkdir subtimes && (cd subtimes && mkdir -p d/sub && touch -d 2001-01-01 d/sub &&
	cat >r.sh <<-\EOF &&
	#!/bin/bash
	read -r s <stamp
	find d -mindepth 1 -maxdepth 1 -printf "%p %T@\n"
	EOF
	chmod +x r.sh && echo 0 >stamp && nested 1 &&
	touch d/sub/x && echo 1 >stamp &&
	nested 2 && ./r.sh >expect && test_cmp expect out.2 &&
	grep "nested: 1 units run" err.2)
'

test_done

#!/usr/bin/env bash
test_description='hermeticity: times are observations, process attributes are keyed, stdin as the job sees it (issue 15)'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-hermetic.sh"

# A file given the same bytes and a new mtime: what `touch` does.
retouch() { touch -d "$1" "$2"; }

test_expect_success 'make: the prerequisite touched (same bytes): miss, make copies again' '
	hstart && echo hello >in.txt && retouch 2001-01-01 in.txt &&
	printf "out.txt: in.txt\n\tcp in.txt out.txt\n" >Makefile &&
	hmiss -- make &&
	grep -q "^cp in.txt out.txt$" "$TEST_DIR/stdout" &&
	hmiss -- make &&
	hhit -- make &&
	touch in.txt &&
	hmiss -- make &&
	grep -q "^cp in.txt out.txt$" "$TEST_DIR/stdout"
'

test_expect_success 'gzip: the input touched (same bytes): miss, the header has the new mtime' '
	hstart && echo data >f && retouch 2001-01-01 f &&
	hmiss -- gzip -kf f &&
	cp f.gz old.gz &&
	hmiss -- gzip -kf f &&
	hhit -- gzip -kf f &&
	retouch 2002-02-02 f &&
	hmiss -- gzip -kf f &&
	test_must_fail cmp -s old.gz f.gz
'

test_expect_success 'tar: a member touched (same bytes): miss, the archive has the new mtime' '
	hstart && mkdir d && echo x >d/f && retouch 2001-01-01 d/f &&
	hmiss -- tar cf out.tar d &&
	hhit -- tar cf out.tar d &&
	retouch 2002-02-02 d/f &&
	hmiss -- tar cf out.tar d &&
	tar tvf out.tar d/f >list && grep -q 2002-02-02 list &&
	hhit -- tar cf out.tar d &&
	retouch 2003-03-03 d &&
	hmiss -- tar cf out.tar d &&
	tar tvf out.tar --no-recursion d >list && grep -q 2003-03-03 list
'

# A shell stats its working directory (following symlinks): a directory
# whose mtime moves with every file anyone makes in it, not observed.
test_expect_success 'a shell job whose working directory gains a file: hit' '
	hstart &&
	hmiss -- sh -c "echo hi" &&
	echo other >unrelated &&
	hhit -- sh -c "echo hi"
'

# ls -l, find and a scandir show a subdirectory's mtime from a listing of
# its parent and an lstat, without reading the subdirectory: a file made
# in it moves the mtime they print (found in a sweep: each replayed it).
test_expect_success 'ls -l, find -printf, scandir: a subdirectory gained a file: miss' '
	hstart && mkdir -p d/sub && echo a >d/sub/f && retouch 2001-01-01 d/sub &&
	JOB="ls -l --time-style=+%s d; find d -maxdepth 1 -printf \"%p %T@\n\" | sort; /usr/bin/python3 -c \"import os; print(sorted((e.name, int(e.stat(follow_symlinks=False).st_mtime)) for e in os.scandir(chr(100))))\"" &&
	hmiss -- sh -c "$JOB" &&
	hhit -- sh -c "$JOB" &&
	touch d/sub/new &&
	hmiss -- sh -c "$JOB" &&
	! grep -q 978307200 "$TEST_DIR/stdout" &&
	hhit -- sh -c "$JOB"
'

# A directory's mtime is observed only when the job listed the directory
# and lstat-ed it (DESIGN.md §3). make stats a prerequisite following
# symlinks without listing it, stat(1) does not list what it names: the
# mtime of a directory they act on is not seen. Known, documented.
test_expect_failure 'make: a directory prerequisite gains an entry: miss' '
	hstart && mkdir d && echo x >d/a &&
	printf "out.txt: d\n\tls d >out.txt\n" >Makefile &&
	hmiss -- make && hmiss -- make &&
	sleep 0.01 && echo y >d/b &&
	hmiss -- make
'

# The same through a stat that follows symlinks (Python os.path.getmtime,
# ls -lL): not observed, as make stat-s the directories it lists so and
# "make clean, then a hit" would break. "The newest run directory" picks
# the old one. Known, documented.
test_expect_failure 'python: the newest subdirectory by os.path.getmtime, a file made in another: miss' '
	hstart && mkdir -p runs/a runs/b && retouch 2001-01-01 runs/a && retouch 2002-01-01 runs/b &&
	JOB="import os; print(max(os.listdir(chr(114)+chr(117)+chr(110)+chr(115)), key=lambda d: os.path.getmtime(os.path.join(chr(114)+chr(117)+chr(110)+chr(115), d))))" &&
	hmiss -- /usr/bin/python3 -c "$JOB" &&
	touch runs/a/new &&
	hmiss -- /usr/bin/python3 -c "$JOB"
'

# ls -la shows the mtime of .., a directory it neither lists nor is the
# parent of one it lists: not observed (every realpath() lstats the
# ancestors of what a job lists). Known, documented.
test_expect_failure 'ls -la: .. gained an entry: miss' '
	hstart && mkdir -p q/p && retouch 2001-01-01 q &&
	hmiss -- sh -c "cd q/p && ls -la --time-style=+%s" &&
	hhit -- sh -c "cd q/p && ls -la --time-style=+%s" &&
	touch q/new &&
	hmiss -- sh -c "cd q/p && ls -la --time-style=+%s"
'

test_expect_failure 'stat -c %y of a directory that gained an entry: miss' '
	hstart && mkdir d && touch -d 2001-01-01 d &&
	hmiss -- stat -c %y d &&
	touch d/new &&
	hmiss -- stat -c %y d
'

test_expect_success 'rsync -u, ls -l: hits (the extended attributes they read are observations, t1110)' '
	hstart && echo s >src && retouch 2001-01-01 src &&
	hmiss -- rsync -u src dst &&
	rm dst &&
	hhit -- rsync -u src dst &&
	hmiss -- ls -l src &&
	hhit -- ls -l src
'

test_expect_success 'cp -u, find -newer, stat: a touch (same bytes) is a miss' '
	hstart && echo s >src && echo d >dst && retouch 2001-01-01 src && retouch 2002-02-02 dst &&
	JOB="find . -maxdepth 1 -newer dst -name src; cp -u src dst; cat dst; stat -c %y src" &&
	hmiss -- sh -c "$JOB" &&
	hhit -- sh -c "$JOB" &&
	retouch 2003-03-03 src &&
	hmiss -- sh -c "$JOB" &&
	grep -q "^s$" "$TEST_DIR/stdout" && grep -q "^./src$" "$TEST_DIR/stdout" &&
	grep -q "^2003-03-03" "$TEST_DIR/stdout"
'

test_expect_success 'python: a module touched (same bytes) after its .pyc was written: miss' '
	hstart && echo "X = 1" >mod.py && retouch 2001-01-01 mod.py &&
	JOB="import sys; sys.dont_write_bytecode = False; import mod, importlib.util, os; print(mod.X, os.path.exists(importlib.util.cache_from_source(\"mod.py\")))" &&
	hmiss -- python3 -c "$JOB" &&
	hstdout_is "1 True" &&
	hmiss -- python3 -c "$JOB" &&
	hhit -- python3 -c "$JOB" &&
	retouch 2002-02-02 mod.py &&
	hmiss -- python3 -c "$JOB"
'

test_expect_success 'fstat by fd shows times: a touch is a miss (glibc fstat, the raw syscall, statx)' '
	hstart && echo 12 >f && retouch 2001-01-01 f &&
	for call in fstat-empty fstat-raw statx-empty; do
		hmiss -- "$HELPERS/tr-calls" "$call" f &&
		hhit -- "$HELPERS/tr-calls" "$call" f || return 1
	done &&
	retouch 2002-02-02 f &&
	for call in fstat-empty fstat-raw statx-empty; do
		hmiss -- "$HELPERS/tr-calls" "$call" f || return 1
	done
'

test_expect_success '--mtime=content: a touch (same bytes) hits, a same-size edit misses' '
	hstart && echo 12 >f && retouch 2001-01-01 f &&
	hmiss --mtime=content -- stat -c "%s %a" f &&
	hmiss -- stat -c "%s %a" f &&
	retouch 2002-02-02 f &&
	hhit --mtime=content -- stat -c "%s %a" f &&
	hmiss -- stat -c "%s %a" f &&
	echo 34 >f && retouch 2002-02-02 f &&
	hmiss --mtime=content -- stat -c "%s %a" f
'

test_expect_success 'a symlink lstat-ed: its own mtime is observed' '
	hstart && ln -s target l && touch -h -d 2001-01-01 l &&
	hmiss -- stat -c "%y %N" l &&
	hhit -- stat -c "%y %N" l &&
	touch -h -d 2002-02-02 l &&
	hmiss -- stat -c "%y %N" l &&
	grep -q "^2002-02-02" "$TEST_DIR/stdout"
'

test_expect_success 'ulimit -n 512 then 1024: a miss, each prints its own' '
	hstart &&
	(ulimit -n 512 && hmiss -- sh -c "ulimit -n" && hstdout_is 512) &&
	(ulimit -n 1024 && hmiss -- sh -c "ulimit -n" && hstdout_is 1024) &&
	(ulimit -n 512 && hhit -- sh -c "ulimit -n" && hstdout_is 512)
'

test_expect_success 'another resource limit (stack): a miss' '
	hstart &&
	(ulimit -s 4096 && hmiss -- sh -c "ulimit -s" && hstdout_is 4096) &&
	(ulimit -s 6144 && hmiss -- sh -c "ulimit -s" && hstdout_is 6144)
'

test_expect_success 'taskset -c 0: nproc prints 1, a miss' '
	hstart &&
	hmiss -- nproc &&
	hstdout_is "$(nproc)" &&
	(taskset -p -c 0 $BASHPID >/dev/null && hmiss -- nproc && hstdout_is 1)
'

test_expect_success 'nice value: keyed' '
	hstart &&
	hmiss -- nice &&
	(renice -n 5 -p $BASHPID >/dev/null && hmiss -- nice && hstdout_is 5)
'

test_expect_success 'coredump_filter: keyed, passed through' '
	hstart &&
	hmiss -- cat /proc/self/coredump_filter &&
	plain=$(cat "$TEST_DIR/stdout") &&
	(echo 0x3f >/proc/self/coredump_filter &&
	 hmiss -- cat /proc/self/coredump_filter && hstdout_is 0000003f) &&
	hhit -- cat /proc/self/coredump_filter && hstdout_is "$plain"
'

test_expect_success 'NUMA memory policy (numactl --preferred 0): keyed, passed through' '
	hstart &&
	J="import ctypes; m=ctypes.c_int(); ctypes.CDLL(None).syscall(239, ctypes.byref(m), None, 0, None, 0); print(m.value)" &&
	printf "%s\n" "import ctypes,os,sys" "mask = ctypes.c_ulong(1)" \
		"assert ctypes.CDLL(None).syscall(238, 1, ctypes.byref(mask), 64) == 0" \
		"os.execvp(sys.argv[1], sys.argv[1:])" >"$TEST_DIR/preferred.py" &&
	hmiss -- python3 -c "$J" && hstdout_is 0 &&
	HWRAP="python3 $TEST_DIR/preferred.py" hmiss -- python3 -c "$J" && hstdout_is 1 &&
	hhit -- python3 -c "$J" && hstdout_is 0
'

# Docker's default seccomp profile refuses get_mempolicy (239) without
# CAP_SYS_NICE: procache runs there, the policy keyed as unreadable.
test_expect_success 'get_mempolicy refused to procache (a container'"'"'s profile): the run goes on, stored and hit' '
	hstart &&
	HWRAP="$HELPERS/deny-call 239" hmiss -- echo ok &&
	hstdout_is ok &&
	HWRAP="$HELPERS/deny-call 239" hhit -- echo ok &&
	hmiss -- echo ok
'

test_expect_success 'the kernel is keyed; where core dumps go is keyed when ulimit -c allows them' '
	hstart &&
	(ulimit -c 0 && hmiss -- true) &&
	"$PROCACHE" cache show last >show &&
	grep "^  kernel  *$(uname -r) " show &&
	! grep "^  core_pattern" show &&
	(ulimit -c unlimited && hmiss -- true) &&
	"$PROCACHE" cache show last >show &&
	grep "^  core_pattern  *$(cat /proc/sys/kernel/core_pattern)|$(cat /proc/sys/kernel/core_uses_pid)$" show
'

# The attributes a job inherits and prints: keyed, passed through (DESIGN.md
# §4). Each is set on procache itself, as a user would, and the job must
# print what it would print run directly under the same setting. (bash:
# dash unblocks every signal at start.)
test_expect_success 'blocked signals, scheduling policy, I/O priority, personality, supplementary groups: keyed, passed through' '
	hstart &&
	PC="\"\$PROCACHE\" run --report \"\$TEST_DIR/report.json\" -- bash -c \"\$J\" </dev/null" &&
	BLOCK="import signal,os,sys; signal.pthread_sigmask(signal.SIG_BLOCK,{signal.SIGUSR1}); os.execvp(sys.argv[1], sys.argv[1:])" &&
	J="grep -h -e SigBlk /proc/self/status; ionice; cat /proc/self/personality; id -G; chrt -p 0 | sed s/[0-9][0-9]*.s/self/" &&
	eval "$PC" >plain && hexpect_status miss &&
	eval "$PC" >out && hexpect_status hit && test_cmp plain out &&
	for set in "/usr/bin/python3 -c \"\$BLOCK\"" "chrt -b 0" "ionice -c 3" \
		   "setarch x86_64 -R" "setpriv --groups 0,5"; do
		eval "$set bash -c \"\$J\"" >real &&
		eval "$set $PC" >out && hexpect_status miss &&
		test_cmp real out && ! cmp -s plain out &&
		eval "$set $PC" >out && hexpect_status hit &&
		test_cmp real out || return 1
	done
'

test_expect_success 'a signal ignored at start stays ignored, and is keyed' '
	hstart &&
	JOB="kill -INT \$\$; echo survived" &&
	(trap "" INT && hrun "miss" -- sh -c "$JOB" && hstdout_is survived) &&
	# (a suite started in the background has SIGINT ignored already,
	# which no shell can undo: env can)
	rc=0 && HWRAP="env --default-signal=INT" hrun "miss uncacheable" -- sh -c "$JOB" &&
	test "$rc" = 130 &&
	(trap "" INT && hhit -- sh -c "$JOB")
'

test_expect_success 'a background procache (SIGINT ignored) is not interrupted by SIGINT' '
	hstart &&
	(trap "" INT && hrun miss -- sh -c "grep SigIgn /proc/self/status") &&
	grep -q "SigIgn:.*[2367abef]$" "$TEST_DIR/stdout"
'

test_expect_success 'stdin closed: the job gets it closed, keyed so (no 125)' '
	hstart &&
	"$PROCACHE" run --report "$TEST_DIR/report.json" -- sh -c "cat; echo rc=\$?" <&- >out 2>err &&
	hexpect_status miss &&
	grep -q "rc=1" out && grep -q "Bad file descriptor" err &&
	"$PROCACHE" run --report "$TEST_DIR/report.json" -- sh -c "cat; echo rc=\$?" <&- >out2 2>/dev/null &&
	hexpect_status hit && test_cmp out out2 &&
	hmiss -- sh -c "cat; echo rc=\$?"
'

test_expect_success 'stdin: /dev/null and an empty pipe get one key' '
	hstart &&
	hmiss -- sh -c "cat; echo end" &&
	: | "$PROCACHE" run --report "$TEST_DIR/report.json" -- sh -c "cat; echo end" >out &&
	hexpect_status hit && echo end >expect && test_cmp expect out
'

test_expect_success 'stdin: /dev/zero (a character device) is passed through, uncacheable' '
	hstart &&
	"$PROCACHE" run --report "$TEST_DIR/report.json" -- head -c 3 </dev/zero >out &&
	hexpect_status uncacheable && hreason_has "character device" &&
	printf "\0\0\0" >expect && test_cmp expect out
'

test_expect_success 'stdin: a pipe with bytes stays a pipe (not seekable), on a miss and a hit' '
	hstart &&
	JOB="import os,sys; d=sys.stdin.read(); print(d.strip(), os.path.exists(\"/proc/self/fd/0\"))
try: os.lseek(0, 0, 0); print(\"seekable\")
except OSError as e: print(\"not seekable\")" &&
	echo hi | "$PROCACHE" run --report "$TEST_DIR/report.json" -- python3 -c "$JOB" >out &&
	hexpect_status miss && grep -q "not seekable" out &&
	echo hi | "$PROCACHE" run --report "$TEST_DIR/report.json" -- python3 -c "$JOB" >out2 &&
	hexpect_status hit && test_cmp out out2 &&
	echo hi >in && hin in && hmiss -- python3 -c "$JOB" && hin /dev/null &&
	grep -q "^seekable" "$TEST_DIR/stdout"
'

test_done

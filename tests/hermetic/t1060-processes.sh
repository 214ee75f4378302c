#!/usr/bin/env bash
test_description='hermeticity: several processes, threads, a process that execs several times'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-hermetic.sh"

test_expect_success 'a pipeline: the input of its last stage changed: miss' '
	hstart && echo a >in1 && printf "x\ny\n" >in2 &&
	hmiss -- sh -c "cat in1 | sort - in2 | tr a-z A-Z >out" &&
	hhit -- sh -c "cat in1 | sort - in2 | tr a-z A-Z >out" &&
	printf "x\nz\n" >in2 &&
	hmiss -- sh -c "cat in1 | sort - in2 | tr a-z A-Z >out" &&
	printf "A\nX\nZ\n" >expect && test_cmp expect out
'

test_expect_success 'children forked and exec-ed in the background: a grandchild input changed: miss' '
	hstart && echo 1 >f1 && echo 2 >f2 &&
	J="(sh -c \"cat f1 >o1\") & (sh -c \"sh -c \\\"cat f2 >o2\\\"\") & wait" &&
	hmiss -- sh -c "$J" &&
	hhit -- sh -c "$J" &&
	echo 3 >f2 &&
	hmiss -- sh -c "$J" &&
	echo 3 >expect && test_cmp expect o2
'

test_expect_success 'a process that execs several times: the last image changed: miss' '
	hstart && printf "#!/bin/sh\necho last-v1\n" >last && chmod +x last &&
	hmiss -- sh -c "exec sh -c \"exec env ./last\"" &&
	hhit -- sh -c "exec sh -c \"exec env ./last\"" &&
	printf "#!/bin/sh\necho last-v2\n" >last &&
	hmiss -- sh -c "exec sh -c \"exec env ./last\"" &&
	hstdout_is last-v2
'

# The job waits (polls) for its daemonized child's output: that is the job
# under test, not a wait of the test's.
test_expect_success 'a daemonized child (double fork) reading a file: its input changed: miss' '
	hstart && echo 1 >f &&
	J="rm -f o; (sh -c \"cat f >o\" &) ; while ! test -s o; do sleep 0.01; done; cat o" &&
	hmiss -- sh -c "$J" &&
	echo 2 >f &&
	hmiss -- sh -c "$J" &&
	hstdout_is 2
'

test_expect_success 'threads: each thread reads its own file; one of them changed: miss' '
	hstart && for i in 1 2 3 4 5 6; do echo "file $i" >f$i || return 1; done &&
	T=$HELPERS/he-threads &&
	hmiss -- "$T" f1 f2 f3 f4 f5 f6 &&
	hhit -- "$T" f1 f2 f3 f4 f5 f6 &&
	echo "FILE 5" >f5 &&
	hmiss -- "$T" f1 f2 f3 f4 f5 f6 &&
	grep -q "^f5 7 " "$TEST_DIR/stdout" &&
	echo "file 55" >f2 &&
	hmiss -- "$T" f1 f2 f3 f4 f5 f6 &&
	grep -q "^f2 8 " "$TEST_DIR/stdout"
'

test_expect_success 'threads: a file one thread finds absent appears: miss' '
	hstart && echo a >f1 && T=$HELPERS/he-threads &&
	hrun miss -- "$T" f1 f2 &&
	test "$rc" = 1 &&
	echo b >f2 &&
	hmiss -- "$T" f1 f2 &&
	test "$rc" = 0
'

test_expect_success 'make -j2 building from two sources: one source edited: miss' '
	hstart && echo 1 >a.in && echo 2 >b.in &&
	printf "all: a.out b.out\n%%.out: %%.in\n\tcp \$< \$@\n" >Makefile &&
	hmiss -- make -s -j2 &&
	rm a.out b.out &&
	hhit -- make -s -j2 &&
	rm a.out b.out && echo 3 >b.in &&
	hmiss -- make -s -j2 &&
	echo 3 >expect && test_cmp expect b.out
'

# ptrace reaches only the job's own processes (DESIGN.md §5): LeakSanitizer
# stops its own threads at exit, gdb and strace run their tracee.
test_expect_success 'ptrace of the job'"'"'s own process: cacheable; switching its seccomp filters off or under --untrusted: uncacheable' '
	hstart &&
	cat >pt.py <<-\EOF &&
	import ctypes, os, sys
	libc = ctypes.CDLL(None, use_errno=True)
	pid = os.fork()
	if pid == 0:
	    import time; time.sleep(5); os._exit(0)
	opts = 0x200000 if sys.argv[1] == "suspend" else 0  # PTRACE_O_SUSPEND_SECCOMP
	r = libc.ptrace(0x4206, pid, None, ctypes.c_void_p(opts))  # PTRACE_SEIZE
	print("seize", "ok" if r == 0 else "failed")
	os.kill(pid, 9); os.waitpid(pid, 0)
	EOF
	hmiss -- python3 pt.py plain &&
	hstdout_is "seize ok" &&
	hhit -- python3 pt.py plain &&
	hrun "miss uncacheable" -- python3 pt.py suspend &&
	grep -q "PTRACE_O_SUSPEND_SECCOMP" "$TEST_DIR/report.json" &&
	HOPTS=--untrusted hrun "miss uncacheable" -- python3 pt.py plain &&
	grep -q "syscall ptrace (under --untrusted" "$TEST_DIR/report.json"
'

# tsc 7 opens an fanotify group and closes it, marking nothing.
test_expect_success 'fanotify_init alone is cacheable (fanotify_mark is not)' '
	hstart &&
	hmiss -- python3 -c "import ctypes; ctypes.CDLL(None).fanotify_init(0, 0); print(1)" &&
	hhit -- python3 -c "import ctypes; ctypes.CDLL(None).fanotify_init(0, 0); print(1)"
'

test_done

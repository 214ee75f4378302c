#!/usr/bin/env bash
test_description='pipelines as users run them: nothing lost silently, deaths from outside, batches, scheduler variables, --check diffs'
. "$(dirname "$0")/lib.sh"

# job_pid PROCACHE_PID: the host pid of the job (init's child).
job_pid() {
	local init
	init=$(pgrep -P "$1") && pgrep -P "$init"
}

test_expect_success 'changes kept outside the output roots: one warning, on a miss and on a hit, after the job bytes' '
	mkdir -p elsewhere w &&
	(cd w && run miss -- sh -c "echo job >&2; echo x >../elsewhere/x.afa" 2>../err1) &&
	test_path_is_missing elsewhere/x.afa &&
	head -n1 err1 >first && echo job >expect && test_cmp expect first &&
	test $(wc -l <err1) = 2 &&
	grep "warning: 1 change kept in the sandbox, outside the output roots: .*/elsewhere/x.afa.*add --output .*/elsewhere. (and --output . to keep the working directory)" err1 &&
	(cd w && run hit -- sh -c "echo job >&2; echo x >../elsewhere/x.afa" 2>../err2) &&
	test_cmp err1 err2 &&
	(cd w && run hit --output . --output ../elsewhere -- sh -c "echo job >&2; echo x >../elsewhere/x.afa" 2>../err3) &&
	test_cmp expect err3 &&
	echo x >expect && test_cmp expect elsewhere/x.afa
'

test_expect_success 'an uncacheable run says why in one line without -v; with -v, "(1 reason)"' '
	run uncacheable -- sh -c "cat /proc/interrupts >/dev/null; echo out" >out 2>err &&
	echo out >expect && test_cmp expect out &&
	test $(wc -l <err) = 1 &&
	grep "^procache: warning: not cached: syscall openat: reads always-changing host file /proc/interrupts (and 1 more, -v lists them); .procache trace -- CMD. shows what it did$" err &&
	run uncacheable --net -- true 2>err &&
	echo "procache: warning: not cached: shares the host network (--net); drop --net if it needs no network" >expect &&
	test_cmp expect err &&
	run uncacheable -v --net -- true 2>err &&
	grep "uncacheable (1 reason);" err
'

test_expect_success '--explain prints why a run missed without -v' '
	echo a >in &&
	run miss -- cat in >/dev/null 2>err &&
	test ! -s err &&
	echo b >in &&
	run miss --explain -- cat in >/dev/null 2>err &&
	grep "procache: explain: .*in" err
'

test_expect_success 'a job killed from outside with SIGKILL is not stored' '
	{ "$PROCACHE" run --report r1.json -- sh -c "echo started; sleep 30; echo done" >out 2>err & } &&
	pp=$! &&
	test_wait_for 20 grep started out &&
	kill -9 $(job_pid $pp) &&
	test_expect_code 137 wait $pp &&
	expect_status uncacheable r1.json &&
	grep "not cached: killed by signal 9 (Killed) from outside: no job process sent it" err &&
	"$PROCACHE" cache ls >ls &&
	! grep "sleep 30" ls
'

test_expect_success 'a child killed from outside, reported by its shell as 137, is not stored' '
	{ "$PROCACHE" run --report r1.json -- sh -c "sleep 30 & echo child; wait \$!" >out 2>err & } &&
	pp=$! &&
	test_wait_for 20 grep child out &&
	kill -9 $(pgrep -P $(job_pid $pp)) &&
	test_expect_code 137 wait $pp &&
	expect_status uncacheable r1.json &&
	grep "killed: exited 137, as a shell does when a child dies of signal 9" err
'

test_expect_success 'a job that kills itself (kill -9 $$, abort) is stored and replays its death' '
	run miss -- sh -c "kill -9 \$\$" && test $rc = 137 &&
	run hit -- sh -c "kill -9 \$\$" && test $rc = 137 &&
	run miss -- sh -c "sleep 30 & kill -TERM \$!; wait \$!" && test $rc = 143 &&
	run hit -- sh -c "sleep 30 & kill -TERM \$!; wait \$!" && test $rc = 143 &&
	run miss -- python3 -c "import os; os.abort()" && test $rc = 134 &&
	run hit -- python3 -c "import os; os.abort()" && test $rc = 134
'

test_prereq_CGROUP_LIMITS() {
	[ "$(id -u)" = 0 ] && [ -d /sys/fs/cgroup/memory ] ||
	grep -qw memory /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
}

test_skip_unless_prereq CGROUP_LIMITS 'a job the OOM killer kills under --memory is not stored' &&
test_expect_success 'a job the OOM killer kills under --memory is not stored' '
	run uncacheable --memory 64M -- python3 -c "b = bytearray(256 << 20)" 2>err &&
	test $rc = 137 &&
	grep "not cached: killed by the OOM killer" err &&
	run uncacheable --memory 64M -- sh -c "python3 -c \"b = bytearray(256 << 20)\"; exit 0" 2>err &&
	test $rc = 0 &&
	grep "killed by the OOM killer" err
'

test_expect_success '--no-cache-failures stores only successes, and replays no stored failure' '
	run miss -- sh -c "echo failing; exit 3" >/dev/null && test $rc = 3 &&
	run hit -- sh -c "echo failing; exit 3" >/dev/null && test $rc = 3 &&
	run uncacheable --no-cache-failures -- sh -c "echo failing; exit 3" >/dev/null 2>err &&
	test $rc = 3 &&
	grep "not cached: exited with status 3 and --no-cache-failures stores only successes" err &&
	run miss --no-cache-failures -- sh -c "exit 0" &&
	run hit --no-cache-failures -- sh -c "exit 0" &&
	echo "{\"cache_failures\": false}" >cfg.json &&
	run uncacheable --config cfg.json -- sh -c "exit 4" 2>/dev/null && test $rc = 4
'

test_expect_success '--env-unset and --env-keep take globs; scheduler variables removed hit' '
	SLURM_JOB_ID=11 SLURM_TASK_PID=5 PBS_JOBID=2 KEEP=1 \
		run miss --env-unset "SLURM_*" --env-unset "PBS_*" -- env >env1 &&
	! grep -e ^SLURM_ -e ^PBS_ env1 &&
	grep ^KEEP=1 env1 &&
	SLURM_JOB_ID=12 SLURM_TASK_PID=9 PBS_JOBID=3 KEEP=1 \
		run hit --env-unset "SLURM_*" --env-unset "PBS_*" -- env >env2 &&
	test_cmp env1 env2 &&
	SLURM_JOB_ID=12 run miss --env-clear --env-keep "SLURM_*" -- env >env3 &&
	grep ^SLURM_JOB_ID=12 env3 &&
	! grep ^KEEP= env3
'

test_expect_success 'a shell background job: procache and the job keep SIGINT ignored' '
	cat >bg.sh <<-EOF &&
	"$PROCACHE" run --no-cache -- sh -c "grep ^SigIgn: /proc/self/status; sleep 3; echo survived" >out &
	echo \$! >pid
	wait
	EOF
	sh bg.sh &
	shpid=$! &&
	test_wait_for 20 grep SigIgn out &&
	kill -INT $(cat pid) &&
	wait $shpid &&
	grep "^survived$" out &&
	mask=$(sed -n "s/SigIgn:[[:space:]]*//p" out) &&
	test $(( 0x$mask & 2 )) = 2
'

test_expect_success 'batches: concurrent runs counted; the last batch by default' '
	for i in 1 2 3 4 5 6; do echo $i >in$i || return 1; done &&
	ls in? | PROCACHE_BATCH=b-one xargs -P3 -I{} "$PROCACHE" run -- sh -c "cat {} >{}.out" &&
	rm -f in?.out &&
	ls in? | PROCACHE_BATCH=b-two xargs -P3 -I{} "$PROCACHE" run -- sh -c "cat {} >{}.out" &&
	echo 7 >in1 &&
	ls in? | xargs -P3 -I{} "$PROCACHE" run --batch b-two -- sh -c "cat {} >{}.out" &&
	PROCACHE_BATCH=b-two "$PROCACHE" run -- sh -c "cat /proc/interrupts >/dev/null" 2>/dev/null &&
	"$PROCACHE" cache batch >sum &&
	grep "^batch  *b-two: 13 runs" sum &&
	grep "^hits  *11$" sum &&
	grep "^misses  *1$" sum &&
	grep "^uncacheable  *1$" sum &&
	grep "^ *1  syscall openat$" sum &&
	"$PROCACHE" cache stats --batch b-one --json >one.json &&
	test "$(json_get one.json misses)" = 6 &&
	test "$(json_get one.json hits)" = 0 &&
	"$PROCACHE" cache batch --clear b-two &&
	"$PROCACHE" cache batch >sum &&
	grep "^batch  *b-one: 6 runs" sum &&
	test_expect_code 125 "$PROCACHE" run --batch ../x -- true 2>err &&
	grep "invalid value for .--batch." err &&
	PROCACHE_BATCH="a b" test_expect_code 125 "$PROCACHE" run -- sh -c "echo ran" >out 2>err &&
	test ! -s out &&
	grep "invalid PROCACHE_BATCH" err
'

test_expect_success 'the cache has a 5 GiB limit by default; a run leaves no run directory' '
	"$PROCACHE" config >cfg &&
	grep "^max_size = 5368709120	(default)" cfg &&
	run miss -- sh -c "echo a >f" &&
	run uncacheable -- sh -c "cat /proc/interrupts >/dev/null" 2>/dev/null &&
	ls -A "$PROCACHE_DIR/run" >left &&
	! grep -v -e "^.clean-stamp$" -e "^\.trash-" left &&
	test_wait_for 10 run_trash_gone "$PROCACHE_DIR/run" &&
	ls -A "$PROCACHE_DIR/run" >left &&
	! grep -v "^.clean-stamp$" left &&
	"$PROCACHE" cache stats --json >s.json &&
	test "$(json_get s.json run_dirs)" = 0 &&
	du=$(du -sB1 "$PROCACHE_DIR" | cut -f1) &&
	test "$(json_get s.json disk_bytes)" -ge $((du * 9 / 10)) &&
	test "$(json_get s.json disk_bytes)" -le $((du * 11 / 10))
'

test_expect_success '--check shows a unified diff of what differs; --check-ignore drops volatile lines' '
	cat >job.sh <<-\EOF &&
	echo "# Date $(date +%s%N)"
	echo same
	echo "# CPU time $(date +%N)" >report.txt
	echo result >>report.txt
	EOF
	run miss -- sh job.sh >/dev/null &&
	test_expect_code 1 "$PROCACHE" run --check -- sh job.sh >/dev/null 2>err &&
	grep "^--- stdout (stored)" err &&
	grep "^-# Date " err && grep "^+# Date " err && grep "^ same" err &&
	grep "^--- .*/report.txt (stored)" err &&
	"$PROCACHE" run --check --check-ignore "^# (Date|CPU time)" -- sh job.sh >/dev/null 2>err &&
	test ! -s err &&
	test_expect_code 125 "$PROCACHE" run --check-ignore x -- true 2>err &&
	grep "needs .--check." err &&
	test_expect_code 125 "$PROCACHE" run --check --check-ignore "(" -- true 2>err &&
	grep "invalid value for .--check-ignore." err &&
	# a stack of repetitions would take regcomp() gigabytes: refused
	test_expect_code 125 "$PROCACHE" run --check --check-ignore "-++++++++++++++++++++" -- true 2>err &&
	grep "a repetition of a repetition" err &&
	"$PROCACHE" run --check --check-ignore "^# (Date|CPU time)" \
		--check-ignore "[*+]+ a\\++" -- sh job.sh >/dev/null
'

# npm writes a debug log named after the clock under ~/.npm: outside the
# output roots, never applied, it differs for nobody.
test_expect_success '--check does not count what differs outside the output roots (kept, never applied)' '
	mkdir -p chk/out chk/side &&
	(cd chk/out && "$PROCACHE" run -- sh -c "echo r >res; date +%s%N >../side/log" 2>/dev/null) &&
	(cd chk/out && "$PROCACHE" run --check --report ../r.json -- \
		sh -c "echo r >res; date +%s%N >../side/log" 2>/dev/null) &&
	grep -q "\"check\":.*\"same\"" chk/r.json &&
	(cd chk/out && test_expect_code 1 "$PROCACHE" run --output .. --check --report ../r.json -- \
		sh -c "echo r >res; date +%s%N >../side/log" 2>/dev/null) &&
	grep -q "side/log" chk/r.json
'

# `cmd | head`: a bare cmd dies of SIGPIPE at its next write once head has
# gone (a shell sees 141); a job writing without end ran on forever. What
# a job does then is no part of an entry (python prints a traceback and
# exits 1): a hit whose replay finds the reader gone runs the job.
test_expect_success 'a job piped into head: SIGPIPE once the reader is gone (141), not stored; a hit whose replay finds it gone runs the job' '
	{ timeout 20 "$PROCACHE" run --report r.json -- yes; echo $? >rc; } | head -n 1 >out &&
	echo 141 >expect && test_cmp expect rc &&
	echo y >expect && test_cmp expect out &&
	expect_status uncacheable r.json &&
	grep -q "reader of its stdout went away" r.json &&
	"$PROCACHE" run -- seq 100000 >/dev/null &&
	{ "$PROCACHE" run --report r.json -- seq 100000; echo $? >rc; } | head -n 1 >out &&
	expect_status uncacheable r.json &&
	echo 141 >expect && test_cmp expect rc &&
	echo 1 >expect && test_cmp expect out &&
	PY="for i in range(200000): print(\"line\", i)" &&
	"$PROCACHE" run -- python3 -c "$PY" >/dev/null &&
	{ "$PROCACHE" run -- python3 -c "$PY" 2>err; echo $? >rc; } | head -c 4 >out &&
	echo 1 >expect && test_cmp expect rc &&
	grep -q BrokenPipeError err
'

test_expect_success 'stdout and stderr given as one (2>&1): the job sees one, and a hit keeps the order; given apart, two' '
	mkdir one && (cd one &&
	cat >p.sh <<-\EOF &&
	perl -e "print((stat STDOUT)[1] == (stat STDERR)[1] ? qq(same\n) : qq(two\n))"
	for i in 1 2 3; do echo out$i; echo err$i >&2; done
	EOF
	sh p.sh >bare 2>&1 &&
	run miss -- sh p.sh >miss 2>&1 && test_cmp bare miss &&
	run hit -- sh p.sh >hit 2>&1 && test_cmp bare hit &&
	run hit -- sh p.sh 2>&1 | cat >piped && test_cmp bare piped &&
	run miss -- sh p.sh >out 2>err &&
	printf "two\nout1\nout2\nout3\n" >expect && test_cmp expect out &&
	printf "err1\nerr2\nerr3\n" >expect && test_cmp expect err)
'

test_done

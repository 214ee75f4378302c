#!/usr/bin/env bash
test_description='procache run: miss, store, hit, replay, and what makes a miss'
. "$(dirname "$0")/lib.sh"

test_expect_success 'a job writing files, dirs and symlinks and deleting one: miss, then hit' '
	# victim dated: rm is shown its mtime, the one recreated has the same
	mkdir -p in && echo data >in/a && echo gone >victim && touch -d 2001-01-01 victim &&
	cat >job.sh <<-\EOF &&
	mkdir -p out/sub/deep
	cat in/a >out/a.txt
	echo two >out/sub/b.txt
	printf "x%.0s" $(seq 1 5000) >out/sub/deep/big
	chmod 0750 out/sub
	chmod 0600 out/a.txt
	ln -s a.txt out/link
	rm victim
	EOF
	run miss -- sh job.sh &&
	test "$rc" = 0 &&
	test_path_is_missing victim &&
	tree_snapshot . | grep -v -e report.json -e after- >after-miss &&
	rm -rf out && echo gone >victim && touch -d 2001-01-01 victim &&
	run hit -- sh job.sh &&
	test "$rc" = 0 &&
	test_path_is_missing victim &&
	tree_snapshot . | grep -v -e report.json -e after- >after-hit &&
	test_cmp after-miss after-hit
'

test_expect_success 'stdout and stderr are replayed byte for byte, each on its own fd' '
	printf "#!/bin/sh\nfor i in 1 2 3; do echo out\$i; echo err\$i >&2; done\nprintf \"no newline\"\n" >job.sh &&
	run miss -- sh job.sh >out1 2>err1.all &&
	run hit -- sh job.sh >out2 2>err2 &&
	test_cmp out1 out2 &&
	# run() asks for --explain, whose lines the miss prints to stderr
	grep -v "^procache: explain: " err1.all >err1 &&
	test_cmp err1 err2 &&
	printf "out1\nout2\nout3\nno newline" >expect &&
	test_cmp expect out2 &&
	printf "err1\nerr2\nerr3\n" >expect &&
	test_cmp expect err2
'

test_expect_success 'binary output is replayed exactly' '
	head -c 100000 /dev/urandom >blob &&
	run miss -- cat blob >out1 &&
	run hit -- cat blob >out2 &&
	test_cmp blob out1 &&
	test_cmp blob out2
'

test_expect_success 'a job exiting 3 replays exit 3' '
	run miss -- sh -c "echo failing; exit 3" >out &&
	test "$rc" = 3 &&
	run hit -- sh -c "echo failing; exit 3" >out2 &&
	test "$rc" = 3 &&
	test_cmp out out2
'

test_expect_success 'a job killed by a signal replays 128+N' '
	run miss -- sh -c "kill -USR1 \$\$" &&
	test "$rc" = 138 &&
	run hit -- sh -c "kill -USR1 \$\$" &&
	test "$rc" = 138
'

test_expect_success 'tar writing to stdout (it reopens fd 1) is captured and replayed' '
	mkdir -p d && echo one >d/1 && echo two >d/2 &&
	run miss -- tar cf - d >t1.tar &&
	run hit -- tar cf - d >t2.tar &&
	test_cmp t1.tar t2.tar &&
	tar tf t2.tar >list && grep -q "d/1" list
'

# A real run rewrites the file: a new mtime, which procache gives too (the
# job never saw the time: DESIGN.md §7), so that what was made from the
# old file is older than it, as after a real run. A time the job set is
# kept.
test_expect_success 'an output equal to what the host has gets the time a real rewrite gives' '
	echo same >f && touch -d "2001-01-01" f && date +%s >before &&
	run miss -- sh -c "echo same >f" &&
	test "$(stat -c %Y f)" -ge "$(cat before)" &&
	touch -d "2001-01-01" f && date +%s >before &&
	run hit -- sh -c "echo same >f" &&
	test "$(stat -c %Y f)" -ge "$(cat before)" &&
	run miss -- sh -c "echo same >f; touch -d 2002-02-02 f" &&
	test "$(stat -c %Y f)" = "$(date -d 2002-02-02 +%s)" &&
	touch -d "2001-01-01" f &&
	run hit -- sh -c "echo same >f; touch -d 2002-02-02 f" &&
	test "$(stat -c %Y f)" = "$(date -d 2002-02-02 +%s)"
'

test_expect_success 'changing the content of an input: miss' '
	echo v1 >input &&
	run miss -- sh -c "cat input >output" &&
	run hit -- sh -c "cat input >output" &&
	echo v2 >input &&
	run miss -- sh -c "cat input >output" &&
	echo v2 >expect && test_cmp expect output
'

# cat fstat-s what it reads: shown the mtime (DESIGN.md §3).
test_expect_success 'touching an input without changing it: miss; with --mtime=content: hit' '
	echo v1 >input &&
	run miss -- sh -c "cat input >output" &&
	run miss --mtime=content -- sh -c "cat input >output" &&
	touch -d "2002-02-02" input &&
	run miss -- sh -c "cat input >output" &&
	run hit --mtime=content -- sh -c "cat input >output"
'

test_expect_success 'same content, same size, mtime restored: still a miss' '
	echo aaaa >input && touch -d "2003-03-03" input &&
	run miss -- sh -c "cat input >output" &&
	echo bbbb >input && touch -d "2003-03-03" input &&
	run miss -- sh -c "cat input >output" &&
	echo bbbb >expect && test_cmp expect output
'

test_expect_success 'a new file on a search path: miss' '
	mkdir -p p1 p2 &&
	printf "#!/bin/sh\necho from-p2\n" >p2/tool && chmod +x p2/tool &&
	run miss --env-set "PATH=$PWD/p1:$PWD/p2:/usr/bin:/bin" -- sh -c "tool >out" &&
	echo from-p2 >expect && test_cmp expect out &&
	run hit --env-set "PATH=$PWD/p1:$PWD/p2:/usr/bin:/bin" -- sh -c "tool >out" &&
	printf "#!/bin/sh\necho from-p1\n" >p1/tool && chmod +x p1/tool &&
	run miss --env-set "PATH=$PWD/p1:$PWD/p2:/usr/bin:/bin" -- sh -c "tool >out" &&
	echo from-p1 >expect && test_cmp expect out
'

test_expect_success 'a directory the job listed gains an entry: miss' '
	mkdir -p dir && touch dir/a &&
	run miss -- sh -c "ls dir >listing" &&
	run hit -- sh -c "ls dir >listing" &&
	touch dir/b &&
	run miss -- sh -c "ls dir >listing" &&
	printf "a\nb\n" >expect && test_cmp expect listing
'

test_expect_success 'a file added to a directory the job never listed: hit' '
	mkdir -p dir && echo x >dir/a &&
	run miss -- sh -c "cat dir/a >out" &&
	touch dir/other &&
	run hit -- sh -c "cat dir/a >out"
'

test_expect_success 'a symlink retargeted: miss' '
	echo one >t1 && echo two >t2 && ln -s t1 link &&
	run miss -- sh -c "cat link >out" &&
	run hit -- sh -c "cat link >out" &&
	ln -sfn t2 link &&
	run miss -- sh -c "cat link >out" &&
	echo two >expect && test_cmp expect out
'

test_expect_success 'the executable replaced: miss' '
	printf "#!/bin/sh\necho v1\n" >tool && chmod +x tool &&
	run miss -- ./tool &&
	run hit -- ./tool &&
	printf "#!/bin/sh\necho v2\n" >tool &&
	run miss -- ./tool >out &&
	echo v2 >expect && test_cmp expect out
'

test_expect_success 'environment, argv, cwd and stdin are part of the key' '
	mkdir -p sub &&
	run miss -- sh -c "echo \$FOO" &&
	run hit -- sh -c "echo \$FOO" &&
	FOO=1 run miss -- sh -c "echo \$FOO" &&
	FOO=1 run hit -- sh -c "echo \$FOO" &&
	run miss -- sh -c "echo \$FOO" extra &&
	(cd sub && run miss -- sh -c "echo \$FOO") &&
	echo in1 >stdin1 && echo in2 >stdin2 &&
	run miss -- cat <stdin1 >o1 &&
	run hit -- cat <stdin1 >o2 &&
	test_cmp o1 o2 &&
	run miss -- cat <stdin2 >o3 &&
	test_cmp stdin2 o3
'

test_expect_success 'volatile variables do not change the key' '
	run miss -- sh -c "echo hi" &&
	SSH_AUTH_SOCK=/x SHLVL=9 OLDPWD=/y run hit -- sh -c "echo hi"
'

test_expect_success 'a symlink to /etc left in the diff cannot make procache write outside' '
	mkdir -p out &&
	cp /etc/hostname hostname.before 2>/dev/null || : &&
	run miss -- sh -c "ln -s /etc out/link && echo pwned >out/link/procache-test-pwned" &&
	test_path_is_missing /etc/procache-test-pwned &&
	test -L out/link &&
	json_get report.json kept >kept &&
	grep -q /etc/procache-test-pwned kept
'

test_expect_success 'writes outside --output are not applied and are listed under kept' '
	mkdir -p out &&
	run miss --output out -- sh -c "echo a >out/a; echo b >notout; echo c >/etc/procache-test-kept" &&
	test_path_is_file out/a &&
	test_path_is_missing notout &&
	test_path_is_missing /etc/procache-test-kept &&
	json_get report.json kept >kept &&
	grep -q "$PWD/notout" kept &&
	grep -q /etc/procache-test-kept kept &&
	rm -f out/a &&
	run hit --output out -- sh -c "echo a >out/a; echo b >notout; echo c >/etc/procache-test-kept" &&
	test_path_is_file out/a && test_path_is_missing notout
'

test_expect_success 'an output directory removed since the run: miss (the job needs it)' '
	mkdir -p out &&
	run miss -- sh -c "echo a >out/a" &&
	rm -rf out &&
	run miss -- sh -c "echo a >out/a" &&
	test "$rc" != 0 &&
	test_path_is_missing out
'

test_expect_success 'rerunning a job after its outputs were applied: hit' '
	echo in >input &&
	run miss -- sh -c "cat input >out1; cat input >out2" &&
	run hit -- sh -c "cat input >out1; cat input >out2" &&
	echo other-content-of-another-size >out1 &&
	run hit -- sh -c "cat input >out1; cat input >out2" &&
	test_cmp input out1
'

test_expect_success 'an output whose mode changed: miss (the job would keep the mode)' '
	run miss -- sh -c "echo x >out" &&
	chmod 600 out &&
	run miss -- sh -c "echo x >out" &&
	test "$(stat -c %a out)" = 600
'

test_expect_success 'an output replaced by a symlink: miss (the job writes through it)' '
	run miss -- sh -c "echo x >out" &&
	rm out && ln -s target out &&
	run miss -- sh -c "echo x >out" &&
	test -L out && echo x >expect && test_cmp expect target
'

test_expect_success 'a scratch file the job created and deleted: a host file there later is a miss' '
	run miss -- sh -c "echo x >scratch; cat scratch >out; rm scratch" &&
	run hit -- sh -c "echo x >scratch; cat scratch >out; rm scratch" &&
	echo stale >scratch &&
	run miss -- sh -c "echo x >scratch; cat scratch >out; rm scratch" &&
	test_path_is_missing scratch
'

test_expect_success 'a run interrupted by a signal procache passed on is not stored' '
	"$PROCACHE" run --report report.json -- sh -c "echo started >&2; sleep 3; echo done >f" 2>err &
	pid=$! &&
	# Once the job runs (procache passes signals on from then); the job
	# sleeps so that it is still running when the signal comes. SIGTERM:
	# a background command of a script starts with SIGINT ignored, and
	# procache keeps it so, for itself and the job (DESIGN.md §4).
	test_wait_for 60 grep -q started err &&
	kill -TERM $pid &&
	{ wait $pid; rc=$?; } &&
	test "$rc" = 143 &&
	expect_status uncacheable &&
	json_get report.json uncacheable >why && grep -q interrupted why &&
	run miss -- sh -c "sleep 0; echo done >f"
'

test_expect_success '--check on a deterministic job says same' '
	run miss -- sh -c "echo stable >f" &&
	run hit --check -- sh -c "echo stable >f" &&
	test "$(json_get report.json check)" = same &&
	test "$rc" = 0
'

test_expect_success '--check on a job writing the time says different and names the file' '
	run miss -- sh -c "date +%s%N >stamp" &&
	run hit --check -- sh -c "date +%s%N >stamp" &&
	test "$(json_get report.json check)" = different &&
	json_get report.json differences >diffs &&
	grep -q "$PWD/stamp" diffs &&
	test "$rc" = 1
'

test_expect_success '--no-cache runs and stores nothing; --refresh runs and stores' '
	run miss --no-cache -- sh -c "echo x >f" &&
	run miss -- sh -c "echo x >f" &&
	run miss --refresh -- sh -c "echo x >f" &&
	run hit -- sh -c "echo x >f"
'

test_expect_success 'an uncacheable job still applies its changes and says why' '
	run uncacheable --net -- sh -c "echo x >f" &&
	test_path_is_file f &&
	json_get report.json uncacheable >why &&
	grep -q network why
'

test_expect_success 'exit statuses 126 and 127 with a message, not stored' '
	test_expect_code 127 "$PROCACHE" run -- no-such-command-here 2>err &&
	grep -q "command not found" err &&
	echo "#!/bin/sh" >noexec && chmod -x noexec &&
	test_expect_code 126 "$PROCACHE" run -- ./noexec 2>err &&
	test_expect_code 127 "$PROCACHE" run --report report.json -- no-such-command-here 2>err &&
	expect_status uncacheable
'

test_expect_success 'quiet by default: a hit prints only the replayed output' '
	run miss -- echo hello >out1 2>err1 &&
	run hit -- echo hello >out2 2>err2 &&
	test_cmp out1 out2 &&
	test_must_fail test -s err2
'

test_expect_success '-v prints one status line' '
	"$PROCACHE" run -v -- echo v >/dev/null 2>err1 &&
	"$PROCACHE" run -v -- echo v >/dev/null 2>err2 &&
	grep -q "^procache: miss" err1 &&
	grep -q "^procache: hit" err2 &&
	test "$(wc -l <err2)" = 1
'

test_expect_success 'the empty blob is neither checked nor read: a hit without it restores an empty file and empty output' '
	run miss -- sh -c ">empty.out; echo -n" >out1 &&
	test_path_is_file empty.out && test ! -s out1 &&
	empty=$(xxh128sum </dev/null | cut -d" " -f1) &&
	rm -f "$PROCACHE_DIR/blobs/${empty:0:2}/$empty" &&
	rm empty.out &&
	run hit -- sh -c ">empty.out; echo -n" >out2 &&
	test_path_is_file empty.out && test ! -s empty.out && test ! -s out2
'

test_done

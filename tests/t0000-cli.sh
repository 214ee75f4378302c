#!/usr/bin/env bash
test_description='command line: help, version, option errors, exit code 125'
. "$(dirname "$0")/lib.sh"

test_expect_success 'procache --version prints the version' '
	"$PROCACHE" --version >out &&
	grep -q "^procache [0-9]" out
'

test_expect_success 'procache --help lists every command' '
	"$PROCACHE" --help >out &&
	for c in run trace cache config help; do grep -q "^  $c" out || return 1; done
'

test_expect_success 'each command has --help, exit 0' '
	for c in run trace cache config; do
		"$PROCACHE" $c --help >out && grep -q "^usage: procache $c" out || return 1
	done
'

test_expect_success 'procache help run is procache run --help' '
	"$PROCACHE" help run >a &&
	"$PROCACHE" run --help >b &&
	test_cmp a b
'

test_expect_success 'no arguments: usage and 125' '
	test_expect_code 125 "$PROCACHE" 2>err &&
	grep -q "^usage:" err
'

test_expect_success 'unknown command: 125 with a hint' '
	test_expect_code 125 "$PROCACHE" frobnicate 2>err &&
	grep -q "unknown command .frobnicate.; see .procache --help." err
'

test_expect_success 'unknown option of run: 125 with a hint' '
	test_expect_code 125 "$PROCACHE" run --frobnicate -- true 2>err &&
	grep -q "unknown option .--frobnicate.; see .procache run --help." err
'

test_expect_success 'option missing its value: 125' '
	test_expect_code 125 "$PROCACHE" run --timeout 2>err &&
	grep -q "needs a value" err
'

test_expect_success 'malformed values: 125 naming the option' '
	for bad in "--timeout=abc" "--timeout=-1" "--timeout=0" "--memory=12X" \
		   "--memory=" "--pids=0" "--pids=1.5" "--pids=10M" \
		   "--env-set=NOEQUALS" "--env-keep=" "--env-unset=A=B" \
		   "--output=" "--mask=" "--cache-dir=" "--report="; do
		test_expect_code 125 "$PROCACHE" run "$bad" -- true 2>err || return 1
		grep -q "procache: " err || return 1
	done
'

test_expect_success '--opt=value and --opt value are the same' '
	test_expect_code 125 "$PROCACHE" run --timeout=zz -- true 2>a &&
	test_expect_code 125 "$PROCACHE" run --timeout zz -- true 2>b &&
	test_cmp a b
'

test_expect_success 'no command: 125' '
	test_expect_code 125 "$PROCACHE" run -v 2>err &&
	grep -q "no command given" err
'

test_expect_success 'exclusive options: 125' '
	test_expect_code 125 "$PROCACHE" run --no-cache --refresh -- true 2>err &&
	grep -q "exclude each other" err
'

test_expect_success 'trace refuses run-only options' '
	test_expect_code 125 "$PROCACHE" trace --output=x -- true 2>err &&
	grep -q "not for .procache trace." err
'

test_expect_success 'a cache directory of another format is refused' '
	mkdir other && echo "procache cache format 99" >other/FORMAT &&
	test_expect_code 125 "$PROCACHE" run --cache-dir other -- true 2>err &&
	grep -q "format" err
'

test_expect_success 'a working directory or output under /tmp needs --share-tmp' '
	d=$(mktemp -d /tmp/procache-cli.XXXXXX) &&
	test_when_finished "rm -rf $d" &&
	(cd "$d" && test_expect_code 125 "$PROCACHE" run -- true 2>err &&
	 grep -q "under /tmp.*--share-tmp" err) &&
	test_expect_code 125 "$PROCACHE" run --output "$d" -- true 2>err &&
	grep -q "under /tmp.*--share-tmp" err &&
	(cd "$d" && "$PROCACHE" run --share-tmp -- sh -c "echo x >f") &&
	test_path_is_file "$d/f"
'

# pty_run FILE CMD...: runs CMD with stdout and stderr on a terminal,
# everything it wrote into FILE.
pty_run() {
	python3 - "$@" <<-\PY
	import os, pty, sys
	out = open(sys.argv[1], "wb")
	pid, fd = pty.fork()
	if pid == 0:
	    os.execvp(sys.argv[2], sys.argv[2:])
	while True:
	    try:
	        d = os.read(fd, 65536)
	    except OSError:
	        break
	    if not d:
	        break
	    out.write(d)
	_, st = os.waitpid(pid, 0)
	sys.exit(os.waitstatus_to_exitcode(st))
	PY
}

test_expect_success 'a progress line on a terminal, erased after; none in a file' '
	job="mkdir -p out; for i in \$(seq 1 300); do echo \$i >out/f\$i; done" &&
	"$PROCACHE" run -- sh -c "$job" &&
	rm -rf out &&
	PROCACHE_PROGRESS_DELAY=0 pty_run tty.out "$PROCACHE" run -- sh -c "$job" &&
	grep -q "procache: restoring \[" tty.out &&
	grep -q "$(printf "\r\033\\[K")" tty.out &&
	rm -rf out &&
	PROCACHE_PROGRESS_DELAY=0 "$PROCACHE" run -- sh -c "$job" 2>err &&
	test_path_is_file out/f300 &&
	test_must_fail test -s err
'

test_done

#!/usr/bin/env bash
test_description='every option of run, trace, cache and config with a missing, empty, huge or malformed value: exit 125 and one line'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-faults.sh"

HUGE=$(head -c 102400 /dev/zero | tr "\0" x)
NL='
'

# bad TITLE ARGS...: procache ARGS exits 125 ($want, when set), prints
# nothing on stdout and exactly one line on stderr, "procache: ...".
# Failures are counted in $bad_failed (all cases run), cases in $bad_cases.
bad_cases=0 bad_failed=0
bad() {
	local title=$1 rc=0 lines
	shift
	bad_cases=$((bad_cases + 1))
	"$PROCACHE" "$@" >bad.out 2>bad.err </dev/null || rc=$?
	lines=$(wc -l <bad.err)
	if [ $rc = "${want:-125}" ] && [ "$lines" = 1 ] && [ ! -s bad.out ] &&
	   grep -q "^procache: " bad.err; then
		return 0
	fi
	bad_failed=$((bad_failed + 1))
	echo "FAIL $title: exit $rc, $lines lines on stderr, $(wc -c <bad.out) bytes on stdout:" >&2
	head -c 300 bad.err >&2
	echo >&2
	return 0
}

# Each job run here is a new one (a miss), so that a value read only
# after the job (--report, --diff-json) is read.
n=0
job() { n=$((n + 1)); echo "-- true $n.$RANDOM"; }

test_expect_success 'run and trace: valued options, missing, empty, huge, malformed' '
	mkdir dir && echo x >file &&
	for cmd in run trace; do
		for o in cache-dir config log timeout memory pids mask env-keep env-set env-unset \
			 output report diff-json batch check-ignore; do
			case $cmd/$o in trace/output|trace/report|trace/diff-json|trace/batch|trace/check-ignore) continue ;; esac &&
			bad "$cmd --$o (missing)" $cmd --$o &&
			bad "$cmd --$o (missing before --)" $cmd --$o -- true &&
			bad "$cmd --$o= (empty)" $cmd --$o= $(job) &&
			bad "$cmd --$o \"\" (empty)" $cmd --$o "" $(job) &&
			case $o in
			env-keep|env-unset) ;;	# any name without "=" is one
			check-ignore) ;;	# a long regex is one
			*) bad "$cmd --$o (100 KB)" $cmd --$o "$HUGE" $(job) ;;
			esac &&
			case $o in
			cache-dir) bad "$cmd --$o under a file" $cmd --$o file/c $(job) ;;
			config|log) bad "$cmd --$o a directory" $cmd --$o dir $(job) &&
				bad "$cmd --$o with a newline" $cmd --$o "no/such${NL}dir" $(job) ;;
			report|diff-json) bad "$cmd --$o a directory" $cmd --$o dir $(job) &&
				bad "$cmd --$o in a missing directory" $cmd --$o "no/such${NL}dir" $(job) ;;
			output) bad "$cmd --$o under a file" $cmd --$o file/o $(job) ;;
			mask) bad "$cmd --$o a parent of the working directory" $cmd --$o .. $(job) ;;
			timeout) for v in 0 -1 1x 1e400 nan inf 1.5.2 "1 s" 99999999999; do
					bad "$cmd --$o $v" $cmd --$o "$v" $(job) || return 1
				done ;;
			memory) for v in 0 -1 4095 1X 1e9 99999999999999999999 18446744073709551615T "1 M"; do
					bad "$cmd --$o $v" $cmd --$o "$v" $(job) || return 1
				done ;;
			pids) for v in 0 -1 1k 4194305 1.5 " 1" 99999999999999999999; do
					bad "$cmd --$o $v" $cmd --$o "$v" $(job) || return 1
				done ;;
			env-keep|env-unset) bad "$cmd --$o A=B" $cmd --$o A=B $(job) ;;
			batch) for v in .hidden a/b "a b" ../x "$(printf %065d 0)"; do
					bad "$cmd --$o $v" $cmd --$o "$v" $(job) || return 1
				done ;;
			check-ignore) bad "$cmd --$o (" $cmd --check --$o "(" $(job) &&
				bad "$cmd --$o without --check" $cmd --$o x $(job) ;;
			env-set) bad "$cmd --$o =B" $cmd --$o =B $(job) &&
				bad "$cmd --$o A${NL}B" $cmd --$o "A${NL}B" $(job) ;;
			esac || return 1
		done &&
		for o in no-cache refresh check explain strict-stat fsync untrusted net share-tmp \
			 best-effort-limits no-trace keep-run-dir env-clear json no-cache-failures; do
			bad "$cmd --$o=1" $cmd --$o=1 $(job) || return 1
		done &&
		bad "$cmd: unknown option" $cmd --bogus $(job) &&
		bad "$cmd: unknown short option" $cmd -x $(job) &&
		bad "$cmd: a 100 KB unknown option" $cmd "--$HUGE" $(job) &&
		bad "$cmd: no command" $cmd &&
		bad "$cmd: nothing after --" $cmd -- &&
		bad "$cmd: an empty command name" $cmd -- "" || return 1
	done &&
	for o in no-cache refresh check explain output report diff-json fsync no-trace \
		 no-cache-failures batch check-ignore; do
		case $o in output|report|diff-json|batch|check-ignore) v=x ;; *) v= ;; esac &&
		bad "trace --$o (run only)" trace --$o $v $(job) || return 1
	done &&
	bad "run --json (trace only)" run --json $(job) &&
	bad "run --no-cache --refresh" run --no-cache --refresh $(job) &&
	bad "run --check --no-cache" run --check --no-cache $(job) &&
	echo "# $bad_cases cases, $bad_failed failed" &&
	test $bad_failed = 0
'

test_expect_success 'cache and config: options and subcommands, missing, empty, huge, malformed' '
	mkdir dir && echo x >file &&
	bad "cache (no subcommand)" cache &&
	bad "cache bogus" cache bogus &&
	bad "cache 100 KB subcommand" cache "$HUGE" &&
	for o in cache-dir config; do
		bad "cache --$o (missing)" cache --$o &&
		bad "cache --$o= (empty)" cache --$o= stats &&
		bad "cache --$o (100 KB)" cache --$o "$HUGE" stats &&
		bad "config --$o (missing)" config --$o &&
		bad "config --$o= (empty)" config --$o= &&
		bad "config --$o (100 KB)" config --$o "$HUGE" || return 1
	done &&
	bad "cache --cache-dir under a file" cache --cache-dir file/c stats &&
	bad "cache --config a directory" cache --config dir stats &&
	bad "config --config a directory" config --config dir &&
	bad "config: an argument" config extra &&
	bad "config --bogus" config --bogus &&
	for sub in stats ls show gc verify clear; do
		bad "cache $sub --bogus" cache $sub --bogus &&
		bad "cache $sub: 100 KB option" cache $sub "--$HUGE" || return 1
	done &&
	bad "cache stats: an argument" cache stats extra &&
	bad "cache ls: an argument" cache ls extra &&
	bad "cache verify: an argument" cache verify extra &&
	bad "cache clear: an argument" cache clear extra &&
	bad "cache stats --json=1" cache stats --json=1 &&
	bad "cache show (missing)" cache show &&
	# An entry name that names nothing is an answer (exit 1), as for
	# an unknown entry.
	want=1 bad "cache show 100 KB" cache show "$HUGE" &&
	want=1 bad "cache show ../.." cache show ../.. &&
	want=1 bad "cache show an unknown entry" cache show 0123456789abcdef0123456789abcdef/0123456789abcdef &&
	bad "cache show two entries" cache show last last &&
	for o in max-size max-age; do
		bad "cache gc --$o (missing)" cache gc --$o &&
		bad "cache gc --$o= (empty)" cache gc --$o= &&
		bad "cache gc --$o (100 KB)" cache gc --$o "$HUGE" &&
		for v in -1 1X 1.5.5 "1 G" 99999999999999999999999 nan; do
			bad "cache gc --$o $v" cache gc --$o "$v" || return 1
		done || return 1
	done &&
	echo "# $bad_cases cases, $bad_failed failed" &&
	test $bad_failed = 0
'

test_expect_success 'a malformed configuration file: 125 and one line, for run, trace, cache and config' '
	mkdir -p cfg &&
	printf "{" >cfg/truncated.json &&
	printf "[]" >cfg/array.json &&
	printf "{\"bogus\": 1}" >cfg/unknown-key.json &&
	printf "{\"max_size\": \"lots\"}" >cfg/bad-size.json &&
	printf "{\"limits\": {\"timeout\": -1}}" >cfg/bad-timeout.json &&
	printf "{\"env\": {\"set\": [\"=x\"]}}" >cfg/bad-env.json &&
	printf "{\"cache_dir\": \"\"}" >cfg/empty-dir.json &&
	printf "{\"outputs\": [1]}" >cfg/bad-outputs.json &&
	printf "\377\376{}" >cfg/binary.json &&
	{ printf "{\"masks\": [\"" && head -c 2000000 /dev/zero | tr "\0" a && printf "\"]}"; } >cfg/huge.json &&
	{ printf "{\"a\":" && head -c 100000 /dev/zero | tr "\0" "["; } >cfg/deep.json &&
	for f in cfg/*.json; do
		bad "run --config $f" run --config $f $(job) &&
		bad "trace --config $f" trace --config $f -- true &&
		bad "cache --config $f" cache --config $f stats &&
		bad "config --config $f" config --config $f || return 1
	done &&
	echo "# $bad_cases cases, $bad_failed failed" &&
	test $bad_failed = 0
'

test_done

#!/usr/bin/env bash
test_description='procache run: each option does what --help says'
. "$(dirname "$0")/lib.sh"

test_expect_success '--report has every documented key' '
	run miss -- sh -c "echo x >f" &&
	for k in status exit_code entry key duration_s uncacheable outputs kept; do
		json_get report.json $k >/dev/null || { echo "missing $k"; return 1; }
	done &&
	run hit -- sh -c "echo x >f" &&
	json_get report.json saved_s >/dev/null
'

test_expect_success '-vv says where the time of a miss and of a hit went, in one line' '
	run miss -vv -- sh -c "echo x >vv" 2>err &&
	grep "^procache: debug: time (miss, ms from main()): start [0-9.]*, key [0-9.]*, .*plan [0-9.]*, start-up [0-9.]*, job [0-9.]*, diff and trace [0-9.]*, store [0-9.]*, apply [0-9.]*, finish [0-9.]*; total [0-9.]*$" err &&
	run hit -vv -- sh -c "echo x >vv" 2>err &&
	grep "^procache: debug: time (hit, ms from main()): start [0-9.]*, key [0-9.]*, entry read [0-9.]*, preconditions [0-9.]*, blobs [0-9.]*, lookup [0-9.]*, apply [0-9.]*, replay [0-9.]*, finish [0-9.]*; total [0-9.]*$" err &&
	run hit -v -- sh -c "echo x >vv" 2>err &&
	! grep "time (" err
'

test_expect_success '--diff-json lists the changes with kind, path, mode, size, target' '
	"$PROCACHE" run --no-cache --diff-json diff.json -- sh -c "mkdir d; echo abc >d/f; ln -s f d/l" &&
	python3 -c "
import json, os
d = {c[\"path\"]: c for c in json.load(open(\"diff.json\"))}
cwd = os.getcwd()
assert d[cwd + \"/d\"][\"kind\"] == \"dir\", d
assert d[cwd + \"/d/f\"][\"kind\"] == \"file\" and d[cwd + \"/d/f\"][\"size\"] == 4, d
assert d[cwd + \"/d/l\"][\"kind\"] == \"symlink\" and d[cwd + \"/d/l\"][\"target\"] == \"f\", d
"
'

test_expect_success '--diff-json on a hit writes the stored changes' '
	run miss --diff-json d1.json -- sh -c "mkdir -p d; echo abc >d/f" &&
	rm -rf d &&
	run hit --diff-json d2.json -- sh -c "mkdir -p d; echo abc >d/f" &&
	test_cmp d1.json d2.json
'

test_expect_success '--mask of the working directory is refused (125)' '
	test_expect_code 125 "$PROCACHE" run --mask . -- true 2>err &&
	grep -q "hidden by --mask" err
'

test_expect_success '--output PATH (repeatable) applies only under the roots given' '
	run miss --output a --output b -- sh -c "mkdir -p a b c; echo 1 >a/f; echo 2 >b/f; echo 3 >c/f" &&
	test_path_is_file a/f && test_path_is_file b/f && test_path_is_missing c/f
'

test_expect_success 'nested --output roots are refused (an entry could redirect the inner one)' '
	mkdir -p nest &&
	test_expect_code 125 "$PROCACHE" run --output nest --output nest/s/x -- true 2>err &&
	grep "outputs .nest. and .nest/s/x. overlap (one is inside the other); give only the outer one" err &&
	test_expect_code 125 "$PROCACHE" run --output nest/s/x --output nest -- true 2>err &&
	grep "overlap" err &&
	test_expect_code 125 "$PROCACHE" run --output nest --output ./nest/ -- true 2>err &&
	grep "overlap" err &&
	echo "{ \"outputs\": [\"$PWD/nest\", \"$PWD/nest/s\"] }" >nest.json &&
	test_expect_code 125 "$PROCACHE" run --config nest.json -- true 2>err &&
	grep "overlap" err &&
	test_path_is_missing nest/s
'

test_expect_success '--env-clear, --env-keep, --env-set, --env-unset shape what the job sees' '
	FOO=1 BAR=2 "$PROCACHE" run --env-clear --env-keep FOO --env-set BAZ=3 -- /usr/bin/env >env.out &&
	grep -q "^FOO=1$" env.out && grep -q "^BAZ=3$" env.out &&
	test_must_fail grep -q "^BAR=" env.out &&
	FOO=1 "$PROCACHE" run --env-unset FOO -- /usr/bin/env >env.out &&
	test_must_fail grep -q "^FOO=" env.out &&
	grep -q "^PWD=$PWD$" env.out
'

test_expect_success 'per-run CI variables: removed from the job, so a CI rerun hits; --env-keep keys one' '
	job="env | grep -E \"^(GITHUB_RUN_ID|GITHUB_SHA|CI|CI_JOB_ID|BUILD_NUMBER)=\" | sort" &&
	GITHUB_RUN_ID=1 GITHUB_SHA=abc CI=true CI_JOB_ID=5 BUILD_NUMBER=7 \
		run miss -- sh -c "$job" >stdout &&
	printf "%s\n" CI=true GITHUB_SHA=abc >expect && test_cmp expect stdout &&
	GITHUB_RUN_ID=2 GITHUB_SHA=abc CI=true CI_JOB_ID=6 BUILD_NUMBER=8 \
		run hit -- sh -c "$job" >stdout &&
	test_cmp expect stdout &&
	GITHUB_RUN_ID=2 GITHUB_SHA=def CI=true run miss -- sh -c "$job" >stdout &&
	BUILD_NUMBER=8 run miss --env-keep BUILD_NUMBER -- sh -c "$job" >stdout &&
	grep "^BUILD_NUMBER=8$" stdout &&
	BUILD_NUMBER=9 run miss --env-keep BUILD_NUMBER -- sh -c "$job" >stdout &&
	grep "^BUILD_NUMBER=9$" stdout
'

test_expect_success '--strict-stat: an mtime-only change of a stat-ed file is a miss' '
	# The report exists before the first run: creating it later would
	# change the mtime of the directory the job stats (its cwd).
	echo data >f && : >report.json &&
	run miss --strict-stat -- sh -c "test -e f && echo yes" &&
	run hit --strict-stat -- sh -c "test -e f && echo yes" &&
	touch -d "2001-01-01" f &&
	run miss --strict-stat -- sh -c "test -e f && echo yes"
'

test_expect_success '--mask hides a path; it is part of the key' '
	mkdir -p secret && echo s3cr3t >secret/key &&
	"$PROCACHE" run --mask "$PWD/secret" -- sh -c "ls -A secret | wc -l" >n &&
	echo 0 >expect && test_cmp expect n &&
	run miss -- sh -c "cat secret/key || true" >o1 &&
	run miss --mask "$PWD/secret" -- sh -c "cat secret/key || true" >o2 &&
	test_must_fail test_cmp o1 o2
'

test_expect_success '--share-tmp shows the host /tmp (copy-on-write)' '
	f=$(mktemp /tmp/procache-sharetmp.XXXXXX) && echo host >"$f" &&
	test_when_finished "rm -f $f" &&
	"$PROCACHE" run -- sh -c "cat $f 2>/dev/null || echo none" >o1 &&
	"$PROCACHE" run --share-tmp -- sh -c "cat $f; echo job >$f" >o2 &&
	echo none >expect && test_cmp expect o1 &&
	echo host >expect && test_cmp expect o2 &&
	test_cmp expect "$f"
'

test_expect_success '--keep-run-dir keeps the state directory; without it nothing is left' '
	run miss --keep-run-dir -- sh -c "echo x >f" &&
	ls "$PROCACHE_DIR/run" >kept &&
	grep -q "^[0-9a-f]\{16\}$" kept
'

test_expect_success '--log FILE receives the messages instead of stderr' '
	"$PROCACHE" run -v --log log.txt -- true 2>err &&
	grep -q "^procache: miss" log.txt &&
	test_must_fail grep -q "^procache:" err
'

test_expect_success '--fsync applies the same result' '
	run miss --fsync -- sh -c "echo x >f" &&
	rm f &&
	run hit --fsync -- sh -c "echo x >f" &&
	test_path_is_file f
'

test_expect_success '--no-trace runs untraced and stores nothing' '
	run uncacheable --no-trace -- sh -c "echo x >f" &&
	json_get report.json uncacheable >why && grep -q "not traced" why &&
	test_path_is_file f
'

test_expect_success '--explain on a miss names the failing precondition' '
	echo 1 >in &&
	run miss -- cat in &&
	echo 2 >in &&
	run miss --explain -- cat in &&
	json_get report.json explain >ex &&
	grep -q "$PWD/in" ex && grep -q content ex
'

test_expect_success '--explain with no entry for the key names the differing field' '
	run miss --env-set X=1 -- true &&
	run miss --explain --env-set X=2 -- true &&
	json_get report.json explain >ex &&
	grep -q "env X" ex
'

test_expect_success '--explain prints a summary and the nearest candidate; -vv prints every failure' '
	for i in 1 2 3 4 5 6; do echo $i >f$i || return 1; done &&
	job="cat f1 f2 f3 f4 f5 f6" &&
	run miss -- sh -c "$job" >/dev/null &&
	echo x >f1 && run miss -- sh -c "$job" >/dev/null &&
	echo y >f2 && echo y >f3 && echo y >f4 && echo y >f5 &&
	run miss --explain -- sh -c "$job" >/dev/null 2>err &&
	grep "^procache: explain: miss: 2 entries under this key, none holds; the nearest, entry .*, fails 8 of" err &&
	test $(grep -c "^procache: explain: entry" err) = 8 &&
	grep "^procache: explain: 10 more failing preconditions (-vv lists them)" err &&
	json_get report.json explain >ex && test $(grep -o "\"message\"" ex | wc -l) = 18 &&
	echo z >f6 &&
	run miss -vv --explain -- sh -c "$job" >/dev/null 2>err &&
	test $(grep -c "^procache: explain: entry" err) = 24 &&
	! grep "more failing" err
'

test_expect_success '--explain names a file the job reads and rewrites, with the remedy' '
	echo a >in && mkdir -p .pytest_cache/v/cache && echo {} >.pytest_cache/v/cache/lastfailed &&
	job="mkdir -p .pytest_cache/v/cache && cat .pytest_cache/v/cache/lastfailed 2>/dev/null; date +%N >.pytest_cache/v/cache/lastfailed; cat in" &&
	run miss -- sh -c "$job" >/dev/null &&
	echo b >in && run miss -- sh -c "$job" >/dev/null &&
	echo a >in &&
	run miss --explain -- sh -c "$job" >/dev/null 2>err &&
	grep "^procache: explain: read and written by the job: $PWD/.pytest_cache/v/cache/lastfailed: pytest.s cache: run pytest with -p no:cacheprovider$" err &&
	test $(grep -c "read and written" err) = 1
'

test_expect_success 'an uncacheable reason names the remedy (-v)' '
	"$PROCACHE" run -v -- sh -c "mkfifo q" 2>err &&
	grep "uncacheable: created a special file: .*/q; remedy: make fifos and sockets under /tmp" err
'

test_done

#!/usr/bin/env bash
test_description='--base-dir: entries that travel between checkouts, and only when the job could not have observed where it is'
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-remote.sh"

# Two clones of one project, in different directories.
clones() {
	for c in a b; do
		mkdir -p "$c/proj/src" "$c/sibling" &&
		printf "int f(void) { return 42; }\n" >"$c/proj/src/x.c" &&
		echo "beside" >"$c/sibling/note" || return 1
	done
}

# brun CLONE STATUS [options] -- CMD: procache run in CLONE's project, with
# its base directory, the shared cache, and the expected status.
brun() {
	local c=$1 want=$2
	shift 2
	rc=0
	(cd "$c/proj" && "$PROCACHE" run --cache-dir "$TEST_DIR/cache" \
		--base-dir "$TEST_DIR/$c/proj" --report "$TEST_DIR/report.json" "$@") || rc=$?
	expect_status "$want" 2>&9
}

# A compiler that never asks where it is: it reads a relative path and
# writes one (the Debian python3, which makes no getcwd without a script).
COMPILE='d = open("src/x.c").read(); open("out/x.o", "w").write(d.upper()); print("compiled")'

test_expect_success 'a compile job that never asks where it is hits across clones, with the same tree' '
	clones && mkdir a/proj/out b/proj/out &&
	brun a miss -- "$PYTHON" -S -c "$COMPILE" >so1 &&
	test "$(json_get report.json relocatable)" = yes &&
	brun b hit -- "$PYTHON" -S -c "$COMPILE" >so2 &&
	test_cmp so1 so2 &&
	tree_snapshot a/proj >ta &&
	tree_snapshot b/proj >tb &&
	test_cmp ta tb &&
	"$PROCACHE" cache --cache-dir "$TEST_DIR/cache" show last >show &&
	grep "cwd_in_base \." show &&
	grep "\"path\":\"src/x.c\"" show &&
	! grep -q "$TEST_DIR" show
'

test_expect_success 'an input that differs between the clones is a miss' '
	clones && mkdir a/proj/out b/proj/out &&
	echo "int g;" >>b/proj/src/x.c &&
	brun a miss -- "$PYTHON" -S -c "$COMPILE" >/dev/null &&
	brun b miss -- "$PYTHON" -S -c "$COMPILE" >/dev/null &&
	grep -q "INT G" b/proj/out/x.o
'

test_expect_success 'pwd, sh -c "echo \$PWD", readlink /proc/self/cwd: not relocatable, misses in the other clone' '
	clones &&
	brun a miss -- pwd >out-a && brun b miss -- pwd >out-b &&
	test "$(cat out-b)" = "$TEST_DIR/b/proj" &&
	json_get report.json relocatable | grep getcwd &&
	brun a miss -- sh -c "echo \$PWD" >out-a && brun b miss -- sh -c "echo \$PWD" >out-b &&
	test "$(cat out-b)" = "$TEST_DIR/b/proj" &&
	brun a miss -- readlink /proc/self/cwd >out-a &&
	json_get report.json relocatable | grep "/proc/self/cwd points into" &&
	brun b miss -- readlink /proc/self/cwd >out-b &&
	test "$(cat out-b)" = "$TEST_DIR/b/proj"
'

test_expect_success 'the job gets no PWD under --base-dir' '
	clones &&
	brun a miss -- env >env-a &&
	! grep -q "^PWD=" env-a
'

test_expect_success 'gcc -g writes the cwd into the object: not relocatable, the other clone compiles its own' '
	clones &&
	brun a miss -- gcc -g -c src/x.c -o x.o &&
	test "$(json_get report.json relocatable)" != yes &&
	brun b miss -- gcc -g -c src/x.c -o x.o &&
	grep -q "$TEST_DIR/b/proj" b/proj/x.o &&
	! grep -q "$TEST_DIR/a/proj" b/proj/x.o
'

test_expect_success '.. out of the base directory, or its path in an argument: not relocatable' '
	clones && echo "other" >b/sibling/note &&
	brun a miss -- "$PYTHON" -S -c "print(open(\"../sibling/note\").read())" >o-a &&
	json_get report.json relocatable | grep "a path out of" &&
	brun b miss -- "$PYTHON" -S -c "print(open(\"../sibling/note\").read())" >o-b &&
	grep -q other o-b &&
	brun a miss -- cat "$TEST_DIR/a/proj/src/x.c" >/dev/null &&
	test "$(json_get report.json relocatable 2>/dev/null || echo absent)" = absent
'

test_expect_success 'an absolute path into the base from a file outside it: not relocatable' '
	clones &&
	echo "$TEST_DIR/a/proj/src/x.c" >where &&
	brun a miss -- "$PYTHON" -S -c "print(open(open(\"$TEST_DIR/where\").read().strip()).read())" >/dev/null &&
	json_get report.json relocatable | grep "from outside into"
'

test_expect_success 'a relocatable entry travels through the remote: clone a on one machine, clone b on another' '
	nginx_start web &&
	clones && mkdir a/proj/out b/proj/out &&
	(cd a/proj && "$PROCACHE" run --cache-dir "$TEST_ROOT/m1" --base-dir "$TEST_DIR/a" \
		--remote http://127.0.0.1:$NGINX_PORT/cache/ --report "$TEST_DIR/report.json" \
		-- "$PYTHON" -S -c "$COMPILE" >/dev/null) &&
	expect_status miss &&
	(cd b/proj && "$PROCACHE" run --cache-dir "$TEST_ROOT/m2" --base-dir "$TEST_DIR/b" \
		--remote http://127.0.0.1:$NGINX_PORT/cache/ --report "$TEST_DIR/report.json" \
		-- "$PYTHON" -S -c "$COMPILE" >/dev/null) &&
	expect_status hit &&
	test "$(json_get report.json remote)" = hit &&
	test_cmp a/proj/out/x.o b/proj/out/x.o
'

test_expect_success 'without --base-dir nothing changes: the clones do not share' '
	clones && mkdir a/proj/out b/proj/out &&
	(cd a/proj && "$PROCACHE" run --cache-dir "$TEST_ROOT/c3" --report "$TEST_DIR/report.json" \
		-- "$PYTHON" -S -c "$COMPILE" >/dev/null) && expect_status miss &&
	(cd b/proj && "$PROCACHE" run --cache-dir "$TEST_ROOT/c3" --report "$TEST_DIR/report.json" \
		-- "$PYTHON" -S -c "$COMPILE" >/dev/null) && expect_status miss
'

test_done

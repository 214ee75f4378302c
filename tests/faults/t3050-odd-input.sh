#!/usr/bin/env bash
test_description='odd input: paths with newlines, commas, colons, backslashes and non-UTF-8 bytes; missing commands; 10,000 arguments; 1 GB of stdin; binary output'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-faults.sh"

# Every character that has broken a tool somewhere: space, comma, colon,
# backslash, newline, tab, quote, a glob, a leading dash and non-UTF-8 bytes.
ODD=$(printf 'a b,c:d\\e\nf\tg"h*-\377\376i')

# snap DIR: every entry below DIR, names as bytes (hex), type, mode,
# content hash, link target. Equal snapshots: equal trees.
snap() {
	"$PY" - "$1" <<-\EOF
	import hashlib, os, stat, sys
	top = os.fsencode(sys.argv[1])
	out = []
	for d, dirs, files in os.walk(top):
	    for n in dirs + files:
	        p = os.path.join(d, n)
	        st = os.lstat(p)
	        rel = os.path.relpath(p, top).hex()
	        if stat.S_ISLNK(st.st_mode):
	            out.append("l %s %s" % (rel, os.readlink(p).hex()))
	        elif stat.S_ISREG(st.st_mode):
	            out.append("f %s %o %s" % (rel, st.st_mode & 0o7777,
	                       hashlib.md5(open(p, "rb").read()).hexdigest()))
	        else:
	            out.append("d %s %o" % (rel, st.st_mode & 0o7777))
	print("\n".join(sorted(out)))
	EOF
}

test_expect_success 'odd names in the cwd, in --output and in the files the job writes: miss, then an exact hit' '
	mkdir -p "$ODD/in" "out$ODD" &&
	cd "$ODD" &&
	printf "input\377\n" >"in/$ODD" &&
	cat >job.sh <<-\EOF &&
	odd=$1
	mkdir -p "w/$odd/sub"
	cat "in/$odd" >"w/$odd/sub/$odd.txt"
	printf "%s" "$odd" >"w/name-$odd"
	ln -s "$odd.txt" "w/$odd/sub/link$odd"
	cp "in/$odd" "$2/$odd"
	printf "%s\n" "$PWD"
	ls w
	EOF
	run miss --output . --output "../out$ODD" -- sh job.sh "$ODD" "../out$ODD" >../stdout1 &&
	test $rc = 0 &&
	test "$(head -n 2 ../stdout1)" = "$PWD" &&
	snap w >../snap1 && snap "../out$ODD" >../osnap1 &&
	test_line_count 1 ../osnap1 &&
	grep -q "$(printf "%s/sub/%s.txt" "$ODD" "$ODD" | od -An -tx1 | tr -d " \n")" ../snap1 &&
	rm -rf w "../out$ODD"/* &&
	run hit --output . --output "../out$ODD" -- sh job.sh "$ODD" "../out$ODD" >../stdout2 &&
	test_cmp ../stdout1 ../stdout2 &&
	snap w >../snap2 && snap "../out$ODD" >../osnap2 &&
	test_cmp ../snap1 ../snap2 &&
	test_cmp ../osnap1 ../osnap2 &&
	cache_is_sound
'

# Every JSON output is valid UTF-8 JSON, and a path's bytes come back from
# it exactly: a byte that is not valid UTF-8 is written as \udcXX, which
# Python's surrogateescape decodes (DESIGN.md section 7, JSON outputs).
# json_check FILE BYTES-HEX: FILE loads as strict UTF-8 JSON, and some
# "path" in it is exactly the bytes BYTES-HEX.
json_check() {
	"$PY" - "$@" <<-\EOF
	import json, sys
	text = open(sys.argv[1], "rb").read().decode("utf-8")   # strict
	want = bytes.fromhex(sys.argv[2])
	found = []
	def walk(v):
	    if isinstance(v, dict):
	        for k, x in v.items():
	            if k == "path" and isinstance(x, str):
	                found.append(x.encode("utf-8", "surrogateescape"))
	            walk(x)
	    elif isinstance(v, list):
	        for x in v:
	            walk(x)
	walk(json.loads(text))
	if not any(f.endswith(want) for f in found):
	    sys.exit("no path ending in %r in %s: %r" % (want, sys.argv[1], found))
	EOF
}

test_expect_success 'every JSON output of a job writing non-UTF-8 names is valid UTF-8 JSON and keeps the bytes' '
	# \377: never UTF-8; \355\263\277: an encoded surrogate (invalid);
	# \303\251: a valid e-acute, kept as it is.
	printf "echo x >\"f\\377\\355\\263\\277\\303\\251\"\n" >job.sh &&
	run miss --diff-json diff.json -- sh -c "printf \"\$(cat job.sh)\" | sh" &&
	ls | grep -q "^f" &&
	name=66ffedb3bfc3a9 &&
	json_check report.json $name &&
	json_check diff.json $name &&
	grep -q "udcff" report.json &&
	grep -q "$(printf "\303\251")" report.json &&
	"$PROCACHE" cache show last --json >show.json &&
	json_check show.json $name &&
	"$PROCACHE" cache show last >show.txt &&
	"$PY" -c "open(\"show.txt\", \"rb\").read().decode(\"utf-8\")" &&
	"$PROCACHE" cache ls --json >ls.json &&
	"$PY" -c "import json; json.loads(open(\"ls.json\", \"rb\").read().decode(\"utf-8\"))" &&
	rm -f f* &&
	run hit --diff-json diff2.json -- sh -c "printf \"\$(cat job.sh)\" | sh" &&
	json_check report.json $name &&
	json_check diff2.json $name &&
	"$PROCACHE" trace --json -- sh -c "cat f* 2>/dev/null; printf \"\$(cat job.sh)\" | sh" >trace.json 2>/dev/null &&
	json_check trace.json $name
'

# The cache directory holds the overlays' upper and work directories,
# which overlayfs unescapes even through fsconfig: each character that
# mount options quote, in the cache directory's name.
for c in "\\" "," ":" " " "$(printf "\t")" "$(printf "\377")"; do
	test_expect_success "a cache directory whose name has $(printf %q "$c") works: miss, hit, verify" '
		export PROCACHE_DIR="$TEST_DIR/ca${c}che" &&
		run miss -- sh -c "echo out >f; cat /etc/passwd >/dev/null; echo hi" >out1 &&
		echo hi >expect && test_cmp expect out1 &&
		rm f &&
		run hit -- sh -c "echo out >f; cat /etc/passwd >/dev/null; echo hi" >out2 &&
		test_cmp expect out2 && echo out >expect && test_cmp expect f &&
		"$PROCACHE" cache verify >/dev/null &&
		"$PROCACHE" run --untrusted --no-cache -- true
	'
done

test_expect_success 'a command that does not exist: 127 and one line, never stored' '
	test_expect_code 127 "$PROCACHE" run --report report.json -- no-such-command-here 2>err &&
	test_line_count 1 err &&
	grep -q "^procache: warning: cannot execute $Q\(.*/\)\{0,1\}no-such-command-here$Q: command not found$" err &&
	test "$(report_status)" = uncacheable &&
	test_expect_code 127 "$PROCACHE" run --report report.json -- "./$ODD" 2>err &&
	test_line_count 1 err &&
	test_expect_code 127 "$PROCACHE" run --report report.json -- /no/such/dir/cmd 2>err &&
	test_line_count 1 err &&
	echo "echo hi" >not-executable &&
	test_expect_code 126 "$PROCACHE" run --report report.json -- ./not-executable 2>err &&
	test_line_count 1 err &&
	test "$(report_status)" = uncacheable &&
	mkdir a-dir &&
	test_expect_code 126 "$PROCACHE" run --report report.json -- ./a-dir 2>err &&
	test_line_count 1 err
'

test_expect_success '10,000 arguments: miss, hit, and one argument changed is a miss' '
	seq 1 10000 | sed "s/^/argument-/" >args &&
	mapfile -t args <args &&
	run miss -- sh -c "echo \$#; echo \"\$@\" | md5sum" sh "${args[@]}" >out1 &&
	test "$(head -n 1 out1)" = 10000 &&
	run hit -- sh -c "echo \$#; echo \"\$@\" | md5sum" sh "${args[@]}" >out2 &&
	test_cmp out1 out2 &&
	args[5000]=changed &&
	run miss -- sh -c "echo \$#; echo \"\$@\" | md5sum" sh "${args[@]}" >out3 &&
	! test_cmp out1 out3 2>/dev/null &&
	# An argument of 100 KB, and an empty one, count too.
	big=$(head -c 102400 /dev/zero | tr "\0" y) &&
	run miss -- sh -c "echo \${#1} \${#2}" sh "$big" "" >out4 &&
	echo "102400 0" >expect && test_cmp expect out4 &&
	run hit -- sh -c "echo \${#1} \${#2}" sh "$big" "" >out5 &&
	test_cmp expect out5 &&
	run miss -- sh -c "echo \${#1} \${#2}" sh "$big" >out6
'

test_expect_success '1 GB on stdin: the job reads it all, the key holds it' '
	head -c 1073741824 /dev/zero | run miss -- wc -c >out &&
	echo 1073741824 >expect && test_cmp expect out &&
	head -c 1073741824 /dev/zero | run hit -- wc -c >out &&
	test_cmp expect out &&
	# The same size, one byte different at the end: a miss.
	{ head -c 1073741823 /dev/zero && printf x; } | run miss -- wc -c >out &&
	test_cmp expect out &&
	# The saved copy of stdin is gone from the cache.
	test -z "$(ls -A "$PROCACHE_DIR/tmp")"
'

test_expect_success 'binary stdout and stderr, no final newline: replayed byte for byte' '
	{ for i in $(seq 1 64); do
		printf "$(printf "\\\\%03o" $(seq 0 255))" || return 1
	done && head -c 1048576 /dev/urandom && printf "\0\r\n\377"; } >blob &&
	test $(wc -c <blob) = $((256 * 64 + 1048576 + 4)) &&
	run miss -- sh -c "cat blob; cat blob >&2" >out1 2>err1 &&
	test_cmp blob out1 && test_cmp blob err1 &&
	run hit -- sh -c "cat blob; cat blob >&2" >out2 2>err2 &&
	test_cmp blob out2 && test_cmp blob err2 &&
	# Replayed into a pipe that closes early: no hang, no crash; the job
	# then runs (what it does once its reader is gone is no part of the
	# entry) and is not stored.
	run "hit|uncacheable" -- sh -c "cat blob; cat blob >&2" 2>/dev/null | head -c 10 >/dev/null &&
	test "$(report_status)" = uncacheable
'

test_done

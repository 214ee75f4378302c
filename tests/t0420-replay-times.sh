#!/usr/bin/env bash
test_description='replay fidelity: the times a real run leaves, on a miss and on a hit (issue 15)'
. "$(dirname "$0")/lib.sh"

# times_snapshot DIR: one line per entry (type, mode, path, mtime in ns),
# sorted: equal snapshots mean equal trees, modes and mtimes.
times_snapshot() {
	(cd "$1" && find . -mindepth 1 -printf '%y %m %p %T@\n' | sort)
}

# same_as_real CMD [uncacheable]: CMD run for real in real/, and through
# procache in cached/ (a miss), leave the same tree and mtimes; the outputs
# removed, a second procache run (a hit) leaves them again. With
# "uncacheable" the procache run must be one (its diff is applied from the
# upper directories) and there is no second run. The inputs are outside
# the cwd (../), the outputs in it.
same_as_real() {
	mkdir real cached &&
	(cd real && sh -c "$1") &&
	(cd cached && "$PROCACHE" run --report ../r1.json -- sh -c "$1") &&
	expect_status "${2:-miss}" r1.json &&
	times_snapshot real >real.snap &&
	times_snapshot cached >miss.snap &&
	test_cmp real.snap miss.snap &&
	if [ -n "${2:-}" ]; then
		return 0
	fi &&
	rm -rf cached && mkdir cached &&
	(cd cached && "$PROCACHE" run --report ../r2.json -- sh -c "$1") &&
	expect_status hit r2.json &&
	times_snapshot cached >hit.snap &&
	test_cmp real.snap hit.snap
}

setup_src() {
	mkdir -p src/sub && echo a >src/a && echo b >src/sub/b &&
	ln -s a src/l && touch -h -d 2001-02-03 src/l &&
	touch -d 2001-02-03 src/a src/sub/b src/sub src
}

test_expect_success 'tar xf: the archived times' '
	setup_src && tar cf arch.tar src &&
	same_as_real "tar xf ../arch.tar"
'

test_expect_success 'touch -d, touch -t of a new file: the times set' '
	same_as_real "touch -d 2001-02-03 f && touch -t 200202020202 g"
'

# cp -a sets the times it copies: they replay exactly.
test_expect_success 'cp -a of a tree: the source times, on a miss and a hit' '
	setup_src &&
	same_as_real "cp -a ../src dst"
'

test_expect_success 'rsync -a: the source times (set on a temporary name, then renamed)' '
	setup_src &&
	same_as_real "rsync -a ../src/ dst/"
'

test_expect_success 'a time set on a temporary name, then renamed: kept on a hit' '
	same_as_real "echo x >.tmp && touch -d 2001-02-03 .tmp && mv .tmp f"
'

test_expect_success 'ln of a host file and of a file whose times the job set: the source times' '
	setup_src &&
	same_as_real "cp -p ../src/a f && ln f g && ln ../src/sub/b h"
'

test_expect_success 'ln -f of a host file rerun in place (cargo links target/debug/NAME on every build): the third run hits' '
	setup_src &&
	mkdir inplace && (
		cd inplace &&
		for i in 1 2 3 4; do
			"$PROCACHE" run --report ../ln$i.json -- \
				sh -c "test -e g && stat -c %Y g; ln -f ../src/a g" || return 1
		done
	) &&
	expect_status miss ln1.json &&
	expect_status miss ln2.json &&
	expect_status hit ln3.json &&
	expect_status hit ln4.json &&
	test "$(stat -c %Y inplace/g)" = "$(stat -c %Y src/a)"
'

test_expect_success 'gzip -k: the input times on the output' '
	echo data >f && touch -d 2001-02-03 f &&
	same_as_real "cat ../f >f && touch -r ../f f && gzip -k f"
'

test_expect_success 'gzip -k of a file in the cwd: its times on the output, on a miss and on a hit' '
	echo data >f && touch -d 2001-02-03 f &&
	"$PROCACHE" run --report r1.json -- gzip -k f &&
	expect_status miss r1.json &&
	test "$(stat -c %.9Y f.gz)" = "$(stat -c %.9Y f)" &&
	rm f.gz &&
	"$PROCACHE" run --report r2.json -- gzip -k f &&
	expect_status hit r2.json &&
	test "$(stat -c %.9Y f.gz)" = "$(stat -c %.9Y f)"
'

# touch without a date sets the time of the call: a rerun gives its own,
# so a hit gives the time of the apply (a stamp file is newer than what
# was made before it, as after a real run).
test_expect_success 'touch of an existing file (the time of the call): fresh on a miss and on a hit' '
	echo x >stamp && touch -d 2001-02-03 stamp &&
	date +%s >before &&
	"$PROCACHE" run --report r1.json -- touch stamp &&
	expect_status miss r1.json &&
	test "$(stat -c %Y stamp)" -ge "$(cat before)" &&
	touch -d 2001-02-03 stamp && sleep 1 && date +%s >before &&
	"$PROCACHE" run --report r2.json -- touch stamp &&
	expect_status hit r2.json &&
	test "$(stat -c %Y stamp)" -ge "$(cat before)"
'

test_expect_success 'times the job did not set: fresh, in the order it wrote them' '
	"$PROCACHE" run -- sh -c "echo 1 >a; sleep 0.05; echo 2 >b" &&
	rm a b && sleep 0.05 && date +%s%N >before &&
	"$PROCACHE" run --report r.json -- sh -c "echo 1 >a; sleep 0.05; echo 2 >b" &&
	expect_status hit r.json &&
	a=$(stat -c %.9Y a | tr -d .) && b=$(stat -c %.9Y b | tr -d .) &&
	test "$a" -lt "$b" &&
	test "$a" -ge "$(($(cat before) - 20000000))"
'

test_expect_success 'an uncacheable run keeps every time it left' '
	"$PROCACHE" run --no-cache -- sh -c "echo x >f; touch -d 2001-02-03 f" &&
	test "$(stat -c %y f)" = "2001-02-03 00:00:00.000000000 +0000"
'

# A small C project.
setup_c() {
	printf "int a(void) { return 1; }\n" >a.c &&
	printf "int a(void);\nint main(void) { return a() - 1; }\n" >b.c &&
	printf "final: a.o b.o\n\t\$(CC) -o \$@ a.o b.o\n%%.o: %%.c\n\t\$(CC) -c -o \$@ \$<\nclean:\n\trm -f final *.o\n" >Makefile
}

test_expect_success 'a whole make -j2, make clean, the same (a hit): a plain make then does nothing' '
	setup_c &&
	"$PROCACHE" run --report r.json -- make -j2 &&
	expect_status miss r.json &&
	make -q &&
	make clean &&
	"$PROCACHE" run --report r.json -- make -j2 &&
	expect_status hit r.json &&
	make -q &&
	make >out && grep -q "is up to date" out
'

test_expect_success 'a whole ninja, rm -rf of its build directory, the same (a hit): ninja then does nothing' '
	setup_c &&
	cat >build.ninja <<-\EOF &&
	builddir = build
	rule cc
	  command = gcc -MMD -MF $out.d -c $in -o $out
	  depfile = $out.d
	  deps = gcc
	rule link
	  command = gcc $in -o $out
	build build/a.o: cc a.c
	build build/b.o: cc b.c
	build build/final: link build/a.o build/b.o
	EOF
	"$PROCACHE" run --report r.json -- ninja &&
	expect_status miss r.json &&
	ninja -n >out && grep -q "no work to do" out &&
	rm -rf build &&
	"$PROCACHE" run --report r.json -- ninja &&
	expect_status hit r.json &&
	ninja -n >out && grep -q "no work to do" out
'

test_expect_success 'per-compile wrapping (--mtime=content): a touched source hits, and its restored object is newer than the source' '
	setup_c &&
	make CC="$PROCACHE run --mtime=content -- gcc" >out &&
	make -q &&
	# gcc probes its -o file: the run after the first one misses once
	sleep 0.01 && touch a.c &&
	make CC="$PROCACHE run --mtime=content -- gcc" >out &&
	"$PROCACHE" cache stats --zero >/dev/null &&
	sleep 0.01 && touch a.c &&
	make CC="$PROCACHE run --mtime=content -- gcc" >out &&
	"$PROCACHE" cache stats >stats &&
	grep -q "^misses  *0$" stats &&
	test a.o -nt a.c && test a.o -nt b.o
'

# A job that stats its output before writing the same bytes over it (gcc's
# as checks x.o, javac its classes, ld its executable): were the result's
# time fresh, each run would see a new mtime and miss. The result keeps the
# time the job saw when it is newer than every input (DESIGN.md §7).
test_expect_success 'settled rewrite: a job that stats its output, then writes the same bytes: the third run hits, the output keeps its time' '
	echo data >../in-sr && touch -d "-1 hour" ../in-sr &&
	for i in 1 2 3 4; do
		"$PROCACHE" run --report sr$i.json -- \
			sh -c "test -f out; cat ../in-sr >out" || return 1
		test $i != 2 || stat -c %.9Y out >t2
	done &&
	expect_status miss sr1.json &&
	expect_status miss sr2.json &&
	expect_status hit sr3.json &&
	expect_status hit sr4.json &&
	test "$(stat -c %.9Y out)" = "$(cat t2)" &&
	test out -nt ../in-sr
'

test_expect_success 'settled rewrite: not when an input is newer than the output (fresh, newer than the input), and it settles on the next run' '
	echo data >../in-sr2 && touch -d "-1 hour" ../in-sr2 &&
	"$PROCACHE" run -- sh -c "test -f out2; cat ../in-sr2 >out2" &&
	"$PROCACHE" run -- sh -c "test -f out2; cat ../in-sr2 >out2" &&
	sleep 0.01 && touch ../in-sr2 && sleep 0.01 &&
	"$PROCACHE" run --report a.json -- sh -c "test -f out2; cat ../in-sr2 >out2" &&
	expect_status miss a.json &&
	test out2 -nt ../in-sr2 &&
	"$PROCACHE" run --report b.json -- sh -c "test -f out2; cat ../in-sr2 >out2" &&
	expect_status miss b.json &&
	"$PROCACHE" run --report c.json -- sh -c "test -f out2; cat ../in-sr2 >out2" &&
	expect_status hit c.json &&
	test out2 -nt ../in-sr2
'

test_expect_success 'settled rewrite: other bytes get a fresh time; an edit kept at the same size and time (touch -r) is overwritten by the hit' '
	echo one >../in-sr3 && touch -d "-1 hour" ../in-sr3 &&
	for i in 1 2; do
		"$PROCACHE" run -- sh -c "test -f out3; cat ../in-sr3 >out3" || return 1
	done &&
	echo two >../in-sr3 && touch -d "-1 hour" ../in-sr3 &&
	"$PROCACHE" run --report a.json -- sh -c "test -f out3; cat ../in-sr3 >out3" &&
	expect_status miss a.json && echo two >expect && test_cmp expect out3 &&
	test out3 -nt ../in-sr3 &&
	"$PROCACHE" run -- sh -c "test -f out3; cat ../in-sr3 >out3" &&
	cp -p out3 ref && echo owt >out3 && touch -r ref out3 &&
	"$PROCACHE" run --report b.json -- sh -c "test -f out3; cat ../in-sr3 >out3" &&
	expect_status hit b.json && test_cmp expect out3
'

test_expect_success 'settled rewrite: gcc -c and gcc -o in place hit from the third run' '
	printf "int main(void) { return 0; }\n" >m.c &&
	for i in 1 2 3; do
		"$PROCACHE" run --report c$i.json -- gcc -c m.c &&
		"$PROCACHE" run --report o$i.json -- gcc -o m m.c || return 1
	done &&
	expect_status miss c2.json && expect_status hit c3.json &&
	expect_status miss o2.json && expect_status hit o3.json &&
	./m && test m.o -nt m.c
'

test_expect_success 'settled rewrite under --strict-stat: the file is left alone (its ctime too), the third run hits' '
	mkdir strict && printf "int s(void) { return 0; }\n" >strict/s.c &&
	for i in 1 2 3 4; do
		# (the reports outside: --strict-stat holds the cwd'"'"'s ctime)
		(cd strict && "$PROCACHE" run --strict-stat --report ../st$i.json -- gcc -c s.c) ||
		return 1
	done &&
	expect_status miss st2.json && expect_status hit st3.json &&
	expect_status hit st4.json
'

test_expect_success 'mv of a host file: the source time, on a miss and on a hit; after a touch of the source, a miss and its new time' '
	echo a >mvf && touch -d 2020-01-01 mvf &&
	"$PROCACHE" run --report a.json -- mv mvf mvg &&
	expect_status miss a.json &&
	test "$(stat -c %y mvg)" = "2020-01-01 00:00:00.000000000 +0000" &&
	mv mvg mvf && touch -d 2020-01-01 mvf &&
	"$PROCACHE" run --report b.json -- mv mvf mvg &&
	expect_status hit b.json &&
	test "$(stat -c %y mvg)" = "2020-01-01 00:00:00.000000000 +0000" &&
	mv mvg mvf && touch -d 2021-01-01 mvf &&
	"$PROCACHE" run --report c.json -- mv mvf mvg &&
	expect_status miss c.json &&
	test "$(stat -c %y mvg)" = "2021-01-01 00:00:00.000000000 +0000"
'

# A file the job linked, chmod'ed or opened for writing without writing is
# in the result with the host's times: a hit after a touch of it (same
# bytes) would set its time back (a review found it). Its mtime holds.
test_expect_success 'ln, chmod (a miss), an open for writing (a hit) of a host file touched since: the file keeps its new time' '
	for J in "miss ln lf lg" "miss chmod 600 lf" "hit exec 3<>lf"; do
		rm -f lf lg && echo a >lf && touch -d 2020-01-01 lf &&
		"$PROCACHE" run -- sh -c "${J#* }" &&
		rm -f lg && chmod 644 lf && touch -d 2021-01-01 lf &&
		"$PROCACHE" run --report t.json -- sh -c "${J#* }" &&
		expect_status "${J%% *}" t.json &&
		test "$(stat -c %y lf)" = "2021-01-01 00:00:00.000000000 +0000" ||
		return 1
	done
'

# A review found both: a time set to the host file's own was taken for a
# copy-up's (no times), and a future time set on a stamp made every other
# result replay its recorded time (a.o older than final after a revert).
test_expect_success 'a time the job set equal to the host'"'"'s is replayed; a future stamp leaves the other results fresh (make relinks after a revert)' '
	echo x >hs && touch -d @1600000000 hs &&
	"$PROCACHE" run -- touch -d @1600000000 hs &&
	touch hs &&
	"$PROCACHE" run --report a.json -- touch -d @1600000000 hs &&
	test "$(stat -c %Y hs)" = 1600000000 &&
	echo x >hs2 && touch -d @1600000000 hs2 &&
	"$PROCACHE" run -- sh -c "echo y >hs2; touch -d @1600000000 hs2" &&
	test "$(stat -c %Y hs2)" = 1600000000 &&
	mkdir fut && (
		cd fut &&
		printf "final: a.o\n\tcat a.o >final\na.o: a.c\n\t\"\$(PC)\" run -- sh -c %s\n" \
			"'"'"'read l <a.c; echo \$\$l >a.o; rm -f a.stamp; touch -d 2099-01-01 a.stamp'"'"'" >Makefile &&
		for v in v0 v1 v2 v1; do
			echo $v >a.c && sleep 0.02 && make -s PC="$PROCACHE" >/dev/null 2>&1 || return 1
		done &&
		make -s PC="$PROCACHE" >/dev/null 2>&1 &&
		echo v1 >expect && test_cmp expect final
	)
# run_in_w REPORT [OPTIONS...] -- CMD...: procache run in w/, with its
# report, stdout and stderr in the case's directory: nothing of the
# test's own is made in w/, whose mtime the cases follow.
run_in_w() {
	local rep=$1
	shift
	(cd w && "$PROCACHE" run --report "../$rep" "$@" </dev/null \
		>../w.stdout 2>../w.stderr)
}

# A real job writing a file that is there (O_TRUNC) leaves its directory's
# names and mtime; the apply writes a temporary name and renames it over
# the file, and then gives the directory its times back, on a miss and on
# a hit: a job that lists the directory and lstat's it (and so recorded
# its mtime) hits after them.
test_expect_success 'a file restored over another leaves its directory'"'"'s mtime: a job that lists and stats it hits' '
	mkdir w &&
	nb="ls -ld . >/dev/null; ls -a >/dev/null" &&
	run_in_w r1.json -- sh -c "echo data >f" && expect_status miss r1.json &&
	run_in_w n1.json -- sh -c "$nb" && expect_status miss n1.json &&
	m=$(stat -c %y w) &&
	echo other >w/f && test "$(stat -c %y w)" = "$m" &&
	run_in_w r2.json -- sh -c "echo data >f" && expect_status hit r2.json &&
	echo data >expect && test_cmp expect w/f &&
	test "$(stat -c %y w)" = "$m" &&
	run_in_w n2.json -- sh -c "$nb" && expect_status hit n2.json &&
	run_in_w r3.json -- sh -c "echo more >f" && expect_status miss r3.json &&
	echo more >expect && test_cmp expect w/f &&
	test "$(stat -c %y w)" = "$m" &&
	run_in_w n3.json -- sh -c "$nb" && expect_status hit n3.json &&
	run_in_w r4.json -- sh -c "echo new >g" && expect_status miss r4.json &&
	test "$(stat -c %y w)" != "$m" &&
	run_in_w n4.json -- sh -c "$nb" && expect_status miss n4.json
'

# Both found in review. A settled file written after one that comes back
# fresh turned the run's order around; ld stats its output after writing
# it, and under --mtime=content (per-file wrapping) a link hit gave it
# its old time, older than a copy made from another version since.
test_expect_success 'settled rewrites keep the order of the run: a file written after a fresh one does not settle' '
	mkdir order && (
		cd order && printf "out: stamp\n\tcat stamp >out\n" >Makefile &&
		for i in 1 2 3; do
			"$PROCACHE" run -- sh -c "echo same >stamp; rm -f out; cat stamp >out" || return 1
			make -q out || return 1
		done
	)
'

test_expect_success 'per-file wrapping with --mtime=content: a link hit is fresh, a copy made from it downstream is redone' '
	mkdir dist && (
		cd dist &&
		printf "#include <stdio.h>\nconst char *v(void);\nint main(void) { puts(v()); return 0; }\n" >main.c &&
		printf "const char *v(void) { return \"v1\"; }\n" >util.c &&
		printf "hello: main.o util.o\n\t\$(CC) -o \$@ main.o util.o\n%%.o: %%.c\n\t\$(CC) -c -o \$@ \$<\n" >Makefile &&
		printf "dist/hello: hello\n\tmkdir -p dist && cp hello dist/hello\n" >dist.mk &&
		W="$PROCACHE run --mtime=content -- gcc" &&
		for v in v2 v1 v2; do
			make -s CC="$W" >/dev/null && make -s -f dist.mk >/dev/null &&
			sleep 0.02 && sed -i "s/v[12]/$v/" util.c || return 1
		done &&
		make -s CC="$W" >/dev/null && make -s -f dist.mk >/dev/null &&
		echo v2 >expect && ./hello >out && test_cmp expect out &&
		./dist/hello >out && test_cmp expect out &&
		make -q CC="$W"
	)
'

test_done

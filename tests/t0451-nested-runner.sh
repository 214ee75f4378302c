#!/usr/bin/env bash
test_description='procache run --nested (DESIGN §13): the option, its key, its refusals; a job runner whose children are execution units'
. "$(dirname "$0")/lib.sh"

test_expect_success '--nested is refused with --untrusted and with --no-trace, in one line' '
	test_expect_code 125 "$PROCACHE" run --nested --untrusted -- true 2>err &&
	test $(wc -l <err) = 1 && grep -q "untrusted" err &&
	test_expect_code 125 "$PROCACHE" run --nested --no-trace -- true 2>err &&
	test $(wc -l <err) = 1 && grep -q "no-trace" err &&
	test_expect_code 125 "$PROCACHE" trace --nested -- true 2>err &&
	grep -q "not for .procache trace." err
'

test_expect_success 'a nested run gives the bare output and status, and its entry is not a plain run'"'"'s' '
	cat >job.sh <<-\EOS &&
	echo out; echo err >&2; exec 3>&1; echo dup >&3; exit 3
	EOS
	run miss --nested -- sh job.sh >out 2>errout &&
	test $rc = 3 &&
	printf "out\ndup\n" >expect && test_cmp expect out &&
	echo err >expect && test_cmp expect errout &&
	run hit --nested -- sh job.sh >out2 2>err2 &&
	test $rc = 3 && test_cmp out out2 &&
	run miss -- sh job.sh >out3 &&
	test_cmp out out3 &&
	run hit -- sh job.sh >out3 &&
	run hit --nested -- sh job.sh >out3
'

test_expect_success 'the configuration key "nested" turns it on (a plain entry does not hit)' '
	echo "echo cfg" >cfg.sh &&
	run miss -- sh cfg.sh &&
	echo "{\"nested\": true}" >nested.json &&
	run miss --config nested.json -- sh cfg.sh &&
	run hit --nested -- sh cfg.sh &&
	echo "{\"nested\": 1}" >bad.json &&
	test_expect_code 125 "$PROCACHE" run --config bad.json -- true 2>err &&
	grep -q nested err
'

# setup_runner N: a job runner (runner.sh) that runs N children one after
# the other; each reads one input, writes one output, prints a line.
setup_runner() {
	mkdir in out &&
	for ((i = 1; i <= $1; i++)); do echo "input $i" >in/$i || return 1; done &&
	printf '#!/bin/bash\ntr a-z A-Z <in/$1 >out/$1\necho "ran $1"\n' >child.sh &&
	printf '#!/bin/bash\nfor ((i = 1; i <= %d; i++)); do ./child.sh $i; done\n' $1 >runner.sh &&
	chmod +x child.sh runner.sh
}

test_expect_success 'each program the job runner executes is a unit: counted with -v and in the report, refusals said with -vv' '
	setup_runner 3 &&
	run miss --nested -vv -- ./runner.sh >stdout 2>err &&
	printf "ran 1\nran 2\nran 3\n" >expect && test_cmp expect stdout &&
	test "$(json_get report.json nested.run)" = 3 &&
	test "$(json_get report.json nested.refused)" = 3 &&
	test "$(json_get report.json nested.skipped)" = 0 &&
	grep "nested: 3 units run, 0 skipped, 3 refused" err &&
	test $(grep -c "nested: unit [0-9]* (tr, pid [0-9]*) refused: fd1 is a regular file" err) = 3 &&
	echo INPUT 2 >expect && test_cmp expect out/2
'

test_expect_success 'units refused: siblings writing one file, a dup of the output, a signal, an unfinished unit' '
	cat >siblings.sh <<-\EOS &&
	#!/bin/bash
	./w.sh a & ./w.sh b & wait
	./dup.sh
	sh -c "./w.sh c"
	./w.sh d & kill -0 $!; wait
	./sleeper.sh & sleep 0.2; kill -TERM $!; wait
	(./sleeper.sh &)
	sleep 0.1
	EOS
	printf "#!/bin/bash\n/bin/echo \$1 >>same\n" >w.sh &&
	printf "#!/bin/bash\nexec 3>&1\necho dup >&3\n" >dup.sh &&
	printf "#!/bin/bash\nsleep 5\n" >sleeper.sh &&
	chmod +x siblings.sh w.sh dup.sh sleeper.sh &&
	"$PROCACHE" run --nested -vv -- ./siblings.sh >stdout 2>err &&
	grep "(./w.sh, pid [0-9]*) refused: shares state with a process running beside it: .*/same" err &&
	grep "(./dup.sh, pid [0-9]*) refused: duplicates its output fd" err &&
	grep "(./sleeper.sh, pid [0-9]*) refused: a signal between processes" err &&
	grep "(./sleeper.sh, pid [0-9]*) refused: its end was not seen" err
'

# Counting real executions: each child writes the clock's nanoseconds into
# stamp/N, which no two runs share. A skipped child's unit replays the
# stamp its entry recorded, so a stamp that changed between two runs is a
# child that ran, and only that (the stamp is out of the model, as time
# is: DESIGN §13.6). The outputs and the combined stdout are compared
# with a bare run of the same tree.
setup_stamped() {
	mkdir in out stamp &&
	for ((i = 1; i <= 8; i++)); do echo "input $i" >in/$i || return 1; done &&
	cat >child-with-stamp.sh <<-\EOS &&
	#!/bin/bash
	tr a-z A-Z <in/$1 >out/$1
	date +%s%N >stamp/$1
	echo "ran $1"
	EOS
	cat >job-runner.sh <<-\EOS &&
	#!/bin/bash
	for ((i = 1; i <= 8; i++)); do ./child-with-stamp.sh $i; done
	EOS
	chmod +x child-with-stamp.sh job-runner.sh
}

# ran_since DIR: how many stamps differ from those saved in DIR
ran_since() {
	n=0
	for ((i = 1; i <= 8; i++)); do
		cmp -s "$1/$i" stamp/$i || n=$((n + 1))
	done
	echo $n
}

# bare_cmp: a bare run of a copy of the tree gives the same outputs and stdout
bare_cmp() {
	rm -rf ../bare && mkdir ../bare && cp -a in out stamp child-with-stamp.sh job-runner.sh ../bare &&
	rm -f ../bare/out/* &&
	(cd ../bare && ./job-runner.sh >stdout) &&
	test_cmp ../bare/stdout stdout &&
	for ((i = 1; i <= 8; i++)); do test_cmp ../bare/out/$i out/$i || return 1; done
}

test_expect_success 'a job runner of 8 children: one input changed, exactly one child runs; outputs and stdout as a bare run; the run is stored whole and hits' '
	mkdir w && cd w &&
	setup_stamped &&
	run miss --nested -- ./job-runner.sh >stdout &&
	test "$(json_get report.json nested.run)" = 8 &&
	bare_cmp &&
	rm -rf ../s1 && cp -a stamp ../s1 &&
	echo "changed 3" >in/3 &&
	"$PROCACHE" run --report report.json --nested -v -- ./job-runner.sh >stdout 2>err &&
	test "$(ran_since ../s1)" = 1 && ! cmp -s ../s1/3 stamp/3 &&
	test "$(json_get report.json nested.skipped)" = 7 &&
	grep "nested: [0-9]* units run, 7 skipped" err &&
	bare_cmp &&
	test "$(json_get report.json status)" = miss &&
	run hit --nested -- ./job-runner.sh >stdout &&
	bare_cmp &&
	rm -rf ../s2 && cp -a stamp ../s2 &&
	rm out/5 &&
	"$PROCACHE" run --report report.json --nested -- ./job-runner.sh >stdout &&
	test "$(ran_since ../s2)" -le 1 &&
	test_path_is_file out/5 &&
	bare_cmp &&
	rm -rf ../s3 && cp -a stamp ../s3 &&
	echo "# changed" >>child-with-stamp.sh &&
	"$PROCACHE" run --report report.json --nested -- ./job-runner.sh >stdout &&
	test "$(ran_since ../s3)" = 8 &&
	test "$(json_get report.json nested.skipped)" = 0 &&
	bare_cmp &&
	"$PROCACHE" cache ls >ls &&
	test $(grep -c "child-with-stamp.sh" ls) -ge 16 &&
	# a unit is keyed by the CPU too (DESIGN §3, "The CPU is keyed")
	"$PROCACHE" cache show "$(grep -m1 " unit: " ls | cut -d" " -f1)" >show &&
	grep "^  unit " show &&
	grep -E "^  cpu +[^ ]+ [0-9]+\.[0-9]+\.[0-9]+ [0-9a-f]{32}\$" show
'

# The parent writes gen.txt only when its source changed: cat is shown its
# times, which are an observation (DESIGN §3).
test_expect_success 'units against the view: a file the parent wrote, a symlink, an absent path, a listing, a failing child; never a false hit' '
	mkdir v && cd v &&
	mkdir dir && echo one >dir/one && echo A >a.txt && echo B >b.txt &&
	ln -s a.txt link.txt && echo source1 >src.txt &&
	cat >reader-of-files.sh <<-\EOS &&
	#!/bin/bash
	cat gen.txt link.txt
	if [ -e maybe.txt ]; then echo "maybe present"; fi
	ls dir
	EOS
	cat >failing-child.sh <<-\EOS &&
	#!/bin/bash
	echo "failing now"
	exit 3
	EOS
	cat >views-runner.sh <<-\EOS &&
	#!/bin/bash
	cmp -s src.txt gen.txt || cat src.txt >gen.txt
	./reader-of-files.sh
	./failing-child.sh
	echo "status $?"
	EOS
	chmod +x reader-of-files.sh failing-child.sh views-runner.sh &&
	# the runner changes each time: the whole job never hits, its units may
	check() {
		echo "# $RANDOM$RANDOM" >>views-runner.sh &&
		"$PROCACHE" run --report report.json --nested -vv -- ./views-runner.sh >out 2>err &&
		./views-runner.sh >expect && test_cmp expect out
	} &&
	check && test "$(json_get report.json nested.skipped)" = 0 &&
	printf "source1\nA\none\nfailing now\nstatus 3\n" >expect && test_cmp expect out &&
	rm -f report.json &&
	check && test "$(json_get report.json nested.skipped)" = 2 &&
	grep "(./failing-child.sh, pid [0-9]*) skipped" err &&
	echo source2 >src.txt &&
	check && grep "source2" out &&
	! grep "(./reader-of-files.sh, pid [0-9]*) skipped" err &&
	ln -sf b.txt link.txt &&
	check && grep "^B" out &&
	touch maybe.txt &&
	check && grep "maybe present" out &&
	echo two >dir/two &&
	check && grep "^two" out &&
	grep "(./failing-child.sh, pid [0-9]*) skipped" err
'

test_expect_success 'a child of dash (vfork) and of make (posix_spawn) is skipped too' '
	mkdir d && cd d && setup_runner 2 &&
	printf "all:\n\t./child.sh 1\n\t./child.sh 2\n" >Makefile &&
	echo "./child.sh 1; ./child.sh 2" >dash-runner.sh &&
	"$PROCACHE" run --report report.json --nested -- sh dash-runner.sh >stdout &&
	printf "ran 1\nran 2\n" >expect && test_cmp expect stdout &&
	echo "# again" >>dash-runner.sh &&
	"$PROCACHE" run --report report.json --nested -vv -- sh dash-runner.sh >stdout 2>err &&
	test_cmp expect stdout &&
	test "$(json_get report.json nested.skipped)" = 2 &&
	if command -v make >/dev/null; then
		"$PROCACHE" run --report report.json --nested -- make -s >stdout &&
		test_cmp expect stdout &&
		echo "# again" >>Makefile &&
		"$PROCACHE" run --report report.json --nested -vv -- make -s >stdout 2>err &&
		test_cmp expect stdout &&
		test "$(json_get report.json nested.skipped)" = 2
	fi
'

# make -j2 gives stdin to one recipe at a time and a dead pipe to the
# others: which compile gets which depends on scheduling, and is in the
# unit's key (fd0), so an unchanged compile may miss once; the changed
# one must run, some unchanged one is skipped, and the program is right.
test_expect_success 'make -j2 of a small C project: the changed compile runs, unchanged ones are skipped' '
	if ! command -v cc >/dev/null || ! command -v make >/dev/null; then
		echo "no cc or make: skipped"; exit 0
	fi &&
	mkdir c && cd c &&
	for f in a b c; do printf "int %s(void) { return 1; }\n" $f >$f.c || return 1; done &&
	printf "int a(void); int b(void); int c(void);\nint main(void) { return a() + b() + c() - 3; }\n" >main.c &&
	printf "prog: a.o b.o c.o main.o\n\tcc -o prog a.o b.o c.o main.o\n%%.o: %%.c\n\tcc -c \$< -o \$@\n" >Makefile &&
	echo "rm -f *.o prog; make -s -j2" >build.sh &&
	"$PROCACHE" run --nested -- sh build.sh 2>err0 &&
	./prog &&
	echo "int b(void) { return 2; }" >b.c &&
	"$PROCACHE" run --report report.json --nested -vv -- sh build.sh 2>err &&
	grep "(cc, pid [0-9]*) skipped" err &&
	test "$(json_get report.json nested.skipped)" -ge 1 &&
	test_expect_code 1 ./prog &&
	echo "int b(void) { return 1; }" >b.c &&
	"$PROCACHE" run --nested -- sh build.sh 2>err1 &&
	./prog
'

# A unit's store leaves the size check out; the runner makes it once
# after the job, also when the job's own entry is not stored (--net).
test_expect_success 'the size limit holds after a nested run whose own entry is not stored' '
	export PROCACHE_DIR="$PWD/small" &&
	mkdir big &&
	for i in 1 2 3 4; do head -c 100000 /dev/urandom >big/$i || return 1; done &&
	echo "for i in 1 2 3 4; do cat big/\$i | wc -c; done" >big.sh &&
	PROCACHE_MAX_SIZE=1K run uncacheable --nested --net -vv -- sh big.sh >out 2>err &&
	test $(grep -c "(cat) stored under key" err) = 4 &&
	"$PROCACHE" cache ls >ls &&
	test $(grep -c "unit: cat" ls) -lt 4
'

# The walk for processes sharing an exec's fd table runs only once the job
# made one (a clone with CLONE_FILES, notified under --nested).
test_expect_success 'an exec whose fd table another process shares is refused; a plain clone'"'"'s is a unit' '
	echo hi >cf.in &&
	run miss --nested -vv -- "$HELPERS/tr-calls" clone-exec /bin/cat cf.in >out 2>err &&
	echo hi >expect && test_cmp expect out &&
	grep "nested: unit [0-9]* (/bin/cat) stored" err &&
	run miss --nested -vv -- "$HELPERS/tr-calls" clone-files-exec /bin/cat cf.in >out 2>err &&
	test_cmp expect out &&
	grep "nested: unit [0-9]* (/bin/cat, pid [0-9]*) refused: shares its fd table with process" err
'

test_done

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
# the other; each reads one input, writes one output, prints a line. bash
# forks (dash and make vfork, which the redirect cannot take yet: DESIGN
# §13.1).
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

test_expect_success 'units refused: siblings writing one file, a dup of the output, a vfork caller, a signal, an unfinished unit' '
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
	run uncacheable --nested -vv -- ./siblings.sh >stdout 2>err ||
	run miss --nested -vv -- ./siblings.sh >stdout 2>err &&
	grep "(./w.sh, pid [0-9]*) refused: shares state with a process running beside it: .*/same" err &&
	grep "(./dup.sh, pid [0-9]*) refused: duplicates its output fd" err &&
	grep "(./w.sh, pid [0-9]*) refused: shares its memory with process" err &&
	grep "(./sleeper.sh, pid [0-9]*) refused: a signal between processes" err &&
	grep "(./sleeper.sh, pid [0-9]*) refused: its end was not seen" err
'

test_done

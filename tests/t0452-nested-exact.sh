#!/usr/bin/env bash
test_description='procache run --nested (DESIGN §13): units never share an entry they should not (false-hit probes at the unit level), and a chain of skipped units holds'
. "$(dirname "$0")/lib.sh"

# Every job's first run below has a fresh cache: a unit stored early in
# the run is looked up by the later ones of the same run.

test_expect_success 'two units with the same argv reading different files on stdin do not share an entry' '
	mkdir in && echo aaa >in/1 && echo bbb >in/2 &&
	cat >r.sh <<-\EOF &&
	#!/bin/bash
	for f in in/1 in/2 in/1; do tr a-z A-Z <$f; done
	EOF
	chmod +x r.sh &&
	"$PROCACHE" run --nested -v -- ./r.sh >out 2>err &&
	printf "AAA\nBBB\nAAA\n" >expect && test_cmp expect out &&
	grep "nested: 2 units run, 1 skipped" err
'

# A stamp the outer script reads with a builtin (no unit) makes the
# whole job miss while every unit may be skipped.
test_expect_success 'a unit reading what a skipped unit wrote (stdio stats it) is skipped too' '
	mkdir chain && (cd chain &&
	echo data >input && echo 0 >stamp &&
	printf "#!/bin/bash\nread -r s <stamp\ncp input mid\nsort mid\n" >c.sh &&
	chmod +x c.sh &&
	"$PROCACHE" run --nested -v -- ./c.sh >out1 2>err1 &&
	grep "nested: 2 units run, 0 skipped" err1 &&
	# a fresh tree (mid absent, as cp saw it), a job-level miss
	rm mid && echo 1 >stamp &&
	"$PROCACHE" run --nested -v -- ./c.sh >out2 2>err2 &&
	grep "nested: 0 units run, 2 skipped" err2 &&
	test_cmp out1 out2 && echo data >expect && test_cmp expect out2 &&
	test_cmp input mid)
'

# dash saves fd 1 with fcntl(F_DUPFD, 10) around `cmd >file`: writes
# there are captured like fd 1's, so the script is still a unit.
test_expect_success 'a dash script that redirects a command into a file is a unit, skipped on a rerun' '
	mkdir dash && (cd dash &&
	echo hello >in && echo 0 >stamp &&
	printf "#!/bin/sh\ntr a-z A-Z <in >out\necho done\n" >j.sh &&
	printf "#!/bin/bash\nread -r s <stamp\n./j.sh\n" >r.sh &&
	chmod +x j.sh r.sh &&
	"$PROCACHE" run --nested -vv -- ./r.sh >out1 2>err1 &&
	! grep "(./j.sh, pid [0-9]*) refused" err1 &&
	rm out && echo 1 >stamp &&
	"$PROCACHE" run --nested -vv -- ./r.sh >out2 2>err2 &&
	grep "(./j.sh, pid [0-9]*) skipped" err2 &&
	test_cmp out1 out2 && echo done >expect && test_cmp expect out2 &&
	echo HELLO >expect && test_cmp expect out)
'

# A copy of a pipe on stdin is a way to read it unseen.
test_expect_success 'a unit reading its stdin pipe through a copy (exec 3<&0) is refused, never replayed for other bytes' '
	mkdir copy && (cd copy &&
	printf "#!/bin/sh\nexec 3<&0\n/usr/bin/python3 -c \"import os; print(os.read(3, 3).decode())\"\n" >reader.sh &&
	printf "#!/bin/bash\nprintf abc | ./reader.sh\nprintf xyz | ./reader.sh\n" >run.sh &&
	chmod +x reader.sh run.sh &&
	"$PROCACHE" run --nested -vv -- ./run.sh >out 2>err &&
	printf "abc\nxyz\n" >expect && test_cmp expect out &&
	grep "(./reader.sh, pid [0-9]*) refused: reads a pipe on stdin" err)
'

# make -jN gives its stdin to one running recipe and a pipe with no writer
# to the others: a unit that never looks at its fd 0 is one entry for
# both (DESIGN §13.3, "Stdin unseen").
test_expect_success 'a unit that never observes fd 0 skips whether fd 0 is /dev/null or a pipe' '
	mkdir unseen && (cd unseen && echo hi >src && mkdir out &&
	cat >r.sh <<-\EOF &&
	#!/bin/bash
	read -r s <stamp
	if [ "$s" = 0 ]; then sh -c "cat src >out/a" </dev/null
	elif [ "$s" = 1 ]; then : | sh -c "cat src >out/a"
	else sh -c "cat src >out/a" </dev/null
	fi
	EOF
	chmod +x r.sh && echo 0 >stamp &&
	"$PROCACHE" run --nested -v -- ./r.sh 2>err.1 && test_cmp src out/a &&
	rm out/a && echo 1 >stamp &&
	"$PROCACHE" run --nested -v -- ./r.sh 2>err.2 && test_cmp src out/a &&
	grep "nested: 0 units run, 1 skipped" err.2 &&
	rm out/a && echo 2 >stamp &&
	"$PROCACHE" run --nested -v -- ./r.sh 2>err.3 && test_cmp src out/a &&
	grep "nested: 0 units run, 1 skipped" err.3)
'

# Snakemake sets each output's mtime to now after its job: with
# --mtime=content a unit that stat'ed its input holds when only the
# mtime moved, and misses when the bytes changed (DESIGN §13.3).
test_expect_success '--mtime=content: a unit whose input was only touched skips; changed bytes run it' '
	mkdir mc && (cd mc && echo data >in &&
	cat >r.sh <<-\EOF &&
	#!/bin/bash
	read -r s <stamp
	sh -c "test -f in && cat in"
	EOF
	chmod +x r.sh && echo 0 >stamp &&
	"$PROCACHE" run --nested --mtime=content -v -- ./r.sh >out.1 2>err.1 &&
	touch -d "2001-01-01 00:00" in && echo 1 >stamp &&
	"$PROCACHE" run --nested --mtime=content -v -- ./r.sh >out.2 2>err.2 &&
	test_cmp in out.2 && grep "nested: 0 units run, 1 skipped" err.2 &&
	echo datb >in && touch -d "2001-01-01 00:00" in && echo 2 >stamp &&
	"$PROCACHE" run --nested --mtime=content -v -- ./r.sh >out.3 2>err.3 &&
	test_cmp in out.3 && grep "nested: 2 units run, 0 skipped" err.3 &&
	touch in && echo 3 >stamp &&
	"$PROCACHE" run --nested -v -- ./r.sh >out.4 2>err.4 &&
	touch -d "2001-01-01 00:00" in && echo 4 >stamp &&
	"$PROCACHE" run --nested -v -- ./r.sh >out.5 2>err.5 &&
	test_cmp in out.5 && grep "nested: 2 units run, 0 skipped" err.5)
'

# An argument may be as long as MAX_ARG_STRLEN (32 pages): a `sh -c`
# script of 20 KB (a long make recipe, a Snakemake shell rule; GNU
# parallel probes its longest command line) was refused, its argv taken
# for unreadable past PATH_MAX.
test_expect_success 'a unit whose argument is 20 KB long is keyed by it and skipped' '
	mkdir longarg && (cd longarg &&
	cat >r.sh <<-\EOF &&
	#!/bin/bash
	read -r s <stamp
	x=$(printf "%020000d" 0)
	sh -c ": $x; echo long"
	sh -c ": ${x}1; echo longer"
	EOF
	chmod +x r.sh && echo 0 >stamp &&
	"$PROCACHE" run --nested -v -- ./r.sh >out1 2>err1 &&
	printf "long\nlonger\n" >expect && test_cmp expect out1 &&
	grep "nested: 2 units run, 0 skipped, 0 refused" err1 &&
	echo 1 >stamp && "$PROCACHE" run --nested -v -- ./r.sh >out2 2>err2 &&
	test_cmp expect out2 && grep "nested: 0 units run, 2 skipped" err2)
'

test_done

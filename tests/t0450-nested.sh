#!/usr/bin/env bash
test_description='nested caching (DESIGN §13): the replayer a skipped unit runs, in the sandbox and under the tracer'
. "$(dirname "$0")/lib.sh"

# replay FILE END [FD TEXT]...: the replayer with that payload, in FILE
replay() {
	"$PROCACHE_BUILD/tests/unit/test-nest" --write-replay "$@"
}

test_expect_success 'the replayer in the sandbox writes its chunks and exits with its code; stored, then a hit gives the same' '
	replay r1 exit:3 1 "hello " 2 "warn" 1 "bye" &&
	run miss -- ./r1 >out 2>err &&
	test $rc = 3 &&
	printf "hello bye" >expect && test_cmp expect out &&
	printf "warn" >expect && test_cmp expect err &&
	run hit -- ./r1 >out2 2>err2 &&
	test $rc = 3 &&
	test_cmp out out2 && test_cmp err err2
'

test_expect_success 'the replayer dies of its signal in the sandbox: a death the job caused itself, stored' '
	replay r2 signal:15 2 "dying" &&
	run miss -- ./r2 >out 2>err &&
	test $rc = 143 &&
	printf "dying" >expect && test_cmp expect err &&
	run hit -- ./r2 2>err2 &&
	test $rc = 143 &&
	test_cmp err err2
'

test_expect_success 'the replayer run by a shell whose stdout and stderr are one pipe: interleaved as recorded' '
	replay r3 exit:0 1 a 2 b 1 c &&
	run miss -- sh -c "./r3 2>&1 | cat" >out &&
	printf abc >expect && test_cmp expect out
'

test_expect_success 'a payload cut short, or with a chunk longer than the file, exits 125 and writes nothing' '
	replay r4 exit:0 1 "must not appear" &&
	size=$(wc -c <r4) &&
	head -c $((size - 1)) r4 >r5 && chmod +x r5 &&
	test_expect_code 125 ./r5 >out &&
	test ! -s out &&
	replay r6 exit:0 1 "first" 1 "second" &&
	size=$(wc -c <r6) &&
	{ head -c $((size - 16 - 6)) r6 && printf "x" && tail -c 16 r6; } >r7 &&
	chmod +x r7 &&
	test_expect_code 125 ./r7 >out &&
	test ! -s out
'

test_done

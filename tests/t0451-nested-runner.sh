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

test_done

#!/usr/bin/env bash
test_description='the examples and the demo run as their READMEs say (fast variants)'
. "$(dirname "$0")/lib.sh"

export TMPDIR=$TEST_ROOT

test_expect_success 'demo: a miss, then a hit, then a re-run after an input changed' '
	"$TOP/examples/demo/run.sh" "$PROCACHE" >out 2>&1 &&
	grep -q "procache said: miss, exit 0" out &&
	grep -q "procache said: hit, exit 0" out &&
	grep -q "^procache: hit, [0-9]* files restored" out
'

test_expect_success 'batch: 20 jobs, then all skipped, then exactly one re-run' '
	"$TOP/examples/batch/run.sh" 20 >out 2>&1 &&
	grep -q "^run 1 (cold cache): 20 jobs ran, 0 jobs skipped" out &&
	grep -q "^run 2 (nothing changed): 0 jobs ran, 20 jobs skipped" out &&
	grep -q "^run 3 (one input changed): 1 jobs ran, 19 jobs skipped" out
'

test_expect_success 'c-project: a clean rebuild is all hits, one edit reruns its compile and the link' '
	"$TOP/examples/c-project/run.sh" >out 2>&1 &&
	# in the log, should a build below not be what is expected
	cat out &&
	sed -n "/== build 2/,/== build 3/p" out >b2 &&
	test "$(grep -c ": hit" b2)" = 4 &&
	sed -n "/== build 3/,\$p" out >b3 &&
	grep -q "greet.c: miss" b3 && grep -q "link: miss" b3 &&
	grep -q "main.c: hit" b3 && grep -q "util.c: hit" b3 &&
	grep -q "Hello again, procache!" b3
'

test_expect_success 'tests: unchanged tests are replayed (failures too), a fix reruns only its readers' '
	"$TOP/examples/tests/run.sh" >out 2>&1 &&
	grep -q "^run 1: 2 passed, 1 failed; 3 test files ran" out &&
	grep -q "^run 2 (nothing changed): 2 passed, 1 failed; 0 test files ran" out &&
	grep -q "^run 3 .*: 3 passed, 0 failed; 2 test files ran" out
'

test_prereq_BIO_TOOLS() {
	command -v clustalo && command -v hmmsearch && command -v snakemake &&
	command -v bwa && command -v samtools
} >/dev/null

# "STAGE N ran, M skipped, 0 uncacheable" for every stage of a run's line
ran_skipped() {
	local line
	line=$(grep "^$1: " out) || { echo "no line for $1" >&2; return 1; }
	shift
	while [ $# -gt 0 ]; do
		case "$line" in
		*" $1 $2 ran, $3 skipped, 0 uncacheable"*) ;;
		*) echo "$1: want $2 ran, $3 skipped in: $line" >&2; return 1 ;;
		esac
		shift 3
	done
}

test_skip_unless_prereq BIO_TOOLS 'pipelines/hmm.sh: clustalo, hmmbuild, hmmsearch under xargs -P2' &&
test_expect_success 'pipelines/hmm.sh: clustalo, hmmbuild, hmmsearch under xargs -P2' '
	"$TOP/examples/pipelines/hmm.sh" 3 >out 2>&1 &&
	ran_skipped run1-cold clustalo 3 0 hmmbuild 3 0 hmmsearch 3 0 &&
	ran_skipped run2-after-rm-out clustalo 0 3 hmmbuild 0 3 hmmsearch 0 3 &&
	ran_skipped run3-in-place clustalo 3 0 hmmbuild 0 3 hmmsearch 0 3 &&
	ran_skipped run4-in-place-again clustalo 0 3 hmmbuild 0 3 hmmsearch 0 3 &&
	ran_skipped run5-one-input-changed clustalo 1 2 hmmbuild 1 2 hmmsearch 1 2 &&
	grep "^    batch  *run5-one-input-changed.hmmsearch: 3 runs" out &&
	grep "^hits of family 2 in its search: 5" out
'

test_skip_unless_prereq BIO_TOOLS 'pipelines/snakemake.sh: the same with procache before every command of each rule' &&
test_expect_success 'pipelines/snakemake.sh: the same with procache before every command of each rule' '
	"$TOP/examples/pipelines/snakemake.sh" 2 >out 2>&1 &&
	grep "^PROCACHE_BATCH=.* run --mtime=content -- clustalo -i fam/f" out &&
	ran_skipped run1-cold clustalo 2 0 hmmbuild 2 0 hmmsearch 2 0 &&
	ran_skipped run2-after-rm-out clustalo 0 2 hmmbuild 0 2 hmmsearch 0 2 &&
	ran_skipped run3-in-place clustalo 0 2 hmmbuild 0 2 hmmsearch 0 2 &&
	ran_skipped run5-one-input-changed clustalo 1 0 hmmbuild 1 0 hmmsearch 1 0
'

test_skip_unless_prereq BIO_TOOLS 'pipelines/bwa.sh: bwa and samtools under xargs -P2' &&
test_expect_success 'pipelines/bwa.sh: bwa and samtools under xargs -P2' '
	"$TOP/examples/pipelines/bwa.sh" 3 >out 2>&1 &&
	ran_skipped run1-cold bwa-index 1 0 bwa-mem 3 0 sort 3 0 index 3 0 flagstat 3 0 &&
	ran_skipped run2-after-rm-out bwa-index 0 1 bwa-mem 0 3 sort 0 3 index 0 3 flagstat 0 3 &&
	ran_skipped run3-in-place bwa-index 0 1 bwa-mem 0 3 sort 0 3 index 0 3 flagstat 0 3 &&
	ran_skipped run4-one-input-changed bwa-index 0 1 bwa-mem 1 2 sort 1 2 index 1 2 flagstat 1 2 &&
	grep "^sample 2: 200 + 0 mapped" out
'

test_expect_success 'untrusted: each escape attempt is contained, the output is kept' '
	"$TOP/examples/untrusted/run.sh" >out 2>&1 &&
	grep -q "refused: cannot write /etc" out &&
	grep -q "No such file or directory" out &&
	grep -q "refused: .*Network is unreachable" out &&
	grep -q "fork failed after" out &&
	grep -q "^result: 42" out &&
	grep -q "^s3cr3t-token" out &&
	test_path_is_missing /etc/procache-untrusted-was-here
'

test_done

#!/usr/bin/env bash
test_description='--declare-output: a rerun in place with nothing changed hits, and what a hit leaves is what a rerun would (issue 16)'
. "$(dirname "$0")/lib.sh"

# run_job REPORT [OPTIONS...] -- CMD...: procache run with a report; the
# job's exit status is kept in ./status.
run_job() {
	local rep=$1
	shift
	"$PROCACHE" run --report "$rep" "$@" </dev/null >out.stdout 2>out.stderr
	echo $? >status
}

test_expect_success 'without it, a job that probes its output misses when rerun in place' '
	run_job r1.json -- sh -c "test -e out && echo was there; echo data >out" &&
	expect_status miss r1.json &&
	run_job r2.json -- sh -c "test -e out && echo was there; echo data >out" &&
	expect_status miss r2.json &&
	grep "was there" out.stdout
'

test_expect_success 'with it, the rerun in place hits and the job never saw its output' '
	run_job r1.json --declare-output out -- sh -c "test -e out && echo was there; echo data >out" &&
	expect_status miss r1.json &&
	echo data >expect && test_cmp expect out &&
	run_job r2.json --declare-output out -- sh -c "test -e out && echo was there; echo data >out" &&
	expect_status hit r2.json &&
	test_cmp expect out &&
	! test -s out.stdout &&
	run_job r3.json --declare-output out -- sh -c "test -e out && echo was there; echo data >out" &&
	expect_status hit r3.json
'

# clustalo refuses to overwrite an output without --force.
test_expect_success 'a job that refuses an existing output: every rerun hits, a changed input misses' '
	echo seq1 >in &&
	job="if test -e res; then echo exists >&2; exit 1; fi; cat in >res" &&
	for i in 1 2 3; do
		run_job r$i.json --declare-output res -- sh -c "$job" &&
		test "$(cat status)" = 0 || return 1
	done &&
	expect_status miss r1.json && expect_status hit r2.json &&
	expect_status hit r3.json &&
	test_cmp in res &&
	echo seq2 >in &&
	run_job r4.json --declare-output res -- sh -c "$job" &&
	expect_status miss r4.json && test_cmp in res
'

test_expect_success 'the relative path given is keyed: with and without the option are two jobs' '
	run_job r1.json --declare-output o -- sh -c "echo x >o" &&
	run_job r2.json -- sh -c "echo x >o" &&
	expect_status miss r2.json &&
	test "$(json_get r1.json key)" != "$(json_get r2.json key)"
'

test_expect_success 'an output the job does not leave is removed, on a miss and on a hit' '
	echo stale >out &&
	run_job r1.json --declare-output out -- sh -c "test -e out || echo absent" &&
	expect_status miss r1.json &&
	echo absent >expect && test_cmp expect out.stdout &&
	test_path_is_missing out &&
	echo stale >out &&
	run_job r2.json --declare-output out -- sh -c "test -e out || echo absent" &&
	expect_status hit r2.json && test_cmp expect out.stdout &&
	test_path_is_missing out
'

test_expect_success 'recorded where the output was absent, a hit still removes a stale one' '
	run_job r1.json --declare-output out -- sh -c "test -e out || echo absent" &&
	expect_status miss r1.json &&
	echo stale >out &&
	run_job r2.json --declare-output out -- sh -c "test -e out || echo absent" &&
	expect_status hit r2.json &&
	test_path_is_missing out
'

test_expect_success 'a declared directory is replaced whole: no stale entry survives a hit' '
	job="mkdir -p d && echo new >d/new && ls d" &&
	run_job r1.json --declare-output d -- sh -c "$job" &&
	expect_status miss r1.json &&
	echo new >expect && test_cmp expect out.stdout &&
	echo old >d/old &&
	run_job r2.json --declare-output d -- sh -c "$job" &&
	expect_status hit r2.json &&
	test_path_is_missing d/old && test_path_is_file d/new &&
	mkdir -p d/sub && echo old >d/sub/f &&
	run_job r3.json --declare-output d -- sh -c "$job" &&
	expect_status hit r3.json &&
	test_path_is_missing d/sub && test_cmp expect out.stdout
'

test_expect_success 'a declared output is never an input: an appended log starts empty' '
	echo old >log &&
	run_job r1.json --declare-output log -- sh -c "echo line >>log" &&
	expect_status miss r1.json &&
	echo line >expect && test_cmp expect log &&
	run_job r2.json --declare-output log -- sh -c "echo line >>log" &&
	expect_status hit r2.json && test_cmp expect log
'

test_expect_success 'the output directory removed since: a miss, not a false hit' '
	mkdir outd &&
	run_job r1.json --declare-output outd/x -- sh -c "echo hi >outd/x" &&
	expect_status miss r1.json && test "$(cat status)" = 0 &&
	run_job r2.json --declare-output outd/x -- sh -c "echo hi >outd/x" &&
	expect_status hit r2.json &&
	rm -rf outd &&
	run_job r3.json --declare-output outd/x -- sh -c "echo hi >outd/x" &&
	expect_status miss r3.json && test "$(cat status)" != 0 &&
	test_path_is_missing outd
'

test_expect_success 'the output directory with another mode: a miss' '
	mkdir outd &&
	run_job r1.json --declare-output outd/x -- sh -c "echo hi >outd/x" &&
	chmod 700 outd &&
	run_job r2.json --declare-output outd/x -- sh -c "echo hi >outd/x" &&
	expect_status miss r2.json
'

test_expect_success 'a pipeline that makes its output directory: the rerun hits' '
	job="mkdir -p out && echo r >out/res && echo done" &&
	run_job r1.json --declare-output out -- sh -c "$job" &&
	run_job r2.json --declare-output out -- sh -c "$job" &&
	expect_status hit r2.json &&
	echo r >expect && test_cmp expect out/res
'

test_expect_success 'a declared output that is a symlink is the link itself, replaced' '
	echo target >t && ln -s t lnk &&
	run_job r1.json --declare-output lnk -- sh -c "test -e lnk || echo gone; echo own >lnk" &&
	expect_status miss r1.json &&
	test_path_is_file t && echo target >expect && test_cmp expect t &&
	! test -L lnk && echo own >expect && test_cmp expect lnk
'

test_expect_success 'the other files of the directory stay host inputs' '
	echo a >in &&
	job="cat in >out" &&
	run_job r1.json --declare-output out -- sh -c "$job" &&
	run_job r2.json --declare-output out -- sh -c "$job" &&
	expect_status hit r2.json &&
	echo b >in &&
	run_job r3.json --declare-output out -- sh -c "$job" &&
	expect_status miss r3.json && test_cmp in out
'

# ocamlopt, fpc, go build -o and mix test list the directory their outputs
# are in (t5060): the listing recorded and checked is the job's, without
# the declared names.
test_expect_success 'a job that lists its output'"'"'s directory: the rerun in place hits' '
	mkdir lsd && echo a >in &&
	job="ls lsd; cat in >lsd/res" &&
	run_job r1.json --declare-output lsd/res -- sh -c "$job" &&
	expect_status miss r1.json &&
	run_job r2.json --declare-output lsd/res -- sh -c "$job" &&
	expect_status hit r2.json &&
	! test -s out.stdout &&
	rm lsd/res &&
	run_job r3.json --declare-output lsd/res -- sh -c "$job" &&
	expect_status hit r3.json && test_cmp in lsd/res &&
	echo new >lsd/other &&
	run_job r4.json --declare-output lsd/res -- sh -c "$job" &&
	expect_status miss r4.json &&
	echo other >expect && test_cmp expect out.stdout
'

test_expect_success 'declared outputs from the configuration file' '
	mkdir -p "$HOME/.config/procache" &&
	echo "{\"declared_outputs\": [\"cfgout\"]}" >cfg.json &&
	job="test -e cfgout && echo seen; echo v >cfgout" &&
	"$PROCACHE" run --config cfg.json --report r1.json -- sh -c "$job" </dev/null >o1 &&
	"$PROCACHE" run --config cfg.json --report r2.json -- sh -c "$job" </dev/null >o2 &&
	expect_status hit r2.json && ! test -s o1 && ! test -s o2
'

test_expect_success 'procache trace records nothing under a declared output' '
	echo v >o &&
	"$PROCACHE" trace --declare-output o -- sh -c "cat o; echo w >o" >trace.out 2>&1 &&
	! grep "$(pwd)/o\$" trace.out
'

test_expect_success UNPRIV_USER 'rootless (procache-test): the rerun in place hits' '
	U=$TEST_DIR/uhome && mkdir -p "$U/w" && chown -R procache-test "$U" &&
	(cd "$U/w" && for i in 1 2; do
		setpriv --reuid procache-test --regid procache-test --init-groups \
			env HOME="$U" PROCACHE_DIR="$U/cache" PATH=/usr/bin:/bin \
			"$PROCACHE" run --report "$U/r$i.json" --declare-output out --declare-output d -- \
			sh -c "test -e out && echo seen; echo x >out; mkdir -p d; echo y >d/f" \
			</dev/null >"$U/o$i" || return 1
	done) &&
	expect_status miss "$U/r1.json" && expect_status hit "$U/r2.json" &&
	! test -s "$U/o1" && ! test -s "$U/o2" &&
	echo y >expect && test_cmp expect "$U/w/d/f"
'

test_prereq_SNAKEMAKE() {
	command -v snakemake >/dev/null
}

# Snakemake names a new log after the clock on every run
# (.snakemake/log/DATE.snakemake.log): the whole workflow wrapped as one
# job, rerun in place, hits only with that directory declared. (The
# reports go outside the workflow's directory: snakemake lists it.)
test_skip_unless_prereq SNAKEMAKE 'snakemake wrapped whole: the rerun in place hits with --declare-output .snakemake/log' &&
test_expect_success 'snakemake wrapped whole: the rerun in place hits with --declare-output .snakemake/log' '
	mkdir sm && (
		cd sm &&
		printf "%s\n" "rule all:" "    input: \"out/c.txt\"" \
			"rule a:" "    input: \"in.txt\"" "    output: \"out/c.txt\"" \
			"    shell: \"tr a-z A-Z <{input} >{output}\"" >Snakefile &&
		echo hello >in.txt &&
		run_job ../r1.json -- snakemake -c1 -q &&
		expect_status miss ../r1.json &&
		run_job ../r2.json -- snakemake -c1 -q &&
		expect_status miss ../r2.json &&
		run_job ../r3.json --declare-output .snakemake/log -- snakemake -c1 -q &&
		expect_status miss ../r3.json &&
		run_job ../r4.json --declare-output .snakemake/log -- snakemake -c1 -q &&
		expect_status hit ../r4.json &&
		echo HELLO >expect && test_cmp expect out/c.txt &&
		echo again >in.txt &&
		run_job ../r5.json --declare-output .snakemake/log -- snakemake -c1 -q &&
		expect_status miss ../r5.json &&
		echo AGAIN >expect && test_cmp expect out/c.txt
	)
'

test_expect_success 'refused: outside the output directories, holding the cwd, . and ..' '
	mkdir sub &&
	test_expect_code 125 "$PROCACHE" run --declare-output ../elsewhere -- true &&
	test_expect_code 125 "$PROCACHE" run --declare-output . -- true &&
	test_expect_code 125 "$PROCACHE" run --declare-output .. -- true &&
	(cd sub && test_expect_code 125 "$PROCACHE" run --declare-output .. -- true) &&
	test_expect_code 125 "$PROCACHE" run --declare-output "" -- true &&
	test_expect_code 125 "$PROCACHE" run --mask m --declare-output m/x -- true
'

# Keyed as resolved: a declared output or a mask spelled through a
# symlinked directory names another file once the link moves (review).
test_expect_success 'a declared output and a mask through a retargeted symlink miss' '
	mkdir lnkcase && (cd lnkcase &&
	mkdir dA dB && ln -sfn dA lnk &&
	run miss --declare-output lnk/out -- true &&
	echo OLD >dB/out && ln -sfn dB lnk &&
	run miss --declare-output lnk/out -- true &&
	test_path_is_missing dB/out &&
	echo SA >dA/s && echo SB >dB/s && ln -sfn dA lnk &&
	run miss --mask lnk/s -- cat dB/s >out1 &&
	echo SB >expect && test_cmp expect out1 &&
	ln -sfn dB lnk &&
	"$PROCACHE" run --mask lnk/s -- cat dB/s >out2 2>err2 || : &&
	! grep "^procache: hit" err2 && test ! -s out2)
'

# run_in_w REPORT [OPTIONS...] -- CMD...: procache run in w/, with its
# report, stdout and stderr in the case's directory: nothing of the
# test's own is made in w/, whose mtime the cases follow.
run_in_w() {
	local rep=$1
	shift
	(cd w && "$PROCACHE" run --report "../$rep" "$@" </dev/null \
		>../w.stdout 2>../w.stderr)
}

# A job that lists a directory and lstat's it (esbuild its project root;
# tar, find, pip wheel, dpkg-buildpackage) records the directory's mtime.
# A declared directory the host has is emptied in place by the apply,
# not removed and made again: its parent's names stay, and so its mtime
# (review: the neighbour missed after every miss and every hit). The
# neighbour lstats the parent only: one that lstats out too (ls -la)
# is shown out's mtime, which its new entries move, and misses (t1090).
test_expect_success 'replacing a declared directory leaves its parent'"'"'s mtime: a job that lists and stats the parent hits' '
	mkdir w && echo data >w/in.txt &&
	d1="mkdir out && cat in.txt >out/f" &&
	d2="mkdir out && cat in.txt >out/f && echo two >out/g" &&
	nb="ls -lad . >/dev/null; ls -a | sort" &&
	run_in_w r1.json --declare-output out -- sh -c "$d1" &&
	expect_status miss r1.json &&
	run_in_w n1.json -- sh -c "$nb" && expect_status miss n1.json &&
	m=$(stat -c %y w) && ino=$(stat -c %i w/out) &&
	run_in_w r2.json --declare-output out -- sh -c "$d2" &&
	expect_status miss r2.json && test_path_is_file w/out/g &&
	test "$(stat -c %y w)" = "$m" && test "$(stat -c %i w/out)" = "$ino" &&
	run_in_w n2.json -- sh -c "$nb" && expect_status hit n2.json &&
	run_in_w r3.json --declare-output out -- sh -c "$d1" &&
	expect_status hit r3.json && test_path_is_missing w/out/g &&
	echo data >expect && test_cmp expect w/out/f &&
	test "$(stat -c %y w)" = "$m" &&
	run_in_w n3.json -- sh -c "$nb" && expect_status hit n3.json &&
	run_in_w r4.json --declare-output out -- sh -c "$d2" &&
	expect_status hit r4.json && test_path_is_file w/out/g &&
	run_in_w n4.json -- sh -c "$nb" && expect_status hit n4.json
'

test_done

#!/usr/bin/env bash
test_description='real world, pipelines end to end, both ways: each step wrapped (procache run -- STEP from a script, make, GNU parallel, xargs, snakemake) and the whole pipeline under --nested; outputs against a bare run, skips after one input changed'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-realworld.sh"

# Every pipeline is a directory with ./pipeline.sh. Per step, it runs each
# step as "$pc STEP" with pc taken from $PC (then unset, so that the steps'
# environment is the same whatever wraps them); bare and under --nested, PC
# is empty. Data are small and deterministic: a reference of two
# 3000-base contigs, three samples of 300 reads from wgsim, protein
# families of five sequences.
#
# pl_both NAME CHANGE RMOUT MISSES SKIPS, with setup_NAME defined:
#   bare runs of the start tree S and of S after CHANGE (S2), each in a
#   fresh copy w at one path (the working directory is keyed);
#   per step (PC="procache run --mtime=content --", the README's advice
#   for tools that do not act on times; each run its own batch):
#	1. S: every step misses; outputs, stdout and stderr are the bare
#	   run's (outputs without the lines that carry a date: canon);
#	2. S again: every step hits; outputs byte for byte run 1's;
#	3. S2: exactly MISSES steps run; outputs are S2's bare run's;
#	4. RMOUT removed, rerun in place: RMOUT is back, the bare outputs
#	   (RMOUT empty: no fourth run, to keep the file short);
#   the whole under --nested (a cache of its own):
#	1. S: the bare run's outputs and stdout;
#	2. S again: one hit of the whole job, run 1's bytes;
#	3. S2: at least SKIPS units skipped, S2's bare outputs and stdout;
#	4. RMOUT removed, rerun in place: S2's bare outputs (the same).
# A step that replays when it should not shows as outputs that differ
# from the bare run's; a needless miss as a count.

PC_STEP="$PROCACHE run --mtime=content --"
# lines a tool stamps with the time or the date (its command line stays)
DROP='^##(bcftools|samtools)_[a-z]*(Command|Version)=|^# (Date|Current dir):|^DATE '

# canon DIR: every file but snakemake's state, text without DROP's
# lines, binary files by hash.
canon() {
	(cd "$1" && find . -type f ! -path './.snakemake/*' | LC_ALL=C sort |
	while read -r f; do
		echo "== $f"
		if grep -Iq . "$f"; then grep -avE "$DROP" "$f" || :; else cksum <"$f"; fi
	done)
}

# exact DIR: every file byte for byte (by hash), dates included.
exact() {
	(cd "$1" && find . -type f ! -path './.snakemake/*' | LC_ALL=C sort |
	while read -r f; do echo "$(cksum <"$f") $f"; done)
}

fresh() {
	rm -rf w && cp -a "$1" w
}

# count BATCH FIELD: hits, misses, uncacheable of a batch.
count() {
	"$PROCACHE" cache batch --json "$1" 2>/dev/null |
		sed -n "s/^[[:space:]]*\"$2\":[[:space:]]*\([0-9]*\).*/\1/p"
}

# counts_are BATCH HITS MISSES: and none uncacheable.
counts_are() {
	local h m u
	h=$(count "$1" hits) m=$(count "$1" misses) u=$(count "$1" uncacheable)
	test "${h:-0} ${m:-0} ${u:-0}" = "$2 $3 0" || {
		echo "batch $1: $h hits, $m misses, $u uncacheable; expected $2 hits, $3 misses" >&2
		"$PROCACHE" cache batch "$1" >&2
		false
	}
}

# status_is REPORT WANT: the report's status, else what it says and why.
status_is() {
	test "$(json_get "$1" status)" = "$2" || {
		echo "$1: expected $2, got $(json_get "$1" status)" >&2
		json_get "$1" uncacheable >&2
		json_get "$1" explain 2>/dev/null >&2 || : # only with --explain
		false
	}
}

# nested_counts ERR: "RUN SKIPPED REFUSED" from procache -v's "nested:" line.
nested_counts() {
	sed -n "s/^procache: nested: \([0-9]*\) units run, \([0-9]*\) skipped, \([0-9]*\) refused.*/\1 \2 \3/p" "$1" | tail -1
}

# pl_bare START N: a bare run of START; bare.N.{out,err,canon}
pl_bare() {
	fresh "$1" && (cd w && ./pipeline.sh >../bare.$2.out 2>../bare.$2.err) &&
	canon w >bare.$2.canon
}

# pl_step N BATCH: one per-step run in w
pl_step() {
	(cd w && PROCACHE_BATCH=$2 PC="$PC_STEP" ./pipeline.sh >../p.$1.out 2>../p.$1.err) || {
		cat p.$1.err >&2
		return 1
	}
	canon w >p.$1.canon && exact w >p.$1.exact
}

# pl_nest N: one run of the whole under --nested in w; procache's own
# lines are taken out of the job's stderr.
pl_nest() {
	(cd w && "$PROCACHE" run -v --nested --report ../n.$1.json -- ./pipeline.sh >../n.$1.out 2>../n.$1.all) || {
		cat n.$1.all >&2
		return 1
	}
	grep -v '^procache: ' n.$1.all >n.$1.err
	canon w >n.$1.canon && exact w >n.$1.exact
}

pl_both() {
	local name=$1 change=$2 rmout=$3 misses=$4 skips=$5 total run skip refused
	mkdir S && (cd S && "setup_$name") &&
	cp -a S S2 && (cd S2 && eval "$change") &&
	pl_bare S 1 && pl_bare S2 2 &&
	! test_cmp bare.1.canon bare.2.canon >/dev/null &&

	export PROCACHE_DIR=$TEST_DIR/cache.step &&
	fresh S && pl_step 1 "$name.1" &&
	total=$(count "$name.1" misses) && test "$total" -gt 0 &&
	counts_are "$name.1" 0 "$total" &&
	test_cmp bare.1.canon p.1.canon && test_cmp bare.1.out p.1.out &&
	test_cmp bare.1.err p.1.err &&
	fresh S && pl_step 2 "$name.2" && counts_are "$name.2" "$total" 0 &&
	test_cmp p.1.exact p.2.exact && test_cmp p.1.out p.2.out &&
	test_cmp p.1.err p.2.err &&
	fresh S2 && pl_step 3 "$name.3" &&
	counts_are "$name.3" $((total - misses)) "$misses" &&
	test_cmp bare.2.canon p.3.canon && test_cmp bare.2.out p.3.out &&
	test_cmp bare.2.err p.3.err &&
	{ test -z "$rmout" ||
	  { rm w/"$rmout" && pl_step 4 "$name.4" && test -e w/"$rmout" &&
	    test_cmp bare.2.canon p.4.canon && test_cmp bare.2.out p.4.out; }; } &&

	export PROCACHE_DIR=$TEST_DIR/cache.nest &&
	fresh S && pl_nest 1 &&
	test_cmp bare.1.canon n.1.canon && test_cmp bare.1.out n.1.out &&
	fresh S && pl_nest 2 && status_is n.2.json hit &&
	test_cmp n.1.exact n.2.exact && test_cmp n.1.out n.2.out &&
	test_cmp n.1.err n.2.err &&
	fresh S2 && pl_nest 3 &&
	test_cmp bare.2.canon n.3.canon && test_cmp bare.2.out n.3.out &&
	read -r run skip refused <<-EOF &&
	$(nested_counts n.3.all)
	EOF
	say "# $name: per step, $misses of $total steps ran after the change; nested: $run units ran, $skip skipped, $refused refused" &&
	test "${skip:-0}" -ge "$skips" &&
	{ test -z "$rmout" ||
	  { rm w/"$rmout" && pl_nest 4 && test -e w/"$rmout" &&
	    test_cmp bare.2.canon n.4.canon && test_cmp bare.2.out n.4.out; }; }
}

# The data.
mkref() {
	awk 'BEGIN { srand(11)
	for (c = 1; c <= 2; c++) { s = ""; for (i = 0; i < 3000; i++) s = s substr("ACGT", int(rand() * 4) + 1, 1)
		printf(">chr%d\n", c) > "ref.fa"
		for (i = 1; i <= 3000; i += 60) print substr(s, i, 60) > "ref.fa" } }' &&
	mkdir -p reads &&
	for s in 1 2 3; do
		wgsim -S $s -N 300 -1 70 -2 70 -r 0.01 -R 0 ref.fa reads/s$s.fq reads/r2.fq >/dev/null 2>&1 || return 1
	done &&
	rm reads/r2.fq
}

# mkfam N: N families of five protein sequences (deterministic).
mkfam() {
	mkdir -p fam &&
	awk -v n="$1" 'BEGIN { srand(7); aa = "ACDEFGHIKLMNPQRSTVWY"
	for (f = 1; f <= n; f++) {
		base = ""; for (i = 0; i < 80; i++) base = base substr(aa, int(rand() * 20) + 1, 1)
		file = sprintf("fam/f%d.fa", f)
		for (s = 1; s <= 5; s++) {
			seq = ""
			for (i = 1; i <= 80; i++) { c = substr(base, i, 1); if (rand() < 0.15) c = substr(aa, int(rand() * 20) + 1, 1); seq = seq c }
			printf(">f%d_s%d\n%s\n", f, s, seq) > file
		}
		close(file)
	} }'
}

CHANGE_READS="sed -i '2s/^./N/' reads/s2.fq"
CHANGE_FAM="printf '>x\nMKTAYIAKQRQISFVKSHFSRQ\n' >>fam/f2.fa"

# (a) variant calling: bwa index; per sample bwa mem | samtools sort,
# samtools index; bcftools mpileup | bcftools call over the three.
setup_vc() {
	mkref && cat >pipeline.sh <<-\EOF && chmod +x pipeline.sh
	#!/bin/bash
	set -e
	pc=$PC; unset PC
	mkdir -p out
	$pc bwa index ref.fa 2>/dev/null
	for s in s1 s2 s3; do
		$pc sh -c "bwa mem -t 1 -R '@RG\tID:$s\tSM:$s' ref.fa reads/$s.fq 2>/dev/null | samtools sort -o out/$s.bam -"
		$pc samtools index out/$s.bam
	done
	$pc sh -c "bcftools mpileup -Ou -f ref.fa out/s1.bam out/s2.bam out/s3.bam 2>/dev/null | bcftools call -mv -o out/calls.vcf"
	echo "calls: $(grep -vc '^#' out/calls.vcf)"
	EOF
}

# sample 2 changed: its bwa mem | sort and index, and the calls run
# again; under --nested, the index and samples 1 and 3 are skipped
# (mkdir, bwa index, two units of each).
test_expect_success 'variant calling (bwa, samtools, bcftools), per step and nested' '
	rw_need bwa samtools bcftools wgsim &&
	pl_both vc "$CHANGE_READS" out/s1.bam.bai 3 6
'

# (b) minimap2 + samtools sort + flagstat (into a file through >)
setup_minimap() {
	mkref && cat >pipeline.sh <<-\EOF && chmod +x pipeline.sh
	#!/bin/bash
	set -e
	pc=$PC; unset PC
	mkdir -p out
	for s in s1 s2 s3; do
		$pc minimap2 -a -x sr -o out/$s.sam ref.fa reads/$s.fq 2>/dev/null
		$pc samtools sort -o out/$s.bam out/$s.sam
		$pc samtools flagstat out/$s.bam >out/$s.flagstat
	done
	cat out/*.flagstat | grep -c mapped
	EOF
}

test_expect_success 'minimap2 + samtools, per step and nested' '
	rw_need minimap2 samtools wgsim &&
	pl_both minimap "$CHANGE_READS" out/s1.bam 3 5
'

# (c) bowtie2-build + bowtie2 (a Perl wrapper around its aligner)
setup_bowtie2() {
	mkref && cat >pipeline.sh <<-\EOF && chmod +x pipeline.sh
	#!/bin/bash
	set -e
	pc=$PC; unset PC
	mkdir -p idx out
	$pc bowtie2-build -q --threads 1 ref.fa idx/ref
	for s in s1 s2 s3; do
		$pc bowtie2 -p 1 -x idx/ref -U reads/$s.fq -S out/$s.sam
	done
	EOF
}

test_expect_success 'bowtie2-build + bowtie2, per step and nested' '
	rw_need bowtie2 bowtie2-build wgsim &&
	pl_both bowtie2 "$CHANGE_READS" "" 1 4
'

# (d) alignments of many families, through GNU parallel -j2 and xargs -P2.
# parallel gives each job its pid, its slot and a temporary name in the
# environment: procache removes them (runner/envpolicy.c), or every job
# missed on every rerun.
setup_align() {
	mkfam 3 && cat >pipeline.sh <<-\EOF && chmod +x pipeline.sh
	#!/bin/bash
	set -e
	pc=$PC; unset PC
	export pc
	mkdir -p out
	ls fam/*.fa | parallel -j2 "$pc clustalo -i {} -o out/{/.}.aln --force --threads=1"
	ls fam/f[12].fa | parallel -j2 "$pc mafft --quiet --thread 1 {} >out/{/.}.mafft"
	ls fam/*.fa | xargs -P2 -I{} sh -c '$pc clustalo -i "$1" --outfmt=fa --force --threads=1 -o "out/$(basename "$1" .fa).fa"' sh {}
	echo done
	EOF
}

# family 2 changed: its three alignments run again. Under --nested the
# children of parallel never skip (their PARALLEL_PID differs, and a
# unit is keyed with the environment it really has); those of xargs do
# (families 1 and 3). mafft (a script of many programs, ~2 s a run
# here) aligns two families only.
test_expect_success 'clustalo and mafft under parallel -j2 and xargs -P2, per step and nested' '
	rw_need clustalo mafft parallel &&
	pl_both align "$CHANGE_FAM" "" 3 2
'

# (e) seqkit (Go, threads from its start) over many files
setup_seqkit() {
	mkref && cat >pipeline.sh <<-\EOF && chmod +x pipeline.sh
	#!/bin/bash
	set -e
	pc=$PC; unset PC
	mkdir -p out
	for f in reads/*.fq; do
		n=$(basename $f .fq)
		$pc seqkit seq -j 1 -m 70 -o out/$n.seq.fq $f
		$pc seqkit grep -j 1 -s -p ACGTA -o out/$n.grep.fq out/$n.seq.fq
	done
	$pc seqkit stats -j 1 -T -o out/stats.tsv out/*.grep.fq
	cat out/stats.tsv
	EOF
}

# the first read of sample 2 does not hold ACGTA: seq runs again, its
# grep too, and their result is the same, so stats is replayed.
test_expect_success 'seqkit seq, grep and stats over many files, per step and nested' '
	rw_need seqkit wgsim &&
	pl_both seqkit "$CHANGE_READS" out/s1.seq.fq 2 5
'

# (f) make -j2 with pattern rules: align, profile, search every
# family against a database made of all of them, a summary.
setup_make() {
	mkfam 3 && cat >Makefile <<-\EOF && cat >pipeline.sh <<-\EOF2 && chmod +x pipeline.sh
	.RECIPEPREFIX := >
	FAMS := $(patsubst fam/%.fa,%,$(wildcard fam/*.fa))
	all: out/summary.txt
	out/%.aln: fam/%.fa
	> @mkdir -p out
	> $(PC) clustalo -i $< -o $@ --force --threads=1
	out/%.hmm: out/%.aln
	> $(PC) hmmbuild --amino $@ $< >/dev/null
	out/%.tbl: out/%.hmm db.fa
	> $(PC) hmmsearch --noali --tblout $@ $< db.fa >/dev/null
	db.fa: $(wildcard fam/*.fa)
	> $(PC) sh -c 'cat fam/*.fa >$@'
	out/summary.txt: $(FAMS:%=out/%.tbl)
	> $(PC) sh -c 'for t in $^; do echo "$$t $$(grep -vc "^#" $$t)"; done >$@'
	.SECONDARY:
	EOF
	#!/bin/bash
	set -e
	pc=$PC; unset PC
	make -s -j2 PC="$pc"
	cat out/summary.txt
	EOF2
}

# family 2 changed: its clustalo and hmmbuild, the database, every
# search (the database changed) and the summary run: 2 + 1 + 3 + 1.
# Under --nested, see the next case.
test_expect_success 'make -j2 with pattern rules, per step and nested' '
	rw_need clustalo hmmbuild hmmsearch make &&
	pl_both make "$CHANGE_FAM" out/summary.txt 7 1
'

# GNU make -j gives its stdin to one running job at a time and a pipe
# with no writer to the others: which job gets which depends on
# scheduling, and a unit is keyed with what its fd 0 is (null or pipe),
# so under --nested an unchanged recipe's clustalo misses whenever it
# got the other stdin than when recorded (sandbox/nest-exec.c, "fd0").
# A unit that never reads, polls or fstats its fd 0 could be keyed
# without it.
test_expect_success 'make -j2 under --nested skips the unchanged families (make gives stdin to one job at a time)' '
	rw_need clustalo make &&
	mkfam 4 && cat >Makefile <<-\EOF &&
	.RECIPEPREFIX := >
	all: $(patsubst fam/%.fa,out/%.aln,$(wildcard fam/*.fa))
	out/%.aln: fam/%.fa
	> clustalo -i $< -o $@ --threads=1
	EOF
	mkdir out && mkdir S && mv fam Makefile out S/ &&
	fresh S && (cd w && "$PROCACHE" run -v --nested -- make -s -j2 2>../n1.err) &&
	printf ">x\nMKTAYIAKQRQISFVKSHFSRQ\n" >>S/fam/f2.fa &&
	fresh S && (cd w && "$PROCACHE" run -v --nested -- make -s -j2 2>../n2.err) &&
	read -r run skip refused <<-EOF &&
	$(nested_counts n2.err)
	EOF
	test "$skip" = 3
'

# A sibling's `mkdir -p out` of a directory that exists changes nothing:
# it used to count as a write of out and refuse every unit writing into
# out/ meanwhile (make -j2 recipes that each start with mkdir -p).
test_expect_success 'nested: a sibling mkdir -p of an existing directory does not refuse a unit writing in it' '
	mkdir out && echo hi >src && cat >p.sh <<-\EOF &&
	#!/bin/sh
	sh -c "sleep 0.3; cp src out/a" &
	sleep 0.1
	mkdir -p out
	wait
	EOF
	chmod +x p.sh &&
	"$PROCACHE" run -vv --nested -- ./p.sh 2>err &&
	test_cmp src out/a &&
	! grep "refused:" err
'

# (g) snakemake, every command of every rule wrapped ({PC}), several
# rules with wildcards. Wrapped whole under --nested: t5050, and below.
setup_snake() {
	mkfam 3 && cat >Snakefile <<-\EOF && cat >pipeline.sh <<-\EOF2 && chmod +x pipeline.sh
	import os
	PC = os.environ.get("RW_PC", "")
	FAMS = glob_wildcards("fam/{f}.fa").f
	rule all:
	    input: "out/summary.txt"
	rule align:
	    input: "fam/{f}.fa"
	    output: "out/{f}.aln"
	    shell: "{PC} clustalo -i {input} -o {output} --force --threads=1"
	rule hmm:
	    input: "out/{f}.aln"
	    output: "out/{f}.hmm"
	    shell: "{PC} hmmbuild --amino {output} {input} >/dev/null"
	rule summary:
	    input: expand("out/{f}.hmm", f=FAMS)
	    output: "out/summary.txt"
	    shell: "{PC} sh -c 'grep -H ^LENG {input} >{output}'"
	EOF
	#!/bin/bash
	set -e
	export RW_PC=$PC; unset PC
	snakemake -q -j2 >/dev/null 2>&1
	cat out/summary.txt
	EOF2
}

# family 2 changed: its align and hmm rules and the summary run.
test_expect_success 'snakemake -j2, every rule wrapped, and the workflow under --nested' '
	rw_need snakemake clustalo hmmbuild &&
	pl_both snake "$CHANGE_FAM" "" 3 1
'

# After each job, snakemake sets its outputs' times to now
# (utimensat(out, NULL)); a unit that stat s its input (hmmbuild) holds
# that mtime, and --mtime=content is not applied to units (runner/nest.c,
# "Never the bytes in place of the mtime"): under --nested, every rule
# after the first runs again on every run, changed or not.
test_expect_success 'snakemake under --nested: the unchanged families hmmbuild is skipped' '
	rw_need snakemake clustalo hmmbuild &&
	mkdir S && (cd S && setup_snake) &&
	fresh S && (cd w && "$PROCACHE" run -vv --nested --mtime=content -- ./pipeline.sh >/dev/null 2>../n1.err) &&
	eval "(cd S && $CHANGE_FAM)" &&
	fresh S && (cd w && "$PROCACHE" run -vv --nested --mtime=content -- ./pipeline.sh >/dev/null 2>../n2.err) &&
	# hmmbuild runs in the rule shell (bash -c), the unit that skips
	test "$(grep -c "unit [0-9]* (hmmbuild, pid [0-9]*) ran" n1.err)" = 3 &&
	test "$(grep -c "unit [0-9]* (hmmbuild, pid [0-9]*) ran" n2.err)" = 1
'

# (i) a pandas step after seqkit stats
setup_pandas() {
	mkref && cat >summ.py <<-\EOF && cat >pipeline.sh <<-\EOF2 && chmod +x pipeline.sh
	import sys
	import pandas as pd
	df = pd.read_csv(sys.argv[1], sep="\t")
	df["mean_len"] = df["sum_len"] / df["num_seqs"]
	df.sort_values("file").to_csv(sys.argv[2], sep="\t", index=False, float_format="%.3f")
	print(df[["file", "num_seqs"]].to_string(index=False))
	EOF
	#!/bin/bash
	set -e
	pc=$PC; unset PC
	mkdir -p out
	$pc seqkit stats -j 1 -T -o out/stats.tsv reads/s1.fq reads/s2.fq reads/s3.fq
	$pc /usr/bin/python3 summ.py out/stats.tsv out/summary.tsv
	$pc /usr/bin/python3 summ.py out/stats.tsv out/again.tsv
	EOF2
}

test_expect_success 'seqkit stats then a pandas script, per step and nested' '
	rw_need seqkit wgsim &&
	if /usr/bin/python3 -c "import pandas" 2>/dev/null
	then
		pl_both pandas "sed -i '\''\$d'\'' reads/s2.fq && sed -i '\''\$d'\'' reads/s2.fq && sed -i '\''\$d'\'' reads/s2.fq && sed -i '\''\$d'\'' reads/s2.fq" "" 3 1
	else
		say "# skip: python3-pandas not installed (make deps)"
	fi
'

# (h) cwltool: a workflow of two CommandLineTools (sort, then grep -c
# through stdout:), offline, without containers. Wrapped as one job it
# hits; under --nested its steps cannot skip: cwltool runs each in a
# fresh random directory (the unit's cwd and arguments), and a tool
# whose stdout: is a file is not a unit. The outputs are still exact.
setup_cwl() {
	printf 'c\na\nb\n' >in.txt &&
	printf 'infile: {class: File, path: in.txt}\n' >job.yml &&
	cat >sort.cwl <<-\EOF &&
	cwlVersion: v1.2
	class: CommandLineTool
	baseCommand: [sort]
	arguments: [-o, sorted.txt]
	inputs:
	  infile: {type: File, inputBinding: {position: 1}}
	outputs:
	  sorted: {type: File, outputBinding: {glob: sorted.txt}}
	EOF
	cat >count.cwl <<-\EOF &&
	cwlVersion: v1.2
	class: CommandLineTool
	baseCommand: [grep, -c, "."]
	inputs:
	  infile: {type: File, inputBinding: {position: 1}}
	outputs:
	  counted: {type: stdout}
	stdout: count.txt
	EOF
	cat >wf.cwl <<-\EOF &&
	cwlVersion: v1.2
	class: Workflow
	inputs:
	  infile: File
	outputs:
	  result: {type: File, outputSource: count/counted}
	  sorted: {type: File, outputSource: sort/sorted}
	steps:
	  sort:
	    run: sort.cwl
	    in: {infile: infile}
	    out: [sorted]
	  count:
	    run: count.cwl
	    in: {infile: sort/sorted}
	    out: [counted]
	EOF
	cat >pipeline.sh <<-\EOF && chmod +x pipeline.sh
	#!/bin/bash
	set -e
	cwltool --quiet --no-container --outdir out wf.cwl job.yml
	EOF
}

test_expect_success 'cwltool workflow: wrapped whole (a hit), and under --nested (the bare outputs)' '
	rw_need cwltool &&
	mkdir S && (cd S && setup_cwl) &&
	fresh S && (cd w && ./pipeline.sh >../bare.out 2>../bare.err) &&
	canon w >bare.canon &&
	test "$(cat w/out/count.txt)" = 3 &&
	fresh S && (cd w && "$PROCACHE" run --report ../r1.json -- ./pipeline.sh >../p1.out 2>../p1.err) &&
	status_is r1.json miss &&
	canon w >p1.canon && test_cmp bare.canon p1.canon && test_cmp bare.out p1.out &&
	fresh S && (cd w && "$PROCACHE" run --explain --report ../r2.json -- ./pipeline.sh >../p2.out 2>../p2.err) &&
	status_is r2.json hit &&
	canon w >p2.canon && test_cmp bare.canon p2.canon && test_cmp p1.out p2.out &&
	export PROCACHE_DIR=$TEST_DIR/cache.nest &&
	fresh S && (cd w && "$PROCACHE" run --nested -- ./pipeline.sh >../n1.out 2>../n1.err) &&
	canon w >n1.canon && test_cmp bare.canon n1.canon && test_cmp bare.out n1.out
'

test_done

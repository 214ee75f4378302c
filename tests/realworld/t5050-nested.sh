#!/usr/bin/env bash
test_description='real world, nested caching: a clustalo + hmmer pipeline and a snakemake workflow wrapped whole in one procache run --nested skip their unchanged steps, with the outputs of a bare run'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-realworld.sh"

# Four protein families, one FASTA file each, and a pipeline that aligns
# each (clustalo), builds a profile from the alignment (hmmbuild) and
# searches every sequence with it (hmmsearch). hmmbuild stamps its output
# with the date, and hmmsearch's table ends with the command line and the
# time: both are out of the model (a skipped step replays its recording),
# so outputs are compared without those lines.
families_setup() {
	mkdir -p fam out &&
	printf ">a1\nMKTAYIAKQRQISFVKSHFSRQ\n>a2\nMKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ\n>a3\nMKSAYIAKQRQISFVKSHFSRQ\n" >fam/a.fa &&
	printf ">b1\nMVLSPADKTNVKAAWGKVGAHAGEYGAEALERMFLSFPTTKTYFPHF\n>b2\nMVLSGEDKSNIKAAWGKIGGHGAEYGAEALERMFASFPTTKTYFPHF\n>b3\nMVHLTPEEKSAVTALWGKVNVDEVGGEALGRLLVVYPWTQRFFESF\n" >fam/b.fa &&
	printf ">c1\nMGLSDGEWQQVLNVWGKVEADIAGHGQEVLIRLFTGHPETLEKF\n>c2\nMGLSDGEWQLVLNVWGKVEADIPGHGQEVLIRLFKGHPETLEKF\n>c3\nMVLSEGEWQLVLHVWAKVEADVAGHGQDILIRLFKSHPETLEKF\n" >fam/c.fa &&
	printf ">d1\nMADQLTEEQIAEFKEAFSLFDKDGDGTITTKELGTVMRSLGQ\n>d2\nMADQLTEEQIAEFKEAFSLFDKDGDGCITTKELGTVMRSLGQ\n>d3\nMASNLTEEQIAEFKEAFSLFDKDGDGTITTKELGTVMRSLGQ\n" >fam/d.fa &&
	cat fam/*.fa >all.fa &&
	cat >pipeline.sh <<-\EOF &&
	#!/bin/bash
	set -e
	for f in fam/*.fa; do
		n=$(basename "$f" .fa)
		clustalo -i "$f" -o "out/$n.aln" --force --threads=1
		hmmbuild --amino "out/$n.hmm" "out/$n.aln" >/dev/null
		hmmsearch --noali --tblout "out/$n.tbl" "out/$n.hmm" all.fa >/dev/null
		echo "$n: $(grep -vc "^#" "out/$n.tbl") hits"
	done
	EOF
	chmod +x pipeline.sh
}

# filtered DIR: the outputs without the date and the command-line lines.
filtered() {
	for f in "$1"/out/*; do
		echo "== ${f##*/}" && grep -v "^DATE\|^# \(Date\|Current dir\|Pipeline mode\|Query file\|Target file\|Option settings\|Program\|Version\)" "$f"
	done
}

# fresh START: w becomes a fresh copy of START. Every run, bare or not,
# is in w: the working directory is part of a unit's key.
fresh() {
	rm -rf w && cp -a "$1" w
}

# nested_counts ERR: "RUN SKIPPED" from procache -v's "nested:" line.
nested_counts() {
	sed -n "s/.*nested: \([0-9]*\) units run, \([0-9]*\) skipped.*/\1 \2/p" "$1" | tail -1
}

test_expect_success 'clustalo + hmmer pipeline under --nested: outputs of a bare run; after one family changed, the other families skipped' '
	rw_need clustalo hmmbuild hmmsearch &&
	mkdir start && (cd start && families_setup) &&
	fresh start && (cd w && ./pipeline.sh >../bare.out) && filtered w >bare.f &&
	fresh start && (cd w && "$PROCACHE" run -v --nested -- ./pipeline.sh >../n1.out 2>../n1.err) &&
	test_cmp bare.out n1.out &&
	filtered w >n1.f && test_cmp bare.f n1.f &&
	read -r run1 skip1 <<-EOF &&
	$(nested_counts n1.err)
	EOF
	test "$run1" -ge 12 && test "$skip1" = 0 &&

	printf ">a4\nMKTAYIAKQRQISFVKSHF\n" >>start/fam/a.fa &&
	fresh start && (cd w && ./pipeline.sh >../bare.out) && filtered w >bare.f &&
	fresh start && (cd w && "$PROCACHE" run -v --nested -- ./pipeline.sh >../n2.out 2>../n2.err) &&
	test_cmp bare.out n2.out &&
	filtered w >n2.f && test_cmp bare.f n2.f &&
	read -r run2 skip2 <<-EOF &&
	$(nested_counts n2.err)
	EOF
	# family a: its three steps run; b, c, d: nine steps skipped
	test "$skip2" -ge 9 || { cat n2.err >&2; false; }
'

snakemake_setup() {
	families_setup &&
	cat >Snakefile <<-\EOF
	FAMS = ["a", "b", "c", "d"]
	rule all:
	    input: expand("out/{f}.aln", f=FAMS)
	rule align:
	    input: "fam/{f}.fa"
	    output: "out/{f}.aln"
	    shell: "clustalo -i {input} -o {output} --force --threads=1"
	EOF
}

# snakemake keeps its own state in .snakemake/ (locks, metadata with
# times): a fresh checkout each run, as CI has, so snakemake itself runs
# every rule and procache skips the unchanged ones.
test_expect_success 'snakemake wrapped whole under --nested: a fresh checkout after one change runs one rule' '
	rw_need snakemake clustalo &&
	mkdir sstart && (cd sstart && snakemake_setup) &&
	fresh sstart && (cd w && "$PROCACHE" run -v --nested -- snakemake -q -j2 >../s1.out 2>../s1.err) &&
	for f in a b c d; do
		test -s w/out/$f.aln || { cat s1.err >&2; return 1; }
	done &&
	printf ">b4\nMVLSPADKTNVKAAWGKVG\n" >>sstart/fam/b.fa &&
	fresh sstart && (cd w && snakemake -q -j2 >/dev/null 2>&1) && mv w sbare &&
	fresh sstart && (cd w && "$PROCACHE" run -v --nested -- snakemake -q -j2 >../s2.out 2>../s2.err) &&
	for f in a b c d; do
		test_cmp sbare/out/$f.aln w/out/$f.aln || return 1
	done &&
	read -r run2 skip2 <<-EOF &&
	$(nested_counts s2.err)
	EOF
	test "$skip2" -ge 3 || { cat s2.err >&2; false; }
'

test_done

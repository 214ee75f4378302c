#!/usr/bin/env bash
# examples/pipelines/bwa.sh [N] — reads of N samples (default 4) mapped to
# a reference: bwa index once, then per sample bwa mem, samtools sort,
# samtools index and samtools flagstat, one sample per job under xargs
# -P2, each command wrapped in procache. Run 1 runs every job; run 2,
# after rm -rf out, restores them all; run 3 reruns with the outputs in
# place; run 4, after one sample's reads changed, reruns one job per
# per-sample stage.
. "$(dirname "$0")/common.sh"
n=${1:-4}

# A reference of two 3000-base contigs, and per sample 200 reads of 70
# bases from it with a few errors (deterministic).
mkdir -p reads
awk -v n="$n" 'BEGIN { srand(11)
	for (c = 1; c <= 2; c++) { ref[c] = ""; for (i = 0; i < 3000; i++) ref[c] = ref[c] substr("ACGT", int(rand() * 4) + 1, 1)
		printf(">chr%d\n", c) > "ref.fa"
		for (i = 1; i <= 3000; i += 60) print substr(ref[c], i, 60) > "ref.fa" }
	q = ""; for (i = 0; i < 70; i++) q = q "I"
	for (s = 1; s <= n; s++) {
		file = sprintf("reads/s%d.fq", s)
		for (r = 1; r <= 200; r++) {
			c = int(rand() * 2) + 1; p = int(rand() * (3000 - 70)) + 1; read = substr(ref[c], p, 70)
			if (rand() < 0.3) { k = int(rand() * 70) + 1; read = substr(read, 1, k - 1) substr("ACGT", int(rand() * 4) + 1, 1) substr(read, k + 1) }
			printf("@s%d_r%d\n%s\n+\n%s\n", s, r, read, q) > file
		}
		close(file)
	} }'

cat >sample.sh <<'J'
#!/bin/sh
set -e
s=$1 run=$2
PROCACHE_BATCH=$run.bwa-mem $PC bwa mem -t 1 -o out/$s.sam ref.fa reads/$s.fq 2>/dev/null
PROCACHE_BATCH=$run.sort $PC samtools sort -@ 0 -o out/$s.bam out/$s.sam
PROCACHE_BATCH=$run.index $PC samtools index out/$s.bam
PROCACHE_BATCH=$run.flagstat $PC samtools flagstat out/$s.bam >out/$s.flagstat
J
chmod +x sample.sh

batch() {
	mkdir -p out
	PROCACHE_BATCH=$1.bwa-index $PC bwa index ref.fa 2>/dev/null
	ls reads | sed 's/\.fq$//' | xargs -P2 -I{} ./sample.sh {} "$1"
	report "$1" bwa-index bwa-mem sort index flagstat
}
batch run1-cold
rm -rf out
batch run2-after-rm-out
batch run3-in-place
sed -i '2s/^./N/' reads/s2.fq
batch run4-one-input-changed
echo "sample 2: $(grep -m1 "mapped (" out/s2.flagstat)"

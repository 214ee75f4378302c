#!/usr/bin/env bash
# examples/pipelines/hmm.sh [N] — protein families, N of them (default 6):
# each is aligned (clustalo), made a profile (hmmbuild) and searched
# against a database (hmmsearch), one family per job under xargs -P2,
# each command wrapped in procache. Run 1 runs every job; run 2, after
# rm -rf out, restores them all; run 3 reruns with the outputs in place
# (clustalo runs once more: it opens its output to see whether it
# exists, and now it does; that run is a second entry); run 4, in place
# again, restores everything; run 5, after one family's input changed,
# reruns one job per stage.
. "$(dirname "$0")/common.sh"
n=${1:-6}

make_families "$n"

# One family, one job per tool; each stage counted in its own batch.
cat >family.sh <<'J'
#!/bin/sh
set -e
f=$1 run=$2
PROCACHE_BATCH=$run.clustalo $PC clustalo -i fam/$f.fa -o out/$f.afa --force --threads=1
PROCACHE_BATCH=$run.hmmbuild $PC hmmbuild --cpu 1 out/$f.hmm out/$f.afa >/dev/null
PROCACHE_BATCH=$run.hmmsearch $PC hmmsearch --cpu 1 --tblout out/$f.tbl -o out/$f.txt out/$f.hmm db.fa
J
chmod +x family.sh

batch() {
	mkdir -p out
	ls fam | sed 's/\.fa$//' | xargs -P2 -I{} ./family.sh {} "$1"
	report "$1" clustalo hmmbuild hmmsearch
}
batch run1-cold
rm -rf out
batch run2-after-rm-out
batch run3-in-place
batch run4-in-place-again
sed -i '2s/^./W/' fam/f2.fa
batch run5-one-input-changed
echo "hits of family 2 in its search: $(grep -c '^f2_' out/f2.tbl)"

#!/usr/bin/env bash
# examples/pipelines/snakemake.sh [N] — hmm.sh's pipeline as a Snakemake
# workflow (Snakefile), with procache before every command of every rule.
# Snakemake decides by times what to run, procache whether running is
# needed: after rm -rf out Snakemake reruns every rule and procache
# restores each result; --forceall reruns them in place; after one input
# changed, Snakemake reruns that family's rules and procache one job per
# stage.
. "$(dirname "$0")/common.sh"
n=${1:-4}
cp "$here/Snakefile" .
make_families "$n"
mkdir -p out

batch() {
	PROCACHE_RUN=$1 snakemake --cores 2 --quiet -p "${@:2}" >"$1.log" 2>&1 || { cat "$1.log"; exit 1; }
	report "$1" clustalo hmmbuild hmmsearch
}
batch run1-cold
grep -m1 "procache run --mtime=content -- clustalo" run1-cold.log
rm -rf out
batch run2-after-rm-out
batch run3-in-place --forceall
batch run4-in-place-again --forceall
sed -i '2s/^./W/' fam/f2.fa
batch run5-one-input-changed

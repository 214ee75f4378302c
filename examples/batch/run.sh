#!/usr/bin/env bash
# examples/batch/run.sh [N] — a batch workflow like a bioinformatics
# pipeline: N jobs (default 200), one per input file, each wrapped in
# `procache run` under `xargs -P2`. Run 1 executes every job; run 2 skips
# them all; after one input changes, run 3 executes only that job.
set -euo pipefail
procache=${PROCACHE:-procache}
n=${1:-200}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/procache-batch.XXXXXX")
trap 'rm -rf "$work"' EXIT
export PROCACHE_DIR="$work/cache"
cd "$work"
mkdir -p inputs outputs reports
for i in $(seq -w 1 "$n"); do
	awk -v s="$i" 'BEGIN { srand(s); printf(">seq%s\n", s)
		for (l = 0; l < 20; l++) { line = ""
			for (c = 0; c < 60; c++) line = line substr("ACGT", int(rand() * 4) + 1, 1)
			print line } }' >"inputs/s$i.fa"
done
# One job: count the bases of one sequence (a real pipeline would call a tool).
cat >count.sh <<'J'
#!/bin/sh
tr -d '\n>' <"$1" | fold -w1 | sort | uniq -c >"$2"
J
chmod +x count.sh

batch() {
	rm -f reports/*.json
	ls inputs | xargs -P2 -I{} "$procache" run --report reports/{}.json \
		-- ./count.sh inputs/{} outputs/{}.counts
	hits=$(cat reports/*.json | grep -c '"status":[[:space:]]*"hit"' || :)
	misses=$(cat reports/*.json | grep -c '"status":[[:space:]]*"miss"' || :)
	echo "$1: $misses jobs ran, $hits jobs skipped"
}
time batch "run 1 (cold cache)"
time batch "run 2 (nothing changed)"
echo ">seq-changed" >>inputs/s$(printf "%0${#n}d" 7).fa
time batch "run 3 (one input changed)"
test "$misses" = 1

# examples/pipelines/common.sh — what the three pipelines share: a private
# work directory and cache, and the batch view of each stage of each run.
# Sourced by hmm.sh, snakemake.sh and bwa.sh.
set -euo pipefail
procache=${PROCACHE:-procache}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d "${TMPDIR:-/var/tmp}/procache-pipeline.XXXXXX")
trap 'rm -rf "$work"' EXIT
export PROCACHE_DIR="$work/cache"
# The tools are wrapped with --mtime=content: none of them acts on a
# file's time, and each stage reads what the previous one wrote, which a
# hit restores with a fresh time (README, "Times and fresh checkouts").
PC="$procache run --mtime=content --"
export procache PC
cd "$work"

# count BATCH KEY: one number of a batch's summary (hits, misses, ...).
count() {
	"$procache" cache batch --json "$1" 2>/dev/null |
		sed -n "s/^[[:space:]]*\"$2\":[[:space:]]*\([0-9]*\).*/\1/p"
}

# report RUN STAGE...: one line for the run, with each stage's counts
# from its batch RUN.STAGE ("clustalo 1 ran, 3 skipped, 0 uncacheable"),
# then the batch view of the stage that ran last (the default batch).
report() {
	local run=$1 line=$1: sep=""
	shift
	for stage in "$@"; do
		line="$line$sep $stage $(count "$run.$stage" misses) ran, $(count "$run.$stage" hits) skipped, $(count "$run.$stage" uncacheable) uncacheable"
		sep=";"
	done
	echo "$line"
	"$procache" cache batch | sed 's/^/    /'
}

# make_families N: N families of 5 protein sequences each, mutated from
# one random ancestor, and a
# database of all of them and 20 unrelated ones (deterministic).
make_families() {
	mkdir -p fam
	awk -v n="$1" 'BEGIN { srand(7); aa = "ACDEFGHIKLMNPQRSTVWY"
	for (f = 1; f <= n; f++) {
		base = ""; for (i = 0; i < 80; i++) base = base substr(aa, int(rand() * 20) + 1, 1)
		file = sprintf("fam/f%d.fa", f)
		for (s = 1; s <= 5; s++) {
			seq = ""
			for (i = 1; i <= 80; i++) { c = substr(base, i, 1); if (rand() < 0.15) c = substr(aa, int(rand() * 20) + 1, 1); seq = seq c }
			printf(">f%d_s%d\n%s\n", f, s, seq) > file
			printf(">f%d_s%d\n%s\n", f, s, seq) > "db.fa"
		}
		close(file)
	}
	for (r = 1; r <= 20; r++) { seq = ""; for (i = 0; i < 80; i++) seq = seq substr(aa, int(rand() * 20) + 1, 1); printf(">rand%d\n%s\n", r, seq) > "db.fa" } }'
}

#!/usr/bin/env bash
# A per-file test suite in CI (issue 16): 20 pytest files, each run as its
# own job (`procache run -- python3 -m pytest -q tests/test_NN.py`), in two
# CI runs of the same commit: the second run gets new per-run variables
# (GITHUB_RUN_ID, GITHUB_RUN_NUMBER, CI_JOB_ID, BUILD_NUMBER), as a CI
# service gives it, and nothing else changes. Counted with `procache cache
# stats`: how many of the second run's jobs hit, with pytest's cache
# provider (it reads and rewrites .pytest_cache in the tree) and without
# it (-p no:cacheprovider, the remedy --explain names).
#   PROCACHE_BEFORE=path: also measure another procache binary (the one
#   before the change) the same way.
. "$(dirname "$0")/lib.sh"
set -e
py=/usr/bin/python3
$py -c 'import pytest' 2>/dev/null || { echo "## CI rerun"; echo; echo "(python3-pytest missing)"; exit 0; }
n=20
w=$BENCH_SCRATCH/ci
mkdir -p "$w/tests"
cat >"$w/lib.py" <<'EOF'
def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a
EOF
for i in $(seq -w 1 $n); do
	cat >"$w/tests/test_$i.py" <<EOF
import lib

def test_fib_$i():
    assert lib.fib($((10#$i))) >= 0

def test_more_$i():
    assert sum(range($((10#$i)))) == $((10#$i * (10#$i - 1) / 2))
EOF
done
find "$w" -exec touch -d "1 hour ago" {} +
sleep 2.2
cd "$w"

suite() { # PROCACHE RUN_ID [pytest options]
	local pc=$1 id=$2
	shift 2
	for f in tests/test_*.py; do
		GITHUB_RUN_ID=$id GITHUB_RUN_NUMBER=$id CI_JOB_ID=$id BUILD_NUMBER=$id CI=true \
			"$pc" run -- $py -m pytest -q "$@" "$f" </dev/null >/dev/null || return 1
	done
}
counts() { echo "$(bench_pc_stat hits) $(bench_pc_stat misses) $(bench_pc_stat uncacheable)"; "$PROCACHE" cache stats --zero >/dev/null; }
elapsed() { local s e; s=$(date +%s%N); "$@"; e=$(date +%s%N); awk -v d=$((e - s)) 'BEGIN { printf "%.2f", d / 1e9 }'; }

rows=()
measure() { # LABEL PROCACHE [pytest options]
	local label=$1 pc=$2 t h m u
	shift 2
	export PROCACHE_DIR=$BENCH_SCRATCH/cache.$RANDOM
	rm -rf .pytest_cache
	t=$(elapsed suite "$pc" 1001 "$@"); read -r h m u < <(counts)
	rows+=("| $label | 1 (fresh cache) | $h | $m | $u | $t |")
	t=$(elapsed suite "$pc" 1002 "$@"); read -r h m u < <(counts)
	rows+=("| $label | 2 (new run ids) | $h | $m | $u | $t |")
}
if [ -n "${PROCACHE_BEFORE:-}" ]; then
	measure "before, pytest" "$PROCACHE_BEFORE"
	measure "before, pytest -p no:cacheprovider" "$PROCACHE_BEFORE" -p no:cacheprovider
fi
measure "pytest" "$PROCACHE"
measure "pytest -p no:cacheprovider" "$PROCACHE" -p no:cacheprovider

echo "## CI rerun: a per-file pytest suite, $n jobs"
echo
echo "Each test file is one job, \`procache run -- python3 -m pytest -q [-p no:cacheprovider] tests/test_NN.py\`;"
echo "the suite runs twice on the same tree with a fresh cache first, the second"
echo "time with new \`GITHUB_RUN_ID\`, \`GITHUB_RUN_NUMBER\`, \`CI_JOB_ID\` and \`BUILD_NUMBER\`."
echo
echo "| procache, pytest | CI run | hits | misses | uncacheable | s |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "pytest's cache provider reads and rewrites \`.pytest_cache/v/cache/\` in the"
echo "tree on every run, so each job changes what the next one reads; \`--explain\`"
echo "names the file (\"read and written by the job\") and the remedy, \`-p no:cacheprovider\`."

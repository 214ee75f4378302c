#!/usr/bin/env bash
# examples/demo/run.sh [PROCACHE] — what `make demo` runs.
#
# Runs a small job twice with procache: the first run executes it (a miss)
# and remembers what it read and wrote; the second restores the result
# without running it (a hit). Then one input changes and the job runs again.
set -euo pipefail
procache=${1:-procache}
demo=$(mktemp -d "${TMPDIR:-/var/tmp}/procache-demo.XXXXXX")
trap 'rm -rf "$demo"' EXIT
export PROCACHE_DIR="$demo/cache"
cd "$demo" && mkdir -p project/input && cd project
printf 'the quick brown fox\njumps over the lazy dog\n' >input/fox.txt
printf 'to be or not to be\n' >input/hamlet.txt
printf 'a rose is a rose is a rose\n' >input/rose.txt

# The job: count the words of every input into out/, slowly, like a real tool.
job='mkdir -p out
for f in input/*.txt; do
	n=$(wc -w <"$f")
	echo "$n" >"out/$(basename "$f" .txt).count"
done
sleep 1
echo "counted $(ls input | wc -l) files"'

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
field() { sed -n "s/^[[:space:]]*\"$1\":[[:space:]]*\"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" "$2"; }
run() {
	local start end
	start=$(date +%s.%N)
	"$procache" run -v --report report.json -- sh -c "$job"
	end=$(date +%s.%N)
	printf 'procache said: %s, exit %s, %.2f s wall clock\n' \
		"$(field status report.json)" "$(field exit_code report.json)" \
		"$(echo "$end $start" | awk '{ print $1 - $2 }')"
}

say "first run: the job runs in the sandbox (a miss), and is remembered"
run
ls out

say "second run, after deleting out/: nothing runs (a hit), out/ is restored"
rm -rf out
run
ls out && cat out/fox.count

say "an input changes: the job runs again"
echo "one more line here" >>input/rose.txt
"$procache" run -v --explain -- sh -c "$job" 2>&1 | grep -v '^procache: miss' || :
cat out/rose.count
echo
echo "demo done: cache in $PROCACHE_DIR (removed now)"

#!/usr/bin/env bash
# examples/c-project/run.sh — a C project built with make, every compile
# and the link wrapped in `procache run`. A clean rebuild is all hits;
# after editing one file only its compile and the link run.
set -euo pipefail
procache=${PROCACHE:-procache}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/procache-cproj.XXXXXX")
trap 'rm -rf "$work"' EXIT
export PROCACHE_DIR="$work/cache"
cp -r "$(dirname "$0")/src" "$work/src"
cd "$work/src"
# --mtime=content: a compiler and a linker act on their inputs' bytes,
# not their times (README: "when to use --mtime=content"). By default the
# link after a clean rebuild misses: the objects restored by the hits are
# new files, with new mtimes, which the linker is shown.
wrap="$procache run --mtime=content --report last.json --"
build() {
	make -s clean
	make -s CC="$wrap cc" LINK="$wrap cc" REPORTS=1 2>&1
	./hello
}
echo "== build 1: every compile runs"; build
echo "== build 2 (after make clean): every compile is restored"; build
sed -i 's/Hello/Hello again/' greet.c
echo "== build 3: greet.c changed, only its compile and the link run"; build

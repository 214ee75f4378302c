#!/usr/bin/env bash
# tests/fuzz/run.sh SECONDS — build the libFuzzer targets with clang
# (-fsanitize=fuzzer,address,undefined) against the cache/common sources
# they need and run each for SECONDS (default 60) on its corpus. Crashes
# are written to tests/fuzz/crashes/ and make the script exit non-zero.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}
out=$top/build/fuzz
mkdir -p "$out" "$top/tests/fuzz/crashes"
command -v clang >/dev/null || { echo "fuzz: clang is needed (apt-get install clang)" >&2; exit 1; }
libs=$(pkg-config --libs libcjson libxxhash 2>/dev/null || echo "-lcjson -lxxhash")
cflags=$(pkg-config --cflags libcjson 2>/dev/null || echo "-I/usr/include/cjson")

build() { # target sources...
	local t=$1
	shift
	clang -std=c11 -D_GNU_SOURCE -g -O1 -I"$top" $cflags \
		-DPROCACHE_VERSION='"fuzz"' \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o "$out/$t" "$top/tests/fuzz/$t.c" "$@" $libs
}

build fuzz-entry "$top"/cache/entry.c "$top"/cache/strset.c "$top"/common/*.c

# A scratch copy of the corpus: new inputs found stay out of the tree.
work=$out/corpus-entry
mkdir -p "$work"
cp -n "$top"/tests/fuzz/corpus-entry/* "$work"/ 2>/dev/null || :
"$out/fuzz-entry" -max_total_time="$secs" -max_len=65536 \
	-artifact_prefix="$top/tests/fuzz/crashes/" "$work" \
	"$top/tests/fuzz/corpus-entry"
echo "fuzz-entry: no crash in ${secs}s"

#!/usr/bin/env bash
# tests/fuzz/run.sh SECONDS [TARGET...] — build the libFuzzer targets with
# clang (-fsanitize=fuzzer,address,undefined) and run each for SECONDS
# (default 60) on a scratch copy of its seed corpus (tests/fuzz/corpus-*).
# Crashes are written to tests/fuzz/crashes/ and make the script exit
# non-zero. Targets (default: all):
#
#   fuzz-entry    cache entry files and payloads (cache/entrybin.c, entry.c)
#   fuzz-diff     upper directories the job wrote (sandbox/diff.c), against
#                 an independent reading of the table in diff.c (root)
#   fuzz-remote   what a remote cache server answers for an index, an entry
#                 and a blob (cache/remote.c's read path, into a real cache)
#   fuzz-options  'procache run'/'trace' options (runner/options.c), with exit()
#                 wrapped (-Wl,--wrap=exit) so that die() returns here
#
# Objects are kept in build/fuzz/obj and rebuilt only when a source or a
# header is newer, so a second run starts fuzzing at once.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}
shift || :
targets=${*:-fuzz-entry fuzz-diff fuzz-remote fuzz-options}
out=$top/build/fuzz
mkdir -p "$out/obj" "$top/tests/fuzz/crashes"
command -v clang >/dev/null || { echo "fuzz: clang is needed (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
pkgs="libcjson libxxhash libseccomp mount libcap-ng hiredis"
libs=$(pkg-config --libs $pkgs 2>/dev/null || echo "-lcjson -lxxhash -lseccomp -lmount -lcap-ng -lhiredis")
cflags=$(pkg-config --cflags $pkgs 2>/dev/null || echo "-I/usr/include/cjson -I/usr/include/libmount")
san="-fsanitize=address,undefined -fno-sanitize-recover=all"
ccflags="-std=c11 -D_GNU_SOURCE -g -O1 -I$top $cflags -DPROCACHE_VERSION=\"fuzz\""

# obj SRC: the instrumented object of SRC, rebuilt when out of date.
# sandbox/preload/blob.S embeds the fast path's library, and
# sandbox/replay/blob.S the replayer: built by make (never instrumented:
# they run in jobs), then assembled here.
obj() {
	local src=$1 o
	o=$out/obj/$(echo "${src#$top/}" | tr / _).o
	case $src in
	*/preload/blob.S)
		make -s -C "$top" build/sandbox/preload/pcfast.so >&2 &&
			clang -c -DFASTLIB="\"$top/build/sandbox/preload/pcfast.so\"" "$src" -o "$o" &&
			echo "$o"
		return ;;
	*/replay/blob.S)
		make -s -C "$top" build/sandbox/replay/pcreplay >&2 &&
			clang -c -DREPLAYER="\"$top/build/sandbox/replay/pcreplay\"" "$src" -o "$o" &&
			echo "$o"
		return ;;
	esac
	if [ ! -e "$o" ] || [ "$src" -nt "$o" ] ||
	   [ -n "$(find "$top/common" "$top/sandbox" "$top/cache" "$top/runner" \
		   -name '*.h' -newer "$o" -print -quit)" ]; then
		# shellcheck disable=SC2086
		clang $ccflags -fsanitize=fuzzer-no-link $san -c "$src" -o "$o.tmp.$$" &&
			mv "$o.tmp.$$" "$o"
	fi
	echo "$o"
}
export -f obj
export top out ccflags san

# build TARGET LDFLAGS SOURCES...: compiled two at a time.
build() {
	local t=$1 ldflags=$2 objs
	shift 2
	objs=$(printf '%s\n' "$@" | xargs -P2 -I{} bash -c 'obj "$1"' _ {}) || {
		echo "fuzz: cannot compile the sources of $t" >&2
		return 1
	}
	# shellcheck disable=SC2086
	clang $ccflags -fsanitize=fuzzer $san $ldflags -o "$out/$t" \
		"$top/tests/fuzz/$t.c" $objs $libs -lm
}

lib_srcs() { # the library and runner sources (not main.c)
	ls "$top"/common/*.c "$top"/sandbox/*.c "$top"/sandbox/preload/blob.S \
		"$top"/sandbox/replay/blob.S \
		"$top"/cache/*.c "$top"/runner/*.c |
		grep -v '/runner/main\.c$'
}

run() { # TARGET CORPUS [libFuzzer flags...]
	local t=$1 corpus=$2 work
	shift 2
	work=$out/$corpus
	mkdir -p "$work"
	cp -n "$top/tests/fuzz/$corpus"/* "$work"/ 2>/dev/null || :
	"$out/$t" -max_total_time="$secs" -artifact_prefix="$top/tests/fuzz/crashes/$t-" \
		-print_final_stats=1 -timeout=20 "$@" "$work" "$top/tests/fuzz/$corpus" >"$out/$t.log" 2>&1 || {
		tail -n 60 "$out/$t.log" >&2
		echo "$t: CRASH; reproducer in tests/fuzz/crashes/ (run: $out/$t FILE)" >&2
		return 1
	}
	echo "$t: no crash in ${secs}s ($(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log") inputs)"
}

status=0
for t in $targets; do
	case $t in
	fuzz-entry)
		build fuzz-entry "" "$top"/cache/entrybin.c "$top"/cache/entry.c "$top"/cache/key.c "$top"/common/*.c &&
		run fuzz-entry corpus-entry -max_len=65536 || status=1 ;;
	fuzz-diff)
		mkdir -p "$out/scratch"
		build fuzz-diff "" "$top"/sandbox/diff.c "$top"/common/*.c &&
		FUZZ_SCRATCH=$out/scratch run fuzz-diff corpus-diff -max_len=512 || status=1 ;;
	fuzz-remote)
		mkdir -p "$out/scratch"
		build fuzz-remote "" $(lib_srcs) &&
		FUZZ_SCRATCH=$out/scratch run fuzz-remote corpus-remote -max_len=8192 || status=1 ;;
	fuzz-options)
		build fuzz-options "-Wl,--wrap=exit" $(lib_srcs) &&
		run fuzz-options corpus-options -max_len=4096 -close_fd_mask=3 || status=1 ;;
	*)
		echo "fuzz: unknown target '$t'" >&2
		status=1 ;;
	esac
done
exit $status

#!/usr/bin/env bash
test_description='a short fixed-time run of every libFuzzer target (tests/fuzz/run.sh)'
. "$(dirname "$0")/../lib.sh"

# Seconds per target: FUZZ_SECONDS, else 10 (make fuzz runs them longer).
SECS=${FUZZ_SECONDS:-10}
RT=/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a

# clang is in tools/deps.sh; libFuzzer's runtime has no command to look
# for there, so it is installed here when missing (as root).
test_prereq_LIBFUZZER() {
	command -v clang >/dev/null || return 1
	[ -e "$RT" ] && return 0
	[ "$(id -u)" = 0 ] || return 1
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q libclang-rt-14-dev >/dev/null 2>&1 ||
		{ apt-get update -q >/dev/null 2>&1 &&
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -q libclang-rt-14-dev >/dev/null 2>&1; }
	[ -e "$RT" ]
}

for t in fuzz-entry fuzz-diff fuzz-remote fuzz-options; do
	test_expect_success LIBFUZZER "$t: ${SECS}s of fuzzing, no crash, leak or hang" "
		{ \"\$TOP/tests/fuzz/run.sh\" $SECS $t >out 2>&1; rc=\$?; } &&
		cat out &&
		test \$rc = 0 && grep -q '^$t: no crash in ' out
	"
done

test_done

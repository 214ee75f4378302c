#!/usr/bin/env bash
test_description='hermeticity: a write-side call on an immutable or append-only host object (chattr +i, +a) makes the run uncacheable'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-hermetic.sh"
HOPTS=--mtime=content

# The flags need CAP_LINUX_IMMUTABLE and a file system that has them
# (ext4, xfs, btrfs; not tmpfs, where the trash directory may be): the
# cases skip, saying so, without them.
test_prereq_CHATTR() {
	local f=$TEST_ROOT/chattr-probe
	: >"$f" && chattr +i "$f" 2>/dev/null && chattr -i "$f" && rm -f "$f"
}

# A failure the flag caused was stored and replayed after `chattr -i`
# (found in review): no precondition holds the flags, so such a run is
# not stored.
test_expect_success CHATTR 'O_TRUNC write of an immutable file: uncacheable; after chattr -i: miss' '
	hstart && echo a >out && chattr +i out &&
	test_when_finished "chattr -i \"$W/out\"" &&
	hrun uncacheable -- sh -c "echo x >out" &&
	test "$rc" = 2 && hreason_has "is immutable on the host (chattr +i)" &&
	chattr -i out &&
	hmiss -- sh -c "echo x >out" &&
	test "$rc" = 0 && echo x >expect && test_cmp expect out
'

# (an append succeeds in the sandbox, then cannot be applied: a loud
# error, no false hit; a write at offset 0 fails in the job)
test_expect_success CHATTR 'O_WRONLY without O_APPEND on an append-only file: uncacheable; after chattr -a: miss' '
	hstart && echo a >log && chattr +a log &&
	test_when_finished "chattr -a \"$W/log\"" &&
	hrun uncacheable -- "$HELPERS/he-open" wronly log AB &&
	test "$rc" = 1 && hreason_has "is append-only on the host (chattr +a)" &&
	chattr -a log &&
	hmiss -- "$HELPERS/he-open" wronly log AB &&
	test "$rc" = 0 && printf AB >expect && test_cmp expect log
'

test_expect_success CHATTR 'a file created in an immutable directory: uncacheable' '
	hstart && mkdir d && chattr +i d &&
	test_when_finished "chattr -i \"$W/d\"" &&
	hrun uncacheable -- sh -c "echo x >d/new" &&
	hreason_has "d. is immutable" &&
	chattr -i d &&
	hmiss -- sh -c "echo x >d/new" && test_path_is_file d/new
'

test_expect_success CHATTR 'mkdir in an immutable directory: uncacheable' '
	hstart && mkdir d && chattr +i d &&
	test_when_finished "chattr -i \"$W/d\"" &&
	hrun uncacheable -- mkdir d/sub &&
	hreason_has "d. is immutable"
'

test_expect_success CHATTR 'rm of an immutable file, and of a file in an immutable directory: uncacheable' '
	hstart && echo a >f && mkdir d && echo b >d/g && chattr +i f d &&
	test_when_finished "chattr -i \"$W/f\" \"$W/d\"" &&
	hrun uncacheable -- rm -f f &&
	hreason_has "f. is immutable" &&
	hrun uncacheable -- rm -f d/g &&
	hreason_has "d. is immutable" &&
	chattr -i f d &&
	hmiss -- rm -f f d/g && test_path_is_missing f
'

test_expect_success CHATTR 'chmod, touch -d, mv and ln of an immutable file: uncacheable' '
	hstart && echo a >f && chattr +i f &&
	test_when_finished "chattr -i \"$W/f\"" &&
	hrun uncacheable -- chmod 600 f &&
	hreason_has "f. is immutable" &&
	hrun uncacheable -- touch -d @1000000000 f &&
	hreason_has "f. is immutable" &&
	hrun uncacheable -- mv f g &&
	hreason_has "f. is immutable" &&
	hrun uncacheable -- ln f g &&
	hreason_has "f. is immutable"
'

test_expect_success CHATTR 'a read of an immutable file is no write: stored, and a hit' '
	hstart && echo a >f && chattr +i f &&
	test_when_finished "chattr -i \"$W/f\"" &&
	hmiss -- cat f &&
	hrun hit -- cat f && echo a >expect && test_cmp expect "$TEST_DIR/stdout"
'

test_done

#!/usr/bin/env bash
test_description='hermeticity: a program that is neither a native ELF binary nor a #! script (a binfmt_misc handler runs it, or none) makes the run uncacheable'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-hermetic.sh"

# A binfmt_misc handler is registered in a private instance only: since
# Linux 6.7 each user namespace may mount its own, which its descendants
# use. The case makes one (unshare -Urm, as root in it), registers the
# handler there, and runs procache rootless below it (a second user
# namespace mapping a non-root uid): nothing is registered on the host,
# and the instance goes with the namespaces. Skipped, saying so, where
# binfmt_misc cannot be mounted in a user namespace (an older kernel).
test_prereq_BINFMT_USERNS() {
	unshare -Urm --propagation private sh -c \
		'mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc &&
		 unshare -U --map-user=1000 --map-group=1000 true' 2>/dev/null
}

# The interpreter the handler runs: prints $1.
mkinterp() {
	printf "#include <stdio.h>\nint main(void) { puts(\"%s\"); return 0; }\n" "$1" >interp.c &&
	cc -o interp interp.c
}

# in_binfmt_ns SCRIPT: SCRIPT run by bash as a non-root user below a user
# namespace whose own binfmt_misc has ":rv2:M::#RV2FMT::$W/interp:".
in_binfmt_ns() {
	unshare -Urm --propagation private bash -c '
		mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc &&
		echo ":rv2:M::#RV2FMT::$1/interp:" >/proc/sys/fs/binfmt_misc/register &&
		unshare -U --map-user=1000 --map-group=1000 bash -c "$2"' - "$W" "$1"
}

# The false hit (found in review): the entry stored replayed v1 after
# the interpreter was rebuilt to print v2.
test_expect_success BINFMT_USERNS 'a file run by a binfmt_misc handler: uncacheable; the interpreter rebuilt: its output' '
	hstart && mkinterp v1 && printf "#RV2FMT\n" >prog && chmod +x prog &&
	export W PROCACHE TEST_DIR &&
	in_binfmt_ns "cd \"\$W\" && \"\$PROCACHE\" run --report \"\$TEST_DIR/r1.json\" -- sh -c ./prog >\"\$TEST_DIR/o1\"" &&
	echo v1 >expect && test_cmp expect "$TEST_DIR/o1" &&
	mkinterp v2 &&
	in_binfmt_ns "cd \"\$W\" && \"\$PROCACHE\" run --report \"\$TEST_DIR/r2.json\" -- sh -c ./prog >\"\$TEST_DIR/o2\"" &&
	echo v2 >expect && test_cmp expect "$TEST_DIR/o2" &&
	test "$(hstatus "$TEST_DIR/r1.json")" = uncacheable &&
	grep -q "through a binfmt_misc handler" "$TEST_DIR/r1.json"
'

# A 64-bit ELF header of another architecture (aarch64): binfmt_elf
# refuses it, so only a handler (qemu-user) runs it; here there is none.
test_expect_success 'a foreign-architecture ELF binary executed: uncacheable' '
	hstart &&
	{ printf "\177ELF\002\001\001\000\000\000\000\000\000\000\000\000" &&
	  printf "\002\000\267\000\001\000\000\000" && head -c 40 /dev/zero; } >foreign &&
	chmod +x foreign &&
	hrun uncacheable -- sh -c "./foreign; true" &&
	hreason_has "foreign. through a binfmt_misc handler"
'

# Text without #! is a script: execve() fails with ENOEXEC and the shell
# runs it itself, unless a handler procache can see in
# /proc/sys/fs/binfmt_misc takes it (the first case); binary content that
# is no native ELF taints whatever procache can see (qemu-user's handlers
# may be registered where it cannot).
test_expect_success 'an executable script without #! run by a shell: stored and hit; a binary one: uncacheable' '
	hstart && printf "echo plain\n" >plain && chmod +x plain &&
	hmiss -- sh -c ./plain &&
	hstdout_is plain &&
	hhit -- sh -c ./plain &&
	printf "\001\002echo x\n" >bin && chmod +x bin &&
	hrun uncacheable -- sh -c "./bin; true" &&
	hreason_has "bin. through a binfmt_misc handler"
'

test_expect_success 'a file without an execute bit (EACCES before any handler): stored' '
	hstart && printf "echo plain\n" >plain && chmod 644 plain &&
	hmiss -- sh -c "./plain; echo \$?" &&
	hstdout_is 126 &&
	hhit -- sh -c "./plain; echo \$?"
'

# A review found it: whether a handler takes a text script is the host's
# configuration; the registrations procache sees are a host fact.
test_expect_success BINFMT_USERNS 'a text script without #! stored with no handler registered: a handler registered since makes it miss' '
	hstart && mkinterp HANDLER && printf "#RV4FMT\necho plain-shell\n" >prog4 && chmod +x prog4 &&
	export W PROCACHE TEST_DIR &&
	REG=":rv4:M::#RV4FMT::$W/interp:" &&
	export REG &&
	run_ns() {
		unshare -Urm --propagation private bash -c '"'"'
			mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc &&
			if [ "$2" = reg ]; then echo "$REG" >/proc/sys/fs/binfmt_misc/register; fi &&
			unshare -U --map-user=1000 --map-group=1000 bash -c "cd \"\$W\" && \"\$PROCACHE\" run --report \"\$TEST_DIR/$1.json\" -- sh -c ./prog4 >\"\$TEST_DIR/$1.out\""'"'"' - "$1" "$2"
	} &&
	run_ns b1 none && run_ns b2 none &&
	test "$(hstatus "$TEST_DIR/b1.json")" = miss &&
	test "$(hstatus "$TEST_DIR/b2.json")" = hit &&
	echo plain-shell >expect && test_cmp expect "$TEST_DIR/b2.out" &&
	run_ns b3 reg &&
	echo HANDLER >expect && test_cmp expect "$TEST_DIR/b3.out" &&
	test "$(hstatus "$TEST_DIR/b3.json")" = uncacheable
'

test_done

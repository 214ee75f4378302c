#!/usr/bin/env bash
test_description='hermeticity: executables, shared libraries, interpreters'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-hermetic.sh"

# mkprog FILE VALUE: a dynamically linked program printing VALUE.
mkprog() {
	printf "#include <stdio.h>\nint main(void) { puts(\"%s\"); return 0; }\n" "$2" >"$1.c" &&
	cc -O1 -o "$1" "$1.c" && rm "$1.c"
}

test_expect_success 'an executable binary replaced (same size): miss' '
	hstart && mkprog prog v1 && mkprog prog2 v2 &&
	test "$(stat -c %s prog)" = "$(stat -c %s prog2)" &&
	hmiss -- ./prog &&
	hhit -- ./prog &&
	cp prog2 prog &&
	hmiss -- ./prog &&
	hstdout_is v2
'

test_expect_success 'a shared library replaced: miss' '
	hstart && mkdir lib &&
	echo "int val(void) { return 1; }" >v.c && cc -shared -fPIC -o lib/libval.so v.c &&
	printf "#include <stdio.h>\nint val(void);\nint main(void) { printf(\"%%d\\\\n\", val()); return 0; }\n" >main.c &&
	cc -o main main.c -Llib -lval -Wl,-rpath,"$W/lib" &&
	hmiss -- ./main &&
	hhit -- ./main &&
	echo "int val(void) { return 2; }" >v.c && cc -shared -fPIC -o lib/libval.so v.c &&
	hmiss -- ./main &&
	hstdout_is 2
'

test_expect_success 'a #! interpreter (a copy we change) replaced: miss' '
	hstart && cp /bin/cat interp &&
	printf "#!$W/interp\nline1\nline2\n" >script && chmod +x script &&
	hmiss -- ./script &&
	hhit -- ./script &&
	cp /usr/bin/tail interp &&
	hmiss -- ./script &&
	test_cmp script "$TEST_DIR/stdout"
'

test_expect_success 'a #! interpreter that is itself a script, its interpreter replaced: miss' '
	hstart && cp /bin/dash sh1 &&
	printf "#!$W/sh1\necho inner-v1 \"\$@\"\n" >interp && chmod +x interp &&
	printf "#!$W/interp\n" >script && chmod +x script &&
	hmiss -- ./script &&
	hhit -- ./script &&
	cp /bin/bash sh1 &&
	hmiss -- ./script
'

test_expect_success 'a #! line pointing to an interpreter that appears: miss' '
	hstart && printf "#!$W/interp\n" >script && chmod +x script &&
	hrun uncacheable -- ./script &&
	test "$rc" = 127 &&
	cp /bin/echo interp &&
	hmiss -- ./script
'

test_expect_success 'the ELF interpreter (PT_INTERP, a copy) changed: miss' '
	hstart && cp "$(readelf -l /bin/true | sed -n "s/.*interpreter: \(.*\)]/\1/p")" ld.so &&
	printf "int main(void) { return 0; }\n" >p.c &&
	cc -o prog p.c -Wl,--dynamic-linker="$W/ld.so" &&
	hmiss -- ./prog &&
	hhit -- ./prog &&
	printf x >>ld.so &&
	hmiss -- ./prog
'

test_expect_success 'a statically linked binary: unchanged hit, replaced miss, its input changed miss' '
	hstart &&
	cc -static -O1 -o scat "$TOP/tests/helpers/he-cat.c" &&
	file scat | grep -q "statically linked" &&
	echo in1 >in &&
	hmiss -- ./scat in &&
	hhit -- ./scat in &&
	echo in2 >in &&
	hmiss -- ./scat in &&
	hstdout_is in2 &&
	printf "int main(void) { return 3; }\n" >other.c && cc -static -o scat other.c &&
	hmiss -- ./scat in &&
	test "$rc" = 3
'

test_expect_success 'a script run by its interpreter (sh script) edited: miss' '
	hstart && echo "echo v1" >job.sh &&
	hmiss -- sh job.sh &&
	echo "echo v2" >job.sh &&
	hmiss -- sh job.sh &&
	hstdout_is v2
'

test_expect_success 'a program found through env on PATH (#!/usr/bin/env) appears earlier: miss' '
	hstart && mkdir p1 p2 &&
	printf "#!/bin/sh\necho p2 \"\$@\"\n" >p2/myint && chmod +x p2/myint &&
	printf "#!/usr/bin/env myint\n" >script && chmod +x script &&
	P="PATH=$W/p1:$W/p2:/usr/bin:/bin" &&
	hmiss --env-set "$P" -- ./script &&
	printf "#!/bin/sh\necho p1 \"\$@\"\n" >p1/myint && chmod +x p1/myint &&
	hmiss --env-set "$P" -- ./script &&
	hstdout_is "p1 ./script"
'

test_done

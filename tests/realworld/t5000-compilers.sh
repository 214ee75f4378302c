#!/usr/bin/env bash
test_description='real world: compilers and build tools (gcc, clang, gfortran, make, cmake, ninja, rustc, cargo) hit on rerun with an exact replay'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-realworld.sh"

# Rust: Debian's rustc and cargo (/usr/bin: not a rustup shim, which needs
# its own toolchain directory in \$HOME).
# Compilers stat their inputs, whose times are observations: a fresh
# copy keeps them (cp -a), so the rerun is a hit.
test_expect_success 'gcc: compile and link a C program, run it' '
	rw_need gcc &&
	rw_case gcc "printf \"#include <stdio.h>\nint main(void){puts(\\\"hi\\\");return 0;}\n\" >a.c" \
		"echo \"int x;\" >>a.c" \
		"gcc -O2 -o a a.c && ./a"
'

test_expect_success 'clang: compile to an object, then link' '
	rw_need clang &&
	rw_case clang "printf \"int f(int x){return x*2;}\nint main(void){return f(0);}\n\" >m.c" \
		"echo \"int y;\" >>m.c" \
		"clang -c -o m.o m.c && clang -o m m.o && ./m && echo ok"
'

test_expect_success 'gfortran: a Fortran program' '
	rw_need gfortran &&
	rw_case gfortran "printf \"program p\n  print *, 6*7\nend program p\n\" >p.f90" \
		"sed -i s/7/8/ p.f90" \
		"gfortran -o p p.f90 && ./p"
'

test_expect_success 'make: a two-file C project' '
	rw_need make gcc &&
	rw_case make "printf \"int g(void){return 1;}\n\" >g.c &&
		printf \"int g(void);\nint main(void){return g()-1;}\n\" >main.c &&
		printf \"prog: main.o g.o\n\tgcc -o \\\$@ main.o g.o\n%%.o: %%.c\n\tgcc -c -o \\\$@ \\\$<\n\" >Makefile" \
		"echo \"int z;\" >>g.c" \
		"make && ./prog && echo built"
'

test_expect_success 'cmake + ninja: configure and build' '
	rw_need cmake ninja gcc &&
	rw_case cmake "mkdir src &&
		printf \"cmake_minimum_required(VERSION 3.10)\nproject(h C)\nadd_executable(h h.c)\n\" >src/CMakeLists.txt &&
		printf \"int main(void){return 0;}\n\" >src/h.c" \
		"echo \"int w;\" >>src/h.c" \
		"cmake -S src -B build -G Ninja >/dev/null && cmake --build build && ./build/h && echo ok"
'

# The GNU build system as a user of a release tarball meets it: autoreconf
# makes configure (outside procache, like the tarball's author), then
# ./configure runs its hundreds of probes (conftest files, compilers run
# and removed), make builds, make check runs the test driver.
autotools_setup() {
	cat >configure.ac <<-\EOF &&
	AC_INIT([hello], [1.0])
	AM_INIT_AUTOMAKE([foreign])
	AC_PROG_CC
	AC_CHECK_HEADERS([stdlib.h unistd.h sys/stat.h])
	AC_CHECK_FUNCS([strdup getline])
	AC_CHECK_SIZEOF([long])
	AC_CONFIG_HEADERS([config.h])
	AC_CONFIG_FILES([Makefile])
	AC_OUTPUT
	EOF
	printf "bin_PROGRAMS = hello\nhello_SOURCES = hello.c\nTESTS = hello\n" >Makefile.am &&
	printf "#include \"config.h\"\n#include <stdio.h>\nint main(void) { printf(\"hello %%d\\\\n\", SIZEOF_LONG); return 0; }\n" >hello.c &&
	autoreconf -i >/dev/null 2>&1
}
test_expect_success 'autotools: ./configure, make, make check' '
	rw_need autoreconf automake make gcc &&
	rw_case autotools autotools_setup "echo \"int z;\" >>hello.c" \
		"./configure -q && make -s && make -s check >/dev/null && ./hello"
'

test_expect_success 'ninja: a hand-written build.ninja' '
	rw_need ninja &&
	rw_case ninja "printf \"rule cat\n  command = cat \\\$in > \\\$out\nbuild out.txt: cat a.txt b.txt\n\" >build.ninja &&
		echo a >a.txt && echo b >b.txt" \
		"echo c >b.txt" \
		"ninja && cat out.txt"
'

test_expect_success 'rustc: compile and run a Rust program' '
	rw_need /usr/bin/rustc &&
	rw_case rustc "printf \"fn main() { println!(\\\"{}\\\", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0) > 0); }\n\" >m.rs" \
		"echo \"// edit\" >>m.rs" \
		"/usr/bin/rustc -O m.rs && ./m"
'

test_expect_success 'cargo build --offline: a crate with no dependencies' '
	rw_need /usr/bin/cargo &&
	rw_case cargo "mkdir -p src && printf \"[package]\nname = \\\"c\\\"\nversion = \\\"0.1.0\\\"\nedition = \\\"2021\\\"\n\n[dependencies]\n\" >Cargo.toml &&
		printf \"fn main() { println!(\\\"cargo ok\\\"); }\n\" >src/main.rs" \
		"echo \"// edit\" >>src/main.rs" \
		"RUSTC=/usr/bin/rustc CARGO_HOME=\$PWD/.cargo-home /usr/bin/cargo build --offline -q && ./target/debug/c"
'

test_done

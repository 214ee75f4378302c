#!/usr/bin/env bash
test_description='real world: more languages and build tools (Go, PHP, Lua, gawk, R, OCaml, Erlang, Elixir, Meson, SCons, Guile, Vala, Free Pascal, GHC, NumPy and pandas, unittest with multiprocessing, venv, cargo test) hit on rerun with an exact replay'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-realworld.sh"

# Go keeps its build cache in $GOCACHE, read and written by every build:
# in the tree it is state that every miss rewrites; the job's private
# /tmp keeps it out of the result (GOPATH too: there are no dependencies,
# GOPROXY=off keeps it offline). -buildvcs=false: inside a git checkout
# (this test's trash directory is) go build stamps the repository's state
# into the program (it runs git status, which also refreshes git's
# index): any change in the repository is a change of the job's inputs.
# go build -o stats its old output and
# lists and lstats its directory: declared, the output's listing is the
# job's (DESIGN §2), but its creation by a fresh run moved the
# directory's mtime, which go saw: the first rerun in place misses once.
GO_ENV='GOCACHE=/tmp/go-cache GOPATH=/tmp/go-path GOPROXY=off GOFLAGS=-buildvcs=false GOTOOLCHAIN=local'
go_setup() {
	mkdir -p greet &&
	printf 'module example.com/hello\n\ngo 1.19\n' >go.mod &&
	cat >main.go <<-\EOF &&
	package main

	import (
		"fmt"

		"example.com/hello/greet"
	)

	func main() { fmt.Println(greet.Hello("world")) }
	EOF
	cat >greet/greet.go <<-\EOF &&
	package greet

	func Hello(s string) string { return "hello " + s }
	EOF
	cat >greet/greet_test.go <<-\EOF
	package greet

	import "testing"

	func TestHello(t *testing.T) {
		if Hello("x")[:5] != "hello" {
			t.Fatal(Hello("x"))
		}
	}
	EOF
}
test_expect_success 'go build: a module with two packages, no dependencies' '
	rw_need go &&
	opts="--declare-output hello" &&
	RW_OPTS=$opts rw_case go-build go_setup "sed -i s/world/earth/ main.go" \
		"env $GO_ENV go build -o hello . && ./hello" &&
	grep -q "hello earth" "$R.3.out" &&
	RW_OPTS=$opts rw_inplace 2
'

test_expect_success 'go test ./...' '
	rw_need go &&
	rw_case go-test go_setup "sed -i s/hello/bye/ greet/greet.go" \
		"env $GO_ENV go test ./... 2>&1 | sed \"s/[0-9.]*s\\\$//\"" &&
	grep -q "^ok" "$R.1.out" && grep -q "^FAIL" "$R.3.out"
'

test_expect_success 'go run, go vet, gofmt -l' '
	rw_need go gofmt &&
	rw_case go-run go_setup "sed -i s/world/earth/ main.go" \
		"env $GO_ENV go vet ./... && gofmt -l . && env $GO_ENV go run ."
'

test_expect_success 'php: a script, and php -l' '
	rw_need php &&
	rw_case php "printf \"<?php\n\\\$l = file(\\\"in.txt\\\", FILE_IGNORE_NEW_LINES);\nsort(\\\$l);\nfile_put_contents(\\\"out.txt\\\", implode(\\\",\\\", \\\$l));\necho strtoupper(implode(\\\" \\\", \\\$l)), \\\"\\\\n\\\";\n\" >s.php && printf \"b\na\n\" >in.txt" \
		"echo c >>in.txt" \
		"php s.php && cat out.txt && php -l s.php"
'

test_expect_success 'lua5.4: a script' '
	rw_need lua5.4 &&
	rw_case lua "printf \"local t = {}\nfor l in io.lines(\\\"in.txt\\\") do t[#t+1] = l:upper() end\ntable.sort(t)\nprint(table.concat(t, \\\" \\\"))\nlocal f = io.open(\\\"out.txt\\\", \\\"w\\\") f:write(#t) f:close()\n\" >s.lua && printf \"b\na\n\" >in.txt" \
		"echo c >>in.txt" \
		"lua5.4 s.lua && cat out.txt"
'

test_expect_success 'gawk: a program writing a file' '
	rw_need gawk &&
	rw_case gawk "printf \"b 2\na 1\n\" >in.txt" "echo \"c 3\" >>in.txt" \
		"gawk \"{ s += \\\$2; print toupper(\\\$1) } END { print s >\\\"sum.txt\\\" }\" in.txt && cat sum.txt"
'

test_expect_success 'Rscript: a script writing a CSV' '
	rw_need Rscript &&
	rw_case rscript "printf \"d <- read.csv(\\\"in.csv\\\")\nd\\\$z <- d\\\$x * 2\nwrite.csv(d, \\\"out.csv\\\", row.names = FALSE)\nprint(summary(d\\\$z))\n\" >s.R && printf \"x,y\n1,a\n2,b\n\" >in.csv" \
		"echo 3,c >>in.csv" \
		"Rscript s.R && cat out.csv"
'

test_expect_success 'Rscript -e' '
	rw_need Rscript &&
	rw_case rscript-e "echo 1 >input" "echo 2 >input" \
		"cat input; Rscript -e \"cat(sum(1:10), R.version\\\$major, \\\"\\\\n\\\")\""
'

# ocamlopt stats the objects it is about to write (as gcc -c does) and
# lists the directory: declared, a rerun in place hits.
ocaml_setup() {
	echo 'let greet s = "hello " ^ s' >greet.ml &&
	echo 'let () = print_endline (Greet.greet "world")' >main.ml
}
test_expect_success 'ocamlfind ocamlopt: two modules' '
	rw_need ocamlfind ocamlopt &&
	opts= &&
	for f in greet.cmi greet.cmx greet.o main.cmi main.cmx main.o hello; do
		opts="$opts --declare-output $f" || return 1
	done &&
	RW_OPTS=$opts rw_case ocaml ocaml_setup "sed -i s/hello/bye/ greet.ml" \
		"ocamlfind ocamlopt -package str -linkpkg greet.ml main.ml -o hello && ./hello" &&
	RW_OPTS=$opts rw_inplace 1
'

# erl without -sname: no epmd, no cookie.
test_expect_success 'erlc, then erl -noshell' '
	rw_need erlc erl &&
	rw_case erlc "printf -- \"-module(hello).\n-export([main/0]).\nmain() -> io:format(\\\"hello~n\\\").\n\" >hello.erl" \
		"sed -i s/hello~n/bye~n/ hello.erl" \
		"erlc hello.erl && erl -noshell -s hello main -s init stop"
'

test_expect_success 'elixirc, then elixir' '
	rw_need elixirc elixir &&
	rw_case elixirc "printf \"defmodule Hello do\n  def hi, do: IO.puts(\\\"hello\\\")\nend\n\" >hello.ex" \
		"sed -i s/hello/bye/ hello.ex" \
		"elixirc hello.ex && elixir -pa . -e Hello.hi"
'

# mix test rewrites _build/test/lib/NAME/.mix/.mix_test_failures on
# every run (same bytes, a new mtime) and stats it first: declared, the
# rerun in place misses once (_build is new) and then hits. --seed 0:
# ExUnit orders tests at random otherwise.
mix_setup() {
	mkdir -p lib test &&
	cat >mix.exs <<-\EOF &&
	defmodule Hello.MixProject do
	  use Mix.Project
	  def project, do: [app: :hello, version: "0.1.0", deps: []]
	end
	EOF
	cat >lib/hello.ex <<-\EOF &&
	defmodule Hello do
	  def hello, do: :world
	end
	EOF
	echo "ExUnit.start()" >test/test_helper.exs &&
	cat >test/hello_test.exs <<-\EOF
	defmodule HelloTest do
	  use ExUnit.Case
	  test "greets the world", do: assert(Hello.hello() == :world)
	end
	EOF
}
test_expect_success 'mix test: a fresh project, offline' '
	rw_need mix &&
	opts="--declare-output _build/test/lib/hello/.mix/.mix_test_failures" &&
	RW_OPTS=$opts rw_case mix-test mix_setup "sed -i s/:world/:earth/ lib/hello.ex" \
		"MIX_HOME=/tmp/mix HEX_OFFLINE=1 mix test --seed 0 2>&1 | sed \"s/ in [0-9.]* seconds.*//; s/([0-9.]*s async.*)//\"" &&
	grep -q "1 failure" "$R.3.out" &&
	RW_OPTS=$opts rw_inplace 2
'

# meson writes absolute paths into its build directory: configured by
# the job, not copied. It uses ccache when it finds one (its cache in
# $HOME is outside the output roots): CCACHE_DISABLE. In place, later
# runs only compile and test: the first sees build/ and misses, then
# hits (ninja's .ninja_log is rewritten only when ninja runs something).
meson_setup() {
	cat >meson.build <<-\EOF &&
	project('hello', 'c')
	lib = static_library('greet', 'greet.c')
	exe = executable('hello', 'main.c', link_with : lib)
	test('runs', exe)
	EOF
	printf '#include "greet.h"\nconst char *greet(void) { return "hello"; }\n' >greet.c &&
	printf 'const char *greet(void);\n' >greet.h &&
	printf '#include <stdio.h>\n#include "greet.h"\nint main(void) { puts(greet()); return 0; }\n' >main.c
}
test_expect_success 'meson setup, compile, test (ninja)' '
	rw_need meson ninja cc &&
	rw_case meson meson_setup "sed -i s/hello/bye/ greet.c" \
		"export CCACHE_DISABLE=1; { test -d build || meson setup build >/dev/null; } && meson compile -C build >/dev/null && build/hello && meson test -C build 2>&1 | grep -E \"^(Ok|Fail):\"" &&
	rw_inplace 2
'

# SCons rewrites .sconsign.dblite on every run, the same bytes with a new
# mtime: in place, every run would miss. Its default decider compares
# contents, not times, so --mtime=content is safe for it: a rerun in
# place then hits once the signatures settle.
scons_setup() {
	echo 'Program("hello", ["main.c", "greet.c"])' >SConstruct &&
	printf 'const char *greet(void) { return "hello"; }\n' >greet.c &&
	printf '#include <stdio.h>\nconst char *greet(void);\nint main(void) { puts(greet()); return 0; }\n' >main.c
}
test_expect_success 'scons: a C program (--mtime=content)' '
	rw_need scons cc &&
	opts=--mtime=content &&
	RW_OPTS=$opts rw_case scons scons_setup "sed -i s/hello/bye/ greet.c" \
		"CCACHE_DISABLE=1 scons -Q && ./hello" &&
	RW_OPTS=$opts rw_inplace 3
'

# Without --no-auto-compile guile writes compiled files in $HOME/.cache.
test_expect_success 'guile: a script' '
	rw_need guile &&
	rw_case guile "printf \"(use-modules (ice-9 rdelim))\n(define l (call-with-input-file \\\"in.txt\\\" read-line))\n(display (string-upcase l)) (newline)\n(call-with-output-file \\\"out.txt\\\" (lambda (p) (write (string-length l) p)))\n\" >s.scm && echo abc >in.txt" \
		"echo abcd >in.txt" \
		"guile --no-auto-compile s.scm && cat out.txt"
'

vala_setup() {
	cat >hello.vala <<-\EOF
	void main () {
	    stdout.printf ("hello\n");
	}
	EOF
}
test_expect_success 'valac: a Vala program' '
	rw_need valac cc &&
	rw_case valac vala_setup "sed -i s/hello/bye/ hello.vala" \
		"CCACHE_DISABLE=1 valac hello.vala && ./hello" &&
	grep -q "^hello\$" "$R.1.out" && grep -q "^bye\$" "$R.3.out"
'

# fpc lists the directory and stats its outputs: declared, a rerun in
# place hits.
fpc_setup() {
	cat >hello.pas <<-\EOF
	program hello;
	begin
	  writeln('hi');
	end.
	EOF
}
test_expect_success 'fpc: a Pascal program' '
	rw_need fpc &&
	RW_OPTS="--declare-output hello --declare-output hello.o" rw_case fpc fpc_setup \
		"sed -i s/hi/bye/ hello.pas" \
		"fpc -v0 hello.pas && ./hello" &&
	RW_OPTS="--declare-output hello --declare-output hello.o" rw_inplace 1
'

# Debian's python3 (a pyenv shim may come first on PATH).
numpy_present() {
	/usr/bin/python3 -c "import numpy, pandas" 2>/dev/null || {
		say "# skip: python3-numpy or python3-pandas not installed (make deps)"
		return 1
	}
}
test_expect_success 'python3: numpy and pandas, a CSV' '
	numpy_present || return 0
	rw_case numpy "printf \"import numpy as np, pandas as pd\nd = pd.read_csv(\\\"in.csv\\\")\nd[\\\"z\\\"] = np.sqrt(d.x)\nd.to_csv(\\\"out.csv\\\", index=False)\nprint(d.describe().to_string())\n\" >s.py && printf \"x,y\n1,a\n4,b\n\" >in.csv" \
		"echo 9,c >>in.csv" \
		"/usr/bin/python3 s.py && cat out.csv"
'

mp_setup() {
	printf 'def sq(x):\n    return x * x\n' >calc.py &&
	cat >test_calc.py <<-\EOF
	import multiprocessing, unittest
	from calc import sq

	class T(unittest.TestCase):
	    def test_pool(self):
	        with multiprocessing.Pool(2) as p:
	            self.assertEqual(p.map(sq, range(5)), [0, 1, 4, 9, 16])
	    def test_spawn(self):
	        ctx = multiprocessing.get_context("spawn")
	        with ctx.Pool(2) as p:
	            self.assertEqual(sorted(p.map(sq, [3, 4])), [9, 16])
	EOF
}
test_expect_success 'python3 -m unittest: tests with multiprocessing pools' '
	rw_case unittest mp_setup "sed -i \"s/x \\* x/x + x/\" calc.py" \
		"/usr/bin/python3 -m unittest -v 2>&1 | sed \"s/ in [0-9.]*s\\\$//\"" &&
	grep -q "^OK" "$R.1.out" && grep -q "^FAILED" "$R.3.out"
'

test_expect_success 'python3 -m venv, then a script in it' '
	rw_case venv "printf \"import sys\nprint(sys.prefix != sys.base_prefix)\n\" >s.py" \
		"echo \"print(2)\" >>s.py" \
		"/usr/bin/python3 -m venv --without-pip v && v/bin/python s.py"
'

test_expect_success 'cargo test --offline: a library with a unit test' '
	rw_need /usr/bin/cargo &&
	rw_case cargo-test "mkdir -p src && printf \"[package]\nname = \\\"c\\\"\nversion = \\\"0.1.0\\\"\nedition = \\\"2021\\\"\n\n[dependencies]\n\" >Cargo.toml &&
		printf \"pub fn add(a: i32, b: i32) -> i32 { a + b }\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn adds() { assert_eq!(super::add(1, 2), 3); }\n}\n\" >src/lib.rs" \
		"sed -i \"s/a + b/a - b/\" src/lib.rs" \
		"RUSTC=/usr/bin/rustc CARGO_HOME=\$PWD/.cargo-home /usr/bin/cargo test --offline -q 2>&1 | sed \"s/finished in [0-9.]*s/finished/\"" &&
	grep -q "1 passed" "$R.1.out" && grep -q "1 failed" "$R.3.out"
'

# cargo sets its dep-info files' times itself (the start of the compile),
# after the build script wrote its generated source: restored with a fresh
# time, that source was newer, and the next cargo build rebuilt the crate.
test_expect_success 'cargo build with a build.rs that generates source: a plain cargo build after the miss and after the hit compiles nothing' '
	rw_need /usr/bin/cargo &&
	CARGO="RUSTC=/usr/bin/rustc CARGO_HOME=\$PWD/.cargo-home /usr/bin/cargo" &&
	rw_case cargo-gen "mkdir -p src && printf \"[package]\nname = \\\"g\\\"\nversion = \\\"0.1.0\\\"\nedition = \\\"2021\\\"\n\n[dependencies]\n\" >Cargo.toml &&
		printf \"use std::{env, fs, path::Path};\nfn main() {\n    let out = env::var(\\\"OUT_DIR\\\").unwrap();\n    let d = fs::read_to_string(\\\"data.txt\\\").unwrap();\n    fs::write(Path::new(&out).join(\\\"gen.rs\\\"), format!(\\\"pub const D: &str = {:?};\\\", d.trim())).unwrap();\n    println!(\\\"cargo:rerun-if-changed=data.txt\\\");\n}\n\" >build.rs &&
		printf \"include!(concat!(env!(\\\"OUT_DIR\\\"), \\\"/gen.rs\\\"));\nfn main() { println!(\\\"{}\\\", D); }\n\" >src/main.rs && echo one >data.txt" \
		"echo two >data.txt" \
		"$CARGO build --offline -q && ./target/debug/g" &&
	grep -q "^one$" "$R.1.out" && grep -q "^two$" "$R.3.out" &&
	(cd "$W" && eval "$CARGO build --offline") >plain 2>&1 &&
	! grep Compiling plain &&
	rw_fresh && rw_run cargo-gen 4 && rw_status_is hit 4 &&
	(cd "$W" && eval "$CARGO build --offline") >plain 2>&1 &&
	! grep Compiling plain
'

test_done

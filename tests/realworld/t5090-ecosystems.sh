#!/usr/bin/env bash
test_description='real world: more ecosystems (Ada, COBOL, D, Nim, Crystal, Common Lisp, Groovy, Clojure, mypy, black, pylint, flake8, Cython, pip wheel, Perl MakeMaker, gem build, tsc, protoc, flex and bison, gperf, SWIG, Asciidoctor, latexmk, dpkg-deb, BLAST, MUSCLE, bedtools, Trimmomatic, Picard, pigz) hit on rerun with an exact replay'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-realworld.sh"

# Compilers that write their program where the job looks first (they
# stat or open it before writing it): the program is declared, as the
# README says of gcc, and a rerun in place hits.

ada_setup() {
	cat >hello.adb <<-\EOF &&
	with Ada.Text_IO; with Greet;
	procedure Hello is begin Ada.Text_IO.Put_Line (Greet.Msg ("ada")); end Hello;
	EOF
	cat >greet.ads <<-\EOF &&
	package Greet is function Msg (S : String) return String; end Greet;
	EOF
	cat >greet.adb <<-\EOF
	package body Greet is
	   function Msg (S : String) return String is begin return "hello " & S; end Msg;
	end Greet;
	EOF
}
# gnatmake decides from the .ali files of the last build: in place, the
# first rerun sees them and misses once.
test_expect_success 'gnatmake: an Ada program of two units' '
	{ rw_optional gnatmake || return 0; } &&
	rw_case gnatmake ada_setup "sed -i s/hello\ /bye\ / greet.adb" \
		"gnatmake -q hello && ./hello" &&
	grep -q "^hello ada" "$R.1.out" && grep -q "^bye ada" "$R.3.out" &&
	rw_inplace 2
'

cobol_setup() {
	cat >hello.cob <<-\EOF
	       IDENTIFICATION DIVISION.
	       PROGRAM-ID. HELLO.
	       PROCEDURE DIVISION.
	           DISPLAY "HELLO COBOL".
	           STOP RUN.
	EOF
}
# cobc puts the time of the compile into the program (COB_MODULE_DATE,
# _TIME): two bare compiles differ, and a hit gives the recorded one.
test_expect_success 'cobc -x: a COBOL program' '
	rw_need cobc &&
	RW_OPTS="--declare-output hello" rw_case cobc cobol_setup "sed -i s/HELLO\ COBOL/BYE/ hello.cob" \
		"cobc -x -o hello hello.cob && ./hello" &&
	grep -q "^HELLO COBOL" "$R.1.out" && grep -q "^BYE" "$R.3.out" &&
	RW_OPTS="--declare-output hello" rw_inplace 1
'

d_setup() {
	cat >hello.d <<-\EOF
	import std.stdio, std.algorithm, std.array;
	void main() { writeln([3, 1, 2].sort().array); }
	EOF
}
test_expect_success 'gdc: a D program' '
	rw_need gdc &&
	RW_OPTS="--declare-output hello" rw_case gdc d_setup "sed -i s/3,/4,/ hello.d" \
		"gdc -o hello hello.d && ./hello" &&
	grep -q "^\[1, 2, 3\]" "$R.1.out" && grep -q "^\[1, 2, 4\]" "$R.3.out" &&
	RW_OPTS="--declare-output hello" rw_inplace 1
'

test_expect_success 'ldc2: a D program' '
	{ rw_optional ldc2 || return 0; } &&
	opts="--declare-output hello --declare-output hello.o" &&
	RW_OPTS=$opts rw_case ldc2 d_setup "sed -i s/3,/4,/ hello.d" \
		"ldc2 hello.d && ./hello" &&
	grep -q "^\[1, 2, 3\]" "$R.1.out" && grep -q "^\[1, 2, 4\]" "$R.3.out" &&
	RW_OPTS=$opts rw_inplace 1
'

# Nim looks for a .nimble file in the project's directory and, without
# one, in every directory above it: it lists each, up to /, so any file
# made or removed beside the project (here the results of the other
# runs, in the trash directory; for a user in $HOME) makes it miss. A
# project has one. Its cache (~/.cache/nim) is outside the tree:
# --nimcache in the job's private /tmp.
nim_setup() {
	cat >hello.nim <<-\EOF &&
	import strutils
	echo "hello ", "nim".toUpperAscii
	EOF
	printf "version = \"0.1.0\"\nauthor = \"x\"\ndescription = \"x\"\nlicense = \"MIT\"\nbin = @[\"hello\"]\n" >hello.nimble
}
test_expect_success 'nim c: a program of a nimble project' '
	rw_need nim &&
	RW_OPTS="--declare-output hello" rw_case nim nim_setup "sed -i s/hello\ /bye\ / hello.nim" \
		"nim c --hints:off --nimcache:/tmp/nimcache hello.nim && ./hello" &&
	grep -q "^hello NIM" "$R.1.out" && grep -q "^bye NIM" "$R.3.out" &&
	RW_OPTS="--declare-output hello" rw_inplace 1
'

# crystal keeps its cache in ~/.cache/crystal: CRYSTAL_CACHE_DIR in /tmp.
crystal_setup() {
	cat >hello.cr <<-\EOF
	def sq(x)
	  x * x
	end
	puts [1, 2, 3].map { |x| sq(x) }
	EOF
}
test_expect_success 'crystal build' '
	{ rw_optional crystal || return 0; } &&
	RW_OPTS="--declare-output hello" rw_case crystal crystal_setup "sed -i s/2,\ 3/2,\ 4/ hello.cr" \
		"CRYSTAL_CACHE_DIR=/tmp/crystal crystal build hello.cr && ./hello" &&
	grep -q "^\[1, 4, 9\]" "$R.1.out" && grep -q "^\[1, 4, 16\]" "$R.3.out" &&
	RW_OPTS="--declare-output hello" rw_inplace 1
'

lisp_setup() {
	cat >sq.lisp <<-\EOF
	(defun sq (x) (* x x))
	(format t "~a~%" (mapcar (function sq) (list 1 2 3)))
	EOF
}
# compile-file writes sq.fasl, which the first rerun in place sees.
test_expect_success 'sbcl: --script, and compile-file then load' '
	rw_need sbcl &&
	rw_case sbcl lisp_setup "sed -i \"s/(\\* x x)/(+ x x)/\" sq.lisp" \
		"sbcl --script sq.lisp && sbcl --non-interactive --no-sysinit --no-userinit --eval \"(load (compile-file \\\"sq.lisp\\\"))\" >/dev/null" &&
	grep -q "^(1 4 9)" "$R.1.out" && grep -q "^(2 4 6)" "$R.3.out" &&
	test -f "$W/sq.fasl" &&
	rw_inplace 2
'

jvm_setup() {
	printf "def sq = { it * it }\nprintln([1, 2, 3].collect(sq))\n" >hello.groovy &&
	printf "(println (map (fn [x] (* x x)) [1 2 3]))\n" >hello.clj
}
test_expect_success 'groovy: a script' '
	{ rw_optional groovy || return 0; } &&
	rw_case groovy jvm_setup "sed -i s/2,\ 3/2,\ 4/ hello.groovy" "groovy hello.groovy" &&
	grep -q "^\[1, 4, 9\]" "$R.1.out" && grep -q "^\[1, 4, 16\]" "$R.3.out"
'

test_expect_success 'clojure: a script' '
	{ rw_optional clojure || return 0; } &&
	rw_case clojure jvm_setup "sed -i \"s/(\\* x x)/(+ x x)/\" hello.clj" "clojure hello.clj" &&
	grep -q "^(1 4 9)" "$R.1.out" && grep -q "^(2 4 6)" "$R.3.out"
'

# Python linters and type checkers. mypy keeps its cache in
# .mypy_cache (state in the tree, read and rewritten by every run; its
# meta files hold times): --cache-dir in the job's private /tmp.
lint_setup() {
	mkdir -p pkg &&
	cat >pkg/__init__.py <<-\EOF &&
	"""A package."""


	def add(a: int, b: int) -> int:
	    """Add."""
	    return a + b


	def bad(x: int) -> str:
	    """Not a string."""
	    return x
	EOF
	cat >pkg/m.py <<-\EOF
	"""A module."""
	import os
	from pkg import add
	print(add(1, 2))
	EOF
}
test_expect_success 'mypy (findings: exit 1), --cache-dir in /tmp' '
	rw_need mypy &&
	RW_RC=1 rw_case mypy lint_setup "sed -i s/return\ x/return\ str\(x\)/ pkg/__init__.py" \
		"mypy --cache-dir=/tmp/mypy pkg" &&
	grep -q "Found 1 error" "$R.1.out" && grep -q "Success" "$R.3.out" &&
	RW_RC=1 rw_inplace 1
'

# black --diff prints the time of the run in each +++ line (a hit
# replays the recorded one): --check alone here. black leaves out what
# git ignores (this test runs in an ignored directory): files by name.
test_expect_success 'black --check, pylint, flake8 (findings)' '
	rw_need black pylint flake8 &&
	RW_RC=1 rw_case pylint lint_setup "echo \"import sys\" >>pkg/m.py" \
		"black --check pkg/*.py 2>&1; pylint --score=n pkg; flake8 pkg" &&
	grep -q "would reformat" "$R.1.out" && grep -q "W0611" "$R.1.out" &&
	grep -q "F401 .os. imported but unused" "$R.1.out" &&
	grep -q "F401 .sys. imported but unused" "$R.3.out"
'

cython_setup() {
	cat >fib.pyx <<-\EOF
	def fib(int n):
	    cdef int a = 0, b = 1
	    for _ in range(n):
	        a, b = b, a + b
	    return a
	EOF
}
CYTHON_CMD='cython3 -3 fib.pyx && gcc -shared -fPIC -O1 $(/usr/bin/python3-config --includes) fib.c -o fib$(/usr/bin/python3-config --extension-suffix) && /usr/bin/python3 -c "import fib; print(fib.fib(20))"'
test_expect_success 'cython3, gcc, then the extension imported' '
	rw_need cython3 gcc /usr/bin/python3-config &&
	opts="--declare-output fib.c" &&
	for s in $(/usr/bin/python3-config --extension-suffix); do
		opts="$opts --declare-output fib$s" || return 1
	done &&
	RW_OPTS=$opts rw_case cython cython_setup "sed -i s/a\ +\ b/a\ +\ 2\ \\*\ b/ fib.pyx" "$CYTHON_CMD" &&
	grep -q "^6765" "$R.1.out" && ! grep -q "^6765" "$R.3.out" &&
	RW_OPTS=$opts rw_inplace 1
'

# pip wheel of a local package, offline: SOURCE_DATE_EPOCH, else the
# wheel (a zip) holds the time of the run; build/, dist/ and the
# .egg-info are declared (state of the last build otherwise). pip lists
# and lstats the project directory, whose mtime the first build moved:
# in place, the first rerun misses once.
wheel_setup() {
	mkdir -p src/hello &&
	printf "def hi():\n    return 1\n" >src/hello/__init__.py &&
	cat >pyproject.toml <<-\EOF
	[build-system]
	requires = ["setuptools"]
	build-backend = "setuptools.build_meta"
	[project]
	name = "hello"
	version = "1.0"
	EOF
}
WHEEL_CMD='SOURCE_DATE_EPOCH=315532800 /usr/bin/python3 -m pip wheel -q --no-index --no-build-isolation --no-deps -w dist . && unzip -l dist/hello-1.0-py3-none-any.whl | sort && md5sum dist/*.whl'
test_expect_success 'pip wheel --no-index: a local package (SOURCE_DATE_EPOCH)' '
	rw_need_py pip setuptools &&
	opts="--declare-output build --declare-output dist --declare-output src/hello.egg-info" &&
	RW_OPTS=$opts rw_case pip-wheel wheel_setup "printf \"X = 2\\n\" >>src/hello/__init__.py" "$WHEEL_CMD" &&
	grep -q "hello/__init__.py" "$R.1.out" &&
	RW_OPTS=$opts rw_inplace 2
'

# perl Makefile.PL rewrites Makefile and MYMETA.* on every run (new
# mtimes, which make then compares): in place, every run would miss.
# Declared, with blib and pm_to_blib, every run starts from the checkout.
perlmm_setup() {
	mkdir -p lib t &&
	printf "package Hello;\nour \$VERSION = \"1.0\";\nsub hi { \"hi\" }\n1;\n" >lib/Hello.pm &&
	printf "use ExtUtils::MakeMaker;\nWriteMakefile(NAME => \"Hello\", VERSION_FROM => \"lib/Hello.pm\");\n" >Makefile.PL &&
	printf "use Test::More tests => 1;\nuse Hello;\nis(Hello::hi(), \"hi\");\n" >t/a.t
}
PERLMM_OPTS="--declare-output Makefile --declare-output MYMETA.json --declare-output MYMETA.yml --declare-output blib --declare-output pm_to_blib"
test_expect_success 'perl Makefile.PL, make, make test (ExtUtils::MakeMaker)' '
	rw_need perl make &&
	RW_OPTS=$PERLMM_OPTS rw_case perl-mm perlmm_setup "sed -i s/\\\"hi\\\"\ }/\\\"ho\\\"\ }/ lib/Hello.pm" \
		"perl Makefile.PL >/dev/null && make >/dev/null && make test 2>&1 | sed \"s/ wallclock.*//;s/Tests=1, .*/Tests=1/\"" &&
	grep -q "^Result: PASS" "$R.1.out" && grep -q "^Result: FAIL" "$R.3.out" &&
	RW_OPTS=$PERLMM_OPTS rw_inplace 1
'

# gem build: SOURCE_DATE_EPOCH, else the gem holds the time of the run.
gem_setup() {
	mkdir lib &&
	printf "module Hello; def self.hi = 1; end\n" >lib/hello.rb &&
	cat >hello.gemspec <<-\EOF
	Gem::Specification.new do |s|
	  s.name = "hello"
	  s.version = "1.0"
	  s.summary = "hi"
	  s.authors = ["x"]
	  s.license = "MIT"
	  s.homepage = "https://example.org"
	  s.files = ["lib/hello.rb"]
	end
	EOF
}
test_expect_success 'gem build (SOURCE_DATE_EPOCH)' '
	rw_need gem &&
	RW_OPTS="--declare-output hello-1.0.gem" rw_case gem-build gem_setup "sed -i s/=\ 1/=\ 2/ lib/hello.rb" \
		"SOURCE_DATE_EPOCH=315532800 gem build -q hello.gemspec && tar -xOf hello-1.0.gem data.tar.gz | tar -tzvf -" &&
	grep -q "lib/hello.rb" "$R.1.out" &&
	RW_OPTS="--declare-output hello-1.0.gem" rw_inplace 1
'

# tsc (Debian's node-typescript): out/ declared; tsc lists and lstats
# the project directory (node's realpath), which the first build moved.
tsc_setup() {
	mkdir -p src &&
	printf "export function add(a: number, b: number): number { return a + b; }\nconsole.log(add(1, 2));\n" >src/a.ts &&
	printf "{\"compilerOptions\":{\"outDir\":\"out\",\"rootDir\":\"src\",\"strict\":true,\"target\":\"es2020\",\"module\":\"commonjs\"},\"include\":[\"src\"]}\n" >tsconfig.json
}
test_expect_success 'tsc -p: a TypeScript project, then node' '
	rw_need tsc node &&
	RW_OPTS="--declare-output out" rw_case tsc tsc_setup "sed -i s/a\ +\ b/a\ -\ b/ src/a.ts" \
		"tsc -p . && node out/a.js && cat out/a.js" &&
	grep -q "^3" "$R.1.out" && grep -q "^-1" "$R.3.out" &&
	RW_OPTS="--declare-output out" rw_inplace 2
'

# Code generators.
gen_setup() {
	cat >a.proto <<-\EOF &&
	syntax = "proto3";
	package demo;
	message Person { string name = 1; int32 id = 2; repeated string email = 3; }
	EOF
	mkdir gen &&
	cat >calc.y <<-\EOF &&
	%{
	#include <stdio.h>
	int yylex(void);
	void yyerror(const char *s) { fprintf(stderr, "%s\n", s); }
	%}
	%token NUM PLUS SEMI
	%%
	input: %empty | input line ;
	line: expr SEMI { printf("%d\n", $1); } ;
	expr: NUM | expr PLUS NUM { $$ = $1 + $3; } ;
	%%
	int main(void) { return yyparse(); }
	EOF
	cat >calc.l <<-\EOF &&
	%{
	#include "calc.tab.h"
	%}
	%option noyywrap
	%%
	[0-9]+ { yylval = atoi(yytext); return NUM; }
	"+" { return PLUS; }
	";" { return SEMI; }
	[ \n] ;
	%%
	EOF
	echo "1 + 2; 3 + 4 + 5;" >in.txt &&
	printf "if\nelse\nwhile\nfor\nreturn\n" >kw.txt &&
	cat >ex.i <<-\EOF
	%module ex
	%{
	int fact(int n) { return n <= 1 ? 1 : n * fact(n - 1); }
	%}
	int fact(int n);
	EOF
}
test_expect_success 'protoc: C++ and Python' '
	rw_need protoc &&
	rw_case protoc gen_setup "sed -i s/id\ =\ 2/id\ =\ 4/ a.proto" \
		"protoc --cpp_out=gen --python_out=gen a.proto && md5sum gen/*" &&
	grep -q "a_pb2.py" "$R.1.out"
'

test_expect_success 'bison, flex, then gcc: a calculator' '
	rw_need bison flex gcc &&
	RW_OPTS="--declare-output calc" rw_case bison-flex gen_setup "echo \"7;\" >>in.txt" \
		"bison -d calc.y && flex calc.l && gcc -o calc calc.tab.c lex.yy.c && ./calc <in.txt" &&
	printf "3\n12\n" >expect && test_cmp expect "$R.1.out" &&
	RW_OPTS="--declare-output calc" rw_inplace 1
'

test_expect_success 'gperf: a perfect hash of keywords' '
	rw_need gperf &&
	rw_case gperf gen_setup "echo goto >>kw.txt" "gperf kw.txt >kw.c && md5sum kw.c" &&
	grep -q "kw.c" "$R.1.out"
'

SWIG_CMD='swig -python ex.i && gcc -shared -fPIC $(/usr/bin/python3-config --includes) ex_wrap.c -o _ex$(/usr/bin/python3-config --extension-suffix) && /usr/bin/python3 -c "import ex; print(ex.fact(5))"'
test_expect_success 'swig -python, gcc, then the module imported' '
	rw_need swig gcc /usr/bin/python3-config &&
	opts= &&
	for s in $(/usr/bin/python3-config --extension-suffix); do
		opts="--declare-output _ex$s" || return 1
	done &&
	RW_OPTS=$opts rw_case swig gen_setup "sed -i s/n\ -\ 1/n\ -\ 2/ ex.i" "$SWIG_CMD" &&
	grep -q "^120" "$R.1.out" && grep -q "^15" "$R.3.out" &&
	RW_OPTS=$opts rw_inplace 2
'

# Documents and packages.
pkg_setup() {
	printf "= Title\n:nofooter:\n\nSome *text*.\n\n== Section\n\n* one\n* two\n" >doc.adoc &&
	mkdir -p pkg/DEBIAN pkg/usr/bin &&
	printf "Package: hello\nVersion: 1.0\nArchitecture: all\nMaintainer: x <x@y>\nDescription: hi\n" >pkg/DEBIAN/control &&
	printf "#!/bin/sh\necho hi\n" >pkg/usr/bin/hello &&
	chmod 755 pkg/usr/bin/hello
}
test_expect_success 'asciidoctor: HTML' '
	rw_need asciidoctor &&
	rw_case asciidoctor pkg_setup "echo More. >>doc.adoc" "asciidoctor doc.adoc && md5sum doc.html" &&
	grep -q "More." "$W/doc.html"
'

# latexmk: SOURCE_DATE_EPOCH and FORCE_SOURCE_DATE, as for pdflatex
# (t5080); its .fdb_latexmk holds the times of the run (a hit replays
# the recorded ones). In place, the first rerun sees the .aux and the
# .fdb_latexmk of the last run and misses once.
tex_setup() {
	cat >doc.tex <<-\EOF
	\documentclass{article}
	\begin{document}
	Hello.
	\section{A}\label{a}
	See \ref{a}.
	\end{document}
	EOF
}
test_expect_success 'latexmk -pdf (two passes for a reference)' '
	{ rw_optional latexmk pdflatex || return 0; } &&
	rw_case latexmk tex_setup "sed -i s/Hello/Bye/ doc.tex" \
		"SOURCE_DATE_EPOCH=315532800 FORCE_SOURCE_DATE=1 latexmk -pdf -silent doc.tex >/dev/null 2>&1; md5sum doc.pdf doc.aux" &&
	grep -q "doc.pdf" "$R.1.out" &&
	rw_inplace 2
'

# dpkg-deb: SOURCE_DATE_EPOCH, else the archive members hold the time of
# the run; it stats the .deb first: declared.
test_expect_success 'dpkg-deb --build (SOURCE_DATE_EPOCH)' '
	rw_need dpkg-deb &&
	RW_OPTS="--declare-output hello.deb" rw_case dpkg-deb pkg_setup "echo echo\ bye >>pkg/usr/bin/hello" \
		"SOURCE_DATE_EPOCH=315532800 dpkg-deb --root-owner-group --build pkg hello.deb >/dev/null && dpkg-deb -c hello.deb && md5sum hello.deb" &&
	grep -q "./usr/bin/hello" "$R.1.out" &&
	RW_OPTS="--declare-output hello.deb" rw_inplace 1
'

# Bioinformatics tools not in the other scripts.
bio_setup() {
	printf ">s1\nACGTACGTTAGCTAGCTAGGATCGATCGATCGTAGCTAGCTAGCTAGCATCGATCGAT\n>s2\nACGTACGTTAGCTAGCTTGGATCGATCGATCGTAGCTAGCAAGCTAGCATCGATCGAT\n>s3\nACGTACGATAGCTAGCTAGGATCGATGGATCGTAGCTAGCTAGCTAGCATCGTTCGAT\n" >seqs.fa &&
	printf "chr1\t10\t50\ta\nchr1\t40\t90\tb\nchr2\t5\t20\tc\n" >a.bed &&
	printf "chr1\t30\t60\nchr2\t0\t10\n" >b.bed &&
	printf "@HD\tVN:1.6\tSO:unsorted\n@SQ\tSN:chr1\tLN:1000\nr2\t0\tchr1\t500\t60\t10M\t*\t0\t0\tACGTACGTAC\tIIIIIIIIII\nr1\t0\tchr1\t100\t60\t10M\t*\t0\t0\tACGTACGTAC\tIIIIIIIIII\n" >in.sam &&
	/usr/bin/python3 - <<-\EOF
	import random
	r = random.Random(1)
	with open("r.fq", "w") as f:
	    for i in range(200):
	        s = "".join(r.choice("ACGT") for _ in range(60))
	        q = "".join(chr(33 + r.randint(10, 40)) for _ in range(60))
	        f.write("@r%d\n%s\n+\n%s\n" % (i, s, q))
	EOF
}
# makeblastdb writes the date into the database (db.nin): a hit gives
# the recorded one.
test_expect_success 'makeblastdb, then blastn' '
	rw_need makeblastdb blastn &&
	rw_case blast bio_setup "sed -i s/GCATCGTTCGAT/GCATCGTTCGAA/ seqs.fa" \
		"makeblastdb -in seqs.fa -dbtype nucl -out db >/dev/null && blastn -query seqs.fa -db db -outfmt 6" &&
	grep -q "^s1	s1	100.000" "$R.1.out"
'

test_expect_success 'muscle: an alignment' '
	rw_need muscle &&
	rw_case muscle bio_setup "sed -i s/GCATCGTTCGAT/GCATCGTTCG/ seqs.fa" \
		"muscle -align seqs.fa -output aln.fa 2>/dev/null || muscle -in seqs.fa -out aln.fa -quiet; cat aln.fa" &&
	grep -q "^>s3" "$R.1.out"
'

test_expect_success 'bedtools intersect and merge' '
	rw_need bedtools &&
	rw_case bedtools bio_setup "printf \"chr1\\t85\\t95\\n\" >>b.bed" \
		"bedtools intersect -a a.bed -b b.bed -wa -wb && bedtools merge -i a.bed" &&
	grep -q "^chr1	10	90" "$R.1.out"
'

test_expect_success 'TrimmomaticSE: quality trimming (a JVM)' '
	rw_need TrimmomaticSE &&
	rw_case trimmomatic bio_setup "sed -i 1,8d r.fq" \
		"TrimmomaticSE -threads 1 -phred33 r.fq out.fq SLIDINGWINDOW:4:20 MINLEN:30 2>&1 | grep Surviving; md5sum out.fq" &&
	grep -q "Input Reads: 200" "$R.1.out" && grep -q "Input Reads: 198" "$R.3.out"
'

# Picard logs through log4j2, which printed an error (its stack trace)
# while the sandbox's host name resolved nowhere (it was procache; it is
# localhost now: t0100). Only the SAM is shown: the log holds times.
test_expect_success 'picard SortSam' '
	{ rw_optional PicardCommandLine || return 0; } &&
	RW_OPTS="--declare-output out.sam" rw_case picard bio_setup "sed -i s/chr1\t500/chr1\t50/ in.sam" \
		"PicardCommandLine SortSam -I in.sam -O out.sam -SO coordinate --VERBOSITY ERROR --QUIET true >/dev/null 2>&1; cat out.sam" &&
	grep -q "^r1" "$R.1.out" && grep -q "SO:coordinate" "$R.1.out"
'

test_expect_success 'pigz -p2, compress and decompress' '
	rw_need pigz &&
	rw_case pigz "seq 1 200000 >nums.txt" "echo 1 >>nums.txt" \
		"pigz -p 2 -c nums.txt >nums.gz && pigz -dc nums.gz | awk \"{ s += \\\$1 } END { print s }\" && md5sum nums.gz" &&
	grep -q "^20000100000" "$R.1.out" && grep -q "^20000100001" "$R.3.out"
'

test_done

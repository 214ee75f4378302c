#!/usr/bin/env bash
test_description='real world: test suites and documentation tools (mvn test with JUnit, ant, pytest -n and --cov, doctest, Hypothesis, ctest, rake/minitest, rspec, prove, bats, shellcheck, cppcheck, g++ with a precompiled header, sphinx-build, pandoc, doxygen, dot, ImageMagick, gnuplot, javadoc and jar, pdflatex, mocha, gradle) hit on rerun with an exact replay'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-realworld.sh"

# mvn test offline: JUnit 4 from Debian's repository (junit4), run by
# surefire in a forked JVM. Surefire's reports carry times, and its
# output the time each test took: the output is grepped. In place, the
# compiler plugin rewrites target/maven-status/.../inputFiles.lst on
# every run (the same bytes, a new mtime) and reads it on the next:
# --mtime=content, and the second rerun hits (the first sees target/).
mvn_test_setup() {
	mkdir -p .m2 src/main/java/hello src/test/java/hello &&
	printf '<settings><localRepository>%s</localRepository><offline>true</offline></settings>\n' \
		"$MAVEN_REPO" >.m2/settings.xml &&
	{
		cat <<\EOF &&
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>hello</groupId><artifactId>hello</artifactId><version>1</version>
  <properties>
    <maven.compiler.release>11</maven.compiler.release>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
  <dependencies><dependency><groupId>junit</groupId><artifactId>junit</artifactId>
    <version>4.x</version><scope>test</scope></dependency></dependencies>
  <build><plugins>
EOF
		for p in maven-resources-plugin maven-compiler-plugin maven-surefire-plugin; do
			echo "<plugin><groupId>org.apache.maven.plugins</groupId><artifactId>$p</artifactId><version>$(maven_plugin_version $p)</version></plugin>"
		done &&
		echo "</plugins></build></project>"
	} >pom.xml &&
	cat >src/main/java/hello/Hello.java <<\EOF &&
package hello;
public class Hello { public static String greet(String s) { return "hello " + s; } }
EOF
	cat >src/test/java/hello/HelloTest.java <<\EOF
package hello;
import org.junit.Test;
import static org.junit.Assert.assertEquals;
public class HelloTest {
    @Test public void greets() { assertEquals("hello x", Hello.greet("x")); }
    @Test public void greetsEmpty() { assertEquals("hello ", Hello.greet("")); }
}
EOF
}
mvn_test_cmd='mvn -B -o -s .m2/settings.xml test 2>&1 | grep -E "Tests run|FAIL|BUILD" | sed "s/, Time elapsed.*//"'
test_expect_success 'mvn -o test: JUnit 4 through surefire (a forked JVM)' '
	rw_need mvn java &&
	for p in maven-resources-plugin maven-compiler-plugin maven-surefire-plugin; do
		test -n "$(maven_plugin_version $p)" || {
			say "# skip: $p not in $MAVEN_REPO (make deps)"
			return 0
		}
	done &&
	test -d "$MAVEN_REPO/junit/junit" || {
		say "# skip: junit not in $MAVEN_REPO (make deps)"
		return 0
	} &&
	RW_OPTS=--mtime=content rw_case mvn-test mvn_test_setup "sed -i \"s/hello \\\" + s/bye \\\" + s/\" src/main/java/hello/Hello.java" \
		"$mvn_test_cmd" &&
	grep -q "Tests run: 2, Failures: 0" "$R.1.out" &&
	grep -q "Tests run: 2, Failures: 2" "$R.3.out" &&
	RW_OPTS=--mtime=content rw_inplace 2
'

ant_setup() {
	mkdir -p src test &&
	cat >src/Hello.java <<\EOF &&
public class Hello { public static String greet(String s) { return "hello " + s; } }
EOF
	cat >test/HelloTest.java <<\EOF &&
import org.junit.Test;
import static org.junit.Assert.assertEquals;
public class HelloTest {
    @Test public void greets() { assertEquals("hello x", Hello.greet("x")); }
}
EOF
	cat >build.xml <<\EOF
<project name="hello" default="test">
  <path id="cp">
    <pathelement location="/usr/share/java/junit4.jar"/>
    <pathelement location="/usr/share/java/hamcrest-core.jar"/>
    <pathelement location="build"/>
  </path>
  <target name="compile">
    <mkdir dir="build"/>
    <javac srcdir="src:test" destdir="build" includeantruntime="false" classpathref="cp"/>
  </target>
  <target name="test" depends="compile">
    <junit haltonfailure="yes" fork="yes">
      <classpath refid="cp"/>
      <formatter type="plain" usefile="false"/>
      <test name="HelloTest"/>
    </junit>
  </target>
</project>
EOF
}
# In place, the first rerun sees build/ (ant's javac compares the times
# of classes and sources) and misses once.
test_expect_success 'ant: javac and junit (forked)' '
	rw_need ant java &&
	test -f /usr/share/java/junit4.jar || {
		say "# skip: junit4 not installed (make deps)"
		return 0
	} &&
	rw_case ant ant_setup "sed -i \"s/hello \\\" + s/bye \\\" + s/\" src/Hello.java" \
		"ant -noinput 2>&1 | sed \"s/Time elapsed.*//;s/Total time.*//\"" &&
	grep -q "BUILD SUCCESSFUL" "$R.1.out" && grep -q "BUILD FAILED" "$R.3.out" &&
	rw_inplace 2
'

# pytest's .pytest_cache is state in the tree (README): -p no:cacheprovider.
py_setup() {
	mkdir -p pkg tests &&
	cat >pkg/__init__.py <<\EOF &&
def add(a, b):
    """Add two numbers.

    >>> add(1, 2)
    3
    """
    return a + b


def mul(a, b):
    return a * b
EOF
	for i in 1 2 3 4; do
		cat >tests/test_m$i.py <<EOF || return 1
from pkg import add, mul
def test_add_$i():
    assert add($i, 1) == $i + 1
def test_mul_$i():
    assert mul($i, 2) == $i * 2
EOF
	done
}
PYTEST='/usr/bin/python3 -m pytest -p no:cacheprovider -q'
test_expect_success 'pytest -n 2 (pytest-xdist: two worker processes)' '
	rw_need_py pytest xdist &&
	rw_case pytest-xdist py_setup "sed -i \"s/a \\* b/a * b + 0.5/\" pkg/__init__.py" \
		"$PYTEST -n 2 tests 2>&1 | sed \"s/ in [0-9.]*s//\" | sort" &&
	grep -q "8 passed" "$R.1.out" && grep -q "4 failed" "$R.3.out"
'

# coverage's data file: outside the tree (the job's private /tmp), else
# every run in place reads the last one's and misses.
test_expect_success 'pytest --cov (pytest-cov), COVERAGE_FILE in /tmp' '
	rw_need_py pytest pytest_cov &&
	rw_case pytest-cov py_setup "sed -i \"s/a \\* b/a * b + 0.5/\" pkg/__init__.py" \
		"COVERAGE_FILE=/tmp/.coverage $PYTEST --cov=pkg --cov-report=term-missing tests 2>&1 | sed \"s/ in [0-9.]*s//\"" &&
	grep -q "pkg/__init__.py  *4  *0  *100%" "$R.1.out" &&
	rw_inplace 1
'

test_expect_success 'python3 -m doctest' '
	rw_need /usr/bin/python3 &&
	rw_case doctest py_setup "sed -i \"s/return a + b/return a + b + 1/\" pkg/__init__.py" \
		"/usr/bin/python3 -m doctest -v pkg/__init__.py | tail -3" &&
	grep -q "Test passed" "$R.1.out" && grep -q "1 failed" "$R.3.out"
'

# Hypothesis draws its examples at random (a hit replays the recorded
# ones; --hypothesis-seed makes a bare run do the same) and keeps its
# example database in .hypothesis: state in the tree, read and written by
# every run (its database=None setting, or a directory outside the tree).
hyp_setup() {
	py_setup &&
	cat >tests/test_hyp.py <<\EOF
from hypothesis import given, settings, strategies as st
from pkg import add
@settings(database=None)
@given(st.integers(), st.integers())
def test_add_commutes(a, b):
    assert add(a, b) == add(b, a)
EOF
}
test_expect_success 'pytest with Hypothesis (database=None, a seed)' '
	rw_need_py pytest hypothesis &&
	rw_case hypothesis hyp_setup "sed -i \"s/return a + b/return a + b + (a > 5)/\" pkg/__init__.py" \
		"$PYTEST --hypothesis-seed=0 tests/test_hyp.py 2>&1 | sed \"s/ in [0-9.]*s//\"" &&
	grep -q "1 passed" "$R.1.out" && grep -q "1 failed" "$R.3.out" &&
	rw_inplace 1
'

# CTest keeps the tests' durations in build/Testing (to order the next
# run): declared, as the README says.
ctest_setup() {
	cat >CMakeLists.txt <<\EOF &&
cmake_minimum_required(VERSION 3.13)
project(hello C)
enable_testing()
add_library(greet greet.c)
foreach(t 1 2 3)
  add_executable(t${t} t.c)
  target_compile_definitions(t${t} PRIVATE N=${t})
  target_link_libraries(t${t} greet)
  add_test(NAME t${t} COMMAND t${t})
endforeach()
EOF
	echo "int add(int a, int b) { return a + b; }" >greet.c &&
	cat >t.c <<\EOF
#include <stdio.h>
int add(int, int);
int main(void) { printf("t%d\n", N); return add(N, 1) != N + 1; }
EOF
}
test_expect_success 'ctest -j2: three tests of a CMake project' '
	rw_need cmake ctest ninja gcc &&
	RW_OPTS="--declare-output build/Testing" rw_case ctest ctest_setup "sed -i s/a\ +\ b/a\ -\ b/ greet.c" \
		"cmake -S . -B build -G Ninja >/dev/null && cmake --build build >/dev/null && cd build && ctest -j2 --output-on-failure 2>&1 | sed \"s/ *[0-9.]* sec//\" | sort" &&
	grep -q "100% tests passed" "$R.1.out" && grep -q "0% tests passed" "$R.3.out"
'

rb_setup() {
	mkdir -p lib test spec &&
	cat >lib/greet.rb <<\EOF &&
module Greet
  def self.hello(s) = "hello #{s}"
end
EOF
	cat >test/test_greet.rb <<\EOF &&
require "minitest/autorun"
require_relative "../lib/greet"
class TestGreet < Minitest::Test
  def test_hello = assert_equal("hello x", Greet.hello("x"))
  def test_empty = assert_equal("hello ", Greet.hello(""))
end
EOF
	cat >Rakefile <<\EOF &&
require "rake/testtask"
Rake::TestTask.new { |t| t.pattern = "test/test_*.rb" }
task default: :test
EOF
	cat >spec/greet_spec.rb <<\EOF
require_relative "../lib/greet"
RSpec.describe Greet do
  it("says hello") { expect(Greet.hello("x")).to eq("hello x") }
  it("handles empty") { expect(Greet.hello("")).to eq("hello ") }
end
EOF
}
# Minitest and RSpec run the tests in a random order: --seed (a hit
# replays the recorded order; the seed makes bare runs agree).
test_expect_success 'rake test (minitest), --seed' '
	rw_need rake ruby &&
	rw_case rake rb_setup "sed -i s/hello\ #/bye\ #/ lib/greet.rb" \
		"rake test TESTOPTS=--seed=0 2>&1 | sed \"s/in [0-9.]*s, .*/in Ns/\"" &&
	grep -q "2 runs, 2 assertions, 0 failures" "$R.1.out" &&
	grep -q "2 failures" "$R.3.out"
'

test_expect_success 'rspec --seed' '
	rw_need rspec &&
	rw_case rspec rb_setup "sed -i s/hello\ #/bye\ #/ lib/greet.rb" \
		"rspec --seed 0 2>&1 | sed \"s/in [0-9.]* seconds.*//\"" &&
	grep -q "2 examples, 0 failures" "$R.1.out" &&
	grep -q "2 examples, 2 failures" "$R.3.out"
'

sh_setup() {
	mkdir -p lib t/sub &&
	cat >lib/Greet.pm <<\EOF &&
package Greet;
sub hello { "hello $_[0]" }
1;
EOF
	for n in a sub/b; do
		cat >t/$n.t <<\EOF || return 1
use strict; use warnings; use Test::More tests => 2;
use lib 'lib'; use Greet;
is(Greet::hello("x"), "hello x");
is(Greet::hello(""), "hello ");
EOF
	done &&
	cat >greet.sh <<\EOF &&
#!/bin/sh
greet() { echo "hello $1"; }
EOF
	cat >greet.bats <<\EOF &&
setup() { . ./greet.sh; }
@test "greets" { run greet x; [ "$output" = "hello x" ]; }
@test "greets empty" { run greet ""; [ "$output" = "hello " ]; }
EOF
	cat >bad.sh <<\EOF &&
#!/bin/sh
for f in $(ls *.txt); do echo $f; done
EOF
	cat >c.c <<\EOF
#include <stdlib.h>
int main(void) { char *p = malloc(10); p[10] = 0; return 0; }
EOF
}
test_expect_success 'prove -r (Perl TAP tests in a tree)' '
	rw_need prove &&
	rw_case prove sh_setup "sed -i s/hello\ /bye\ / lib/Greet.pm" \
		"prove -r t 2>&1 | sed \"s/wallclock.*//\"" &&
	grep -q "All tests successful" "$R.1.out" && grep -q "Result: FAIL" "$R.3.out"
'

test_expect_success 'bats' '
	rw_need bats &&
	rw_case bats sh_setup "sed -i s/hello/bye/ greet.sh" "bats greet.bats" &&
	grep -q "^ok 2" "$R.1.out" && grep -q "^not ok 1" "$R.3.out"
'

test_expect_success 'shellcheck (findings: exit 1)' '
	rw_need shellcheck &&
	RW_RC=1 rw_case shellcheck sh_setup "echo \"cd \\\$1\" >>bad.sh" "shellcheck bad.sh greet.sh" &&
	grep -q SC2045 "$R.1.out" && grep -q SC2164 "$R.3.out"
'

test_expect_success 'cppcheck' '
	rw_need cppcheck &&
	rw_case cppcheck sh_setup "echo \"int f(int *q) { int a[2]; return a[q[0] + 2]; }\" >>c.c" \
		"cppcheck --enable=warning --quiet c.c" &&
	grep -q arrayIndexOutOfBounds "$R.1.err"
'

# g++ with a precompiled header, through make: the objects, the header's
# .gch and the program are declared (gcc stats its outputs before writing
# them, as the README says), so a rerun in place hits.
cxx_setup() {
	cat >all.hpp <<\EOF &&
#ifndef ALL_HPP
#define ALL_HPP
#include <iostream>
#include <map>
#include <string>
#include <vector>
template <typename T> T sum(const std::vector<T> &v) { T s{}; for (auto &x : v) s += x; return s; }
#endif
EOF
	cat >a.cpp <<\EOF &&
#include "all.hpp"
std::string names() { std::map<int, std::string> m{{1, "a"}, {2, "b"}}; std::string r; for (auto &[k, v] : m) r += v; return r; }
EOF
	cat >main.cpp <<\EOF &&
#include "all.hpp"
std::string names();
int main() { std::cout << sum(std::vector<int>{1, 2, 3}) << " " << sum(std::vector<double>{0.5}) << " " << names() << "\n"; }
EOF
	cat >Makefile <<\EOF
CXXFLAGS = -O1 -std=c++17 -Winvalid-pch
all: hello
all.hpp.gch: all.hpp
	g++ $(CXXFLAGS) -x c++-header $< -o $@
%.o: %.cpp all.hpp.gch
	g++ $(CXXFLAGS) -c $< -o $@
hello: a.o main.o
	g++ $^ -o $@
EOF
}
test_expect_success 'g++: templates and a precompiled header, through make' '
	rw_need g++ make &&
	opts= &&
	for f in all.hpp.gch a.o main.o hello; do
		opts="$opts --declare-output $f" || return 1
	done &&
	RW_OPTS=$opts rw_case cxx cxx_setup "sed -i \"s/s += x;/s += x + 1;/\" all.hpp" \
		"make -s && ./hello" &&
	grep -q "^6 0.5 ab" "$R.1.out" && grep -q "^9 1.5 ab" "$R.3.out" &&
	RW_OPTS=$opts rw_inplace 1
'

doc_setup() {
	mkdir -p docs &&
	cat >docs/conf.py <<\EOF &&
project = "hello"
EOF
	cat >docs/index.rst <<\EOF &&
Hello
=====

.. toctree::

   usage

Some *text*.
EOF
	printf 'Usage\n-----\n\nRun ``hello``.\n' >docs/usage.rst &&
	printf '# Hello\n\nA *list*:\n\n- one\n- two\n' >README.md &&
	echo "digraph g { a -> b; b -> c; a -> c; }" >g.dot &&
	printf 'set terminal svg size 400,300\nset output "p.svg"\nplot sin(x)\n' >p.gp
}
# Sphinx builds incrementally: in place, the first rerun reads the
# environment the last one pickled in out/.doctrees, and misses once.
test_expect_success 'sphinx-build -b html' '
	rw_need sphinx-build &&
	rw_case sphinx doc_setup "echo More. >>docs/usage.rst" \
		"sphinx-build -q -b html docs out && ls out && md5sum out/*.html" &&
	grep -q "More." "$W/out/usage.html" &&
	rw_inplace 2
'

test_expect_success 'pandoc: Markdown to HTML and plain text' '
	rw_need pandoc &&
	rw_case pandoc doc_setup "echo \"- three\" >>README.md" \
		"pandoc -s --metadata title=T README.md -o out.html && pandoc -t plain README.md && md5sum out.html" &&
	grep -q three "$R.3.out"
'

dox_setup() {
	mkdir -p src &&
	cat >src/greet.h <<\EOF &&
/** @file greet.h The greeter. */
/** Says hello.
 * @param s whom to greet
 * @return the greeting's length */
int greet(const char *s);
EOF
	printf 'PROJECT_NAME = hello\nINPUT = src\nOUTPUT_DIRECTORY = dox\nGENERATE_LATEX = NO\nQUIET = YES\n' >Doxyfile
}
test_expect_success 'doxygen: HTML' '
	rw_need doxygen &&
	rw_case doxygen dox_setup "sed -i s/Says\ hello/Says\ bye/ src/greet.h" \
		"doxygen Doxyfile && md5sum dox/html/greet_8h.html" &&
	grep -q "Says bye" "$W/dox/html/greet_8h.html"
'

test_expect_success 'dot (graphviz): SVG and PNG' '
	rw_need dot &&
	rw_case dot doc_setup "sed -i s/a\ -\>\ c/a\ -\>\ d/ g.dot" \
		"dot -Tsvg g.dot -o g.svg && dot -Tpng g.dot -o g.png && md5sum g.svg g.png"
'

# ImageMagick writes the time of the run (tIME, date:create, date:modify)
# into a PNG: without png:exclude-chunks a bare run never makes the
# bytes a hit replays.
test_expect_success 'ImageMagick convert: resize and rotate, PNG and JPEG' '
	rw_need /usr/bin/convert /usr/bin/identify &&
	rw_case convert "/usr/bin/convert -size 16x16 xc:red -fill blue -draw \"rectangle 4,4 11,11\" in.png" \
		"/usr/bin/convert -size 16x16 xc:green in.png" \
		"/usr/bin/convert in.png -define png:exclude-chunks=date,time -resize 32x32 -rotate 90 out.png && /usr/bin/convert in.png out.jpg && /usr/bin/identify out.png out.jpg | cut -d\" \" -f1-4 && md5sum out.png out.jpg"
'

test_expect_success 'gnuplot: an SVG plot' '
	rw_need gnuplot &&
	rw_case gnuplot doc_setup "sed -i s/sin/cos/ p.gp" "gnuplot p.gp && md5sum p.svg"
'

java_doc_setup() {
	mkdir -p src/hello &&
	cat >src/hello/Hello.java <<\EOF &&
package hello;
/** A greeter. */
public class Hello {
    /** Greets.
     * @param s whom
     * @return the greeting */
    public static String greet(String s) { return "hello " + s; }
    /** Entry point. @param a unused */
    public static void main(String[] a) { System.out.println(greet("world")); }
}
EOF
	cat >doc.tex <<\EOF
\documentclass{article}
\begin{document}
Hello, \LaTeX{} world: $e^{i\pi} + 1 = 0$.
\end{document}
EOF
}
# javadoc -notimestamp, jar --date: else both write the time of the run.
test_expect_success 'javadoc, javac, jar, java -jar' '
	rw_need javadoc javac jar java &&
	rw_case javadoc java_doc_setup "sed -i s/A\ greeter/A\ greeter\ of\ people/ src/hello/Hello.java" \
		"javadoc -quiet -notimestamp -d api -sourcepath src hello && md5sum api/hello/Hello.html && javac -d classes src/hello/Hello.java && jar --create --file hello.jar --date=2000-01-01T00:00:02Z --main-class hello.Hello -C classes . && java -jar hello.jar && md5sum hello.jar" &&
	grep -q "hello world" "$R.1.out" && grep -q "of people" "$W/api/hello/Hello.html"
'

# pdflatex stamps the time of the run (CreationDate, ModDate, the ID):
# SOURCE_DATE_EPOCH with FORCE_SOURCE_DATE=1 for bytes a bare run makes
# again. Each run rewrites doc.aux (the same bytes, a new mtime) and the
# next reads it: in place, --mtime=content (LaTeX does not act on times).
# (texlive-latex-base is not in make deps: 43 s to install.)
test_expect_success 'pdflatex, SOURCE_DATE_EPOCH' '
	{ rw_optional pdflatex || return 0; } &&
	RW_OPTS=--mtime=content rw_case pdflatex java_doc_setup "sed -i s/Hello,/Bye,/ doc.tex" \
		"SOURCE_DATE_EPOCH=946684800 FORCE_SOURCE_DATE=1 pdflatex -interaction=nonstopmode doc.tex >/dev/null && md5sum doc.pdf" &&
	RW_OPTS=--mtime=content rw_inplace 2
'

# mocha (not in make deps: 90 packages, 136 s to install). Debian's
# modules are in /usr/share/nodejs, where a node not from Debian does
# not look: NODE_PATH.
mocha_setup() {
	mkdir -p test &&
	echo "exports.hello = (s) => \"hello \" + s;" >greet.js &&
	cat >test/greet.test.js <<\EOF
const assert = require("assert");
const { hello } = require("../greet");
describe("greet", () => {
  it("says hello", () => assert.strictEqual(hello("x"), "hello x"));
  it("handles empty", () => assert.strictEqual(hello(""), "hello "));
});
EOF
}
test_expect_success 'mocha (TAP reporter)' '
	{ rw_optional mocha || return 0; } &&
	rw_need node &&
	rw_case mocha mocha_setup "sed -i \"s/hello /bye /\" greet.js" \
		"NODE_PATH=/usr/share/nodejs mocha --reporter tap test" &&
	grep -q "^# pass 2" "$R.1.out" && grep -q "^# fail 2" "$R.3.out"
'

# gradle (Debian's 4.4.1; not in make deps: 155 s to install), offline
# with Debian's Maven repository. Its state goes to the job's private
# /tmp: GRADLE_USER_HOME (caches, native libraries) and
# --project-cache-dir (.gradle: task history and lock files, rewritten
# by every run). Without that history it builds everything again, so
# build/ is declared (else, in place, it reads its old test reports,
# which hold times). It prints stack traces of a Debian resolver hook it
# cannot load: the output is its exit code and the test results.
gradle_setup() {
	mkdir -p src/main/java/hello src/test/java/hello &&
	echo "package hello; public class Hello { public static String greet(String s) { return \"hello \" + s; } }" \
		>src/main/java/hello/Hello.java &&
	cat >src/test/java/hello/HelloTest.java <<\EOF &&
package hello;
import org.junit.Test;
import static org.junit.Assert.assertEquals;
public class HelloTest {
    @Test public void greets() { assertEquals("hello x", Hello.greet("x")); }
}
EOF
	cat >build.gradle <<\EOF
apply plugin: 'java'
repositories { maven { url 'file:///usr/share/maven-repo' } }
dependencies { testCompile 'junit:junit:4.x' }
EOF
}
test_expect_success 'gradle --offline test (JUnit 4)' '
	{ rw_optional gradle || return 0; } &&
	RW_OPTS="--declare-output build" rw_case gradle gradle_setup "sed -i \"s/hello \\\" + s/bye \\\" + s/\" src/main/java/hello/Hello.java" \
		"GRADLE_USER_HOME=/tmp/gradle-home gradle --offline --no-daemon -q --project-cache-dir /tmp/gradle-project test >/dev/null 2>&1; echo \$?; grep -ho \"tests=.[0-9]*. skipped=.[0-9]*. failures=.[0-9]*.\" build/test-results/test/*.xml" &&
	grep -q "^0" "$R.1.out" && grep -q "failures=.1" "$R.3.out" &&
	RW_OPTS="--declare-output build" rw_inplace 1
'

test_done

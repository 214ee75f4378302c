#!/usr/bin/env bash
test_description='real world: language runtimes (Java, Maven, Node, npm, Python, pytest, Perl, Ruby, Tcl) hit on rerun with an exact replay'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-realworld.sh"

# The JVM sizes its heap from sysinfo(2) and reads /proc/stat, /proc/meminfo,
# /proc/cgroups and the cgroup files at start-up: all generated (DESIGN §2,
# "Host facts").
test_expect_success 'java -version' '
	rw_need java &&
	rw_case java "echo 1 >input" "echo 2 >input" "cat input; java -version"
'

java_setup() {
	cat >Hello.java <<-\EOF
	public class Hello {
	    public static void main(String[] a) {
	        Runtime r = Runtime.getRuntime();
	        System.out.println("hello " + (r.availableProcessors() > 0) + " " + (r.maxMemory() > 0));
	    }
	}
	EOF
}
test_expect_success 'javac, then java: compile and run' '
	rw_need javac java &&
	rw_case javac java_setup "sed -i s/hello/bye/ Hello.java" \
		"javac Hello.java && java -cp . Hello"
'

# Maven reads an extended attribute (lgetxattr) at start-up.
test_expect_success 'mvn -o --version (Maven offline)' '
	rw_need mvn &&
	rw_case mvn "echo 1 >input" "echo 2 >input" "cat input; mvn -o --version | grep -v -e \"^OS name\" -e \"^Default locale\""
'

# A real build, offline: the plugins Debian ships in /usr/share/maven-repo
# (make deps installs them), used as the local repository. Maven's
# default bindings name versions Debian has only as relocation POMs, so
# the POM pins the versions found there; settings.xml is given with -s
# because the JVM takes user.home from the password database, not $HOME.
# (Maven prints colour resets even with -B: the output is grepped.)
# MAVEN_REPO and maven_plugin_version: lib-realworld.sh.
mvn_setup() {
	mkdir -p .m2 src/main/java/hello &&
	cat >.m2/settings.xml <<-EOF &&
	<settings>
	  <localRepository>$MAVEN_REPO</localRepository>
	  <offline>true</offline>
	</settings>
	EOF
	{
		cat <<-\EOF &&
		<project xmlns="http://maven.apache.org/POM/4.0.0">
		  <modelVersion>4.0.0</modelVersion>
		  <groupId>hello</groupId>
		  <artifactId>hello</artifactId>
		  <version>1</version>
		  <packaging>jar</packaging>
		  <properties>
		    <maven.compiler.release>11</maven.compiler.release>
		    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
		    <project.build.outputTimestamp>2000-01-01T00:00:00Z</project.build.outputTimestamp>
		  </properties>
		  <build><plugins>
		EOF
		for p in maven-resources-plugin maven-compiler-plugin maven-surefire-plugin maven-jar-plugin; do
			echo "    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>$p</artifactId><version>$(maven_plugin_version $p)</version></plugin>"
		done &&
		echo "  </plugins></build>" &&
		echo "</project>"
	} >pom.xml &&
	cat >src/main/java/hello/Hello.java <<-\EOF
	package hello;
	public class Hello {
	    public static void main(String[] a) { System.out.println("say-hello"); }
	}
	EOF
}
test_expect_success 'mvn -B -o -q package: a jar built offline from Debian'"'"'s repository' '
	rw_need mvn java &&
	for p in maven-resources-plugin maven-compiler-plugin maven-surefire-plugin maven-jar-plugin; do
		test -n "$(maven_plugin_version $p)" || {
			say "# skip: $p not in $MAVEN_REPO (make deps)"
			return 0
		}
	done &&
	rw_case mvn-package mvn_setup "sed -i s/say-hello/say-bye/ src/main/java/hello/Hello.java" \
		"mvn -B -o -q -s .m2/settings.xml package && java -cp target/hello-1.jar hello.Hello" &&
	grep -q say-hello "$TEST_DIR/rw/mvn-package.r.1.out" &&
	grep -q say-bye "$TEST_DIR/rw/mvn-package.r.3.out"
'

test_expect_success 'node -e: memory and CPUs as libuv reads them' '
	rw_need node &&
	rw_case node "echo 1 >input" "echo 2 >input" \
		"cat input; node -e \"const os = require(\\\"os\\\"); console.log(os.totalmem(), os.cpus().length, os.availableParallelism(), os.loadavg().join())\""
'

node_test_setup() {
	cat >math.test.js <<-\EOF
	const test = require("node:test");
	const assert = require("node:assert");
	test("adds", () => { assert.strictEqual(1 + 1, 2); });
	test("concats", () => { assert.strictEqual("a" + "b", "ab"); });
	EOF
}
test_expect_success 'node --test: a test file' '
	rw_need node &&
	rw_case node-test node_test_setup "echo \"test(\\\"more\\\", () => {});\" >>math.test.js" \
		"node --test --test-reporter=tap math.test.js | grep -v -e duration_ms"
'

npm_setup() {
	cat >package.json <<-\EOF
	{ "name": "rw-pkg", "version": "1.0.0", "main": "index.js",
	  "scripts": { "test": "node --test --test-reporter=dot" } }
	EOF
	echo 'module.exports = (a, b) => a + b;' >index.js
	cat >index.test.js <<-\EOF
	const test = require("node:test");
	const assert = require("node:assert");
	test("sum", () => assert.strictEqual(require("./index.js")(1, 2), 3));
	EOF
}
# npm keeps its cache and logs in the tree (npm_config_cache), and asks no
# registry (no update check, offline).
NPM_ENV='npm_config_cache=$PWD/.npm-cache npm_config_update_notifier=false npm_config_offline=true npm_config_logs_max=0 npm_config_fund=false npm_config_audit=false'
test_expect_success 'npm pack: a package with no dependencies' '
	rw_need npm &&
	rw_case npm-pack npm_setup "echo \"// edit\" >>index.js" \
		"env $NPM_ENV npm pack --silent && tar tzf rw-pkg-1.0.0.tgz | sort"
'

test_expect_success 'npm test' '
	rw_need npm &&
	rw_case npm-test npm_setup "echo \"// edit\" >>index.js" \
		"env $NPM_ENV npm test --silent"
'

test_expect_success 'python3: a script that writes a file' '
	rw_need python3 &&
	rw_case python "printf \"import json, os\nd = {\\\"n\\\": os.cpu_count()}\nopen(\\\"out.json\\\", \\\"w\\\").write(json.dumps(d))\nprint(sorted(os.listdir(\\\".\\\")))\n\" >s.py" \
		"echo \"print(1)\" >>s.py" \
		"python3 s.py"
'

pytest_setup() {
	printf 'def add(a, b):\n    return a + b\n' >calc.py
	printf 'from calc import add\n\ndef test_add():\n    assert add(1, 2) == 3\n\ndef test_neg():\n    assert add(-1, 1) == 0\n' >test_calc.py
}
# -p no:cacheprovider: pytest would read and rewrite .pytest_cache, its
# own state (README: tools that keep state in the tree).
test_expect_success 'pytest: a test module' '
	rw_need pytest-3 &&
	rw_case pytest pytest_setup "echo \"def test_more(): pass\" >>test_calc.py" \
		"pytest-3 -q -p no:cacheprovider test_calc.py | sed \"s/ in [0-9.]*s//\""
'

test_expect_success 'perl: a script reading its input' '
	rw_need perl &&
	rw_case perl "printf \"b 2\na 1\n\" >in.txt" "echo \"c 3\" >>in.txt" \
		"perl -ne \"print join(q( ), reverse split), qq(\\n)\" in.txt | sort"
'

test_expect_success 'ruby: a script' '
	rw_need ruby &&
	rw_case ruby "printf \"x\ny\n\" >in.txt" "echo z >>in.txt" \
		"ruby -e \"puts File.readlines(%q(in.txt)).map(&:upcase).join; File.write(%q(out.txt), Etc.nprocessors.to_s)\" -retc && cat out.txt"
'

test_expect_success 'tclsh: a script' '
	rw_need tclsh &&
	rw_case tcl "printf \"puts [expr {6 * 7}]\nputs [string toupper [read [open in.txt]]]\n\" >s.tcl && echo abc >in.txt" \
		"echo def >in.txt" "tclsh s.tcl"
'

test_done

#!/bin/sh
# tools/deps.sh build OUTFILE   what building procache needs (make, all)
# tools/deps.sh test            what its tests need besides (make check, deps)
#
# Checks that what is needed is present: for "build", the compiler, make,
# pkg-config and every library procache builds against (through pkg-config);
# for "test", every tool the tests run. When something is missing and we run
# as root, installs the Debian packages with apt-get; otherwise prints the
# exact command and fails. "build" then writes OUTFILE, a makefile fragment
# with the pkg-config flags, so that the build never calls pkg-config again.
#
# The two lists are apart so that a machine that only builds (no clang,
# python3 or useradd) can: `make` checks the first, `make check` both.
set -eu

pkgs="libseccomp libcap-ng libxxhash libcjson libcurl hiredis libssl"
# Debian package for each pkg-config module, in the same order.
debs_for_pkgs="libseccomp-dev libcap-ng-dev libxxhash-dev libcjson-dev
libcurl4-openssl-dev libhiredis-dev libssl-dev"
# command:Debian package, for what the build runs.
build_tools="pkg-config:pkg-config cc:gcc make:make"
# command:Debian package, for what the tests run (tests/, tests/fuzz,
# tests/realworld's real programs; Rust from Debian in /usr/bin, not a
# rustup shim). Not ghc (800 MB installed; checked by hand, README),
# nor what takes long to install: texlive-latex-base (43 s), mocha (90
# packages, 136 s), gradle (155 s); t5080 runs them when they are there;
# nor the large toolchains t5090 runs when they are there: gnat, ldc,
# crystal (LLVM), groovy, clojure, picard-tools (many Java libraries).
test_tools="unshare:util-linux setpriv:util-linux ip:iproute2 xxh128sum:xxhash
python3:python3 tar:tar getent:libc-bin useradd:passwd cmp:diffutils
find:findutils stat:coreutils pgrep:procps clang:clang
nginx:nginx redis-server:redis-server redis-cli:redis-tools openssl:openssl
ninja:ninja-build rsync:rsync gzip:gzip make:make gcc:gcc taskset:util-linux
setfattr:attr setfacl:acl
clustalo:clustalo hmmsearch:hmmer snakemake:snakemake bwa:bwa samtools:samtools
wgsim:samtools bcftools:bcftools bowtie2:bowtie2 minimap2:minimap2 mafft:mafft
seqkit:seqkit parallel:parallel cwltool:cwltool
java:default-jre-headless javac:default-jdk-headless mvn:maven node:nodejs
npm:npm /usr/bin/rustc:rustc /usr/bin/cargo:cargo pytest-3:python3-pytest
perl:perl ruby:ruby tclsh:tcl gfortran:gfortran cmake:cmake git:git
sqlite3:sqlite3 xz:xz-utils zstd:zstd bzip2:bzip2 lz4:lz4 zip:zip unzip:unzip
jq:jq bc:bc xxd:xxd file:file free:procps patch:patch
autoreconf:autoconf automake:automake
go:golang-go php:php-cli lua5.4:lua5.4 gawk:gawk Rscript:r-base-core
ocamlopt:ocaml-nox ocamlfind:ocaml-findlib erlc:erlang-base elixir:elixir
meson:meson scons:scons guile:guile-3.0 valac:valac fpc:fp-compiler
ant:ant rake:rake rspec:ruby-rspec bats:bats shellcheck:shellcheck
cppcheck:cppcheck g++:g++ sphinx-build:python3-sphinx pandoc:pandoc
doxygen:doxygen dot:graphviz /usr/bin/convert:imagemagick gnuplot:gnuplot-nox
cobc:gnucobol3 gdc:gdc nim:nim sbcl:sbcl mypy:mypy black:black pylint:pylint
flake8:flake8 cython3:cython3 /usr/bin/python3-config:python3-dev
tsc:node-typescript protoc:protobuf-compiler bison:bison flex:flex gperf:gperf
swig:swig asciidoctor:asciidoctor dpkg-deb:dpkg makeblastdb:ncbi-blast+
blastn:ncbi-blast+ muscle:muscle bedtools:bedtools TrimmomaticSE:trimmomatic
pigz:pigz gem:ruby-rubygems fc-cache:fontconfig"
# Files the tests need that no command stands for: path:Debian package.
test_files="/usr/lib/nginx/modules/ngx_http_dav_ext_module.so:libnginx-mod-http-dav-ext
/usr/share/maven-repo/org/apache/maven/plugins/maven-compiler-plugin:libmaven-compiler-plugin-java
/usr/share/maven-repo/org/apache/maven/plugins/maven-resources-plugin:libmaven-resources-plugin-java
/usr/share/maven-repo/org/apache/maven/plugins/maven-jar-plugin:libmaven-jar-plugin-java
/usr/share/maven-repo/org/apache/maven/plugins/maven-surefire-plugin:libsurefire-java
/usr/lib/python3/dist-packages/numpy:python3-numpy
/usr/lib/python3/dist-packages/pandas:python3-pandas
/usr/share/maven-repo/junit/junit:junit4
/usr/lib/python3/dist-packages/xdist:python3-pytest-xdist
/usr/lib/python3/dist-packages/pytest_cov:python3-pytest-cov
/usr/lib/python3/dist-packages/hypothesis:python3-hypothesis
/usr/lib/python3/dist-packages/pip:python3-pip
/usr/lib/python3/dist-packages/setuptools:python3-setuptools
/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf:fonts-dejavu-core"

usage() {
	echo "usage: tools/deps.sh build OUTFILE | tools/deps.sh test" >&2
	exit 2
}

# install PACKAGES...: apt-get install them as root, else say how and fail.
install() {
	[ $# -gt 0 ] || return 0
	if [ "$(id -u)" != 0 ]; then
		echo "procache: missing $what dependencies: $*" >&2
		echo "procache: install them with: sudo apt-get install -y $*" >&2
		exit 1
	fi
	echo "deps: installing $*" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q "$@" >&2 ||
		{ apt-get update -q >&2 && apt-get install -y -q "$@" >&2; } || {
		echo "procache: apt-get install $* failed" >&2
		exit 1
	}
}

# missing_tools LIST: the Debian packages of LIST's absent commands.
missing_tools() {
	for t in $1; do
		command -v "${t%%:*}" >/dev/null 2>&1 || echo "${t#*:}"
	done
}

# missing_files LIST: the Debian packages of LIST's absent files.
missing_files() {
	for t in $1; do
		[ -e "${t%%:*}" ] || echo "${t#*:}"
	done
}

case ${1:-} in
build)
	[ $# = 2 ] || usage
	out=$2 what=build
	missing=$(missing_tools "$build_tools")
	if command -v pkg-config >/dev/null 2>&1; then
		set -- $debs_for_pkgs
		for p in $pkgs; do
			pkg-config --exists "$p" || missing="$missing $1"
			shift
		done
	else
		missing="$missing $debs_for_pkgs"
	fi
	install $(printf '%s\n' $missing | sort -u)
	;;
test)
	[ $# = 1 ] || usage
	what=test
	install $( (missing_tools "$test_tools"; missing_files "$test_files") | sort -u)
	exit 0
	;;
*)
	usage ;;
esac

tmp="$out.tmp.$$"
mkdir -p "$(dirname "$out")"
# How each library is linked, for a fast start (every cache hit is a new
# procache process, and each shared library costs it page faults):
# - libmount is not used at all: sandbox/mounts.c reads the mount table
#   itself (loading libmount and its three dependencies cost every
#   sandboxed run more than reading the table);
# - libseccomp, libcap-ng and libxxhash are linked statically when their
#   archives are installed (Debian's -dev packages ship them);
# - libcurl is not linked either: cache/remote-http.c loads libcurl.so.4
#   with dlopen() when an http(s) remote is used (its header is needed);
# - libssl is not linked either: cache/remote-conn.c loads libssl.so.3
#   with dlopen() for a rediss:// remote (its headers are needed);
# - hiredis is linked statically (the archive has no dependencies; its
#   protocol parts only: cache/remote-conn.c does the I/O);
# - libcjson (no archive in Debian) is not linked either: common/cjson.c
#   loads libcjson.so.1 with dlopen() at the first JSON a run parses or
#   prints (a cache hit has none; its header is needed);
# - libc stays shared.
static_pkgs="libseccomp libcap-ng libxxhash hiredis"
static_libs=""
dynamic_libs=""
for p in $static_pkgs; do
	libdir=$(pkg-config --variable=libdir "$p")
	for l in $(pkg-config --libs-only-l "$p"); do
		# Some .pc files name a libdir without the multiarch part
		# (Debian's hiredis.pc says /usr/lib): ask the compiler too.
		if [ -f "$libdir/lib${l#-l}.a" ] ||
			[ -f "$(${CC:-cc} -print-file-name="lib${l#-l}.a")" ]; then
			static_libs="$static_libs $l"
		else
			dynamic_libs="$dynamic_libs $l"
		fi
	done
done
{
	echo "# generated by tools/deps.sh; remove to re-check dependencies"
	echo "PKG_CFLAGS := $(pkg-config --cflags $pkgs)"
	if [ -n "$static_libs" ]; then
		echo "PKG_LIBS := -Wl,-Bstatic$static_libs -Wl,-Bdynamic $dynamic_libs"
	else
		echo "PKG_LIBS := $dynamic_libs"
	fi
} >"$tmp"
mv "$tmp" "$out"

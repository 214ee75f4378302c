# tests/realworld/lib-realworld.sh — shared by the real-world scripts
# (tests/realworld/t50NN-*.sh): real programs of many ecosystems, each
# run under procache the way a user would. Sourced after ../lib.sh.
#
#	rw_case NAME SETUP CHANGE CMD
#
# SETUP (shell code) makes the starting tree S in an empty directory;
# CMD (shell code, run by sh -c) is the job; CHANGE (shell code) changes
# one of its inputs in a fresh copy of S. The job's working directory is
# always W=$TEST_DIR/rw/NAME, a fresh copy of S (cp -a: same bytes, modes
# and times), so the three runs see the same starting tree at the same
# path:
#	1. a miss, whose entry is stored;
#	2. a hit, whose stdout, stderr, exit code and resulting tree
#	   (rw_snapshot) equal the first run's;
#	3. after CHANGE, a miss.
# $RW_OPTS (a shell variable) is given to every run; RW_TIMES=REGEX
# compares the mtimes of the paths it matches too (the ones the job set:
# tar -x, touch -d), which a hit restores (DESIGN §7).
#
# A case whose program cannot run here (not installed: rw_need) is
# skipped with its reason.

# rw_have WHY CMD...: every CMD is on PATH, else say which is not (WHY
# says who installs it) and fail.
rw_have() {
	local why=$1 c
	shift
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || {
			say "# skip: $c not installed ($why)"
			return 1
		}
	done
}

# rw_need CMD...: every CMD is on PATH, else the case is skipped.
rw_need() { rw_have "make deps" "$@"; }

# rw_need_py MODULE...: the system python imports every MODULE, else the
# case fails as rw_need's does (make deps installs them).
rw_need_py() {
	local m
	for m in "$@"; do
		/usr/bin/python3 -c "import $m" 2>/dev/null || {
			say "# skip: python module $m not installed (make deps)"
			return 1
		}
	done
}

# rw_optional CMD...: a program make deps does not install (it takes too
# long): without it the case passes, saying so. Use: rw_optional x || return 0
rw_optional() { rw_have "not in make deps" "$@"; }

# rw_snapshot DIR: tree_snapshot (type, mode, path, target, content),
# plus each entry's extended attributes, and with RW_TIMES the mtimes.
rw_snapshot() {
	tree_snapshot "$1" &&
	/usr/bin/python3 - "$1" "${RW_TIMES:-}" <<-\EOF
	import os, sys
	import re
	top, times = sys.argv[1], sys.argv[2]
	out = []
	for d, dirs, files in os.walk(top):
	    for n in dirs + files:
	        p = os.path.join(d, n)
	        rel = os.path.relpath(p, top)
	        try:
	            names = sorted(os.listxattr(p, follow_symlinks=False))
	        except OSError:
	            names = []
	        for a in names:
	            try:
	                v = os.getxattr(p, a, follow_symlinks=False).hex()
	            except OSError as e:
	                v = "error %d" % e.errno
	            out.append("x %s %s=%s" % (rel, a, v))
	        st = os.lstat(p)
	        if times and not os.path.isdir(p) and re.search(times, rel):
	            out.append("t %s %d" % (rel, st.st_mtime_ns))
	for l in sorted(out):
	    print(l)
	EOF
}

# rw_run NAME N: one run of the case's job in W; results in $R.N.*
rw_run() {
	local n=$2 explain=
	# --explain says nothing on a hit; on a miss, why (in the case's output)
	[ "$n" = 2 ] && explain=--explain
	rc=0
	(cd "$W" && "$PROCACHE" run --report "$R.$n.json" $explain ${RW_OPTS:-} -- sh -c "$rw_cmd" \
		</dev/null >"$R.$n.out" 2>"$R.$n.err") || rc=$?
	echo "$rc" >"$R.$n.rc"
}

# rw_fresh: W becomes a fresh copy of S.
rw_fresh() {
	rm -rf "$W" && cp -a "$S" "$W"
}

rw_status_is() {
	local got
	got=$(json_get "$R.$2.json" status) || return 1
	if [ "$got" != "$1" ]; then
		echo "run $2 of $rw_name: expected '$1', got '$got'" >&2
		json_get "$R.$2.json" uncacheable >&2
		tail -20 "$R.$2.err" >&2
		return 1
	fi
}

rw_case() {
	rw_name=$1 rw_setup=$2 rw_change=$3 rw_cmd=$4
	S=$TEST_DIR/rw/$rw_name.start W=$TEST_DIR/rw/$rw_name R=$TEST_DIR/rw/$rw_name.r
	rm -rf "$S" && mkdir -p "$S" &&
	(cd "$S" && eval "$rw_setup") &&
	rw_fresh && rw_run "$rw_name" 1 && rw_status_is miss 1 &&
	{ test "$(cat "$R.1.rc")" = "${RW_RC:-0}" ||
	  { echo "run 1 of $rw_name: exit $(cat "$R.1.rc")" >&2; cat "$R.1.err" >&2; false; }; } &&
	rw_snapshot "$W" >"$R.1.tree" &&
	rw_fresh && rw_run "$rw_name" 2 && rw_status_is hit 2 &&
	rw_snapshot "$W" >"$R.2.tree" &&
	test_cmp "$R.1.out" "$R.2.out" &&
	test_cmp "$R.1.err" "$R.2.err" &&
	test_cmp "$R.1.rc" "$R.2.rc" &&
	test_cmp "$R.1.tree" "$R.2.tree" &&
	rw_fresh && (cd "$W" && eval "$rw_change") &&
	rw_run "$rw_name" 3 && rw_status_is miss 3
}

# rw_inplace N: after rw_case, the job run again N times in place (in W,
# which holds the result of run 3, the changed one), as a user reruns a
# build: the last run must be a hit replaying the run before it (a build
# tool's output in place is not run 3's: "up to date"). N - 1 is how many
# times the tool's own state in the tree (a build directory, outputs it
# stats before writing them) makes it miss first.
rw_inplace() {
	local i
	for i in $(seq 4 $((3 + $1))); do
		rw_run "$rw_name" "$i" || return 1
	done &&
	rw_status_is hit "$i" &&
	test_cmp "$R.$((i - 1)).out" "$R.$i.out" &&
	test_cmp "$R.$((i - 1)).rc" "$R.$i.rc"
}

# Debian's Maven repository (the plugins make deps installs), and the
# newest version of plugin $1 it holds (Maven's default bindings name
# versions Debian has only as relocation POMs: a POM pins these).
MAVEN_REPO=/usr/share/maven-repo
maven_plugin_version() {
	ls "$MAVEN_REPO/org/apache/maven/plugins/$1"/*/"$1"-*.jar 2>/dev/null |
	sed "s|.*/$1/\([^/]*\)/.*|\1|" | grep -v "^debian\$" | sort -V | tail -1
}

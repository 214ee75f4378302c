#!/usr/bin/env bash
test_description='hermeticity: the job own outputs, and files unreadable then readable'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-hermetic.sh"

test_expect_success 'rerun after the job own outputs (files, O_TRUNC) were applied: hit' '
	hstart && echo in >in && mkdir -p out/d &&
	hmiss -- sh -c "cat in >out/a; cat in >out/d/b; echo \$(cat in)2 >out/c" &&
	hhit -- sh -c "cat in >out/a; cat in >out/d/b; echo \$(cat in)2 >out/c"
'

# mkdir() of a missing directory and symlink() of a missing name succeed
# where, once the job's own outputs are there, they fail with EEXIST: the
# job can tell (`mkdir d && echo made` prints an error instead), so the
# first rerun must miss; the second run's entry holds from then on.
test_expect_success 'rerun after the job made a directory and a symlink: miss once (EEXIST is observable), then hit' '
	hstart && echo in >in && mkdir out &&
	hmiss -- sh -c "mkdir -p out/d; cat in >out/d/b; ln -sfn d/b out/l" &&
	hmiss -- sh -c "mkdir -p out/d; cat in >out/d/b; ln -sfn d/b out/l" &&
	hhit -- sh -c "mkdir -p out/d; cat in >out/d/b; ln -sfn d/b out/l" &&
	rm -r out/d out/l &&
	hhit -- sh -c "mkdir -p out/d; cat in >out/d/b; ln -sfn d/b out/l"
'

test_expect_success 'mkdir of a directory the job created, present since: miss (the job would fail)' '
	hstart &&
	hmiss -- sh -c "mkdir d && echo made" &&
	hrun miss -- sh -c "mkdir d && echo made" &&
	test "$rc" = 1
'

test_expect_success 'an output file replaced by a symlink: miss (the job would write through it)' '
	hstart &&
	hmiss -- sh -c "echo x >out" &&
	rm out && ln -s target out &&
	hmiss -- sh -c "echo x >out" &&
	test -L out && echo x >expect && test_cmp expect target
'

test_expect_success 'an output file replaced by a directory: not a hit (the job fails writing it)' '
	hstart &&
	hmiss -- sh -c "echo x >out" &&
	rm out && mkdir out &&
	hrun miss -- sh -c "echo x >out" &&
	test "$rc" != 0 && test_path_is_dir out
'

test_expect_success 'an output directory replaced by a file: miss' '
	hstart &&
	hmiss -- sh -c "mkdir -p o && echo x >o/f" &&
	rm -r o && echo file >o &&
	hrun miss -- sh -c "mkdir -p o && echo x >o/f" &&
	test "$rc" != 0 && test_path_is_file o
'

test_expect_success 'a scratch file created and deleted by the job, present on the host later: miss' '
	hstart &&
	hmiss -- sh -c "echo x >scratch; cat scratch >out; rm scratch" &&
	hhit -- sh -c "echo x >scratch; cat scratch >out; rm scratch" &&
	echo stale >scratch &&
	hmiss -- sh -c "echo x >scratch; cat scratch >out; rm scratch" &&
	test_path_is_missing scratch
'

test_expect_success 'a scratch directory created and removed by the job, present later: miss' '
	hstart &&
	hmiss -- sh -c "mkdir tmpd && echo x >tmpd/f && cat tmpd/f >out && rm -r tmpd" &&
	mkdir tmpd && echo stale >tmpd/other &&
	hrun miss -- sh -c "mkdir tmpd && echo x >tmpd/f && cat tmpd/f >out && rm -r tmpd" &&
	test "$rc" != 0
'

test_expect_success 'as root: a read file made unreadable (chmod 000): miss (the mode is part of the content observation)' '
	hstart && echo secret >f &&
	hmiss -- sh -c "cat f 2>/dev/null || echo denied" &&
	chmod 000 f &&
	hmiss -- sh -c "cat f 2>/dev/null || echo denied" &&
	hstdout_is secret
'

test_expect_success 'as root: test -r of a file whose mode changes: miss' '
	hstart && echo x >f && chmod 600 f &&
	hmiss -- sh -c "test -r f && echo readable; stat -c %a f" &&
	chmod 644 f &&
	hmiss -- sh -c "test -r f && echo readable; stat -c %a f"
'

# As procache-test (rootless: user namespace, the job is that user).
as_user() {
	setpriv --reuid procache-test --regid procache-test --init-groups \
		env HOME="$UHOME" PROCACHE_DIR="$UHOME/cache" PATH=/usr/bin:/bin "$@"
}

# urun STATUS CMD...: like hrun, as procache-test, in $W.
urun() {
	local want=$1 got
	shift
	rc=0
	(cd "$W" && as_user "$PROCACHE" run --report "$UHOME/report.json" "$@" \
		</dev/null >"$UHOME/stdout" 2>"$UHOME/stderr") || rc=$?
	got=$(hstatus "$UHOME/report.json")
	if [ "$got" != "$want" ]; then
		echo "expected status $want, got $got" >&2
		cat "$UHOME/report.json" "$UHOME/stderr" >&2
		return 1
	fi
}

# The supervisor runs as the job's user: it cannot hash a file the job may
# not read, nor look into a directory the job may not search, so such a run
# is uncacheable (not a hit, which is what matters); once readable, the
# job runs again and is stored.
test_expect_success UNPRIV_USER 'unprivileged: a file unreadable then readable: not a hit' '
	UHOME=$TEST_DIR/uhome && W=$UHOME/w && mkdir -p "$W" &&
	echo secret >"$W/f" && chmod 000 "$W/f" &&
	chown -R procache-test: "$UHOME" && chmod 755 "$TEST_DIR" &&
	urun uncacheable -- sh -c "cat f 2>/dev/null || echo denied" &&
	echo denied >expect && test_cmp expect "$UHOME/stdout" &&
	chmod 644 "$W/f" &&
	urun miss -- sh -c "cat f 2>/dev/null || echo denied" &&
	echo secret >expect && test_cmp expect "$UHOME/stdout" &&
	urun hit -- sh -c "cat f 2>/dev/null || echo denied" &&
	test_cmp expect "$UHOME/stdout" &&
	chmod 000 "$W/f" &&
	urun uncacheable -- sh -c "cat f 2>/dev/null || echo denied" &&
	echo denied >expect && test_cmp expect "$UHOME/stdout"
'

test_expect_success UNPRIV_USER 'unprivileged: a directory unsearchable then searchable: not a hit' '
	UHOME=$TEST_DIR/uhome && W=$UHOME/w && mkdir -p "$W/d" &&
	echo inside >"$W/d/f" &&
	chown -R procache-test: "$UHOME" && chmod 755 "$TEST_DIR" && chmod 000 "$W/d" &&
	urun uncacheable -- sh -c "cat d/f 2>/dev/null || echo denied" &&
	echo denied >expect && test_cmp expect "$UHOME/stdout" &&
	chmod 755 "$W/d" &&
	urun miss -- sh -c "cat d/f 2>/dev/null || echo denied" &&
	echo inside >expect && test_cmp expect "$UHOME/stdout" &&
	chmod 000 "$W/d" &&
	urun uncacheable -- sh -c "cat d/f 2>/dev/null || echo denied"
'

test_expect_success UNPRIV_USER 'unprivileged: a directory unlistable then listable: miss' '
	UHOME=$TEST_DIR/uhome && W=$UHOME/w && mkdir -p "$W/d" &&
	touch "$W/d/a" &&
	chown -R procache-test: "$UHOME" && chmod 755 "$TEST_DIR" && chmod 311 "$W/d" &&
	urun miss -- sh -c "ls d 2>/dev/null || echo denied" &&
	echo denied >expect && test_cmp expect "$UHOME/stdout" &&
	urun hit -- sh -c "ls d 2>/dev/null || echo denied" &&
	chmod 755 "$W/d" &&
	urun miss -- sh -c "ls d 2>/dev/null || echo denied" &&
	echo a >expect && test_cmp expect "$UHOME/stdout"
'

test_done

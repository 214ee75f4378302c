#!/usr/bin/env bash
test_description='procache cache gc --remote: on nginx with WebDAV, entries older than --max-age go, then the blobs no remaining entry names (never one a live entry names, never a fresh one); refused read-only or without PROPFIND; Redis expires its keys itself'
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-remote.sh"

nginx_start web || exit 1
redis_start redis || exit 1
URL=http://127.0.0.1:$NGINX_PORT/cache/gc/
WWW=$NGINX_DIR/www/cache/gc
remote_config 5

cat >"$TEST_ROOT/job.sh" <<-\JOB
mkdir -p out
cat in.txt >out/copy
head -c 50000 /dev/zero | tr "\0" r >out/big
echo "said"
JOB

# gc [options]: procache cache gc --remote on machine 1's cache.
gc() {
	PROCACHE_REMOTE=$URL "$PROCACHE" cache --cache-dir "$TEST_ROOT/machine-1" \
		gc --remote "$@"
}
old() { touch -d "@$(( $(date +%s) - 3 * 86400 ))" "$@"; }
files() { (cd "$WWW" && find . -type f | sort); }

test_expect_success 'entries older than --max-age go, then only the blobs no remaining entry names' '
	echo "job a" >in.txt &&
	prun 1 miss --remote $URL -- sh "$TEST_ROOT/job.sh" >/dev/null &&
	files >a.files &&
	grep -q "^./k/.*/index$" a.files && grep -q "^./b/" a.files &&
	# another key (an argument more), uploaded as long ago
	echo "job c" >in.txt && rm -rf out &&
	prun 1 miss --remote $URL -- sh "$TEST_ROOT/job.sh" c >/dev/null &&
	files >ac.files &&
	# the same key as a (in.txt is a precondition, not the key)
	echo "job b" >in.txt && rm -rf out &&
	prun 1 miss --remote $URL -- sh "$TEST_ROOT/job.sh" >/dev/null &&
	files >all.files &&
	comm -13 ac.files all.files >b.files &&
	# b uploaded its entry and its copy blob; big and stdout are shared
	test $(grep -c "^./b/" b.files) = 1 &&
	old $(sed "s|^\.|$WWW|" ac.files) &&
	gc --max-age 1d >out.txt &&
	cat out.txt &&
	grep "removed 2 entries, 1 indexes and 2 blobs; kept 1 entries and" out.txt &&
	files >after.files &&
	comm -23 all.files after.files >gone &&
	test $(wc -l <gone) = 5 &&
	test $(grep -c "/index$" gone) = 1 &&
	! grep -q -F -f gone b.files &&
	# what b names is whole: a hit on a second machine; a is a miss there
	rm -rf out &&
	prun 2 hit --remote $URL -- sh "$TEST_ROOT/job.sh" >/dev/null &&
	echo "job b" >expect && test_cmp expect out/copy &&
	echo "job a" >in.txt && rm -rf out &&
	prun 2 miss --remote $URL --remote-read-only -- sh "$TEST_ROOT/job.sh" >/dev/null
'

test_expect_success 'an unreferenced blob younger than the grace stays; an old one goes' '
	mkdir -p "$WWW/b/00" &&
	echo young >"$WWW/b/00/00000000000000000000000000000001" &&
	echo old >"$WWW/b/00/00000000000000000000000000000002" &&
	old "$WWW/b/00/00000000000000000000000000000002" &&
	gc --max-age 1d >out.txt &&
	grep "removed 0 entries, 0 indexes and 1 blobs" out.txt &&
	test -f "$WWW/b/00/00000000000000000000000000000001" &&
	! test -e "$WWW/b/00/00000000000000000000000000000002"
'

test_expect_success 'an entry that cannot be read: its blobs are unknown, so no blob goes' '
	key=$(cd "$WWW/k" && ls -d */* | head -1) &&
	echo garbage >"$WWW/k/$key/0123456789abcdef" &&
	echo old >"$WWW/b/00/00000000000000000000000000000003" &&
	old "$WWW/b/00/00000000000000000000000000000003" &&
	gc --max-age 1d >out.txt &&
	grep "no blob removed: entry .*/0123456789abcdef cannot be read" out.txt &&
	test -f "$WWW/b/00/00000000000000000000000000000003" &&
	rm "$WWW/k/$key/0123456789abcdef"
'

test_expect_success 'over https (libcurl): the same' '
	TLS=https://127.0.0.1:$NGINX_TLS_PORT/cache/gc/ &&
	echo old >"$WWW/b/00/00000000000000000000000000000004" &&
	old "$WWW/b/00/00000000000000000000000000000004" &&
	PROCACHE_REMOTE=$TLS PROCACHE_REMOTE_CA_FILE=$NGINX_DIR/cert.pem "$PROCACHE" cache \
		--cache-dir "$TEST_ROOT/machine-1" gc --remote --max-age 1d >out.txt &&
	# and the old blob the unreadable entry held back goes now
	grep "removed 0 entries, 0 indexes and 2 blobs; kept 1 entries" out.txt &&
	! test -e "$WWW/b/00/00000000000000000000000000000003" &&
	! test -e "$WWW/b/00/00000000000000000000000000000004"
'

test_expect_success 'refused: read-only, without --max-age, without a remote, a server without PROPFIND' '
	PROCACHE_REMOTE_READ_ONLY=1 test_expect_code 125 gc --max-age 1d 2>err &&
	grep "read-only: not collected" err &&
	test_expect_code 125 gc 2>err &&
	grep "needs --max-age" err &&
	test_expect_code 125 "$PROCACHE" cache --cache-dir "$TEST_ROOT/machine-1" gc --remote --max-age 1d 2>err &&
	grep "no remote is set" err &&
	URL=http://127.0.0.1:$NGINX_PORT/ro/ test_expect_code 125 gc --max-age 1d 2>err &&
	grep "PROPFIND .*/ro/k/: HTTP 403" err
'

test_expect_success 'Redis: nothing to do, it expires keys itself (remote.ttl)' '
	PROCACHE_REMOTE=redis://127.0.0.1:$REDIS_PORT "$PROCACHE" cache \
		--cache-dir "$TEST_ROOT/machine-1" gc --remote >out.txt &&
	grep "expires nothing: set remote.ttl" out.txt &&
	printf "{\"remote\": {\"url\": \"redis://127.0.0.1:%s\", \"ttl\": \"30d\"}}\n" "$REDIS_PORT" >cfg.json &&
	"$PROCACHE" cache --config cfg.json --cache-dir "$TEST_ROOT/machine-1" gc --remote >out.txt &&
	grep "expires its keys itself (remote.ttl 2592000 s" out.txt
'

test_done

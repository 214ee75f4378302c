#!/usr/bin/env bash
test_description='remote cache over HTTP: two machines sharing one nginx, damaged and missing objects, read-only mode, a server that fails, hangs, truncates or talks garbage, credentials'
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-remote.sh"

nginx_start web || exit 1
URL=http://127.0.0.1:$NGINX_PORT
remote_config 1

# A job with a file tree, stdout, stderr and an exit status.
cat >"$TEST_ROOT/job.sh" <<-\JOB
mkdir -p out/sub
cat in.txt >out/copy
echo "$(wc -c <in.txt) bytes" >out/sub/count
ln -s copy out/link
(cat in.txt; head -c 70000 /dev/zero | tr "\0" x) >out/big
echo "said"
echo "warned" >&2
exit 3
JOB

# objects DIR: the files the server holds below DIR (relative, sorted).
objects() { (cd "$1" && find . -type f | sort); }

test_expect_success 'a job stored by one machine is a remote hit on another, with a byte-identical tree' '
	echo "hello" >in.txt &&
	prun 1 miss --remote $URL/cache/t1/ -- sh "$TEST_ROOT/job.sh" >so1 2>err1 &&
	test "$rc" = 3 &&
	tree_snapshot out >tree1 &&
	objects "$NGINX_DIR/www/cache/t1" >objs &&
	grep -q "^./b/" objs && grep -q "^./k/.*/index$" objs &&
	rm -rf out &&
	prun 2 hit --remote $URL/cache/t1/ -- sh "$TEST_ROOT/job.sh" >so2 2>err2 &&
	test "$rc" = 3 &&
	test "$(json_get report.json remote)" = hit &&
	tree_snapshot out >tree2 &&
	test_cmp tree1 tree2 &&
	test_cmp so1 so2 &&
	grep -q warned err2 &&
	test "$(remote_stat 2 hits)" = 1 &&
	test "$(remote_stat 1 bytes_up)" -gt 70000 &&
	test "$(remote_stat 2 bytes_down)" -gt 70000 &&
	lines=$(wc -l <"$NGINX_DIR/access.log") &&
	rm -rf out &&
	prun 2 hit --remote $URL/cache/t1/ -- sh "$TEST_ROOT/job.sh" >/dev/null 2>/dev/null &&
	test "$(wc -l <"$NGINX_DIR/access.log")" = "$lines"
'

test_expect_success 'the layout: blobs and entries under two-digit fan-out directories' '
	echo "layout" >in.txt &&
	prun 1 miss --remote $URL/cache/t2/ -- sh "$TEST_ROOT/job.sh" >/dev/null 2>/dev/null &&
	objects "$NGINX_DIR/www/cache/t2" >objs &&
	grep -E "^\./b/([0-9a-f]{2})/\1[0-9a-f]{30}$" objs >blobs &&
	test $(wc -l <blobs) -ge 4 &&
	grep -E "^\./k/([0-9a-f]{2})/\1[0-9a-f]{30}/[0-9a-f]{16}$" objs &&
	index=$(grep /index objs) &&
	head -1 "$NGINX_DIR/www/cache/t2/$index" >header &&
	echo "procache remote index 1" >expect &&
	test_cmp expect header
'

test_expect_success 'a blob deleted on the server: a miss for that entry, the job runs, no warning' '
	echo "deleted" >in.txt &&
	prun 1 miss --remote $URL/cache/t3/ -- sh "$TEST_ROOT/job.sh" >/dev/null 2>/dev/null &&
	tree_snapshot out >tree1 && rm -rf out &&
	big=$(find "$NGINX_DIR/www/cache/t3/b" -type f -size +60k) &&
	rm "$big" &&
	prun 2 miss --remote $URL/cache/t3/ -- sh "$TEST_ROOT/job.sh" >so2 2>err2 &&
	test "$rc" = 3 &&
	! grep -q "remote" err2 &&
	tree_snapshot out >tree2 &&
	test_cmp tree1 tree2 &&
	test "$(remote_stat 2 misses)" = 1 &&
	test "$(remote_stat 2 errors)" = 0
'

test_expect_success 'a corrupted blob on the server: a miss, and never in the local blob store' '
	echo "corrupt" >in.txt &&
	prun 1 miss --remote $URL/cache/t4/ -- sh "$TEST_ROOT/job.sh" >/dev/null 2>/dev/null &&
	tree_snapshot out >tree1 && rm -rf out &&
	big=$(find "$NGINX_DIR/www/cache/t4/b" -type f -size +60k) &&
	hash=$(basename "$big") &&
	{ cat in.txt && head -c 70000 /dev/zero | tr "\0" y; } >"$big" &&
	prun 2 miss --remote $URL/cache/t4/ -- sh "$TEST_ROOT/job.sh" >so2 2>err2 &&
	! grep -q "remote" err2 &&
	tree_snapshot out >tree2 &&
	test_cmp tree1 tree2 &&
	xxh128sum "$TEST_ROOT/machine-2/blobs/${hash:0:2}/$hash" >sum &&
	grep -q "^$hash " sum
'

test_expect_success 'a damaged entry, or one under another name, is a miss' '
	echo "entry" >in.txt &&
	prun 1 miss --remote $URL/cache/t5/ -- sh "$TEST_ROOT/job.sh" >/dev/null 2>/dev/null &&
	rm -rf out &&
	entry=$(find "$NGINX_DIR/www/cache/t5/k" -type f ! -name index) &&
	cp "$entry" saved &&
	printf "X" | dd of="$entry" bs=1 seek=60 conv=notrunc 2>/dev/null &&
	prun 2 miss --remote $URL/cache/t5/ -- sh "$TEST_ROOT/job.sh" >/dev/null 2>err &&
	! grep -q "remote" err &&
	rm -rf out &&
	dir=$(dirname "$entry") &&
	mv saved "$dir/0123456789abcdef" && rm "$entry" &&
	printf "procache remote index 1\n0123456789abcdef\n" >"$dir/index" &&
	prun 3 miss --remote $URL/cache/t5/ -- sh "$TEST_ROOT/job.sh" >/dev/null 2>err &&
	! grep -q "remote" err
'

test_expect_success '--remote-read-only never writes: no PUT, no HEAD in the server log' '
	echo "read only" >in.txt &&
	prun 1 miss --remote $URL/ro/ --remote-read-only -- sh "$TEST_ROOT/job.sh" >/dev/null 2>err &&
	test "$rc" = 3 &&
	! grep -q "remote" err &&
	test_wait_for 5 grep -q "GET /ro/" "$NGINX_DIR/access.log" &&
	grep "/ro/" "$NGINX_DIR/access.log" >ro.log &&
	! grep -v "\"GET /ro/" ro.log &&
	PROCACHE_REMOTE=$URL/ro/ PROCACHE_REMOTE_READ_ONLY=1 \
		"$PROCACHE" cache --cache-dir "$TEST_ROOT/machine-1" stats >stats &&
	grep "^remote  *read-only $URL/ro/$" stats
'

test_expect_success 'a server that refuses writes: one warning, the job and its status unchanged' '
	echo "refused" >in.txt &&
	prun 2 miss --remote $URL/ro/ -- sh "$TEST_ROOT/job.sh" >so 2>err &&
	test "$rc" = 3 &&
	grep "remote cache .* disabled for this run: .*HTTP 403" err &&
	test $(grep -c remote err) = 1 &&
	test "$(remote_stat 2 errors)" -ge 1
'

test_expect_success 'a server answering 500: one warning, a local-only run' '
	echo "fails" >in.txt &&
	prun 1 miss --remote $URL/fail/ -- sh "$TEST_ROOT/job.sh" >so 2>err &&
	test "$rc" = 3 &&
	test $(grep -c "remote cache .* disabled for this run: .*HTTP 500" err) = 1 &&
	test $(grep -c remote err) = 1 &&
	rm -rf out &&
	prun 1 hit --remote $URL/fail/ -- sh "$TEST_ROOT/job.sh" >so 2>err &&
	test "$rc" = 3
'

test_expect_success 'a server that closes the connection amid the pipelined blobs: they come anyway' '
	echo "keepalive" >in.txt &&
	prun 1 miss --remote $URL/ka/ -- sh "$TEST_ROOT/job.sh" >so1 2>/dev/null &&
	tree_snapshot out >tree1 && rm -rf out &&
	prun ka hit --remote $URL/ka/ -- sh "$TEST_ROOT/job.sh" >so2 2>err &&
	! grep -q remote err &&
	tree_snapshot out >tree2 &&
	test_cmp tree1 tree2 && test_cmp so1 so2 &&
	# five blobs (an empty cache): two answered after the server closed
	test $(grep -c "GET /ka/b/" "$NGINX_DIR/access.log") = 5
'

test_expect_success 'a server that is down: one warning, a local-only run' '
	echo "down" >in.txt &&
	port=$(free_port) &&
	prun 1 miss --remote http://127.0.0.1:$port/ -- sh "$TEST_ROOT/job.sh" >so 2>err &&
	test "$rc" = 3 &&
	test $(grep -c "remote cache .* disabled for this run" err) = 1 &&
	test $(wc -l <err) = 2
'

test_expect_success 'a server that hangs costs one timeout, then a local-only run' '
	badhttp_start hang hang &&
	conns() { grep -c "^accepted" "$TEST_ROOT/srv-hang/log"; } &&
	test_wait_for 5 grep -q "^accepted" "$TEST_ROOT/srv-hang/log" &&
	before=$(conns) &&
	echo "hangs" >in.txt &&
	prun 1 miss --remote http://127.0.0.1:$BAD_PORT/ -- sh "$TEST_ROOT/job.sh" >so 2>err &&
	test "$rc" = 3 &&
	grep "remote cache .* disabled for this run: .*timed out" err &&
	test $(grep -c remote err) = 1 &&
	test $(conns) = $((before + 1)) &&
	# The runs that follow do not ask it again for a while: a batch pays
	# one timeout, not one per job.
	echo "hangs again" >in.txt &&
	prun 1 miss --remote http://127.0.0.1:$BAD_PORT/ -- sh "$TEST_ROOT/job.sh" >so 2>err &&
	test "$rc" = 3 &&
	grep "remote cache .* skipped for this run: it timed out [0-9]* s ago" err &&
	test $(grep -c remote err) = 1 &&
	test $(conns) = $((before + 1))
'

test_expect_success 'a reconnection long after the last request is not cut short by that request'"'"'s deadline' '
	cat >"$TEST_ROOT/slowjob.sh" <<-\JOB &&
	cat in.txt >out-ka
	sleep $(cat delay)
	JOB
	echo 0 >delay &&
	echo a >in.txt && prun ka1 miss --remote $URL/ka/dl/ -- sh "$TEST_ROOT/slowjob.sh" 2>err &&
	! grep remote err &&
	echo b >in.txt && prun ka2 miss --remote $URL/ka/dl/ -- sh "$TEST_ROOT/slowjob.sh" 2>err &&
	! grep remote err &&
	# GET index, GET two entries: the third answer closes the connection,
	# then the job runs past the deadline those requests had (4 s)
	echo 5 >delay &&
	echo c >in.txt && prun ka3 miss --remote $URL/ka/dl/ -- sh "$TEST_ROOT/slowjob.sh" 2>err &&
	! grep remote err &&
	test "$(remote_stat ka3 errors)" = 0 &&
	test "$(remote_stat ka3 bytes_up)" -gt 0
'

test_expect_success 'a server that trickles header lines for ever: the deadline ends it, one warning, a local-only run' '
	badhttp_start trickle trickle &&
	echo "trickled" >in.txt && rm -rf out &&
	start=$(date +%s) &&
	prun 1 miss --remote http://127.0.0.1:$BAD_PORT/ -- sh "$TEST_ROOT/job.sh" >so 2>err &&
	end=$(date +%s) &&
	test "$rc" = 3 &&
	# timeout 1 s: a deadline of 4 s, where each wait alone never expired
	test $((end - start)) -le 10 &&
	grep "remote cache .* disabled for this run: .*timed out" err &&
	test $(grep -c remote err) = 1 &&
	echo "said" >expect && test_cmp expect so &&
	echo "trickled" >expect && test_cmp expect out/copy
'

test_expect_success 'a server that floods header lines: refused at 100, one warning, a local-only run' '
	badhttp_start headers headers &&
	echo "flooded" >in.txt && rm -rf out &&
	start=$(date +%s) &&
	prun 1 miss --remote http://127.0.0.1:$BAD_PORT/ -- sh "$TEST_ROOT/job.sh" >so 2>err &&
	end=$(date +%s) &&
	test "$rc" = 3 &&
	test $((end - start)) -le 10 &&
	grep "remote cache .* disabled for this run: .*not an HTTP answer" err &&
	test $(grep -c remote err) = 1 &&
	echo "flooded" >expect && test_cmp expect out/copy
'

test_expect_success 'a 404 with a huge body: read up to 64 KiB, then the connection is closed, no timeout' '
	badhttp_start bigerror bigerror &&
	echo "big error" >in.txt && rm -rf out &&
	start=$(date +%s) &&
	prun 1 miss --remote http://127.0.0.1:$BAD_PORT/ -- sh "$TEST_ROOT/job.sh" >so 2>err &&
	end=$(date +%s) &&
	test "$rc" = 3 &&
	test $((end - start)) -le 10 &&
	! grep "timed out" err &&
	echo "big error" >expect && test_cmp expect out/copy
'

test_expect_success 'a server that truncates its answers: one warning, a local-only run' '
	badhttp_start trunc truncate &&
	echo "truncated" >in.txt &&
	prun 1 miss --remote http://127.0.0.1:$BAD_PORT/ -- sh "$TEST_ROOT/job.sh" >so 2>err &&
	test "$rc" = 3 &&
	test $(grep -c "remote cache .* disabled for this run" err) = 1 &&
	tree_snapshot out >tree &&
	grep -q "^f .* ./big " tree
'

test_expect_success 'a server that answers garbage: the job runs and its result is right' '
	badhttp_start garbage garbage &&
	echo "garbage" >in.txt &&
	prun 3 miss --remote http://127.0.0.1:$BAD_PORT/ -- sh "$TEST_ROOT/job.sh" >so 2>err &&
	test "$rc" = 3 &&
	echo "said" >expect && test_cmp expect so &&
	echo "garbage" >expect && test_cmp expect out/copy
'

test_expect_success 'wrong credentials are said once; the right ones from the environment work' '
	echo "auth" >in.txt &&
	PROCACHE_REMOTE_USER=ci PROCACHE_REMOTE_PASSWORD=badpw \
		prun 1 miss --remote $URL/auth/ -- sh "$TEST_ROOT/job.sh" >so 2>err &&
	test "$rc" = 3 &&
	grep "disabled for this run: .*HTTP 401 (wrong or missing credentials?)" err &&
	test $(wc -l <err) = 2 &&
	! grep -q badpw err &&
	echo "auth ok" >in.txt && rm -rf out &&
	PROCACHE_REMOTE_USER=ci PROCACHE_REMOTE_PASSWORD=secret \
		prun 1 miss --remote $URL/auth/ -- sh "$TEST_ROOT/job.sh" >so 2>err &&
	! grep -q remote err &&
	rm -rf out &&
	PROCACHE_REMOTE_USER=ci PROCACHE_REMOTE_PASSWORD=secret \
		prun 2 hit --remote $URL/auth/ -- sh "$TEST_ROOT/job.sh" >so 2>err &&
	rm -rf out && echo "bearer" >in.txt &&
	PROCACHE_REMOTE_TOKEN=tok \
		prun 1 miss --remote $URL/bearer/ -- sh "$TEST_ROOT/job.sh" >so 2>err &&
	! grep -q remote err &&
	rm -rf out &&
	PROCACHE_REMOTE_TOKEN=tok \
		prun 2 hit --remote $URL/bearer/ -- sh "$TEST_ROOT/job.sh" >so 2>err
'

test_expect_success 'credentials in a URL: refused on the command line and in $PROCACHE_REMOTE, taken from the config file' '
	echo "auth from config" >in.txt &&
	PROCACHE_REMOTE_USER=ci PROCACHE_REMOTE_PASSWORD=secret \
		prun 1 miss --remote $URL/auth/ -- sh "$TEST_ROOT/job.sh" >so 2>err &&
	test_expect_code 125 "$PROCACHE" run --cache-dir "$TEST_ROOT/machine-1" \
		--remote http://ci:secret@127.0.0.1:$NGINX_PORT/auth/ -- true 2>err &&
	grep "visible to every user" err &&
	! grep -q secret err &&
	PROCACHE_REMOTE=http://ci:secret@127.0.0.1:$NGINX_PORT/auth/ \
		test_expect_code 125 "$PROCACHE" run --cache-dir "$TEST_ROOT/machine-1" -- true 2>err &&
	grep "config file only" err &&
	printf "{\"remote\": {\"url\": \"http://ci:secret@127.0.0.1:%s/auth/\"}}\n" $NGINX_PORT >cfg.json &&
	rm -rf out &&
	prun 4 hit --config cfg.json -- sh "$TEST_ROOT/job.sh" >so 2>err &&
	! grep -q remote err &&
	"$PROCACHE" config --config cfg.json >conf &&
	grep "^remote = read-write http://127.0.0.1:$NGINX_PORT/auth/" conf &&
	! grep -q secret conf
'

test_expect_success 'https: the certificate is verified by default; a CA file from the environment makes it trusted' '
	echo "tls" >in.txt &&
	TLS=https://127.0.0.1:$NGINX_TLS_PORT/cache/tls/ &&
	# A TLS handshake under sanitizers on a loaded machine can take
	# more than the 1 s of the other cases.
	echo "{\"remote\": {\"connect_timeout\": 20, \"timeout\": 20}}" >slow.json &&
	prun 1 miss --config slow.json --remote $TLS -- sh "$TEST_ROOT/job.sh" >so 2>err &&
	test "$rc" = 3 &&
	grep "remote cache .* disabled for this run: .*certificate" err &&
	test $(grep -c remote err) = 1 &&
	echo "tls trusted" >in.txt && rm -rf out &&
	PROCACHE_REMOTE_CA_FILE=$NGINX_DIR/cert.pem \
		prun 1 miss --config slow.json --remote $TLS -- sh "$TEST_ROOT/job.sh" >so 2>err &&
	! grep -q remote err &&
	rm -rf out &&
	printf "{\"remote\": {\"ca_file\": \"%s\", \"timeout\": 20, \"connect_timeout\": 20}}\n" \
		"$NGINX_DIR/cert.pem" >cfg.json &&
	prun 2 hit --config cfg.json --remote $TLS -- sh "$TEST_ROOT/job.sh" >so 2>err &&
	test "$(json_get report.json remote)" = hit
'

test_expect_success 'https (libcurl): a server that trickles a body faster than the low-speed limit: the deadline ends it, one warning' '
	BADHTTP_CERT=$NGINX_DIR/cert.pem BADHTTP_KEY=$NGINX_DIR/key.pem \
		badhttp_start tlstrickle tricklebody &&
	echo "tls trickled" >in.txt && rm -rf out &&
	# An idle timeout of 2 s, not the 1 s of the other cases: a loaded
	# machine can stall the server for a second, and then the low-speed
	# limit of libcurl, not the deadline under test, ends the transfer.
	echo "{\"remote\": {\"connect_timeout\": 2, \"timeout\": 2}}" >t2.json &&
	start=$(date +%s) &&
	PROCACHE_REMOTE_CA_FILE=$NGINX_DIR/cert.pem \
		prun 1 miss --config t2.json --remote https://127.0.0.1:$BAD_PORT/ \
		-- sh "$TEST_ROOT/job.sh" >so 2>err &&
	end=$(date +%s) &&
	test "$rc" = 3 &&
	test $((end - start)) -le 16 &&
	grep "remote cache .* disabled for this run: .*timed out" err &&
	test $(grep -c remote err) = 1 &&
	echo "tls trickled" >expect && test_cmp expect out/copy
'

test_expect_success '8 concurrent runners on two machines sharing one server: every result right, a third machine hits them all' '
	for i in 1 2 3 4 5 6 7 8; do
		mkdir -p w$i && echo "input $((i % 4))" >w$i/in.txt || return 1
	done &&
	for i in 1 2 3 4 5 6 7 8; do
		(cd w$i && "$PROCACHE" run --cache-dir "$TEST_ROOT/machine-c$((i % 2))" \
			--remote $URL/cache/t8/ --report r.json -- sh "$TEST_ROOT/job.sh" \
			>so 2>err; echo $? >rc) &
	done &&
	wait &&
	for i in 1 2 3 4 5 6 7 8; do
		test "$(cat w$i/rc)" = 3 &&
		echo "input $((i % 4))" >expect && test_cmp expect w$i/out/copy &&
		! grep -q "disabled" w$i/err || return 1
	done &&
	for i in 1 2 3 4; do
		(cd w$i && rm -rf out &&
		 "$PROCACHE" run --cache-dir "$TEST_ROOT/machine-c3" --remote $URL/cache/t8/ \
			--report r.json -- sh "$TEST_ROOT/job.sh" >so 2>err
		 test $? = 3 && expect_status hit r.json &&
		 echo "input $((i % 4))" >expect && test_cmp expect out/copy) || return 1
	done
'

test_done

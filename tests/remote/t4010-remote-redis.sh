#!/usr/bin/env bash
test_description='remote cache on Redis: two machines, a database number and a prefix, a TTL, read-only mode (no write command reaches the server), a server stopped mid-run, wrong credentials'
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-remote.sh"

redis_start redis --requirepass secret || exit 1
URL=redis://127.0.0.1:$REDIS_PORT
remote_config 1
export PROCACHE_REMOTE_PASSWORD=secret

rcli() { redis-cli -p "$REDIS_PORT" -a secret --no-auth-warning "$@"; }

remote_job "$TEST_ROOT/job.sh"

# calls NAME: how many times the server ran command NAME.
calls() {
	rcli info commandstats | sed -n "s/^cmdstat_$1:calls=\([0-9]*\),.*/\1/p" | grep . || echo 0
}

test_expect_success 'a job stored by one machine is a remote hit on another, with a byte-identical tree' '
	echo "hello" >in.txt &&
	prun 1 miss --remote $URL/3 -- sh "$TEST_ROOT/job.sh" >so1 &&
	test "$rc" = 5 &&
	tree_snapshot out >tree1 && rm -rf out &&
	rcli -n 3 keys "procache:*" >keys &&
	grep -q "^procache:b:" keys && grep -q "^procache:e:" keys && grep -q "^procache:k:" keys &&
	test "$(rcli -n 0 dbsize)" = 0 &&
	prun 2 hit --remote $URL/3 -- sh "$TEST_ROOT/job.sh" >so2 &&
	test "$rc" = 5 &&
	tree_snapshot out >tree2 &&
	test_cmp tree1 tree2 &&
	test_cmp so1 so2 &&
	test "$(remote_stat 2 hits)" = 1
'

test_expect_success 'a prefix and a TTL from the config file; blobs outlive the entries that name them; a hit renews them' '
	echo "ttl" >in.txt &&
	printf "{\"remote\": {\"prefix\": \"pfx/\", \"ttl\": \"1h\", \"timeout\": 1}}\n" >"$TEST_ROOT/ttl.json" &&
	prun 1 miss --config "$TEST_ROOT/ttl.json" --remote $URL/4 -- sh "$TEST_ROOT/job.sh" >/dev/null &&
	rcli -n 4 keys "pfx/*" >keys &&
	test $(wc -l <keys) -ge 4 &&
	while read -r k; do
		t=$(rcli -n 4 ttl "$k") &&
		case $k in
		pfx/b:*) test "$t" -gt 6600 && test "$t" -le 7200 ;;
		*) test "$t" -gt 3000 && test "$t" -le 3600 ;;
		esac || return 1
	done <keys &&
	: a remote hit renews the TTL of the entry, its index and its blobs, not in read-only mode &&
	for k in $(rcli -n 4 keys "pfx/*"); do
		rcli -n 4 expire "$k" 100 >/dev/null || return 1
	done &&
	rm -rf out &&
	prun 2 hit --config "$TEST_ROOT/ttl.json" --remote $URL/4 --remote-read-only -- sh "$TEST_ROOT/job.sh" >/dev/null &&
	for k in $(rcli -n 4 keys "pfx/*"); do
		test "$(rcli -n 4 ttl "$k")" -le 100 || return 1
	done &&
	rm -rf out &&
	prun 3 hit --config "$TEST_ROOT/ttl.json" --remote $URL/4 -- sh "$TEST_ROOT/job.sh" >/dev/null &&
	for k in $(rcli -n 4 keys "pfx/*"); do
		t=$(rcli -n 4 ttl "$k") &&
		case $k in
		pfx/b:*) test "$t" -gt 6600 ;;
		*) test "$t" -gt 3000 && test "$t" -le 3600 ;;
		esac || return 1
	done
'

test_expect_success 'an index grown far past its trim (2000 old ids): only the newest are read, a hit' '
	echo "big index" >in.txt && rm -rf out &&
	prun 1 miss --remote $URL/9 -- sh "$TEST_ROOT/job.sh" >/dev/null &&
	tree_snapshot out >tree1 && rm -rf out &&
	k=$(rcli -n 9 keys "procache:k:*") &&
	i=0 && args= &&
	while test $i -lt 2000; do
		args="$args $i $(printf %016x $i)" && i=$((i + 1)) || return 1
	done &&
	test "$(rcli -n 9 zadd "$k" $args)" = 2000 &&
	prun 2 hit --remote $URL/9 -- sh "$TEST_ROOT/job.sh" >/dev/null 2>err &&
	! grep -q remote err &&
	tree_snapshot out >tree2 &&
	test_cmp tree1 tree2
'

test_expect_success 'a server that trickles a reply for ever: the deadline ends it, one warning, a local-only run' '
	badhttp_start rtrickle rawtrickle &&
	echo "trickled" >in.txt && rm -rf out &&
	start=$(date +%s) &&
	prun 1 miss --remote redis://127.0.0.1:$BAD_PORT -- sh "$TEST_ROOT/job.sh" >so 2>err &&
	end=$(date +%s) &&
	test "$rc" = 5 &&
	# timeout 1 s: a deadline of 4 s, where each wait alone never expired
	test $((end - start)) -le 10 &&
	grep "remote cache .* disabled for this run: .*no reply in time" err &&
	test $(grep -c remote err) = 1 &&
	echo "trickled" >expect && test_cmp expect out/copy
'

test_expect_success 'a blob evicted from the server: a miss for that entry, no warning' '
	echo "evicted" >in.txt &&
	prun 1 miss --remote $URL/5 -- sh "$TEST_ROOT/job.sh" >/dev/null &&
	tree_snapshot out >tree1 && rm -rf out &&
	for k in $(rcli -n 5 keys "procache:b:*"); do
		test "$(rcli -n 5 strlen "$k")" -lt 50000 || rcli -n 5 del "$k" || return 1
	done &&
	prun 2 miss --remote $URL/5 -- sh "$TEST_ROOT/job.sh" >/dev/null 2>err &&
	test "$rc" = 5 &&
	! grep -q remote err &&
	tree_snapshot out >tree2 &&
	test_cmp tree1 tree2
'

test_expect_success '--remote-read-only: no write command reaches the server' '
	echo "read only" >in.txt &&
	sets=$(calls set) zadds=$(calls zadd) exists=$(calls exists) &&
	prun 1 miss --remote $URL/6 --remote-read-only -- sh "$TEST_ROOT/job.sh" >/dev/null 2>err &&
	test "$rc" = 5 &&
	! grep -q remote err &&
	test "$(calls set)" = "$sets" &&
	test "$(calls zadd)" = "$zadds" &&
	test "$(calls exists)" = "$exists" &&
	test "$(rcli -n 6 dbsize)" = 0
'

test_expect_success 'wrong credentials: one warning, a local-only run' '
	echo "auth" >in.txt &&
	PROCACHE_REMOTE_PASSWORD=badpw \
		prun 1 miss --remote $URL/7 -- sh "$TEST_ROOT/job.sh" >/dev/null 2>err &&
	test "$rc" = 5 &&
	grep "disabled for this run: .*WRONGPASS\|disabled for this run: .*invalid" err &&
	test $(wc -l <err) = 1 &&
	! grep -q badpw err &&
	env -u PROCACHE_REMOTE_PASSWORD \
		"$PROCACHE" run --cache-dir "$TEST_ROOT/machine-8" --remote $URL/7 \
		-- sh "$TEST_ROOT/job.sh" >/dev/null 2>err ||
	test $? = 5 &&
	grep "disabled for this run: .*NOAUTH.*(wrong or missing credentials?)" err
'

test_expect_success 'a server stopped mid-run: the job ends with its own status and outputs, one warning' '
	unset PROCACHE_REMOTE_PASSWORD &&
	redis_start second &&
	echo "mid-run" >in.txt &&
	cat >held.sh <<-EOF &&
	sh "$TEST_ROOT/job.sh" >/dev/null
	$JOB_HOLD
	EOF
	("$PROCACHE" run --cache-dir "$TEST_ROOT/machine-9" --report report.json \
		--remote redis://127.0.0.1:$REDIS_PORT -- sh held.sh >so 2>err; echo $? >rc) &
	test_wait_for 30 grep -q held err &&
	server_stop second &&
	job_release $(pgrep -f "machine-9" | head -1) &&
	wait &&
	test "$(cat rc)" = 0 &&
	expect_status miss &&
	echo "mid-run" >expect && test_cmp expect out/copy &&
	test $(grep -c "remote cache .* disabled for this run" err) = 1
'

test_expect_success 'a database number out of range, or a path that is not one, is refused' '
	test_expect_code 125 "$PROCACHE" run --cache-dir "$TEST_ROOT/machine-1" \
		--remote $URL/abc -- true 2>err &&
	grep "database number" err
'

test_done

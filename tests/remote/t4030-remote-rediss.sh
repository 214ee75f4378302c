#!/usr/bin/env bash
test_description='remote cache on Redis over TLS (rediss://): a hit across two machines, the certificate verified (a wrong CA or a wrong name is refused with one warning), a client certificate, a server that hangs in the handshake costs one timeout'
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-remote.sh"

redis_tls_start tls --requirepass secret || exit 1
URL=rediss://127.0.0.1:$REDIS_PORT
export PROCACHE_REMOTE_PASSWORD=secret
TLSDIR=$REDIS_DIR

# config CA [extra JSON]: a config file trusting CA, short timeouts.
config() {
	printf '{"remote": {"ca_file": "%s", "timeout": 5, "connect_timeout": 5%s}}\n' \
		"$1" "${2:-}" >"$TEST_ROOT/cfg.json"
}

rcli() {
	redis-cli --tls --cacert "$TLSDIR/server-ca.pem" -p "$REDIS_PORT" \
		-a secret --no-auth-warning "$@"
}

remote_job "$TEST_ROOT/job.sh"

test_expect_success 'a job stored by one machine is a hit on another through rediss://' '
	config "$TLSDIR/server-ca.pem" &&
	echo "hello" >in.txt &&
	prun 1 miss --config "$TEST_ROOT/cfg.json" --remote $URL/2 -- sh "$TEST_ROOT/job.sh" >so1 2>err &&
	test "$rc" = 5 && ! test -s err &&
	rcli -n 2 keys "procache:*" >keys &&
	grep -q "^procache:b:" keys && grep -q "^procache:e:" keys &&
	tree_snapshot out >tree1 && rm -rf out &&
	prun 2 hit --config "$TEST_ROOT/cfg.json" --remote $URL/2 -- sh "$TEST_ROOT/job.sh" >so2 &&
	test "$rc" = 5 &&
	tree_snapshot out >tree2 &&
	test_cmp tree1 tree2 && test_cmp so1 so2 &&
	test "$(remote_stat 2 hits)" = 1 &&
	test "$(remote_stat 2 bytes_down)" -gt 50000
'

test_expect_success 'a certificate from another CA: one warning, a local-only run' '
	config "$TLSDIR/client-ca.pem" &&
	echo "wrong ca" >in.txt &&
	prun 3 miss --config "$TEST_ROOT/cfg.json" --remote $URL/2 -- sh "$TEST_ROOT/job.sh" >so 2>err &&
	test "$rc" = 5 &&
	grep "remote cache .rediss://127.0.0.1:$REDIS_PORT/2. disabled for this run: TLS: the certificate of 127.0.0.1 is not trusted" err &&
	test $(wc -l <err) = 1 &&
	echo "wrong ca" >expect && test_cmp expect out/copy &&
	test "$(remote_stat 3 errors)" = 1 &&
	test "$(rcli -n 2 keys "procache:e:*" | wc -l)" = 1
'

test_expect_success 'the system store does not trust a private CA; the certificate must name the host' '
	echo "system store" >in.txt &&
	printf "{\"remote\": {\"timeout\": 5}}\n" >nocfg.json &&
	prun 4 miss --config nocfg.json --remote $URL/2 -- sh "$TEST_ROOT/job.sh" >so 2>err &&
	grep "disabled for this run: TLS: the certificate of 127.0.0.1 is not trusted.*remote.ca_file" err &&
	test $(wc -l <err) = 1 &&
	echo "wrong name" >in.txt && rm -rf out &&
	config "$TLSDIR/server-ca.pem" &&
	prun 4 miss --config "$TEST_ROOT/cfg.json" --remote rediss://localhost:$REDIS_PORT/2 \
		-- sh "$TEST_ROOT/job.sh" >so 2>err &&
	grep "disabled for this run: TLS: the certificate of localhost is not trusted: hostname mismatch" err &&
	test $(wc -l <err) = 1
'

test_expect_success 'wrong credentials over TLS: one warning, a local-only run' '
	config "$TLSDIR/server-ca.pem" &&
	echo "bad password" >in.txt &&
	PROCACHE_REMOTE_PASSWORD=nope \
		prun 5 miss --config "$TEST_ROOT/cfg.json" --remote $URL/2 -- sh "$TEST_ROOT/job.sh" >so 2>err &&
	test "$rc" = 5 &&
	grep "disabled for this run: redis AUTH: .*(wrong or missing credentials?)" err &&
	! grep -q nope err &&
	test $(wc -l <err) = 1
'

test_expect_success 'a server that wants a client certificate gets the configured one' '
	redis_tls_start mtls --tls-auth-clients yes &&
	MURL=rediss://127.0.0.1:$REDIS_PORT &&
	MDIR=$REDIS_DIR &&
	unset PROCACHE_REMOTE_PASSWORD &&
	config "$MDIR/server-ca.pem" &&
	echo "mtls" >in.txt &&
	prun 6 miss --config "$TEST_ROOT/cfg.json" --remote $MURL -- sh "$TEST_ROOT/job.sh" >so 2>err &&
	# the alert says why, unless the close of the server overtook it
	grep "disabled for this run: redis .*: \(TLS: .*certificate required\|Connection reset\|Broken pipe\)" err &&
	test $(wc -l <err) = 1 &&
	rm -rf out &&
	config "$MDIR/server-ca.pem" ", \"client_cert\": \"$MDIR/client.pem\", \"client_key\": \"$MDIR/client.key\"" &&
	prun 7 miss --config "$TEST_ROOT/cfg.json" --remote $MURL -- sh "$TEST_ROOT/job.sh" >so 2>err &&
	! test -s err &&
	rm -rf out &&
	prun 8 hit --config "$TEST_ROOT/cfg.json" --remote $MURL -- sh "$TEST_ROOT/job.sh" >so 2>err &&
	! test -s err
'

test_expect_success 'a server that hangs in the TLS handshake costs one connect timeout' '
	badhttp_start hang hang &&
	# the handshake is under the connect timeout, not the idle one
	printf "{\"remote\": {\"connect_timeout\": 1, \"timeout\": 20}}\n" >hcfg.json &&
	echo "hangs" >in.txt &&
	start=$(date +%s%N) &&
	prun 9 miss --config hcfg.json --remote rediss://127.0.0.1:$BAD_PORT -- sh "$TEST_ROOT/job.sh" >so 2>err &&
	end=$(date +%s%N) &&
	test "$rc" = 5 &&
	grep "disabled for this run: TLS handshake with 127.0.0.1 timed out" err &&
	test $(wc -l <err) = 1 &&
	# one second of timeout and the job (slow under sanitizers on a
	# loaded machine), far from the 20 s of the idle timeout or the 30 s
	# the server holds
	test $(( (end - start) / 1000000 )) -lt 12000
'

test_done

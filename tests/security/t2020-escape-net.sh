#!/usr/bin/env bash
test_description='escape suite: host services (Unix sockets, abstract sockets, loopback TCP, the network)'
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-escape.sh"

# daemon KIND ADDR LOG: a small server started by the test; every byte it
# receives is appended to LOG; LOG.ready appears once it listens (for tcp,
# LOG.port holds the port). Killed when the case ends.
daemon() {
	python3 - "$@" <<-\EOF &
	import socket, sys
	kind, addr, log = sys.argv[1:4]
	if kind == "tcp":
	    s = socket.socket()
	    s.bind(("127.0.0.1", 0))
	    open(log + ".port", "w").write(str(s.getsockname()[1]))
	else:
	    s = socket.socket(socket.AF_UNIX,
	                      socket.SOCK_DGRAM if kind == "dgram" else socket.SOCK_STREAM)
	    s.bind("\0" + addr if kind == "abstract" else addr)
	if kind != "dgram":
	    s.listen(8)
	open(log + ".ready", "w").close()
	while True:
	    if kind == "dgram":
	        d = s.recv(100)
	    else:
	        c, _ = s.accept()
	        d = c.recv(100) or b"(connected)\n"
	    with open(log, "ab") as f:
	        f.write(d)
	EOF
	daemon_pids="${daemon_pids:-} $!"
	test_when_finished "kill $!"
	test_wait_for 10 test -e "$3.ready"
}

# daemon_got_nothing KIND ADDR LOG: nothing reached the daemon of LOG but
# the "barrier" line sent now. The daemon handles what it receives in
# order, so once the barrier is in LOG, whatever the job sent before it is
# there too: no delay to guess.
daemon_got_nothing() {
	python3 - "$@" <<-\EOF &&
	import socket, sys
	kind, addr, log = sys.argv[1:4]
	if kind == "tcp":
	    s = socket.create_connection(("127.0.0.1", int(open(log + ".port").read())))
	else:
	    s = socket.socket(socket.AF_UNIX,
	                      socket.SOCK_DGRAM if kind == "dgram" else socket.SOCK_STREAM)
	    s.connect("\0" + addr if kind == "abstract" else addr)
	s.send(b"barrier\n")
	EOF
	test_wait_for 10 grep -q "^barrier$" "$3" &&
	echo barrier >"$3.expect" &&
	test_cmp "$3.expect" "$3"
}

test_expect_success 'untrusted: a host unix socket (stream and datagram, mode 0777) is refused with EACCES, nothing received' '
	open_cwd &&
	daemon unix "$TEST_DIR/s.sock" "$TEST_DIR/got" &&
	daemon dgram "$TEST_DIR/d.sock" "$TEST_DIR/gotd" &&
	chmod 0777 s.sock d.sock &&
	run uncacheable --untrusted -- sh -c "$ESC_SOCK unix $TEST_DIR/s.sock; $ESC_SOCK dgram $TEST_DIR/d.sock; $ESC_SOCK dgram-fd 5 $TEST_DIR/d.sock" >out &&
	printf "unix: EACCES\ndgram: EACCES\ndgram-fd: EACCES\n" >expect && test_cmp expect out &&
	grep "host unix socket $TEST_DIR/s.sock" report.json &&
	daemon_got_nothing unix "$TEST_DIR/s.sock" "$TEST_DIR/got" &&
	daemon_got_nothing dgram "$TEST_DIR/d.sock" "$TEST_DIR/gotd"
'

# Regression: the listener hand-over used to exempt fd 4 from the tracer's
# sendmsg checks; rootless, a root-owned directory is a read-only bind, so
# a world-writable host socket in it is the real socket.
test_expect_success UNPRIV_USER 'rootless untrusted: sendmsg to a host datagram socket through fd 4 (the hand-over number) is refused' '
	mkdir rootdir u && chown procache-test: u &&
	daemon dgram "$TEST_DIR/rootdir/d.sock" "$TEST_DIR/rootdir/got" &&
	chmod 0777 rootdir/d.sock &&
	(cd u && setpriv --reuid procache-test --regid procache-test --init-groups \
		env HOME="$TEST_DIR/u" PROCACHE_DIR="$TEST_DIR/u/cache" "$PROCACHE" run --untrusted --report report.json -- \
		sh -c "for fd in 3 4 5 6; do $ESC_SOCK dgram-fd \$fd $TEST_DIR/rootdir/d.sock; done; $ESC_SOCK dgram $TEST_DIR/rootdir/d.sock") >out &&
	printf "dgram-fd: EACCES\n%.0s" 1 2 3 4 >expect && echo "dgram: EACCES" >>expect &&
	test_cmp expect out &&
	daemon_got_nothing dgram "$TEST_DIR/rootdir/d.sock" "$TEST_DIR/rootdir/got"
'

test_expect_success 'untrusted: an abstract unix socket of the host is unreachable (own network namespace)' '
	name=procache-escape-$$-$RANDOM &&
	daemon abstract "$name" "$TEST_DIR/got" &&
	run miss --untrusted -- $ESC_SOCK abstract "$name" >out &&
	echo "abstract: ECONNREFUSED" >expect && test_cmp expect out &&
	daemon_got_nothing abstract "$name" "$TEST_DIR/got"
'

test_expect_success 'untrusted: a loopback TCP service of the host is unreachable' '
	daemon tcp - "$TEST_DIR/got" &&
	port=$(cat got.port) &&
	run miss --untrusted -- $ESC_SOCK tcp 127.0.0.1 "$port" >out &&
	echo "tcp: ECONNREFUSED" >expect && test_cmp expect out &&
	daemon_got_nothing tcp - "$TEST_DIR/got"
'

test_expect_success 'untrusted: an HTTP server on the host loopback is unreachable' '
	open_cwd && echo secret >index.html &&
	python3 -m http.server --bind 127.0.0.1 0 >http.log 2>&1 &
	pid=$! && test_when_finished "kill $pid" &&
	test_wait_for 10 grep -q "port" http.log &&
	port=$(sed -n "s/.*port \([0-9]*\).*/\1/p" http.log | head -n 1) && test -n "$port" &&
	run miss --untrusted -- python3 -c "
import urllib.request, sys
try:
    print(urllib.request.urlopen(\"http://127.0.0.1:$port/index.html\", timeout=3).read())
except OSError as e:
    print(\"refused\", type(e).__name__)" >out &&
	grep "^refused" out && ! grep secret out &&
	! grep "GET /" http.log
'

test_expect_success 'untrusted: the network: no route anywhere, only lo' '
	addr=$(ip -4 -o addr show scope global | sed -n "s/.* inet \([0-9.]*\).*/\1/p" | head -n 1) &&
	test -n "$addr" &&
	run miss --untrusted -- sh -c "$ESC_SOCK tcp $addr 22; $ESC_SOCK tcp 10.255.255.1 80; ip -o link | cut -d: -f2; ip route" >out &&
	printf "tcp: ENETUNREACH\ntcp: ENETUNREACH\n lo\n" >expect &&
	test_cmp expect out
'

test_expect_success 'untrusted: the job gets a session of its own, not the host hostname' '
	run miss --untrusted -- sh -c "hostname; cat /proc/sys/kernel/hostname" >out &&
	printf "localhost\nlocalhost\n" >expect && test_cmp expect out
'

# Regression: rootless, a directory the job could not write was shown as a
# read-only bind (the host's own inodes): the tracer checks a connect()
# address and lets the kernel read it again, so a job swapping it from
# another thread reached a host socket within a few tries; and deny-only
# mode (--no-trace) does not check addresses at all. Untrusted, such
# directories are overlays now: the kernel refuses to connect to a lower
# socket through one.
test_expect_success UNPRIV_USER 'rootless untrusted: racing the tracer on connect() does not reach a host socket' '
	mkdir rootdir u && chown procache-test: u &&
	daemon unix "$TEST_DIR/rootdir/s.sock" "$TEST_DIR/rootdir/got" &&
	chmod 0777 rootdir/s.sock &&
	(cd u && setpriv --reuid procache-test --regid procache-test --init-groups \
		env HOME="$TEST_DIR/u" PROCACHE_DIR="$TEST_DIR/u/cache" "$PROCACHE" run --untrusted --report report.json -- \
		$ESC_SOCK race "$TEST_DIR/rootdir/s.sock" "$TEST_DIR/rootdir/x.sock" 3) >out &&
	echo "race: ECONNREFUSED" >expect && test_cmp expect out &&
	daemon_got_nothing unix "$TEST_DIR/rootdir/s.sock" "$TEST_DIR/rootdir/got"
'

test_expect_success UNPRIV_USER 'rootless untrusted --no-trace: a host unix socket is refused' '
	mkdir rootdir u && chown procache-test: u &&
	daemon unix "$TEST_DIR/rootdir/s.sock" "$TEST_DIR/rootdir/got" &&
	daemon dgram "$TEST_DIR/rootdir/d.sock" "$TEST_DIR/rootdir/gotd" &&
	chmod 0777 rootdir/s.sock rootdir/d.sock &&
	(cd u && setpriv --reuid procache-test --regid procache-test --init-groups \
		env HOME="$TEST_DIR/u" PROCACHE_DIR="$TEST_DIR/u/cache" "$PROCACHE" run --untrusted --no-trace -- \
		sh -c "$ESC_SOCK unix $TEST_DIR/rootdir/s.sock; $ESC_SOCK dgram $TEST_DIR/rootdir/d.sock") >out &&
	printf "unix: ECONNREFUSED\ndgram: ECONNREFUSED\n" >expect && test_cmp expect out &&
	daemon_got_nothing unix "$TEST_DIR/rootdir/s.sock" "$TEST_DIR/rootdir/got" &&
	daemon_got_nothing dgram "$TEST_DIR/rootdir/d.sock" "$TEST_DIR/rootdir/gotd"
'

test_done

# tests/remote/lib-remote.sh — real servers for the remote cache tests
# (sourced after ../lib.sh): nginx with WebDAV PUT, redis-server, and a
# small python3 server that misbehaves on purpose (badhttp.py). Each is
# started on a free loopback port with a directory and a config of its
# own under $TEST_ROOT, and stopped when the script exits.
#
#	nginx_start NAME [EXTRA-SERVER-CONFIG]   sets NGINX_PORT, NGINX_DIR
#	redis_start NAME [redis-server options]  sets REDIS_PORT, REDIS_DIR
#	redis_tls_start NAME [options]           sets REDIS_PORT (TLS only), REDIS_DIR
#	badhttp_start NAME MODE                  sets BAD_PORT
#	server_stop NAME
#
# nginx serves $NGINX_DIR/www on $NGINX_PORT, and with TLS on
# $NGINX_TLS_PORT (/cache/ only; a self-signed $NGINX_DIR/cert.pem for
# 127.0.0.1); /cache/ takes PUT (and DELETE, PROPFIND), /fail/
# answers 500 to everything, /ka/ closes a connection after its third
# answer (as /cache/ otherwise), /ro/ refuses anything but GET and HEAD (403),
# /auth/ wants user "ci" with password "secret", /bearer/ wants
# "Authorization: Bearer tok". Its access log is $NGINX_DIR/access.log.

# The pids, in a variable: test_done removes $TEST_ROOT (and the pid
# files) before the EXIT trap runs.
REMOTE_PIDS=
remote_stop_all() {
	local p
	for p in $REMOTE_PIDS; do
		kill "$p" 2>/dev/null
	done
}
trap remote_stop_all EXIT

# remote_started PID: stopped at the end of the case that started it (a
# case runs in a subshell, so the script's list does not see it) or of
# the script.
remote_started() {
	REMOTE_PIDS="$REMOTE_PIDS $1"
	test_when_finished "kill $1"
}
exec 9>&2

# free_port: a TCP port nothing listens on now.
free_port() {
	"$PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# wait_port PORT: until something accepts on 127.0.0.1:PORT.
port_open() { "$PYTHON" -c 'import socket,sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()' "$1"; }
wait_port() { test_wait_for 10 port_open "$1"; }

server_stop() {
	local pidfile=$TEST_ROOT/srv-$1/pid pid
	[ -r "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	kill "$pid" 2>/dev/null
	test_wait_for 10 ! kill -0 "$pid" 2>/dev/null
	rm -f "$pidfile"
}

nginx_start() {
	local name=$1 extra=${2:-} d=$TEST_ROOT/srv-$1
	NGINX_PORT=$(free_port)
	NGINX_TLS_PORT=$(free_port)
	NGINX_DIR=$d
	mkdir -p "$d/www/cache" "$d/www/ro" "$d/www/auth" "$d/www/bearer" "$d/tmp"
	echo 'ci:{PLAIN}secret' >"$d/htpasswd"
	# A self-signed certificate for 127.0.0.1: https with verification.
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$d/key.pem" \
		-out "$d/cert.pem" 2>/dev/null || return 1
	cat >"$d/nginx.conf" <<-CONF
	load_module /usr/lib/nginx/modules/ngx_http_dav_ext_module.so;
	user $(id -un) $(id -gn);
	worker_processes 1;
	daemon on;
	error_log $d/error.log;
	pid $d/pid;
	events { worker_connections 128; }
	http {
		access_log $d/access.log;
		client_body_temp_path $d/tmp;
		proxy_temp_path $d/tmp;
		fastcgi_temp_path $d/tmp;
		uwsgi_temp_path $d/tmp;
		scgi_temp_path $d/tmp;
		server {
			listen 127.0.0.1:$NGINX_PORT;
			root $d/www;
			location /cache/ {
				dav_methods PUT DELETE;
				dav_ext_methods PROPFIND;
				create_full_put_path on;
				client_max_body_size 0;
			}
			location /ka/ {
				keepalive_requests 3;
				dav_methods PUT;
				create_full_put_path on;
				client_max_body_size 0;
			}
			location /fail/ { return 500; }
			location /ro/ {
				limit_except GET { deny all; }
			}
			location /auth/ {
				auth_basic "procache";
				auth_basic_user_file $d/htpasswd;
				dav_methods PUT;
				create_full_put_path on;
			}
			location /bearer/ {
				if (\$http_authorization != "Bearer tok") { return 401; }
				dav_methods PUT;
				create_full_put_path on;
			}
			$extra
		}
		server {
			listen 127.0.0.1:$NGINX_TLS_PORT ssl;
			ssl_certificate $d/cert.pem;
			ssl_certificate_key $d/key.pem;
			root $d/www;
			location /cache/ {
				dav_methods PUT DELETE;
				dav_ext_methods PROPFIND;
				create_full_put_path on;
				client_max_body_size 0;
			}
		}
	}
	CONF
	nginx -c "$d/nginx.conf" -e "$d/error.log" || return 1
	test_wait_for 10 test -s "$d/pid" &&
	remote_started "$(cat "$d/pid")" &&
	wait_port "$NGINX_PORT"
}

# redis_launch [options]: redis-server in $REDIS_DIR, up on $REDIS_PORT.
redis_launch() {
	local d=$REDIS_DIR
	redis-server --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
		--pidfile "$d/pid" --dir "$d" --logfile "$d/log" "$@" || return 1
	test_wait_for 10 test -s "$d/pid" &&
	remote_started "$(cat "$d/pid")" &&
	wait_port "$REDIS_PORT"
}

redis_start() {
	REDIS_DIR=$TEST_ROOT/srv-$1
	REDIS_PORT=$(free_port)
	shift
	mkdir -p "$REDIS_DIR" &&
	redis_launch --port "$REDIS_PORT" "$@"
}

# tls_make_ca DIR NAME: a CA (DIR/NAME-ca.pem) and a certificate it signs
# for 127.0.0.1, not for localhost (DIR/NAME.pem, DIR/NAME.key).
tls_make_ca() {
	local d=$1 n=$2
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$n test CA" \
		-keyout "$d/$n-ca.key" -out "$d/$n-ca.pem" 2>/dev/null &&
	openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
		-keyout "$d/$n.key" -out "$d/$n.csr" 2>/dev/null &&
	printf 'subjectAltName=IP:127.0.0.1\n' >"$d/$n.ext" &&
	openssl x509 -req -in "$d/$n.csr" -CA "$d/$n-ca.pem" -CAkey "$d/$n-ca.key" \
		-CAcreateserial -days 2 -extfile "$d/$n.ext" -out "$d/$n.pem" 2>/dev/null
}

# redis_tls_start NAME [options]: redis-server speaking TLS only (Debian's
# is built with it), with a certificate from the CA $REDIS_DIR/server-ca.pem;
# clients present no certificate unless the options say
# "--tls-auth-clients yes" (then one from $REDIS_DIR/client-ca.pem).
redis_tls_start() {
	local d=$TEST_ROOT/srv-$1
	REDIS_DIR=$d
	REDIS_PORT=$(free_port)
	shift
	mkdir -p "$d" &&
	tls_make_ca "$d" server && tls_make_ca "$d" client &&
	redis_launch --port 0 --tls-port "$REDIS_PORT" \
		--tls-cert-file "$d/server.pem" --tls-key-file "$d/server.key" \
		--tls-ca-cert-file "$d/client-ca.pem" --tls-auth-clients no "$@"
}

# remote_job FILE: a job with two files (one of 50000 bytes), stdout and
# exit status 5, reading in.txt.
remote_job() {
	cat >"$1" <<-\JOB
	mkdir -p out
	cat in.txt >out/copy
	{ cat in.txt && head -c 50000 /dev/zero | tr "\0" r; } >out/big
	echo "said"
	exit 5
	JOB
}

badhttp_start() {
	local name=$1 mode=$2 d=$TEST_ROOT/srv-$1
	BAD_PORT=$(free_port)
	mkdir -p "$d"
	"$PYTHON" "$TEST_SRC_DIR/badhttp.py" "$BAD_PORT" "$mode" >"$d/log" 2>&1 &
	echo $! >"$d/pid"
	remote_started $!
	wait_port "$BAD_PORT"
}

# remote_config SECONDS: a config file with short timeouts, in $HOME.
remote_config() {
	mkdir -p "$HOME/.config/procache" &&
	printf '{"remote": {"connect_timeout": %s, "timeout": %s}}\n' "$1" "$1" \
		>"$HOME/.config/procache/config.json"
}

# prun MACHINE STATUS [options] -- CMD: procache run with the cache of
# MACHINE (a directory of its own: two machines share only the server),
# a report, and the expected status. procache's exit status in $rc.
prun() {
	local m=$1 want=$2
	shift 2
	rc=0
	"$PROCACHE" run --cache-dir "$TEST_ROOT/machine-$m" --report report.json "$@" || rc=$?
	# Said on the script's stderr: the case may redirect its own.
	expect_status "$want" 2>&9
}

# remote_stat MACHINE KEY: one of the remote counters of MACHINE's cache.
remote_stat() {
	"$PROCACHE" cache --cache-dir "$TEST_ROOT/machine-$1" stats --json >stats.json &&
	json_get stats.json "remote_$2"
}

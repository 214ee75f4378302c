#!/usr/bin/env bash
# The remote cache (DESIGN.md section 11), nginx (WebDAV PUT) and Redis on
# loopback ports, started here with configs of their own:
#  1. the gcc compile job of cache-hit.sh: a hit from the remote with a
#     cold local cache (the local cache removed before every run), over
#     nginx, over Redis and over Redis with TLS (rediss://), against a local procache hit and a ccache
#     remote hit (remote_storage on the same nginx, its local cache removed
#     before every run);
#  2. the 900-job batch (batch.sh's jobs) all hit from a cold local cache,
#     against all hit from a warm one;
#  3. the upload after a miss, as a ratio of the miss (each run a fresh
#     remote prefix, so every blob is sent);
#  4. start-up: `procache --version` of this binary, which links hiredis
#     statically and loads libcurl (libssl) only when an https (rediss)
#     remote is used.
#   QUICK=1: fewer runs, 90 batch jobs.
. "$(dirname "$0")/lib.sh"
set -e
runs=$(bench_runs 20 5)
warm=$(bench_runs 3 1)
n=$([ -n "$QUICK" ] && echo 90 || echo 900)
trap 'kill $(cat "$BENCH_SCRATCH"/*.pid 2>/dev/null) 2>/dev/null; bench_cleanup' EXIT

port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() {
	for _ in $(seq 100); do
		python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2)' "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "bench: nothing listens on port $1" >&2
	return 1
}

# nginx
d=$BENCH_SCRATCH/nginx
mkdir -p "$d/www/cache" "$d/www/ccache" "$d/tmp"
NPORT=$(port)
cat >"$d/nginx.conf" <<CONF
user $(id -un) $(id -gn);
worker_processes 1;
error_log $d/error.log;
pid $BENCH_SCRATCH/nginx.pid;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path $d/tmp;
	proxy_temp_path $d/tmp;
	fastcgi_temp_path $d/tmp;
	uwsgi_temp_path $d/tmp;
	scgi_temp_path $d/tmp;
	server {
		listen 127.0.0.1:$NPORT;
		root $d/www;
		location / {
			dav_methods PUT DELETE;
			create_full_put_path on;
			client_max_body_size 0;
		}
	}
}
CONF
nginx -c "$d/nginx.conf" -e "$d/error.log"
wait_port "$NPORT"
# Redis
RPORT=$(port)
redis-server --port "$RPORT" --bind 127.0.0.1 --save "" --appendonly no \
	--daemonize yes --pidfile "$BENCH_SCRATCH/redis.pid" --dir "$BENCH_SCRATCH" \
	--logfile "$BENCH_SCRATCH/redis.log"
wait_port "$RPORT"
# Redis with TLS: a self-signed certificate, trusted through remote.ca_file.
TPORT=$(port)
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$BENCH_SCRATCH/tls.key" \
	-out "$BENCH_SCRATCH/tls.pem" 2>/dev/null
redis-server --port 0 --tls-port "$TPORT" --bind 127.0.0.1 --tls-auth-clients no \
	--tls-cert-file "$BENCH_SCRATCH/tls.pem" --tls-key-file "$BENCH_SCRATCH/tls.key" \
	--save "" --appendonly no --daemonize yes --pidfile "$BENCH_SCRATCH/rediss.pid" \
	--dir "$BENCH_SCRATCH" --logfile "$BENCH_SCRATCH/rediss.log"
wait_port "$TPORT"
printf '{"remote": {"ca_file": "%s"}}\n' "$BENCH_SCRATCH/tls.pem" >"$BENCH_SCRATCH/tls.json"
HTTP=http://127.0.0.1:$NPORT/cache/
REDIS=redis://127.0.0.1:$RPORT/1
REDISS=rediss://127.0.0.1:$TPORT/1

# 1. The compile job (as cache-hit.sh).
w=$BENCH_SCRATCH/w
mkdir -p "$w"
cd "$w"
bench_compile_job
find . -exec touch -d "1 hour ago" {} +
sleep 2.2	# the stat cache trusts files whose mtime and ctime are 2 s old
cc="gcc -Iinclude -O1 -c x.c -o x.o"
warmc=$BENCH_SCRATCH/warm cold=$BENCH_SCRATCH/cold
pc="$PROCACHE run $BENCH_HF_ENV"
# Fill: one writer run for each remote (and the warm local cache).
rm -f x.o && $pc --cache-dir "$warmc" --remote "$HTTP" -- $cc
rm -f x.o && $pc --cache-dir "$BENCH_SCRATCH/w2" --remote "$REDIS" -- $cc
rm -f x.o && $pc --config "$BENCH_SCRATCH/tls.json" --cache-dir "$BENCH_SCRATCH/w3" --remote "$REDISS" -- $cc
for r in "$HTTP" "$REDIS" "$REDISS"; do
	rm -rf "$cold" x.o
	$pc --config "$BENCH_SCRATCH/tls.json" --cache-dir "$cold" --remote "$r" --report "$BENCH_SCRATCH/r.json" -- $cc
	grep -q '"remote":.*"hit"' "$BENCH_SCRATCH/r.json" ||
		{ echo "bench: no remote hit from $r:" >&2; cat "$BENCH_SCRATCH/r.json" >&2; exit 1; }
done
# ccache with the same nginx as its remote storage, its local cache cold.
export CCACHE_DIR=$BENCH_SCRATCH/ccache CCACHE_REMOTE_STORAGE="http://127.0.0.1:$NPORT/ccache/"
ccache $cc >/dev/null
rm -rf "$CCACHE_DIR" && ccache -z >/dev/null && rm -f x.o && ccache $cc
ccache -s -v | grep -Eiq 'remote storage.*|Hits: +1' ||
	{ echo "bench: no ccache remote hit" >&2; ccache -s -v >&2; exit 1; }
# "cold": the entries and blobs removed (what a fresh machine lacks and the
# remote gives), the stat cache kept (a fresh machine builds it with its
# first jobs); "empty": the whole cache directory removed.
hyperfine -N -w "$warm" -r "$runs" --export-json "$BENCH_SCRATCH/hf.json" \
	--command-name local --prepare "rm -f x.o" "$pc --cache-dir $warmc -- $cc" \
	--command-name http --prepare "rm -rf $cold/keys $cold/blobs x.o" "$pc --cache-dir $cold --remote $HTTP -- $cc" \
	--command-name redis --prepare "rm -rf $cold/keys $cold/blobs x.o" "$pc --cache-dir $cold --remote $REDIS -- $cc" \
	--command-name rediss --prepare "rm -rf $cold/keys $cold/blobs x.o" "$pc --config $BENCH_SCRATCH/tls.json --cache-dir $cold --remote $REDISS -- $cc" \
	--command-name ccache --prepare "rm -rf $CCACHE_DIR x.o" "ccache $cc" \
	--command-name gcc --prepare "rm -f x.o" "$cc" \
	--command-name empty --prepare "rm -rf $cold x.o" "$pc --cache-dir $cold --remote $HTTP -- $cc" >&2
rm -rf "$CCACHE_DIR" && ccache -z >/dev/null && rm -f x.o && ccache $cc >/dev/null
ccache_remote=$(ccache -s -v | grep -Ei -A3 'remote storage' | tr -s ' ' | tr '\n' ';' || :)
read -r l_m l_lo l_hi < <(bench_hf "$BENCH_SCRATCH/hf.json" 0)
read -r h_m h_lo h_hi < <(bench_hf "$BENCH_SCRATCH/hf.json" 1)
read -r r_m r_lo r_hi < <(bench_hf "$BENCH_SCRATCH/hf.json" 2)
read -r t_m t_lo t_hi < <(bench_hf "$BENCH_SCRATCH/hf.json" 3)
read -r c_m c_lo c_hi < <(bench_hf "$BENCH_SCRATCH/hf.json" 4)
read -r g_m g_lo g_hi < <(bench_hf "$BENCH_SCRATCH/hf.json" 5)
read -r e_m e_lo e_hi < <(bench_hf "$BENCH_SCRATCH/hf.json" 6)

# 3. Upload cost: a miss with an upload to a fresh prefix against a miss
# without a remote (--refresh: always a miss; fresh prefixes: every blob
# is sent).
tm() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(((e - s) / 1000)); }
up=() plain=()
for ((i = 0; i < runs; i++)); do
	plain+=("$(tm $PROCACHE run --refresh --cache-dir "$warmc" -- $cc)")
	up+=("$(tm $PROCACHE run --refresh --cache-dir "$warmc" --remote "http://127.0.0.1:$NPORT/up$i/" -- $cc)")
done
read -r p_m p_lo p_hi < <(printf '%s\n' "${plain[@]}" | bench_stats)
read -r u_m u_lo u_hi < <(printf '%s\n' "${up[@]}" | bench_stats)
ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }

# 4. Start-up.
bench_time "procache --version" "$runs" -- "$PROCACHE" --version
s_m=$BENCH_MEDIAN s_lo=$BENCH_MIN s_hi=$BENCH_MAX
libs=$(ldd "$PROCACHE" | awk '{ print $1 }' | tr '\n' ' ')

# 2. The batch, all hits from a cold local cache.
gen=${WORKLOADS:-$BENCH_TOP/../shared/workloads}/gen-batch.sh
[ -f "$gen" ] || gen=/work/shared/workloads/gen-batch.sh
b=$BENCH_SCRATCH/batch
cp "$gen" "$BENCH_SCRATCH/gen-batch.sh"
bash "$BENCH_SCRATCH/gen-batch.sh" "$b" "$n" 100 >/dev/null
find "$b" -exec touch -d "1 hour ago" {} +
sleep 2.2
cd "$b"
batch() { ls inputs | xargs -P2 -I{} "$PROCACHE" run --cache-dir "$1" ${2:+--remote "$2"} -- ./job.sh inputs/{} outputs/{}.out; }
elapsed() { local s e; s=$(date +%s%N); "$@"; e=$(date +%s%N); awk -v d=$((e - s)) 'BEGIN { print d / 1e9 }'; }
batch "$BENCH_SCRATCH/bw" "$HTTP"	# the writer: misses, uploads
t_local=() t_http=() t_redis=()
batch "$BENCH_SCRATCH/bw2" "$REDIS"
for ((i = 0; i < $(bench_runs 2 1); i++)); do
	t_local+=("$(elapsed batch "$BENCH_SCRATCH/bw")")
	rm -rf "$BENCH_SCRATCH/bc"
	t_http+=("$(elapsed batch "$BENCH_SCRATCH/bc" "$HTTP")")
	hits=$(PROCACHE_DIR=$BENCH_SCRATCH/bc bench_pc_stat hits)
	rm -rf "$BENCH_SCRATCH/bc"
	t_redis+=("$(elapsed batch "$BENCH_SCRATCH/bc" "$REDIS")")
done
rhits=$(PROCACHE_DIR=$BENCH_SCRATCH/bc "$PROCACHE" cache stats --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["remote_hits"])')
read -r bl_m bl_lo bl_hi < <(printf '%s\n' "${t_local[@]}" | bench_stats)
read -r bh_m bh_lo bh_hi < <(printf '%s\n' "${t_http[@]}" | bench_stats)
read -r br_m br_lo br_hi < <(printf '%s\n' "${t_redis[@]}" | bench_stats)

echo "## Remote cache: nginx and Redis on loopback"
echo
echo "The compile job of the hit-latency section (\`$cc\`), \`hyperfine -N -w $warm -r $runs\`,"
echo "the commands interleaved. *Cold* runs remove the local cache's entries and blobs"
echo "before every run (\`--prepare 'rm -rf cold/keys cold/blobs x.o'\`; its stat cache"
echo "stays, as it does on a fresh machine after its first jobs), so each is a remote hit:"
echo "index, entry, blobs fetched and verified, backfilled, applied; *empty* removes the"
echo "whole cache directory (every input hashed anew, gcc's programs included). plain"
echo "http goes through procache's own HTTP client, Redis through its own connection"
echo "(rediss://: libssl loaded at the first connection, a full TLS handshake every run,"
echo "the certificate verified against a CA file). ccache 4 uses the same nginx as"
echo "\`remote_storage\` with its own local cache removed before every run"
echo "(ccache's counters: ${ccache_remote:-n/a})."
echo
echo "| command | median ms | min ms | max ms | / local procache hit | / ccache remote hit |"
echo "|---|---|---|---|---|---|"
echo "| procache, local hit | $l_m | $l_lo | $l_hi | 1.00 | $(bench_ratio "$l_m" "$c_m") |"
echo "| procache, cold local, nginx remote hit | $h_m | $h_lo | $h_hi | $(bench_ratio "$h_m" "$l_m") | $(bench_ratio "$h_m" "$c_m") |"
echo "| procache, cold local, Redis remote hit | $r_m | $r_lo | $r_hi | $(bench_ratio "$r_m" "$l_m") | $(bench_ratio "$r_m" "$c_m") |"
echo "| procache, cold local, Redis over TLS (rediss://) remote hit | $t_m | $t_lo | $t_hi | $(bench_ratio "$t_m" "$l_m") | $(bench_ratio "$t_m" "$c_m") |"
echo "| procache, empty local cache, nginx remote hit | $e_m | $e_lo | $e_hi | $(bench_ratio "$e_m" "$l_m") | $(bench_ratio "$e_m" "$c_m") |"
echo "| ccache, cold local, nginx remote hit | $c_m | $c_lo | $c_hi | $(bench_ratio "$c_m" "$l_m") | 1.00 |"
echo "| plain gcc | $g_m | $g_lo | $g_hi | $(bench_ratio "$g_m" "$l_m") | $(bench_ratio "$g_m" "$c_m") |"
echo
bench_target "remote hit with a cold local cache / local hit (nginx)" "$(bench_ratio "$h_m" "$l_m")" 2.00
bench_target "remote hit with a cold local cache / ccache remote hit (nginx)" "$(bench_ratio "$h_m" "$c_m")" 1.00
echo
echo "**Upload on a miss.** \`procache run --refresh\` of the same job ($runs runs each),"
echo "without a remote and with an nginx remote at a fresh prefix every run (every"
echo "blob HEADed and PUT, then the entry and the index):"
echo
echo "| run | median ms | min ms | max ms |"
echo "|---|---|---|---|"
echo "| miss, no remote | $(ms "$p_m") | $(ms "$p_lo") | $(ms "$p_hi") |"
echo "| miss, upload to nginx | $(ms "$u_m") | $(ms "$u_lo") | $(ms "$u_hi") |"
echo
echo "Upload cost: $(bench_ratio "$u_m" "$p_m")× the miss without a remote."
echo
echo "**The batch.** $n jobs (batch.sh's) through \`xargs -P2\`, all hits: from the warm"
echo "local cache, and from a cold local cache (removed before each run) with every"
echo "job a remote hit ($rhits remote hits in the last Redis run):"
echo
echo "| run | median s | min s | max s | / local |"
echo "|---|---|---|---|---|"
echo "| all hit, local | $bl_m | $bl_lo | $bl_hi | 1.00 |"
echo "| all hit, cold local, nginx | $bh_m | $bh_lo | $bh_hi | $(bench_ratio "$bh_m" "$bl_m") |"
echo "| all hit, cold local, Redis | $br_m | $br_lo | $br_hi | $(bench_ratio "$br_m" "$bl_m") |"
echo
echo "**Start-up.** \`procache --version\`: median $(bench_ms "$s_m") ms (min $(bench_ms "$s_lo"), max"
echo "$(bench_ms "$s_hi")). Shared libraries loaded at start: $libs— libcurl and libssl"
echo "are not among them (dlopen'd on the first https request, the first rediss://"
echo "connection), hiredis is linked statically."

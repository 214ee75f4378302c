#!/usr/bin/env bash
test_description='cache: store and lookup, integrity (each damage a clean miss), format version, procache cache commands'
. "$(dirname "$0")/lib.sh"

# The cache is driven by the C driver in the lookup unit test, so these
# cases do not depend on `procache run`.
DRIVER="$PROCACHE_BUILD/tests/unit/test-lookup"
drv() { "$DRIVER" driver "$@"; }

# entry_file ID: the path of entry KEY/ID.
entry_file() { echo "$PROCACHE_DIR/keys/${1:0:2}/$1.entry"; }
# blob_file HEX
blob_file() { echo "$PROCACHE_DIR/blobs/${1:0:2}/$1"; }

# rewrap FILE PYTHON-EXPR: apply a Python expression to the payload bytes
# (variable p; the binary payload of cache/entrybin.c) of entry FILE and
# write it back with a valid envelope, so that only the payload checks can
# catch it. S(b) is the payload's string b (its length, then its bytes),
# at(b) where it is in p, cwd the current directory (bytes).
rewrap() {
	python3 - "$1" "$2" <<'EOF'
import os, struct, subprocess, sys
path, expr = sys.argv[1], sys.argv[2]
data = open(path, 'rb').read()
p = data[40:]
cwd = os.getcwdb()
def S(b): return struct.pack("<I", len(b)) + b
def at(b): return p.index(S(b))
p = eval(expr)
h = subprocess.run(['xxh128sum', '-'], input=p, capture_output=True, check=True).stdout.split()[0]
hdr = b'PCENTRY\n' + struct.pack("<IIQ", struct.unpack("<I", data[8:12])[0], 0, len(p)) + bytes.fromhex(h.decode())
os.chmod(path, 0o644)
open(path, 'wb').write(hdr + p)
EOF
}

test_expect_success 'store then lookup: miss, hit, miss after the input changes' '
	echo one >in &&
	test_must_fail drv lookup -k argv=cc -k cwd=/x >out &&
	grep -q "^miss" out &&
	drv store -k argv=cc -k cwd=/x -c "$PWD/in" -x 7 >id &&
	drv lookup -k argv=cc -k cwd=/x >out &&
	grep -q "^hit $(cat id)" out &&
	echo two >in &&
	test_must_fail drv lookup -k argv=cc -k cwd=/x
'

test_expect_success 'many candidates under one key: the one whose inputs hold is chosen' '
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
		echo "variant $i" >in &&
		drv store -k argv=gen -c "$PWD/in" -a "$PWD/absent$i" -x $i >id$i || return 1
	done &&
	ls "$PROCACHE_DIR"/keys/*/$(cut -d/ -f1 id1)/*.entry >entries &&
	test $(wc -l <entries) = 12 &&
	for i in 3 12 1 7; do
		echo "variant $i" >in &&
		drv lookup -k argv=gen >out &&
		grep -q "^hit $(cat id$i)" out || return 1
	done &&
	echo "variant 5" >in && >absent5 &&
	test_must_fail drv lookup -k argv=gen
'

test_expect_success 'a hit applies its files and replays stdout' '
	mkdir root && echo "data" >captured && echo "said" >so &&
	drv store -k argv=apply -o "$PWD/root/f.txt=$PWD/captured" -O "$PWD/so" >id &&
	test_path_is_missing captured &&
	drv apply -k argv=apply -r "$PWD/root" >replayed &&
	echo said >expect && test_cmp expect replayed &&
	echo data >expect && test_cmp expect root/f.txt
'

# setup_damage NAME: an entry (key argv=NAME) with a file change and stdout.
setup_damage() {
	mkdir -p root && echo "payload $1" >captured && echo "out $1" >so &&
	drv store -k argv=$1 -o "$PWD/root/f=$PWD/captured" -O "$PWD/so" >id &&
	drv lookup -k argv=$1 >/dev/null
}

# clean_miss NAME: lookup and apply miss with one warning; nothing applied.
clean_miss() {
	test_must_fail drv apply -k argv=$1 -r "$PWD/root" >out 2>err &&
	test_path_is_missing root/f &&
	test ! -s out &&
	grep -q "warning: removing corrupt cache entry" err &&
	test $(wc -l <err) = 1 &&
	test_path_is_missing "$(entry_file $(cat id))" &&
	test_must_fail drv lookup -k argv=$1 2>err2 &&
	test ! -s err2
}

test_expect_success 'a truncated entry is a clean miss and is removed' '
	setup_damage trunc &&
	f=$(entry_file $(cat id)) && chmod u+w "$f" &&
	truncate -s 100 "$f" &&
	clean_miss trunc
'

test_expect_success 'a flipped byte in an entry is a clean miss' '
	setup_damage flip &&
	f=$(entry_file $(cat id)) && chmod u+w "$f" &&
	size=$(stat -c %s "$f") &&
	# a byte changed: the binary payload has many zero bytes
	byte=$(od -An -tu1 -j $((size / 2)) -N1 "$f") &&
	if test $byte = 0; then new="\\x01"; else new="\\x00"; fi &&
	printf "$new" | dd of="$f" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null &&
	clean_miss flip
'

test_expect_success 'a flipped byte in a blob is a clean miss' '
	setup_damage blobflip &&
	h=$(printf "payload blobflip\n" | xxh128sum | cut -d" " -f1) &&
	b=$(blob_file $h) && test -f "$b" && chmod u+w "$b" &&
	printf "X" | dd of="$b" bs=1 seek=2 conv=notrunc 2>/dev/null &&
	clean_miss blobflip &&
	test_path_is_missing "$b"
'

test_expect_success 'a deleted blob is a clean miss' '
	setup_damage blobgone &&
	h=$(printf "out blobgone\n" | xxh128sum | cut -d" " -f1) &&
	rm "$(blob_file $h)" &&
	clean_miss blobgone
'

test_expect_success 'an entry naming a ../ path (valid checksum) is a clean miss' '
	setup_damage dotdot &&
	f=$(entry_file $(cat id)) &&
	rewrap "$f" "p.replace(S(cwd + b\"/root/f\"), S(cwd + b\"/root/../f\"))" &&
	clean_miss dotdot &&
	grep -q "unsafe path" err
'

test_expect_success 'an entry with an unknown key or kind (valid checksum) is a clean miss' '
	setup_damage unknown &&
	f=$(entry_file $(cat id)) &&
	# the file change: its kind byte (1) comes before its flags and path
	rewrap "$f" "p[:at(cwd + b\"/root/f\") - 2] + bytes([9]) + p[at(cwd + b\"/root/f\") - 1:]" &&
	clean_miss unknown &&
	grep -q "unknown change kind" err
'

test_expect_success 'a cache of another format version is refused clearly' '
	mkdir other && echo "procache cache format 9" >other/FORMAT &&
	test_expect_code 125 "$PROCACHE" cache --cache-dir "$PWD/other" stats 2>err &&
	grep -q "has format .procache cache format 9." err &&
	test_must_fail env PROCACHE_DIR="$PWD/other" "$DRIVER" driver lookup -k argv=x 2>err &&
	grep -q "format 9" err
'

test_expect_success 'a non-empty directory that is no cache is not taken over' '
	mkdir notacache && echo precious >notacache/file &&
	test_expect_code 125 "$PROCACHE" cache --cache-dir "$PWD/notacache" stats 2>err &&
	grep -q "not a procache cache" err &&
	test_path_is_missing notacache/FORMAT
'

test_expect_success 'a new cache has CACHEDIR.TAG and FORMAT' '
	"$PROCACHE" cache --cache-dir "$PWD/fresh" stats >/dev/null &&
	grep -q "^Signature: 8a477f597d28d172789f06886806bc55" fresh/CACHEDIR.TAG &&
	echo "procache cache format 1" >expect && test_cmp expect fresh/FORMAT
'

test_expect_success 'processes creating one new cache at once all succeed' '
	for round in 1 2 3 4 5; do
		for p in 1 2 3 4 5 6 7 8; do
			{ "$PROCACHE" cache --cache-dir "$PWD/new$round" stats >/dev/null 2>err$round.$p & } ||
			return 1
		done &&
		for p in 1 2 3 4 5 6 7 8; do wait -n; echo $?; done >rcs$round &&
		test "$(sort -u rcs$round)" = 0 || { cat err$round.*; return 1; }
	done
'

test_expect_success '8 concurrent processes storing and looking up leave a clean cache' '
	export PROCACHE_DIR="$PWD/conc" &&
	echo shared >in &&
	for p in 1 2 3 4 5 6 7 8; do
		{ (
			for i in 1 2 3 4 5 6 7 8 9 10; do
				echo "p$p i$i" >out$p.$i && echo "so $i" >so$p.$i &&
				drv store -k argv=same -c "$PWD/in" -o "/o/same$i=$PWD/out$p.$i" -O "$PWD/so$p.$i" >/dev/null &&
				drv lookup -k argv=same >/dev/null &&
				echo "mine $p $i" >mine$p.$i &&
				drv store -k argv=p$p -k i=$i -o "/o/f=$PWD/mine$p.$i" >/dev/null &&
				drv lookup -k argv=p$p -k i=$i >/dev/null || exit 1
			done
		) >log$p 2>&1 & } || return 1
	done &&
	for p in 1 2 3 4 5 6 7 8; do wait -n; echo $?; done >rcs &&
	test "$(sort -u rcs)" = 0 &&
	! grep -q . log* &&
	"$PROCACHE" cache verify >report &&
	grep -q "0 bad; .* 0 bad" report &&
	"$PROCACHE" cache ls >ls &&
	test $(wc -l <ls) = 81
'

test_expect_success 'cache stats, ls, show' '
	export PROCACHE_DIR="$PWD/c" &&
	echo hi >so && drv store -k argv=echo -k argv=hi -O "$PWD/so" -x 3 >id &&
	drv lookup -k argv=echo -k argv=hi >/dev/null &&
	"$PROCACHE" cache ls >ls &&
	grep -q "^$(cat id) .* 1 hits  echo hi$" ls &&
	"$PROCACHE" cache show last >show &&
	grep -q "^entry      $(cat id)" show &&
	grep -q "^exit       code 3" show &&
	"$PROCACHE" cache show --json "$(cut -c1-6 id)" >show.json &&
	test "$(json_get show.json id)" = "$(cat id)" &&
	test "$(json_get show.json result.exit.code)" = 3 &&
	# options anywhere before "--", as git takes them
	"$PROCACHE" cache show last --json >show2.json &&
	test_cmp show.json show2.json &&
	"$PROCACHE" cache show "$(cut -c1-6 id)" --json --cache-dir "$PROCACHE_DIR" >show3.json &&
	test_cmp show.json show3.json &&
	"$PROCACHE" cache --cache-dir "$PROCACHE_DIR" ls --json >ls1.json &&
	"$PROCACHE" cache ls --cache-dir "$PROCACHE_DIR" --json >ls2.json &&
	test_cmp ls1.json ls2.json &&
	# after "--", "--json" is an entry name (there is none of that name)
	test_expect_code 1 "$PROCACHE" cache show -- --json 2>err &&
	test_expect_code 125 "$PROCACHE" cache show last extra --json 2>err &&
	grep -q "unexpected argument .extra." err &&
	"$PROCACHE" cache show "$(cut -d/ -f2 id)" >/dev/null &&
	test_expect_code 1 "$PROCACHE" cache show 0000000000000000 2>err &&
	grep -q "no cache entry" err &&
	"$PROCACHE" cache stats --json >stats.json &&
	test "$(json_get stats.json entries)" = 1 &&
	test "$(json_get stats.json stores)" = 1 &&
	"$PROCACHE" cache stats >stats.txt &&
	grep -q "^entries *1" stats.txt
'

test_expect_success 'cache stats counts outcomes, reasons by category, time saved' '
	export PROCACHE_DIR="$PWD/st" &&
	drv store -k argv=s >/dev/null &&
	drv lookup -k argv=s >/dev/null && drv lookup -k argv=s >/dev/null &&
	test_must_fail drv lookup -k argv=other &&
	drv uncacheable "syscall mount" &&
	drv uncacheable "input changed during the run: /etc/a" &&
	drv uncacheable "input changed during the run: /etc/b" &&
	"$PROCACHE" cache stats --json >s.json &&
	test "$(json_get s.json hits)" = 2 &&
	test "$(json_get s.json misses)" = 1 &&
	test "$(json_get s.json uncacheable)" = 3 &&
	test "$(json_get s.json saved_s)" = 3 &&
	test "$(json_get s.json "uncacheable_reasons.input changed during the run")" = 2 &&
	test "$(json_get s.json "uncacheable_reasons.syscall mount")" = 1 &&
	"$PROCACHE" cache stats --zero &&
	"$PROCACHE" cache stats --json >s.json &&
	test "$(json_get s.json hits)" = 0 &&
	test "$(json_get s.json entries)" = 1
'

test_expect_success 'counters are updated in place: a shard that shrinks (stats --zero) stays whole; no temporary file' '
	export PROCACHE_DIR="$PWD/inplace" &&
	drv store -k argv=i >/dev/null &&
	for i in 1 2 3 4 5 6 7 8; do
		drv uncacheable "syscall mount $i" || return 1
	done &&
	"$PROCACHE" cache stats --zero &&
	drv lookup -k argv=i >/dev/null &&
	"$PROCACHE" cache stats --json >s.json &&
	test "$(json_get s.json hits)" = 1 &&
	test "$(json_get s.json uncacheable)" = 0 &&
	find "$PROCACHE_DIR/stats" -name ".tmp*" >tmps &&
	test ! -s tmps
'

test_expect_success 'counters of format 1 (JSON) are read and carried over; damage counts as zero' '
	export PROCACHE_DIR="$PWD/st1" &&
	drv store -k argv=s1 >/dev/null &&
	for n in $(seq 0 15); do
		printf "%s" "{\"version\":1,\"hits\":7,\"misses\":1,\"uncacheable\":2,\"errors\":0,\"stores\":1,\"saved_s\":1.5,\"bytes\":0,\"reasons\":{\"syscall mount\":2}}" >"$PROCACHE_DIR/stats/$n" || return 1
	done &&
	"$PROCACHE" cache stats --json >s.json &&
	test "$(json_get s.json hits)" = 112 &&
	test "$(json_get s.json "uncacheable_reasons.syscall mount")" = 32 &&
	drv lookup -k argv=s1 >/dev/null &&
	drv uncacheable "syscall mount" &&
	"$PROCACHE" cache stats --json >s.json &&
	test "$(json_get s.json hits)" = 113 &&
	test "$(json_get s.json "uncacheable_reasons.syscall mount")" = 33 &&
	# the shards written since are binary (format 2)
	grep -L version "$PROCACHE_DIR"/stats/[0-9] "$PROCACHE_DIR"/stats/[0-9][0-9] >bin-shards &&
	test -s bin-shards &&
	for n in $(seq 0 15); do
		printf "PCSTATS\\n\\002\\000\\000\\000junk" >"$PROCACHE_DIR/stats/$n" || return 1
	done &&
	"$PROCACHE" cache stats --json >s.json &&
	test "$(json_get s.json hits)" = 0
'

test_expect_success 'gc to a size keeps the most recently used entries' '
	export PROCACHE_DIR="$PWD/gc" &&
	for i in 1 2 3 4 5 6; do
		head -c 100000 /dev/urandom >big$i &&
		drv store -k argv=job$i -o "/o/big=$PWD/big$i" >id$i || return 1
	done &&
	# Make every entry and blob old, then use 5 and 2 again.
	find "$PROCACHE_DIR/keys" "$PROCACHE_DIR/blobs" -type f -exec touch -d "3 hours ago" {} + &&
	drv lookup -k argv=job5 >/dev/null &&
	drv lookup -k argv=job2 >/dev/null &&
	"$PROCACHE" cache gc --max-size 250K >out &&
	grep -q "removed 4 entries and 4 blobs" out &&
	drv lookup -k argv=job2 && drv lookup -k argv=job5 &&
	test_must_fail drv lookup -k argv=job1 &&
	test_must_fail drv lookup -k argv=job6 &&
	test $(find "$PROCACHE_DIR/blobs" -type f | wc -l) -le 3 &&
	"$PROCACHE" cache verify
'

test_expect_success 'gc --max-age removes entries not used for that long' '
	export PROCACHE_DIR="$PWD/age" &&
	drv store -k argv=old >/dev/null && drv store -k argv=new >/dev/null &&
	touch -d "3 days ago" "$PROCACHE_DIR"/keys/*/*/*.entry &&
	drv lookup -k argv=new >/dev/null &&
	"$PROCACHE" cache gc --max-age=2d >out &&
	grep -q "removed 1 entries" out &&
	drv lookup -k argv=new && test_must_fail drv lookup -k argv=old
'

test_expect_success 'gc removes the temporary file of a counter shard left by a killed run' '
	export PROCACHE_DIR="$PWD/killed" &&
	"$PROCACHE" cache stats >/dev/null &&
	echo partial >"$PROCACHE_DIR/stats/.tmp.3.1234.deadbeef" &&
	echo recent >"$PROCACHE_DIR/stats/.tmp.4.1235.deadbeef" &&
	touch -d "3 hours ago" "$PROCACHE_DIR/stats/.tmp.3.1234.deadbeef" &&
	"$PROCACHE" cache gc >/dev/null &&
	test_path_is_missing "$PROCACHE_DIR/stats/.tmp.3.1234.deadbeef" &&
	test_path_is_file "$PROCACHE_DIR/stats/.tmp.4.1235.deadbeef" &&
	rm "$PROCACHE_DIR/stats/.tmp.4.1235.deadbeef" &&
	"$PROCACHE" cache stats >/dev/null
'

test_expect_success 'PROCACHE_MAX_SIZE is kept after stores' '
	export PROCACHE_DIR="$PWD/auto" &&
	for i in 1 2 3 4 5 6 7 8; do
		head -c 50000 /dev/urandom >b$i &&
		drv store -k argv=a$i -o "/o/b=$PWD/b$i" >/dev/null &&
		find "$PROCACHE_DIR/keys" "$PROCACHE_DIR/blobs" -type f -exec touch -d "1 hour ago" {} + || return 1
	done &&
	PROCACHE_MAX_SIZE=200K drv store -k argv=last >/dev/null &&
	"$PROCACHE" cache stats --json >s.json &&
	test "$(json_get s.json bytes)" -le 204800 &&
	drv lookup -k argv=last && drv lookup -k argv=a8
'

test_expect_success 'verify finds damage and --fix removes it' '
	export PROCACHE_DIR="$PWD/v" &&
	echo a >a && echo b >b &&
	drv store -k argv=a -o "/o/a=$PWD/a" >ida &&
	drv store -k argv=b -o "/o/b=$PWD/b" >idb &&
	"$PROCACHE" cache verify &&
	h=$(printf "a\n" | xxh128sum | cut -d" " -f1) &&
	chmod u+w "$(blob_file $h)" && echo X >"$(blob_file $h)" &&
	test_expect_code 1 "$PROCACHE" cache verify >report &&
	grep -q "bad blob .$h." report &&
	grep -q "bad entry .$(cat ida)." report &&
	"$PROCACHE" cache verify --fix >report &&
	"$PROCACHE" cache verify &&
	drv lookup -k argv=b
'

test_expect_success 'a unit entry (key field unit, files copied) in ls, show, stats, verify, gc' '
	export PROCACHE_DIR="$PWD/units" &&
	echo "unit out" >uo && echo "unit file" >uf &&
	drv store -p -k unit=1 -k argv=cc -k argv=-c -O "$PWD/uo" \
		-o "/v/a.o=$PWD/uf" -x 0 >idu &&
	# copy mode: the captured files stay, whole
	test "$(cat uo)" = "unit out" && test "$(cat uf)" = "unit file" &&
	echo job >jo && drv store -k argv=cc -k argv=-c -O "$PWD/jo" >idj &&
	test ! -e jo &&
	drv lookup -k unit=1 -k argv=cc -k argv=-c >/dev/null &&
	"$PROCACHE" cache ls >ls &&
	test $(wc -l <ls) = 2 &&
	grep -q "^$(cat idu) .* 1 hits  unit: cc -c$" ls &&
	grep -q "^$(cat idj) .* 0 hits  cc -c$" ls &&
	"$PROCACHE" cache ls --json >ls.json &&
	grep -q "\"unit\":[[:space:]]*true" ls.json &&
	grep -q "\"unit\":[[:space:]]*false" ls.json &&
	"$PROCACHE" cache show "$(cat idu)" >show &&
	grep -q "unit" show &&
	"$PROCACHE" cache stats --json >stats.json &&
	test "$(json_get stats.json entries)" = 2 &&
	test "$(json_get stats.json stores)" = 2 &&
	"$PROCACHE" cache verify >report &&
	"$PROCACHE" cache gc --max-age 1d >/dev/null &&
	drv lookup -k unit=1 -k argv=cc -k argv=-c >/dev/null &&
	"$PROCACHE" cache gc --max-size 1 >/dev/null &&
	test_must_fail drv lookup -k unit=1 -k argv=cc -k argv=-c &&
	"$PROCACHE" cache ls >ls && test ! -s ls
'

test_expect_success 'cache clear removes every entry and blob' '
	export PROCACHE_DIR="$PWD/clr" &&
	echo x >x && drv store -k argv=x -o "/o/x=$PWD/x" >/dev/null &&
	"$PROCACHE" cache clear &&
	test_must_fail drv lookup -k argv=x &&
	test -z "$(find "$PROCACHE_DIR/blobs" "$PROCACHE_DIR/keys" -type f)" &&
	test -f "$PROCACHE_DIR/FORMAT"
'

test_expect_success 'cache subcommands: --help, unknown options, missing values exit 125' '
	for s in stats ls show gc verify clear; do
		"$PROCACHE" cache $s --help >out && grep -q "^usage: procache cache $s" out || return 1
		test_expect_code 125 "$PROCACHE" cache $s --bogus 2>err &&
		test $(wc -l <err) = 1 && grep -q "see .procache cache $s --help." err || return 1
	done &&
	test_expect_code 125 "$PROCACHE" cache gc --max-size 2>err &&
	grep -q "needs a value" err &&
	test_expect_code 125 "$PROCACHE" cache gc --max-size 10Q 2>err &&
	grep -q "invalid size" err &&
	test_expect_code 125 "$PROCACHE" cache gc --max-age=soon 2>err &&
	test_expect_code 125 "$PROCACHE" cache show 2>err &&
	grep -q "missing ENTRY" err &&
	test_expect_code 125 "$PROCACHE" cache frobnicate 2>err &&
	test_expect_code 125 "$PROCACHE" cache 2>err &&
	"$PROCACHE" cache gc --max-size=1G --max-age 7d >/dev/null
'

test_done

#!/usr/bin/env bash
test_description='configuration file: precedence, unknown keys, procache config'
. "$(dirname "$0")/lib.sh"

test_expect_success 'procache config prints defaults and sources' '
	"$PROCACHE" config >out &&
	grep -q "^config_file = none" out &&
	grep -q "^cache_dir = $PROCACHE_DIR	(\$PROCACHE_DIR)" out &&
	grep -q "^max_size = 5368709120	(default)" out
'

test_expect_success 'values from the config file, with their source' '
	mkdir -p "$HOME/.config/procache" &&
	test_when_finished "rm -rf $HOME/.config/procache" &&
	cat >"$HOME/.config/procache/config.json" <<-EOF &&
	{ "cache_dir": "$TEST_DIR/c", "max_size": "10M", "masks": ["/secret"],
	  "env": { "set": { "LC_ALL": "C" } }, "limits": { "timeout": "5m", "pids": 100 } }
	EOF
	(unset PROCACHE_DIR && "$PROCACHE" config >out) &&
	grep -q "^cache_dir = $TEST_DIR/c	(config file)" out &&
	grep -q "^max_size = 10485760	(config file)" out &&
	grep -q "^masks = /secret	(config file)" out &&
	grep -q "^env.set = LC_ALL=C	(config file)" out &&
	grep -q "^limits.timeout = 300	(config file)" out &&
	grep -q "^limits.pids = 100	(config file)" out
'

test_expect_success 'the environment beats the file, the command line beats both' '
	echo "{ \"cache_dir\": \"$TEST_DIR/fromfile\" }" >cfg.json &&
	"$PROCACHE" config --config cfg.json >out &&
	grep -q "^cache_dir = $PROCACHE_DIR	(\$PROCACHE_DIR)" out &&
	"$PROCACHE" config --config cfg.json --cache-dir "$TEST_DIR/flag" >out &&
	grep -q "^cache_dir = $TEST_DIR/flag	(--cache-dir)" out &&
	(unset PROCACHE_DIR && "$PROCACHE" config --config cfg.json >out) &&
	grep -q "^cache_dir = $TEST_DIR/fromfile	(config file)" out
'

test_expect_success 'unknown keys and bad values are errors naming the key' '
	echo "{ \"cache_dirr\": \"x\" }" >bad1.json &&
	test_expect_code 125 "$PROCACHE" config --config bad1.json 2>err &&
	grep -q "cache_dirr" err &&
	echo "{ \"limits\": { \"pids\": \"many\" } }" >bad2.json &&
	test_expect_code 125 "$PROCACHE" config --config bad2.json 2>err &&
	grep -q "pids" err &&
	echo "{ \"env\": { \"set\": { \"A\": 1 } } }" >bad3.json &&
	test_expect_code 125 "$PROCACHE" config --config bad3.json 2>err &&
	grep -q "env.set" err &&
	echo "{ not json" >bad4.json &&
	test_expect_code 125 "$PROCACHE" config --config bad4.json 2>err &&
	grep -q "bad4.json" err
'

test_expect_success 'a missing --config file is an error, a missing default file is not' '
	test_expect_code 125 "$PROCACHE" config --config nosuch.json 2>err &&
	grep -q "cannot read config file" err &&
	"$PROCACHE" config >/dev/null
'

test_done

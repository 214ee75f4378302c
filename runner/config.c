/*
 * procache config: print the effective configuration and where each value
 * comes from.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "common/die.h"
#include "runner/commands.h"
#include "runner/runner.h"
#include "common/banned.h"

static const char config_usage[] =
	"usage: procache config [--cache-dir DIR]\n"
	"\n"
	"Print the effective configuration and where each value comes from.\n";

int cmd_config(int argc, char **argv)
{
	const char *flag = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(config_usage, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--cache-dir") && i + 1 < argc) {
			flag = argv[++i];
		} else if (!strncmp(argv[i], "--cache-dir=", 12)) {
			flag = argv[i] + 12;
		} else {
			die("unknown argument '%s'; see 'procache config --help'",
			    argv[i]);
		}
	}
	struct strbuf dir = STRBUF_INIT;
	resolve_cache_dir(flag, &dir);
	const char *src = flag ? "--cache-dir"
		: getenv("PROCACHE_DIR") && *getenv("PROCACHE_DIR") ? "$PROCACHE_DIR"
		: getenv("XDG_CACHE_HOME") && *getenv("XDG_CACHE_HOME") ? "$XDG_CACHE_HOME"
		: "$HOME";
	printf("cache_dir = %s\t(from %s)\n", dir.buf, src);
	const char *max = getenv("PROCACHE_MAX_SIZE");
	if (max && *max) {
		uint64_t v;
		if (cache_parse_size(max, &v) < 0)
			die("invalid $PROCACHE_MAX_SIZE '%s'", max);
		printf("max_size = %s\t(from $PROCACHE_MAX_SIZE)\n", max);
	} else {
		printf("max_size = none\t(default)\n");
	}
	strbuf_release(&dir);
	return 0;
}

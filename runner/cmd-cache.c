/*
 * procache cache {stats,ls,show,gc,verify,clear}: looking after the cache.
 *
 *	procache cache [--cache-dir DIR] [--config FILE] SUBCOMMAND [OPTIONS]
 *
 * Every subcommand also takes --cache-dir and -h/--help. Unknown options
 * and missing arguments are one line on stderr with a hint, exit 125.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache/cache.h"
#include "common/cleanup.h"
#include "common/die.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "runner/commands.h"
#include "runner/config.h"
#include "runner/remote.h"
#include "runner/util.h"
#include "common/banned.h"

static const char cache_usage[] =
	"usage: procache cache [--cache-dir DIR] [--config FILE] SUBCOMMAND [OPTIONS]\n"
	"\n"
	"Subcommands:\n"
	"  stats [--json] [--zero]          counters, entries, blobs, size\n"
	"  ls [--json]                      entries, most recently used first\n"
	"  show ENTRY|last [--json]         one entry: key fields, preconditions, outputs\n"
	"  gc [--max-size SIZE] [--max-age AGE]\n"
	"                                   remove least recently used entries, then\n"
	"                                   unreferenced blobs (SIZE: 500M, 2G; AGE: 12h, 7d)\n"
	"  gc --remote --max-age AGE        the same on the configured HTTP remote\n"
	"  verify [--fix]                   check every entry and blob (exit 1 if bad)\n"
	"  clear                            remove every entry and blob\n"
	"  batch [--json] [--clear] [NAME]  a batch's runs: hits, misses, why not\n"
	"                                   stored, time spent and saved (default: last)\n"
	"\n"
	"'procache cache SUBCOMMAND --help' describes each one.\n";

struct sub_ctx {
	const char *cache_dir_flag;
	const char *config_path;
};

/*
 * The cache, the remote's mode into *@remote_mode, and with @remote the
 * configured remote's handle (dies when there is none).
 */
static struct cache *open_from_ctx(const struct sub_ctx *ctx,
				   char **remote_mode, struct cache_remote **remote)
{
	struct pc_config cfg;
	struct pc_settings set;
	struct remote_settings rs;
	struct strbuf mode = STRBUF_INIT;
	struct cache *c;

	config_read(ctx->config_path, ctx->cache_dir_flag, &cfg, &set);
	remote_resolve(&cfg.remote, NULL, false, false, &rs);
	remote_describe(&rs, &mode);
	*remote_mode = strbuf_detach(&mode, NULL);
	if (remote) {
		if (!rs.url)
			die("cache: no remote is set ($PROCACHE_REMOTE or the config file's remote.url)");
		*remote = remote_open_or_die(&rs);
	}
	remote_settings_release(&rs);
	c = open_cache_or_die(set.cache_dir, set.max_size);
	config_settings_release(&set);
	config_release(&cfg);
	return c;
}

static void human_size(uint64_t n, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%" PRIu64 " B", n);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
}

static void human_age(int64_t secs, char *buf, size_t len)
{
	if (secs < 0)
		secs = 0;
	if (secs < 120)
		snprintf(buf, len, "%" PRId64 "s", secs);
	else if (secs < 7200)
		snprintf(buf, len, "%" PRId64 "m", secs / 60);
	else if (secs < 172800)
		snprintf(buf, len, "%" PRId64 "h", secs / 3600);
	else
		snprintf(buf, len, "%" PRId64 "d", secs / 86400);
}

static void print_json(cJSON *o)
{
	char *text = json_print_output(o, true);

	puts(text);
	free(text);
}

enum { OPT_JSON = 256, OPT_ZERO, OPT_FIX, OPT_MAX_SIZE, OPT_MAX_AGE, OPT_CACHE_DIR,
       OPT_BATCH, OPT_CLEAR, OPT_REMOTE };

/* Every subcommand's options come first in its table. */
#define COMMON_OPTS                                                  \
	{ "help", no_argument, NULL, 'h' },                          \
	{ "cache-dir", required_argument, NULL, OPT_CACHE_DIR }

/* What the options of a subcommand said (each takes only its own). */
struct sub_opts {
	bool json, zero, fix, clear, remote;
	bool has_max_size;
	const char *batch;	/* stats --batch NAME, batch's NAME */
	uint64_t max_size, max_age;
	const char *entry;	/* show's ENTRY */
	char *remote_mode;	/* remote_describe(): "off", "read-only URL"... */
	struct cache_remote *rm;	/* gc --remote: the configured remote */
};

/*
 * A subcommand: its help, its own options (--help and --cache-dir are
 * every subcommand's), whether it takes an ENTRY, and what it does with
 * the open cache. @fn returns the exit status; the caller closes @c.
 */
struct subcommand {
	const char *name;
	int (*fn)(struct cache *c, const struct sub_opts *so);
	const char *usage;
	const struct option *opts;
	bool takes_entry;
	bool entry_optional;	/* takes one operand or none */
};

/*
 * getopt_long for subcommand @sub: errors are one line with a hint, 125.
 * Returns the option, or -1 at the end.
 */
static int sub_getopt(int argc, char **argv, const char *sub,
		      const struct option *opts)
{
	int opt;

	opterr = 0;
	opt = getopt_long(argc, argv, ":h", opts, NULL);
	if (opt == '?') {
		if (optopt)
			die("cache %s: unknown option '-%c' (see 'procache cache %s --help')",
			    sub, optopt, sub);
		die("cache %s: unknown option '%s' (see 'procache cache %s --help')",
		    sub, argv[optind - 1], sub);
	}
	if (opt == ':')
		die("cache %s: option '%s' needs a value (see 'procache cache %s --help')",
		    sub, argv[optind - 1], sub);
	return opt;
}

/*
 * Parse the options and operands of @sc (argv[0] is its name) into @so
 * and @ctx (--cache-dir). --help prints the help and exits 0; anything
 * else not for @sc dies (125) with a hint.
 */
static void parse_sub(int argc, char **argv, const struct subcommand *sc,
		      struct sub_ctx *ctx, struct sub_opts *so)
{
	const char *sub = sc->name;
	int opt;

	memset(so, 0, sizeof(*so));
	while ((opt = sub_getopt(argc, argv, sub, sc->opts)) != -1) {
		switch (opt) {
		case 'h':
			fputs(sc->usage, stdout);
			exit(0);
		case OPT_CACHE_DIR:
			if (!*optarg)
				die("cache %s: option '--cache-dir' needs a non-empty path", sub);
			ctx->cache_dir_flag = optarg;
			break;
		case OPT_JSON:
			so->json = true;
			break;
		case OPT_ZERO:
			so->zero = true;
			break;
		case OPT_FIX:
			so->fix = true;
			break;
		case OPT_CLEAR:
			so->clear = true;
			break;
		case OPT_REMOTE:
			so->remote = true;
			break;
		case OPT_BATCH:
			if (cache_batch_name_check(optarg) < 0)
				die("cache %s: invalid batch name '%s'", sub, optarg);
			so->batch = optarg;
			break;
		case OPT_MAX_SIZE:
			if (parse_size(optarg, &so->max_size) < 0)
				die("cache %s: invalid size '%s' (expected e.g. 500M or 2G)",
				    sub, optarg);
			so->has_max_size = true;
			break;
		case OPT_MAX_AGE:
			if (parse_age(optarg, &so->max_age) < 0 || !so->max_age)
				die("cache %s: invalid age '%s' (expected e.g. 12h or 7d)",
				    sub, optarg);
			break;
		default:
			BUG("option %d of 'cache %s' not handled", opt, sub);
		}
	}
	if (sc->entry_optional) {
		if (optind + 1 < argc)
			die("cache %s: unexpected argument '%s' (see 'procache cache %s --help')",
			    sub, argv[optind + 1], sub);
		if (optind < argc && cache_batch_name_check(argv[optind]) < 0)
			die("cache %s: invalid batch name '%s'", sub, argv[optind]);
		so->batch = optind < argc ? argv[optind] : NULL;
	} else if (sc->takes_entry) {
		if (optind >= argc)
			die("cache %s: missing ENTRY (an entry name from 'procache cache ls', or 'last')",
			    sub);
		if (optind + 1 < argc)
			die("cache %s: unexpected argument '%s' (see 'procache cache %s --help')",
			    sub, argv[optind + 1], sub);
		so->entry = argv[optind];
	} else if (optind < argc) {
		die("cache %s: unexpected argument '%s' (see 'procache cache %s --help')",
		    sub, argv[optind], sub);
	}
}

/* ---- stats ------------------------------------------------------------ */

static const char stats_usage[] =
	"usage: procache cache stats [--json] [--zero] [--batch NAME]\n"
	"\n"
	"Print the cache's counters (hits, misses, uncacheable runs by reason,\n"
	"time saved) and its size (entries, blobs, bytes, from a scan).\n"
	"  --json         print one JSON object\n"
	"  --zero         reset the counters to zero (sizes are kept)\n"
	"  --batch NAME   the summary of batch NAME instead ('procache cache batch')\n";
static const struct option stats_opts[] = {
	COMMON_OPTS,
	{ "json", no_argument, NULL, OPT_JSON },
	{ "zero", no_argument, NULL, OPT_ZERO },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ NULL, 0, NULL, 0 },
};

static int cache_batch_cmd(struct cache *c, const struct sub_opts *so);

static int cache_stats_cmd(struct cache *c, const struct sub_opts *so)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct cache_stats_summary s;
	const cJSON *it;
	char size[32];

	if (so->batch) {
		if (so->zero)
			die("cache stats: '--zero' and '--batch' exclude each other ('procache cache batch --clear NAME' forgets a batch)");
		return cache_batch_cmd(c, so);
	}
	if (so->zero) {
		if (cache_stats_zero(c, &err) < 0)
			die("%s", err.buf);
		return 0;
	}
	if (cache_stats_get(c, &s, &err) < 0)
		die("%s", err.buf);
	if (so->json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "cache_dir", cache_path(c));
		cJSON_AddNumberToObject(o, "entries", (double)s.entries);
		cJSON_AddNumberToObject(o, "keys", (double)s.keys);
		cJSON_AddNumberToObject(o, "blobs", (double)s.blobs);
		cJSON_AddNumberToObject(o, "bytes", (double)s.bytes);
		cJSON_AddNumberToObject(o, "disk_bytes", (double)s.disk_bytes);
		cJSON_AddNumberToObject(o, "run_dirs", (double)s.run_dirs);
		cJSON_AddNumberToObject(o, "max_size", (double)cache_max_size(c));
		cJSON_AddNumberToObject(o, "hits", (double)s.hits);
		cJSON_AddNumberToObject(o, "misses", (double)s.misses);
		cJSON_AddNumberToObject(o, "uncacheable", (double)s.uncacheable);
		cJSON_AddNumberToObject(o, "errors", (double)s.errors);
		cJSON_AddNumberToObject(o, "stores", (double)s.stores);
		cJSON_AddNumberToObject(o, "saved_s", s.saved_s);
		cJSON_AddItemToObject(o, "uncacheable_reasons",
				      s.uncacheable_reasons);
		cJSON_AddStringToObject(o, "remote_mode", so->remote_mode);
		cJSON_AddNumberToObject(o, "remote_hits", (double)s.remote.hits);
		cJSON_AddNumberToObject(o, "remote_misses", (double)s.remote.misses);
		cJSON_AddNumberToObject(o, "remote_errors", (double)s.remote.errors);
		cJSON_AddNumberToObject(o, "remote_bytes_up", (double)s.remote.bytes_up);
		cJSON_AddNumberToObject(o, "remote_bytes_down", (double)s.remote.bytes_down);
		s.uncacheable_reasons = NULL;
		print_json(o);
		cJSON_Delete(o);
	} else {
		uint64_t runs = s.hits + s.misses;

		human_size(s.bytes, size, sizeof(size));
		printf("cache directory      %s\n", cache_path(c));
		printf("entries              %" PRIu64 " (%" PRIu64 " keys)\n",
		       s.entries, s.keys);
		printf("blobs                %" PRIu64 "\n", s.blobs);
		printf("size                 %s", size);
		if (cache_max_size(c)) {
			human_size(cache_max_size(c), size, sizeof(size));
			printf(" (max %s)", size);
		}
		printf("\n");
		human_size(s.disk_bytes, size, sizeof(size));
		printf("on disk              %s (all of the cache directory, %" PRIu64 " run directories)\n",
		       size, s.run_dirs);
		printf("hits                 %" PRIu64, s.hits);
		if (runs)
			printf(" (%.1f%% of cacheable runs)",
			       100.0 * (double)s.hits / (double)runs);
		printf("\nmisses               %" PRIu64 "\n", s.misses);
		printf("uncacheable          %" PRIu64 "\n", s.uncacheable);
		cJSON_ArrayForEach(it, s.uncacheable_reasons)
			printf("  %-18s %.0f\n", it->string, it->valuedouble);
		printf("errors               %" PRIu64 "\n", s.errors);
		printf("stores               %" PRIu64 "\n", s.stores);
		printf("time saved           %.1f s\n", s.saved_s);
		printf("remote               %s\n", so->remote_mode);
		printf("  hits               %" PRIu64 "\n", s.remote.hits);
		printf("  misses             %" PRIu64 "\n", s.remote.misses);
		printf("  errors             %" PRIu64 "\n", s.remote.errors);
		human_size(s.remote.bytes_up, size, sizeof(size));
		printf("  sent               %s\n", size);
		human_size(s.remote.bytes_down, size, sizeof(size));
		printf("  received           %s\n", size);
	}
	cJSON_Delete(s.uncacheable_reasons);
	return 0;
}

/* ---- batch ------------------------------------------------------------ */

static const char batch_usage[] =
	"usage: procache cache batch [--json] [--clear] [NAME]\n"
	"\n"
	"Summarize the runs of batch NAME (given to 'procache run' with\n"
	"--batch NAME or PROCACHE_BATCH=NAME), or of the batch run last: runs,\n"
	"hits, misses, uncacheable runs by reason, time spent and saved.\n"
	"  --json    print one JSON object\n"
	"  --clear   forget the batch's runs (a name can then be reused)\n";
static const struct option batch_opts[] = {
	COMMON_OPTS,
	{ "json", no_argument, NULL, OPT_JSON },
	{ "clear", no_argument, NULL, OPT_CLEAR },
	{ NULL, 0, NULL, 0 },
};

static int cache_batch_cmd(struct cache *c, const struct sub_opts *so)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct cache_batch_summary b;
	const cJSON *it;

	if (so->clear) {
		if (cache_batch_clear(c, so->batch, &err) < 0)
			die("cache batch: %s", err.buf);
		return 0;
	}
	if (cache_batch_summary(c, so->batch, &b, &err) < 0)
		die("cache batch: %s", err.buf);
	if (so->json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "batch", b.name);
		cJSON_AddNumberToObject(o, "runs", (double)b.runs);
		cJSON_AddNumberToObject(o, "hits", (double)b.hits);
		cJSON_AddNumberToObject(o, "misses", (double)b.misses);
		cJSON_AddNumberToObject(o, "uncacheable", (double)b.uncacheable);
		cJSON_AddNumberToObject(o, "errors", (double)b.errors);
		cJSON_AddItemToObject(o, "reasons", b.reasons);
		b.reasons = NULL;
		cJSON_AddNumberToObject(o, "duration_s", b.duration_s);
		cJSON_AddNumberToObject(o, "saved_s", b.saved_s);
		cJSON_AddNumberToObject(o, "first", (double)b.first);
		cJSON_AddNumberToObject(o, "last", (double)b.last);
		print_json(o);
		cJSON_Delete(o);
	} else {
		char span[32];

		human_age(b.last - b.first, span, sizeof(span));
		printf("batch                %s: %" PRIu64 " runs over %s\n", b.name,
		       b.runs, span);
		printf("hits                 %" PRIu64 "\n", b.hits);
		printf("misses               %" PRIu64 "\n", b.misses);
		printf("uncacheable          %" PRIu64 "\n", b.uncacheable);
		printf("errors               %" PRIu64 "\n", b.errors);
		if (cJSON_GetArraySize(b.reasons))
			printf("not stored, why:\n");
		cJSON_ArrayForEach(it, b.reasons)
			printf("  %6.0f  %s\n", it->valuedouble, it->string);
		printf("time spent           %.1f s (summed over the runs)\n", b.duration_s);
		printf("time saved           %.1f s (job time the hits skipped)\n", b.saved_s);
		if (b.damaged)
			printf("damaged records      %" PRIu64 " (skipped)\n", b.damaged);
	}
	cache_batch_summary_release(&b);
	return 0;
}

/* ---- ls --------------------------------------------------------------- */

static const char ls_usage[] =
	"usage: procache cache ls [--json]\n"
	"\n"
	"List the entries, most recently used first: entry name (KEY/ID),\n"
	"time since last use, size (entry and its blobs), hits, command line.\n"
	"  --json   print a JSON array\n";
static const struct option ls_opts[] = {
	COMMON_OPTS,
	{ "json", no_argument, NULL, OPT_JSON },
	{ NULL, 0, NULL, 0 },
};

static int cache_ls_cmd(struct cache *c, const struct sub_opts *so)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct cache_ls_item *items;
	size_t nr, i;
	time_t now = time(NULL);

	if (cache_ls(c, &items, &nr, &err) < 0)
		die("%s", err.buf);
	if (so->json) {
		cJSON *arr = cJSON_CreateArray();

		for (i = 0; i < nr; i++) {
			cJSON *o = cJSON_CreateObject();

			cJSON_AddStringToObject(o, "id", items[i].id);
			cJSON_AddStringToObject(o, "command", items[i].command);
			cJSON_AddNumberToObject(o, "last_use", (double)items[i].last_use);
			cJSON_AddNumberToObject(o, "created", (double)items[i].created);
			cJSON_AddNumberToObject(o, "size", (double)items[i].size);
			cJSON_AddNumberToObject(o, "hits", (double)items[i].hits);
			cJSON_AddBoolToObject(o, "corrupt", items[i].corrupt);
			cJSON_AddBoolToObject(o, "unit", items[i].unit);
			cJSON_AddItemToArray(arr, o);
		}
		print_json(arr);
		cJSON_Delete(arr);
	} else {
		for (i = 0; i < nr; i++) {
			char age[32], size[32];

			human_age((int64_t)now - items[i].last_use, age, sizeof(age));
			human_size(items[i].size, size, sizeof(size));
			/* a unit of a --nested run: "unit: ARGV" */
			printf("%s  %5s  %10s  %4" PRIu64 " hits  %s%s\n",
			       items[i].id, age, size, items[i].hits,
			       items[i].unit ? "unit: " : "", items[i].command);
		}
	}
	cache_ls_free(items, nr);
	return 0;
}

/* ---- show ------------------------------------------------------------- */

static void show_text(const struct cache_entry *e, cJSON *j)
{
	const cJSON *it, *res, *ch;
	size_t n = 0;

	printf("entry      %s\n", cache_entry_id(e));
	it = cJSON_GetObjectItemCaseSensitive(j, "procache");
	printf("created    %" PRId64 " (procache %s)\n", cache_entry_created(e),
	       cJSON_IsString(it) ? it->valuestring : "?");
	printf("duration   %.3f s\n", cache_entry_duration(e));
	if (cache_entry_signal(e))
		printf("exit       signal %d\n", cache_entry_signal(e));
	else
		printf("exit       code %d\n", cache_entry_exit_code(e));
	printf("key fields:\n");
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "key_fields"))
	{
		const cJSON *tag = cJSON_GetArrayItem(it, 0);
		const cJSON *type = cJSON_GetArrayItem(it, 1);
		const cJSON *v = cJSON_GetArrayItem(it, 2);

		printf("  %-10s %s%s\n", tag->valuestring,
		       !strcmp(type->valuestring, "x") ? "hex:" : "",
		       v->valuestring);
	}
	printf("preconditions:\n");
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "preconditions"))
	{
		char *line = json_print_output(it, false);

		printf("  %s\n", line);
		free(line);
		n++;
	}
	printf("  (%zu)\n", n);
	res = cJSON_GetObjectItemCaseSensitive(j, "result");
	for (int w = 1; w <= 2; w++) {
		struct pc_hash h;
		uint64_t size;
		char hex[PC_HASH_HEX_LEN + 1];

		cache_entry_output(e, w, &h, &size);
		pc_hash_to_hex(&h, hex);
		printf("%s     blob %s, %" PRIu64 " bytes\n",
		       w == 1 ? "stdout" : "stderr", hex, size);
	}
	printf("changes:\n");
	cJSON_ArrayForEach(ch, cJSON_GetObjectItemCaseSensitive(res, "changes"))
	{
		char *line = json_print_output(ch, false);

		printf("  %s\n", line);
		free(line);
	}
}

static const char show_usage[] =
	"usage: procache cache show ENTRY|last [--json]\n"
	"\n"
	"Show one entry: its key fields, preconditions, exit status, outputs and\n"
	"changes. ENTRY is a name from 'procache cache ls' (KEY/ID), an\n"
	"unambiguous prefix of one, or an ID; 'last' is the entry last stored or hit.\n"
	"  --json   print the entry as JSON\n";
static const struct option show_opts[] = {
	COMMON_OPTS,
	{ "json", no_argument, NULL, OPT_JSON },
	{ NULL, 0, NULL, 0 },
};

static int cache_show_cmd(struct cache *c, const struct sub_opts *so)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct cache_entry *e;
	cJSON *j;
	int r;

	r = cache_entry_load(c, so->entry, &e, &err);
	if (r < 0) {
		/* Not found, ambiguous or unreadable: an answer, not a failure. */
		fprintf(stderr, "procache: %s\n", err.buf);
		return 1;
	}
	j = cache_entry_json(e);
	if (so->json)
		print_json(j);
	else
		show_text(e, j);
	cJSON_Delete(j);
	cache_entry_free(e);
	return 0;
}

/* ---- gc --------------------------------------------------------------- */

static const char gc_usage[] =
	"usage: procache cache gc [--max-size SIZE] [--max-age AGE]\n"
	"       procache cache gc --remote --max-age AGE\n"
	"\n"
	"Remove entries unused for longer than AGE, then least recently used\n"
	"entries until the cache holds at most SIZE bytes, then blobs that no\n"
	"entry references (blobs younger than 10 minutes are left to concurrent\n"
	"runs). Without --max-size, the configured size ($PROCACHE_MAX_SIZE or\n"
	"the config file's max_size) is used, if any. Also removes the run\n"
	"directories that runners killed left behind, and the rest of ended runs.\n"
	"\n"
	"With --remote, collect the configured HTTP remote instead (WebDAV:\n"
	"PROPFIND and DELETE): entries uploaded more than AGE ago, then blobs\n"
	"no remaining entry names (older than an hour). A Redis remote expires\n"
	"its keys itself (remote.ttl): nothing to do.\n"
	"  --max-size SIZE   e.g. 500M, 2G (binary units)\n"
	"  --max-age AGE     e.g. 90m, 12h, 7d, 2w\n"
	"  --remote          the remote (not the local cache)\n";
static const struct option gc_opts[] = {
	COMMON_OPTS,
	{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
	{ "max-age", required_argument, NULL, OPT_MAX_AGE },
	{ "remote", no_argument, NULL, OPT_REMOTE },
	{ NULL, 0, NULL, 0 },
};

static int cache_gc_remote(const struct sub_opts *so)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct cache_remote_gc_result res;
	const char *url = cache_remote_display(so->rm);

	if (so->has_max_size)
		die("cache gc --remote: --max-size is for the local cache (a remote is collected by age)");
	if (cache_remote_gc(so->rm, so->max_age, &res, &err) < 0)
		die("cache gc --remote: %s", err.buf);
	if (res.by_ttl) {
		if (res.ttl_s)
			printf("remote '%s' expires its keys itself (remote.ttl %" PRIu64
			       " s, renewed by hits): nothing to do\n", url, res.ttl_s);
		else
			printf("remote '%s' expires nothing: set remote.ttl (e.g. \"30d\") and Redis removes what is unused\n",
			       url);
		return 0;
	}
	printf("remote '%s': removed %" PRIu64 " entries, %" PRIu64 " indexes and %" PRIu64
	       " blobs; kept %" PRIu64 " entries and %" PRIu64 " blobs\n",
	       url, res.entries_removed, res.indexes_removed, res.blobs_removed,
	       res.entries_kept, res.blobs_kept);
	if (res.unsure)
		printf("no blob removed: %s\n", res.unsure);
	free(res.unsure);
	return 0;
}

static int cache_gc_cmd(struct cache *c, const struct sub_opts *so)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct cache_gc_result res;
	char a[32], b[32];
	uint64_t max_size = so->has_max_size ? so->max_size : cache_max_size(c);

	if (so->rm)
		return cache_gc_remote(so);
	if (cache_gc(c, max_size, so->max_age, &res, &err) < 0)
		die("%s", err.buf);
	clean_stale_runs(cache_run_root(c), true);
	human_size(res.bytes_removed, a, sizeof(a));
	human_size(res.bytes_kept, b, sizeof(b));
	printf("removed %" PRIu64 " entries and %" PRIu64 " blobs (%s); kept %" PRIu64
	       " entries (%s)\n",
	       res.entries_removed, res.blobs_removed, a, res.entries_kept, b);
	return 0;
}

/* ---- verify ----------------------------------------------------------- */

static const char verify_usage[] =
	"usage: procache cache verify [--fix]\n"
	"\n"
	"Check every entry (checksum, format, paths, referenced blobs) and\n"
	"rehash every blob. Prints one line per problem; exits 1 if any was\n"
	"found (with --fix: if any could not be removed), else 0.\n"
	"  --fix   remove bad entries and bad blobs\n";
static const struct option verify_opts[] = {
	COMMON_OPTS,
	{ "fix", no_argument, NULL, OPT_FIX },
	{ NULL, 0, NULL, 0 },
};

static int cache_verify_cmd(struct cache *c, const struct sub_opts *so)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct cache_verify_result res;
	uint64_t bad;

	if (cache_verify(c, so->fix, stdout, &res, &err) < 0)
		die("%s", err.buf);
	bad = res.entries_bad + res.blobs_bad;
	printf("%" PRIu64 " entries ok, %" PRIu64 " bad; %" PRIu64 " blobs ok, %" PRIu64
	       " bad%s\n",
	       res.entries_ok, res.entries_bad, res.blobs_ok, res.blobs_bad,
	       so->fix && bad ? "; bad ones removed" : "");
	if (so->fix)
		return res.fixed >= bad ? 0 : 1;
	return bad ? 1 : 0;
}

/* ---- clear ------------------------------------------------------------ */

static const char clear_usage[] =
	"usage: procache cache clear\n"
	"\n"
	"Remove every entry, blob and counter. The directory, its FORMAT and\n"
	"the state of running jobs are kept.\n";
static const struct option clear_opts[] = {
	COMMON_OPTS,
	{ NULL, 0, NULL, 0 },
};

static int cache_clear_cmd(struct cache *c, const struct sub_opts *so)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;

	(void)so;
	if (cache_clear(c, &err) < 0)
		die("%s", err.buf);
	return 0;
}

/* ---- dispatch --------------------------------------------------------- */

static const struct subcommand subcommands[] = {
	{ "stats", cache_stats_cmd, stats_usage, stats_opts, false, false },
	{ "ls", cache_ls_cmd, ls_usage, ls_opts, false, false },
	{ "show", cache_show_cmd, show_usage, show_opts, true, false },
	{ "gc", cache_gc_cmd, gc_usage, gc_opts, false, false },
	{ "verify", cache_verify_cmd, verify_usage, verify_opts, false, false },
	{ "clear", cache_clear_cmd, clear_usage, clear_opts, false, false },
	{ "batch", cache_batch_cmd, batch_usage, batch_opts, false, true },
};

int cmd_cache(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "cache-dir", required_argument, NULL, OPT_CACHE_DIR },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct sub_ctx ctx = { 0 };
	int opt;
	size_t i;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(cache_usage, stdout);
			return 0;
		case OPT_CACHE_DIR:
			if (!*optarg)
				die("cache: option '--cache-dir' needs a non-empty path");
			ctx.cache_dir_flag = optarg;
			break;
		case 'c':
			if (!*optarg)
				die("cache: option '--config' needs a file name");
			ctx.config_path = optarg;
			break;
		case ':':
			die("cache: option '%s' needs a value (see 'procache cache --help')",
			    argv[optind - 1]);
		default:
			die("cache: unknown option '%s' (see 'procache cache --help')",
			    argv[optind - 1]);
		}
	}
	if (optind >= argc)
		die("cache: missing subcommand: stats, batch, ls, show, gc, verify or clear (see 'procache cache --help')");
	for (i = 0; i < ARRAY_SIZE(subcommands); i++) {
		if (!strcmp(argv[optind], subcommands[i].name)) {
			const struct subcommand *sc = &subcommands[i];
			int sub_argc = argc - optind;
			char **sub_argv = argv + optind;
			struct sub_opts so;

			/*
			 * getopt restarts on the subcommand's argv. 0, not 1:
			 * glibc initializes again only then, and would keep the
			 * "+" (stop at the first operand) of the loop above;
			 * the subcommands take options anywhere before "--"
			 * ("cache show last --json"), as git's do.
			 */
			optind = 0;
			parse_sub(sub_argc, sub_argv, sc, &ctx, &so);
			struct cache *c = open_from_ctx(&ctx, &so.remote_mode,
							so.remote ? &so.rm : NULL);
			int status = sc->fn(c, &so);
			cache_remote_close(so.rm);
			cache_close(c);
			free(so.remote_mode);
			return status;
		}
	}
	die("cache: unknown subcommand '%s' (see 'procache cache --help')",
	    argv[optind]);
}

/*
 * The options of 'procache run' and 'procache trace' (contracts in
 * runner/options.h): the option table, the help texts and the parser.
 * What an option means for the job is decided elsewhere (job.c, key.c,
 * run.c); here only its syntax and range.
 */
#include <getopt.h>
#include <regex.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cache/cache.h"
#include "common/die.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "runner/options.h"
#include "sandbox/sandbox.h"
#include "common/banned.h"

bool job_cap_name_ok(const char *name)
{
	return !strcasecmp(name, "all") || sbx_cap_from_name(name) >= 0;
}

/* The capabilities @names name; *@all when one of them is ALL. */
static uint64_t caps_named(char *const *names, size_t nr, bool *all)
{
	uint64_t set = 0;

	*all = false;
	for (size_t i = 0; i < nr; i++) {
		int cap = sbx_cap_from_name(names[i]);

		if (!strcasecmp(names[i], "all"))
			*all = true;
		else if (cap >= 0)
			set |= 1ULL << cap;
	}
	return set;
}

uint64_t job_caps_resolve(char *const *add, size_t nr_add, char *const *drop,
			  size_t nr_drop)
{
	bool add_all, drop_all;
	uint64_t adds = caps_named(add, nr_add, &add_all);
	uint64_t drops = caps_named(drop, nr_drop, &drop_all);
	uint64_t all = sbx_caps_all();

	/* Docker's rule (moby's TweakCapabilities), whatever the order. */
	if (add_all)
		return all & ~drops;
	if (drop_all)
		return adds & all;
	return ((SBX_CAPS_DEFAULT & ~drops) | adds) & all;
}

void job_opts_init(struct job_opts *o)
{
	memset(o, 0, sizeof(*o));
	envpolicy_init(&o->env);
}

void job_opts_release(struct job_opts *o)
{
	for (size_t i = 0; i < o->nr_outputs; i++)
		free(o->outputs[i]);
	free(o->outputs);
	for (size_t i = 0; i < o->nr_masks; i++)
		free(o->masks[i]);
	free(o->masks);
	for (size_t i = 0; i < o->nr_cap_add; i++)
		free(o->cap_add[i]);
	free(o->cap_add);
	for (size_t i = 0; i < o->nr_cap_drop; i++)
		free(o->cap_drop[i]);
	free(o->cap_drop);
	strv_free(o->check_ignores);
	for (size_t i = 0; i < o->nr_declared; i++)
		free(o->declared[i]);
	free(o->declared);
	envpolicy_release(&o->env);
	memset(o, 0, sizeof(*o));
}

enum {
	OPT_CACHE_DIR = 256, OPT_NO_CACHE, OPT_REFRESH, OPT_CHECK, OPT_EXPLAIN,
	OPT_OUTPUT, OPT_REPORT, OPT_DIFF_JSON, OPT_LOG, OPT_TIMEOUT,
	OPT_MEMORY, OPT_PIDS, OPT_CPUS, OPT_BEST_EFFORT, OPT_NET, OPT_SHARE_TMP,
	OPT_MASK, OPT_UNTRUSTED, OPT_ENV_CLEAR, OPT_ENV_KEEP, OPT_ENV_SET,
	OPT_ENV_UNSET, OPT_STRICT_STAT, OPT_NO_TRACE, OPT_FSYNC,
	OPT_KEEP_RUN_DIR, OPT_JSON, OPT_CONFIG, OPT_CAP_ADD, OPT_CAP_DROP,
	OPT_DISK, OPT_REMOTE, OPT_NO_REMOTE, OPT_REMOTE_READ_ONLY, OPT_BASE_DIR,
	OPT_MTIME, OPT_NO_CACHE_FAILURES, OPT_BATCH, OPT_CHECK_IGNORE, OPT_NESTED,
	OPT_DECLARE_OUTPUT,
};

static const char run_usage[] =
	"usage: procache run [OPTIONS] -- CMD [ARG...]\n"
	"\n"
	"Run CMD in a sandbox and remember what it read and wrote; when an\n"
	"identical run's inputs are unchanged, restore its results instead.\n"
	"\n"
	"Cache:\n"
	"  --cache-dir DIR        cache directory (default $PROCACHE_DIR,\n"
	"                         $XDG_CACHE_HOME/procache, ~/.cache/procache)\n"
	"  --config FILE          configuration file (default\n"
	"                         $XDG_CONFIG_HOME/procache/config.json)\n"
	"  --no-cache             run sandboxed and traced; neither look up nor store\n"
	"  --refresh              do not look up; run and store\n"
	"  --check                on a hit, run anyway and compare with the entry\n"
	"  --check-ignore REGEX   with --check, ignore text lines matching REGEX\n"
	"                         (repeatable; POSIX extended regex)\n"
	"  --explain              on a miss, say why (the nearest entry; -vv: all)\n"
	"  --no-cache-failures    store only runs that exit 0\n"
	"  --nested               also cache each program the job executes (its\n"
	"                         unchanged children are skipped; not with\n"
	"                         --untrusted or --no-trace)\n"
	"  --batch NAME           count this run in batch NAME (default\n"
	"                         $PROCACHE_BATCH); see 'procache cache stats --batch'\n"
	"  --strict-stat          stat observations also compare mtime and ctime\n"
	"  --remote URL           a shared cache behind the local one: http(s)://\n"
	"                         or redis:// (default $PROCACHE_REMOTE, the config\n"
	"                         file); credentials never here (see the README)\n"
	"  --remote-read-only     use the remote, never write to it (laptops)\n"
	"  --no-remote            do not use a configured remote\n"
	"  --base-dir DIR         key and record paths under DIR relative to it, for\n"
	"                         jobs that do not observe where they are (the job\n"
	"                         gets no PWD); entries then travel between checkouts\n"
	"  --mtime=exact|content  a stat's mtime must be the same (exact, the\n"
	"                         default), or may differ when the bytes do not\n"
	"                         (content: for jobs that do not act on times)\n"
	"Results:\n"
	"  --output PATH          apply changes under PATH (repeatable, not nested;\n"
	"                         default .)\n"
	"  --declare-output PATH  PATH is the job's output: hidden from it at start\n"
	"                         (a rerun in place sees what a first run saw) and\n"
	"                         replaced by what the job leaves there (repeatable)\n"
	"  --report FILE          write a JSON report of the run to FILE\n"
	"  --diff-json FILE       write the job's changes as JSON to FILE\n"
	"  --fsync                fsync every file applied\n"
	"Sandbox:\n"
	"  --untrusted            hostile job: user namespace, uid 65534, deny list\n"
	"  --net                  share the host network (the job is uncacheable)\n"
	"  --share-tmp            show the host /tmp copy-on-write (default: private)\n"
	"  --mask PATH            hide PATH from the job (repeatable)\n"
	"  --cap-add CAP          a root job keeps capability CAP too (repeatable;\n"
	"                         NET_ADMIN or net_admin; ALL: every one)\n"
	"  --cap-drop CAP         a root job loses CAP (repeatable; ALL: every one)\n"
	"  --timeout SECONDS      kill the job after SECONDS (exit status 124)\n"
	"  --memory BYTES         memory limit (64M, 1G)\n"
	"  --pids N               limit on processes and threads\n"
	"  --disk BYTES           most the job may write (ENOSPC past it; 0: none;\n"
	"                         default: a quarter of the cache's file system,\n"
	"                         at most half the memory)\n"
	"  --cpus N               the job gets N of procache's CPUs\n"
	"  --best-effort-limits   fall back to rlimits when a cgroup is unavailable\n"
	"  --no-trace             do not trace (benchmarks); the job is uncacheable\n"
	"  --keep-run-dir         keep the run's state directory (debugging)\n"
	"Environment:\n"
	"  --env-clear            start the job's environment empty\n"
	"  --env-keep NAME        keep NAME through --env-clear and the per-run\n"
	"                         variables removed by default (repeatable)\n"
	"  --env-set NAME=VALUE   set a variable (repeatable)\n"
	"  --env-unset NAME       remove a variable (repeatable)\n"
	"Messages:\n"
	"  -v, --verbose          one status line per run; twice: debug log\n"
	"  --log FILE             write messages to FILE instead of stderr\n"
	"  -h, --help             show this help\n"
	"\n"
	"Exit status: the job's (128+N if it died of signal N); 124 timeout;\n"
	"125 procache failed; 126 CMD not executable; 127 CMD not found.\n";

static const char trace_usage[] =
	"usage: procache trace [OPTIONS] -- CMD [ARG...]\n"
	"\n"
	"Run CMD in the sandbox with the tracer and print every observation it\n"
	"made of the host (kind, path, hash or target, first system call) and\n"
	"every reason it would be uncacheable. Nothing is stored or applied.\n"
	"\n"
	"  --json                 print one JSON object instead of lines\n"
	"  --cache-dir DIR        cache directory (holds the run's state)\n"
	"  --config FILE          configuration file\n"
	"  --strict-stat, --mtime=exact|content, --untrusted, --net,\n"
	"  --share-tmp, --mask PATH, --declare-output PATH,\n"
	"  --cap-add CAP, --cap-drop CAP,\n"
	"  --timeout SECONDS, --memory BYTES, --pids N, --cpus N, --disk BYTES,\n"
	"  --best-effort-limits,\n"
	"  --env-clear, --env-keep NAME, --env-set NAME=VALUE, --env-unset NAME,\n"
	"  --keep-run-dir, -v, --log FILE\n"
	"                         as for 'procache run'\n"
	"  -h, --help             show this help\n";

static const struct option long_options[] = {
	{ "cache-dir", required_argument, NULL, OPT_CACHE_DIR },
	{ "no-cache", no_argument, NULL, OPT_NO_CACHE },
	{ "refresh", no_argument, NULL, OPT_REFRESH },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "explain", no_argument, NULL, OPT_EXPLAIN },
	{ "output", required_argument, NULL, OPT_OUTPUT },
	{ "declare-output", required_argument, NULL, OPT_DECLARE_OUTPUT },
	{ "report", required_argument, NULL, OPT_REPORT },
	{ "diff-json", required_argument, NULL, OPT_DIFF_JSON },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "pids", required_argument, NULL, OPT_PIDS },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "best-effort-limits", no_argument, NULL, OPT_BEST_EFFORT },
	{ "net", no_argument, NULL, OPT_NET },
	{ "share-tmp", no_argument, NULL, OPT_SHARE_TMP },
	{ "mask", required_argument, NULL, OPT_MASK },
	{ "untrusted", no_argument, NULL, OPT_UNTRUSTED },
	{ "env-clear", no_argument, NULL, OPT_ENV_CLEAR },
	{ "env-keep", required_argument, NULL, OPT_ENV_KEEP },
	{ "env-set", required_argument, NULL, OPT_ENV_SET },
	{ "env-unset", required_argument, NULL, OPT_ENV_UNSET },
	{ "strict-stat", no_argument, NULL, OPT_STRICT_STAT },
	{ "mtime", required_argument, NULL, OPT_MTIME },
	{ "no-trace", no_argument, NULL, OPT_NO_TRACE },
	{ "fsync", no_argument, NULL, OPT_FSYNC },
	{ "keep-run-dir", no_argument, NULL, OPT_KEEP_RUN_DIR },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "cap-add", required_argument, NULL, OPT_CAP_ADD },
	{ "cap-drop", required_argument, NULL, OPT_CAP_DROP },
	{ "remote", required_argument, NULL, OPT_REMOTE },
	{ "no-remote", no_argument, NULL, OPT_NO_REMOTE },
	{ "remote-read-only", no_argument, NULL, OPT_REMOTE_READ_ONLY },
	{ "base-dir", required_argument, NULL, OPT_BASE_DIR },
	{ "no-cache-failures", no_argument, NULL, OPT_NO_CACHE_FAILURES },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "check-ignore", required_argument, NULL, OPT_CHECK_IGNORE },
	{ "nested", no_argument, NULL, OPT_NESTED },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Options that only make sense for 'procache run'. */
static bool run_only(int opt)
{
	switch (opt) {
	case OPT_NO_CACHE: case OPT_REFRESH: case OPT_CHECK: case OPT_EXPLAIN:
	case OPT_OUTPUT: case OPT_REPORT: case OPT_DIFF_JSON: case OPT_NO_TRACE:
	case OPT_FSYNC: case OPT_REMOTE: case OPT_NO_REMOTE:
	case OPT_REMOTE_READ_ONLY: case OPT_BASE_DIR:
	case OPT_NO_CACHE_FAILURES: case OPT_BATCH: case OPT_CHECK_IGNORE:
	case OPT_NESTED:
		return true;
	default:
		return false;
	}
}

static const char *opt_name(int opt)
{
	for (const struct option *lo = long_options; lo->name; lo++)
		if (lo->val == opt)
			return lo->name;
	return "?";
}

static void add_path_opt(char ***list, size_t *nr, size_t *alloc,
			 const char *value, const char *name)
{
	if (!*value)
		die("option '--%s' needs a non-empty path", name);
	if (strlen(value) >= PATH_MAX)
		die("option '--%s': path too long", name);
	ALLOC_GROW(*list, *nr + 1, *alloc);
	(*list)[(*nr)++] = xstrdup(value);
}

/* A capability name for --cap-add or --cap-drop: known, or ALL. */
static void add_cap_opt(char ***list, size_t *nr, size_t *alloc,
			const char *value, const char *name)
{
	if (!job_cap_name_ok(value))
		die("invalid value for '--%s': '%s' (want a capability such as NET_ADMIN or CAP_SYS_TIME, or ALL)",
		    name, value);
	ALLOC_GROW(*list, *nr + 1, *alloc);
	(*list)[(*nr)++] = xstrdup(value);
}

/*
 * A repetition applied to a repetition ("a++", "x*{9}"), outside a
 * bracket expression: glibc's regcomp() expands such stacks into
 * automata that take gigabytes (found by fuzz-options), so they are
 * refused; no such pattern means more than its single repetition.
 */
static bool stacked_repetition(const char *re)
{
	bool after_rep = false;

	for (const char *p = re; *p; p++) {
		bool rep_start = *p == '*' || *p == '+' || *p == '?' || *p == '{';

		if (rep_start && after_rep)
			return true;
		if (*p == '\\' && p[1]) {
			p++;
			after_rep = false;
		} else if (*p == '[') {
			/* to its closing ']' (one first, or after '^', is literal) */
			p++;
			if (*p == '^')
				p++;
			if (*p == ']')
				p++;
			while (*p && *p != ']')
				p++;
			if (!*p)
				return false;	/* regcomp() says what is wrong */
			after_rep = false;
		} else if (*p == '{') {
			while (*p && *p != '}')
				p++;
			if (!*p)
				return false;
			after_rep = true;
		} else {
			after_rep = rep_start;
		}
	}
	return false;
}

/* --check-ignore REGEX: compiled once here so that a bad one fails early. */
static void add_check_ignore(struct job_opts *o, const char *re)
{
	regex_t rx;
	int rc;

	if (stacked_repetition(re))
		die("invalid value for '--check-ignore': '%s' (a repetition of a repetition, such as 'a++')",
		    re);
	rc = regcomp(&rx, re, REG_EXTENDED | REG_NOSUB);

	if (rc) {
		char msg[128];

		regerror(rc, &rx, msg, sizeof(msg));
		die("invalid value for '--check-ignore': '%s' (%s)", re, msg);
	}
	regfree(&rx);
	ALLOC_GROW(o->check_ignores, o->nr_check_ignores + 2, o->alloc_check_ignores);
	o->check_ignores[o->nr_check_ignores++] = xstrdup(re);
	o->check_ignores[o->nr_check_ignores] = NULL;
}

/* The value of a file name option (--report, --log, ...): not empty. */
/* A whole number from 1 to @max (no size suffix), or die naming --@name. */
static uint64_t count_opt(const char *value, const char *name, uint64_t max)
{
	uint64_t v;

	if (parse_size(value, &v) < 0 || v == 0 || v > max ||
	    strpbrk(value, "kKmMgGtTB"))
		die("invalid value for '--%s': '%s' (want a whole number from 1 to %llu)",
		    name, value, (unsigned long long)max);
	return v;
}

static const char *file_name_opt(const char *value, const char *name)
{
	if (!*value)
		die("option '--%s' needs a file name", name);
	return value;
}

int job_opts_parse(struct job_opts *o, int argc, char **argv, enum job_cmd cmd)
{
	const char *cmdname = cmd == JOB_CMD_RUN ? "run" : "trace";
	const char *usage = cmd == JOB_CMD_RUN ? run_usage : trace_usage;
	int opt;

	/* '+': stop at the first non-option, the command's first word. */
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+:vh", long_options, NULL)) != -1) {
		/*
		 * "--opt -- CMD": the value was forgotten, and "--" would be
		 * taken for it ("--opt=--" still says it on purpose).
		 */
		if (optarg && optarg == argv[optind - 1] && !strcmp(optarg, "--"))
			die("option '%s' needs a value; see 'procache %s --help'",
			    argv[optind - 2], cmdname);
		if (cmd == JOB_CMD_TRACE && run_only(opt))
			die("option '--%s' is not for 'procache trace'; see 'procache trace --help'",
			    opt_name(opt));
		if (cmd == JOB_CMD_RUN && opt == OPT_JSON)
			die("option '--json' is not for 'procache run'; see 'procache run --help'");
		switch (opt) {
		case 'h':
			fputs(usage, stdout);
			exit(0);
		case 'v':
			pc_verbose++;
			break;
		case OPT_CACHE_DIR:
			if (!*optarg)
				die("option '--cache-dir' needs a non-empty path");
			o->cache_dir = optarg;
			break;
		case OPT_NO_CACHE: o->no_cache = true; break;
		case OPT_REFRESH: o->refresh = true; break;
		case OPT_CHECK: o->check = true; break;
		case OPT_EXPLAIN: o->explain = true; break;
		case OPT_OUTPUT:
			add_path_opt(&o->outputs, &o->nr_outputs,
				     &o->alloc_outputs, optarg, "output");
			break;
		case OPT_DECLARE_OUTPUT:
			add_path_opt(&o->declared, &o->nr_declared,
				     &o->alloc_declared, optarg, "declare-output");
			break;
		case OPT_REPORT:
			o->report_path = file_name_opt(optarg, "report");
			break;
		case OPT_DIFF_JSON:
			o->diff_json_path = file_name_opt(optarg, "diff-json");
			break;
		case OPT_LOG:
			o->log_path = file_name_opt(optarg, "log");
			break;
		case OPT_TIMEOUT:
			if (parse_seconds(optarg, &o->timeout_s) < 0 ||
			    o->timeout_s == 0)
				die("invalid value for '--timeout': '%s' (want seconds > 0, e.g. 30 or 1.5 or 2m)",
				    optarg);
			break;
		case OPT_MEMORY:
			if (parse_size(optarg, &o->memory_bytes) < 0 ||
			    o->memory_bytes < 4096)
				die("invalid value for '--memory': '%s' (want bytes >= 4096, e.g. 64M or 1G)",
				    optarg);
			break;
		case OPT_PIDS:
			o->pids_max = count_opt(optarg, "pids", 4194304);
			break;
		case OPT_CPUS:
			o->cpus = count_opt(optarg, "cpus", 4096);
			break;
		case OPT_DISK:
			if (parse_size(optarg, &o->disk_bytes) < 0 ||
			    (o->disk_bytes && o->disk_bytes < JOB_DISK_MIN))
				die("invalid value for '--disk': '%s' (want 0 or bytes >= 1M, e.g. 512M or 20G)",
				    optarg);
			o->has_disk = true;
			break;
		case OPT_BEST_EFFORT: o->best_effort_limits = true; break;
		case OPT_NET: o->share_net = true; break;
		case OPT_SHARE_TMP: o->share_tmp = true; break;
		case OPT_MASK:
			add_path_opt(&o->masks, &o->nr_masks, &o->alloc_masks,
				     optarg, "mask");
			break;
		case OPT_UNTRUSTED: o->untrusted = true; break;
		case OPT_CAP_ADD:
			add_cap_opt(&o->cap_add, &o->nr_cap_add, &o->alloc_cap_add,
				    optarg, "cap-add");
			break;
		case OPT_CAP_DROP:
			add_cap_opt(&o->cap_drop, &o->nr_cap_drop, &o->alloc_cap_drop,
				    optarg, "cap-drop");
			break;
		case OPT_ENV_CLEAR: o->env.clear = true; break;
		case OPT_ENV_KEEP:
			if (envpolicy_keep(&o->env, optarg) < 0)
				die("invalid value for '--env-keep': '%s' (want a variable name)",
				    optarg);
			break;
		case OPT_ENV_SET:
			if (envpolicy_set(&o->env, optarg) < 0)
				die("invalid value for '--env-set': '%s' (want NAME=VALUE)",
				    optarg);
			break;
		case OPT_ENV_UNSET:
			if (envpolicy_unset(&o->env, optarg) < 0)
				die("invalid value for '--env-unset': '%s' (want a variable name)",
				    optarg);
			break;
		case OPT_STRICT_STAT: o->strict_stat = true; break;
		case OPT_MTIME:
			if (!strcmp(optarg, "exact"))
				o->mtime_content = false;
			else if (!strcmp(optarg, "content"))
				o->mtime_content = true;
			else
				die("invalid value for '--mtime': '%s' (want exact or content)",
				    optarg);
			o->mtime_set = true;
			break;
		case OPT_NO_TRACE: o->no_trace = true; break;
		case OPT_FSYNC: o->fsync = true; break;
		case OPT_KEEP_RUN_DIR: o->keep_run_dir = true; break;
		case OPT_JSON: o->json = true; break;
		case OPT_CONFIG:
			o->config_path = file_name_opt(optarg, "config");
			break;
		case OPT_REMOTE:
			if (o->remote_url)
				die("option '--remote' given twice (one remote per run)");
			if (!*optarg)
				die("option '--remote' needs a URL");
			o->remote_url = optarg;
			break;
		case OPT_NO_REMOTE: o->no_remote = true; break;
		case OPT_REMOTE_READ_ONLY: o->remote_read_only = true; break;
		case OPT_BASE_DIR:
			if (!*optarg || strlen(optarg) >= PATH_MAX)
				die("option '--base-dir' needs a directory");
			o->base_dir = optarg;
			break;
		case OPT_NO_CACHE_FAILURES: o->no_cache_failures = true; break;
		case OPT_BATCH:
			if (cache_batch_name_check(optarg) < 0)
				die("invalid value for '--batch': '%s' (want 1 to 64 letters, digits, '.', '_' or '-', not starting with '.')",
				    optarg);
			o->batch = optarg;
			break;
		case OPT_CHECK_IGNORE:
			add_check_ignore(o, optarg);
			break;
		case OPT_NESTED: o->nested = true; break;
		case ':':
			die("option '%s' needs a value; see 'procache %s --help'",
			    argv[optind - 1], cmdname);
		case '?':
		default:
			if (optopt && optopt < 256)
				die("unknown option '-%c'; see 'procache %s --help'",
				    optopt, cmdname);
			die("unknown option '%s'; see 'procache %s --help'",
			    argv[optind - 1], cmdname);
		}
	}
	if (o->no_remote && (o->remote_url || o->remote_read_only))
		die("option '--no-remote' excludes '--remote' and '--remote-read-only'");
	if (o->nr_check_ignores && !o->check)
		die("option '--check-ignore' needs '--check'");
	if (o->no_cache + o->refresh + o->check > 1)
		die("options '--no-cache', '--refresh' and '--check' exclude each other");
	if (optind >= argc)
		die("no command given; usage: procache %s [OPTIONS] -- CMD [ARG...]",
		    cmdname);
	if (!argv[optind][0])
		die("the command name is empty");
	return optind;
}

/*
 * The job: options, what the job is given, its key, and one execution.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cache/cache.h"
#include "common/cleanup.h"
#include "common/die.h"
#include "common/fdio.h"
#include "common/path.h"
#include "common/xalloc.h"
#include "runner/config.h"
#include "runner/job.h"
#include "runner/util.h"
#include "common/banned.h"

extern char **environ;

/* Bumped whenever the meaning of a key field or a precondition changes. */
#define KEY_FORMAT "procache-key-2"

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
	envpolicy_release(&o->env);
	memset(o, 0, sizeof(*o));
}

enum {
	OPT_CACHE_DIR = 256, OPT_NO_CACHE, OPT_REFRESH, OPT_CHECK, OPT_EXPLAIN,
	OPT_OUTPUT, OPT_REPORT, OPT_DIFF_JSON, OPT_LOG, OPT_TIMEOUT,
	OPT_MEMORY, OPT_PIDS, OPT_BEST_EFFORT, OPT_NET, OPT_SHARE_TMP,
	OPT_MASK, OPT_UNTRUSTED, OPT_ENV_CLEAR, OPT_ENV_KEEP, OPT_ENV_SET,
	OPT_ENV_UNSET, OPT_STRICT_STAT, OPT_NO_TRACE, OPT_FSYNC,
	OPT_KEEP_RUN_DIR, OPT_JSON, OPT_CONFIG,
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
	"  --explain              on a miss, say every precondition that failed\n"
	"  --strict-stat          stat observations also compare mtime and ctime\n"
	"Results:\n"
	"  --output PATH          apply changes under PATH (repeatable; default .)\n"
	"  --report FILE          write a JSON report of the run to FILE\n"
	"  --diff-json FILE       write the job's changes as JSON to FILE\n"
	"  --fsync                fsync every file applied\n"
	"Sandbox:\n"
	"  --untrusted            hostile job: user namespace, uid 65534, deny list\n"
	"  --net                  share the host network (the job is uncacheable)\n"
	"  --share-tmp            show the host /tmp copy-on-write (default: private)\n"
	"  --mask PATH            hide PATH from the job (repeatable)\n"
	"  --timeout SECONDS      kill the job after SECONDS (exit status 124)\n"
	"  --memory BYTES         memory limit (64M, 1G)\n"
	"  --pids N               limit on processes and threads\n"
	"  --best-effort-limits   fall back to rlimits when a cgroup is unavailable\n"
	"  --no-trace             do not trace (benchmarks); the job is uncacheable\n"
	"  --keep-run-dir         keep the run's state directory (debugging)\n"
	"Environment:\n"
	"  --env-clear            start the job's environment empty\n"
	"  --env-keep NAME        keep NAME through --env-clear (repeatable)\n"
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
	"  --strict-stat, --untrusted, --net, --share-tmp, --mask PATH,\n"
	"  --timeout SECONDS, --memory BYTES, --pids N, --best-effort-limits,\n"
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
	{ "report", required_argument, NULL, OPT_REPORT },
	{ "diff-json", required_argument, NULL, OPT_DIFF_JSON },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "pids", required_argument, NULL, OPT_PIDS },
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
	{ "no-trace", no_argument, NULL, OPT_NO_TRACE },
	{ "fsync", no_argument, NULL, OPT_FSYNC },
	{ "keep-run-dir", no_argument, NULL, OPT_KEEP_RUN_DIR },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "config", required_argument, NULL, OPT_CONFIG },
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
	case OPT_FSYNC:
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
		case OPT_REPORT:
			if (!*optarg)
				die("option '--report' needs a file name");
			o->report_path = optarg;
			break;
		case OPT_DIFF_JSON:
			if (!*optarg)
				die("option '--diff-json' needs a file name");
			o->diff_json_path = optarg;
			break;
		case OPT_LOG:
			if (!*optarg)
				die("option '--log' needs a file name");
			o->log_path = optarg;
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
		case OPT_PIDS: {
			uint64_t v;
			if (parse_size(optarg, &v) < 0 || v == 0 ||
			    v > 4194304 || strpbrk(optarg, "kKmMgGtTB"))
				die("invalid value for '--pids': '%s' (want a whole number from 1 to 4194304)",
				    optarg);
			o->pids_max = v;
			break;
		}
		case OPT_BEST_EFFORT: o->best_effort_limits = true; break;
		case OPT_NET: o->share_net = true; break;
		case OPT_SHARE_TMP: o->share_tmp = true; break;
		case OPT_MASK:
			add_path_opt(&o->masks, &o->nr_masks, &o->alloc_masks,
				     optarg, "mask");
			break;
		case OPT_UNTRUSTED: o->untrusted = true; break;
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
		case OPT_NO_TRACE: o->no_trace = true; break;
		case OPT_FSYNC: o->fsync = true; break;
		case OPT_KEEP_RUN_DIR: o->keep_run_dir = true; break;
		case OPT_JSON: o->json = true; break;
		case OPT_CONFIG:
			if (!*optarg)
				die("option '--config' needs a file name");
			o->config_path = optarg;
			break;
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
	if (o->no_cache + o->refresh + o->check > 1)
		die("options '--no-cache', '--refresh' and '--check' exclude each other");
	if (optind >= argc)
		die("no command given; usage: procache %s [OPTIONS] -- CMD [ARG...]",
		    cmdname);
	if (!argv[optind][0])
		die("the command name is empty");
	return optind;
}

/* Absolute, canonical form of an output root (which may not exist yet). */
static char *canonical_root(const char *cwd, const char *path)
{
	_cleanup_free_ char *abs = path[0] == '/' ? path_clean(path)
						  : path_join(cwd, path);
	_cleanup_free_ char *clean = path_clean(abs);
	char *real = realpath(clean, NULL);
	if (real)
		return real;
	if (errno != ENOENT)
		die_errno("cannot resolve output '%s'", path);
	/* Missing: canonicalize the deepest existing parent. */
	_cleanup_free_ char *parent = path_dirname(clean);
	_cleanup_free_ char *base = path_basename(clean);
	if (!strcmp(base, "..") || !strcmp(base, "."))
		die("cannot resolve output '%s'", path);
	if (!strcmp(parent, clean))
		die("cannot resolve output '%s'", path);
	_cleanup_free_ char *rparent = canonical_root(cwd, parent);
	return path_join(rparent, base);
}

static bool is_dev_null(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(1, 3);
}

/* Copy stdin into an unlinked file while hashing it. */
static void read_stdin(struct job *j, const char *tmp_dir)
{
	int fd = open(tmp_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		die_errno("cannot create a file for stdin in '%s'", tmp_dir);
	struct pc_hasher h;
	pc_hasher_init(&h);
	static char buf[1 << 16];
	uint64_t total = 0;
	for (;;) {
		ssize_t n = read(0, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_errno("cannot read stdin");
		if (n == 0)
			break;
		pc_hasher_update(&h, buf, n);
		ssize_t w = write_full(fd, buf, n);
		if (w < 0) {
			errno = -w;
			die_errno("cannot save stdin in '%s'", tmp_dir);
		}
		total += n;
	}
	pc_hasher_final(&h, &j->stdin_hash);
	pc_hasher_release(&h);
	if (lseek(fd, 0, SEEK_SET) < 0)
		die_errno("cannot rewind the saved stdin");
	j->stdin_fd = fd;
	j->stdin_size = total;
}

/*
 * The paths hidden from the job: each --mask made absolute (against @cwd)
 * and clean, in order, then the cache directory. NULL-terminated; their
 * number into *@nr.
 */
static char **absolute_masks(const struct job_opts *o, const char *cwd,
			     const char *cache_dir, size_t *nr)
{
	char **m = xcalloc(o->nr_masks + 2, sizeof(*m));
	size_t n = 0;
	for (size_t i = 0; i < o->nr_masks; i++) {
		_cleanup_free_ char *abs = o->masks[i][0] == '/'
			? xstrdup(o->masks[i]) : path_join(cwd, o->masks[i]);
		m[n++] = path_clean(abs);
	}
	m[n++] = xstrdup(cache_dir);
	*nr = n;
	return m;
}

static int cmp_gid(const void *a, const void *b)
{
	gid_t x = *(const gid_t *)a, y = *(const gid_t *)b;
	return x < y ? -1 : x > y;
}

void job_prepare(struct job *j, const struct job_opts *o, char **argv,
		 const char *cache_dir, const char *tmp_dir)
{
	memset(j, 0, sizeof(*j));
	j->opts = o;
	j->argv = argv;
	j->stdin_fd = -1;
	j->stdout_fd = 1;
	j->cache_dir = xstrdup(cache_dir);

	char *cwd = getcwd(NULL, 0);
	if (!cwd)
		die_errno("cannot get the current directory");
	j->cwd = cwd;
	if (path_is_beneath(cwd, cache_dir))
		die("cannot run a job inside the cache directory '%s'",
		    cache_dir);
	j->masks = absolute_masks(o, cwd, cache_dir, &j->nr_masks);
	for (size_t i = 0; i < o->nr_masks; i++)
		if (path_is_beneath(cwd, j->masks[i]))
			die("the working directory '%s' is hidden by --mask '%s'",
			    cwd, o->masks[i]);
	/* Without --share-tmp the job's /tmp is a private, empty tmpfs. */
	if (!o->share_tmp && path_is_beneath(cwd, "/tmp"))
		die("the working directory '%s' is under /tmp, which the job sees as a private empty tmpfs; use --share-tmp or run from elsewhere",
		    cwd);

	if (o->nr_outputs == 0) {
		j->roots = xcalloc(2, sizeof(*j->roots));	/* NULL-terminated */
		j->roots[j->nr_roots++] = xstrdup(cwd);
	} else {
		j->roots = xcalloc(o->nr_outputs + 1, sizeof(*j->roots));
		for (size_t i = 0; i < o->nr_outputs; i++) {
			char *r = canonical_root(cwd, o->outputs[i]);
			if (path_is_beneath(r, cache_dir) ||
			    path_is_beneath(cache_dir, r))
				die("output '%s' overlaps the cache directory '%s'",
				    o->outputs[i], cache_dir);
			if (!o->share_tmp && path_is_beneath(r, "/tmp"))
				die("output '%s' is under /tmp, which the job sees as a private tmpfs whose changes are not kept; use --share-tmp",
				    o->outputs[i]);
			j->roots[j->nr_roots++] = r;
		}
	}

	j->umask = umask(0);
	umask(j->umask);

	if (o->untrusted) {
		j->uid = SBX_UNTRUSTED_ID;
		j->gid = SBX_UNTRUSTED_ID;
	} else {
		j->uid = getuid();
		j->gid = getgid();
		int n = getgroups(0, NULL);
		if (n > 0) {
			j->groups = xcalloc(n, sizeof(*j->groups));
			n = getgroups(n, j->groups);
			if (n < 0)
				die_errno("cannot read supplementary groups");
			j->nr_groups = n;
			qsort(j->groups, n, sizeof(*j->groups), cmp_gid);
		}
	}

	j->env = envpolicy_apply(&o->env, environ, cwd);

	struct stat st;
	if (fstat(0, &st) < 0) {
		if (errno != EBADF)
			die_errno("cannot stat stdin");
		j->stdin_kind = JOB_STDIN_NULL;
	} else if (isatty(0)) {
		j->stdin_kind = JOB_STDIN_TTY;
	} else if (is_dev_null(&st)) {
		j->stdin_kind = JOB_STDIN_NULL;
	} else {
		j->stdin_kind = JOB_STDIN_FILE;
		read_stdin(j, tmp_dir);
	}
}

void job_release(struct job *j)
{
	envpolicy_free_env(j->env);
	free(j->cwd);
	free(j->cache_dir);
	strv_free(j->masks);
	for (size_t i = 0; i < j->nr_roots; i++)
		free(j->roots[i]);
	free(j->roots);
	free(j->groups);
	if (j->stdin_fd >= 0)
		close(j->stdin_fd);
	memset(j, 0, sizeof(*j));
	j->stdin_fd = -1;
}

struct cache *job_start(struct job_opts *o, int argc, char **argv,
			enum job_cmd cmd, struct job *j)
{
	struct pc_config cfg;
	struct pc_settings set;

	int first = job_opts_parse(o, argc, argv, cmd);
	open_log_or_die(o->log_path);
	config_read(o->config_path, o->cache_dir, &cfg, &set);
	config_apply(&cfg, o);
	struct cache *c = open_cache_or_die(set.cache_dir, set.max_size);
	_cleanup_free_ char *tmp_dir = path_join(set.cache_dir, "tmp");
	job_prepare(j, o, argv + first, set.cache_dir, tmp_dir);
	config_settings_release(&set);
	config_release(&cfg);
	return c;
}

void job_add_key(const struct job *j, struct cache_key *k)
{
	const struct job_opts *o = j->opts;
	char buf[64];
	size_t argc = 0;

	cache_key_add_str(k, "format", KEY_FORMAT);
	cache_key_add_str(k, "arch", "x86_64");
	while (j->argv[argc])
		argc++;
	cache_key_add_u64(k, "argc", argc);
	for (size_t i = 0; i < argc; i++)
		cache_key_add_str(k, "argv", j->argv[i]);
	for (char **e = j->env; *e; e++)
		cache_key_add_str(k, "env", *e);
	cache_key_add_str(k, "cwd", j->cwd);
	cache_key_add_u64(k, "uid", j->uid);
	cache_key_add_u64(k, "gid", j->gid);
	if (o->untrusted) {
		cache_key_add_str(k, "groups", "userns");
	} else {
		struct strbuf g = STRBUF_INIT;
		for (size_t i = 0; i < j->nr_groups; i++)
			strbuf_addf(&g, "%s%u", i ? "," : "",
				    (unsigned)j->groups[i]);
		cache_key_add_str(k, "groups", g.buf);
		strbuf_release(&g);
	}
	snprintf(buf, sizeof(buf), "%04o", (unsigned)j->umask);
	cache_key_add_str(k, "umask", buf);
	switch (j->stdin_kind) {
	case JOB_STDIN_NULL:
		cache_key_add_str(k, "stdin", "null");
		break;
	case JOB_STDIN_TTY:
		/* Uncacheable anyway; keyed so that it never matches a file. */
		cache_key_add_str(k, "stdin", "tty");
		break;
	case JOB_STDIN_FILE: {
		char hex[PC_HASH_HEX_LEN + 1], field[PC_HASH_HEX_LEN + 8];
		pc_hash_to_hex(&j->stdin_hash, hex);
		snprintf(field, sizeof(field), "file:%s", hex);
		cache_key_add_str(k, "stdin", field);
		break;
	}
	}
	/* Every option that changes what the job sees. */
	cache_key_add_str(k, "sandbox", o->share_net ? "net=host" : "net=none");
	cache_key_add_str(k, "sandbox", o->share_tmp ? "tmp=shared" : "tmp=private");
	cache_key_add_str(k, "sandbox", o->untrusted ? "untrusted=1" : "untrusted=0");
	cache_key_add_str(k, "sandbox", o->strict_stat ? "strict-stat=1" : "strict-stat=0");
	snprintf(buf, sizeof(buf), "timeout=%.3f", o->timeout_s);
	cache_key_add_str(k, "sandbox", buf);
	snprintf(buf, sizeof(buf), "memory=%llu", (unsigned long long)o->memory_bytes);
	cache_key_add_str(k, "sandbox", buf);
	snprintf(buf, sizeof(buf), "pids=%llu", (unsigned long long)o->pids_max);
	cache_key_add_str(k, "sandbox", buf);
	for (size_t i = 0; i < o->nr_masks; i++) {
		struct strbuf m = STRBUF_INIT;
		strbuf_addf(&m, "mask=%s", o->masks[i]);
		cache_key_add_str(k, "sandbox", m.buf);
		strbuf_release(&m);
	}
}

void job_run_add_reason(struct job_run *r, const char *fmt, ...)
{
	va_list ap;
	struct strbuf sb = STRBUF_INIT;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < r->nr_reasons; i++)
		if (!strcmp(r->reasons[i], sb.buf)) {
			strbuf_release(&sb);
			return;
		}
	ALLOC_GROW(r->reasons, r->nr_reasons + 1, r->alloc_reasons);
	r->reasons[r->nr_reasons++] = strbuf_detach(&sb, NULL);
}

int job_exit_status(int code, int sig)
{
	return sig ? 128 + sig : code;
}

void job_execute(struct job *j, const char *run_root, struct job_run *r)
{
	const struct job_opts *o = j->opts;
	struct strbuf err = STRBUF_INIT;

	memset(r, 0, sizeof(*r));
	struct sbx_config cfg = {
		.argv = j->argv,
		.envp = j->env,
		.cwd = j->cwd,
		.umask = j->umask,
		.stdin_fd = j->stdin_kind == JOB_STDIN_FILE ? j->stdin_fd
			    : j->stdin_kind == JOB_STDIN_TTY ? 0 : -1,
		.stdout_fd = j->stdout_fd,
		.stderr_fd = 2,
		.capture_output = true,
		.run_root = run_root,
		.masks = (const char *const *)j->masks,
		.share_net = o->share_net,
		.share_tmp = o->share_tmp,
		.untrusted = o->untrusted,
		.best_effort_limits = o->best_effort_limits,
		.keep_run_dir = o->keep_run_dir,
		.timeout_s = o->timeout_s,
		.memory_bytes = o->memory_bytes,
		.pids_max = o->pids_max,
	};
	if (sbx_new(&cfg, &r->sbx, &err) < 0)
		die("%s", err.buf);

	size_t nr_layers;
	const struct sbx_layer *layers = sbx_layers(r->sbx, &nr_layers);
	/*
	 * Paths whose subtree the job sees privately, never host state:
	 * /dev, /tmp unless shared, and every mask (the cache directory
	 * included).
	 */
	_cleanup_free_ const char **private_paths =
		xcalloc(2 + j->nr_masks, sizeof(*private_paths));
	size_t nr_private = 0;
	private_paths[nr_private++] = "/dev";
	if (!o->share_tmp)
		private_paths[nr_private++] = "/tmp";
	for (size_t i = 0; i < j->nr_masks; i++)
		private_paths[nr_private++] = j->masks[i];

	struct trace_config tcfg = {
		.layers = layers,
		.nr_layers = nr_layers,
		.private_paths = private_paths,
		.nr_private_paths = nr_private,
		.untrusted = o->untrusted,
		.strict_stat = o->strict_stat,
		.trace = !o->no_trace,
		.host_net = o->share_net,
	};
	if (!o->no_trace || o->untrusted) {
		r->trace = trace_new(&tcfg);
		struct sbx_tracer hooks = trace_hooks(r->trace);
		sbx_set_tracer(r->sbx, &hooks);
	}

	if (sbx_run(r->sbx, &r->res, &err) < 0)
		die("%s", err.buf);
	for (char *const *n = r->res.limit_notes; n && *n; n++)
		info("%s", *n);

	int st = r->res.wait_status;
	int code = WIFEXITED(st) ? WEXITSTATUS(st) : 0;
	int sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	r->exit_status = job_exit_status(code, sig);
	if (r->res.timed_out) {
		r->exit_status = 124;
		job_run_add_reason(r, "timed out after %g s", o->timeout_s);
	}
	if (r->res.exec_errno) {
		job_run_add_reason(r, "command could not be executed: %s",
				   strerror(r->res.exec_errno));
		warn("cannot execute '%s': %s", j->argv[0],
		     r->res.exec_errno == ENOENT ? "command not found"
						 : strerror(r->res.exec_errno));
	}
	if (r->res.forwarded_signal)
		job_run_add_reason(r, "interrupted: procache passed signal %d (%s) on to the job",
				   r->res.forwarded_signal, strsignal(r->res.forwarded_signal));
	if (sig == SIGSYS)
		job_run_add_reason(r, "killed by SIGSYS (a system call of a foreign ABI, or a seccomp kill)");
	if (o->no_trace)
		job_run_add_reason(r, "not traced (--no-trace)");
	if (o->share_net)
		job_run_add_reason(r, "shares the host network (--net)");
	if (j->stdin_kind == JOB_STDIN_TTY)
		job_run_add_reason(r, "stdin is a terminal");

	if (r->trace && !o->no_trace) {
		if (trace_finish(r->trace, &err) < 0)
			job_run_add_reason(r, "tracer failed: %s", err.buf);
		for (size_t i = 0; i < trace_nr_taints(r->trace); i++)
			job_run_add_reason(r, "%s", trace_taint_at(r->trace, i));
	}

	if (sbx_diff_read(r->sbx, &r->changes, &r->nr_changes, &err) < 0)
		die("cannot read what the job changed: %s", err.buf);
	for (size_t i = 0; i < r->nr_changes; i++)
		if (r->changes[i].kind == CHANGE_SPECIAL)
			job_run_add_reason(r, "created a special file: %s",
					   r->changes[i].path);
	strbuf_release(&err);
}

void job_run_release(struct job_run *r)
{
	sbx_changes_free(r->changes, r->nr_changes);
	trace_free(r->trace);
	sbx_free(r->sbx);
	for (size_t i = 0; i < r->nr_reasons; i++)
		free(r->reasons[i]);
	free(r->reasons);
	memset(r, 0, sizeof(*r));
}

/*
 * Memory and process limits (DESIGN.md section 8).
 *
 * A cgroup per run, created below the supervisor's own cgroup (so the
 * limits of whoever runs procache still apply to the job), detected at
 * run time in this order:
 *   1. cgroup2 (at /sys/fs/cgroup or /sys/fs/cgroup/unified) whose
 *      cgroup.subtree_control of our cgroup enables the controller;
 *   2. the cgroup v1 hierarchy of the controller (/sys/fs/cgroup/memory,
 *      /sys/fs/cgroup/pids), writable only by root here.
 * init is moved into it before it is told to go on, so the job and all
 * it forks are inside. Without either, the run is refused with the
 * limit named, unless best_effort_limits: RLIMIT_AS / RLIMIT_NPROC, with
 * a note in the result.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/die.h"
#include "common/fdio.h"
#include "common/path.h"
#include "common/xalloc.h"
#include "sandbox/sbx-internal.h"

#include "common/banned.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* Our cgroup path in the hierarchy of @controller ("" = cgroup2). */
static char *own_cgroup(const char *controller)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
	char *line = NULL;
	size_t alloc = 0;
	char *ret = NULL;

	if (!f)
		return NULL;
	while (getline(&line, &alloc, f) > 0) {
		char *c1 = strchr(line, ':'), *c2, *nl;

		if (!c1 || !(c2 = strchr(c1 + 1, ':')))
			continue;
		*c2 = '\0';
		nl = strchr(c2 + 1, '\n');
		if (nl)
			*nl = '\0';
		if (!*controller) {
			if (!strcmp(line, "0") && c1[1] == '\0') {
				ret = xstrdup(c2 + 1);
				break;
			}
			continue;
		}
		/* "4:memory:/path" or "3:cpu,cpuacct:/path" */
		{
			char *list = c1 + 1, *tok = list;

			while (tok && *tok) {
				char *comma = strchr(tok, ',');
				size_t len = comma ? (size_t)(comma - tok) : strlen(tok);

				if (len == strlen(controller) &&
				    !strncmp(tok, controller, len)) {
					ret = xstrdup(c2 + 1);
					break;
				}
				tok = comma ? comma + 1 : NULL;
			}
			if (ret)
				break;
		}
	}
	free(line);
	return ret;
}

static const char *cgroup2_mount(void)
{
	static const char *const candidates[] = { "/sys/fs/cgroup",
						  "/sys/fs/cgroup/unified" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(candidates); i++) {
		struct statfs sf;

		if (statfs(candidates[i], &sf) == 0 &&
		    sf.f_type == CGROUP2_SUPER_MAGIC)
			return candidates[i];
	}
	return NULL;
}

static bool word_in_file(const char *path, const char *word)
{
	struct strbuf sb = STRBUF_INIT;
	bool found = false;
	char *p;

	if (strbuf_read_file_at(&sb, AT_FDCWD, path, 256) < 0) {
		strbuf_release(&sb);
		return false;
	}
	for (p = sb.buf; (p = strstr(p, word)); p++) {
		size_t n = strlen(word);

		if ((p == sb.buf || p[-1] == ' ' || p[-1] == '\n') &&
		    (p[n] == ' ' || p[n] == '\n' || p[n] == '\0')) {
			found = true;
			break;
		}
	}
	strbuf_release(&sb);
	return found;
}

static int write_value(const char *dir, const char *file, const char *value)
{
	_cleanup_free_ char *path = path_join(dir, file);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (write_full(fd, value, strlen(value)) < 0)
		return -errno ? -errno : -EIO;
	return 0;
}

/* Write @settings (file, value pairs; a file starting with '?' may be absent). */
static int write_settings(const char *dir, const char *const *settings,
			  struct strbuf *why)
{
	size_t i;

	for (i = 0; settings[i]; i += 2) {
		const char *file = settings[i];
		bool optional = file[0] == '?';
		int ret;

		if (optional)
			file++;
		ret = write_value(dir, file, settings[i + 1]);
		if (ret == -ENOENT && optional)
			continue;
		if (ret < 0) {
			strbuf_addf(why, "cannot write '%s/%s': %s", dir, file,
				    strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/*
 * Create the run's cgroup for @controller, cgroup2 first (@v2 settings),
 * else v1 (@v1 settings). Returns the directory, or NULL with the reasons
 * in @why.
 */
static char *make_cgroup(const struct sbx *s, const char *controller,
			 const char *const *v2, const char *const *v1,
			 struct strbuf *why)
{
	_cleanup_free_ char *name = path_basename(s->run_dir);
	_cleanup_free_ char *own2 = NULL, *own1 = NULL;
	const char *mnt = cgroup2_mount();
	char *dir;

	own2 = mnt ? own_cgroup("") : NULL;
	if (own2) {
		_cleanup_free_ char *base = path_join(mnt, own2);
		_cleanup_free_ char *ctl = path_join(base, "cgroup.subtree_control");

		if (word_in_file(ctl, controller)) {
			dir = xasprintf("%s/procache-%s", base, name);
			if (mkdir(dir, 0755) < 0) {
				strbuf_addf(why, "cannot create '%s': %s; ", dir,
					    strerror(errno));
				free(dir);
			} else if (write_settings(dir, v2, why) < 0) {
				strbuf_addstr(why, "; ");
				rmdir(dir);
				free(dir);
			} else {
				return dir;
			}
		} else {
			strbuf_addf(why, "cgroup2 '%s' does not enable '%s' for its children; ",
				    base, controller);
		}
	} else {
		strbuf_addstr(why, "no cgroup2 hierarchy; ");
	}

	own1 = own_cgroup(controller);
	if (!own1) {
		strbuf_addf(why, "no cgroup v1 '%s' hierarchy", controller);
		return NULL;
	}
	{
		_cleanup_free_ char *root = xasprintf("/sys/fs/cgroup/%s", controller);
		_cleanup_free_ char *base = path_join(root, own1);

		dir = xasprintf("%s/procache-%s", base, name);
		if (mkdir(dir, 0755) < 0) {
			strbuf_addf(why, "cannot create '%s': %s", dir,
				    strerror(errno));
			free(dir);
			return NULL;
		}
		if (write_settings(dir, v1, why) < 0) {
			rmdir(dir);
			free(dir);
			return NULL;
		}
	}
	return dir;
}

void sbx_limits_add_note(struct sbx_limits *l, char *note)
{
	l->notes = xrealloc(l->notes, (l->nr_notes + 2) * sizeof(*l->notes));
	l->notes[l->nr_notes++] = note;
	l->notes[l->nr_notes] = NULL;
}

/*
 * One limit, @value: a cgroup of @controller with the settings @v2
 * (cgroup2) or @v1 (v1) in *@cg; failing that, with best_effort_limits,
 * *@rlimit = @value and a note "<controller> limit enforced with
 * <@fallback>: <why>"; else -EOPNOTSUPP.
 */
static int prepare_limit(struct sbx *s, const char *controller,
			 const char *const *v2, const char *const *v1,
			 char **cg, unsigned long long value,
			 unsigned long long *rlimit, const char *fallback,
			 struct strbuf *err)
{
	struct strbuf why = STRBUF_INIT;
	int ret = 0;

	*cg = make_cgroup(s, controller, v2, v1, &why);
	if (!*cg && !s->cfg.best_effort_limits) {
		strbuf_addf(err, "cannot enforce %s limit: %s", controller, why.buf);
		ret = -EOPNOTSUPP;
	} else if (!*cg) {
		*rlimit = value;
		sbx_limits_add_note(&s->limits, xasprintf("%s limit enforced with %s: %s",
					       controller, fallback, why.buf));
	}
	strbuf_release(&why);
	return ret;
}

int sbx_limits_prepare(struct sbx *s, struct strbuf *err)
{
	struct sbx_limits *l = &s->limits;
	char val[32];
	int ret;

	if (s->cfg.memory_bytes) {
		const char *v2[] = { "memory.max", val, "?memory.swap.max", "0", NULL };
		const char *v1[] = { "memory.limit_in_bytes", val,
				     "?memory.memsw.limit_in_bytes", val, NULL };

		snprintf(val, sizeof(val), "%llu",
			 (unsigned long long)s->cfg.memory_bytes);
		ret = prepare_limit(s, "memory", v2, v1, &l->cg_memory,
				    s->cfg.memory_bytes, &l->rlimit_as,
				    "RLIMIT_AS (address space per process, not "
				    "memory used by the sandbox)", err);
		if (ret < 0)
			return ret;
	}
	if (s->cfg.pids_max) {
		const char *v[] = { "pids.max", val, NULL };

		snprintf(val, sizeof(val), "%llu",
			 (unsigned long long)s->cfg.pids_max);
		ret = prepare_limit(s, "pids", v, v, &l->cg_pids, s->cfg.pids_max,
				    &l->rlimit_nproc,
				    "RLIMIT_NPROC (processes of the job's uid, "
				    "not of the sandbox)", err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int sbx_limits_attach(struct sbx *s, pid_t pid, struct strbuf *err)
{
	const char *dirs[] = { s->limits.cg_memory, s->limits.cg_pids };
	char val[32];
	size_t i;

	snprintf(val, sizeof(val), "%d", (int)pid);
	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		int ret;

		if (!dirs[i])
			continue;
		ret = write_value(dirs[i], "cgroup.procs", val);
		if (ret < 0) {
			strbuf_addf(err, "cannot move the sandbox into cgroup '%s': %s",
				    dirs[i], strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static void remove_cgroup(const char *dir)
{
	int i;

	/*
	 * init has been reaped, so every task of the namespace is gone;
	 * the cgroup can still be busy for a moment while they are
	 * released.
	 */
	for (i = 0; i < 200; i++) {
		struct timespec ts = { 0, 5 * 1000 * 1000 };

		if (rmdir(dir) == 0 || errno == ENOENT)
			return;
		if (errno != EBUSY)
			break;
		nanosleep(&ts, NULL);
	}
	warn_errno("cannot remove cgroup '%s'", dir);
}

/* The value of "@key N" in @dir/@file; -errno when unreadable or absent. */
static int64_t read_counter(const char *dir, const char *file, const char *key)
{
	_cleanup_free_ char *path = path_join(dir, file);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char line[256];
	size_t klen = strlen(key);

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ' ')
			return strtoll(line + klen + 1, NULL, 10);
	return -ENOENT;
}

/*
 * OOM kills counted by the memory cgroup @dir: memory.events (cgroup2,
 * hierarchical) or memory.oom_control (v1, kernel >= 4.13).
 */
static int64_t oom_kills_in(const char *dir)
{
	int64_t n = read_counter(dir, "memory.events", "oom_kill");

	return n >= 0 ? n : read_counter(dir, "memory.oom_control", "oom_kill");
}

/* Our own memory cgroup's directory (cgroup2 first), or NULL. */
static char *own_memory_cgroup(void)
{
	const char *mnt = cgroup2_mount();
	_cleanup_free_ char *own = NULL;

	if (mnt && (own = own_cgroup(""))) {
		char *dir = path_join(mnt, own);
		_cleanup_free_ char *ev = path_join(dir, "memory.events");

		if (access(ev, R_OK) == 0)
			return dir;
		free(dir);
	}
	free(own);
	own = own_cgroup("memory");
	return own ? path_join("/sys/fs/cgroup/memory", own) : NULL;
}

int64_t sbx_limits_oom_count(struct sbx *s)
{
	if (s->limits.cg_memory)
		return oom_kills_in(s->limits.cg_memory);
	if (!s->limits.own_memory_tried) {
		s->limits.own_memory_tried = true;
		s->limits.own_memory = own_memory_cgroup();
	}
	return s->limits.own_memory ? oom_kills_in(s->limits.own_memory) : -ENOENT;
}

int64_t sbx_limits_pids_max_hits(const struct sbx *s)
{
	return s->limits.cg_pids ? read_counter(s->limits.cg_pids, "pids.events", "max")
				 : -ENOENT;
}

void sbx_limits_cleanup(struct sbx *s)
{
	if (s->limits.cg_memory)
		remove_cgroup(s->limits.cg_memory);
	if (s->limits.cg_pids && (!s->limits.cg_memory ||
				  strcmp(s->limits.cg_pids, s->limits.cg_memory)))
		remove_cgroup(s->limits.cg_pids);
}

int sbx_limits_apply_rlimits(const struct sbx *s)
{
	if (s->limits.rlimit_as) {
		struct rlimit r = { s->limits.rlimit_as, s->limits.rlimit_as };

		if (setrlimit(RLIMIT_AS, &r) < 0)
			return -errno;
	}
	if (s->limits.rlimit_nproc) {
		struct rlimit r = { s->limits.rlimit_nproc, s->limits.rlimit_nproc };

		if (setrlimit(RLIMIT_NPROC, &r) < 0)
			return -errno;
	}
	return 0;
}

void sbx_limits_release(struct sbx_limits *l)
{
	size_t i;

	free(l->cg_memory);
	free(l->cg_pids);
	free(l->own_memory);
	for (i = 0; i < l->nr_notes; i++)
		free(l->notes[i]);
	free(l->notes);
	memset(l, 0, sizeof(*l));
}

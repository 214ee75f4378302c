/*
 * Execution units' entries (DESIGN.md §13.3; contract in runner/nest.h).
 * Runs in a tracer thread, under the tracer's lock, while the job runs:
 * the unit's processes are gone, the rest of the job is held only as far
 * as it makes notified calls.
 *
 * A unit's result is the state, now, of the view paths its processes
 * wrote (DESIGN §2's diff restricted to them): read beneath the view's
 * root fd, a directory with everything beneath it. Its captured output
 * goes through temporary files of the cache's tmp/ directory, which the
 * copy-mode store copies and which are removed after.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/openat2.h>

#include <cjson/cJSON.h>

#include "cache/cache.h"
#include "cache/materialize.h"
#include "common/change.h"
#include "common/cleanup.h"
#include "common/die.h"
#include "common/fdio.h"
#include "common/path.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runner/job.h"
#include "runner/key.h"
#include "runner/nest.h"
#include "runner/record.h"
#include "runner/util.h"
#include "sandbox/trace.h"
#include "common/banned.h"

/* A directory's entries are read at most this deep. */
#define NEST_MAX_DEPTH 64

struct result {
	char **paths;
	size_t nr, alloc;
};

static void result_add(struct result *res, const char *path)
{
	ALLOC_GROW(res->paths, res->nr + 1, res->alloc);
	res->paths[res->nr++] = xstrdup(path);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The parent directory of @path (absolute, in the view) opened beneath
 * the view's root @root_fd, through no symlink (one there, or an
 * absolute one resolved from procache's side, would describe a host path
 * as the unit's: the unit is then not stored), and its last component in
 * *@name. The fd or -errno.
 */
static int view_parent(int root_fd, const char *path, const char **name)
{
	_cleanup_free_ char *dir = NULL;
	const char *slash = strrchr(path, '/');

	*name = slash + 1;
	dir = slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
	return fd_openat2(root_fd, dir, O_PATH | O_DIRECTORY,
			  RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}

/* lstat of @path (absolute, in the view) beneath @root_fd: 0 or -errno. */
static int view_lstat(int root_fd, const char *path, struct stat *st)
{
	const char *name;
	_cleanup_close_ int pfd = view_parent(root_fd, path, &name);

	if (pfd < 0)
		return pfd;
	return fstatat(pfd, name, st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

/* @path (a directory of the view) and everything beneath it into @res. */
static int add_tree(int root_fd, const char *path, struct result *res, int depth)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	const char *name;
	int fd;

	result_add(res, path);
	if (depth > NEST_MAX_DEPTH)
		return -ELOOP;
	{
		_cleanup_close_ int pfd = view_parent(root_fd, path, &name);

		if (pfd < 0)
			return pfd;
		fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -errno;	/* before the parent's close */
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((e = readdir(d))) {
		_cleanup_free_ char *sub = NULL;
		struct stat st;
		int r;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		sub = path_join(path, e->d_name);
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		if (S_ISDIR(st.st_mode)) {
			if ((r = add_tree(root_fd, sub, res, depth + 1)) < 0)
				return r;
		} else {
			result_add(res, sub);
		}
	}
	return 0;
}

/* The changes of @u into @rec; -errno with @why when it cannot be kept. */
static int add_changes(const struct trace_unit *u, struct cache_record *rec,
		       const char **why)
{
	struct result res = { 0 };
	size_t i;
	int r = 0;

	for (i = 0; i < u->nr_written && r >= 0; i++) {
		const char *p = u->written[i];
		struct stat st;

		if (!strcmp(p, "/") || path_has_prefix_component(p, "/proc") ||
		    path_has_prefix_component(p, "/sys")) {
			*why = "it wrote /proc or /sys";
			r = -EPERM;
		} else if (view_lstat(u->root_fd, p, &st) == 0 && S_ISDIR(st.st_mode)) {
			r = add_tree(u->root_fd, p, &res, 0);
		} else {
			result_add(&res, p);
		}
	}
	if (r < 0 && !*why)
		*why = "its result cannot be read";
	if (res.nr)	/* paths is NULL then: qsort() may not see it */
		qsort(res.paths, res.nr, sizeof(*res.paths), cmp_str);
	for (i = 0; i < res.nr && r >= 0; i++) {
		const char *p = res.paths[i];
		_cleanup_free_ char *src = NULL;
		_cleanup_strbuf_ struct strbuf target = STRBUF_INIT;
		struct stat st;
		bool timed = false;

		if (i && !strcmp(p, res.paths[i - 1]))
			continue;
		r = view_lstat(u->root_fd, p, &st);
		if (r < 0) {
			if (r != -ENOENT && r != -ENOTDIR) {
				*why = "its result cannot be read";
				break;
			}
			r = 0;
			cache_record_add_change(rec, CHANGE_DELETE, p, 0, NULL, NULL);
		} else if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
			/*
			 * Stored by copy and applied as a new file, it would
			 * lose its other names: a skipped `ln f g` would
			 * leave two files, an in-place write through one name
			 * would not reach the other.
			 */
			*why = "a file with more than one name (a hard link)";
			r = -EPERM;
		} else if (S_ISREG(st.st_mode)) {
			src = xasprintf("/proc/self/fd/%d%s", u->root_fd, p);
			cache_record_add_change(rec, CHANGE_FILE, p, st.st_mode & 07777, src, NULL);
			timed = true;
		} else if (S_ISDIR(st.st_mode)) {
			cache_record_add_change(rec, CHANGE_DIR, p, st.st_mode & 07777, NULL, NULL);
			timed = true;
		} else if (S_ISLNK(st.st_mode)) {
			char buf[PATH_MAX + 1];
			const char *name;
			_cleanup_close_ int pfd = view_parent(u->root_fd, p, &name);
			ssize_t n = pfd < 0 ? pfd : readlinkat(pfd, name, buf, sizeof(buf) - 1);

			if (n < 0) {
				*why = "its result cannot be read";
				r = pfd < 0 ? pfd : -errno;
				break;
			}
			buf[n] = 0;
			cache_record_add_change(rec, CHANGE_SYMLINK, p, 0, NULL, buf);
			timed = true;
		} else {
			*why = "it left a special file";
			r = -EPERM;
		}
		/*
		 * Its times, replayed exactly (cache_entry_apply_at()): a
		 * later unit that stats the file saw these, and must see
		 * them again after this unit is skipped.
		 */
		if (timed)
			cache_record_change_times(rec,
				(int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec,
				(int64_t)st.st_atim.tv_sec * 1000000000 + st.st_atim.tv_nsec,
				true);
	}
	for (i = 0; i < res.nr; i++)
		free(res.paths[i]);
	free(res.paths);
	return r;
}

/* Whether the view has a regular file at @path now. */
static bool left_file(int root_fd, const char *path)
{
	struct stat st;

	return fstatat(root_fd, path + 1, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISREG(st.st_mode);
}

/*
 * Whether unit @u listed @path or its parent (a TRACE_LISTING observation
 * of either): then a directory's times it was shown count, as a job's
 * (sandbox/trace.c, listed_or_parent()).
 */
static bool unit_listed(const struct trace_unit *u, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t plen = !slash ? 0 : slash == path ? 1 : (size_t)(slash - path);
	size_t i;

	for (i = 0; i < u->nr_obs; i++) {
		const char *p = u->obs[i].path;

		if (u->obs[i].kind != TRACE_LISTING || !p)
			continue;
		if (!strcmp(p, path) || (plen && strlen(p) == plen && !strncmp(p, path, plen)))
			return true;
	}
	return false;
}

/* A temporary file in the cache's tmp/ holding @len bytes of @buf. */
static char *output_file(struct cache *c, const char *buf, size_t len)
{
	_cleanup_free_ char *dir = path_join(cache_path(c), "tmp");
	char *name = xasprintf("%s/unit-out.XXXXXX", dir);
	int fd;

	(void)mkdir(dir, 0700);
	fd = mkostemp(name, O_CLOEXEC);
	if (fd < 0) {
		free(name);
		return NULL;
	}
	if (write_full(fd, buf, len) < 0) {
		close(fd);
		unlink(name);
		free(name);
		return NULL;
	}
	close(fd);
	return name;
}

static struct cache_key *unit_key(const struct job *j, const struct trace_unit *u,
				   bool fd0_unseen);

void nest_unit_done(void *ctx, const struct trace_unit *u)
{
	struct job *j = ctx;
	struct cache_key *k = unit_key(j, u, u->fd0_unseen);
	struct cache_record *rec;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	char *files[3] = { NULL, NULL, NULL };
	const char *why = NULL;
	size_t i;
	int r;

	rec = cache_record_new(k);
	cache_record_set_copy_files(rec);
	/* one size check after the job's end (execute(), runner/run.c) */
	cache_record_set_no_gc(rec);
	for (i = 0; i < u->nr_obs; i++) {
		const struct trace_obs *ob = &u->obs[i];

		/*
		 * A stat: its mtime when it showed the times, and a regular
		 * file's when it did not (access, chmod, utimensat...: a
		 * file a unit chmods is copied into its result as it is, so
		 * its bytes matter even unread, as record_add_obs() says);
		 * else what it showed. Or the same bytes, when it showed
		 * no times or with --mtime=content: hashed by the tracer
		 * from the view when it was observed (trace-nest.c observe()):
		 * cache_record_add_stat() would hash the host's file. A
		 * file hashed so is the one the stat showed, bytes a lookup
		 * compares when the mtime moved (a Snakemake touching its
		 * outputs).
		 */
		if (ob->kind == TRACE_STAT) {
			bool reg = S_ISREG(ob->st.st_mode);
			/*
			 * A directory's times count when the unit also read
			 * its entries or its parent's, as a job's
			 * (sandbox/trace.c): tar archives them, ls -l shows
			 * them, a shell's stat of its cwd does not.
			 */
			bool times = ob->times &&
				     (!S_ISDIR(ob->st.st_mode) || unit_listed(u, ob->path));
			unsigned how = (j->opts->strict_stat ? CACHE_STAT_STRICT : 0) |
				       (times || reg ? CACHE_STAT_MTIME : 0);

			if (ob->hashed && reg &&
			    (!ob->times || (j->opts->mtime_content && !j->opts->strict_stat)))
				cache_record_add_stat_hash(rec, ob->path, &ob->st,
							   how | (ob->times ? 0 : CACHE_STAT_BYTES),
							   &ob->hash);
			else
				cache_record_add_stat(rec, ob->path, &ob->st, how);
			continue;
		}
		record_add_obs(rec, ob, j->opts,
			       ob->kind == TRACE_OUTPUT && left_file(u->root_fd, ob->path),
			       false);
	}
	cache_record_set_exit(rec, u->exit_code, 0);
	cache_record_set_duration(rec, u->duration_s);
	for (i = 1; i < 3; i++) {
		if (!u->out_len[i])
			continue;
		files[i] = output_file(j->cache, u->out[i], u->out_len[i]);
		if (!files[i]) {
			why = "its output cannot be kept";
			goto out;
		}
		cache_record_set_output(rec, (int)i, files[i]);
	}
	if (add_changes(u, rec, &why) < 0)
		goto out;
	r = cache_store(j->cache, rec, NULL, &err);
	if (r < 0)
		why = err.buf;
	else
		debug("nested: unit %u (%s) stored under key %s", u->id, u->argv0,
		      cache_key_hex(k));
out:
	if (why)
		debug("nested: unit %u (%s) not stored: %s", u->id, u->argv0, why);
	for (i = 1; i < 3; i++)
		if (files[i]) {
			unlink(files[i]);
			free(files[i]);
		}
	cache_record_free(rec);
	cache_key_free(k);
}

/*
 * The unit's key: the outer job's sandbox fields, then its own; with
 * @fd0_unseen, "fd0" is "unseen" instead of what fd 0 is (DESIGN.md
 * §13.3, "Stdin unseen": no process of the unit observed it).
 */
static struct cache_key *unit_key(const struct job *j, const struct trace_unit *u,
				  bool fd0_unseen)
{
	struct cache_key *k = cache_key_new();

	job_add_unit_key(j, k);
	for (size_t i = 0; i < u->nr_fields; i++)
		cache_key_add_str(k, u->names[i],
				  fd0_unseen && !strcmp(u->names[i], "fd0") ? "unseen" : u->values[i]);
	return k;
}

/* The fs id (4th number) of key field @name ("Uid", "Gid"), or -1. */
static long fs_id(const struct trace_unit *u, const char *name)
{
	for (size_t i = 0; i < u->nr_fields; i++)
		if (!strcmp(u->names[i], name)) {
			unsigned long v[4];

			if (sscanf(u->values[i], "%lu %lu %lu %lu", &v[0], &v[1], &v[2], &v[3]) == 4)
				return (long)v[3];
			return -1;
		}
	return -1;
}

/*
 * Each precondition of @e to the tracer (hit->pre), as the observation
 * that stands for it: what the outer job and the units around the
 * skipped one then record (DESIGN.md §13.5): their kinds, paths (a host
 * fact's name) and whether a stat holds the mtime.
 */
static void replay_preconditions(const struct cache_entry *e, struct trace_unit_hit *hit)
{
	size_t i, nr = cache_entry_nr_pre(e);

	for (i = 0; i < nr; i++) {
		const char *kind, *path;
		enum trace_obs_kind k;
		bool mtime, found = false;

		cache_entry_pre(e, i, &kind, &path, &mtime);
		if (!path)
			continue;
		for (k = TRACE_CONTENT; k <= TRACE_XATTRS && !found; k++)
			if (!strcmp(trace_obs_kind_name(k), kind)) {
				found = true;
				break;
			}
		if (!found)
			k = TRACE_XATTRS;	/* unknown: the tracer refuses it */
		hit->pre(hit->pre_arg, k, path, mtime);
	}
}

/* A replayed unit's output is read whole into memory: at most this much. */
#define NEST_MAX_OUTPUT (64u << 20)

int nest_unit_skip(void *ctx, const struct trace_unit *u, int root_fd,
		   struct trace_unit_hit *hit)
{
	struct job *j = ctx;
	struct cache_key *k = unit_key(j, u, u->fd0_unseen);
	struct cache_entry *e = NULL;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct mat_report rep;
	double t = now_seconds(), t2;
	int r, ret = 0;

	/*
	 * Keyed without its fd 0 first, when it may be: an entry there never
	 * observed fd 0; then under fd 0 as it is (an entry that may have).
	 */
	r = cache_lookup_at(j->cache, root_fd, k, 0, &e, NULL, &err);
	if (r == 0 && u->fd0_unseen) {
		cache_key_free(k);
		k = unit_key(j, u, false);
		r = cache_lookup_at(j->cache, root_fd, k, 0, &e, NULL, &err);
		hit->fd0_exact = true;
	} else {
		hit->fd0_exact = !u->fd0_unseen;
	}
	t2 = now_seconds();
	hit->lookup_s = t2 - t;
	t = t2;
	if (r <= 0) {
		if (r < 0)
			debug("nested: unit %u (%s): lookup failed: %s", u->id, u->argv0, err.buf);
		goto out;
	}
	/*
	 * The apply runs on this thread, whose files are the supervisor's:
	 * v1 skips only a unit that would have created them as the same
	 * owner (DESIGN.md §13.4).
	 */
	if (fs_id(u, "Uid") != (long)geteuid() || fs_id(u, "Gid") != (long)getegid() ||
	    cache_entry_signal(e)) {
		debug("nested: unit %u (%s): not skipped (other owner, or a death by a signal)",
		      u->id, u->argv0);
		goto out;
	}
	if (cache_entry_read_output(j->cache, e, 1, NEST_MAX_OUTPUT, &hit->out[1], &err) < 0 ||
	    cache_entry_read_output(j->cache, e, 2, NEST_MAX_OUTPUT, &hit->out[2], &err) < 0) {
		debug("nested: unit %u (%s): its output cannot be read: %s", u->id, u->argv0,
		      err.buf);
		goto out;
	}
	t2 = now_seconds();
	hit->output_s = t2 - t;
	t = t2;
	replay_preconditions(e, hit);
	t2 = now_seconds();
	hit->compose_s = t2 - t;
	t = t2;
	mat_report_init(&rep);
	r = cache_entry_apply_at(j->cache, e, root_fd, 0, &rep, &err);
	mat_report_release(&rep);
	hit->apply_s = now_seconds() - t;
	/* what it changed, applied or not: the tracer's writes */
	hit->nr_written = cache_entry_nr_changes(e);
	hit->written = xcalloc(hit->nr_written + 1, sizeof(*hit->written));
	for (size_t i = 0; i < hit->nr_written; i++) {
		struct cache_change_view v;

		cache_entry_change(e, i, &v);
		hit->written[i] = xstrdup(v.path);
	}
	if (r < 0) {
		debug("nested: unit %u (%s): apply failed: %s", u->id, u->argv0, err.buf);
		ret = -1;
		goto out;
	}
	hit->exit_code = cache_entry_exit_code(e);
	hit->duration_s = cache_entry_duration(e);
	hit->entry = xstrdup(cache_entry_id(e));
	ret = 1;
out:
	cache_entry_free(e);
	cache_key_free(k);
	return ret;
}

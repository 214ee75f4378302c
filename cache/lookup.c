/*
 * Lookup: find the entry of a key whose preconditions hold on the host,
 * and explain misses.
 *
 * Candidates are the *.entry files of keys/ab/<key>/, most recently used
 * (mtime) first. Each host path is examined at most once per lookup: a
 * memo keeps its lstat, content hash, symlink target and listing hash, so
 * a hundred candidates that share their inputs cost one stat per input.
 * Content goes through the stat cache (cache/statcache.c).
 *
 * A hit is touched (mtime = now) before its blobs are read, so that a
 * concurrent gc, which removes least recently used entries first and an
 * entry before its blobs, does not take the blobs of an entry in use.
 * Then every blob it references is checked (present, size, hash): an
 * entry with a missing or damaged blob is a miss and is removed. The
 * empty blob is not read (blob_is_empty()): its content is known.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "cache/cache.h"
#include "cache/internal.h"
#include "common/strmap.h"
#include "common/binfmt.h"
#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/cpus.h"
#include "common/die.h"
#include "common/dirlist.h"
#include "common/filestat.h"
#include "common/hash.h"
#include "common/json.h"
#include "common/loginuid.h"
#include "common/path.h"
#include "common/strbuf.h"
#include "common/uname.h"
#include "common/xalloc.h"
#include "common/banned.h"

struct cache_explain {
	cJSON *reasons; /* array */
	size_t nr_candidates;	/* entries under the key that were checked */
	/* the candidate with the fewest failing preconditions (the most
	 * recently used of equals): what is nearest to a hit */
	char nearest[ENTRY_NAME_LEN + 1];
	size_t nearest_fail, nearest_pre;
};

struct memo {
	bool lstat_done, hash_done, link_done, list_done;
	/* the stat cache (or verified stats) hold @hash for exactly @st */
	bool vouched;
	int lstat_err, hash_err, link_err, list_err;
	struct stat st;
	struct pc_hash hash, list;
	char *link;
};

/*
 * lstat() of many paths in few directories walks the same leading
 * components again and again; fstatat() relative to an O_PATH fd of the
 * parent, opened once per lookup, does the same check for less. (Same
 * semantics: the parent's components are followed as lstat() would.)
 */
#define LOOKUP_MAX_DIRFDS 256

struct lookup {
	struct cache *c;
	/*
	 * The resolver: false, the host's / (paths as given, content through
	 * the stat cache); true, a view beneath @root_fd (cache_lookup_at():
	 * every path opened beneath it with RESOLVE_IN_ROOT, content hashed
	 * from its bytes). One set of checks serves both.
	 */
	bool in_root;
	int root_fd;
	struct strmap *paths;
	struct memo *memos;
	size_t nr, alloc;
	struct strmap *dirs; /* parent path -> index in dirfds */
	int dirfds[LOOKUP_MAX_DIRFDS];
	size_t nr_dirfds;
	bool uname_done;
	int uname_err;
	struct utsname uts;
	/*
	 * The entry being checked: its verified stats (cache/verified.c),
	 * the index of the precondition at hand, and whether a content
	 * precondition held, vouched for by the stat cache, without them
	 * (then a hit writes them anew).
	 */
	struct verified *ver;
	size_t index;
	bool ver_stale;
};

static struct memo *memo_get(struct lookup *l, const char *path)
{
	size_t len = strlen(path);
	/* one probe: the index of a known path, or a new one for @path */
	long i = strmap_put(l->paths, path, len, (long)l->nr);

	if (i >= 0)
		return &l->memos[i];
	ALLOC_GROW(l->memos, l->nr + 1, l->alloc);
	memset(&l->memos[l->nr], 0, sizeof(l->memos[l->nr]));
	return &l->memos[l->nr++];
}

/*
 * @path (absolute: as the view sees it) opened beneath @root_fd as if it
 * were "/": ".." and absolute symlinks stay inside, magic links of /proc
 * are refused. The fd or -errno.
 */
static int open_in_root(int root_fd, const char *path, int flags)
{
	return fd_openat2(root_fd, path, flags,
			     RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

/*
 * Whether resolving the view path @path beneath @root_fd, following
 * symlinks as the job's lookup does, steps on the "self" or "thread-self"
 * link of a procfs. Those name the reader: procache, outside the job's
 * PID namespace, finds nothing behind them (ENOENT) where the job finds
 * its own /proc/PID, so an ENOENT or ENOTDIR met after one says nothing
 * of what the job would find. Asked only when the open of @path failed
 * so (rare: recorded paths are resolved ones); true too when it cannot
 * tell (a loop, an error other than absent).
 */
static __attribute__((noinline)) bool view_walk_meets_proc_self(int root_fd,
								const char *path)
{
	struct strbuf done = STRBUF_INIT;
	char *rest = xstrdup(path), *p = rest;
	char target[PATH_MAX];
	int links = 0, fd;
	bool ret = false;

	/* Missing before any symlink (the usual case): the job's answer too. */
	fd = fd_openat2(root_fd, path, O_PATH | O_DIRECTORY,
			   RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);
	if (fd >= 0)
		close(fd);	/* there now: say "cannot tell" */
	if (fd != -ELOOP) {
		free(rest);
		return fd >= 0 || (fd != -ENOENT && fd != -ENOTDIR);
	}
	for (;;) {
		struct statfs sfs;
		struct stat st;
		char *name, *next;
		ssize_t n;
		int dfd;

		while (*p == '/')
			p++;
		if (!*p)
			break;	/* resolved to the end: not through one */
		name = p;
		next = p + strcspn(p, "/");
		p = *next ? next + 1 : next;
		*next = '\0';
		if (!strcmp(name, "."))
			continue;
		if (!strcmp(name, "..")) {
			char *slash = done.len ? strrchr(done.buf, '/') : NULL;

			if (slash)	/* ".." of the root is the root */
				strbuf_setlen(&done, (size_t)(slash - done.buf));
			continue;
		}
		dfd = open_in_root(root_fd, done.len ? done.buf : "/", O_PATH | O_DIRECTORY);
		if (dfd < 0) {
			ret = dfd != -ENOENT && dfd != -ENOTDIR;
			break;
		}
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			ret = errno != ENOENT && errno != ENOTDIR;
			close(dfd);
			break;
		}
		if (!S_ISLNK(st.st_mode)) {
			close(dfd);
			strbuf_addch(&done, '/');
			strbuf_addstr(&done, name);
			continue;
		}
		if ((!strcmp(name, "self") || !strcmp(name, "thread-self")) &&
		    (fstatfs(dfd, &sfs) < 0 || sfs.f_type == PROC_SUPER_MAGIC)) {
			close(dfd);
			ret = true;
			break;
		}
		n = readlinkat(dfd, name, target, sizeof(target) - 1);
		close(dfd);
		if (n < 0 || ++links > 40) {
			ret = true;
			break;
		}
		target[n] = '\0';
		if (target[0] == '/')
			strbuf_reset(&done);
		/* the target's components, then what was left */
		{
			char *spliced = xasprintf("%s/%s", target, p);

			free(rest);
			rest = p = spliced;
		}
	}
	strbuf_release(&done);
	free(rest);
	return ret;
}

/* parent_fd() of a full table beneath a root: start over. */
static __attribute__((noinline)) void dirfds_restart(struct lookup *l)
{
	/*
	 * No path-based fallback stays in the view: start over with an
	 * empty table (the memos keep their answers; no caller holds a
	 * parent fd across two calls).
	 */
	for (size_t j = 0; j < l->nr_dirfds; j++)
		if (l->dirfds[j] >= 0)
			close(l->dirfds[j]);
	l->nr_dirfds = 0;
	strmap_free(l->dirs);
	l->dirs = strmap_new();
}

static inline __attribute__((always_inline)) int parent_fd(struct lookup *l,
						       const char *path,
						       size_t len)
{
	long i;
	int fd;

	if (!l->dirs)
		l->dirs = strmap_new();
	i = strmap_get(l->dirs, path, len);
	if (i >= 0)
		return l->dirfds[i];
	if (l->nr_dirfds == LOOKUP_MAX_DIRFDS) {
		if (!l->in_root)
			return -1;
		dirfds_restart(l);
	}
	{
		char *dir = xstrndup(path, len);

		if (l->in_root) {
			fd = open_in_root(l->root_fd, len ? dir : "/",
					  O_PATH | O_DIRECTORY);
			/* absent for us, maybe not for the job */
			if ((fd == -ENOENT || fd == -ENOTDIR) &&
			    view_walk_meets_proc_self(l->root_fd, dir))
				fd = -ELOOP;
		} else
			fd = open(len ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		free(dir);
	}
	/*
	 * A failure is remembered: on the host as -1 (plain lstat() then
	 * says why), beneath a root as -errno (the answer itself: there is
	 * no path-based fallback that stays in the view).
	 */
	l->dirfds[l->nr_dirfds] = fd;
	strmap_put(l->dirs, path, len, (long)l->nr_dirfds++);
	return fd;
}

/*
 * Beneath a root: the fd of @path's parent in the view and its last
 * component in *@name, or -errno. "/" itself has no parent: the root fd
 * and "" (for the *at() calls' AT_EMPTY_PATH or ".").
 */
static int view_parent(struct lookup *l, const char *path, const char **name)
{
	const char *slash = strrchr(path, '/');

	if (!slash || path[0] != '/')
		return -EINVAL;
	if (!slash[1]) {
		*name = "";
		return slash == path ? l->root_fd : -EINVAL;
	}
	*name = slash + 1;
	return parent_fd(l, path, (size_t)(slash - path));
}

/* memo_lstat() beneath a root (kept out of the host's path). */
static __attribute__((noinline)) void memo_lstat_view(struct lookup *l,
						       struct memo *m,
						       const char *path)
{
	const char *name;
	int dfd = view_parent(l, path, &name);

	if (dfd < 0)
		m->lstat_err = dfd;
	else
		m->lstat_err = fstatat(dfd, name, &m->st,
				       AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH)) < 0
				       ? -errno : 0;
}

static void memo_lstat(struct lookup *l, struct memo *m, const char *path)
{
	const char *slash;
	int dfd;

	if (m->lstat_done)
		return;
	m->lstat_done = true;
	if (l->in_root) {
		memo_lstat_view(l, m, path);
		return;
	}
	slash = strrchr(path, '/');
	dfd = slash && slash[1] ? parent_fd(l, path, (size_t)(slash - path)) : -1;
	/*
	 * The parent was opened following symlinks, as lstat() resolves the
	 * leading components: the answer is lstat()'s, failures included
	 * (asking again for each absent path doubled their cost).
	 */
	if (dfd >= 0) {
		m->lstat_err = fstatat(dfd, slash + 1, &m->st, AT_SYMLINK_NOFOLLOW) < 0 ?
			-errno : 0;
		return;
	}
	m->lstat_err = lstat(path, &m->st) < 0 ? -errno : 0;
}

static struct statcache *lookup_statcache(struct cache *c)
{
	if (!c->sc_tried) {
		int r;

		c->sc_tried = true;
		r = statcache_open(c->dirfd, &c->sc);
		if (r < 0)
			info("stat cache unusable in '%s': %s", c->path,
			     strerror(-r));
	}
	return c->sc;
}

int cache_hash_file(struct cache *c, const char *path, const struct stat *st,
		    struct pc_hash *out)
{
	struct statcache *sc = lookup_statcache(c);

	if (!sc)
		return -ENOSYS;
	return statcache_hash_file(sc, AT_FDCWD, path, st, out, NULL);
}

/*
 * pc_hash_fd() of @fd (at its start; @size from its fstat), a small file
 * (most of what a unit reads: sources, headers, scripts) with one read()
 * into a buffer on the stack: pc_hash_fd()'s 128 KiB buffer is mapped and
 * unmapped per call, and its read to the end of file is one more system
 * call, each of which costs more than hashing a small file. One read()
 * that returns exactly @size bytes has them all (a file that grew since
 * gives more, one that shrank less: then the whole loop). The one-shot
 * hash of a buffer equals the streamed one.
 */
static int hash_small_fd(int fd, off_t size, struct pc_hash *out)
{
	char buf[16384];
	ssize_t n;

	if (size >= 0 && (size_t)size < sizeof(buf)) {
		do
			n = read(fd, buf, sizeof(buf));
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return -errno;
		if (n == size) {
			pc_hash_buffer(buf, (size_t)n, out);
			return 0;
		}
		if (lseek(fd, 0, SEEK_SET) < 0)
			return -errno;
	}
	return pc_hash_fd(fd, out, NULL);
}

/*
 * The content hash of the regular file @path (whose lstat is in @m) into
 * the memo, once. On the host through the stat cache; beneath a root
 * through it too, keyed by the fstat of the file opened: the cache keys
 * on (dev, ino, mode, size, mtime, ctime) and trusts only files whose
 * times are two seconds old, and a view file rewritten in place, even
 * with its size and mtime kept, has a new ctime (the overlay shows a
 * lower file's own inode number, with its own device).
 */
static __attribute__((noinline)) void memo_hash_view(struct lookup *l,
						      struct memo *m,
						      const char *path)
{
	const char *name;
	struct stat st;
	int dfd, fd;

	/*
	 * The stat cache first, keyed by the lstat the memo holds (the
	 * overlay's dev and ino, the fstat of an open would give the same):
	 * a hit is that inode with those times, whose bytes were hashed once
	 * its times were two seconds old, so no bytes are read and no open
	 * is needed (3 system calls of a skipped unit's lookup per content
	 * precondition); the open below is for a miss.
	 */
	if (!m->lstat_err && S_ISREG(m->st.st_mode) &&
	    statcache_get(lookup_statcache(l->c), &m->st, &m->hash)) {
		m->hash_err = 0;
		m->vouched = true;
		return;
	}
	dfd = view_parent(l, path, &name);
	if (dfd < 0 || !*name) {
		m->hash_err = dfd < 0 ? dfd : -EISDIR;
		return;
	}
	do
		fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
				       O_NOCTTY | O_NONBLOCK);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		m->hash_err = -errno;
		return;
	}
	/* the file the lstat described, still a regular file */
	if (fstat(fd, &st) < 0)
		m->hash_err = -errno;
	else if (!S_ISREG(st.st_mode) || st.st_dev != m->st.st_dev ||
		 st.st_ino != m->st.st_ino)
		m->hash_err = -ESTALE;
	else if (statcache_get(lookup_statcache(l->c), &st, &m->hash)) {
		m->hash_err = 0;
		m->vouched = stat_same_file(&st, &m->st);
	} else {
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		m->hash_err = hash_small_fd(fd, st.st_size, &m->hash);
		if (!m->hash_err)
			m->vouched = statcache_put(lookup_statcache(l->c), &st, &m->hash,
				      (int64_t)now.tv_sec * 1000000000 + now.tv_nsec) &&
				     stat_same_file(&st, &m->st);
	}
	close(fd);
}

static inline void memo_hash(struct lookup *l, struct memo *m, const char *path)
{
	if (m->hash_done)
		return;
	m->hash_done = true;
	if (l->in_root)
		memo_hash_view(l, m, path);
	else
		m->hash_err = statcache_hash_file(lookup_statcache(l->c), AT_FDCWD,
						  path, &m->st, &m->hash,
						  &m->vouched);
}

static void describe_stat(struct strbuf *sb, int err, const struct stat *st)
{
	if (err == -ENOENT) {
		strbuf_addstr(sb, "absent");
		return;
	}
	if (err == -ENOTDIR) {
		strbuf_addstr(sb, "absent, below a non-directory");
		return;
	}
	if (err) {
		strbuf_addf(sb, "unreadable (%s)", strerror(-err));
		return;
	}
	strbuf_addf(sb, "%s %04o", file_type_name(st->st_mode),
		    (unsigned)(st->st_mode & 07777));
}

static void hash_hex(struct strbuf *sb, const struct pc_hash *h)
{
	char hex[PC_HASH_HEX_LEN + 1];

	pc_hash_to_hex(h, hex);
	strbuf_addstr(sb, hex);
}

static int64_t st_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

/*
 * The listing hash of the directory @path into the memo, once. On the
 * host, without the job's hidden entries (cache_set_hidden()), as its
 * tracer recorded it; a view beneath a root (an execution unit's, §13)
 * is listed as it is: what is hidden is not in it.
 */
static void memo_listing(struct lookup *l, struct memo *m, const char *path)
{
	const char *const *hidden = (const char *const *)l->c->hidden;

	if (m->list_done)
		return;
	m->list_done = true;
	if (m->lstat_err || !S_ISDIR(m->st.st_mode)) {
		m->list_err = m->lstat_err ? m->lstat_err : -ENOTDIR;
		return;
	}
	if (l->in_root) {
		const char *name;
		int dfd = view_parent(l, path, &name);

		m->list_err = dfd < 0 ? dfd
			      : dirlist_hash_at(dfd, *name ? name : ".",
						&m->list, NULL);
		return;
	}
	m->list_err = dirlist_hash_at_hiding(AT_FDCWD, path, path, hidden,
					     l->c->nr_hidden, &m->list, NULL);
}

/* readlink() of @path, in the view beneath a root: the target or NULL
 * with -errno in *@err. */
static char *read_link(struct lookup *l, const char *path, size_t size_hint,
		       int *err)
{
	struct strbuf t = STRBUF_INIT;
	size_t want = size_hint + 2;
	const char *name = path;
	int dfd = AT_FDCWD;
	ssize_t n;

	if (l->in_root) {
		dfd = view_parent(l, path, &name);
		if (dfd < 0 || !*name) {
			*err = dfd < 0 ? dfd : -EINVAL;
			return NULL;
		}
	}
	for (;;) {
		strbuf_grow(&t, want);
		n = readlinkat(dfd, name, t.buf, t.alloc - 1);
		if (n < 0 || (size_t)n < t.alloc - 1)
			break;
		want = t.alloc * 2;
	}
	if (n < 0) {
		*err = -errno;
		strbuf_release(&t);
		return NULL;
	}
	strbuf_setlen(&t, (size_t)n);
	return strbuf_detach(&t, NULL);
}

/*
 * A name for @path that the path-based xattr calls resolve in the view:
 * "/proc/self/fd/<parent fd>/<name>" (the last component still not
 * followed by the l*xattr() calls), or "/proc/self/fd/<dir fd>/." for a
 * directory itself (@dir). On the host, @path. NULL with -errno in *@err.
 */
static char *xattr_name_for(struct lookup *l, const char *path, bool dir,
			    int *err)
{
	const char *name;
	int dfd;

	if (!l->in_root)
		return xstrdup(path);
	if (dir) {
		if (!strcmp(path, "/"))
			return xasprintf("/proc/self/fd/%d/.", l->root_fd);
		dfd = parent_fd(l, path, strlen(path));
		if (dfd < 0) {
			*err = dfd;
			return NULL;
		}
		return xasprintf("/proc/self/fd/%d/.", dfd);
	}
	dfd = view_parent(l, path, &name);
	if (dfd < 0) {
		*err = dfd;
		return NULL;
	}
	return *name ? xasprintf("/proc/self/fd/%d/%s", dfd, name)
		     : xasprintf("/proc/self/fd/%d/.", dfd);
}

/*
 * An output precondition (cache.h, cache_output_pre): the file the job
 * would write is the same one — an existing regular file with the recorded
 * mode and owner, or an absent one whose creation in an unchanged parent
 * directory gives that same mode and owner.
 */
static bool check_output(struct lookup *l, const struct memo *m,
			 const struct precondition *p)
{
	if (!m->lstat_err)
		return (m->st.st_mode & (S_IFMT | 07777)) == p->mode &&
		       m->st.st_uid == p->uid && m->st.st_gid == p->gid;
	if (m->lstat_err != -ENOENT || !p->create)
		return false;
	/* memo_get() below may move the memos: @m is not used after it. */
	if (p->create_mode != (p->mode & 07777) || p->create_uid != p->uid ||
	    p->create_gid != p->gid)
		return false;
	_cleanup_free_ char *parent = path_dirname(p->path);
	struct memo *pm = memo_get(l, parent);
	memo_lstat(l, pm, parent);
	return !pm->lstat_err &&
	       (pm->st.st_mode & (S_IFMT | 07777)) == p->parent_mode &&
	       pm->st.st_uid == p->parent_uid && pm->st.st_gid == p->parent_gid;
}

/*
 * Does @p hold on the host? When @exp/@found are not NULL and it does
 * not, they receive what was expected and what was found.
 */
static bool check_pre(struct lookup *l, const struct precondition *p,
		      struct strbuf *exp, struct strbuf *found)
{
	struct memo *m;
	bool ok = false;

	if (p->kind == PRE_HOSTFACT && !strcmp(p->path, "cpuinfo")) {
		struct strbuf now = STRBUF_INIT;

		ok = cpuinfo_fact_check(p->value, &now);
		if (!ok && exp) {
			strbuf_addstr(exp, p->value);
			strbuf_addbuf(found, &now);
		}
		strbuf_release(&now);
		return ok;
	}
	if (p->kind == PRE_HOSTFACT && !strcmp(p->path, "binfmt_misc")) {
		/* what procache sees registered, as the tracer read it */
		struct strbuf now = STRBUF_INIT;

		ok = binfmt_fact_value(&now) == 0 && !strcmp(now.buf, p->value);
		if (!ok && exp) {
			strbuf_addstr(exp, p->value);
			strbuf_addstr(found, now.len ? now.buf : "unreadable");
		}
		strbuf_release(&now);
		return ok;
	}
	if (p->kind == PRE_HOSTFACT && loginuid_fact_known(p->path)) {
		/* procache's own: the value a job started now would inherit */
		struct strbuf now = STRBUF_INIT;

		ok = loginuid_fact_value(p->path, &now) == 0 && !strcmp(now.buf, p->value);
		if (!ok && exp) {
			strbuf_addstr(exp, p->value);
			strbuf_addstr(found, now.len ? now.buf : "unreadable");
		}
		strbuf_release(&now);
		return ok;
	}
	if (p->kind == PRE_HOSTFACT) {
		const char *v;

		if (!l->uname_done) {
			l->uname_done = true;
			l->uname_err = uname(&l->uts) < 0 ? -errno : 0;
		}
		v = l->uname_err ? NULL : uname_field(&l->uts, p->path);
		ok = v && !strcmp(v, p->value);
		if (!ok && exp) {
			strbuf_addstr(exp, p->value);
			strbuf_addstr(found, v ? v : "unknown");
		}
		return ok;
	}

	m = memo_get(l, p->path);
	memo_lstat(l, m, p->path);
	switch (p->kind) {
	case PRE_ABSENT:
		/*
		 * ENOENT alone: a parent that became a file answers ENOTDIR,
		 * another error (a parent that is no directory is recorded
		 * as its stat, trace-resolve.c step_not_dir()).
		 */
		ok = m->lstat_err == -ENOENT;
		if (!ok && exp) {
			strbuf_addstr(exp, "absent");
			describe_stat(found, m->lstat_err, &m->st);
		}
		return ok;
	case PRE_OUTPUT:
		ok = check_output(l, m, p);
		m = memo_get(l, p->path);	/* may have moved */
		if (!ok && exp) {
			strbuf_addf(exp, "file %04o uid %u gid %u",
				    (unsigned)(p->mode & 07777), p->uid, p->gid);
			if (p->create)
				strbuf_addstr(exp, ", or absent and creatable so");
			describe_stat(found, m->lstat_err, &m->st);
			if (!m->lstat_err)
				strbuf_addf(found, " uid %u gid %u",
					    (unsigned)m->st.st_uid,
					    (unsigned)m->st.st_gid);
		}
		return ok;
	case PRE_STAT:
		ok = !m->lstat_err &&
		     (m->st.st_mode & (S_IFMT | 07777)) == p->mode &&
		     m->st.st_uid == p->uid && m->st.st_gid == p->gid &&
		     (!S_ISREG(p->mode) || ((uint64_t)m->st.st_size == p->size &&
					     (uint64_t)m->st.st_nlink == p->nlink)) &&
		     (!p->strict || (st_ns(&m->st.st_mtim) == p->mtime_ns &&
				     st_ns(&m->st.st_ctim) == p->ctime_ns));
		if (ok && p->has_mtime &&
		    st_ns(&m->st.st_mtim) != p->mtime_ns) {
			/* Touched: it holds only if the bytes are the same
			 * (--mtime=content). */
			ok = false;
			if (p->has_hash) {
				memo_hash(l, m, p->path);
				ok = !m->hash_err &&
				     pc_hash_equal(&m->hash, &p->hash);
			}
		}
		if (!ok && exp) {
			strbuf_addf(exp, "%s %04o uid %u gid %u",
				    file_type_name(p->mode),
				    (unsigned)(p->mode & 07777), p->uid, p->gid);
			if (S_ISREG(p->mode))
				strbuf_addf(exp, " size %" PRIu64 " nlink %" PRIu64,
					    p->size, p->nlink);
			if (p->strict)
				strbuf_addf(exp, " mtime %" PRId64 " ctime %" PRId64,
					    p->mtime_ns, p->ctime_ns);
			else if (p->has_mtime)
				strbuf_addf(exp, " mtime %" PRId64 "%s", p->mtime_ns,
					    p->has_hash ? " or the same content" : "");
			describe_stat(found, m->lstat_err, &m->st);
			if (!m->lstat_err) {
				strbuf_addf(found, " uid %u gid %u",
					    (unsigned)m->st.st_uid,
					    (unsigned)m->st.st_gid);
				if (S_ISREG(m->st.st_mode))
					strbuf_addf(found, " size %" PRIu64 " nlink %" PRIu64,
						    (uint64_t)m->st.st_size,
						    (uint64_t)m->st.st_nlink);
				if (p->strict)
					strbuf_addf(found,
						    " mtime %" PRId64 " ctime %" PRId64,
						    st_ns(&m->st.st_mtim),
						    st_ns(&m->st.st_ctim));
				else if (p->has_mtime &&
					 st_ns(&m->st.st_mtim) != p->mtime_ns)
					strbuf_addf(found, " mtime %" PRId64 "%s",
						    st_ns(&m->st.st_mtim),
						    p->has_hash ? " and other content" : "");
			}
		}
		return ok;
	case PRE_CONTENT:
		if (!m->lstat_err &&
		    (m->st.st_mode & (S_IFMT | 07777)) == p->mode) {
			bool known = verified_holds(l->ver, l->index, &m->st);

			if (known && !m->hash_done) {
				/* this stat, vouched for at an earlier hit:
				 * the content the entry expects (verified.c) */
				m->hash_done = m->vouched = true;
				m->hash_err = 0;
				m->hash = p->hash;
			}
			memo_hash(l, m, p->path);
			ok = !m->hash_err && pc_hash_equal(&m->hash, &p->hash);
			if (ok && m->vouched && !known)
				l->ver_stale = true;
		}
		if (!ok && exp) {
			strbuf_addf(exp, "%s %04o ", file_type_name(p->mode),
				    (unsigned)(p->mode & 07777));
			hash_hex(exp, &p->hash);
			describe_stat(found, m->lstat_err, &m->st);
			if (!m->lstat_err && m->hash_done) {
				strbuf_addch(found, ' ');
				if (m->hash_err)
					strbuf_addf(found, "(cannot hash: %s)",
						    strerror(-m->hash_err));
				else
					hash_hex(found, &m->hash);
			}
		}
		return ok;
	case PRE_LISTING:
		memo_listing(l, m, p->path);
		ok = !m->list_err && pc_hash_equal(&m->list, &p->hash);
		if (!ok && exp) {
			strbuf_addstr(exp, "listing ");
			hash_hex(exp, &p->hash);
			if (m->list_err == -ENOTDIR && !m->lstat_err)
				describe_stat(found, 0, &m->st);
			else if (m->list_err)
				describe_stat(found, m->list_err, &m->st);
			else {
				strbuf_addstr(found, "listing ");
				hash_hex(found, &m->list);
			}
		}
		return ok;
	case PRE_SYMLINK:
		if (!m->link_done) {
			m->link_done = true;
			if (m->lstat_err)
				m->link_err = m->lstat_err;
			else if (!S_ISLNK(m->st.st_mode))
				m->link_err = -EINVAL;
			else
				m->link = read_link(l, p->path,
						    (size_t)m->st.st_size,
						    &m->link_err);
		}
		ok = !m->link_err && !strcmp(m->link, p->value);
		if (!ok && exp) {
			strbuf_addf(exp, "symlink to '%s'", p->value);
			if (m->link_err == -EINVAL)
				describe_stat(found, 0, &m->st);
			else if (m->link_err)
				describe_stat(found, m->link_err, &m->st);
			else
				strbuf_addf(found, "symlink to '%s'", m->link);
		}
		return ok;
	case PRE_XATTRS: {
		struct xattr_set now = XATTR_SET_INIT;
		int err = 0;
		_cleanup_free_ char *xpath = xattr_name_for(l, p->path, false, &err);
		struct pc_hash h;

		if (xpath)
			err = xattr_read_seen(xpath, &now);

		xattr_set_hash(&now, err, &h);
		ok = pc_hash_equal(&h, &p->hash);
		/*
		 * An output file that had none: absent, what creating it
		 * gives has none either unless its directory has a default
		 * ACL (cache.h, cache_record_add_xattrs()).
		 */
		if (!ok && p->absent_ok && err == -ENOENT && m->lstat_err == -ENOENT) {
			_cleanup_free_ char *parent = path_dirname(p->path);
			int perr = 0;
			_cleanup_free_ char *xparent = xattr_name_for(l, parent, true, &perr);

			ok = xparent && !xattr_has_default_acl(xparent);
		}
		if (!ok && exp) {
			strbuf_addstr(exp, "extended attributes ");
			hash_hex(exp, &p->hash);
			if (p->absent_ok)
				strbuf_addstr(exp, " (none), or absent");
			if (err < 0) {
				describe_stat(found, err, &m->st);
			} else {
				strbuf_addstr(found, "extended attributes ");
				if (now.nr)
					xattr_set_describe(&now, found);
				else
					strbuf_addstr(found, "none");
			}
		}
		xattr_set_release(&now);
		return ok;
	}
	case PRE_HOSTFACT:
		break;
	}
	return false;
}

static void explain_add(struct cache_explain *ex, const char *candidate,
			const char *kind, const char *path, const char *expected,
			const char *found, const char *message)
{
	cJSON *o = cJSON_CreateObject();

	if (candidate)
		cJSON_AddStringToObject(o, "candidate", candidate);
	cJSON_AddStringToObject(o, "kind", kind);
	if (path)
		cJSON_AddStringToObject(o, "path", path);
	if (expected)
		cJSON_AddStringToObject(o, "expected", expected);
	if (found)
		cJSON_AddStringToObject(o, "found", found);
	cJSON_AddStringToObject(o, "message", message);
	cJSON_AddItemToArray(ex->reasons, o);
}

/*
 * Does @e write @path? A precondition that fails on a path its own entry
 * writes is a state file the job reads and rewrites (.pytest_cache): no
 * entry of that job can hold again once a later run rewrote it.
 */
static bool entry_writes(const struct cache_entry *e, const char *path)
{
	for (size_t i = 0; i < e->nr_ch; i++)
		if (e->ch[i].kind != CHANGE_DELETE && !strcmp(e->ch[i].path, path))
			return true;
	return false;
}

/*
 * Check every precondition of @e (the entry file @rel, NULL for one not
 * stored here); all of them when @ex is not NULL. Its verified stats stand in for probes of the stat
 * cache; l->ver_stale says whether they should be written anew.
 */
static bool check_entry(struct lookup *l, const struct cache_entry *e,
			const char *rel, struct cache_explain *ex)
{
	_cleanup_strbuf_ struct strbuf exp = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf found = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf msg = STRBUF_INIT;
	bool all = true;
	size_t i;

	/* room for a memo per path at once: growing it by doubling copied
	 * (and faulted in) most of it again */
	ALLOC_GROW(l->memos, l->nr + e->nr_pre, l->alloc);
	verified_free(l->ver);
	l->ver = rel ? verified_load(l->c, rel, e) : NULL;
	l->ver_stale = false;
	for (i = 0; i < e->nr_pre; i++) {
		const struct precondition *p = &e->pre[i];

		strbuf_reset(&exp);
		strbuf_reset(&found);
		l->index = i;
		if (check_pre(l, p, ex ? &exp : NULL, ex ? &found : NULL))
			continue;
		all = false;
		debug("lookup: entry %.8s: %s precondition on '%s' fails",
		      e->id_hex, pre_kind_name(p->kind), p->path);
		if (!ex)
			return false;
		strbuf_reset(&msg);
		strbuf_addf(&msg, "entry %.8s: %s '%s': expected %s, found %s",
			    e->id_hex, pre_kind_name(p->kind), p->path, exp.buf,
			    found.buf);
		explain_add(ex, e->name, pre_kind_name(p->kind), p->path,
			    exp.buf, found.buf, msg.buf);
		if (entry_writes(e, p->path))
			cJSON_AddTrueToObject(cJSON_GetArrayItem(ex->reasons,
				cJSON_GetArraySize(ex->reasons) - 1),
				"written_by_job");
	}
	return all;
}

/*
 * After a hit on @e (the entry file @rel), whose preconditions all held:
 * write the stats under which the stat cache vouched for its content
 * preconditions, so that the next lookup of @e needs none of its probes.
 */
static void save_verified(struct lookup *l, const struct cache_entry *e,
			  const char *rel)
{
	_cleanup_free_ const struct stat **stats =
		xcalloc(e->nr_pre ? e->nr_pre : 1, sizeof(*stats));
	int r;

	for (size_t i = 0; i < e->nr_pre; i++) {
		const struct precondition *p = &e->pre[i];
		long at;

		if (p->kind != PRE_CONTENT)
			continue;
		at = strmap_get(l->paths, p->path, strlen(p->path));
		if (at < 0)
			continue;
		const struct memo *m = &l->memos[at];

		if (m->vouched && m->hash_done && !m->hash_err && !m->lstat_err &&
		    pc_hash_equal(&m->hash, &p->hash))
			stats[i] = &m->st;
	}
	r = verified_save(l->c, rel, e, stats);
	if (r < 0)
		debug("cannot write the verified stats of '%s': %s", rel,
		      strerror(-r));
}

/* Every blob of @e present and whole? Else why, in @why. */
static int check_blobs(struct cache *c, const struct cache_entry *e,
		       struct strbuf *why)
{
	const struct pc_hash *h;
	uint64_t size;
	size_t i = 0;
	int r;

	while (entry_next_blob(e, &i, &h, &size)) {
		if (blob_is_empty(h, size))
			continue;	/* nothing to read: no file needed */
		r = blob_check(c, h, size, true);
		if (r < 0) {
			char hex[PC_HASH_HEX_LEN + 1];

			pc_hash_to_hex(h, hex);
			strbuf_addf(why, "%s blob %s",
				    r == -ENOENT ? "missing" : r == -EBADMSG ? "corrupt" : "unreadable",
				    hex);
			if (r == -EBADMSG)
				blob_drop(c, h);
			return r;
		}
	}
	return 0;
}

struct candidate {
	char *name; /* "<id>.entry" */
	int64_t mtime_ns;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;

	if (x->mtime_ns != y->mtime_ns)
		return x->mtime_ns > y->mtime_ns ? -1 : 1;
	return strcmp(x->name, y->name);
}

struct candidates {
	struct candidate *v;
	size_t nr, alloc;
};

static int add_candidate(struct cache *c, const struct cache_walk_item *it,
			 void *data)
{
	struct candidates *cs = data;

	(void)c;
	ALLOC_GROW(cs->v, cs->nr + 1, cs->alloc);
	cs->v[cs->nr].name = xstrdup(it->name);
	cs->v[cs->nr].mtime_ns = st_ns(&it->st->st_mtim);
	cs->nr++;
	return 0;
}

/* The candidates of key @hex, most recently used first. */
static int list_candidates(struct cache *c, const char *hex,
			   struct candidate **out, size_t *nr)
{
	struct candidates cs = { 0 };
	int r = cache_walk_key(c, hex, 0, add_candidate, &cs);

	if (cs.nr)
		qsort(cs.v, cs.nr, sizeof(*cs.v), cand_cmp);
	*out = cs.v;
	*nr = cs.nr;
	return r;
}

static void cands_free(struct candidate *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(c[i].name);
	free(c);
}

/* ---- nearest key (explain without candidates) ------------------------ */

static bool same_argv(const struct key_field *a, size_t na,
		      const struct key_field *b, size_t nb)
{
	size_t i = 0, j = 0;

	for (;;) {
		while (i < na && strcmp(a[i].tag, "argv"))
			i++;
		while (j < nb && strcmp(b[j].tag, "argv"))
			j++;
		if (i == na || j == nb)
			return i == na && j == nb;
		if (a[i].len != b[j].len || memcmp(a[i].data, b[j].data, a[i].len))
			return false;
		i++;
		j++;
	}
}

struct field_diff {
	char *field, *stored, *current;
};

static void diff_push(struct field_diff **d, size_t *n, size_t *alloc,
		      const char *field, char *stored, char *current)
{
	ALLOC_GROW(*d, *n + 1, *alloc);
	(*d)[*n].field = xstrdup(field);
	(*d)[*n].stored = stored;
	(*d)[*n].current = current;
	(*n)++;
}

/* The values of tag @tag, displayed, joined by '\n'; NULL if none. */
static char *tag_values(const struct key_field *f, size_t n, const char *tag)
{
	struct strbuf sb = STRBUF_INIT;
	bool any = false;
	size_t i;

	for (i = 0; i < n; i++) {
		char *v;

		if (strcmp(f[i].tag, tag))
			continue;
		v = key_field_display(&f[i]);
		if (any)
			strbuf_addch(&sb, ' ');
		strbuf_addstr(&sb, v);
		free(v);
		any = true;
	}
	if (!any) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

/* env fields by name: value of NAME in fields, or NULL. */
static const struct key_field *env_find(const struct key_field *f, size_t n,
					const char *name, size_t nlen)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(f[i].tag, "env") && f[i].len > nlen &&
		    f[i].data[nlen] == '=' && !memcmp(f[i].data, name, nlen))
			return &f[i];
	return NULL;
}

static size_t diff_fields(const struct key_field *st, size_t ns,
			  const struct key_field *cur, size_t nc,
			  struct field_diff **out)
{
	struct field_diff *d = NULL;
	size_t n = 0, alloc = 0, i, j;
	struct strmap *tags = strmap_new();

	/* env: per variable, in both directions. */
	for (i = 0; i < 2; i++) {
		const struct key_field *a = i ? cur : st, *b = i ? st : cur;
		size_t na = i ? nc : ns, nb = i ? ns : nc;

		for (j = 0; j < na; j++) {
			const char *eq;
			const struct key_field *other;
			size_t nlen;
			char *label;

			if (strcmp(a[j].tag, "env") || a[j].type != 's')
				continue;
			eq = memchr(a[j].data, '=', a[j].len);
			nlen = eq ? (size_t)(eq - a[j].data) : a[j].len;
			other = env_find(b, nb, a[j].data, nlen);
			if (other && i)
				continue; /* compared in the first pass */
			if (other && other->len == a[j].len &&
			    !memcmp(other->data, a[j].data, a[j].len))
				continue;
			label = xasprintf("env %.*s", (int)nlen, a[j].data);
			if (i)
				diff_push(&d, &n, &alloc, label, NULL,
					  xstrdup(eq ? eq + 1 : ""));
			else
				diff_push(&d, &n, &alloc, label,
					  xstrdup(eq ? eq + 1 : ""),
					  other ? xstrdup(memchr(other->data, '=', other->len) + 1)
						: NULL);
			free(label);
		}
	}
	/* Every other tag: its values as a whole. */
	for (i = 0; i < 2; i++) {
		const struct key_field *a = i ? cur : st;
		size_t na = i ? nc : ns;

		for (j = 0; j < na; j++) {
			char *sv, *cv;

			if (!strcmp(a[j].tag, "env") || !strcmp(a[j].tag, "argc") ||
			    strmap_put(tags, a[j].tag, strlen(a[j].tag), 1) >= 0)
				continue;
			sv = tag_values(st, ns, a[j].tag);
			cv = tag_values(cur, nc, a[j].tag);
			if (sv && cv && !strcmp(sv, cv)) {
				free(sv);
				free(cv);
				continue;
			}
			diff_push(&d, &n, &alloc, a[j].tag, sv, cv);
		}
	}
	strmap_free(tags);
	*out = d;
	return n;
}

static void diffs_free(struct field_diff *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(d[i].field);
		free(d[i].stored);
		free(d[i].current);
	}
	free(d);
}

/* "ab/<key>/<id>.entry" of the candidate @cand of key @key_hex. */
static void candidate_relpath(const char *key_hex, const struct candidate *cand,
			      struct strbuf *out)
{
	layout_key_dir(key_hex, out);
	strbuf_addf(out, "/%s", cand->name);
}

struct nearest {
	const struct cache_key *k;
	struct field_diff *best;
	size_t best_n;
	char best_key[PC_HASH_HEX_LEN + 1];
};

/* Compare @k with the most recently used readable entry of each other
 * key; keep the one with the fewest differing fields. */
static int nearest_key(struct cache *c, const struct cache_walk_item *it,
		       void *data)
{
	struct nearest *nr = data;
	const struct cache_key *k = nr->k;
	struct candidate *cands;
	struct cache_entry *e = NULL;
	size_t nc, i;

	if (it->kind != CACHE_WALK_KEY || !strcmp(it->id, k->hex) ||
	    list_candidates(c, it->id, &cands, &nc) < 0)
		return CACHE_WALK_SKIP;
	for (i = 0; i < nc && !e; i++) {
		_cleanup_strbuf_ struct strbuf rel = STRBUF_INIT;
		_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;

		candidate_relpath(it->id, &cands[i], &rel);
		if (entryfile_read(c, rel.buf, 0, &e, &err) < 0)
			e = NULL;
	}
	cands_free(cands, nc);
	if (!e)
		return CACHE_WALK_SKIP;
	if (same_argv(e->fields, e->nr_fields, k->fields, k->nr)) {
		struct field_diff *d;
		size_t n = diff_fields(e->fields, e->nr_fields, k->fields, k->nr,
				       &d);

		if (n && (!nr->best || n < nr->best_n)) {
			diffs_free(nr->best, nr->best_n);
			nr->best = d;
			nr->best_n = n;
			memcpy(nr->best_key, e->key_hex, sizeof(nr->best_key));
		} else {
			diffs_free(d, n);
		}
	}
	cache_entry_free(e);
	return CACHE_WALK_SKIP;
}

static void explain_nearest(struct cache *c, const struct cache_key *k,
			    struct cache_explain *ex)
{
	struct nearest nr = { .k = k };
	struct field_diff *best;
	size_t best_n;
	const char *best_key = nr.best_key;

	cache_walk_entries(c, CACHE_WALK_KEYS, nearest_key, &nr);
	best = nr.best;
	best_n = nr.best_n;
	if (!best) {
		explain_add(ex, NULL, "key", NULL, NULL, NULL,
			    "no entry for this command line");
		cJSON_AddStringToObject(
			cJSON_GetArrayItem(ex->reasons,
					   cJSON_GetArraySize(ex->reasons) - 1),
			"field", "argv");
		return;
	}
	for (size_t i = 0; i < best_n; i++) {
		_cleanup_free_ char *msg = NULL;
		cJSON *o = cJSON_CreateObject();

		if (!best[i].stored)
			msg = xasprintf("%s is new (not in the nearest stored key %.8s)",
					best[i].field, best_key);
		else if (!best[i].current)
			msg = xasprintf("%s is no longer set (nearest stored key %.8s)",
					best[i].field, best_key);
		else
			msg = xasprintf("%s differs from the nearest stored key %.8s",
					best[i].field, best_key);
		cJSON_AddStringToObject(o, "kind", "key");
		cJSON_AddStringToObject(o, "nearest", best_key);
		cJSON_AddStringToObject(o, "field", best[i].field);
		if (best[i].stored)
			cJSON_AddStringToObject(o, "expected", best[i].stored);
		else
			cJSON_AddNullToObject(o, "expected");
		if (best[i].current)
			cJSON_AddStringToObject(o, "found", best[i].current);
		else
			cJSON_AddNullToObject(o, "found");
		cJSON_AddStringToObject(o, "message", msg);
		cJSON_AddItemToArray(ex->reasons, o);
	}
	diffs_free(best, best_n);
}

/* ---- lookup ----------------------------------------------------------- */

static void lookup_release(struct lookup *l)
{
	size_t i;

	strmap_free(l->paths);
	strmap_free(l->dirs);
	for (i = 0; i < l->nr_dirfds; i++)
		if (l->dirfds[i] >= 0)
			close(l->dirfds[i]);
	for (i = 0; i < l->nr; i++)
		free(l->memos[i].link);
	free(l->memos);
	verified_free(l->ver);
}

struct lookup *lookup_new(struct cache *c)
{
	struct lookup *l = xcalloc(1, sizeof(*l));

	l->c = c;
	l->paths = strmap_new();
	return l;
}

bool lookup_entry_holds(struct lookup *l, const struct cache_entry *e)
{
	return check_entry(l, e, NULL, NULL);
}

void lookup_free(struct lookup *l)
{
	if (!l)
		return;
	lookup_release(l);
	free(l);
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const struct cache_lookup_times *cache_lookup_times(const struct cache *c)
{
	return &c->lookup_times;
}

/* cache_lookup() on the host (@root_fd < 0) or beneath @root_fd. */
static int lookup_run(struct cache *c, int root_fd, const struct cache_key *ck,
		      unsigned flags, struct cache_entry **hit,
		      struct cache_explain **exp, struct strbuf *err)
{
	struct cache_lookup_times *tm = &c->lookup_times;
	double t = mono_s(), t2;
	struct cache_key *k = (struct cache_key *)ck;
	struct cache_explain *ex = NULL;
	struct candidate *cands = NULL;
	struct lookup l = { .c = c, .in_root = root_fd >= 0, .root_fd = root_fd };
	size_t nr = 0, i;
	int r;

	*hit = NULL;
	if (exp)
		*exp = NULL;
	if (flags & ~CACHE_LOOKUP_EXPLAIN) {
		strbuf_addf(err, "unknown lookup flags %#x", flags);
		return -EINVAL;
	}
	cache_key_hex(k);
	if ((flags & CACHE_LOOKUP_EXPLAIN) && exp) {
		ex = xcalloc(1, sizeof(*ex));
		ex->reasons = cJSON_CreateArray();
	}
	r = list_candidates(c, k->hex, &cands, &nr);
	if (r < 0) {
		strbuf_addf(err, "cannot list cache entries of key %s in '%s': %s",
			    k->hex, c->path, strerror(-r));
		goto out;
	}
	l.paths = strmap_new();
	debug("lookup: key %s: %zu candidate entries", k->hex, nr);
	for (i = 0; i < nr; i++) {
		_cleanup_strbuf_ struct strbuf rel = STRBUF_INIT;
		_cleanup_strbuf_ struct strbuf why = STRBUF_INIT;
		struct cache_entry *e;

		candidate_relpath(k->hex, &cands[i], &rel);
		r = entryfile_read(c, rel.buf, ENTRY_DECODE_LOOKUP, &e, &why);
		t2 = mono_s();
		tm->read_s += t2 - t;
		t = t2;
		if (r == -ENOENT)
			continue; /* removed by a concurrent gc */
		if (r < 0) {
			if (r == -EBADMSG)
				entryfile_drop(c, rel.buf, why.buf);
			else
				warn("cannot read cache entry '%s': %s", rel.buf,
				     why.buf);
			if (ex) {
				_cleanup_free_ char *msg = xasprintf(
					"entry %.*s is unusable: %s", ENTRY_ID_LEN,
					cands[i].name, why.buf);
				_cleanup_free_ char *name = xasprintf(
					"%s/%.*s", k->hex, ENTRY_ID_LEN, cands[i].name);

				explain_add(ex, name, "corrupt", NULL, NULL,
					    NULL, msg);
			}
			continue;
		}
		if (l.in_root ? e->base_relative : !entry_rebase(c, e)) {
			/*
			 * base-relative, and no base directory: never ours;
			 * a unit's entry never is (its paths are the view's)
			 */
			cache_entry_free(e);
			continue;
		}
		size_t before = ex ? (size_t)cJSON_GetArraySize(ex->reasons) : 0;
		bool holds = check_entry(&l, e, rel.buf, ex);
		t2 = mono_s();
		tm->check_s += t2 - t;
		t = t2;
		if (ex && !holds) {
			size_t fail = (size_t)cJSON_GetArraySize(ex->reasons) - before;

			if (!ex->nr_candidates++ || fail < ex->nearest_fail) {
				snprintf(ex->nearest, sizeof(ex->nearest), "%s", e->name);
				ex->nearest_fail = fail;
				ex->nearest_pre = e->nr_pre;
			}
		}
		if (!holds || *hit) {
			cache_entry_free(e);
			continue;
		}
		/* Touch before reading blobs (see the top of this file). */
		if (utimensat(c->keys_fd, rel.buf, NULL, AT_SYMLINK_NOFOLLOW) < 0)
			debug("cannot touch '%s': %s", rel.buf, strerror(errno));
		r = check_blobs(c, e, &why);
		t2 = mono_s();
		tm->blobs_s += t2 - t;
		t = t2;
		if (r < 0) {
			entryfile_drop(c, rel.buf, why.buf);
			if (ex) {
				_cleanup_free_ char *msg = xasprintf(
					"entry %.8s is unusable: %s", e->id_hex,
					why.buf);

				explain_add(ex, e->name, "corrupt", NULL, NULL,
					    NULL, msg);
			}
			cache_entry_free(e);
			continue;
		}
		entryfile_count_hit(c, rel.buf);
		if (l.ver_stale)
			save_verified(&l, e, rel.buf);
		debug("lookup: entry %.8s: all %zu preconditions hold: a hit",
		      e->id_hex, e->nr_pre);
		*hit = e;
		if (!ex)
			break;
	}
	tm->read_s += mono_s() - t;	/* the listing, when nothing was read */
	if (ex && nr == 0)
		explain_nearest(c, k, ex);
	r = *hit ? 1 : 0;
out:
	cands_free(cands, nr);
	lookup_release(&l);
	if (exp)
		*exp = ex;
	else if (ex)
		cache_explain_free(ex);
	if (r < 0 && exp && *exp) {
		cache_explain_free(*exp);
		*exp = NULL;
	}
	return r;
}

int cache_lookup(struct cache *c, const struct cache_key *k, unsigned flags,
		 struct cache_entry **hit, struct cache_explain **ex,
		 struct strbuf *err)
{
	return lookup_run(c, -1, k, flags, hit, ex, err);
}

int cache_lookup_at(struct cache *c, int root_fd, const struct cache_key *k,
		    unsigned flags, struct cache_entry **hit,
		    struct cache_explain **ex, struct strbuf *err)
{
	if (root_fd < 0) {
		*hit = NULL;
		if (ex)
			*ex = NULL;
		strbuf_addf(err, "cannot look up beneath a root: bad fd %d", root_fd);
		return -EBADF;
	}
	return lookup_run(c, root_fd, k, flags, hit, ex, err);
}

/* ---- explain ---------------------------------------------------------- */

cJSON *cache_explain_json(const struct cache_explain *ex)
{
	if (!ex)
		return cJSON_CreateArray();
	return cJSON_Duplicate(ex->reasons, true);
}

void cache_explain_print(const struct cache_explain *ex, FILE *f)
{
	const cJSON *it;

	if (!ex)
		return;
	cJSON_ArrayForEach(it, ex->reasons)
	{
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(it, "message");

		if (cJSON_IsString(m))
			fprintf(f, "procache: explain: %s\n", m->valuestring);
	}
}

cJSON *cache_explain_summary_json(const struct cache_explain *ex)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "candidates", ex ? (double)ex->nr_candidates : 0);
	if (ex && ex->nr_candidates) {
		cJSON_AddStringToObject(o, "nearest", ex->nearest);
		cJSON_AddNumberToObject(o, "failing", (double)ex->nearest_fail);
		cJSON_AddNumberToObject(o, "preconditions", (double)ex->nearest_pre);
	}
	return o;
}

size_t cache_explain_count(const struct cache_explain *ex)
{
	return ex ? (size_t)cJSON_GetArraySize(ex->reasons) : 0;
}

void cache_explain_free(struct cache_explain *ex)
{
	if (!ex)
		return;
	cJSON_Delete(ex->reasons);
	free(ex);
}

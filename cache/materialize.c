/*
 * Materialization of a diff onto the host (cache/materialize.h, DESIGN.md
 * §7). The paths come from a job or a cache entry and are untrusted; the
 * host may hold symlinks put there by anyone. So:
 *
 *  - a path is checked lexically first (absolute, no empty, "." or ".."
 *    component), then matched component-wise against the output roots;
 *  - its parent directory is opened with openat2(RESOLVE_BENEATH|
 *    RESOLVE_NO_SYMLINKS) from an O_PATH fd of its root, so no symlink
 *    below the root is followed, whoever made it (a symlink created by an
 *    earlier change of the same diff makes a later change beneath it fail
 *    with ELOOP, which refuses it);
 *  - the last component is only ever acted on through the parent fd with
 *    calls that do not follow it (fstatat(AT_SYMLINK_NOFOLLOW), renameat,
 *    unlinkat, mkdirat, symlinkat, openat(O_NOFOLLOW), rm_rf_at), and
 *    modes are set on an opened fd.
 *
 * No on-disk format is defined here. A file's new content is written to
 * an unnamed O_TMPFILE in the target directory, linked as
 * ".procache-tmp.<pid>.<n>" once complete and renamed at once; only a
 * crash between that link and the rename can leave one behind.
 *
 * Big diffs are written by worker threads (struct mat_pool, DESIGN.md §7
 * "Copy workers"): the main thread walks the sorted items and queues
 * each regular file with a reference to its parent's fd; it waits for the
 * queue to drain before any other kind of change.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "cache/materialize.h"
#include "common/cleanup.h"
#include "common/die.h"
#include "common/fdio.h"
#include "common/path.h"
#include "common/progress.h"
#include "common/strmap.h"
#include "common/xalloc.h"
#include "common/xattr.h"
#include "common/banned.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
#ifndef FICLONE
#define FICLONE _IOW(0x94, 9, int)
#endif

#define MAT_FLAGS_MASK (MAT_FSYNC | MAT_SERIAL)
/* Permission bits kept on apply: setuid and setgid are dropped. */
#define MAT_MODE_KEEP (07777 & ~(S_ISUID | S_ISGID))

/* A change that is to be applied: beneath root @root, at @rel. */
struct mat_item {
	size_t idx;	/* index in the changes */
	size_t root;	/* index in the roots */
	const char *rel; /* path relative to the root; "" at the root */
	size_t dir_len;	/* length of the parent part of the full path */
};

/*
 * A parent directory's O_PATH fd, shared by the main thread (its cached
 * parent) and the queued file jobs in it; closed by the last reference.
 */
struct mat_dir {
	int fd;
	atomic_int refs;
};

struct mat_pool;

/*
 * A host directory whose entries the apply changes (DESIGN.md §7
 * "Directory times"): one in which it only replaces existing names (a file
 * written to a temporary name and renamed over the old one, a symlink
 * retargeted) gets the mtime and atime it had back at the end, as a
 * job writing in place (O_TRUNC) leaves its directory; one in which it
 * creates or removes a name keeps what the apply gives it, as a job
 * doing so would. Known by its identity, stat'ed when first noted,
 * which is before the apply's first change in it; found again at the
 * end by its path, and set only when it is still the same inode.
 */
struct mat_watch {
	dev_t dev;
	ino_t ino;
	struct timespec atime, mtime; /* before the apply's first change */
	size_t root;
	char *rel;	/* beneath the root ("": the root); NULL: its parent */
	size_t idx;	/* the change that noted it first: named on failure */
	bool names;	/* a name was created or removed in it */
	bool exact;	/* a change of its own gives its times (dir_times) */
};

struct mat_ctx {
	const struct mat_change *ch;
	const char *const *roots;
	size_t nr_roots;
	int *root_fds; /* O_PATH, opened on first use; -1 before */
	/*
	 * mat_apply_at(): the view's root, the only root ("/"), which a
	 * root fd duplicates instead of opening a path; -1 otherwise.
	 */
	int view_fd;
	unsigned flags;
	struct mat_report *rep;
	struct strbuf *err;

	/*
	 * The parent directory of the last change, kept open: the changes
	 * are ordered so that a directory's entries come together.
	 */
	size_t cache_root;
	struct strbuf cache_rel;
	struct mat_dir *cache_dir; /* NULL, or holds cache_fd */
	int cache_fd;
	bool cache_dirty; /* with MAT_FSYNC: entries changed, fsync due */
	ssize_t cache_watch; /* the cached parent's watch, or -1: not looked up */

	/* Shared with the workers. */
	atomic_bool no_clone; /* FICLONE refused once: do not try again */
	pid_t pid;
	atomic_ulong tmp_counter;
	struct mat_pool *pool; /* NULL: everything on the calling thread */
	bool reported; /* the main thread wrote a failure to @err */

	/* Directory modes without u+rwx, applied after everything else. */
	const struct mat_item **deferred;
	size_t deferred_nr, deferred_alloc;

	/*
	 * Times (DESIGN.md §7): of each fresh file, the time it gets (the
	 * apply's start plus its rank); directories with exact times, set
	 * once their entries are made.
	 */
	int64_t *fresh_ns;
	const struct mat_item **dir_times;
	size_t dir_times_nr, dir_times_alloc;

	/*
	 * The directories whose entries change (struct mat_watch), by
	 * (st_dev, st_ino). Only the main thread notes them, before it
	 * makes or queues a change, so the workers never touch these.
	 */
	struct mat_watch *watch;
	size_t watch_nr, watch_alloc;
	struct strmap watch_map;
	/*
	 * No directory's times are given back: one could not be stat'ed
	 * (its changes could not be told apart), or missing parents of a
	 * root were made (mkdir -p, in a directory never noted).
	 */
	bool watch_lost, made_above_roots;
};

/*
 * The times change @idx leaves, into @ts (atime, mtime), or false when
 * it leaves the ones applying it gives.
 */
static bool change_times(const struct mat_ctx *c, size_t idx,
			 struct timespec ts[2])
{
	const struct mat_change *ch = &c->ch[idx];
	int64_t m, a;

	switch (ch->times) {
	case MAT_TIMES_NONE:
		return false;
	case MAT_TIMES_EXACT:
		m = ch->mtime_ns;
		a = ch->atime_ns;
		break;
	case MAT_TIMES_FRESH:
		if (ch->kind != CHANGE_FILE)
			return false;
		m = a = c->fresh_ns[idx];
		break;
	default:
		BUG("unknown times rule %d", (int)ch->times);
	}
	ts[0].tv_sec = a / 1000000000LL;
	ts[0].tv_nsec = a % 1000000000LL;
	ts[1].tv_sec = m / 1000000000LL;
	ts[1].tv_nsec = m % 1000000000LL;
	if (ts[0].tv_nsec < 0) {
		ts[0].tv_sec--;
		ts[0].tv_nsec += 1000000000LL;
	}
	if (ts[1].tv_nsec < 0) {
		ts[1].tv_sec--;
		ts[1].tv_nsec += 1000000000LL;
	}
	return true;
}

/* Set change @idx's times on @name in @dirfd, never following it. */
static int times_at(const struct mat_ctx *c, size_t idx, int dirfd,
		    const char *name)
{
	struct timespec ts[2];

	if (!change_times(c, idx, ts))
		return 0;
	return utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

/*
 * times_at() for a file left in place (@st its lstat): nothing when it
 * has that mtime already (its atime, which any reader moves, is out of
 * the model), for setting them again would move its ctime, which
 * --strict-stat holds (a settled rewrite, DESIGN.md §7, hits on).
 */
static int times_at_kept(const struct mat_ctx *c, size_t idx, int dirfd,
			 const char *name, const struct stat *st)
{
	struct timespec ts[2];

	if (!change_times(c, idx, ts))
		return 0;
	if (ts[1].tv_sec == st->st_mtim.tv_sec && ts[1].tv_nsec == st->st_mtim.tv_nsec)
		return 0;
	return utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

void mat_report_init(struct mat_report *rep)
{
	memset(rep, 0, sizeof(*rep));
}

void mat_report_release(struct mat_report *rep)
{
	size_t i;

	for (i = 0; i < rep->nr; i++)
		free(rep->results[i].reason);
	free(rep->results);
	mat_report_init(rep);
}

enum mat_outcome mat_report_outcome(const struct mat_report *rep, size_t i)
{
	if (i >= rep->nr)
		BUG("mat_report_outcome(%zu) of %zu", i, rep->nr);
	return rep->results[i].outcome;
}

const char *mat_report_reason(const struct mat_report *rep, size_t i)
{
	if (i >= rep->nr)
		BUG("mat_report_reason(%zu) of %zu", i, rep->nr);
	return rep->results[i].reason;
}

const char *mat_outcome_name(enum mat_outcome outcome)
{
	switch (outcome) {
	case MAT_APPLIED:
		return "applied";
	case MAT_UNCHANGED:
		return "unchanged";
	case MAT_KEPT:
		return "kept";
	case MAT_REFUSED:
		return "refused";
	case MAT_FAILED:
		return "failed";
	case MAT_SKIPPED:
		return "skipped";
	}
	return "?";
}

static void set_outcome(struct mat_ctx *c, size_t idx, enum mat_outcome o,
			const char *reason)
{
	struct mat_result *res = &c->rep->results[idx];

	free(res->reason);
	res->outcome = o;
	res->reason = reason ? xstrdup(reason) : NULL;
}

/*
 * Record a failure of change @idx in @err: "cannot apply 'PATH': <error>".
 * @err is c->err, or a worker's own buffer.
 */
static int fail_to(struct mat_ctx *c, struct strbuf *err, size_t idx, int r,
		   const char *what)
{
	const char *path = c->ch[idx].path;

	if (what)
		strbuf_addf(err, "cannot apply '%s': %s: %s", path, what,
			    strerror(-r));
	else
		strbuf_addf(err, "cannot apply '%s': %s", path, strerror(-r));
	set_outcome(c, idx, MAT_FAILED, strerror(-r));
	if (err == c->err)
		c->reported = true;
	return r;
}

static int fail(struct mat_ctx *c, size_t idx, int r, const char *what)
{
	return fail_to(c, c->err, idx, r, what);
}

static void mat_dir_unref(struct mat_dir *d)
{
	if (atomic_fetch_sub(&d->refs, 1) == 1) {
		close(d->fd);
		free(d);
	}
}

/*
 * Compare two paths component-wise: '/' sorts before every other byte,
 * so a directory comes before its entries and their subtrees stay
 * together.
 */
static int cmp_components(const char *a, size_t la, const char *b, size_t lb)
{
	size_t i;

	for (i = 0; i < la && i < lb; i++) {
		unsigned ca = a[i] == '/' ? 0 : (unsigned char)a[i];
		unsigned cb = b[i] == '/' ? 0 : (unsigned char)b[i];

		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	return la < lb ? -1 : la > lb;
}

/*
 * Order: parent directory (component-wise), then name, then the order
 * given. A parent directory's path is a component prefix of its
 * descendants' parents, so parents (and their deletion or replacement)
 * come first, and the entries of one directory are consecutive, which
 * keeps the cached parent fd useful.
 */
static int cmp_items(const void *va, const void *vb, void *vctx)
{
	const struct mat_item *a = va, *b = vb;
	const struct mat_change *ch = vctx;
	const char *pa = ch[a->idx].path, *pb = ch[b->idx].path;
	int r;

	r = cmp_components(pa, a->dir_len, pb, b->dir_len);
	if (!r)
		r = strcmp(pa + a->dir_len, pb + b->dir_len);
	if (!r)
		r = a->idx < b->idx ? -1 : a->idx > b->idx;
	return r;
}

static int fsync_dir(int dirfd)
{
	_cleanup_close_ int fd = -1;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		return -errno;
	return 0;
}

/* Close the cached parent (fsync'ing it first when due). */
static int cache_drop(struct mat_ctx *c)
{
	int r = 0;

	if (c->cache_fd >= 0) {
		if (c->cache_dirty)
			r = fsync_dir(c->cache_fd);
		mat_dir_unref(c->cache_dir);
	}
	c->cache_dir = NULL;
	c->cache_fd = -1;
	c->cache_dirty = false;
	c->cache_watch = -1;
	strbuf_reset(&c->cache_rel);
	return r;
}

/*
 * A directory was removed: cached fds may now point into a deleted tree
 * (also a nested root's). Forget them all; they are reopened on demand.
 */
static int forget_dirs(struct mat_ctx *c)
{
	size_t i;
	int r = cache_drop(c);

	for (i = 0; i < c->nr_roots; i++) {
		if (c->root_fds[i] >= 0)
			close(c->root_fds[i]);
		c->root_fds[i] = -1;
	}
	return r;
}

static int root_fd(struct mat_ctx *c, size_t root)
{
	if (c->root_fds[root] < 0) {
		/* The root is the user's: its own path may hold symlinks. */
		int fd = c->view_fd >= 0
			 ? fcntl(c->view_fd, F_DUPFD_CLOEXEC, 3)
			 : open(c->roots[root], O_PATH | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0)
			return -errno;
		c->root_fds[root] = fd;
	}
	return c->root_fds[root];
}

static int openat2_beneath(int dirfd, const char *path)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS,
	};
	int fd, tries = 0;

	do {
		fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
		/* EAGAIN: a concurrent rename; the kernel asks to retry. */
	} while (fd < 0 && (errno == EINTR || (errno == EAGAIN && ++tries < 16)));
	return fd < 0 ? -errno : fd;
}

/* The length of the part of it->rel that names its parent directory. */
static size_t parent_rel_len(const struct mat_ctx *c, const struct mat_item *it)
{
	size_t rel_off = (size_t)(it->rel - c->ch[it->idx].path);

	/* it->rel starts after "root/"; the parent part may be empty. */
	return it->dir_len > rel_off ? it->dir_len - rel_off : 0;
}

/*
 * The parent directory of item @it, opened beneath its root without
 * following any symlink. Returns the fd (owned by the cache), or -errno:
 * -ELOOP when a component is a symlink, -EXDEV when it would leave the
 * root.
 */
static int parent_fd(struct mat_ctx *c, const struct mat_item *it)
{
	size_t rel_dir_len = parent_rel_len(c, it);
	int rfd, fd;

	if (c->cache_fd >= 0 && c->cache_root == it->root &&
	    c->cache_rel.len == rel_dir_len &&
	    !memcmp(c->cache_rel.buf, it->rel, rel_dir_len))
		return c->cache_fd;

	fd = cache_drop(c);
	if (fd < 0)
		return fd;
	rfd = root_fd(c, it->root);
	if (rfd < 0)
		return rfd;
	if (rel_dir_len) {
		_cleanup_free_ char *rel = xstrndup(it->rel, rel_dir_len);

		fd = openat2_beneath(rfd, rel);
	} else {
		fd = openat2_beneath(rfd, ".");
	}
	if (fd < 0)
		return fd;
	c->cache_dir = xmalloc(sizeof(*c->cache_dir));
	c->cache_dir->fd = fd;
	atomic_init(&c->cache_dir->refs, 1);
	c->cache_fd = fd;
	c->cache_root = it->root;
	strbuf_add(&c->cache_rel, it->rel, rel_dir_len);
	return fd;
}

static void mark_dirty(struct mat_ctx *c)
{
	if (c->flags & MAT_FSYNC)
		c->cache_dirty = true;
}

/*
 * The watch of the directory @st is the stat of; made (*@added) when
 * there is none, with @st's times as the ones to give back.
 */
static size_t watch_find(struct mat_ctx *c, const struct stat *st,
			 bool *added)
{
	unsigned char key[sizeof(st->st_dev) + sizeof(st->st_ino)];
	struct mat_watch *w;
	long i;

	memcpy(key, &st->st_dev, sizeof(st->st_dev));
	memcpy(key + sizeof(st->st_dev), &st->st_ino, sizeof(st->st_ino));
	i = strmap_get(&c->watch_map, key, sizeof(key));
	*added = i < 0;
	if (i >= 0)
		return (size_t)i;
	ALLOC_GROW(c->watch, c->watch_nr + 1, c->watch_alloc);
	w = &c->watch[c->watch_nr];
	memset(w, 0, sizeof(*w));
	w->dev = st->st_dev;
	w->ino = st->st_ino;
	w->atime = st->st_atim;
	w->mtime = st->st_mtim;
	strmap_put(&c->watch_map, key, sizeof(key), (long)c->watch_nr);
	return c->watch_nr++;
}

/*
 * Change @it is about to change an entry of its parent directory @dirfd:
 * create or remove a name (@names), or replace one that is there. On the
 * main thread, before the change is made or queued, so the first note
 * of a directory stats it as it was before the apply touched it.
 */
static void note_parent(struct mat_ctx *c, const struct mat_item *it,
			int dirfd, bool names)
{
	bool cached = *it->rel && dirfd == c->cache_fd;
	ssize_t i = cached ? c->cache_watch : -1;
	struct stat st;

	if (i < 0) {
		bool added;

		if (fstat(dirfd, &st) < 0) {
			/* Unknown, so it might be one noted before: give none back. */
			c->watch_lost = true;
			return;
		}
		i = (ssize_t)watch_find(c, &st, &added);
		if (added) {
			/* where to find it again at the end */
			c->watch[i].root = it->root;
			c->watch[i].rel = *it->rel ? xstrndup(it->rel,
							     parent_rel_len(c, it))
						   : NULL;
			c->watch[i].idx = it->idx;
		}
		if (cached)
			c->cache_watch = i;
	}
	if (names)
		c->watch[i].names = true;
}

/* lstat of @name in @dirfd: 0 (and *st), or -errno (-ENOENT: absent). */
static int lstat_at(int dirfd, const char *name, struct stat *st)
{
	return fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

/*
 * Set the mode of the inode an O_PATH fd refers to. fchmod() refuses
 * O_PATH fds, and a read open could fail on an unreadable file or have
 * side effects on a device; fchmodat2(AT_EMPTY_PATH) (kernel 6.6+) acts
 * on the fd itself, else /proc/self/fd/N names that very inode.
 */
static int chmod_opath(int fd, mode_t mode)
{
	char proc[64];

	if (syscall(SYS_fchmodat2, fd, "", mode,
		    AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	if (errno != ENOSYS && errno != EINVAL)
		return -errno;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (chmod(proc, mode) < 0)
		return -errno;
	return 0;
}

/*
 * Set the permission bits of @name in @dirfd to @mode, on an fd: the
 * entry is opened with O_PATH|O_NOFOLLOW (no open of a device, no
 * following) and its type checked against @type (S_IFDIR or S_IFREG).
 */
static int chmod_at(int dirfd, const char *name, mode_t type, mode_t mode)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if ((st.st_mode & S_IFMT) != type)
		return -ESTALE; /* swapped under us */
	if ((st.st_mode & 07777) == mode)
		return 0;
	return chmod_opath(fd, mode);
}

/* Remove whatever @name is (a tree included), never following symlinks. */
static int remove_entry(struct mat_ctx *c, int dirfd, const char *name,
			const struct stat *st)
{
	if (S_ISDIR(st->st_mode)) {
		/*
		 * rm_rf_at() opens subdirectories with O_NOFOLLOW; @name
		 * is a single component of a parent opened beneath the
		 * root. The parent fd stays valid; other cached fds may
		 * point into the removed tree.
		 */
		int r = rm_rf_at(dirfd, name);

		if (dirfd != c->cache_fd) {
			forget_dirs(c);
		} else {
			size_t i;

			for (i = 0; i < c->nr_roots; i++) {
				if (c->root_fds[i] >= 0)
					close(c->root_fds[i]);
				c->root_fds[i] = -1;
			}
		}
		mark_dirty(c);
		return r == -ENOENT ? 0 : r;
	}
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	mark_dirty(c);
	return 0;
}

static void tmp_name(struct mat_ctx *c, char *buf, size_t size)
{
	snprintf(buf, size, ".procache-tmp.%ld.%lu", (long)c->pid,
		 atomic_fetch_add(&c->tmp_counter, 1));
}

/*
 * Give the unnamed temporary file @fd (O_TMPFILE) a temporary name in
 * @dirfd, written to @tmp. Through /proc/self/fd: linkat(AT_EMPTY_PATH)
 * needs CAP_DAC_READ_SEARCH.
 */
static int link_tmpfile(struct mat_ctx *c, int fd, int dirfd, char *tmp,
			size_t size)
{
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	for (;;) {
		tmp_name(c, tmp, size);
		if (linkat(AT_FDCWD, proc, dirfd, tmp, AT_SYMLINK_FOLLOW) == 0)
			return 0;
		if (errno != EEXIST) {
			tmp[0] = '\0';
			return -errno;
		}
	}
}

/*
 * Make the restorable extended attributes of the inode @fd refers to (any
 * fd, O_PATH included) exactly @want (materialize.h, mat_change.xattrs).
 * *@changed tells whether anything was written. 0 or -errno.
 */
static int xattrs_apply(int fd, const struct xattr_set *want, bool *changed)
{
	struct xattr_set have = XATTR_SET_INIT;
	bool as_root = geteuid() == 0;
	char link[64];
	int r;

	*changed = false;
	r = xattr_read_fd(fd, &have);
	if (r < 0)
		return r;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	for (size_t i = 0; i < have.nr && !r; i++) {
		const char *name = have.v[i].name;

		if (!xattr_name_restorable(name, as_root) || xattr_set_find(want, name))
			continue;
		if (removexattr(link, name) < 0 && errno != ENODATA)
			r = -errno;
		*changed = true;
	}
	for (size_t i = 0; i < want->nr && !r; i++) {
		const struct xattr *w = &want->v[i];
		const struct xattr *h = xattr_set_find(&have, w->name);

		if (!xattr_name_restorable(w->name, as_root))
			continue;
		if (h && h->len == w->len && !memcmp(h->value, w->value, w->len))
			continue;
		if (setxattr(link, w->name, w->value, w->len, 0) < 0)
			r = -errno;
		*changed = true;
	}
	xattr_set_release(&have);
	return r;
}

/* xattrs_apply() to @name in @dirfd (not followed), when the change has some. */
static int xattrs_apply_at(const struct mat_change *ch, int dirfd,
			   const char *name, bool *changed)
{
	_cleanup_close_ int fd = -1;

	*changed = false;
	if (!ch->xattrs)
		return 0;
	fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return xattrs_apply(fd, ch->xattrs, changed);
}

/* Does the host file @fd (of the change's size) hold the change's bytes? */
static bool same_content(const struct mat_change *ch, int fd)
{
	struct pc_hash host, want;
	uint64_t n;

	if (ch->size == 0)
		return true;
	if (pc_hash_fd(fd, &host, &n) < 0 || n != (uint64_t)ch->size)
		return false;
	if (ch->has_hash) {
		want = ch->hash;
	} else {
		_cleanup_close_ int src = -1;

		src = openat(ch->src_dirfd, ch->src_path,
			     O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
		if (src < 0 || pc_hash_fd(src, &want, &n) < 0 ||
		    n != (uint64_t)ch->size)
			return false;
	}
	return pc_hash_equal(&host, &want);
}

/*
 * Is the existing regular file @name (lstat @st) already the change's
 * content? Opened with O_NOFOLLOW and checked to be the same inode.
 */
static bool host_file_matches(const struct mat_change *ch, int dirfd,
			      const char *name, const struct stat *st)
{
	_cleanup_close_ int fd = -1;
	struct stat fst;

	if (!S_ISREG(st->st_mode) || st->st_size != ch->size)
		return false;
	fd = openat(dirfd, name,
		    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &fst) < 0 || fst.st_ino != st->st_ino ||
	    fst.st_dev != st->st_dev || !S_ISREG(fst.st_mode))
		return false;
	return same_content(ch, fd);
}

/* Copy @size bytes from @in to @out: reflink, else copy_file_range. */
static int copy_content(struct mat_ctx *c, int in, int out, off_t size)
{
	ssize_t n;

	if (!size)
		return 0;
	if (!atomic_load_explicit(&c->no_clone, memory_order_relaxed)) {
		if (ioctl(out, FICLONE, in) == 0)
			return 0;
		if (errno != EOPNOTSUPP && errno != EXDEV && errno != EINVAL &&
		    errno != ENOTTY && errno != EPERM)
			return -errno;
		/* Not here (ext4, tmpfs, two file systems): stop asking. */
		atomic_store_explicit(&c->no_clone, true, memory_order_relaxed);
	}
	n = copy_fd_range(in, out, (size_t)size);
	if (n < 0)
		return (int)n;
	if (n != size)
		return -EIO; /* the source shrank */
	return 0;
}

/* What one thread wrote; summed into the report at the end. */
struct mat_tally {
	size_t files_written;
	uint64_t bytes_written;
};

/*
 * Write change @idx's file as @name in @dirfd, whose entry there is @st
 * when @exists. Failures go to @err. Runs on a worker too, so it touches
 * nothing shared but the change's own result, the atomics and @t; a
 * directory in the way (whose removal drops cached fds) is only ever
 * passed on the main thread.
 */
static int write_file(struct mat_ctx *c, struct strbuf *err,
		      struct mat_tally *t, size_t idx, int dirfd,
		      const char *name, const struct stat *st, bool exists)
{
	const struct mat_change *ch = &c->ch[idx];
	mode_t mode = ch->mode & MAT_MODE_KEEP;
	_cleanup_close_ int src = -1, out = -1;
	char tmp[64];
	struct stat sst;
	int r;

	if (exists && host_file_matches(ch, dirfd, name, st)) {
		/* Same bytes: at most the mode, and the times by the rule. */
		bool same_mode = (st->st_mode & 07777) == mode, xchanged;

		r = same_mode ? 0 : chmod_at(dirfd, name, S_IFREG, mode);
		if (!r)
			r = xattrs_apply_at(ch, dirfd, name, &xchanged);
		if (!r)
			r = times_at_kept(c, idx, dirfd, name, st);
		if (r < 0)
			return fail_to(c, err, idx, r, NULL);
		if (same_mode && !xchanged)
			set_outcome(c, idx, MAT_UNCHANGED, "identical on the host");
		else
			set_outcome(c, idx, MAT_APPLIED, NULL);
		return 0;
	}

	/*
	 * An empty file needs no source: a hit does not check the empty
	 * blob (blob_is_empty()), so it may be absent from the store.
	 */
	if (ch->size != 0 || !ch->has_hash) {
		src = openat(ch->src_dirfd, ch->src_path,
			     O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
		if (src < 0)
			return fail_to(c, err, idx, -errno, "cannot open its source");
		if (fstat(src, &sst) < 0)
			return fail_to(c, err, idx, -errno, "cannot open its source");
		if (!S_ISREG(sst.st_mode) || sst.st_size != ch->size)
			return fail_to(c, err, idx, -EIO,
				       "source is not a regular file of the recorded size");
	}

	/*
	 * The content is written to an unnamed file (O_TMPFILE), named only
	 * once complete, just before the rename: a crash (kill -9) while it
	 * is copied leaves nothing in the user's directory. Where O_TMPFILE
	 * is unsupported, a named temporary file from the start.
	 */
	tmp[0] = '\0';
	out = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (out < 0 && (errno == EOPNOTSUPP || errno == EISDIR ||
			errno == EINVAL)) {
		for (;;) {
			tmp_name(c, tmp, sizeof(tmp));
			out = openat(dirfd, tmp,
				     O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
					     O_NOFOLLOW,
				     0600);
			if (out >= 0 || errno != EEXIST)
				break;
		}
		if (out < 0)
			tmp[0] = '\0';
	}
	if (out < 0)
		return fail_to(c, err, idx, -errno, NULL);
	r = copy_content(c, src, out, ch->size);
	/* fchmod on our own fd: exact mode, whatever the umask. */
	if (!r && fchmod(out, mode) < 0)
		r = -errno;
	if (!r && ch->xattrs) {
		bool xchanged;

		r = xattrs_apply(out, ch->xattrs, &xchanged);
	}
	if (!r) {
		struct timespec ts[2];

		if (change_times(c, idx, ts) && futimens(out, ts) < 0)
			r = -errno;
	}
	if (!r && (c->flags & MAT_FSYNC) && fsync(out) < 0)
		r = -errno;
	if (!r && !tmp[0])
		r = link_tmpfile(c, out, dirfd, tmp, sizeof(tmp));
	if (!r) {
		int fd = steal_fd(&out);

		/* close() can report a delayed write error (NFS). */
		if (close(fd) < 0 && errno != EINTR)
			r = -errno;
	}
	/* A directory (or tree) in the way: a type change. */
	if (!r && exists && S_ISDIR(st->st_mode))
		r = remove_entry(c, dirfd, name, st);
	if (!r && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0) {
		if (tmp[0])
			unlinkat(dirfd, tmp, 0);
		return fail_to(c, err, idx, r, NULL);
	}
	mark_dirty(c);
	t->files_written++;
	t->bytes_written += (uint64_t)ch->size;
	set_outcome(c, idx, MAT_APPLIED, NULL);
	return 0;
}

/* ---- copy workers (DESIGN.md §7 "Copy workers") ----------------------- */

#define MAT_QUEUE 64
#define MAT_MAX_THREADS 8
#define MAT_PAR_MIN_FILES 64
#define MAT_PAR_MIN_BYTES ((uint64_t)4 << 20)

/* A regular file to write: what write_file() takes. */
struct mat_job {
	size_t idx;
	const char *name;
	struct mat_dir *dir; /* a reference, dropped once written */
	struct stat st;
	bool exists;
};

struct mat_worker {
	struct mat_pool *pool;
	pthread_t thread;
	struct mat_tally tally;
	struct strbuf err; /* the failure of the job at hand */
};

enum mat_wait { MAT_WAIT_NONE, MAT_WAIT_ROOM, MAT_WAIT_DRAIN };

/*
 * Invariants, under @lock: @count jobs wait in the ring from @head;
 * @busy are being written; @idle workers sleep on @more; the main
 * thread sleeps on @done for what @wait says. @failed is the first
 * failure (then @fail_msg says it): nothing more is queued or started.
 */
struct mat_pool {
	struct mat_ctx *c;
	pthread_mutex_t lock;
	pthread_cond_t more;
	pthread_cond_t done;
	struct mat_job q[MAT_QUEUE];
	size_t head, count, busy, idle;
	enum mat_wait wait;
	bool stop;
	int failed;
	struct strbuf fail_msg;
	struct mat_worker w[MAT_MAX_THREADS];
	size_t nr;
};

/* Is what the main thread waits for there? Under the lock. */
static bool pool_wait_over(const struct mat_pool *p)
{
	if (p->failed)
		return true;
	switch (p->wait) {
	case MAT_WAIT_ROOM:
		return p->count <= MAT_QUEUE / 2;
	case MAT_WAIT_DRAIN:
		return !p->count && !p->busy;
	case MAT_WAIT_NONE:
		break;
	}
	return false;
}

static void *pool_worker(void *arg)
{
	struct mat_worker *w = arg;
	struct mat_pool *p = w->pool;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct mat_job job;
		int r = 0;

		while (!p->count && !p->stop) {
			p->idle++;
			pthread_cond_wait(&p->more, &p->lock);
			p->idle--;
		}
		if (!p->count)
			break;
		job = p->q[p->head];
		p->head = (p->head + 1) % MAT_QUEUE;
		p->count--;
		p->busy++;
		if (!p->failed) {
			pthread_mutex_unlock(&p->lock);
			r = write_file(p->c, &w->err, &w->tally, job.idx,
				       job.dir->fd, job.name, &job.st,
				       job.exists);
			mat_dir_unref(job.dir);
			pthread_mutex_lock(&p->lock);
		} else {
			/* Not started: its change stays MAT_SKIPPED. */
			mat_dir_unref(job.dir);
		}
		p->busy--;
		if (r < 0 && !p->failed) {
			p->failed = r;
			strbuf_addbuf(&p->fail_msg, &w->err);
		}
		strbuf_reset(&w->err);
		if (p->wait != MAT_WAIT_NONE && pool_wait_over(p))
			pthread_cond_signal(&p->done);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static size_t online_cpus(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		return (size_t)CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (size_t)n : 1;
}

/*
 * Start the workers when the @files regular files of @bytes are worth
 * it, on a machine with more than one CPU. NULL: the calling thread
 * writes everything (also when no thread could be made).
 */
static struct mat_pool *pool_start(struct mat_ctx *c, size_t files,
				   uint64_t bytes)
{
	size_t cpus, i;
	struct mat_pool *p;
	pthread_attr_t attr;
	sigset_t all, old;

	/* The cheap tests first: a small hit makes no system call here. */
	if ((c->flags & (MAT_FSYNC | MAT_SERIAL)) ||
	    (files < MAT_PAR_MIN_FILES && bytes < MAT_PAR_MIN_BYTES) ||
	    files < 2)
		return NULL;
	cpus = online_cpus();
	if (cpus < 2)
		return NULL;
	p = xcalloc(1, sizeof(*p));
	p->c = c;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->more, NULL);
	pthread_cond_init(&p->done, NULL);
	strbuf_init(&p->fail_msg, 0);
	/* Signals stay with the calling thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (i = 0; i < cpus && i < MAT_MAX_THREADS; i++) {
		struct mat_worker *w = &p->w[p->nr];

		w->pool = p;
		strbuf_init(&w->err, 0);
		if (pthread_create(&w->thread, &attr, pool_worker, w)) {
			strbuf_release(&w->err);
			break;
		}
		p->nr++;
	}
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!p->nr) {
		strbuf_release(&p->fail_msg);
		pthread_cond_destroy(&p->done);
		pthread_cond_destroy(&p->more);
		pthread_mutex_destroy(&p->lock);
		free(p);
		return NULL;
	}
	return p;
}

/* Wait (under the lock) until pool_wait_over() for @what. */
static void pool_wait(struct mat_pool *p, enum mat_wait what)
{
	p->wait = what;
	while (!pool_wait_over(p))
		pthread_cond_wait(&p->done, &p->lock);
	p->wait = MAT_WAIT_NONE;
}

/*
 * Queue change @idx for the workers, in the cached parent directory.
 * Returns 0, or the workers' first failure (then nothing is queued).
 */
static int pool_push(struct mat_ctx *c, size_t idx, const char *name,
		     const struct stat *st, bool exists)
{
	struct mat_pool *p = c->pool;
	struct mat_job *j;
	int r;

	pthread_mutex_lock(&p->lock);
	if (p->count == MAT_QUEUE)
		pool_wait(p, MAT_WAIT_ROOM);
	r = p->failed;
	if (!r) {
		j = &p->q[(p->head + p->count) % MAT_QUEUE];
		j->idx = idx;
		j->name = name;
		j->dir = c->cache_dir;
		atomic_fetch_add(&j->dir->refs, 1);
		j->st = *st;
		j->exists = exists;
		p->count++;
		if (p->idle)
			pthread_cond_signal(&p->more);
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}

/* Wait until every queued file is written: 0, or the first failure. */
static int pool_drain(struct mat_pool *p)
{
	int r;

	pthread_mutex_lock(&p->lock);
	pool_wait(p, MAT_WAIT_DRAIN);
	r = p->failed;
	pthread_mutex_unlock(&p->lock);
	return r;
}

/*
 * Stop and join the workers (queued jobs are still taken, and dropped
 * after a failure), add up what they wrote and, unless the main thread
 * reported a failure of its own, append the workers' first one to
 * c->err. Returns that failure, or 0.
 */
static int pool_finish(struct mat_ctx *c)
{
	struct mat_pool *p = c->pool;
	size_t i;
	int r;

	if (!p)
		return 0;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->more);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->nr; i++) {
		pthread_join(p->w[i].thread, NULL);
		c->rep->files_written += p->w[i].tally.files_written;
		c->rep->bytes_written += p->w[i].tally.bytes_written;
		strbuf_release(&p->w[i].err);
	}
	c->rep->threads = p->nr;
	r = p->failed;
	if (r && !c->reported)
		strbuf_addbuf(c->err, &p->fail_msg);
	strbuf_release(&p->fail_msg);
	pthread_cond_destroy(&p->done);
	pthread_cond_destroy(&p->more);
	pthread_mutex_destroy(&p->lock);
	free(p);
	c->pool = NULL;
	return r;
}

/* ---- applying one change ---------------------------------------------- */

static int apply_file(struct mat_ctx *c, const struct mat_item *it, int dirfd,
		      const char *name, bool at_root)
{
	size_t idx = it->idx;
	struct mat_tally t = { 0 };
	struct stat st;
	int r;
	bool exists;

	r = lstat_at(dirfd, name, &st);
	if (r < 0 && r != -ENOENT)
		return fail(c, idx, r, NULL);
	exists = r == 0;
	if (exists && at_root && S_ISDIR(st.st_mode)) {
		set_outcome(c, idx, MAT_REFUSED,
			    "would replace the output root directory");
		return 0;
	}
	/*
	 * A file over a file or symlink is renamed over it: the names stay.
	 * Over a directory, as a job must, it removes one and makes one.
	 */
	note_parent(c, it, dirfd, !exists || S_ISDIR(st.st_mode));
	if (c->pool && !at_root) {
		if (dirfd != c->cache_fd)
			BUG("a file to queue outside the cached parent");
		if (!exists || !S_ISDIR(st.st_mode))
			return pool_push(c, idx, name, &st, exists);
		/* Removing a tree drops cached fds: workers idle first. */
		r = pool_drain(c->pool);
		if (r < 0)
			return r;
	}
	r = write_file(c, c->err, &t, idx, dirfd, name, &st, exists);
	c->rep->files_written += t.files_written;
	c->rep->bytes_written += t.bytes_written;
	return r;
}

/* A directory's exact times: set at the end, once its entries are made. */
static void defer_times(struct mat_ctx *c, const struct mat_item *it)
{
	ALLOC_GROW(c->dir_times, c->dir_times_nr + 1, c->dir_times_alloc);
	c->dir_times[c->dir_times_nr++] = it;
}

static void defer_mode(struct mat_ctx *c, const struct mat_item *it)
{
	ALLOC_GROW(c->deferred, c->deferred_nr + 1, c->deferred_alloc);
	c->deferred[c->deferred_nr++] = it;
}

/*
 * Set a directory's mode now, or at the end when it lacks u+rwx (its
 * entries must still be created, also when we are not root).
 */
static int dir_mode(struct mat_ctx *c, const struct mat_item *it, int dirfd,
		    const char *name)
{
	mode_t mode = c->ch[it->idx].mode & MAT_MODE_KEEP;

	if ((mode & S_IRWXU) != S_IRWXU) {
		int r = chmod_at(dirfd, name, S_IFDIR, mode | S_IRWXU);

		if (r < 0)
			return r;
		defer_mode(c, it);
		return 0;
	}
	return chmod_at(dirfd, name, S_IFDIR, mode);
}

/*
 * Empty the directory @name in @dirfd, whose lstat is @st, keeping it
 * (its inode, owner and place): its entries and their trees are
 * removed, no symlink followed. Owner rwx is added when it lacks them,
 * so its entries can be removed without root; @st's mode then says so
 * (dir_mode() sets the change's). The main thread only, with no worker
 * busy: a tree removed beneath it drops no cached fd (the cached one is
 * @dirfd, and no root can be beneath another root's entry).
 */
static int empty_dir_at(struct mat_ctx *c, int dirfd, const char *name,
			struct stat *st)
{
	_cleanup_close_ int pfd = -1, fd = -1;
	struct stat fst;
	bool added;
	size_t w;
	int r;

	pfd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0)
		return -errno;
	if (fstat(pfd, &fst) < 0)
		return -errno;
	if (fst.st_dev != st->st_dev || fst.st_ino != st->st_ino)
		return -ESTALE; /* swapped under us */
	/* Names go from it (and others come): its own times are not given back. */
	w = watch_find(c, &fst, &added); /* may move c->watch */
	c->watch[w].names = true;
	if ((fst.st_mode & S_IRWXU) != S_IRWXU) {
		r = chmod_opath(pfd, (fst.st_mode & 07777) | S_IRWXU);
		if (r < 0)
			return r;
		st->st_mode = fst.st_mode | S_IRWXU;
	}
	/* Through the fd checked above: a name could be swapped since. */
	fd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = rm_rf_children_fd(fd);
	if (!r && (c->flags & MAT_FSYNC) && fsync(fd) < 0)
		r = -errno;
	return r;
}

static int apply_dir(struct mat_ctx *c, const struct mat_item *it, int dirfd,
		     const char *name, bool at_root)
{
	const struct mat_change *ch = &c->ch[it->idx];
	mode_t mode = ch->mode & MAT_MODE_KEEP;
	bool replace = ch->kind == CHANGE_DIR_REPLACED;
	struct stat st;
	int r;
	bool exists;

	r = lstat_at(dirfd, name, &st);
	if (r < 0 && r != -ENOENT)
		return fail(c, it->idx, r, NULL);
	exists = r == 0;
	if (exists && at_root && !S_ISDIR(st.st_mode)) {
		set_outcome(c, it->idx, MAT_REFUSED,
			    "would replace the output root");
		return 0;
	}
	if (ch->times == MAT_TIMES_EXACT) {
		defer_times(c, it);
		/* Those times win over the ones it had before the apply. */
		if (exists && S_ISDIR(st.st_mode)) {
			bool added;
			size_t w = watch_find(c, &st, &added);

			c->watch[w].exact = true;
		}
	}
	if (exists && S_ISDIR(st.st_mode) && replace) {
		/*
		 * A replaced directory the host has (a declared output,
		 * DESIGN.md §2) is emptied where it is rather than removed
		 * and made again: its parent's names, and so its mtime,
		 * stay as they were, which a job that lstat's the parent
		 * (esbuild, tar, find) saw; what the job made in it comes
		 * next, parents first.
		 */
		r = empty_dir_at(c, dirfd, name, &st);
		if (r < 0)
			return fail(c, it->idx, r, "cannot empty what is there");
	}
	if (exists && S_ISDIR(st.st_mode)) {
		bool same_mode = (st.st_mode & 07777) == mode, xchanged;

		r = same_mode ? 0 : dir_mode(c, it, dirfd, name);
		if (!r)
			r = xattrs_apply_at(ch, dirfd, name, &xchanged);
		if (r < 0)
			return fail(c, it->idx, r, NULL);
		if (same_mode && !xchanged && !replace)
			set_outcome(c, it->idx, MAT_UNCHANGED,
				    "identical on the host");
		else
			set_outcome(c, it->idx, MAT_APPLIED, NULL);
		return 0;
	}
	/* A name made (another type there removed first, as a job must). */
	note_parent(c, it, dirfd, true);
	if (exists) {
		r = remove_entry(c, dirfd, name, &st);
		if (r < 0)
			return fail(c, it->idx, r, "cannot remove what is there");
	}
	/* 0700 first: nobody else can enter it before its mode is set. */
	if (mkdirat(dirfd, name, 0700) < 0) {
		r = -errno;
		/*
		 * Another process made it since our lstat (two runs of one
		 * job restoring the same outputs at once): as mkdir -p, a
		 * directory there is what this change wants; set its mode.
		 */
		if (r != -EEXIST || lstat_at(dirfd, name, &st) < 0 ||
		    !S_ISDIR(st.st_mode))
			return fail(c, it->idx, r, NULL);
	}
	mark_dirty(c);
	r = dir_mode(c, it, dirfd, name);
	if (!r) {
		bool xchanged;

		r = xattrs_apply_at(ch, dirfd, name, &xchanged);
	}
	if (r < 0)
		return fail(c, it->idx, r, NULL);
	set_outcome(c, it->idx, MAT_APPLIED, NULL);
	return 0;
}

static int apply_symlink(struct mat_ctx *c, const struct mat_item *it,
			 int dirfd, const char *name)
{
	size_t idx = it->idx;
	const struct mat_change *ch = &c->ch[idx];
	char tmp[64];
	struct stat st;
	int r;
	bool exists;

	if (!ch->target || !*ch->target) {
		set_outcome(c, idx, MAT_REFUSED, "empty symlink target");
		return 0;
	}
	r = lstat_at(dirfd, name, &st);
	if (r < 0 && r != -ENOENT)
		return fail(c, idx, r, NULL);
	exists = r == 0;
	if (exists && S_ISLNK(st.st_mode) &&
	    (size_t)st.st_size == strlen(ch->target)) {
		size_t len = strlen(ch->target);
		_cleanup_free_ char *buf = xmalloc(len + 1);
		ssize_t n = readlinkat(dirfd, name, buf, len + 1);

		if (n == (ssize_t)len && !memcmp(buf, ch->target, len)) {
			r = times_at(c, idx, dirfd, name);
			if (r < 0)
				return fail(c, idx, r, NULL);
			set_outcome(c, idx, MAT_UNCHANGED,
				    "identical on the host");
			return 0;
		}
	}
	/* Renamed over what is there, as a file: only a directory goes. */
	note_parent(c, it, dirfd, !exists || S_ISDIR(st.st_mode));
	for (;;) {
		tmp_name(c, tmp, sizeof(tmp));
		r = symlinkat(ch->target, dirfd, tmp);
		if (r == 0 || errno != EEXIST)
			break;
	}
	if (r < 0)
		return fail(c, idx, -errno, NULL);
	r = 0;
	if (exists && S_ISDIR(st.st_mode))
		r = remove_entry(c, dirfd, name, &st);
	if (!r && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dirfd, tmp, 0);
		return fail(c, idx, r, NULL);
	}
	mark_dirty(c);
	r = times_at(c, idx, dirfd, name);
	if (r < 0)
		return fail(c, idx, r, NULL);
	set_outcome(c, idx, MAT_APPLIED, NULL);
	return 0;
}

static int apply_delete(struct mat_ctx *c, const struct mat_item *it,
			int dirfd, const char *name)
{
	size_t idx = it->idx;
	struct stat st;
	int r;

	r = lstat_at(dirfd, name, &st);
	if (r == -ENOENT) {
		set_outcome(c, idx, MAT_UNCHANGED, "already absent");
		return 0;
	}
	if (r < 0)
		return fail(c, idx, r, NULL);
	note_parent(c, it, dirfd, true);
	r = remove_entry(c, dirfd, name, &st);
	if (r < 0)
		return fail(c, idx, r, NULL);
	set_outcome(c, idx, MAT_APPLIED, NULL);
	return 0;
}

static int apply_mode(struct mat_ctx *c, const struct mat_item *it,
		      int dirfd, const char *name)
{
	mode_t mode = c->ch[it->idx].mode & MAT_MODE_KEEP;
	struct stat st;
	int r;

	r = lstat_at(dirfd, name, &st);
	if (r < 0)
		return fail(c, it->idx, r, NULL);
	if (S_ISLNK(st.st_mode)) {
		set_outcome(c, it->idx, MAT_REFUSED,
			    "is a symlink on the host");
		return 0;
	}
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		set_outcome(c, it->idx, MAT_REFUSED,
			    "is not a regular file or directory on the host");
		return 0;
	}
	bool same_mode = (st.st_mode & 07777) == mode, xchanged;

	if (same_mode)
		r = 0;
	else if (S_ISDIR(st.st_mode))
		r = dir_mode(c, it, dirfd, name);
	else
		r = chmod_at(dirfd, name, S_IFREG, mode);
	if (!r)
		r = xattrs_apply_at(&c->ch[it->idx], dirfd, name, &xchanged);
	if (r < 0)
		return fail(c, it->idx, r, NULL);
	if (same_mode && !xchanged)
		set_outcome(c, it->idx, MAT_UNCHANGED, "identical on the host");
	else
		set_outcome(c, it->idx, MAT_APPLIED, NULL);
	return 0;
}

static int apply_in(struct mat_ctx *c, const struct mat_item *it, int dirfd,
		    const char *name, bool at_root)
{
	switch (c->ch[it->idx].kind) {
	case CHANGE_FILE:
		return apply_file(c, it, dirfd, name, at_root);
	case CHANGE_DIR:
	case CHANGE_DIR_REPLACED:
		return apply_dir(c, it, dirfd, name, at_root);
	case CHANGE_SYMLINK:
		return apply_symlink(c, it, dirfd, name);
	case CHANGE_DELETE:
		return apply_delete(c, it, dirfd, name);
	case CHANGE_MODE:
		return apply_mode(c, it, dirfd, name);
	case CHANGE_SPECIAL:
		break; /* refused by mat_apply() before anything is applied */
	}
	BUG("unknown change kind %d", (int)c->ch[it->idx].kind);
}

/*
 * A change at a root itself. The root is the user's (trusted), so its
 * parent is opened as any path; what would remove or redirect the root
 * is refused.
 */
static int apply_at_root(struct mat_ctx *c, const struct mat_item *it)
{
	const char *root = c->roots[it->root];
	_cleanup_free_ char *dir = NULL, *base = NULL;
	_cleanup_close_ int dirfd = -1;
	int r;

	switch (c->ch[it->idx].kind) {
	case CHANGE_DELETE:
	case CHANGE_DIR_REPLACED:
		set_outcome(c, it->idx, MAT_REFUSED,
			    "would remove the output root");
		return 0;
	case CHANGE_SYMLINK:
		set_outcome(c, it->idx, MAT_REFUSED,
			    "would make the output root a symlink");
		return 0;
	case CHANGE_FILE:
	case CHANGE_DIR:
	case CHANGE_MODE:
		break;
	case CHANGE_SPECIAL:
		BUG("a special file reached the apply loop");
	}
	if (!strcmp(root, "/")) {
		set_outcome(c, it->idx, MAT_REFUSED,
			    "changes the root directory '/'");
		return 0;
	}
	dir = path_dirname(root);
	base = path_basename(root);
	dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 && errno == ENOENT && c->ch[it->idx].kind != CHANGE_MODE) {
		/*
		 * The user named this output; its missing ancestors are
		 * outside every root (their changes are kept), so make them
		 * as mkdir -p would.
		 */
		c->made_above_roots = true; /* in a directory never noted */
		r = mkdir_p_at(AT_FDCWD, dir, 0777);
		if (r < 0)
			return fail(c, it->idx, r, "cannot make its parent");
		dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	if (dirfd < 0)
		return fail(c, it->idx, -errno, "cannot open its parent");
	/* The root may be made or replaced: reopen it when next needed. */
	r = forget_dirs(c);
	if (r < 0)
		return fail(c, it->idx, r, NULL);
	r = apply_in(c, it, dirfd, base, true);
	if (!r && (c->flags & MAT_FSYNC))
		r = fsync_dir(dirfd);
	if (r < 0 && c->rep->results[it->idx].outcome != MAT_FAILED)
		return fail(c, it->idx, r, NULL);
	forget_dirs(c);
	return r;
}

static int apply_item(struct mat_ctx *c, const struct mat_item *it)
{
	const char *path = c->ch[it->idx].path;
	int dirfd;

	if (!*it->rel)
		return apply_at_root(c, it);
	dirfd = parent_fd(c, it);
	switch (dirfd) {
	case -ELOOP:
		set_outcome(c, it->idx, MAT_REFUSED,
			    c->view_fd >= 0 ? "a parent directory is a symlink in the view"
					    : "a parent directory is a symlink on the host");
		return 0;
	case -EXDEV:
		set_outcome(c, it->idx, MAT_REFUSED,
			    "a parent directory leaves the output root");
		return 0;
	case -ENOENT:
	case -ENOTDIR:
		/* a deletion is done where nothing can be (--declare-output) */
		if (c->ch[it->idx].kind == CHANGE_DELETE) {
			set_outcome(c, it->idx, MAT_UNCHANGED, "already absent");
			return 0;
		}
		return fail(c, it->idx, dirfd, "cannot open its parent directory");
	default:
		if (dirfd < 0)
			return fail(c, it->idx, dirfd,
				    "cannot open its parent directory");
	}
	return apply_in(c, it, dirfd, path + it->dir_len + 1, false);
}

/* The deferred directory modes, deepest first. Returns the first error. */
static int apply_deferred(struct mat_ctx *c, bool report)
{
	int ret = 0;

	while (c->deferred_nr) {
		const struct mat_item *it = c->deferred[--c->deferred_nr];
		mode_t mode = c->ch[it->idx].mode & MAT_MODE_KEEP;
		const char *name;
		int dirfd, r;

		if (!*it->rel) {
			r = root_fd(c, it->root);
			if (r >= 0)
				r = chmod_opath(r, mode);
		} else {
			dirfd = parent_fd(c, it);
			name = c->ch[it->idx].path + it->dir_len + 1;
			r = dirfd < 0 ? dirfd
				      : chmod_at(dirfd, name, S_IFDIR, mode);
		}
		if (r < 0 && !ret) {
			ret = r;
			if (report)
				fail(c, it->idx, r, "cannot set its mode");
		}
	}
	return ret;
}

/*
 * The deferred directory times, deepest first (the items come parents
 * first). A directory that is not one any more (a later change of the
 * same diff replaced it) is left alone. Returns the first error.
 */
static int apply_dir_times(struct mat_ctx *c, bool report)
{
	int ret = 0;

	while (c->dir_times_nr) {
		const struct mat_item *it = c->dir_times[--c->dir_times_nr];
		struct timespec ts[2];
		struct stat st;
		int dirfd, r;

		if (c->rep->results[it->idx].outcome != MAT_APPLIED &&
		    c->rep->results[it->idx].outcome != MAT_UNCHANGED)
			continue;
		if (!change_times(c, it->idx, ts))
			continue;
		if (!*it->rel) {
			char proc[64];

			r = root_fd(c, it->root);
			if (r >= 0) {
				snprintf(proc, sizeof(proc), "/proc/self/fd/%d", r);
				r = utimensat(AT_FDCWD, proc, ts, 0) < 0 ? -errno : 0;
			}
		} else {
			const char *name = c->ch[it->idx].path + it->dir_len + 1;

			dirfd = parent_fd(c, it);
			r = dirfd < 0 ? dirfd : lstat_at(dirfd, name, &st);
			if (!r && !S_ISDIR(st.st_mode))
				continue;
			if (!r && utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
				r = -errno;
		}
		if (r < 0 && !ret) {
			ret = r;
			if (report)
				fail(c, it->idx, r, "cannot set its times");
		}
	}
	return ret;
}

static bool same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/*
 * Give back their times to the directories in which the apply only
 * replaced names (struct mat_watch), after the directory-times pass: a
 * directory whose own change gives exact times keeps those. Where one
 * cannot be set (not its owner: a directory another user lets us write
 * in, a unit's apply under the job's fsuid; or not reachable any more)
 * it keeps what the apply left, as a job that renamed over its files
 * would. Returns the first other error.
 */
static int restore_dir_times(struct mat_ctx *c, bool report)
{
	int ret = 0;

	if (c->watch_lost)
		return 0;
	for (size_t i = 0; i < c->watch_nr; i++) {
		const struct mat_watch *w = &c->watch[i];
		_cleanup_close_ int fd = -1;
		struct timespec ts[2] = { w->atime, w->mtime };
		char proc[64];
		struct stat st;
		int r = 0;

		if (w->names || w->exact)
			continue;
		if (!w->rel) {
			_cleanup_free_ char *dir = NULL;

			if (c->made_above_roots)
				continue;
			dir = path_dirname(c->roots[w->root]);
			fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0)
				r = -errno;
		} else {
			int rfd = root_fd(c, w->root);

			r = rfd < 0 ? rfd : openat2_beneath(rfd, *w->rel ? w->rel : ".");
			if (r >= 0) {
				fd = r;
				r = 0;
			}
		}
		if (!r && fstat(fd, &st) < 0)
			r = -errno;
		if (!r && (st.st_dev != w->dev || st.st_ino != w->ino))
			continue; /* another directory there now */
		if (!r && same_time(&st.st_mtim, &w->mtime) &&
		    same_time(&st.st_atim, &w->atime))
			continue; /* nothing moved them (a file left as it was) */
		if (!r) {
			/* An O_PATH fd: futimens() refuses it. */
			snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
			if (utimensat(AT_FDCWD, proc, ts, 0) < 0)
				r = -errno;
		}
		if (!r && (c->flags & MAT_FSYNC))
			r = fsync_dir(fd);
		switch (r) {
		case 0:
		case -EPERM:
		case -EACCES:
		case -ENOENT:
		case -ENOTDIR:
		case -ELOOP:
		case -EXDEV:
			continue;
		default:
			break;
		}
		if (!ret) {
			ret = r;
			if (report)
				fail(c, w->idx, r, "cannot set its directory's times");
		}
	}
	return ret;
}

/*
 * The time each fresh file gets: the start of the apply plus its rank
 * among the fresh files by recorded mtime, in ns: the recorded order is
 * kept. The fine clock: a file the kernel stamped before the apply (a
 * source just edited; multigrain timestamps are finer than the coarse
 * clock) must not be newer than what was made from it.
 */
static int cmp_fresh(const void *va, const void *vb, void *vch)
{
	const struct mat_change *ch = vch;
	size_t a = *(const size_t *)va, b = *(const size_t *)vb;

	if (ch[a].mtime_ns != ch[b].mtime_ns)
		return ch[a].mtime_ns < ch[b].mtime_ns ? -1 : 1;
	return a < b ? -1 : a > b;
}

static void fresh_times(struct mat_ctx *c, size_t nr)
{
	size_t *order = xcalloc(nr ? nr : 1, sizeof(*order));
	struct timespec now;
	size_t n = 0, i;
	int64_t start;

	clock_gettime(CLOCK_REALTIME, &now);
	start = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
	c->fresh_ns = xcalloc(nr ? nr : 1, sizeof(*c->fresh_ns));
	for (i = 0; i < nr; i++)
		if (c->ch[i].kind == CHANGE_FILE && c->ch[i].times == MAT_TIMES_FRESH)
			order[n++] = i;
	qsort_r(order, n, sizeof(*order), cmp_fresh, (void *)c->ch);
	/* equal recorded times stay equal (`touch -r a b` of two results) */
	for (i = 0; i < n; i++)
		c->fresh_ns[order[i]] =
			i && c->ch[order[i]].mtime_ns == c->ch[order[i - 1]].mtime_ns
				? c->fresh_ns[order[i - 1]] : start + (int64_t)i;
	free(order);
}

/* Check the arguments before anything is touched. */
static int check_args(const struct mat_change *ch, size_t nr,
		      const char *const *roots, unsigned flags,
		      struct strbuf *err)
{
	size_t i;

	if (flags & ~MAT_FLAGS_MASK) {
		strbuf_addf(err, "cannot apply changes: unknown flags 0x%x",
			    flags & ~MAT_FLAGS_MASK);
		return -EINVAL;
	}
	if (!roots) {
		strbuf_addstr(err, "cannot apply changes: no output roots");
		return -EINVAL;
	}
	for (i = 0; roots[i]; i++) {
		_cleanup_free_ char *clean = path_clean(roots[i]);

		if (roots[i][0] != '/' || strcmp(clean, roots[i])) {
			strbuf_addf(err,
				    "cannot apply changes: output root '%s' "
				    "is not an absolute clean path",
				    roots[i]);
			return -EINVAL;
		}
		/*
		 * A root is opened by its path (it is the user's): a root
		 * inside another could be reached through a symlink an
		 * earlier change made under the outer one, and lead outside.
		 */
		for (size_t k = 0; k < i; k++) {
			if (path_is_beneath(roots[i], roots[k]) ||
			    path_is_beneath(roots[k], roots[i])) {
				strbuf_addf(err,
					    "cannot apply changes: output roots "
					    "'%s' and '%s' overlap",
					    roots[k], roots[i]);
				return -EINVAL;
			}
		}
	}
	for (i = 0; i < nr; i++) {
		const char *bad = NULL;

		switch (ch[i].kind) {
		case CHANGE_FILE:
			if (!ch[i].src_path)
				bad = "file without a source";
			else if (ch[i].size < 0)
				bad = "negative size";
			/* fall through */
		case CHANGE_DIR:
		case CHANGE_DIR_REPLACED:
		case CHANGE_MODE:
			if (ch[i].mode & ~07777)
				bad = "mode has bits beyond 07777";
			break;
		case CHANGE_SYMLINK:
		case CHANGE_DELETE:
			break;
		case CHANGE_SPECIAL:
			bad = "a special file cannot be applied";
			break;
		default:
			bad = "unknown change kind";
			break;
		}
		if (ch[i].times != MAT_TIMES_NONE && ch[i].times != MAT_TIMES_EXACT &&
		    ch[i].times != MAT_TIMES_FRESH)
			bad = "unknown times rule";
		if (!ch[i].path)
			bad = "no path";
		if (bad) {
			strbuf_addf(err, "cannot apply '%s': %s",
				    ch[i].path ? ch[i].path : "(null)", bad);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * May sorted item @i go to the workers while earlier ones are still being
 * written? A regular file below a root has no descendants, so only
 * another change of the same path (applied in the order given) could
 * depend on an earlier file.
 */
static bool queueable(const struct mat_change *ch, const struct mat_item *items,
		      size_t i)
{
	const struct mat_item *it = &items[i];

	if (ch[it->idx].kind != CHANGE_FILE || !*it->rel)
		return false;
	return i == 0 || strcmp(ch[items[i - 1].idx].path, ch[it->idx].path);
}

/* The deepest root @path is at or beneath, or -1. */
static ssize_t find_root(const char *path, const char *const *roots,
			 size_t nr_roots)
{
	ssize_t best = -1;
	size_t i, best_len = 0;

	for (i = 0; i < nr_roots; i++) {
		size_t len = strlen(roots[i]);

		if (path_is_beneath(path, roots[i]) &&
		    (best < 0 || len > best_len)) {
			best = (ssize_t)i;
			best_len = len;
		}
	}
	return best;
}

static int apply(const struct mat_change *ch, size_t nr,
		 const char *const *roots, int view_fd, unsigned flags,
		 struct mat_report *rep, struct strbuf *err)
{
	struct mat_ctx c = {
		.ch = ch,
		.roots = roots,
		.view_fd = view_fd,
		.flags = flags,
		.rep = rep,
		.err = err,
		.cache_rel = STRBUF_INIT,
		.cache_fd = -1,
		.cache_watch = -1,
		.watch_map = STRMAP_INIT,
		.pid = getpid(),
	};
	_cleanup_free_ struct mat_item *items = NULL;
	size_t i, nr_items = 0, files = 0;
	uint64_t bytes = 0;
	int ret = 0, r;

	mat_report_release(rep);
	r = check_args(ch, nr, roots, flags, err);
	if (r < 0)
		return r;
	while (roots[c.nr_roots])
		c.nr_roots++;
	c.root_fds = xmalloc(st_mult(sizeof(int), c.nr_roots + 1));
	for (i = 0; i < c.nr_roots; i++)
		c.root_fds[i] = -1;
	rep->results = xcalloc(nr ? nr : 1, sizeof(*rep->results));
	rep->nr = nr;
	items = xcalloc(nr ? nr : 1, sizeof(*items));

	for (i = 0; i < nr; i++) {
		const char *path = ch[i].path;
		const char *why = path_unsafe_reason(path, PATH_ABSOLUTE);
		ssize_t root;
		size_t rlen;

		rep->results[i].outcome = MAT_SKIPPED;
		if (why) {
			set_outcome(&c, i, MAT_REFUSED, why);
			continue;
		}
		root = find_root(path, roots, c.nr_roots);
		if (root < 0) {
			set_outcome(&c, i, MAT_KEPT, "outside the output roots");
			continue;
		}
		rlen = strlen(roots[root]);
		items[nr_items].idx = i;
		items[nr_items].root = (size_t)root;
		items[nr_items].rel = path[rlen] == '/' ? path + rlen + 1
			: rlen == 1 ? path + 1 /* root "/" */
				    : path + rlen;
		items[nr_items].dir_len = (size_t)(strrchr(path, '/') - path);
		nr_items++;
	}
	qsort_r(items, nr_items, sizeof(*items), cmp_items, (void *)ch);
	fresh_times(&c, nr);

	for (i = 0; i < nr_items; i++) {
		if (ch[items[i].idx].kind == CHANGE_FILE && *items[i].rel) {
			files++;
			bytes += (uint64_t)ch[items[i].idx].size;
		}
	}
	c.pool = pool_start(&c, files, bytes);

	struct progress prog;
	progress_start(&prog, "restoring", nr_items, PROGRESS_COUNT);
	for (i = 0; i < nr_items; i++) {
		if (c.pool && !queueable(ch, items, i)) {
			ret = pool_drain(c.pool);
			if (ret < 0)
				break;
		}
		ret = apply_item(&c, &items[i]);
		if (ret < 0)
			break;
		progress_update(&prog, i + 1);
	}
	progress_done(&prog);
	r = pool_finish(&c);
	if (!ret)
		ret = r;
	/* Deferred modes even after a failure: leave no dir wide open. */
	r = apply_deferred(&c, ret == 0);
	if (!ret)
		ret = r;
	r = ret ? 0 : apply_dir_times(&c, true);
	if (!ret)
		ret = r;
	r = ret ? 0 : restore_dir_times(&c, true);
	if (!ret)
		ret = r;
	r = cache_drop(&c);
	if (!ret && r < 0) {
		strbuf_addf(err, "cannot apply changes: fsync: %s",
			    strerror(-r));
		ret = r;
	}
	forget_dirs(&c);
	strbuf_release(&c.cache_rel);
	free(c.root_fds);
	free(c.deferred);
	free(c.dir_times);
	free(c.fresh_ns);
	for (i = 0; i < c.watch_nr; i++)
		free(c.watch[i].rel);
	free(c.watch);
	strmap_release(&c.watch_map);

	for (i = 0; i < nr; i++) {
		switch (rep->results[i].outcome) {
		case MAT_APPLIED:
			rep->applied++;
			break;
		case MAT_UNCHANGED:
			rep->unchanged++;
			break;
		case MAT_KEPT:
			rep->kept++;
			break;
		case MAT_REFUSED:
			rep->refused++;
			break;
		case MAT_FAILED:
			rep->failed++;
			break;
		case MAT_SKIPPED:
			rep->skipped++;
			break;
		}
	}
	return ret;
}

int mat_apply(const struct mat_change *ch, size_t nr,
	      const char *const *roots, unsigned flags,
	      struct mat_report *rep, struct strbuf *err)
{
	return apply(ch, nr, roots, -1, flags, rep, err);
}

int mat_apply_at(const struct mat_change *ch, size_t nr, int root_fd,
		 unsigned flags, struct mat_report *rep, struct strbuf *err)
{
	/* The view's "/" is its only root: every absolute path is beneath. */
	static const char *const view_roots[] = { "/", NULL };

	if (root_fd < 0) {
		mat_report_release(rep);
		strbuf_addf(err, "cannot apply changes: bad root fd %d", root_fd);
		return -EBADF;
	}
	return apply(ch, nr, view_roots, root_fd, flags, rep, err);
}

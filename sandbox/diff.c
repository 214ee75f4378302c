/*
 * Reading the overlay upper directories into a change list (DESIGN.md
 * section 2, "The diff"). Runs in the supervisor after every sandbox
 * process is gone; the upper directories are read through their host
 * paths and compared with the lower (the live host directory):
 *
 *	upper entry		lower			change
 *	regular file		any			FILE (content and mode)
 *	dir, opaque xattr	any			DIR_REPLACED, children
 *	dir			absent / not a dir	DIR, children
 *	dir			dir, same mode and xattrs none, children
 *	dir			dir, other mode/xattrs	MODE, children
 *	symlink			any			SYMLINK
 *	char dev 0/0		any			DELETE
 *	other special		-			SPECIAL
 *
 * Every file and symlink in the upper is a change, even when its bytes
 * (target) equal the lower's: overlayfs copies up on a read-write open
 * that changes nothing, but it equally copies up a file the job rewrote
 * (O_TRUNC) with the bytes it already had, and the tracer pins only the
 * type, mode and size of a file opened with O_TRUNC. Leaving such a file
 * out would make a later hit, on a host where it has other bytes of the
 * same size, keep those bytes: a false hit. Re-applying identical bytes
 * costs nothing (materializing leaves a matching file alone). For the
 * same reason a whiteout is a deletion even if the lower is gone by now.
 *
 * Below an opaque or newly created directory the lower is hidden: every
 * child is new.
 *
 * Each change but a deletion carries the upper entry's extended
 * attributes (xattr_read_upper(): the overlay's own markers and
 * security.selinux left out; names of overlayfs' namespaces the job set,
 * escaped by overlayfs, kept, for the runner to refuse): a copy-up brings
 * the host's along, and the job may have set or removed some, which is
 * also the only trace a setxattr on a merged directory leaves (a MODE
 * change then, with its mode unchanged).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/path.h"
#include "common/xalloc.h"
#include "common/xattr.h"
#include "sandbox/sbx-internal.h"

#include "common/banned.h"

struct diff {
	struct sbx_change *v;
	size_t nr, alloc;
	const char *opaque_xattr;
	bool userxattr;
	struct strbuf *err;
};

static struct sbx_change *add(struct diff *d, enum change_kind kind,
			      const char *path, const char *upper,
			      const struct stat *st)
{
	struct sbx_change *c;

	ALLOC_GROW(d->v, d->nr + 1, d->alloc);
	c = &d->v[d->nr++];
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->path = xstrdup(path);
	if (kind != CHANGE_DELETE) {
		c->upper_path = xstrdup(upper);
		c->mode = st->st_mode;
		c->mtime = st->st_mtim;
		c->atime = st->st_atim;
		if (kind == CHANGE_FILE)
			c->size = st->st_size;
		c->xattr_err = xattr_read_upper(upper, d->userxattr, &c->xattrs);
	}
	return c;
}

/* Does the merged directory @upper carry other attributes than @lower? */
static bool xattrs_differ(struct diff *d, const char *upper, const char *lower)
{
	struct xattr_set u = XATTR_SET_INIT, l = XATTR_SET_INIT;
	bool differ = xattr_read_upper(upper, d->userxattr, &u) < 0 ||
		      xattr_read_upper(lower, d->userxattr, &l) < 0 ||
		      !xattr_set_equal(&u, &l);

	xattr_set_release(&u);
	xattr_set_release(&l);
	return differ;
}

/* Is the upper entry @st's mtime still the lower entry @ls's? */
static bool same_mtime(const struct stat *st, const struct stat *ls)
{
	return (st->st_mode & S_IFMT) == (ls->st_mode & S_IFMT) &&
	       st->st_mtim.tv_sec == ls->st_mtim.tv_sec &&
	       st->st_mtim.tv_nsec == ls->st_mtim.tv_nsec;
}

static int fail_path(struct diff *d, int e, const char *what, const char *path)
{
	strbuf_reset(d->err);
	strbuf_addf(d->err, "cannot %s '%s': %s", what, path, strerror(e));
	return -e;
}

static bool is_opaque(struct diff *d, int dirfd)
{
	char v[4];
	ssize_t n = fgetxattr(dirfd, d->opaque_xattr, v, sizeof(v));

	return n == 1 && v[0] == 'y';
}

static int walk(struct diff *d, int dirfd, const char *upper, const char *host,
		const char *lower, bool lower_hidden)
{
	_cleanup_closedir_ DIR *dir = NULL;
	struct dirent *de;
	int fd, ret = 0;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return fail_path(d, errno, "read directory", upper);
	dir = fdopendir(fd);
	if (!dir) {
		int e = errno;

		close(fd);
		return fail_path(d, e, "read directory", upper);
	}
	while ((errno = 0, de = readdir(dir))) {
		const char *name = de->d_name;
		_cleanup_free_ char *u = NULL, *h = NULL, *l = NULL;
		struct stat st, ls;
		bool lower_present = false;
		struct sbx_change *c;

		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		u = path_join(upper, name);
		h = path_join(host, name);
		l = path_join(lower, name);
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return fail_path(d, errno, "stat", u);
		if (!lower_hidden) {
			if (lstat(l, &ls) == 0)
				lower_present = true;
			else if (errno != ENOENT && errno != ENOTDIR)
				return fail_path(d, errno, "stat", l);
		}

		if (S_ISREG(st.st_mode)) {
			add(d, CHANGE_FILE, h, u, &st)->host_times =
				lower_present && same_mtime(&st, &ls);
		} else if (S_ISDIR(st.st_mode)) {
			_cleanup_close_ int cfd = openat(dirfd, name,
							 O_RDONLY | O_DIRECTORY |
								 O_NOFOLLOW | O_CLOEXEC);
			bool hidden = lower_hidden;

			if (cfd < 0)
				return fail_path(d, errno, "open directory", u);
			if (is_opaque(d, cfd)) {
				add(d, CHANGE_DIR_REPLACED, h, u, &st);
				hidden = true;
			} else if (!lower_present || !S_ISDIR(ls.st_mode)) {
				add(d, CHANGE_DIR, h, u, &st);
				hidden = true;
			} else if ((st.st_mode & 07777) != (ls.st_mode & 07777) ||
				   xattrs_differ(d, u, l)) {
				add(d, CHANGE_MODE, h, u, &st);
			}
			ret = walk(d, cfd, u, h, l, hidden);
			if (ret < 0)
				return ret;
		} else if (S_ISLNK(st.st_mode)) {
			char t[PATH_MAX];
			ssize_t n = readlinkat(dirfd, name, t, sizeof(t) - 1);

			if (n < 0)
				return fail_path(d, errno, "read link", u);
			t[n] = '\0';
			c = add(d, CHANGE_SYMLINK, h, u, &st);
			c->target = xstrdup(t);
			c->host_times = lower_present && same_mtime(&st, &ls);
		} else if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 0 &&
			   minor(st.st_rdev) == 0) {
			/* A whiteout: the job's view ends without this path. */
			add(d, CHANGE_DELETE, h, NULL, &st);
		} else {
			add(d, CHANGE_SPECIAL, h, u, &st);
		}
	}
	if (errno)
		return fail_path(d, errno, "read directory", upper);
	return 0;
}

static int cmp_change(const void *a, const void *b)
{
	return strcmp(((const struct sbx_change *)a)->path,
		      ((const struct sbx_change *)b)->path);
}

int sbx_diff_read_layers(const struct sbx_layer *layers, size_t nr_layers,
			 bool userxattr, struct sbx_change **changes,
			 size_t *nr, struct strbuf *err)
{
	struct diff d = {
		.opaque_xattr = userxattr ? "user.overlay.opaque"
					  : "trusted.overlay.opaque",
		.userxattr = userxattr,
		.err = err,
	};
	size_t i;
	int ret = 0;

	*changes = NULL;
	*nr = 0;
	for (i = 0; i < nr_layers && !ret; i++) {
		_cleanup_close_ int fd = open(layers[i].upper,
					      O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0) {
			ret = fail_path(&d, errno, "open directory", layers[i].upper);
			break;
		}
		ret = walk(&d, fd, layers[i].upper, layers[i].mountpoint,
			   layers[i].lower, false);
	}
	if (ret < 0) {
		sbx_changes_free(d.v, d.nr);
		return ret;
	}
	if (d.nr)
		qsort(d.v, d.nr, sizeof(*d.v), cmp_change);
	*changes = d.v;
	*nr = d.nr;
	return 0;
}

int sbx_diff_read(struct sbx *s, struct sbx_change **changes, size_t *nr,
		  struct strbuf *err)
{
	*changes = NULL;
	*nr = 0;
	if (!s->ran) {
		strbuf_reset(err);
		strbuf_addstr(err, "sandbox: sbx_diff_read() before sbx_run()");
		return -EINVAL;
	}
	return sbx_diff_read_layers(s->layers, s->nr_layers, s->userns, changes,
				    nr, err);
}

void sbx_changes_free(struct sbx_change *changes, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		free(changes[i].path);
		free(changes[i].upper_path);
		free(changes[i].target);
		xattr_set_release(&changes[i].xattrs);
	}
	free(changes);
}

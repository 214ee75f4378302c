/*
 * The blob store: blobs/ab/<32 hex>, content-addressed files named by the
 * XXH3-128 of their bytes (ab: the first two hex digits), mode 0444.
 * Putting a captured file in (moved when it can be, else copied),
 * checking one, dropping a damaged one, and replaying one to an fd.
 *
 * A blob gets its name only when complete (written or moved into tmp/,
 * checked, then renameat() into blobs/ab/), so a blob that exists under
 * its name was whole when named; damage after that is found when it is
 * read (its hash is checked) and by `cache verify`.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cache/cache.h"
#include "cache/internal.h"
#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/hash.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

#ifndef FICLONE
#define FICLONE _IOW(0x94, 9, int)
#endif

int cache_blobs_dirfd(const struct cache *c)
{
	return c->blobs_fd;
}

/* The fan-out directory of the blob named @hex. */
static int make_fanout_dir(struct cache *c, const char *hex)
{
	char ab[CACHE_FANOUT_LEN + 1];
	unsigned n;

	memcpy(ab, hex, CACHE_FANOUT_LEN);
	ab[CACHE_FANOUT_LEN] = '\0';
	n = (unsigned)strtoul(ab, NULL, 16);

	if (c->fanout_made[n / 8] & (1u << (n % 8)))
		return 0;
	if (mkdirat(c->blobs_fd, ab, 0700) < 0 && errno != EEXIST)
		return -errno;
	c->fanout_made[n / 8] |= (unsigned char)(1u << (n % 8));
	return 0;
}

/*
 * Is a good-looking blob already there? Only its size is compared: a
 * full rehash of every deduplicated output would cost as much as storing
 * it. A damaged blob is found when it is read and then removed.
 */
static bool blob_present(struct cache *c, const char *rel, uint64_t size)
{
	struct stat st;

	if (fstatat(c->blobs_fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != size)
		return false;
	/* Fresh mtime: gc leaves young unreferenced blobs to us. */
	utimensat(c->blobs_fd, rel, NULL, AT_SYMLINK_NOFOLLOW);
	return true;
}

int blob_tmp_open(struct cache *c, struct strbuf *name)
{
	static unsigned long counter;
	int tries, fd;

	for (tries = 0;; tries++) {
		strbuf_reset(name);
		strbuf_addf(name, "blob.%ld.%lu.%lx", (long)getpid(), counter++,
			    (unsigned long)random());
		fd = openat(c->tmp_fd, name->buf,
			    O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			    0444);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST || tries > 100)
			return -errno;
	}
}

int blob_tmp_commit(struct cache *c, const char *name, const struct pc_hash *h)
{
	_cleanup_strbuf_ struct strbuf rel = STRBUF_INIT;
	int r;

	cache_blob_relpath(h, &rel);
	r = make_fanout_dir(c, rel.buf);
	if (r == 0 && renameat(c->tmp_fd, name, c->blobs_fd, rel.buf) < 0)
		r = -errno;
	if (r < 0)
		unlinkat(c->tmp_fd, name, 0);
	return r;
}

/* Copy @fd (from offset 0, @size bytes) into a new blob named @rel. */
static int blob_copy_in(struct cache *c, int fd, uint64_t size,
			const char *rel)
{
	_cleanup_strbuf_ struct strbuf tmp = STRBUF_INIT;
	_cleanup_close_ int out = -1;
	ssize_t n;
	int r;

	out = blob_tmp_open(c, &tmp);
	if (out < 0)
		return out;
	if (lseek(fd, 0, SEEK_SET) < 0) {
		r = -errno;
		goto fail;
	}
	n = copy_fd_range(fd, out, size);
	if (n < 0 || (uint64_t)n != size) {
		r = n < 0 ? (int)n : -EIO;
		goto fail;
	}
	if (close(out) < 0) {
		out = -1;
		r = -errno;
		goto fail;
	}
	out = -1;
	if (renameat(c->tmp_fd, tmp.buf, c->blobs_fd, rel) < 0) {
		r = -errno;
		goto fail;
	}
	return 0;
fail:
	unlinkat(c->tmp_fd, tmp.buf, 0);
	return r;
}

/*
 * Copy mode (cache_record_set_copy_files()): the captured file stays where
 * it is, in a view a job still uses. Its bytes are cloned (FICLONE) or
 * copied into tmp/, and the copy is what is hashed and named: the source
 * may still be written by then (the job is running), and a blob must hash
 * to its name whatever the source did meanwhile. Never a hard link: the
 * job may append to its file later, which would change the blob.
 */
static int blob_copy_put(struct cache *c, int fd, const struct stat *st,
			 struct pc_hash *h, uint64_t *size, uint64_t *added)
{
	_cleanup_strbuf_ struct strbuf tmp = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf rel = STRBUF_INIT;
	_cleanup_close_ int out = -1;
	ssize_t n;
	bool present;
	int r;

	out = blob_tmp_open(c, &tmp);
	if (out < 0)
		return out;
	if (ioctl(out, FICLONE, fd) < 0) {
		if (lseek(fd, 0, SEEK_SET) < 0 || ftruncate(out, 0) < 0) {
			r = -errno;
			goto fail;
		}
		n = copy_fd_range(fd, out, (size_t)st->st_size);
		if (n < 0) {
			r = (int)n;
			goto fail;
		}
	}
	if (lseek(out, 0, SEEK_SET) < 0) {
		r = -errno;
		goto fail;
	}
	r = pc_hash_fd(out, h, size);
	if (close(out) < 0 && r == 0)
		r = -errno;
	out = -1;
	if (r < 0)
		goto fail;
	cache_blob_relpath(h, &rel);
	present = blob_present(c, rel.buf, *size);
	/* ours replaces a present one: its bytes were not hashed, ours were */
	r = blob_tmp_commit(c, tmp.buf, h);
	if (r < 0)
		return r;
	*added = present ? 0 : *size;
	return 0;
fail:
	unlinkat(c->tmp_fd, tmp.buf, 0);
	return r;
}


/*
 * Open the captured file @src for reading. In copy mode the job still
 * runs, and @src is <a root><@path> (a view's /proc/self/fd/N, an upper
 * directory): that @path part is opened beneath the rest without
 * following any symlink, so a directory the job swapped for a symlink
 * (an absolute one would lead out of the view) cannot make procache
 * store a file outside it. The fd or -errno (-ELOOP then).
 */
static int open_captured(const char *src, const char *path)
{
	const int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK;
	size_t ls = strlen(src), lp = path ? strlen(path) : 0;
	int fd;

	if (lp > 1 && path[0] == '/' && ls > lp && !strcmp(src + ls - lp, path)) {
		_cleanup_free_ char *top = xstrndup(src, ls - lp);
		_cleanup_close_ int tfd = open(top, O_PATH | O_DIRECTORY | O_CLOEXEC);

		if (tfd < 0)
			return -errno;
		return fd_openat2(tfd, path + 1, flags,
				     RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
				     RESOLVE_NO_MAGICLINKS);
	}
	do
		fd = open(src, flags);
	while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : fd;
}

int blob_put_file(struct cache *c, const char *src, const char *path,
		  bool copy, struct pc_hash *h, uint64_t *size,
		  uint64_t *added, struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf rel = STRBUF_INIT;
	_cleanup_close_ int fd = -1;
	struct stat st;
	bool present;
	int r;

	*added = 0;
	fd = open_captured(src, copy ? path : NULL);
	if (fd < 0) {
		r = fd;
		strbuf_addf(err, "cannot open captured file '%s': %s", src,
			    strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		strbuf_addf(err, "captured file '%s' is not a regular file", src);
		return -EINVAL;
	}
	if (copy) {
		r = blob_copy_put(c, fd, &st, h, size, added);
		if (r < 0)
			goto fail;
		return 0;
	}
	r = pc_hash_fd(fd, h, size);
	if (r < 0) {
		strbuf_addf(err, "cannot read captured file '%s': %s", src,
			    strerror(-r));
		return r;
	}
	cache_blob_relpath(h, &rel);
	/*
	 * A blob already there of the right size is not trusted as it is:
	 * its bytes were not hashed, ours were, and a corrupt one would be
	 * what this very run applies. Ours replaces it (a rename onto a blob
	 * of the same hash is harmless), or, when ours cannot be moved, it is
	 * rehashed and replaced by a copy if it is bad.
	 */
	present = blob_present(c, rel.buf, *size);
	if (!present) {
		r = make_fanout_dir(c, rel.buf);
		if (r < 0)
			goto fail;
	}
	/*
	 * Move the captured file itself (its inode becomes the blob): no copy
	 * and no create-and-delete churn. Read-only and fresh first, so a
	 * blob is never writable and gc's grace period starts now.
	 */
	if (fchmod(fd, 0444) == 0 && futimens(fd, NULL) == 0 &&
	    renameat(AT_FDCWD, src, c->blobs_fd, rel.buf) == 0) {
		/*
		 * The name moved is the inode hashed: the run's directory is
		 * ours and every process of the job is gone.
		 */
		*added = present ? 0 : *size;
		return 0;
	}
	if (present && blob_check(c, h, *size, true) == 0)
		return 0;
	/* EXDEV (another file system), EPERM (not ours to chmod): copy. */
	r = blob_copy_in(c, fd, *size, rel.buf);
	if (r == 0) {
		*added = present ? 0 : *size;
		return 0;
	}
fail:
	strbuf_addf(err, "cannot store '%s' in the blob store '%s/blobs': %s",
		    src, c->path, strerror(-r));
	return r;
}

int blob_put_empty(struct cache *c, struct pc_hash *h, struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf rel = STRBUF_INIT;
	int r;

	pc_hash_buffer(NULL, 0, h);
	cache_blob_relpath(h, &rel);
	if (blob_present(c, rel.buf, 0))
		return 0;
	r = make_fanout_dir(c, rel.buf);
	if (r == 0) {
		char *slash = strchr(rel.buf, '/');
		_cleanup_close_ int dfd = -1;

		*slash = '\0';
		dfd = cache_open_dir_at(c->blobs_fd, rel.buf);
		r = dfd < 0 ? dfd
			    : write_file_atomic_at(dfd, slash + 1, "", 0, 0444, 0);
	}
	if (r < 0)
		strbuf_addf(err, "cannot write the empty blob in '%s/blobs': %s",
			    c->path, strerror(-r));
	return r;
}

bool blob_is_empty(const struct pc_hash *h, uint64_t size)
{
	static struct pc_hash empty;
	static bool have;

	if (size)
		return false;
	if (!have) {
		pc_hash_buffer(NULL, 0, &empty);
		have = true;
	}
	return pc_hash_equal(h, &empty);
}

int blob_check(struct cache *c, const struct pc_hash *h, uint64_t size,
	       bool full)
{
	_cleanup_strbuf_ struct strbuf rel = STRBUF_INIT;
	_cleanup_close_ int fd = -1;
	struct pc_hash got;
	struct stat st;
	uint64_t n;
	int r;

	cache_blob_relpath(h, &rel);
	do
		fd = openat(c->blobs_fd, rel.buf,
			    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY |
				    O_NONBLOCK);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != size)
		return -EBADMSG;
	if (!full)
		return 0;
	r = pc_hash_fd(fd, &got, &n);
	if (r < 0)
		return r;
	if (n != size || !pc_hash_equal(&got, h))
		return -EBADMSG;
	return 0;
}

void blob_drop(struct cache *c, const struct pc_hash *h)
{
	_cleanup_strbuf_ struct strbuf rel = STRBUF_INIT;

	cache_blob_relpath(h, &rel);
	unlinkat(c->blobs_fd, rel.buf, 0);
}

int cache_entry_write_output(struct cache *c, const struct cache_entry *e,
			     int which, int fd, struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf rel = STRBUF_INIT;
	_cleanup_close_ int in = -1;
	const struct output *o;
	struct pc_hasher hs;
	struct pc_hash got;
	char buf[65536];
	uint64_t total = 0;
	ssize_t n;
	int r = 0;

	if (which != 1 && which != 2) {
		strbuf_addf(err, "no output stream %d in an entry", which);
		return -EINVAL;
	}
	o = &e->out[which - 1];
	if (blob_is_empty(&o->hash, o->size))
		return 0;	/* nothing to write */
	cache_blob_relpath(&o->hash, &rel);
	in = openat(c->blobs_fd, rel.buf,
		    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (in < 0) {
		r = -errno;
		strbuf_addf(err, "cannot open %s blob of entry '%s': %s",
			    which == 1 ? "stdout" : "stderr", e->name,
			    strerror(-r));
		return r;
	}
	pc_hasher_init(&hs);
	for (;;) {
		n = read_full(in, buf, sizeof(buf));
		if (n < 0) {
			r = (int)n;
			break;
		}
		if (n == 0)
			break;
		pc_hasher_update(&hs, buf, (size_t)n);
		total += (uint64_t)n;
		if (total > o->size)
			break;
		n = write_full(fd, buf, (size_t)n);
		if (n < 0) {
			r = (int)n;
			break;
		}
	}
	pc_hasher_final(&hs, &got);
	pc_hasher_release(&hs);
	if (r < 0) {
		strbuf_addf(err, "cannot write %s of entry '%s': %s",
			    which == 1 ? "stdout" : "stderr", e->name,
			    strerror(-r));
		return r;
	}
	if (total != o->size || !pc_hash_equal(&got, &o->hash)) {
		strbuf_addf(err, "%s blob of entry '%s' is corrupt",
			    which == 1 ? "stdout" : "stderr", e->name);
		blob_drop(c, &o->hash);
		return -EBADMSG;
	}
	return 0;
}

int cache_entry_read_output(struct cache *c, const struct cache_entry *e,
			    int which, uint64_t limit, struct strbuf *out,
			    struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf rel = STRBUF_INIT;
	_cleanup_close_ int in = -1;
	const char *name = which == 1 ? "stdout" : "stderr";
	const struct output *o;
	struct pc_hash got;
	size_t start = out->len;
	ssize_t n;
	int r;

	if (which != 1 && which != 2) {
		strbuf_addf(err, "no output stream %d in an entry", which);
		return -EINVAL;
	}
	o = &e->out[which - 1];
	if (o->size > limit || o->size > SIZE_MAX / 2) {
		strbuf_addf(err, "%s of entry '%s' is too large (%" PRIu64
			    " bytes, at most %" PRIu64 ")",
			    name, e->name, o->size, limit);
		return -EFBIG;
	}
	cache_blob_relpath(&o->hash, &rel);
	in = openat(c->blobs_fd, rel.buf,
		    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (in < 0) {
		r = -errno;
		strbuf_addf(err, "cannot open %s blob of entry '%s': %s", name,
			    e->name, strerror(-r));
		return r;
	}
	/* one byte more than recorded: a longer blob is found corrupt */
	strbuf_grow(out, (size_t)o->size + 1);
	n = read_full(in, out->buf + start, (size_t)o->size + 1);
	if (n < 0) {
		strbuf_setlen(out, start);
		strbuf_addf(err, "cannot read %s of entry '%s': %s", name,
			    e->name, strerror((int)-n));
		return (int)n;
	}
	pc_hash_buffer(out->buf + start, (size_t)n, &got);
	if ((uint64_t)n != o->size || !pc_hash_equal(&got, &o->hash)) {
		strbuf_setlen(out, start);
		strbuf_addf(err, "%s blob of entry '%s' is corrupt", name,
			    e->name);
		blob_drop(c, &o->hash);
		return -EBADMSG;
	}
	strbuf_setlen(out, start + (size_t)n);
	return 0;
}

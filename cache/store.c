/*
 * The cache directory and its blob store.
 *
 * On-disk layout (DESIGN.md section 6):
 *
 *	$CACHE/CACHEDIR.TAG	the standard tag (bford.info/cachedir)
 *	$CACHE/FORMAT		CACHE_FORMAT_LINE; anything else is refused
 *	$CACHE/blobs/ab/<32 hex>	a blob, named by the XXH3-128 of its bytes
 *				(ab = its first two hex digits), mode 0444
 *	$CACHE/keys/ab/<key>/<16 hex id>.entry	an entry (cache/entry.c)
 *	$CACHE/keys/ab/<key>/<16 hex id>.hits	one byte appended per hit
 *				(its size is the hit count; O_APPEND, no lock)
 *	$CACHE/statcache	cache/statcache.c
 *	$CACHE/stats/<0..15>	cache/stats.c
 *	$CACHE/run/		per-run state directories (sandbox/)
 *	$CACHE/tmp/		temporary files, renamed into blobs/
 *
 * A blob gets its name only when complete (written or moved into tmp/,
 * checked, then renameat() into blobs/ab/), so a blob that exists under
 * its name was whole when named; damage after that is found when it is
 * read (its hash is checked) and by `cache verify`.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache/cache.h"
#include "cache/internal.h"
#include "common/progress.h"
#include "common/cleanup.h"
#include "common/die.h"
#include "common/fdio.h"
#include "common/hash.h"
#include "common/path.h"
#include "common/strbuf.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "common/banned.h"

static const char cachedir_tag[] =
	"Signature: 8a477f597d28d172789f06886806bc55\n"
	"# This file is a cache directory tag created by procache.\n"
	"# For information about cache directory tags, see:\n"
	"#\thttps://bford.info/cachedir/\n";

static const char *const subdirs[] = { "blobs", "keys", "stats", "run", "tmp" };

static int open_dir_at(int dirfd, const char *name)
{
	int fd;

	do
		fd = openat(dirfd, name,
			    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : fd;
}

/*
 * True when @dirfd holds nothing but names a cache has: an empty directory,
 * or one another procache is initialising right now (it writes
 * CACHEDIR.TAG, then FORMAT, each through a ".tmp." file), so that two
 * runners creating one cache at once both succeed.
 */
static bool dir_is_empty_or_ours(int dirfd)
{
	static const char *const ours[] = {
		"CACHEDIR.TAG", "FORMAT", "blobs", "keys", "stats", "run",
		"tmp", "statcache", "gc.lock",
	};
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t i;

	if (fd < 0)
		return false;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return false;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strncmp(de->d_name, ".tmp.", 5))
			continue;
		for (i = 0; i < ARRAY_SIZE(ours); i++)
			if (!strcmp(de->d_name, ours[i]))
				break;
		if (i == ARRAY_SIZE(ours))
			return false;
	}
	return true;
}

/* Create CACHEDIR.TAG and FORMAT (idempotent: same bytes, renamed over). */
static int init_cache_dir(int dirfd)
{
	int r = write_file_atomic_at(dirfd, "CACHEDIR.TAG", cachedir_tag,
				     sizeof(cachedir_tag) - 1, 0644, 0);

	if (r < 0)
		return r;
	/* FORMAT last: it is what marks the directory as a cache. */
	return write_file_atomic_at(dirfd, "FORMAT", CACHE_FORMAT_LINE,
				    strlen(CACHE_FORMAT_LINE), 0644, 0);
}

static int check_format(int dirfd, const char *dir, struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	ssize_t n = strbuf_read_file_at(&sb, dirfd, "FORMAT", 64);

	if (n == -ENOENT) {
		if (!dir_is_empty_or_ours(dirfd)) {
			strbuf_addf(err,
				    "'%s' is not empty and is not a procache cache (no FORMAT file)",
				    dir);
			return -ENOTEMPTY;
		}
		n = init_cache_dir(dirfd);
		if (n < 0) {
			strbuf_addf(err, "cannot initialise cache '%s': %s",
				    dir, strerror((int)-n));
			return (int)n;
		}
		return 0;
	}
	if (n < 0) {
		strbuf_addf(err, "cannot read '%s/FORMAT': %s", dir,
			    strerror((int)-n));
		return (int)n;
	}
	if (strcmp(sb.buf, CACHE_FORMAT_LINE)) {
		size_t i;

		strbuf_trim_trailing_newline(&sb);
		for (i = 0; i < sb.len; i++)
			if ((unsigned char)sb.buf[i] < 0x20 ||
			    (unsigned char)sb.buf[i] >= 0x7f)
				sb.buf[i] = '?';
		if (sb.len > 60)
			strbuf_setlen(&sb, 60);
		strbuf_addf(err,
			    "cache '%s' has format '%s', this procache reads '%.*s' only; use another --cache-dir or remove it",
			    dir, sb.buf, (int)strlen(CACHE_FORMAT_LINE) - 1,
			    CACHE_FORMAT_LINE);
		return -EPROTO;
	}
	return 0;
}

int cache_open(const char *dir, struct cache **out, struct strbuf *err)
{
	struct cache *c;
	const char *env;
	size_t i;
	int r;

	*out = NULL;
	if (!dir || !*dir) {
		strbuf_addstr(err, "empty cache directory name");
		return -EINVAL;
	}
	c = xcalloc(1, sizeof(*c));
	c->dirfd = c->blobs_fd = c->keys_fd = c->tmp_fd = c->stats_fd = -1;
	c->path = xstrdup(dir);
	c->run_root = path_join(dir, "run");
	/*
	 * Open first, create only what is missing: every run (a hit above
	 * all) opens the cache, and most of the time it is all there.
	 */
	for (i = 0; i < 2; i++) {
		do
			c->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		while (c->dirfd < 0 && errno == EINTR);
		if (c->dirfd >= 0 || errno != ENOENT || i)
			break;
		r = mkdir_p_at(AT_FDCWD, dir, 0700);
		if (r < 0 && r != -EEXIST) {
			strbuf_addf(err, "cannot create cache directory '%s': %s", dir,
				    strerror(-r));
			goto fail;
		}
	}
	if (c->dirfd < 0) {
		r = -errno;
		strbuf_addf(err, "cannot open cache directory '%s': %s", dir,
			    strerror(-r));
		goto fail;
	}
	r = check_format(c->dirfd, dir, err);
	if (r < 0)
		goto fail;
	{
		int *fds[] = { &c->blobs_fd, &c->keys_fd, &c->stats_fd, NULL, &c->tmp_fd };

		for (i = 0; i < ARRAY_SIZE(subdirs); i++) {
			/* the ones we keep open are opened first, created if missing */
			r = fds[i] ? open_dir_at(c->dirfd, subdirs[i]) : -ENOENT;
			if (r == -ENOENT) {
				if (mkdirat(c->dirfd, subdirs[i], 0700) < 0 && errno != EEXIST) {
					r = -errno;
					strbuf_addf(err, "cannot create '%s/%s': %s", dir,
						    subdirs[i], strerror(-r));
					goto fail;
				}
				r = fds[i] ? open_dir_at(c->dirfd, subdirs[i]) : 0;
			}
			if (r < 0) {
				strbuf_addf(err, "cannot open '%s/%s': %s", dir, subdirs[i],
					    strerror(-r));
				goto fail;
			}
			if (fds[i])
				*fds[i] = r;
		}
	}
	env = getenv("PROCACHE_MAX_SIZE");
	if (env && *env && parse_size(env, &c->max_size) < 0) {
		strbuf_addf(err,
			    "invalid PROCACHE_MAX_SIZE '%s' (expected a size such as 500M or 2G)",
			    env);
		r = -EINVAL;
		goto fail;
	}
	*out = c;
	return 0;
fail:
	cache_close(c);
	return r;
}

void cache_close(struct cache *c)
{
	if (!c)
		return;
	close_preserve_errno(c->dirfd);
	close_preserve_errno(c->blobs_fd);
	close_preserve_errno(c->keys_fd);
	close_preserve_errno(c->tmp_fd);
	close_preserve_errno(c->stats_fd);
	if (c->sc)
		statcache_close(c->sc);
	free(c->path);
	free(c->run_root);
	free(c);
}

const char *cache_path(const struct cache *c)
{
	return c->path;
}

const char *cache_run_root(const struct cache *c)
{
	return c->run_root;
}

int cache_blobs_dirfd(const struct cache *c)
{
	return c->blobs_fd;
}

void cache_set_max_size(struct cache *c, uint64_t bytes)
{
	c->max_size = bytes;
}

uint64_t cache_max_size(const struct cache *c)
{
	return c->max_size;
}

int cache_default_dir(struct strbuf *out)
{
	const char *v;

	strbuf_reset(out);
	v = getenv("PROCACHE_DIR");
	if (v && *v) {
		strbuf_addstr(out, v);
		return 0;
	}
	v = getenv("XDG_CACHE_HOME");
	if (v && *v) {
		strbuf_addf(out, "%s/procache", v);
		return 0;
	}
	v = getenv("HOME");
	if (v && *v) {
		strbuf_addf(out, "%s/.cache/procache", v);
		return 0;
	}
	return -ENOENT;
}

/* ---- blobs ------------------------------------------------------------ */

void cache_blob_relpath(const struct pc_hash *h, struct strbuf *out)
{
	char hex[PC_HASH_HEX_LEN + 1];

	pc_hash_to_hex(h, hex);
	strbuf_reset(out);
	strbuf_addf(out, "%.2s/%s", hex, hex);
}

void store_entry_relpath(const char *key_hex, const char *id_hex,
			 struct strbuf *out)
{
	strbuf_reset(out);
	strbuf_addf(out, "%.2s/%s/%s.entry", key_hex, key_hex, id_hex);
}

static int make_fanout_dir(struct cache *c, const char *hex)
{
	char ab[3] = { hex[0], hex[1], 0 };
	unsigned n = (unsigned)strtoul(ab, NULL, 16);

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

/* Copy @fd (from offset 0, @size bytes) into a new blob named @rel. */
static int blob_copy_in(struct cache *c, int fd, uint64_t size,
			const char *rel)
{
	_cleanup_strbuf_ struct strbuf tmp = STRBUF_INIT;
	_cleanup_close_ int out = -1;
	ssize_t n;
	int r;

	static unsigned long counter;
	int tries;

	for (tries = 0;; tries++) {
		strbuf_reset(&tmp);
		strbuf_addf(&tmp, "blob.%ld.%lu.%lx", (long)getpid(), counter++,
			    (unsigned long)random());
		out = openat(c->tmp_fd, tmp.buf,
			     O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			     0444);
		if (out >= 0)
			break;
		if (errno != EEXIST || tries > 100)
			return -errno;
	}
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
 * Put the regular file @src into the blob store: moved there when it is
 * on the cache's file system, else copied. *@added is the number of new
 * bytes in the store (0 when the blob was already there).
 */
static int blob_store_file(struct cache *c, const char *src,
			   struct pc_hash *h, uint64_t *size, uint64_t *added,
			   struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf rel = STRBUF_INIT;
	_cleanup_close_ int fd = -1;
	struct stat st;
	bool present;
	int r;

	*added = 0;
	do
		fd = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY |
				       O_NONBLOCK);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		r = -errno;
		strbuf_addf(err, "cannot open captured file '%s': %s", src,
			    strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		strbuf_addf(err, "captured file '%s' is not a regular file", src);
		return -EINVAL;
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
	if (present && store_check_blob(c, h, *size, true) == 0)
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

/* The empty blob, for a stream that was not captured. */
static int blob_store_empty(struct cache *c, struct pc_hash *h,
			    struct strbuf *err)
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
		dfd = open_dir_at(c->blobs_fd, rel.buf);
		r = dfd < 0 ? dfd
			    : write_file_atomic_at(dfd, slash + 1, "", 0, 0444, 0);
	}
	if (r < 0)
		strbuf_addf(err, "cannot write the empty blob in '%s/blobs': %s",
			    c->path, strerror(-r));
	return r;
}

int store_check_blob(struct cache *c, const struct pc_hash *h, uint64_t size,
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

void store_drop_blob(struct cache *c, const struct pc_hash *h)
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

	if (which != 1 && which != 2)
		return -EINVAL;
	o = &e->out[which - 1];
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
		store_drop_blob(c, &o->hash);
		return -EBADMSG;
	}
	return 0;
}

/* ---- entries ---------------------------------------------------------- */

/* Split "ab/<key>/<id>.entry" into key and id; false if malformed. */
static bool parse_entry_relpath(const char *rel, char key[PC_HASH_HEX_LEN + 1],
				char id[17])
{
	size_t len = strlen(rel);
	struct pc_hash h;

	if (len != 3 + PC_HASH_HEX_LEN + 1 + 16 + 6 || rel[2] != '/' ||
	    rel[3 + PC_HASH_HEX_LEN] != '/' || strcmp(rel + len - 6, ".entry") ||
	    memcmp(rel, rel + 3, 2))
		return false;
	memcpy(key, rel + 3, PC_HASH_HEX_LEN);
	key[PC_HASH_HEX_LEN] = '\0';
	if (pc_hash_from_hex(key, &h) < 0)
		return false;
	memcpy(id, rel + 4 + PC_HASH_HEX_LEN, 16);
	id[16] = '\0';
	return strspn(id, "0123456789abcdef") == 16;
}

int store_read_entry(struct cache *c, const char *relpath,
		     struct cache_entry **out, struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf buf = STRBUF_INIT;
	_cleanup_close_ int fd = -1;
	char key[PC_HASH_HEX_LEN + 1], id[17];
	struct cache_entry *e;
	struct stat st;
	ssize_t n;
	int r;

	*out = NULL;
	if (!parse_entry_relpath(relpath, key, id)) {
		strbuf_addf(err, "bad entry name '%s'", relpath);
		return -EINVAL;
	}
	do
		fd = openat(c->keys_fd, relpath,
			    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY |
				    O_NONBLOCK);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		r = -errno;
		if (r != -ENOENT)
			strbuf_addf(err, "cannot open entry '%s': %s", relpath,
				    strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode)) {
		strbuf_addstr(err, "not a regular file");
		return -EBADMSG;
	}
	if ((uint64_t)st.st_size > ENTRY_MAX_LEN) {
		strbuf_addstr(err, "too large");
		return -EBADMSG;
	}
	n = strbuf_read_fd(&buf, fd, (size_t)st.st_size);
	if (n < 0) {
		strbuf_addf(err, "cannot read entry '%s': %s", relpath,
			    strerror((int)-n));
		return (int)n;
	}
	r = entry_decode(buf.buf, buf.len, &e, err);
	if (r < 0)
		return r;
	if (strcmp(e->key_hex, key)) {
		cache_entry_free(e);
		strbuf_addstr(err, "entry stored under another key");
		return -EBADMSG;
	}
	memcpy(e->id_hex, id, sizeof(e->id_hex));
	snprintf(e->name, sizeof(e->name), "%s/%s", key, id);
	e->mtime = st.st_mtim.tv_sec;
	e->file_size = (uint64_t)st.st_size;
	*out = e;
	return 0;
}

static void hits_relpath(const char *entry_rel, struct strbuf *out)
{
	strbuf_reset(out);
	strbuf_add(out, entry_rel, strlen(entry_rel) - strlen(".entry"));
	strbuf_addstr(out, ".hits");
}

void store_drop_entry(struct cache *c, const char *relpath, const char *why)
{
	_cleanup_strbuf_ struct strbuf hits = STRBUF_INIT;
	struct stat st;

	warn("removing corrupt cache entry '%s': %s", relpath, why);
	if (fstatat(c->keys_fd, relpath, &st, AT_SYMLINK_NOFOLLOW) == 0)
		stats_add_bytes(c, -(int64_t)st.st_size);
	unlinkat(c->keys_fd, relpath, 0);
	hits_relpath(relpath, &hits);
	unlinkat(c->keys_fd, hits.buf, 0);
}

void store_count_hit(struct cache *c, const char *relpath)
{
	_cleanup_strbuf_ struct strbuf hits = STRBUF_INIT;
	_cleanup_close_ int fd = -1;

	hits_relpath(relpath, &hits);
	fd = openat(c->keys_fd, hits.buf,
		    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0 && write_full(fd, "h", 1) < 0)
		debug("cannot count a hit in '%s'", hits.buf);
}

uint64_t store_hits(struct cache *c, const char *relpath)
{
	_cleanup_strbuf_ struct strbuf hits = STRBUF_INIT;
	struct stat st;

	hits_relpath(relpath, &hits);
	if (fstatat(c->keys_fd, hits.buf, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	return (uint64_t)st.st_size;
}

/* ---- store ------------------------------------------------------------ */

static int write_entry(struct cache *c, const char *key_hex,
		       const char *id_hex, const struct strbuf *data,
		       struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf dir = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf name = STRBUF_INIT;
	int tries, r = 0;

	strbuf_addf(&dir, "%.2s/%s", key_hex, key_hex);
	strbuf_addf(&name, "%s.entry", id_hex);
	/* A concurrent gc may remove the key directory once it is empty. */
	for (tries = 0; tries < 3; tries++) {
		_cleanup_close_ int dfd = -1;

		r = mkdir_p_at(c->keys_fd, dir.buf, 0700);
		if (r < 0 && r != -EEXIST)
			break;
		dfd = open_dir_at(c->keys_fd, dir.buf);
		if (dfd < 0) {
			r = dfd;
			continue;
		}
		r = write_file_atomic_at(dfd, name.buf, data->buf, data->len,
					 0444, 0);
		if (r != -ENOENT)
			break;
	}
	if (r < 0)
		strbuf_addf(err, "cannot write cache entry '%s/keys/%s/%s': %s",
			    c->path, dir.buf, name.buf, strerror(-r));
	return r;
}

/*
 * The blobs one cache_store() call put in the store, so that a store that
 * fails (ENOSPC writing the entry) takes them back: nothing names them,
 * and gc would leave them for 10 minutes, keeping a full disk full. A
 * blob whose mtime moved since was found present by a concurrent store
 * (blob_present() refreshes it), which may be about to name it: kept.
 */
struct new_blobs {
	struct pc_hash *h;
	struct timespec *mtime;
	size_t nr, alloc;
};

static void new_blobs_add(struct cache *c, struct new_blobs *nb,
			  const struct pc_hash *h)
{
	_cleanup_strbuf_ struct strbuf rel = STRBUF_INIT;
	struct stat st;

	cache_blob_relpath(h, &rel);
	if (fstatat(c->blobs_fd, rel.buf, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (nb->nr == nb->alloc) {
		nb->alloc = nb->alloc ? 2 * nb->alloc : 8;
		nb->h = xrealloc(nb->h, nb->alloc * sizeof(*nb->h));
		nb->mtime = xrealloc(nb->mtime, nb->alloc * sizeof(*nb->mtime));
	}
	nb->h[nb->nr] = *h;
	nb->mtime[nb->nr++] = st.st_mtim;
}

static int new_blobs_drop(struct cache *c, struct new_blobs *nb, int ret)
{
	for (size_t i = 0; i < nb->nr; i++) {
		_cleanup_strbuf_ struct strbuf rel = STRBUF_INIT;
		struct stat st;

		cache_blob_relpath(&nb->h[i], &rel);
		if (fstatat(c->blobs_fd, rel.buf, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    st.st_mtim.tv_sec == nb->mtime[i].tv_sec &&
		    st.st_mtim.tv_nsec == nb->mtime[i].tv_nsec)
			unlinkat(c->blobs_fd, rel.buf, 0);
	}
	return ret;
}

/*
 * The store failed: give every captured file that was moved into blobs/
 * its name in the run directory back (a hard link: a blob that other
 * entries share stays), so that the run's changes can still be applied
 * from there. A failure here is only said in @err; that file is then lost.
 */
static void restore_captured(struct cache *c, struct cache_entry *e,
			     struct strbuf *err)
{
	for (size_t i = 0; i < e->nr_ch; i++) {
		_cleanup_strbuf_ struct strbuf rel = STRBUF_INIT;
		struct change *ch = &e->ch[i];

		if (ch->kind != CHANGE_FILE || !ch->has_blob || !ch->src ||
		    faccessat(AT_FDCWD, ch->src, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ||
		    errno != ENOENT)
			continue;
		cache_blob_relpath(&ch->blob, &rel);
		if (linkat(c->blobs_fd, rel.buf, AT_FDCWD, ch->src, 0) < 0)
			strbuf_addf(err, "; cannot put '%s' back: %s", ch->src,
				    strerror(errno));
	}
}

static void new_blobs_release(struct new_blobs *nb)
{
	free(nb->h);
	free(nb->mtime);
}

int cache_store(struct cache *c, struct cache_record *r,
		struct cache_entry **stored, struct strbuf *err)
{
	__attribute__((cleanup(new_blobs_release))) struct new_blobs nb = { 0 };
	_cleanup_strbuf_ struct strbuf data = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf rel = STRBUF_INIT;
	struct cache_entry *e = &r->e;
	uint64_t added, total_added = 0;
	struct stat st;
	bool existed;
	size_t i;
	int ret;

	if (stored)
		*stored = NULL;
	ret = record_check(r, err);
	if (ret < 0)
		return ret;

	/* Blobs first: an entry never names a blob that is not whole. */
	for (i = 0; i < 2; i++) {
		if (e->out[i].src) {
			ret = blob_store_file(c, e->out[i].src, &e->out[i].hash,
					      &e->out[i].size, &added, err);
			total_added += added;
			if (ret == 0 && added)
				new_blobs_add(c, &nb, &e->out[i].hash);
		} else {
			ret = blob_store_empty(c, &e->out[i].hash, err);
			e->out[i].size = 0;
		}
		if (ret < 0)
			return new_blobs_drop(c, &nb, ret);
	}
	struct progress prog;
	progress_start(&prog, "storing", e->nr_ch, PROGRESS_COUNT);
	for (i = 0; i < e->nr_ch; i++) {
		struct change *ch = &e->ch[i];

		progress_update(&prog, i + 1);
		if (ch->kind != CHANGE_FILE)
			continue;
		ret = blob_store_file(c, ch->src, &ch->blob, &ch->size, &added,
				      err);
		if (ret < 0) {
			progress_done(&prog);
			restore_captured(c, e, err);
			return new_blobs_drop(c, &nb, ret);
		}
		ch->has_blob = true;
		total_added += added;
		if (added)
			new_blobs_add(c, &nb, &ch->blob);
	}
	progress_done(&prog);

	e->created = (int64_t)time(NULL);
	entry_encode(e, &data);
	store_entry_relpath(e->key_hex, e->id_hex, &rel);
	existed = fstatat(c->keys_fd, rel.buf, &st, AT_SYMLINK_NOFOLLOW) == 0;
	ret = write_entry(c, e->key_hex, e->id_hex, &data, err);
	if (ret < 0) {
		restore_captured(c, e, err);
		return new_blobs_drop(c, &nb, ret);
	}
	total_added += data.len;
	if (existed)
		total_added -= (uint64_t)st.st_size < total_added
				       ? (uint64_t)st.st_size
				       : total_added;
	stats_count_store(c, (int64_t)total_added);

	if (stored) {
		struct cache_entry *out;

		ret = entry_decode(data.buf, data.len, &out, err);
		if (ret < 0)
			BUG("cannot decode the entry just encoded: %s", err->buf);
		memcpy(out->id_hex, e->id_hex, sizeof(out->id_hex));
		memcpy(out->name, e->name, sizeof(out->name));
		out->mtime = e->created;
		out->file_size = data.len;
		*stored = out;
	}
	store_maybe_gc(c);
	return 0;
}

/*
 * The cache directory (its layout: the top of cache/layout.c): creating
 * it, the FORMAT file that marks it as ours and that refuses any other
 * format, and struct cache (open, close, accessors).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/cache.h"
#include "cache/internal.h"
#include "common/cleanup.h"
#include "common/die.h"
#include "common/fdio.h"
#include "common/path.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

static const char cachedir_tag[] =
	"Signature: 8a477f597d28d172789f06886806bc55\n"
	"# This file is a cache directory tag created by procache.\n"
	"# For information about cache directory tags, see:\n"
	"#\thttps://bford.info/cachedir/\n";

static const char *const subdirs[] = { "blobs", "keys", "stats", "run", "tmp" };

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
		"tmp", "statcache", "gc.lock", "hostfacts", "filters",
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
		    layout_is_tmp(de->d_name))
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

int cache_open(const char *dir, uint64_t max_size, struct cache **out,
	       struct strbuf *err)
{
	struct cache *c;
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
			r = fds[i] ? cache_open_dir_at(c->dirfd, subdirs[i]) : -ENOENT;
			if (r == -ENOENT) {
				if (mkdirat(c->dirfd, subdirs[i], 0700) < 0 && errno != EEXIST) {
					r = -errno;
					strbuf_addf(err, "cannot create '%s/%s': %s", dir,
						    subdirs[i], strerror(-r));
					goto fail;
				}
				r = fds[i] ? cache_open_dir_at(c->dirfd, subdirs[i]) : 0;
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
	c->max_size = max_size;
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
	free(c->base_dir);
	strv_free(c->hidden);
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

void cache_set_max_size(struct cache *c, uint64_t bytes)
{
	c->max_size = bytes;
}

uint64_t cache_max_size(const struct cache *c)
{
	return c->max_size;
}

void cache_set_base_dir(struct cache *c, const char *dir)
{
	free(c->base_dir);
	c->base_dir = dir ? xstrdup(dir) : NULL;
}

void cache_set_hidden(struct cache *c, const char *const *paths, size_t nr)
{
	strv_free(c->hidden);
	c->hidden = xcalloc(nr + 1, sizeof(*c->hidden));
	for (size_t i = 0; i < nr; i++)
		c->hidden[i] = xstrdup(paths[i]);
	c->nr_hidden = nr;
}

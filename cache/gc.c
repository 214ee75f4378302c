/*
 * Removing things: gc (age and size limits, LRU by entry mtime, then
 * unreferenced blobs), the automatic gc after a store when the size limit
 * is exceeded, and clear.
 *
 * Ordering against concurrent runners (DESIGN.md section 6): a hit
 * touches its entry before reading its blobs, gc removes an entry before
 * its blobs, and a blob that is unreferenced but younger than
 * CACHE_GC_GRACE_S is kept (a store names its blobs, or touches the ones
 * already there, before it writes the entry that references them). gc
 * itself is serialised by flock on $CACHE/gc.lock.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache/cache.h"
#include "cache/internal.h"
#include "common/strmap.h"
#include "common/progress.h"
#include "common/cleanup.h"
#include "common/die.h"
#include "common/fdio.h"
#include "common/hash.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

static int gc_lock(struct cache *c, bool wait)
{
	int fd = openat(c->dirfd, "gc.lock",
			O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);

	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
		int r = -errno;

		if (r == -EINTR)
			continue;
		close(fd);
		return r == -EWOULDBLOCK ? -EBUSY : r;
	}
	return fd;
}

/* ---- gc --------------------------------------------------------------- */

struct gc_blob {
	char name[PC_HASH_HEX_LEN + 1];
	uint64_t size;
	time_t mtime;
	long refs;
	bool gone;
};

struct gc_entry {
	char *rel;
	int64_t mtime_ns;
	uint64_t size;
	long *blobs; /* indexes into the blob table, -1: not in the store */
	size_t nr_blobs;
};

struct gc_state {
	struct strmap *blob_index; /* hex -> index */
	struct gc_blob *blobs;
	size_t nr_blobs, alloc_blobs;
	struct gc_entry *entries;
	size_t nr_entries, alloc_entries;
	uint64_t corrupt_removed, corrupt_bytes;
};

static int gc_collect_entry(struct cache *c, const struct cache_walk_item *it,
			    void *data)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct gc_state *g = data;
	const struct pc_hash *h;
	struct cache_entry *e;
	struct gc_entry *ge;
	uint64_t size;
	size_t i = 0;
	int r = entryfile_read(c, it->rel, 0, &e, &err);

	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		if (r == -EBADMSG) {
			entryfile_drop(c, it->rel, err.buf);
			g->corrupt_removed++;
			g->corrupt_bytes += (uint64_t)it->st->st_size;
		}
		return 0;
	}
	ALLOC_GROW(g->entries, g->nr_entries + 1, g->alloc_entries);
	ge = &g->entries[g->nr_entries++];
	ge->rel = xstrdup(it->rel);
	ge->mtime_ns = (int64_t)it->st->st_mtim.tv_sec * 1000000000LL +
		       it->st->st_mtim.tv_nsec;
	ge->size = (uint64_t)it->st->st_size;
	ge->blobs = xcalloc(2 + e->nr_ch, sizeof(long));
	ge->nr_blobs = 0;
	while (entry_next_blob(e, &i, &h, &size)) {
		char hex[PC_HASH_HEX_LEN + 1];
		long idx;

		pc_hash_to_hex(h, hex);
		idx = strmap_get(g->blob_index, hex, PC_HASH_HEX_LEN);
		if (idx >= 0)
			g->blobs[idx].refs++;
		ge->blobs[ge->nr_blobs++] = idx;
	}
	cache_entry_free(e);
	return 0;
}

static int gc_collect_blob(struct cache *c, const struct cache_walk_item *it,
			   void *data)
{
	struct gc_state *g = data;
	struct gc_blob *b;

	(void)c;
	if (!S_ISREG(it->st->st_mode))
		return 0;
	ALLOC_GROW(g->blobs, g->nr_blobs + 1, g->alloc_blobs);
	b = &g->blobs[g->nr_blobs];
	memcpy(b->name, it->name, PC_HASH_HEX_LEN + 1);
	b->size = (uint64_t)it->st->st_size;
	b->mtime = it->st->st_mtime;
	b->refs = 0;
	b->gone = false;
	strmap_put(g->blob_index, it->name, PC_HASH_HEX_LEN, (long)g->nr_blobs);
	g->nr_blobs++;
	return 0;
}

static int gc_entry_cmp(const void *a, const void *b)
{
	const struct gc_entry *x = a, *y = b;

	if (x->mtime_ns != y->mtime_ns)
		return x->mtime_ns < y->mtime_ns ? -1 : 1;
	return strcmp(x->rel, y->rel);
}

static int walk_nothing(struct cache *c, const struct cache_walk_item *it,
			void *data)
{
	(void)c;
	(void)it;
	(void)data;
	return 0;
}

/*
 * Remove what in @dirfd is older than the grace (every name, or those
 * starting with @prefix): left by killed runners.
 */
static void clean_old_at(int dirfd, const char *prefix, time_t now)
{
	_cleanup_closedir_ DIR *d = cache_opendir_at(dirfd, ".");
	struct dirent *de;

	while (d && (de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (prefix && strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    st.st_mtime + CACHE_GC_GRACE_S < now)
			rm_rf_at(dirfd, de->d_name);
	}
}

static void clean_tmp(struct cache *c, time_t now)
{
	_cleanup_close_ int hf = -1;

	clean_old_at(c->tmp_fd, NULL, now);
	/* generated host facts are made as hostfacts/.tmp-* (layout.c) */
	hf = openat(c->dirfd, "hostfacts", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (hf >= 0)
		clean_old_at(hf, ".tmp-", now);
	/*
	 * A counter shard is rewritten through stats/.tmp.* on every run
	 * (write_file_atomic_at()): a runner killed in between leaves one.
	 */
	clean_old_at(c->stats_fd, ".tmp.", now);
	/*
	 * Compiled seccomp programs (sandbox/trace-filter.c): one per
	 * procache executable, so old builds' pile up; a run rebuilds its
	 * own in a few milliseconds.
	 */
	_cleanup_close_ int ff = openat(c->dirfd, "filters",
					O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (ff >= 0)
		clean_old_at(ff, NULL, now);
}

/* Remove @b if no entry references it any more and it is old enough. */
static void gc_drop_blob(struct cache *c, struct gc_blob *b, time_t now,
			 uint64_t *total, struct cache_gc_result *res)
{
	_cleanup_strbuf_ struct strbuf rel = STRBUF_INIT;

	if (b->refs > 0 || b->gone || b->mtime + CACHE_GC_GRACE_S > now)
		return;
	layout_blob_rel(b->name, &rel);
	if (unlinkat(c->blobs_fd, rel.buf, 0) == 0) {
		b->gone = true;
		*total -= b->size;
		res->blobs_removed++;
		res->bytes_removed += b->size;
	}
}

int cache_gc(struct cache *c, uint64_t max_size, uint64_t max_age,
	     struct cache_gc_result *res, struct strbuf *err)
{
	_cleanup_close_ int lock = -1;
	struct gc_state g = { 0 };
	time_t now = time(NULL);
	int64_t now_ns = (int64_t)now * 1000000000LL;
	uint64_t total = 0;
	size_t i, j;
	int r;

	memset(res, 0, sizeof(*res));
	lock = gc_lock(c, false);
	if (lock < 0) {
		strbuf_addf(err, lock == -EBUSY
					 ? "another gc is running on '%s'"
					 : "cannot lock '%s/gc.lock'",
			    c->path);
		return lock;
	}
	g.blob_index = strmap_new();
	/* blobs/ unreadable: no blob is known, so none is removed. */
	cache_walk_blobs(c, CACHE_WALK_CLEAN, gc_collect_blob, &g);
	r = cache_walk_entries(c, CACHE_WALK_CLEAN, gc_collect_entry, &g);
	if (r < 0) {
		strbuf_addf(err, "cannot walk the entries of '%s': %s", c->path,
			    strerror(-r));
		goto out;
	}
	res->entries_removed = g.corrupt_removed;
	res->bytes_removed = g.corrupt_bytes;

	for (i = 0; i < g.nr_blobs; i++)
		total += g.blobs[i].size;
	for (i = 0; i < g.nr_entries; i++)
		total += g.entries[i].size;

	if (g.nr_entries)
		qsort(g.entries, g.nr_entries, sizeof(*g.entries), gc_entry_cmp);
	struct progress prog;
	progress_start(&prog, "collecting", g.nr_entries, PROGRESS_COUNT);
	for (i = 0; i < g.nr_entries; i++) {
		struct gc_entry *ge = &g.entries[i];

		progress_update(&prog, i + 1);
		bool too_old = max_age &&
			       ge->mtime_ns + (int64_t)max_age * 1000000000LL < now_ns;
		bool too_big = max_size && total > max_size;

		if (!too_old && !too_big) {
			res->entries_kept++;
			continue;
		}
		/* The entry first, then the blobs only it referenced. */
		r = entryfile_remove(c, ge->rel);
		if (r < 0 && r != -ENOENT)
			continue;
		total -= ge->size;
		res->entries_removed++;
		res->bytes_removed += ge->size;
		for (j = 0; j < ge->nr_blobs; j++) {
			if (ge->blobs[j] < 0)
				continue;
			g.blobs[ge->blobs[j]].refs--;
			gc_drop_blob(c, &g.blobs[ge->blobs[j]], now, &total, res);
		}
	}
	/* Blobs no entry references (left by removed or damaged entries). */
	for (i = 0; i < g.nr_blobs; i++)
		gc_drop_blob(c, &g.blobs[i], now, &total, res);
	/* Empty key directories go on the next walk; do one now. */
	cache_walk_entries(c, CACHE_WALK_CLEAN, walk_nothing, NULL);
	clean_tmp(c, now);
	res->bytes_kept = total;
	stats_set_bytes(c, total);
	r = 0;
	progress_done(&prog);
out:
	for (i = 0; i < g.nr_entries; i++) {
		free(g.entries[i].rel);
		free(g.entries[i].blobs);
	}
	free(g.entries);
	free(g.blobs);
	strmap_free(g.blob_index);
	return r;
}

void gc_after_store(struct cache *c)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct cache_gc_result res;
	int64_t counted;
	int r;

	if (!c->max_size)
		return;
	counted = stats_counted_bytes(c);
	if (counted <= 0 || (uint64_t)counted <= c->max_size)
		return;
	/* Down to 90%, so that the next stores do not each trigger a gc. */
	r = cache_gc(c, c->max_size / 10 * 9, 0, &res, &err);
	if (r < 0 && r != -EBUSY)
		warn("automatic cache cleanup failed: %s", err.buf);
}

void cache_gc_if_over(struct cache *c)
{
	gc_after_store(c);
}

/* ---- clear ------------------------------------------------------------ */

static int empty_dir(int dirfd)
{
	_cleanup_closedir_ DIR *d = cache_opendir_at(dirfd, ".");
	struct dirent *de;
	int r = 0, q;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		q = rm_rf_at(dirfd, de->d_name);
		if (q < 0 && q != -ENOENT && !r)
			r = q;
	}
	return r;
}

int cache_clear(struct cache *c, struct strbuf *err)
{
	_cleanup_close_ int lock = gc_lock(c, true);
	int r;

	if (lock < 0) {
		strbuf_addf(err, "cannot lock '%s/gc.lock': %s", c->path,
			    strerror(-lock));
		return lock;
	}
	/* Entries before blobs, as gc does. */
	r = empty_dir(c->keys_fd);
	if (!r)
		r = empty_dir(c->blobs_fd);
	if (!r)
		r = empty_dir(c->stats_fd);
	if (!r)
		r = empty_dir(c->tmp_fd);
	if (r < 0)
		strbuf_addf(err, "cannot empty cache '%s': %s", c->path,
			    strerror(-r));
	return r;
}

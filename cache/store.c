/*
 * Storing a record after a miss (cache_store()): the record checked,
 * every blob first (each complete before it has its name), then the entry
 * (temp file + rename into keys/ab/<key>/<id>.entry), the size counter,
 * and the automatic gc when the size limit is exceeded. A store that
 * fails takes back the blobs it added and gives the run its captured
 * files back, so that the run can still be applied uncached.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache/cache.h"
#include "cache/internal.h"
#include "common/cleanup.h"
#include "common/die.h"
#include "common/fdio.h"
#include "common/hash.h"
#include "common/progress.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

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

/* The index of @h in @nb (a blob this store added), or -1. */
static long new_blobs_find(const struct new_blobs *nb, const struct pc_hash *h)
{
	for (size_t i = 0; i < nb->nr; i++)
		if (pc_hash_equal(&nb->h[i], h))
			return (long)i;
	return -1;
}

/*
 * The store failed: give every captured file that was moved into blobs/
 * its name in the run directory back, so that the run's changes can still
 * be applied from there. A hard link first: a blob other entries share
 * stays. When the link fails (it needs an inode on tmpfs, a directory
 * entry on a full disk) and the blob is this store's own (@nb: nothing
 * names it yet), the blob is renamed back, which needs neither. A file
 * neither puts back is said in @err, with the blob that still holds its
 * bytes (kept: new_blobs_drop() then leaves it alone); the caller applies
 * the rest.
 */
static void restore_captured(struct cache *c, struct cache_entry *e,
			     struct new_blobs *nb, struct strbuf *err)
{
	/* back[k]: where blob nb->h[k] was renamed back to, if it was */
	_cleanup_free_ const char **back = xcalloc(nb->nr + 1, sizeof(*back));

	for (size_t i = 0; i < e->nr_ch; i++) {
		_cleanup_strbuf_ struct strbuf rel = STRBUF_INIT;
		struct change *ch = &e->ch[i];
		long own;
		int r;

		if (ch->kind != CHANGE_FILE || !ch->has_blob || !ch->src ||
		    faccessat(AT_FDCWD, ch->src, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ||
		    errno != ENOENT)
			continue;
		cache_blob_relpath(&ch->blob, &rel);
		if (linkat(c->blobs_fd, rel.buf, AT_FDCWD, ch->src, 0) == 0)
			continue;
		r = errno;
		own = new_blobs_find(nb, &ch->blob);
		if (own >= 0 && back[own]) {
			/* renamed back to another change's path already */
			if (linkat(AT_FDCWD, back[own], AT_FDCWD, ch->src, 0) == 0)
				continue;
			r = errno;
			strbuf_addf(err, "; cannot put '%s' back (its bytes are in '%s'): %s",
				    ch->src, back[own], strerror(r));
			continue;
		}
		if (own >= 0 &&
		    renameat(c->blobs_fd, rel.buf, AT_FDCWD, ch->src) == 0) {
			back[own] = ch->src;
			continue;
		}
		if (own >= 0)
			nb->mtime[own].tv_nsec = -1;	/* never equal: kept */
		strbuf_addf(err, "; cannot put '%s' back (its bytes stay in '%s/blobs/%s'): %s",
			    ch->src, c->path, rel.buf, strerror(r));
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
			ret = blob_put_file(c, e->out[i].src, NULL, r->copy_files,
					    &e->out[i].hash, &e->out[i].size,
					    &added, err);
			total_added += added;
			if (ret == 0 && added)
				new_blobs_add(c, &nb, &e->out[i].hash);
		} else {
			ret = blob_put_empty(c, &e->out[i].hash, err);
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
		ret = blob_put_file(c, ch->src, ch->path, r->copy_files,
				    &ch->blob, &ch->size, &added, err);
		if (ret < 0) {
			progress_done(&prog);
			if (!r->copy_files)
				restore_captured(c, e, &nb, err);
			return new_blobs_drop(c, &nb, ret);
		}
		ch->has_blob = true;
		total_added += added;
		if (added)
			new_blobs_add(c, &nb, &ch->blob);
	}
	progress_done(&prog);

	e->created = (int64_t)time(NULL);
	if (r->relocatable && c->base_dir)
		entry_paths_relativize(e, c->base_dir);
	entry_encode(e, &data);
	layout_entry_rel(e->key_hex, e->id_hex, &rel);
	existed = fstatat(c->keys_fd, rel.buf, &st, AT_SYMLINK_NOFOLLOW) == 0;
	ret = entryfile_write(c, e->key_hex, e->id_hex, &data, err);
	if (ret < 0) {
		/* copy mode: the captured files never moved */
		if (!r->copy_files)
			restore_captured(c, e, &nb, err);
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
		entry_rebase(c, out);
		memcpy(out->id_hex, e->id_hex, sizeof(out->id_hex));
		memcpy(out->name, e->name, sizeof(out->name));
		out->mtime = e->created;
		out->file_size = data.len;
		*stored = out;
	}
	if (!r->no_gc)
		gc_after_store(c);
	return 0;
}

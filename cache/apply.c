/*
 * The glue between entries and materialization: an entry's changes as the
 * plain array mat_apply() takes, the regular files read from blobs/.
 */
#include <stdlib.h>

#include "cache/cache.h"
#include "cache/internal.h"
#include "cache/materialize.h"
#include "common/die.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

/* Apply @e's changes beneath @roots, or into the view @root_fd when
 * @roots is NULL. */
static int entry_apply(struct cache *c, const struct cache_entry *e,
		       const char *const *roots, int root_fd, unsigned flags,
		       struct mat_report *rep, struct strbuf *err)
{
	struct mat_change *ch = xcalloc(e->nr_ch ? e->nr_ch : 1, sizeof(*ch));
	struct strbuf *rel = xcalloc(e->nr_ch ? e->nr_ch : 1, sizeof(*rel));
	size_t i;
	int r;

	for (i = 0; i < e->nr_ch; i++) {
		const struct change *src = &e->ch[i];

		strbuf_init(&rel[i], 0);
		ch[i].kind = src->kind;
		ch[i].path = src->path;
		ch[i].mode = src->mode;
		ch[i].target = src->target;
		ch[i].src_dirfd = -1;
		/* the attributes the path ends with: exactly these (§7) */
		if (src->kind != CHANGE_DELETE)
			ch[i].xattrs = &src->xattrs;
		/*
		 * A unit's files (applied beneath a view's root) get their
		 * recorded times exactly: a later unit of the same run
		 * that stats them (stdio's first read does) recorded those
		 * times, and with fresh ones would miss after every skip
		 * of the unit before it (DESIGN §13.4).
		 */
		if (src->has_times) {
			ch[i].times = src->exact_times || !roots ? MAT_TIMES_EXACT
								 : MAT_TIMES_FRESH;
			ch[i].mtime_ns = src->mtime_ns;
			ch[i].atime_ns = src->atime_ns;
		}
		if (src->has_blob) {
			cache_blob_relpath(&src->blob, &rel[i]);
			ch[i].src_dirfd = c->blobs_fd;
			ch[i].src_path = rel[i].buf;
			ch[i].hash = src->blob;
			ch[i].has_hash = true;
			ch[i].size = (off_t)src->size;
		}
	}
	r = roots ? mat_apply(ch, e->nr_ch, roots, flags, rep, err)
		  : mat_apply_at(ch, e->nr_ch, root_fd, flags, rep, err);
	for (i = 0; i < e->nr_ch; i++)
		strbuf_release(&rel[i]);
	free(rel);
	free(ch);
	return r;
}

int cache_entry_apply(struct cache *c, const struct cache_entry *e,
		      const char *const *roots, unsigned flags,
		      struct mat_report *rep, struct strbuf *err)
{
	if (!roots) {
		mat_report_release(rep);
		strbuf_addstr(err, "cannot apply changes: no output roots");
		return -EINVAL;
	}
	return entry_apply(c, e, roots, -1, flags, rep, err);
}

int cache_entry_apply_at(struct cache *c, const struct cache_entry *e,
			 int root_fd, unsigned flags, struct mat_report *rep,
			 struct strbuf *err)
{
	/*
	 * A unit's entry is never base-relative (cache_lookup_at() skips
	 * those); one that is would name paths relative to no view.
	 */
	if (e->base_relative) {
		mat_report_release(rep);
		strbuf_addstr(err, "cannot apply a base-relative entry into a view");
		return -EINVAL;
	}
	/* one thread: the caller's, whose fsuid/fsgid own what is made */
	return entry_apply(c, e, NULL, root_fd, flags | MAT_SERIAL, rep, err);
}

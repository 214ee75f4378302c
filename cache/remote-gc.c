/*
 * `procache cache gc --remote` (contract in cache/remote.h, design in
 * DESIGN.md section 11, eviction): age-based collection of an HTTP
 * remote through WebDAV (PROPFIND to list with the upload times, DELETE),
 * in the local cache's order — entries first, then the blobs no
 * remaining entry names. Redis needs none: its keys carry remote.ttl.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/cache.h"
#include "cache/internal.h"
#include "cache/remote-internal.h"
#include "cache/remote.h"
#include "common/cleanup.h"
#include "common/die.h"
#include "common/hash.h"
#include "common/strbuf.h"
#include "common/strmap.h"
#include "common/xalloc.h"
#include "common/banned.h"

struct gc {
	struct remote_backend *b;
	const struct remote_ops *ops;
	int64_t cutoff, blob_cutoff;
	struct strmap refs;	/* blobs named by the entries kept */
	struct cache_remote_gc_result *res;
	struct strbuf *err;
};

static bool all_hex(const char *s, size_t len)
{
	if (strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Undated (mtime 0) is never old: what cannot be dated is kept. */
static bool older(const struct remote_listing_item *it, int64_t cutoff)
{
	return it->mtime > 0 && it->mtime < cutoff;
}

/* List @rel: 0 (an absent directory lists empty) or the server's -errno. */
static int list(struct gc *g, const char *rel, struct remote_listing *l)
{
	int r = g->ops->list(g->b, rel, l, g->err);

	return r == -ENOENT ? 0 : r;
}

/* An entry kept: the blobs it names go into g->refs. */
static int keep_entry(struct gc *g, const char *key_hex, const char *id)
{
	_cleanup_strbuf_ struct strbuf data = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf name = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf why = STRBUF_INIT;
	struct remote_sink sink = { .buf = &data, .fd = -1, .max = (uint64_t)64 << 20 };
	struct cache_entry *e;
	const struct pc_hash *h;
	uint64_t size;
	size_t i = 0;
	int r;

	strbuf_addf(&name, "%s/%s", key_hex, id);
	r = g->ops->get(g->b, REMOTE_ENTRY, name.buf, &sink, g->err);
	if (r == -ENOENT)
		return 0;	/* removed meanwhile */
	if (r < 0 && r != -EFBIG)
		return r;
	if (r == -EFBIG || remote_entry_check(data.buf, data.len, key_hex, id, &e, &why) < 0) {
		/* A newer procache's entry, or garbage: its blobs are unknown. */
		if (!g->res->unsure)
			g->res->unsure = xasprintf("entry %s cannot be read (%s)", name.buf,
						   why.len ? why.buf : "too large");
		g->res->entries_kept++;
		return 0;
	}
	while (entry_next_blob(e, &i, &h, &size)) {
		char hex[PC_HASH_HEX_LEN + 1];

		pc_hash_to_hex(h, hex);
		strmap_add(&g->refs, hex);
	}
	cache_entry_free(e);
	g->res->entries_kept++;
	return 0;
}

/* The key directory k/@fan/@key_hex/. */
static int collect_key(struct gc *g, const char *fan, const char *key_hex)
{
	_cleanup_strbuf_ struct strbuf dir = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf rel = STRBUF_INIT;
	struct remote_listing l = { 0 };
	const struct remote_listing_item *index = NULL;
	size_t kept = 0;
	int r;

	strbuf_addf(&dir, "k/%s/%s/", fan, key_hex);
	if ((r = list(g, dir.buf, &l)) < 0)
		goto out;
	for (size_t i = 0; i < l.nr; i++) {
		const struct remote_listing_item *it = &l.v[i];

		if (it->dir)
			continue;
		if (!strcmp(it->name, "index")) {
			index = it;
			continue;
		}
		if (!remote_id_valid(it->name, strlen(it->name)))
			continue;
		if (!older(it, g->cutoff)) {
			kept++;
			if ((r = keep_entry(g, key_hex, it->name)) < 0)
				goto out;
			continue;
		}
		strbuf_reset(&rel);
		strbuf_addf(&rel, "%s%s", dir.buf, it->name);
		if ((r = g->ops->del(g->b, rel.buf, g->err)) < 0)
			goto out;
		g->res->entries_removed++;
	}
	/*
	 * The index is rewritten at every upload to the key: one as old as
	 * the cutoff names no entry uploaded since (a newer one keeps it).
	 */
	if (index && !kept && older(index, g->cutoff)) {
		strbuf_reset(&rel);
		strbuf_addf(&rel, "%sindex", dir.buf);
		if ((r = g->ops->del(g->b, rel.buf, g->err)) < 0)
			goto out;
		g->res->indexes_removed++;
	}
out:
	remote_listing_release(&l);
	return r;
}

/* Each item of @rel that is a directory named by @len hex digits. */
static int each_dir(struct gc *g, const char *rel, size_t len,
		    int (*fn)(struct gc *g, const char *parent, const char *name))
{
	struct remote_listing l = { 0 };
	int r = list(g, rel, &l);

	for (size_t i = 0; r == 0 && i < l.nr; i++)
		if (l.v[i].dir && all_hex(l.v[i].name, len))
			r = fn(g, rel, l.v[i].name);
	remote_listing_release(&l);
	return r;
}

static int key_dir(struct gc *g, const char *parent, const char *name)
{
	/* parent: "k/ab/" */
	_cleanup_free_ char *fan = xstrndup(parent + 2, 2);

	return collect_key(g, fan, name);
}

static int key_fan(struct gc *g, const char *parent, const char *name)
{
	_cleanup_free_ char *rel = xasprintf("%s%s/", parent, name);

	return each_dir(g, rel, PC_HASH_HEX_LEN, key_dir);
}

/* The blobs of b/@name/ that no entry kept names and that are old. */
static int blob_fan(struct gc *g, const char *parent, const char *name)
{
	_cleanup_free_ char *rel = xasprintf("%s%s/", parent, name);
	_cleanup_strbuf_ struct strbuf obj = STRBUF_INIT;
	struct remote_listing l = { 0 };
	int r = list(g, rel, &l);

	for (size_t i = 0; r == 0 && i < l.nr; i++) {
		const struct remote_listing_item *it = &l.v[i];

		if (it->dir || !all_hex(it->name, PC_HASH_HEX_LEN))
			continue;
		if (strmap_has(&g->refs, it->name) || !older(it, g->blob_cutoff)) {
			g->res->blobs_kept++;
			continue;
		}
		strbuf_reset(&obj);
		strbuf_addf(&obj, "%s%s", rel, it->name);
		if ((r = g->ops->del(g->b, obj.buf, g->err)) == 0)
			g->res->blobs_removed++;
	}
	remote_listing_release(&l);
	return r;
}

int cache_remote_gc(struct cache_remote *rm, uint64_t max_age_s,
		    struct cache_remote_gc_result *res, struct strbuf *err)
{
	const struct remote_target *t;
	struct gc g = { .res = res, .err = err };
	int64_t now = (int64_t)time(NULL);
	int r;

	memset(res, 0, sizeof(*res));
	if (cache_remote_read_only(rm))
		return strbuf_error(err, -EPERM, "remote '%s' is read-only: not collected",
				    cache_remote_display(rm));
	if ((r = remote_connect(rm, &g.b, &g.ops, &t, err)) < 0)
		return r;
	if (!g.ops->list || !g.ops->del) {
		res->by_ttl = true;
		res->ttl_s = t->ttl_s;
		return 0;
	}
	if (!max_age_s)
		return strbuf_error(err, -EINVAL, "collecting the remote '%s' needs --max-age",
				    cache_remote_display(rm));
	g.cutoff = now - (int64_t)max_age_s;
	g.blob_cutoff = now - REMOTE_GC_GRACE_S;
	strmap_init(&g.refs);
	r = each_dir(&g, "k/", 2, key_fan);
	if (r == 0 && !res->unsure)
		r = each_dir(&g, "b/", 2, blob_fan);
	strmap_release(&g.refs);
	return r;
}

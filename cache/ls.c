/*
 * Listing the cache: `cache ls` (every entry, most recently used first,
 * with its command, size and hits) and finding an entry by name for
 * `cache show` ("last", "<key>/<id>", or an unambiguous prefix).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cache/cache.h"
#include "cache/internal.h"
#include "common/cleanup.h"
#include "common/hash.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

static void shell_quote(struct strbuf *sb, const char *s, size_t len)
{
	size_t i;
	bool plain = len > 0;

	for (i = 0; i < len; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789-_./=:,+@%", s[i]) || !s[i])
			plain = false;
	if (plain) {
		strbuf_add(sb, s, len);
		return;
	}
	strbuf_addch(sb, '\'');
	for (i = 0; i < len; i++) {
		if (s[i] == '\'')
			strbuf_addstr(sb, "'\\''");
		else
			strbuf_addch(sb, s[i]);
	}
	strbuf_addch(sb, '\'');
}

static char *entry_command(const struct cache_entry *e)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < e->nr_fields; i++) {
		if (strcmp(e->fields[i].tag, "argv"))
			continue;
		if (sb.len)
			strbuf_addch(&sb, ' ');
		shell_quote(&sb, e->fields[i].data, e->fields[i].len);
	}
	return strbuf_detach(&sb, NULL);
}

static uint64_t entry_total_size(const struct cache_entry *e)
{
	const struct pc_hash *h;
	uint64_t n = e->file_size, size;
	size_t i = 0;

	while (entry_next_blob(e, &i, &h, &size))
		n += size;
	return n;
}

struct ls_state {
	struct cache_ls_item *items;
	size_t nr, alloc;
};

static int ls_one(struct cache *c, const struct cache_walk_item *wi,
		  void *data)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct ls_state *ls = data;
	struct cache_ls_item *it;
	struct cache_entry *e;
	int r = entryfile_read(c, wi->rel, 0, &e, &err);

	if (r == -ENOENT)
		return 0;
	ALLOC_GROW(ls->items, ls->nr + 1, ls->alloc);
	it = &ls->items[ls->nr++];
	memset(it, 0, sizeof(*it));
	it->last_use = wi->st->st_mtime;
	it->hits = entryfile_hits(c, wi->rel);
	if (r < 0) {
		it->id = xstrdup(wi->id);
		it->command = xasprintf("(unreadable: %s)", err.buf);
		it->corrupt = true;
		it->size = (uint64_t)wi->st->st_size;
		return 0;
	}
	it->id = xstrdup(e->name);
	it->command = entry_command(e);
	it->unit = cache_entry_is_unit(e);
	it->created = e->created;
	it->size = entry_total_size(e);
	cache_entry_free(e);
	return 0;
}

static int ls_cmp(const void *a, const void *b)
{
	const struct cache_ls_item *x = a, *y = b;

	if (x->last_use != y->last_use)
		return x->last_use > y->last_use ? -1 : 1;
	return strcmp(x->id, y->id);
}

int cache_ls(struct cache *c, struct cache_ls_item **items, size_t *nr,
	     struct strbuf *err)
{
	struct ls_state ls = { 0 };
	int r = cache_walk_entries(c, 0, ls_one, &ls);

	if (r < 0) {
		strbuf_addf(err, "cannot list the entries of '%s': %s", c->path,
			    strerror(-r));
		cache_ls_free(ls.items, ls.nr);
		return r;
	}
	if (ls.nr)
		qsort(ls.items, ls.nr, sizeof(*ls.items), ls_cmp);
	*items = ls.items;
	*nr = ls.nr;
	return 0;
}

void cache_ls_free(struct cache_ls_item *items, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		free(items[i].id);
		free(items[i].command);
	}
	free(items);
}

/* ---- load by name ----------------------------------------------------- */

struct find_state {
	const char *name;
	char *match; /* rel of the first match */
	size_t nr;
	int64_t newest_ns;
};

/* "last": the entry used last, i.e. with the newest mtime (a store
 * creates it, a hit touches it). */
static int find_newest(struct cache *c, const struct cache_walk_item *it,
		       void *data)
{
	struct find_state *f = data;
	int64_t ns = (int64_t)it->st->st_mtim.tv_sec * 1000000000LL +
		     it->st->st_mtim.tv_nsec;

	(void)c;
	if (!f->nr || ns > f->newest_ns) {
		free(f->match);
		f->match = xstrdup(it->rel);
		f->newest_ns = ns;
		f->nr = 1;
	}
	return 0;
}

/* @f->name is a prefix of "<key>/<id>" or of "<id>". */
static int find_one(struct cache *c, const struct cache_walk_item *it,
		    void *data)
{
	struct find_state *f = data;
	const char *id = it->id + PC_HASH_HEX_LEN + 1;
	size_t len = strlen(f->name);

	(void)c;
	if ((len <= ENTRY_NAME_LEN && !strncmp(it->id, f->name, len)) ||
	    (len <= ENTRY_ID_LEN && !strncmp(id, f->name, len))) {
		if (!f->nr++)
			f->match = xstrdup(it->rel);
	}
	return 0;
}

int cache_entry_load(struct cache *c, const char *name,
		     struct cache_entry **out, struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf why = STRBUF_INIT;
	struct find_state f = { .name = name };
	int r = 0;

	*out = NULL;
	if (!strcmp(name, "last")) {
		r = cache_walk_entries(c, 0, find_newest, &f);
		if (r == 0 && !f.nr) {
			strbuf_addf(err, "no entry in cache '%s'", c->path);
			return -ENOENT;
		}
	} else {
		if (!*name || strspn(name, "0123456789abcdef/") != strlen(name)) {
			strbuf_addf(err, "'%s' is not an entry name (KEY/ID, an unambiguous prefix, an ID or 'last')",
				    name);
			return -ENOENT;
		}
		r = cache_walk_entries(c, 0, find_one, &f);
	}
	if (r < 0) {
		strbuf_addf(err, "cannot walk the entries of '%s': %s", c->path,
			    strerror(-r));
		free(f.match);
		return r;
	}
	if (f.nr == 0) {
		strbuf_addf(err, "no cache entry '%s'", name);
		return -ENOENT;
	}
	if (f.nr > 1) {
		strbuf_addf(err, "cache entry name '%s' is ambiguous (%zu entries)",
			    name, f.nr);
		free(f.match);
		return -EEXIST;
	}
	r = entryfile_read(c, f.match, 0, out, &why);
	if (r < 0)
		strbuf_addf(err, "cannot load cache entry '%s': %s", name,
			    r == -ENOENT ? "it was removed" : why.buf);
	free(f.match);
	return r;
}

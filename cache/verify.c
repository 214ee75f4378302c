/*
 * `procache cache verify [--fix]`: every entry is read and decoded
 * (envelope, checksum, format, paths, key), every blob it references is
 * checked present and of the right size, and every blob in the store is
 * rehashed (its name is its hash). Problems are reported one per line; with
 * fix, bad entries and bad blobs are removed (a bad blob's entries then
 * fail their next lookup and are removed too, which is a miss, never a
 * wrong result).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/cache.h"
#include "cache/internal.h"
#include "common/strmap.h"
#include "common/progress.h"
#include "common/cleanup.h"
#include "common/die.h"
#include "common/hash.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

struct verify {
	bool fix;
	FILE *report;
	struct cache_verify_result *res;
	struct strmap *bad; /* hashes of the bad blobs */
	struct progress prog;
};

/* Blobs are fanned out in CACHE_NR_FANOUTS directories: progress counts
 * those. */
static void verify_progress(struct verify *v, const struct cache_walk_item *it)
{
	progress_update(&v->prog, it->fanouts < CACHE_NR_FANOUTS
					  ? it->fanouts
					  : CACHE_NR_FANOUTS);
}

static int verify_blob(struct cache *c, const struct cache_walk_item *it,
		       void *data)
{
	struct verify *v = data;
	struct pc_hash want;
	int r;

	verify_progress(v, it);
	if (it->kind == CACHE_WALK_STRAY) {
		/* "x" or "ab/x": the directory it is in, then its name */
		int dirlen = it->name == it->rel ? 0 : (int)(it->name - it->rel - 1);

		fprintf(v->report, "stray file in blobs/%.*s: '%s'\n", dirlen,
			it->rel, it->name);
		return 0;
	}
	if (pc_hash_from_hex(it->name, &want) < 0)
		BUG("blob name '%s' is not a hash", it->name);
	r = S_ISREG(it->st->st_mode)
		    ? blob_check(c, &want, (uint64_t)it->st->st_size, true)
		    : -EBADMSG;
	if (r == -ENOENT)
		return 0;
	if (r == 0) {
		v->res->blobs_ok++;
		return 0;
	}
	v->res->blobs_bad++;
	strmap_put(v->bad, it->name, PC_HASH_HEX_LEN, 1);
	fprintf(v->report, "bad blob '%s': %s\n", it->name,
		r == -EBADMSG ? "content does not match its name" : strerror(-r));
	if (v->fix && unlinkat(it->dirfd, it->name, 0) == 0)
		v->res->fixed++;
	return 0;
}

static int verify_entry(struct cache *c, const struct cache_walk_item *it,
			void *data)
{
	_cleanup_strbuf_ struct strbuf why = STRBUF_INIT;
	struct verify *v = data;
	struct cache_entry *e;
	int r;

	verify_progress(v, it);
	r = entryfile_read(c, it->rel, 0, &e, &why);
	if (r == -ENOENT)
		return 0;
	if (r == 0) {
		const struct pc_hash *h;
		uint64_t size;
		size_t i = 0;

		while (!why.len && entry_next_blob(e, &i, &h, &size)) {
			char hex[PC_HASH_HEX_LEN + 1];
			int q;

			pc_hash_to_hex(h, hex);
			q = blob_check(c, h, size, false);
			if (q == 0 && strmap_get(v->bad, hex, PC_HASH_HEX_LEN) >= 0)
				q = -EBADMSG;
			if (q == 0)
				continue;
			strbuf_addf(&why, "%s blob %s",
				    q == -ENOENT ? "missing" : "bad", hex);
		}
		cache_entry_free(e);
	}
	if (!why.len) {
		v->res->entries_ok++;
		return 0;
	}
	v->res->entries_bad++;
	fprintf(v->report, "bad entry '%s': %s\n", it->id, why.buf);
	if (v->fix) {
		entryfile_remove(c, it->rel);
		v->res->fixed++;
	}
	return 0;
}

int cache_verify(struct cache *c, bool fix, FILE *report,
		 struct cache_verify_result *res, struct strbuf *err)
{
	struct verify v = { .fix = fix, .report = report, .res = res };

	(void)err;
	memset(res, 0, sizeof(*res));
	v.bad = strmap_new();
	/* Blobs first, so that the entries of a bad blob are bad too. */
	progress_start(&v.prog, "verifying blobs", CACHE_NR_FANOUTS,
		       PROGRESS_COUNT);
	cache_walk_blobs(c, CACHE_WALK_STRAYS, verify_blob, &v);
	progress_done(&v.prog);
	progress_start(&v.prog, "verifying entries", CACHE_NR_FANOUTS,
		       PROGRESS_COUNT);
	cache_walk_entries(c, 0, verify_entry, &v);
	progress_done(&v.prog);
	strmap_free(v.bad);
	return 0;
}

/*
 * The layout of the cache directory (DESIGN.md section 6), and the one
 * place where the names in it are built and checked (their lengths are
 * the constants of cache/internal.h):
 *
 *	$CACHE/CACHEDIR.TAG	the standard tag (bford.info/cachedir)
 *	$CACHE/FORMAT		CACHE_FORMAT_LINE; anything else is refused
 *				(cache/cachedir.c)
 *	$CACHE/blobs/ab/<32 hex>	a blob, named by the XXH3-128 of its
 *				bytes (ab = its first two hex digits), mode
 *				0444 (cache/blob.c)
 *	$CACHE/keys/ab/<32 hex key>/	the entries of one job key
 *	$CACHE/keys/ab/<key>/<16 hex id>.entry	an entry (the format:
 *				cache/entry.c; the files: cache/entryfile.c)
 *	$CACHE/keys/ab/<key>/<16 hex id>.hits	one byte appended per hit
 *				(its size is the hit count; O_APPEND, no lock)
 *	$CACHE/keys/ab/<key>/<16 hex id>.verified	the stats under which
 *				its content preconditions last held
 *				(cache/verified.c)
 *	$CACHE/statcache	the stat cache (cache/statcache.c)
 *	$CACHE/stats/<0..15>	the counters (cache/stats.c)
 *	$CACHE/gc.lock		flock'ed by gc and clear (cache/gc.c)
 *	$CACHE/remote-down	the remote that failed last (its URL without
 *				credentials) and, as its mtime, when: the next
 *				runs skip it for 30 s (cache/remote.c)
 *	$CACHE/run/		per-run state directories (sandbox/)
 *	$CACHE/hostfacts/<32 hex>/	generated host facts, one directory
 *				per distinct content (sandbox/hostfacts.c)
 *	$CACHE/filters/<32 hex>.bpf	compiled seccomp programs, one per
 *				procache executable and set of options
 *				(sandbox/trace-filter.c); gc removes old ones
 *	$CACHE/tmp/		temporary files, renamed into blobs/
 *
 * Files being written have a temporary name beginning with
 * CACHE_TMP_PREFIX in the directory they are renamed in.
 */
#include <stdbool.h>
#include <string.h>

#include "cache/cache.h"
#include "cache/internal.h"
#include "common/hash.h"
#include "common/strbuf.h"
#include "common/banned.h"

void layout_blob_rel(const char *hex, struct strbuf *out)
{
	strbuf_reset(out);
	strbuf_addf(out, "%.*s/%s", CACHE_FANOUT_LEN, hex, hex);
}

void cache_blob_relpath(const struct pc_hash *h, struct strbuf *out)
{
	char hex[PC_HASH_HEX_LEN + 1];

	pc_hash_to_hex(h, hex);
	layout_blob_rel(hex, out);
}

void layout_key_dir(const char *key_hex, struct strbuf *out)
{
	strbuf_reset(out);
	strbuf_addf(out, "%.*s/%s", CACHE_FANOUT_LEN, key_hex, key_hex);
}

void layout_entry_rel(const char *key_hex, const char *id_hex,
		      struct strbuf *out)
{
	layout_key_dir(key_hex, out);
	strbuf_addf(out, "/%s" ENTRY_SUFFIX, id_hex);
}

void layout_hits_rel(const char *entry_rel, struct strbuf *out)
{
	strbuf_reset(out);
	strbuf_add(out, entry_rel, strlen(entry_rel) - ENTRY_SUFFIX_LEN);
	strbuf_addstr(out, HITS_SUFFIX);
}

/* @name is <ENTRY_ID_LEN hex digits><@suffix>. */
static bool is_id_name(const char *name, const char *suffix)
{
	return strlen(name) == ENTRY_ID_LEN + strlen(suffix) &&
	       !strcmp(name + ENTRY_ID_LEN, suffix) &&
	       strspn(name, "0123456789abcdef") == ENTRY_ID_LEN;
}

bool layout_is_entry_file(const char *name)
{
	return is_id_name(name, ENTRY_SUFFIX);
}

bool layout_is_side_file(const char *name)
{
	return is_id_name(name, HITS_SUFFIX) || is_id_name(name, VERIFIED_SUFFIX);
}

bool layout_is_tmp(const char *name)
{
	return !strncmp(name, CACHE_TMP_PREFIX, strlen(CACHE_TMP_PREFIX));
}

bool layout_parse_entry_rel(const char *rel, char key[PC_HASH_HEX_LEN + 1],
			    char id[ENTRY_ID_LEN + 1])
{
	const char *kp = rel + CACHE_FANOUT_LEN + 1;
	struct pc_hash h;

	if (strlen(rel) != ENTRY_REL_LEN || rel[CACHE_FANOUT_LEN] != '/' ||
	    kp[PC_HASH_HEX_LEN] != '/' || memcmp(rel, kp, CACHE_FANOUT_LEN) ||
	    !layout_is_entry_file(kp + PC_HASH_HEX_LEN + 1))
		return false;
	memcpy(key, kp, PC_HASH_HEX_LEN);
	key[PC_HASH_HEX_LEN] = '\0';
	if (pc_hash_from_hex(key, &h) < 0)
		return false;
	memcpy(id, kp + PC_HASH_HEX_LEN + 1, ENTRY_ID_LEN);
	id[ENTRY_ID_LEN] = '\0';
	return true;
}

/*
 * The remote cache (DESIGN.md section 11): a second level behind the
 * local cache, on an HTTP server that takes PUT or on Redis. Entries and
 * blobs found there are copied into the local cache before they are
 * used (a backfill), so a remote hit is applied as a local hit is.
 *
 * Calling sequence (runner/remote.c, runner/run.c):
 *
 *	cache_remote_open(&cfg, &rm, &err);     // parses the URL; no I/O
 *	r = cache_lookup(c, k, ...);            // local first
 *	if (r == 0) cache_remote_lookup(c, rm, k, &hit);
 *	miss: ... cache_store(c, rec, &stored, &err); apply ...;
 *	      cache_remote_upload(c, rm, stored);
 *	cache_remote_close(rm);
 *
 * "Never worse than no remote": cache_remote_lookup() and
 * cache_remote_upload() never fail. The first failure of the server
 * (connection, timeout, an unexpected status or reply, a truncated body,
 * wrong credentials) disables the handle for the rest of the process with
 * one warning line; damaged or missing objects are misses. Their counts
 * go to the cache's counters (cache_stats_get()).
 *
 * The backend's library is loaded when the first request is made
 * (libcurl or libssl with dlopen; hiredis is linked statically), never by
 * cache_remote_open(). A handle is not thread-safe.
 */
#ifndef PROCACHE_CACHE_REMOTE_H
#define PROCACHE_CACHE_REMOTE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/strbuf.h"

struct cache;
struct cache_key;
struct cache_entry;
struct cache_remote;

struct cache_remote_config {
	const char *url;	/* http://, https://, redis://, rediss://; userinfo allowed */
	const char *user, *password;	/* override the URL's; may be NULL */
	const char *token;	/* HTTP: Authorization: Bearer; may be NULL */
	const char *ca_file;	/* TLS: a CA bundle; NULL: the system's */
	/* rediss://: a client certificate (PEM, with its chain) and its key
	 * (NULL: in the certificate's file), for servers that ask for one */
	const char *client_cert, *client_key;
	const char *prefix;	/* Redis: key prefix; NULL: "procache:" */
	uint64_t ttl_s;		/* Redis: expiry of written keys; 0: none */
	double connect_timeout_s; /* 0: 1 s */
	double timeout_s;	/* no progress for this long fails; 0: 5 s */
	bool read_only;		/* never write */
};

/*
 * Check @cfg and make a handle (strings are copied). -EINVAL with a
 * message for a URL that is not understood (scheme, host, port, Redis
 * database number). Nothing
 * is loaded or connected yet.
 */
int cache_remote_open(const struct cache_remote_config *cfg,
		      struct cache_remote **out, struct strbuf *err);
void cache_remote_close(struct cache_remote *rm);

/* The URL without its userinfo, for messages and `cache stats`. */
const char *cache_remote_display(const struct cache_remote *rm);
bool cache_remote_read_only(const struct cache_remote *rm);

/*
 * After a local miss: look @k up on the remote. The newest candidates are
 * fetched and checked (envelope, format, key, id) and their
 * preconditions checked on the host as local entries are; for the first
 * that holds, its missing blobs are downloaded and verified, and the
 * entry written to the local cache. Returns 1 and *@hit (a local entry
 * from then on: cache_entry_apply() and the rest as for a hit), or 0.
 */
int cache_remote_lookup(struct cache *c, struct cache_remote *rm,
			const struct cache_key *k, struct cache_entry **hit);

/*
 * After a miss stored @e (and its outputs were applied): put its blobs
 * the server lacks, then the entry, then add it to the key's index.
 * Nothing with a read-only or disabled handle.
 */
void cache_remote_upload(struct cache *c, struct cache_remote *rm,
			 const struct cache_entry *e);

/* What `cache gc --remote` did. */
struct cache_remote_gc_result {
	uint64_t entries_removed, entries_kept, indexes_removed;
	uint64_t blobs_removed, blobs_kept;
	bool by_ttl;		/* the server expires keys (Redis): nothing done */
	uint64_t ttl_s;		/* then: remote.ttl, 0 when none */
	char *unsure;		/* set (malloc'd): why no blob was removed */
};

/*
 * Collect the remote (DESIGN.md section 11, eviction): remove the entries
 * uploaded more than @max_age_s ago, an index whose entries are all gone
 * and that is that old itself, then the blobs that no remaining entry
 * names and that are older than REMOTE_GC_GRACE_S (an upload in
 * progress puts its blobs before its entry). On a server that expires
 * keys itself (Redis with remote.ttl) nothing is done and @res says so.
 * 0, or -errno with a message: -EPERM for a read-only handle, -EINVAL
 * without @max_age_s, a failure of the server (what was removed until
 * then stays removed: entries always go before the blobs they name).
 */
#define REMOTE_GC_GRACE_S 3600
int cache_remote_gc(struct cache_remote *rm, uint64_t max_age_s,
		    struct cache_remote_gc_result *res, struct strbuf *err);

#endif

/*
 * What cache/remote.c and its backends (cache/remote-http.c,
 * cache/remote-redis.c) share: the objects of the remote layout and the
 * operations a backend offers on them (DESIGN.md section 11).
 *
 * Every operation returns 0 (or 1/0 for exists), -ENOENT when the object
 * is absent (an answer, not a failure), or another -errno when the server
 * failed — refused, timed out, an unexpected status or reply, a body
 * that stopped short — with a one-line message in @err. remote.c
 * disables the remote on the first such failure; it never retries.
 */
#ifndef PROCACHE_CACHE_REMOTE_INTERNAL_H
#define PROCACHE_CACHE_REMOTE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache/remote.h"
#include "common/hash.h"
#include "common/strbuf.h"

enum remote_obj {
	REMOTE_BLOB,	/* name: 32 hex digits */
	REMOTE_ENTRY,	/* name: "<32 hex key>/<16 hex id>" */
};

/*
 * Where a body goes: appended to @buf (when not NULL) or written to @fd,
 * at most @max bytes (a longer body is garbage: -EFBIG, not a failure of
 * the server). @got counts what arrived.
 */
struct remote_sink {
	struct strbuf *buf;
	int fd;
	uint64_t max, got;
	int err;	/* the first remote_sink_write() failure */
	struct pc_hasher *hasher;	/* when set: fed what is written */
};

/* Write @len bytes to @s: 0, -EFBIG past s->max, or -errno of write. */
int remote_sink_write(struct remote_sink *s, const void *data, size_t len);

/*
 * The expiry of a blob under remote.ttl @ttl_s (0: none): longer than the
 * entries' by a margin that outlasts an upload, since a blob's lease is
 * renewed (upload, hit) before the entry's: a blob never expires before
 * an entry that names it, and Redis's volatile-ttl eviction takes
 * entries first.
 */
#define REMOTE_BLOB_TTL_MARGIN_S 3600
static inline uint64_t remote_ttl_blob(uint64_t ttl_s)
{
	return ttl_s ? ttl_s + REMOTE_BLOB_TTL_MARGIN_S : 0;
}

/* The index of a key: its entry ids, oldest first. */
#define REMOTE_INDEX_HEADER "procache remote index 1\n"
#define REMOTE_INDEX_MAX 32
#define REMOTE_INDEX_MAX_BYTES 4096

struct remote_backend;

/* A directory's listing (WebDAV PROPFIND, Depth 1). */
struct remote_listing_item {
	char *name;	/* the last segment, as the server spells it */
	bool dir;
	int64_t mtime;	/* last modified (last upload), 0 when not said */
};
struct remote_listing {
	struct remote_listing_item *v;
	size_t nr, alloc;
};
void remote_listing_release(struct remote_listing *l);

/*
 * The items of a PROPFIND answer (a 207 Multi-Status body) for directory
 * @dir (its path on the server), the directory itself left out, appended
 * to @out. Tolerant of namespace prefixes (nginx's D:, Apache's lp1:);
 * never fails on any input: what it cannot read is left out.
 */
void remote_propfind_parse(const char *xml, size_t len, const char *dir,
			   struct remote_listing *out);

struct remote_ops {
	const char *scheme_name;
	/* The body of object @name into @sink. */
	int (*get)(struct remote_backend *b, enum remote_obj kind,
		   const char *name, struct remote_sink *sink,
		   struct strbuf *err);
	/*
	 * The bodies of @n objects into @sinks, in one round trip where the
	 * protocol allows; rets[i] as get() returns for object i when that
	 * is an answer (0, -ENOENT, -EFBIG). Returns 0, or the -errno of a
	 * failure of the server (@err; then rets[] are not all set).
	 */
	int (*get_many)(struct remote_backend *b, enum remote_obj kind,
			const char *const *names, struct remote_sink *sinks,
			int *rets, size_t n, struct strbuf *err);
	/* 1 when the server has @name, 0 when not. */
	int (*exists)(struct remote_backend *b, enum remote_obj kind,
		      const char *name, struct strbuf *err);
	int (*put)(struct remote_backend *b, enum remote_obj kind,
		   const char *name, const void *data, size_t len,
		   struct strbuf *err);
	/*
	 * The ids of @key_hex's index into *@ids (malloc'd strings, valid
	 * ids only: anything else in the index is dropped), oldest first;
	 * 0 with none when there is no index.
	 */
	int (*index_get)(struct remote_backend *b, const char *key_hex,
			 char ***ids, size_t *nr, struct strbuf *err);
	int (*index_add)(struct remote_backend *b, const char *key_hex,
			 const char *id, struct strbuf *err);
	/*
	 * After a remote hit on entry @entry_name ("<key>/<id>") by a
	 * writer: renew the expiry of its @nblobs blobs (32 hex names),
	 * then of the entry and its key's index. NULL when the backend has
	 * no expiry (HTTP: `cache gc --remote` ages by upload time).
	 */
	int (*refresh)(struct remote_backend *b, const char *entry_name,
		       const char *const *blobs, size_t nblobs, struct strbuf *err);
	/*
	 * `cache gc --remote` (NULL when the backend expires objects itself):
	 * the names in directory @rel ("k/", "k/ab/", "b/ab/"... under the
	 * prefix) with their times, -ENOENT when there is no such directory;
	 * remove object @rel (absent already: 0).
	 */
	int (*list)(struct remote_backend *b, const char *rel,
		    struct remote_listing *out, struct strbuf *err);
	int (*del)(struct remote_backend *b, const char *rel, struct strbuf *err);
	void (*close)(struct remote_backend *b);
};

/* The parsed configuration a backend is made from. */
struct remote_target {
	char *scheme;		/* "http", "https", "redis" */
	char *host;
	unsigned port;		/* 0: the scheme's default */
	char *path;		/* HTTP: the prefix, "/" at least, ending in '/' */
	char *user, *password, *token, *ca_file, *prefix;
	char *client_cert, *client_key;	/* TLS: offered when set */
	unsigned db;		/* Redis */
	uint64_t ttl_s;
	long connect_timeout_ms, timeout_ms;
};

/*
 * A connection to the server (cache/remote-conn.c): TCP, with TLS when
 * asked. Initialise with remote_conn_init(); remote_conn_close() leaves
 * it closed and reusable. Every call returns 0 or -errno: -ETIMEDOUT
 * when a wait outlived its timeout (connect and TLS handshake together:
 * t->connect_timeout_ms; each later wait: t->timeout_ms), -ENODATA when
 * the server closed the stream, -EACCES for a certificate that is not
 * trusted or does not name the host, -EIO for another TLS failure.
 */
struct remote_conn {
	int fd;
	struct ssl_st *ssl;	/* with TLS */
	long timeout_ms;
	/*
	 * The request's overall deadline (CLOCK_MONOTONIC, ms; 0: none):
	 * timeout_ms bounds each wait, so a server that trickles a byte at a
	 * time would otherwise hold a request for ever. Past it every wait,
	 * send and fill is -ETIMEDOUT. Set with remote_conn_deadline().
	 */
	uint64_t deadline_ms;
	char in[16384];		/* what came from the server, not yet used */
	size_t in_len, in_off;
	struct strbuf why;	/* the last TLS failure's reason */
};

static inline void remote_conn_init(struct remote_conn *c)
{
	c->fd = -1;
	c->ssl = NULL;
	c->in_len = c->in_off = 0;
	c->deadline_ms = 0;
	strbuf_init(&c->why, 0);
}

/*
 * The overall deadline of one request (DESIGN.md section 11): the idle
 * timeout times REMOTE_DEADLINE_FACTOR, plus a body of known size moved
 * at REMOTE_MIN_RATE bytes a second.
 */
#define REMOTE_DEADLINE_FACTOR 4
#define REMOTE_MIN_RATE (1024 * 1024)
static inline uint64_t remote_deadline_ms(long timeout_ms, uint64_t bytes)
{
	return (uint64_t)timeout_ms * REMOTE_DEADLINE_FACTOR +
	       bytes / (REMOTE_MIN_RATE / 1000);
}
/* Set @c's deadline @ms from now (0: none). */
void remote_conn_deadline(struct remote_conn *c, uint64_t ms);
/* Move @c's deadline (when it has one) @ms later. */
void remote_conn_extend(struct remote_conn *c, uint64_t ms);

/* Connect to @t's host and port (@default_port when it has none),
 * with TLS when @tls (verified: see remote-conn.c). */
int remote_conn_open(struct remote_conn *c, const struct remote_target *t,
		     unsigned default_port, bool tls, struct strbuf *err);
/* Send all of @data. */
int remote_conn_send(struct remote_conn *c, const void *data, size_t len);
/* At least one more byte into c->in (after c->in_len). */
int remote_conn_fill(struct remote_conn *c);
/* Close; remote_conn_release() also frees what it holds. */
void remote_conn_close(struct remote_conn *c);
void remote_conn_release(struct remote_conn *c);
/* The reason of @c's failure @r (a -errno it returned), for a message. */
const char *remote_conn_strerror(const struct remote_conn *c, int r);

/*
 * Make the backend for @t (HTTP: loads libcurl; Redis: connects): 0 and
 * *@out, or -errno with a message. @t stays the caller's and outlives
 * the backend.
 */
int remote_http_new(const struct remote_target *t, struct remote_backend **out,
		    const struct remote_ops **ops, struct strbuf *err);
int remote_redis_new(const struct remote_target *t, struct remote_backend **out,
		     const struct remote_ops **ops, struct strbuf *err);

/*
 * @rm's backend, made (connected) unless it is already: 0, or -errno
 * with a message. For `cache gc --remote` (cache/remote-gc.c), which
 * wants the failure said rather than the remote quietly disabled.
 */
int remote_connect(struct cache_remote *rm, struct remote_backend **b,
		   const struct remote_ops **ops, const struct remote_target **t,
		   struct strbuf *err);

/*
 * Use @b/@ops as @rm's backend instead of the one its URL names (the
 * fuzzer, tests/fuzz/fuzz-remote.c); @ops->close() is called on close.
 */
void remote_set_backend(struct cache_remote *rm, struct remote_backend *b,
			const struct remote_ops *ops);

/*
 * The plain-http client's reading of one answer from @fd (a socket whose
 * peer holds the server's bytes), after sending a GET (HEAD with @head)
 * for "/x": the status, or -errno. For the fuzzer (fuzz-remote.c); the
 * backend's requests go through the same code. @fd is not closed.
 */
long remote_http_answer(int fd, bool head, struct remote_sink *sink);

/*
 * The ids of an HTTP index body (REMOTE_INDEX_HEADER, then one id per
 * line), oldest first; anything malformed makes it an empty index.
 * Never fails on any input (fuzzed).
 */
void remote_index_parse(const char *buf, size_t len, char ***ids, size_t *nr);
/* A valid entry id: ENTRY_ID_LEN lowercase hex digits. */
bool remote_id_valid(const char *s, size_t len);

/*
 * The read path's checks of what a server returned for an entry (the
 * entry file's bytes) named @id under @key_hex: decoded, of that key,
 * with that id. 0 and *@out, or -EBADMSG with the reason. Fuzzed.
 */
struct cache_entry;
int remote_entry_check(const void *buf, size_t len, const char *key_hex,
		       const char *id, struct cache_entry **out,
		       struct strbuf *why);

#endif

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
};

/* Write @len bytes to @s: 0, -EFBIG past s->max, or -errno of write. */
int remote_sink_write(struct remote_sink *s, const void *data, size_t len);

/* The index of a key: its entry ids, oldest first. */
#define REMOTE_INDEX_HEADER "procache remote index 1\n"
#define REMOTE_INDEX_MAX 32
#define REMOTE_INDEX_MAX_BYTES 4096

struct remote_backend;

struct remote_ops {
	const char *scheme_name;
	/* The body of object @name into @sink. */
	int (*get)(struct remote_backend *b, enum remote_obj kind,
		   const char *name, struct remote_sink *sink,
		   struct strbuf *err);
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
	void (*close)(struct remote_backend *b);
};

/* The parsed configuration a backend is made from. */
struct remote_target {
	char *scheme;		/* "http", "https", "redis" */
	char *host;
	unsigned port;		/* 0: the scheme's default */
	char *path;		/* HTTP: the prefix, "/" at least, ending in '/' */
	char *user, *password, *token, *ca_file, *prefix;
	unsigned db;		/* Redis */
	uint64_t ttl_s;
	long connect_timeout_ms, timeout_ms;
};

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

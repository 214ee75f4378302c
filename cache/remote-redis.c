/*
 * The Redis backend of the remote cache (DESIGN.md section 11), redis://
 * and rediss://: hiredis's protocol parts (linked statically: it has no
 * dependencies, so it costs a run without a remote nothing at start-up)
 * over our own connection (cache/remote-conn.c: TCP or TLS, the
 * timeouts). Keys under the prefix P:
 *
 *	P b:<32 hex>		a blob (a string: its bytes)
 *	P e:<key>:<16 hex id>	an entry (the entry file's bytes)
 *	P k:<key>		the key's index: a sorted set of entry ids,
 *				scored by the time they were added; ZADD and
 *				ZREMRANGEBYRANK keep the newest
 *				REMOTE_INDEX_MAX, atomically per command
 *
 * With a TTL every key written gets it (SET ... EX, EXPIRE of the index),
 * blobs remote_ttl_blob() of it; a writer's hit renews them (DESIGN.md
 * section 11, eviction). One connection per process: AUTH and SELECT in
 * one round trip, then commands, pipelined where they do not depend on
 * one another's replies; a reply that does not come within the idle
 * timeout fails, and so does a round trip past its deadline (4x the idle
 * timeout, plus what is sent and received at REMOTE_MIN_RATE).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "cache/remote-internal.h"
#include "common/cleanup.h"
#include "common/die.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

struct remote_backend {
	const struct remote_target *t;
	struct remote_conn conn;
	redisReader *reader;
};

/* The key of an object, of an index (@kind < 0) into @out. */
static void redis_key(const struct remote_backend *b, int kind,
		      const char *name, struct strbuf *out)
{
	strbuf_reset(out);
	strbuf_addstr(out, b->t->prefix);
	if (kind == REMOTE_BLOB) {
		strbuf_addf(out, "b:%s", name);
	} else if (kind == REMOTE_ENTRY) {
		/* "<key>/<id>" -> "e:<key>:<id>" */
		strbuf_addf(out, "e:%s", name);
		char *slash = strchr(out->buf + out->len - strlen(name), '/');
		if (slash)
			*slash = ':';
	} else {
		strbuf_addf(out, "k:%s", name);
	}
}

/* A command, for pipeline(): its words and their lengths. */
struct cmd {
	int argc;
	const char *argv[5];
	size_t lens[5];
};

/* Words of a command, NUL-terminated strings. */
static void cmd_set(struct cmd *c, int argc, ...)
{
	va_list ap;

	va_start(ap, argc);
	c->argc = argc;
	for (int i = 0; i < argc; i++) {
		c->argv[i] = va_arg(ap, const char *);
		c->lens[i] = strlen(c->argv[i]);
	}
	va_end(ap);
}

/* The next reply: 0 and *@out, or -errno (the stream failed). */
static int read_reply(struct remote_backend *b, redisReply **out)
{
	struct remote_conn *c = &b->conn;
	void *r = NULL;

	for (;;) {
		int ret;

		if (redisReaderGetReply(b->reader, &r) != REDIS_OK)
			return -EPROTO;
		if (r) {
			*out = r;
			return 0;
		}
		/* remote_conn_fill() starts over when all was used */
		size_t had = c->in_off == c->in_len ? 0 : c->in_len;

		if ((ret = remote_conn_fill(c)) < 0)
			return ret;
		/*
		 * The deadline moves with what came, at REMOTE_MIN_RATE: a
		 * big reply's size is not known before, and a server
		 * trickling bytes earns almost nothing.
		 */
		remote_conn_extend(c, remote_deadline_ms(0, c->in_len - had));
		if (redisReaderFeed(b->reader, c->in + c->in_off,
				    c->in_len - c->in_off) != REDIS_OK)
			return -EPROTO;
		c->in_off = c->in_len;
	}
}

/*
 * Send @n commands at once and read their @n replies into @replies (one
 * round trip: Redis answers a pipeline in order). 0, or -errno when the
 * connection failed (@err says how; what was read is freed) or a reply
 * is an error (@err: which command; -EACCES for wrong credentials).
 */
static int pipeline(struct remote_backend *b, const struct cmd *cmds, size_t n,
		    redisReply **replies, struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
	int r = 0;
	size_t i, got = 0;

	for (i = 0; i < n; i++) {
		char *wire;
		int len = redisFormatCommandArgv(&wire, cmds[i].argc, (const char **)cmds[i].argv,
						 cmds[i].lens);

		if (len < 0)
			return strbuf_error(err, -ENOMEM, "redis: out of memory");
		strbuf_add(&out, wire, (size_t)len);
		redisFreeCommand(wire);
	}
	memset(replies, 0, n * sizeof(*replies));
	/* The whole round trip has a deadline (as HTTP requests do). */
	remote_conn_deadline(&b->conn, remote_deadline_ms(b->t->timeout_ms, out.len));
	r = remote_conn_send(&b->conn, out.buf, out.len);
	while (r == 0 && got < n && (r = read_reply(b, &replies[got])) == 0)
		got++;
	if (r < 0) {
		strbuf_addf(err, "redis %s: %s", cmds[got < n ? got : n - 1].argv[0],
			    r == -ETIMEDOUT ? "no reply in time"
			    : r == -EPROTO ? "not a Redis reply"
			    : remote_conn_strerror(&b->conn, r));
		remote_conn_close(&b->conn);
	}
	for (i = 0; r == 0 && i < n; i++) {
		const redisReply *e = replies[i];

		if (e->type != REDIS_REPLY_ERROR)
			continue;
		bool auth = !strncmp(e->str, "NOAUTH", 6) || !strncmp(e->str, "WRONGPASS", 9) ||
			    !strncmp(e->str, "NOPERM", 6);
		strbuf_addf(err, "redis %s: %.200s%s", cmds[i].argv[0], e->str,
			    auth ? " (wrong or missing credentials?)" : "");
		r = auth ? -EACCES : -EIO;
	}
	if (r < 0) {
		for (i = 0; i < got; i++)
			freeReplyObject(replies[i]);
		memset(replies, 0, n * sizeof(*replies));
	}
	return r;
}

/* One command: its reply (freed by the caller), or NULL with @err. */
static redisReply *command(struct remote_backend *b, struct strbuf *err,
			   const struct cmd *cmd, int *fail)
{
	redisReply *r = NULL;

	*fail = pipeline(b, cmd, 1, &r, err);
	return r;
}

static int unexpected(struct strbuf *err, const char *cmd, redisReply *r)
{
	strbuf_addf(err, "redis %s: unexpected reply of type %d", cmd, r->type);
	freeReplyObject(r);
	return -EPROTO;
}

static int redis_get(struct remote_backend *b, enum remote_obj kind,
		     const char *name, struct remote_sink *sink,
		     struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf key = STRBUF_INIT;
	struct cmd get;
	redisReply *r;
	int ret;

	redis_key(b, (int)kind, name, &key);
	cmd_set(&get, 2, "GET", key.buf);
	if (!(r = command(b, err, &get, &ret)))
		return ret;
	if (r->type == REDIS_REPLY_NIL) {
		freeReplyObject(r);
		return -ENOENT;
	}
	if (r->type != REDIS_REPLY_STRING)
		return unexpected(err, "GET", r);
	ret = remote_sink_write(sink, r->str, r->len);
	freeReplyObject(r);
	return ret;
}

/* GETs of @n objects in one pipeline: one round trip. */
static int redis_get_many(struct remote_backend *b, enum remote_obj kind,
			  const char *const *names, struct remote_sink *sinks,
			  int *rets, size_t n, struct strbuf *err)
{
	struct strbuf *keys = xcalloc(n, sizeof(*keys));
	struct cmd *c = xcalloc(n, sizeof(*c));
	redisReply **r = xcalloc(n, sizeof(*r));
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		strbuf_init(&keys[i], 0);
		redis_key(b, (int)kind, names[i], &keys[i]);
		cmd_set(&c[i], 2, "GET", keys[i].buf);
	}
	ret = pipeline(b, c, n, r, err);
	for (i = 0; ret == 0 && i < n; i++) {
		if (r[i]->type == REDIS_REPLY_NIL)
			rets[i] = -ENOENT;
		else if (r[i]->type == REDIS_REPLY_STRING)
			rets[i] = remote_sink_write(&sinks[i], r[i]->str, r[i]->len);
		else
			ret = unexpected(err, "GET", r[i]), r[i] = NULL;
	}
	for (i = 0; i < n; i++) {
		if (r[i])
			freeReplyObject(r[i]);
		strbuf_release(&keys[i]);
	}
	free(keys);
	free(c);
	free(r);
	return ret;
}

/*
 * Is @name there? With a TTL, the question is an EXPIRE: it answers the
 * same (1 when the key exists) and gives a blob the upload is about to
 * name a new lease (remote_ttl_blob()), so that it never expires before
 * the entry that names it.
 */
static int redis_exists(struct remote_backend *b, enum remote_obj kind,
			const char *name, struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf key = STRBUF_INIT;
	char ttl[32];
	struct cmd ex;
	redisReply *r;
	int ret;

	redis_key(b, (int)kind, name, &key);
	snprintf(ttl, sizeof(ttl), "%" PRIu64, remote_ttl_blob(b->t->ttl_s));
	if (b->t->ttl_s)
		cmd_set(&ex, 3, "EXPIRE", key.buf, ttl);
	else
		cmd_set(&ex, 2, "EXISTS", key.buf);
	if (!(r = command(b, err, &ex, &ret)))
		return ret;
	if (r->type != REDIS_REPLY_INTEGER)
		return unexpected(err, ex.argv[0], r);
	ret = r->integer > 0;
	freeReplyObject(r);
	return ret;
}

static int redis_put(struct remote_backend *b, enum remote_obj kind,
		     const char *name, const void *data, size_t len,
		     struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf key = STRBUF_INIT;
	char ttl[32];
	struct cmd set;
	redisReply *r;
	int ret;

	redis_key(b, (int)kind, name, &key);
	snprintf(ttl, sizeof(ttl), "%" PRIu64,
		 kind == REMOTE_BLOB ? remote_ttl_blob(b->t->ttl_s) : b->t->ttl_s);
	cmd_set(&set, 5, "SET", key.buf, "", "EX", ttl);
	set.argv[2] = data;
	set.lens[2] = len;
	if (!b->t->ttl_s)
		set.argc = 3;
	if (!(r = command(b, err, &set, &ret)))
		return ret;
	if (r->type != REDIS_REPLY_STATUS)
		return unexpected(err, "SET", r);
	freeReplyObject(r);
	return 0;
}

static int redis_index_get(struct remote_backend *b, const char *key_hex,
			   char ***ids, size_t *nr, struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf key = STRBUF_INIT;
	struct cmd zr;
	char first[32];
	size_t n = 0;
	char **v;
	redisReply *r;
	int ret;

	*ids = NULL;
	*nr = 0;
	/*
	 * Only the newest REMOTE_INDEX_MAX (what a writer's trim keeps):
	 * hiredis builds a whole reply before we see it, so an index a
	 * hostile or broken writer grew without bound would otherwise be
	 * read and held whole. The HTTP index is capped the same way
	 * (REMOTE_INDEX_MAX_BYTES), and no more than REMOTE_MAX_CANDIDATES
	 * of them are fetched either way.
	 */
	snprintf(first, sizeof(first), "%d", -REMOTE_INDEX_MAX);
	redis_key(b, -1, key_hex, &key);
	cmd_set(&zr, 4, "ZRANGE", key.buf, first, "-1");
	if (!(r = command(b, err, &zr, &ret)))
		return ret;
	if (r->type != REDIS_REPLY_ARRAY)
		return unexpected(err, "ZRANGE", r);
	v = xcalloc(r->elements + 1, sizeof(*v));
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *it = r->element[i];

		if (it->type == REDIS_REPLY_STRING &&
		    remote_id_valid(it->str, it->len))
			v[n++] = xstrndup(it->str, it->len);
	}
	freeReplyObject(r);
	*ids = v;
	*nr = n;
	return 0;
}

/* ZADD, trim to the newest REMOTE_INDEX_MAX, EXPIRE: one round trip. */
static int redis_index_add(struct remote_backend *b, const char *key_hex,
			   const char *id, struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf key = STRBUF_INIT;
	char score[32], keep[32], ttl[32];
	struct timespec ts;
	struct cmd c[3];
	redisReply *r[3];
	size_t n = 2;
	int ret;

	redis_key(b, -1, key_hex, &key);
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(score, sizeof(score), "%lld.%09ld", (long long)ts.tv_sec, ts.tv_nsec);
	snprintf(keep, sizeof(keep), "%d", -(REMOTE_INDEX_MAX + 1));
	snprintf(ttl, sizeof(ttl), "%" PRIu64, b->t->ttl_s);
	cmd_set(&c[0], 4, "ZADD", key.buf, score, id);
	cmd_set(&c[1], 4, "ZREMRANGEBYRANK", key.buf, "0", keep);
	if (b->t->ttl_s)
		cmd_set(&c[n++], 3, "EXPIRE", key.buf, ttl);
	if ((ret = pipeline(b, c, n, r, err)) < 0)
		return ret;
	for (size_t i = 0; i < n; i++)
		freeReplyObject(r[i]);
	return 0;
}

/*
 * A hit from the remote: the entry's blobs (@blobs, @nblobs names), then
 * the entry and the key's index get a new lease of the TTL, in one round
 * trip (EXPIRE of a key that is gone is 0: nothing to do).
 */
static int redis_refresh(struct remote_backend *b, const char *entry_name,
			 const char *const *blobs, size_t nblobs,
			 struct strbuf *err)
{
	size_t n = nblobs + 2, i;
	_cleanup_free_ struct cmd *c = xcalloc(n, sizeof(*c));
	_cleanup_free_ redisReply **r = xcalloc(n, sizeof(*r));
	struct strbuf *keys = xcalloc(n, sizeof(*keys));
	_cleanup_free_ char *key_hex = xstrndup(entry_name, strcspn(entry_name, "/"));
	char ttl[32], bttl[32];
	int ret;

	if (!b->t->ttl_s) {
		free(keys);
		return 0;
	}
	snprintf(ttl, sizeof(ttl), "%" PRIu64, b->t->ttl_s);
	snprintf(bttl, sizeof(bttl), "%" PRIu64, remote_ttl_blob(b->t->ttl_s));
	for (i = 0; i < n; i++) {
		strbuf_init(&keys[i], 0);
		if (i < nblobs)
			redis_key(b, REMOTE_BLOB, blobs[i], &keys[i]);
		else if (i == nblobs)
			redis_key(b, REMOTE_ENTRY, entry_name, &keys[i]);
		else
			redis_key(b, -1, key_hex, &keys[i]);
		cmd_set(&c[i], 3, "EXPIRE", keys[i].buf, i < nblobs ? bttl : ttl);
	}
	ret = pipeline(b, c, n, r, err);
	for (i = 0; i < n; i++) {
		if (ret == 0)
			freeReplyObject(r[i]);
		strbuf_release(&keys[i]);
	}
	free(keys);
	return ret;
}

static void redis_close(struct remote_backend *b)
{
	remote_conn_release(&b->conn);
	if (b->reader)
		redisReaderFree(b->reader);
	free(b);
}

static const struct remote_ops redis_ops = {
	.scheme_name = "redis",
	.get = redis_get,
	.get_many = redis_get_many,
	.exists = redis_exists,
	.put = redis_put,
	.index_get = redis_index_get,
	.index_add = redis_index_add,
	.refresh = redis_refresh,
	.close = redis_close,
};

int remote_redis_new(const struct remote_target *t, struct remote_backend **out,
		     const struct remote_ops **ops, struct strbuf *err)
{
	struct remote_backend *b = xcalloc(1, sizeof(*b));
	bool tls = !strcmp(t->scheme, "rediss");
	char db[16];
	struct cmd c[2];
	redisReply *r[2];
	size_t n = 0;
	int ret;

	*out = NULL;
	b->t = t;
	remote_conn_init(&b->conn);
	b->reader = redisReaderCreate();
	if (!b->reader) {
		redis_close(b);
		return strbuf_error(err, -ENOMEM, "redis: out of memory");
	}
	ret = remote_conn_open(&b->conn, t, 6379, tls, err);
	if (ret < 0) {
		redis_close(b);
		return ret;
	}
	/* AUTH and SELECT in one round trip */
	if (t->password && t->user)
		cmd_set(&c[n++], 3, "AUTH", t->user, t->password);
	else if (t->password)
		cmd_set(&c[n++], 2, "AUTH", t->password);
	if (t->db) {
		snprintf(db, sizeof(db), "%u", t->db);
		cmd_set(&c[n++], 2, "SELECT", db);
	}
	if (n && (ret = pipeline(b, c, n, r, err)) < 0) {
		redis_close(b);
		return ret;
	}
	for (size_t i = 0; i < n; i++)
		freeReplyObject(r[i]);
	*out = b;
	*ops = &redis_ops;
	return 0;
}

/*
 * The Redis backend of the remote cache (DESIGN.md section 11), through
 * hiredis (linked statically: it has no dependencies, so it costs a run
 * without a remote nothing at start-up). Keys under the prefix P:
 *
 *	P b:<32 hex>		a blob (a string: its bytes)
 *	P e:<key>:<16 hex id>	an entry (the entry file's bytes)
 *	P k:<key>		the key's index: a sorted set of entry ids,
 *				scored by the time they were added; ZADD and
 *				ZREMRANGEBYRANK keep the newest
 *				REMOTE_INDEX_MAX, atomically per command
 *
 * With a TTL every key written gets it (SET ... EX, EXPIRE of the index).
 * One connection per process: AUTH and SELECT once, then commands with
 * the idle timeout as the socket's timeout (a reply that does not come
 * in time fails).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
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
	redisContext *rc;
	int fail;	/* why the last command() gave NULL: -ETIMEDOUT, -EIO */
};

static struct timeval ms_tv(long ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	return tv;
}

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

/*
 * One command: its reply (freed by the caller), or NULL when the
 * connection failed or the reply is an error (@err says which).
 */
static redisReply *command(struct remote_backend *b, struct strbuf *err,
			   int argc, const char **argv, const size_t *lens)
{
	redisReply *r = redisCommandArgv(b->rc, argc, argv, lens);

	b->fail = -EIO;
	if (!r) {
		/* hiredis gives EAGAIN when the socket's timeout expires */
		if (b->rc->err == REDIS_ERR_IO && (errno == EAGAIN || errno == ETIMEDOUT))
			b->fail = -ETIMEDOUT;
		strbuf_addf(err, "redis %s: %s", argv[0],
			    b->rc->errstr[0] ? b->rc->errstr : "no reply");
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		strbuf_addf(err, "redis %s: %.200s%s", argv[0], r->str,
			    !strncmp(r->str, "NOAUTH", 6) || !strncmp(r->str, "WRONGPASS", 9)
			    ? " (wrong or missing credentials?)" : "");
		freeReplyObject(r);
		return NULL;
	}
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
	const char *argv[2] = { "GET", NULL };
	size_t lens[2] = { 3, 0 };
	redisReply *r;
	int ret;

	redis_key(b, (int)kind, name, &key);
	argv[1] = key.buf;
	lens[1] = key.len;
	r = command(b, err, 2, argv, lens);
	if (!r)
		return b->fail;
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

static int redis_exists(struct remote_backend *b, enum remote_obj kind,
			const char *name, struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf key = STRBUF_INIT;
	const char *argv[2] = { "EXISTS", NULL };
	size_t lens[2] = { 6, 0 };
	redisReply *r;
	int ret;

	redis_key(b, (int)kind, name, &key);
	argv[1] = key.buf;
	lens[1] = key.len;
	r = command(b, err, 2, argv, lens);
	if (!r)
		return b->fail;
	if (r->type != REDIS_REPLY_INTEGER)
		return unexpected(err, "EXISTS", r);
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
	const char *argv[5] = { "SET", NULL, data, "EX", ttl };
	size_t lens[5] = { 3, 0, len, 2, 0 };
	redisReply *r;

	redis_key(b, (int)kind, name, &key);
	argv[1] = key.buf;
	lens[1] = key.len;
	snprintf(ttl, sizeof(ttl), "%" PRIu64, b->t->ttl_s);
	lens[4] = strlen(ttl);
	r = command(b, err, b->t->ttl_s ? 5 : 3, argv, lens);
	if (!r)
		return b->fail;
	if (r->type != REDIS_REPLY_STATUS)
		return unexpected(err, "SET", r);
	freeReplyObject(r);
	return 0;
}

static int redis_index_get(struct remote_backend *b, const char *key_hex,
			   char ***ids, size_t *nr, struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf key = STRBUF_INIT;
	const char *argv[4] = { "ZRANGE", NULL, "0", "-1" };
	size_t lens[4] = { 6, 0, 1, 2 };
	size_t n = 0;
	char **v;
	redisReply *r;

	*ids = NULL;
	*nr = 0;
	redis_key(b, -1, key_hex, &key);
	argv[1] = key.buf;
	lens[1] = key.len;
	r = command(b, err, 4, argv, lens);
	if (!r)
		return b->fail;
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

static int redis_index_add(struct remote_backend *b, const char *key_hex,
			   const char *id, struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf key = STRBUF_INIT;
	char score[32], keep[32], ttl[32];
	struct timespec ts;
	redisReply *r;

	redis_key(b, -1, key_hex, &key);
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(score, sizeof(score), "%lld.%09ld", (long long)ts.tv_sec, ts.tv_nsec);
	snprintf(keep, sizeof(keep), "%d", -(REMOTE_INDEX_MAX + 1));
	snprintf(ttl, sizeof(ttl), "%" PRIu64, b->t->ttl_s);

	const char *add[4] = { "ZADD", key.buf, score, id };
	size_t add_l[4] = { 4, key.len, strlen(score), strlen(id) };
	const char *trim[4] = { "ZREMRANGEBYRANK", key.buf, "0", keep };
	size_t trim_l[4] = { 15, key.len, 1, strlen(keep) };
	const char *exp[3] = { "EXPIRE", key.buf, ttl };
	size_t exp_l[3] = { 6, key.len, strlen(ttl) };

	if (!(r = command(b, err, 4, add, add_l)))
		return b->fail;
	freeReplyObject(r);
	if (!(r = command(b, err, 4, trim, trim_l)))
		return b->fail;
	freeReplyObject(r);
	if (b->t->ttl_s) {
		if (!(r = command(b, err, 3, exp, exp_l)))
			return b->fail;
		freeReplyObject(r);
	}
	return 0;
}

static void redis_close(struct remote_backend *b)
{
	if (b->rc)
		redisFree(b->rc);
	free(b);
}

static const struct remote_ops redis_ops = {
	.scheme_name = "redis",
	.get = redis_get,
	.exists = redis_exists,
	.put = redis_put,
	.index_get = redis_index_get,
	.index_add = redis_index_add,
	.close = redis_close,
};

int remote_redis_new(const struct remote_target *t, struct remote_backend **out,
		     const struct remote_ops **ops, struct strbuf *err)
{
	struct remote_backend *b = xcalloc(1, sizeof(*b));
	_cleanup_free_ char *host = NULL;
	redisReply *r;

	*out = NULL;
	b->t = t;
	/* [::1] -> ::1 */
	if (t->host[0] == '[')
		host = xstrndup(t->host + 1, strlen(t->host) - 2);
	else
		host = xstrdup(t->host);
	b->rc = redisConnectWithTimeout(host, t->port ? (int)t->port : 6379,
					ms_tv(t->connect_timeout_ms));
	if (!b->rc || b->rc->err) {
		int fail = errno == ETIMEDOUT || errno == EINPROGRESS ? -ETIMEDOUT
								      : -ECONNREFUSED;

		strbuf_addf(err, "cannot connect to redis at %s:%u: %s", t->host,
			    t->port ? t->port : 6379,
			    b->rc ? b->rc->errstr : "out of memory");
		redis_close(b);
		return fail;
	}
	redisSetTimeout(b->rc, ms_tv(t->timeout_ms));
	if (t->password) {
		const char *argv[3] = { "AUTH", t->user, t->password };
		size_t lens[3] = { 4, t->user ? strlen(t->user) : 0, strlen(t->password) };

		if (!t->user) {
			argv[1] = t->password;
			lens[1] = lens[2];
		}
		r = command(b, err, t->user ? 3 : 2, argv, lens);
		if (!r) {
			int fail = b->fail == -ETIMEDOUT ? -ETIMEDOUT : -EACCES;

			redis_close(b);
			return fail;
		}
		freeReplyObject(r);
	}
	if (t->db) {
		char db[16];
		const char *argv[2] = { "SELECT", db };
		size_t lens[2] = { 6, 0 };

		snprintf(db, sizeof(db), "%u", t->db);
		lens[1] = strlen(db);
		r = command(b, err, 2, argv, lens);
		if (!r) {
			int fail = b->fail;

			redis_close(b);
			return fail;
		}
		freeReplyObject(r);
	}
	*out = b;
	*ops = &redis_ops;
	return 0;
}

/*
 * The remote cache (contract in cache/remote.h, design in DESIGN.md
 * section 11): the URL, the read path (index, candidates checked as local
 * entries are, blobs verified, the backfill into the local cache), the
 * upload after a store (blobs, then the entry, then the index), and the
 * rule that the first failure of the server turns the remote off for the
 * rest of the process. The wire is the backends' (cache/remote-http.c,
 * cache/remote-redis.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache/cache.h"
#include "cache/internal.h"
#include "cache/remote-internal.h"
#include "cache/remote.h"
#include "common/cleanup.h"
#include "common/die.h"
#include "common/fdio.h"
#include "common/hash.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

/* Candidates fetched per lookup, newest first. */
#define REMOTE_MAX_CANDIDATES 8
/* An entry larger than this from a server is garbage. */
#define REMOTE_ENTRY_MAX ((uint64_t)64 << 20)

struct cache_remote {
	struct remote_target t;
	char *display;
	bool read_only, disabled, tried;
	struct remote_backend *b;	/* made on first use */
	const struct remote_ops *ops;
};

/* ---- the URL ---------------------------------------------------------- */

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Percent-decode @len bytes; NULL when malformed or holding a NUL. */
static char *pct_decode(const char *s, size_t len)
{
	struct strbuf out = STRBUF_INIT;

	for (size_t i = 0; i < len; i++) {
		int hi, lo;

		if (s[i] != '%') {
			strbuf_addch(&out, s[i]);
			continue;
		}
		hi = i + 1 < len ? hexval((unsigned char)s[i + 1]) : -1;
		lo = i + 2 < len ? hexval((unsigned char)s[i + 2]) : -1;
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			strbuf_release(&out);
			return NULL;
		}
		strbuf_addch(&out, (char)(hi * 16 + lo));
		i += 2;
	}
	return strbuf_detach(&out, NULL);
}

static void target_release(struct remote_target *t)
{
	free(t->scheme);
	free(t->host);
	free(t->path);
	free(t->user);
	free(t->password);
	free(t->token);
	free(t->ca_file);
	free(t->client_cert);
	free(t->client_key);
	free(t->prefix);
	memset(t, 0, sizeof(*t));
}

#define bad_url(err, ...) strbuf_error((err), -EINVAL, __VA_ARGS__)

/*
 * scheme://[user[:password]@]host[:port][/path]; host may be [v6].
 * Fills @t and the display form (no userinfo) into @display.
 */
static int parse_url(const char *url, struct remote_target *t,
		     struct strbuf *display, struct strbuf *err)
{
	const char *p = strstr(url, "://"), *auth, *at, *hostp, *hend, *path;

	if (!p)
		return bad_url(err, "remote URL '%s': expected scheme://host/...", url);
	t->scheme = xstrndup(url, (size_t)(p - url));
	for (char *s = t->scheme; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
	if (strcmp(t->scheme, "http") && strcmp(t->scheme, "https") &&
	    strcmp(t->scheme, "redis") && strcmp(t->scheme, "rediss"))
		return bad_url(err, "remote URL: unknown scheme '%s' (http, https, redis, rediss)",
			       t->scheme);
	auth = p + 3;
	path = auth + strcspn(auth, "/?#");
	if (strpbrk(auth, "?#"))
		return bad_url(err, "remote URL: no query or fragment allowed");
	at = memrchr(auth, '@', (size_t)(path - auth));
	hostp = auth;
	if (at) {
		const char *colon = memchr(auth, ':', (size_t)(at - auth));
		size_t ulen = colon ? (size_t)(colon - auth) : (size_t)(at - auth);

		t->user = pct_decode(auth, ulen);
		if (colon)
			t->password = pct_decode(colon + 1, (size_t)(at - colon - 1));
		if (!t->user || (colon && !t->password))
			return bad_url(err, "remote URL: malformed user or password");
		if (!*t->user) {
			free(t->user);
			t->user = NULL;
		}
		hostp = at + 1;
	}
	if (*hostp == '[') {
		hend = memchr(hostp, ']', (size_t)(path - hostp));
		if (!hend)
			return bad_url(err, "remote URL: unclosed '[' in the host");
		t->host = xstrndup(hostp, (size_t)(hend - hostp + 1));
		hend++;
	} else {
		hend = hostp + strcspn(hostp, ":/");
		if (hend > path)
			hend = path;
		t->host = xstrndup(hostp, (size_t)(hend - hostp));
	}
	if (!t->host[0] || strspn(t->host, "abcdefghijklmnopqrstuvwxyz"
				"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_[]:") !=
				   strlen(t->host))
		return bad_url(err, "remote URL: bad host '%s'", t->host);
	if (hend < path && *hend == ':') {
		char *end;
		unsigned long port;

		errno = 0;
		port = strtoul(hend + 1, &end, 10);
		if (end != path || end == hend + 1 || errno || port == 0 || port > 65535)
			return bad_url(err, "remote URL: bad port");
		t->port = (unsigned)port;
	} else if (hend != path) {
		return bad_url(err, "remote URL: bad host");
	}
	strbuf_addf(display, "%s://%s", t->scheme, t->host);
	if (t->port)
		strbuf_addf(display, ":%u", t->port);
	if (!strcmp(t->scheme, "redis") || !strcmp(t->scheme, "rediss")) {
		if (*path && strcmp(path, "/")) {
			char *end;
			unsigned long db;

			errno = 0;
			db = strtoul(path + 1, &end, 10);
			if (*end || end == path + 1 || errno || db > 1000000)
				return bad_url(err, "remote URL: a Redis URL's path is a database number, not '%s'",
					       path);
			t->db = (unsigned)db;
			strbuf_addf(display, "/%u", t->db);
		}
		return 0;
	}
	/* HTTP: the prefix, with one slash at its end. */
	if (strstr(path, "/../") || strstr(path, "/./") ||
	    (strlen(path) >= 3 && !strcmp(path + strlen(path) - 3, "/..")))
		return bad_url(err, "remote URL: '.' or '..' in the path");
	t->path = xasprintf("%s%s", *path ? path : "/",
			    *path && path[strlen(path) - 1] == '/' ? "" : *path ? "/" : "");
	strbuf_addstr(display, t->path);
	return 0;
}

int cache_remote_open(const struct cache_remote_config *cfg,
		      struct cache_remote **out, struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf display = STRBUF_INIT;
	struct cache_remote *rm = xcalloc(1, sizeof(*rm));
	struct remote_target *t = &rm->t;
	int r;

	*out = NULL;
	r = parse_url(cfg->url, t, &display, err);
	if (r < 0) {
		target_release(t);
		free(rm);
		return r;
	}
	if (cfg->user) {
		free(t->user);
		t->user = xstrdup(cfg->user);
	}
	if (cfg->password) {
		free(t->password);
		t->password = xstrdup(cfg->password);
	}
	t->token = cfg->token ? xstrdup(cfg->token) : NULL;
	t->ca_file = cfg->ca_file ? xstrdup(cfg->ca_file) : NULL;
	t->client_cert = cfg->client_cert ? xstrdup(cfg->client_cert) : NULL;
	t->client_key = cfg->client_key ? xstrdup(cfg->client_key) : NULL;
	t->prefix = xstrdup(cfg->prefix ? cfg->prefix : "procache:");
	t->ttl_s = cfg->ttl_s;
	t->connect_timeout_ms = (long)((cfg->connect_timeout_s > 0 ? cfg->connect_timeout_s : 1.0) * 1000);
	t->timeout_ms = (long)((cfg->timeout_s > 0 ? cfg->timeout_s : 5.0) * 1000);
	if (t->connect_timeout_ms < 1)
		t->connect_timeout_ms = 1;
	if (t->timeout_ms < 1)
		t->timeout_ms = 1;
	rm->read_only = cfg->read_only;
	rm->display = strbuf_detach(&display, NULL);
	*out = rm;
	return 0;
}

void cache_remote_close(struct cache_remote *rm)
{
	if (!rm)
		return;
	if (rm->b)
		rm->ops->close(rm->b);
	target_release(&rm->t);
	free(rm->display);
	free(rm);
}

const char *cache_remote_display(const struct cache_remote *rm)
{
	return rm->display;
}

bool cache_remote_read_only(const struct cache_remote *rm)
{
	return rm->read_only;
}

void remote_set_backend(struct cache_remote *rm, struct remote_backend *b,
			const struct remote_ops *ops)
{
	rm->b = b;
	rm->ops = ops;
}

/* ---- failures --------------------------------------------------------- */

/*
 * A server that timed out is not asked again by the runs that follow for
 * REMOTE_BACKOFF_S seconds: $CACHE/remote-down holds its display URL, and
 * its mtime is when it failed. Each run is a process of its own, so
 * without it a batch of 900 jobs against a server that hangs would pay
 * 900 timeouts instead of one.
 */
#define REMOTE_DOWN_FILE "remote-down"
#define REMOTE_BACKOFF_S 30

/* The server failed: one warning line, and no more requests this run. */
static void remote_disable(struct cache *c, struct cache_remote *rm,
			   struct cache_remote_counts *n, const char *why, int r)
{
	_cleanup_free_ char *line = NULL;

	if (rm->disabled)
		return;
	rm->disabled = true;
	n->errors++;
	warn("remote cache '%s' disabled for this run: %s", rm->display,
	     why && *why ? why : "failed");
	if (r != -ETIMEDOUT)
		return;	/* instant failures cost the next runs nothing */
	line = xasprintf("%s\n", rm->display);
	if (write_file_atomic_at(c->dirfd, REMOTE_DOWN_FILE, line, strlen(line),
				 0644, 0) < 0)
		debug("remote: cannot write '%s/%s'", cache_path(c), REMOTE_DOWN_FILE);
}

/* Did this remote fail less than REMOTE_BACKOFF_S ago? */
static bool remote_recently_down(struct cache *c, struct cache_remote *rm,
				 long *ago)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	struct stat st;
	struct timespec now;

	if (fstatat(c->dirfd, REMOTE_DOWN_FILE, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    strbuf_read_file_at(&sb, c->dirfd, REMOTE_DOWN_FILE, 256) <= 0)
		return false;
	clock_gettime(CLOCK_REALTIME, &now);
	*ago = (long)(now.tv_sec - st.st_mtim.tv_sec);
	return *ago >= 0 && *ago < REMOTE_BACKOFF_S && sb.len == strlen(rm->display) + 1 &&
	       !memcmp(sb.buf, rm->display, sb.len - 1);
}

int remote_connect(struct cache_remote *rm, struct remote_backend **b,
		   const struct remote_ops **ops, const struct remote_target **t,
		   struct strbuf *err)
{
	int r = 0;

	if (!rm->b) {
		if (!strncmp(rm->t.scheme, "redis", 5))
			r = remote_redis_new(&rm->t, &rm->b, &rm->ops, err);
		else
			r = remote_http_new(&rm->t, &rm->b, &rm->ops, err);
		if (r < 0)
			rm->b = NULL;
	}
	*b = rm->b;
	*ops = rm->ops;
	*t = &rm->t;
	return r;
}

/* The backend, made on first use; false when the remote is off. */
static bool remote_ready(struct cache *c, struct cache_remote *rm,
			 struct cache_remote_counts *n)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	long ago;
	int r;

	if (rm->disabled)
		return false;
	if (rm->b)
		return true;
	if (remote_recently_down(c, rm, &ago)) {
		rm->disabled = true;
		warn("remote cache '%s' skipped for this run: it timed out %ld s ago (asked again %d s after)",
		     rm->display, ago, REMOTE_BACKOFF_S);
		return false;
	}
	struct remote_backend *b;
	const struct remote_ops *ops;
	const struct remote_target *t;

	r = remote_connect(rm, &b, &ops, &t, &err);
	if (r < 0) {
		remote_disable(c, rm, n, err.buf, r);
		return false;
	}
	return true;
}

int remote_sink_write(struct remote_sink *s, const void *data, size_t len)
{
	if (s->got + len > s->max || s->got + len < s->got)
		return -EFBIG;
	s->got += len;
	if (s->hasher)
		pc_hasher_update(s->hasher, data, len);
	if (s->buf) {
		strbuf_add(s->buf, data, len);
		return 0;
	}
	ssize_t n = write_full(s->fd, data, len);
	return n < 0 ? (int)n : 0;
}

/* ---- the read path's checks (fuzzed) ------------------------------- */

bool remote_id_valid(const char *s, size_t len)
{
	if (len != ENTRY_ID_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

void remote_index_parse(const char *buf, size_t len, char ***ids, size_t *nr)
{
	size_t hl = strlen(REMOTE_INDEX_HEADER), alloc = 0, n = 0;
	char **v = NULL;
	const char *p, *end = buf + len;

	*ids = NULL;
	*nr = 0;
	if (len < hl || len > REMOTE_INDEX_MAX_BYTES || memcmp(buf, REMOTE_INDEX_HEADER, hl))
		return;
	for (p = buf + hl; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl || !remote_id_valid(p, (size_t)(nl - p))) {
			for (size_t i = 0; i < n; i++)
				free(v[i]);
			free(v);
			return;
		}
		ALLOC_GROW(v, n + 1, alloc);
		v[n++] = xstrndup(p, (size_t)(nl - p));
		p = nl + 1;
	}
	*ids = v;
	*nr = n;
}

int remote_entry_check(const void *buf, size_t len, const char *key_hex,
		       const char *id, struct cache_entry **out,
		       struct strbuf *why)
{
	char got[ENTRY_ID_LEN + 1];
	struct cache_entry *e;
	int r;

	*out = NULL;
	r = entry_decode(buf, len, &e, why);
	if (r < 0)
		return r;
	if (strcmp(e->key_hex, key_hex)) {
		cache_entry_free(e);
		return strbuf_error(why, -EBADMSG, "entry of another key");
	}
	entry_compute_id(e, got);
	if (strcmp(got, id)) {
		cache_entry_free(e);
		return strbuf_error(why, -EBADMSG, "entry whose preconditions are not its name's");
	}
	memcpy(e->id_hex, id, sizeof(e->id_hex));
	snprintf(e->name, sizeof(e->name), "%s/%s", key_hex, id);
	*out = e;
	return 0;
}

/* ---- lookup ----------------------------------------------------------- */

/* Blobs asked for at once (one round trip), and their bytes at most. */
#define REMOTE_BATCH 16
#define REMOTE_BATCH_BYTES ((uint64_t)64 << 20)

/* A blob of a remote hit that the local store lacks. */
struct want {
	const struct pc_hash *h;
	uint64_t size;
	char hex[PC_HASH_HEX_LEN + 1];
	struct strbuf tmp;	/* its file in tmp/ */
	struct pc_hasher hasher;	/* fed as it arrives */
};

/*
 * An empty blob needs no request: its content is known. 0, -EBADMSG when
 * @h is not the hash of nothing (the entry lies), -errno of the disk.
 */
static int store_empty_blob(struct cache *c, const struct pc_hash *h,
			    struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf tmp = STRBUF_INIT;
	struct pc_hasher hs;
	struct pc_hash empty;
	int fd, r;

	pc_hasher_init(&hs);
	pc_hasher_final(&hs, &empty);
	pc_hasher_release(&hs);
	if (!pc_hash_equal(&empty, h))
		return -EBADMSG;
	fd = blob_tmp_open(c, &tmp);
	if (fd < 0)
		return strbuf_error(err, fd, "cannot write in '%s/tmp': %s",
				    cache_path(c), strerror(-fd));
	close(fd);
	r = blob_tmp_commit(c, tmp.buf, h);
	if (r < 0) {
		unlinkat(c->tmp_fd, tmp.buf, 0);
		return strbuf_error(err, r, "cannot store a blob in '%s/blobs': %s",
				    cache_path(c), strerror(-r));
	}
	return 0;
}

/*
 * Fetch the blobs @w[0..@n) into the local blob store, all asked for at
 * once (get_many: one round trip), each written to tmp/ and hashed as it
 * arrives, checked against its name and size, then renamed into blobs/.
 * 0, -ENOENT (one is absent on the server), -EBADMSG (the server's bytes
 * are not the blob), another -errno when the server or the local disk
 * failed (@err says which: @server_failed).
 */
static int fetch_blobs(struct cache *c, struct cache_remote *rm,
		       struct want *w, size_t n, struct cache_remote_counts *cn,
		       bool *server_failed, struct strbuf *err)
{
	struct remote_sink sinks[REMOTE_BATCH];
	const char *names[REMOTE_BATCH];
	int rets[REMOTE_BATCH];
	size_t i, opened = 0;
	int r = 0;

	*server_failed = false;
	for (i = 0; i < n; i++) {
		int fd = blob_tmp_open(c, &w[i].tmp);

		if (fd < 0) {
			r = strbuf_error(err, fd, "cannot write in '%s/tmp': %s",
					 cache_path(c), strerror(-fd));
			goto out;
		}
		opened++;
		pc_hasher_init(&w[i].hasher);
		sinks[i] = (struct remote_sink){ .fd = fd, .max = w[i].size,
						 .hasher = &w[i].hasher };
		names[i] = w[i].hex;
		rets[i] = -EIO;
	}
	if (rm->ops->get_many) {
		r = rm->ops->get_many(rm->b, REMOTE_BLOB, names, sinks, rets, n, err);
	} else {
		for (i = 0; r == 0 && i < n; i++) {
			rets[i] = rm->ops->get(rm->b, REMOTE_BLOB, names[i], &sinks[i], err);
			if (rets[i] < 0 && rets[i] != -ENOENT && rets[i] != -EFBIG)
				r = rets[i];
		}
	}
	for (i = 0; i < n; i++)
		cn->bytes_down += sinks[i].got;
	if (r < 0) {
		*server_failed = true;
		goto out;
	}
	for (i = 0; i < n && r == 0; i++) {
		struct pc_hash got;

		if (rets[i] == -ENOENT)
			r = -ENOENT;
		else if (rets[i] == -EFBIG || sinks[i].got != w[i].size)
			r = -EBADMSG;
		else if (rets[i] < 0)
			r = -EBADMSG;
		if (r == 0) {
			pc_hasher_final(&w[i].hasher, &got);
			if (!pc_hash_equal(&got, w[i].h))
				r = -EBADMSG;
		}
		if (r < 0)
			debug("remote: blob %s is %s on the server", w[i].hex,
			      r == -ENOENT ? "missing" : "damaged");
	}
out:
	for (i = 0; i < opened; i++) {
		close(sinks[i].fd);
		pc_hasher_release(&w[i].hasher);
		if (r == 0) {
			int rc = blob_tmp_commit(c, w[i].tmp.buf, w[i].h);

			if (rc < 0) {
				r = strbuf_error(err, rc, "cannot store blob %s in '%s/blobs': %s",
						 w[i].hex, cache_path(c), strerror(-rc));
				continue;
			}
		} else {
			unlinkat(c->tmp_fd, w[i].tmp.buf, 0);
		}
	}
	return r;
}

/* Fetch and check candidate @id of @key_hex: 0 and *@out, -ENOENT when
 * absent or unusable, another -errno when the server failed. */
static int fetch_entry(struct cache_remote *rm, const char *key_hex,
		       const char *id, struct strbuf *data,
		       struct cache_entry **out, struct cache_remote_counts *n,
		       struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf name = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf why = STRBUF_INIT;
	struct remote_sink sink = { .buf = data, .fd = -1, .max = REMOTE_ENTRY_MAX };
	int r;

	*out = NULL;
	strbuf_addf(&name, "%s/%s", key_hex, id);
	r = rm->ops->get(rm->b, REMOTE_ENTRY, name.buf, &sink, err);
	n->bytes_down += sink.got;
	if (r == -EFBIG) {
		debug("remote: entry %s is too large: ignored", name.buf);
		return -ENOENT;
	}
	if (r < 0)
		return r;
	if (remote_entry_check(data->buf, data->len, key_hex, id, out, &why) < 0) {
		debug("remote: entry %s is unusable: %s", name.buf, why.buf);
		return -ENOENT;
	}
	return 0;
}

static bool have_local_entry(struct cache *c, const char *key_hex, const char *id)
{
	_cleanup_strbuf_ struct strbuf rel = STRBUF_INIT;

	layout_entry_rel(key_hex, id, &rel);
	return faccessat(c->keys_fd, rel.buf, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/*
 * The entry @e (whose bytes are @data) holds: its blobs into the local
 * store, then the entry itself, then read back as a local hit. 1 and
 * *@hit, 0 when a blob is missing or bad on the server (a miss for this
 * candidate), -errno when the server failed (@err) or the local cache
 * could not take it.
 */
static int backfill(struct cache *c, struct cache_remote *rm,
		    const struct cache_entry *e, const struct strbuf *data,
		    struct cache_entry **hit, struct cache_remote_counts *n,
		    bool *server_failed, struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf rel = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf why = STRBUF_INIT;
	struct want w[REMOTE_BATCH];
	const struct pc_hash *h;
	uint64_t size, before = n->bytes_down, batch_bytes = 0;
	size_t i = 0, nw = 0;
	bool more = true;
	int r = 0;

	*server_failed = false;
	for (size_t k = 0; k < REMOTE_BATCH; k++)
		strbuf_init(&w[k].tmp, 0);
	while (r == 0 && more) {
		more = entry_next_blob(e, &i, &h, &size);
		if (more && size == 0 && blob_check(c, h, size, true) != 0) {
			r = store_empty_blob(c, h, err);
		} else if (more && blob_check(c, h, size, true) != 0) {
			bool dup = false;

			for (size_t k = 0; k < nw; k++)
				dup = dup || pc_hash_equal(w[k].h, h);
			if (!dup) {
				w[nw].h = h;
				w[nw].size = size;
				pc_hash_to_hex(h, w[nw].hex);
				strbuf_reset(&w[nw].tmp);
				nw++;
				batch_bytes += size;
			}
		}
		if (nw && (!more || nw == REMOTE_BATCH || batch_bytes >= REMOTE_BATCH_BYTES)) {
			r = fetch_blobs(c, rm, w, nw, n, server_failed, err);
			nw = 0;
			batch_bytes = 0;
		}
	}
	for (size_t k = 0; k < REMOTE_BATCH; k++)
		strbuf_release(&w[k].tmp);
	if (r == -ENOENT || r == -EBADMSG) {
		debug("remote: entry %.8s: a blob is %s on the server: a miss", e->id_hex,
		      r == -ENOENT ? "missing" : "damaged");
		return 0;
	}
	if (r < 0)
		return r;
	r = entryfile_write(c, e->key_hex, e->id_hex, data, err);
	if (r < 0)
		return r;
	stats_count_store(c, (int64_t)(n->bytes_down - before));
	layout_entry_rel(e->key_hex, e->id_hex, &rel);
	r = entryfile_read(c, rel.buf, 0, hit, &why);
	if (r < 0)
		return strbuf_error(err, r, "cannot read back entry '%s': %s",
				    rel.buf, why.buf);
	entry_rebase(c, *hit);	/* it was, as the candidate: cannot fail */
	entryfile_count_hit(c, rel.buf);
	return 1;
}

/*
 * A writer's remote hit on @e: a new lease of the TTL for its blobs, the
 * entry and the index (backends with an expiry: Redis), so that what is
 * used stays. Read-only handles never write, not even this.
 */
static void remote_refresh(struct cache *c, struct cache_remote *rm,
			   const struct cache_entry *e,
			   struct cache_remote_counts *n)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf name = STRBUF_INIT;
	const struct pc_hash *h;
	char (*hex)[PC_HASH_HEX_LEN + 1] = NULL;
	const char **names = NULL;
	size_t i = 0, nr = 0, alloc = 0, alloc2 = 0;
	uint64_t size;
	int r;

	if (rm->read_only || !rm->ops->refresh || !rm->t.ttl_s || rm->disabled)
		return;
	while (entry_next_blob(e, &i, &h, &size)) {
		ALLOC_GROW(hex, nr + 1, alloc);
		pc_hash_to_hex(h, hex[nr]);
		nr++;
	}
	ALLOC_GROW(names, nr + 1, alloc2);
	for (i = 0; i < nr; i++)
		names[i] = hex[i];
	strbuf_addf(&name, "%s/%s", e->key_hex, e->id_hex);
	r = rm->ops->refresh(rm->b, name.buf, names, nr, &err);
	if (r < 0)
		remote_disable(c, rm, n, err.buf, r);
	free(names);
	free(hex);
}

int cache_remote_lookup(struct cache *c, struct cache_remote *rm,
			const struct cache_key *ck, struct cache_entry **hit)
{
	struct cache_key *k = (struct cache_key *)ck;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct cache_remote_counts n = { 0 };
	struct lookup *l = NULL;
	char **ids = NULL;
	size_t nr = 0, tried = 0;
	const char *key_hex = cache_key_hex(k);
	int r, found = 0;

	*hit = NULL;
	if (!remote_ready(c, rm, &n))
		goto out;
	r = rm->ops->index_get(rm->b, key_hex, &ids, &nr, &err);
	if (r < 0 && r != -ENOENT) {
		remote_disable(c, rm, &n, err.buf, r);
		goto out;
	}
	debug("remote: key %s: %zu candidates", key_hex, nr);
	for (size_t i = nr; i-- > 0 && tried < REMOTE_MAX_CANDIDATES && !found;) {
		_cleanup_strbuf_ struct strbuf data = STRBUF_INIT;
		struct cache_entry *e;
		bool server_failed = false;

		if (have_local_entry(c, key_hex, ids[i]))
			continue;
		tried++;
		strbuf_reset(&err);
		r = fetch_entry(rm, key_hex, ids[i], &data, &e, &n, &err);
		if (r == -ENOENT)
			continue;
		if (r < 0) {
			remote_disable(c, rm, &n, err.buf, r);
			break;
		}
		if (!l)
			l = lookup_new(c);
		if (!entry_rebase(c, e) || !lookup_entry_holds(l, e)) {
			debug("remote: entry %.8s: preconditions fail", e->id_hex);
			cache_entry_free(e);
			continue;
		}
		r = backfill(c, rm, e, &data, hit, &n, &server_failed, &err);
		cache_entry_free(e);
		if (r < 0 && server_failed) {
			remote_disable(c, rm, &n, err.buf, r);
			break;
		}
		if (r < 0) {
			/* The local cache could not take it: run the job. */
			warn("cannot use the remote cache's entry: %s", err.buf);
			break;
		}
		found = r;
	}
	if (found) {
		remote_refresh(c, rm, *hit, &n);
		n.hits++;
		info("remote hit: entry %s from '%s'", cache_entry_id(*hit),
		     rm->display);
	} else if (!rm->disabled) {
		n.misses++;
	}
out:
	for (size_t i = 0; i < nr; i++)
		free(ids[i]);
	free(ids);
	lookup_free(l);
	stats_count_remote(c, &n);
	return found;
}

/* ---- upload ----------------------------------------------------------- */

/* The local file @rel under @dirfd, mapped (or read when empty): the
 * caller munmaps @len bytes at *@data when @len > 0. */
static int map_file(int dirfd, const char *rel, void **data, size_t *len)
{
	_cleanup_close_ int fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;

	*data = NULL;
	*len = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_size == 0)
		return 0;
	*data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (*data == MAP_FAILED) {
		*data = NULL;
		return -errno;
	}
	*len = (size_t)st.st_size;
	return 0;
}

void cache_remote_upload(struct cache *c, struct cache_remote *rm,
			 const struct cache_entry *e)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf rel = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf name = STRBUF_INIT;
	struct cache_remote_counts n = { 0 };
	const struct pc_hash *h;
	uint64_t size;
	size_t i = 0, len;
	void *data;
	int r;

	if (rm->read_only || !remote_ready(c, rm, &n))
		goto out;
	while (entry_next_blob(e, &i, &h, &size)) {
		char hex[PC_HASH_HEX_LEN + 1];

		pc_hash_to_hex(h, hex);
		strbuf_reset(&err);
		r = rm->ops->exists(rm->b, REMOTE_BLOB, hex, &err);
		if (r < 0) {
			remote_disable(c, rm, &n, err.buf, r);
			goto out;
		}
		if (r == 1)
			continue;
		cache_blob_relpath(h, &rel);
		r = map_file(c->blobs_fd, rel.buf, &data, &len);
		if (r < 0) {
			debug("remote: cannot read blob '%s' to upload: %s", rel.buf,
			      strerror(-r));
			goto out;	/* the entry would name a missing blob */
		}
		r = rm->ops->put(rm->b, REMOTE_BLOB, hex, data ? data : "", len, &err);
		if (data)
			munmap(data, len);
		if (r < 0) {
			remote_disable(c, rm, &n, err.buf, r);
			goto out;
		}
		n.bytes_up += len;
	}
	layout_entry_rel(e->key_hex, e->id_hex, &rel);
	r = map_file(c->keys_fd, rel.buf, &data, &len);
	if (r < 0 || !data) {
		debug("remote: cannot read entry '%s' to upload: %s", rel.buf,
		      strerror(r < 0 ? -r : EINVAL));
		goto out;
	}
	strbuf_addf(&name, "%s/%s", e->key_hex, e->id_hex);
	r = rm->ops->put(rm->b, REMOTE_ENTRY, name.buf, data, len, &err);
	munmap(data, len);
	if (r == 0) {
		n.bytes_up += len;
		r = rm->ops->index_add(rm->b, e->key_hex, e->id_hex, &err);
	}
	if (r < 0)
		remote_disable(c, rm, &n, err.buf, r);
	else
		debug("remote: uploaded entry %s", name.buf);
out:
	stats_count_remote(c, &n);
}

/*
 * The HTTP backend of the remote cache (DESIGN.md section 11): GET, HEAD
 * and PUT of <prefix>/b/ab/<hash>, <prefix>/k/ab/<key>/<id> and
 * <prefix>/k/ab/<key>/index, as nginx's WebDAV PUT, Apache mod_dav or an
 * object store's HTTP gateway serve them, through libcurl.
 *
 * libcurl is loaded with dlopen("libcurl.so.4") when the first request is
 * made, not linked: with OpenSSL, nghttp2, krb5, LDAP and the rest it
 * pulls in, linking it would cost every procache process, hits without a
 * remote included, its start-up time (docs/BENCHMARKS.md). Its header
 * gives the types and constants; the ABI of libcurl.so.4 has been stable
 * since 2006.
 *
 * One easy handle serves the whole process, so its connection is reused
 * (keep-alive). Timeouts: CURLOPT_CONNECTTIMEOUT_MS, and a transfer that
 * moves less than one byte a second for the idle timeout (rounded up to
 * whole seconds, libcurl's unit) fails. A body that ends before its
 * Content-Length is CURLE_PARTIAL_FILE: a failure of the server.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cache/remote-internal.h"
#include "common/cleanup.h"
#include "common/die.h"
#include "common/dlsyms.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

#define LIBCURL_SONAME "libcurl.so.4"

struct curl_fns {
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
};

struct remote_backend {
	const struct remote_target *t;
	struct curl_fns f;
	CURL *h;
	struct curl_slist *headers;
	char *base;		/* scheme://host[:port]/prefix/ */
	char errbuf[CURL_ERROR_SIZE];
};

static int curl_load(struct curl_fns *f, struct strbuf *err)
{
	static void *handle;
	const struct dl_sym syms[] = {
		{ "curl_global_init", (void **)&f->global_init },
		{ "curl_easy_init", (void **)&f->easy_init },
		{ "curl_easy_setopt", (void **)&f->easy_setopt },
		{ "curl_easy_perform", (void **)&f->easy_perform },
		{ "curl_easy_getinfo", (void **)&f->easy_getinfo },
		{ "curl_easy_cleanup", (void **)&f->easy_cleanup },
		{ "curl_easy_strerror", (void **)&f->easy_strerror },
		{ "curl_slist_append", (void **)&f->slist_append },
		{ "curl_slist_free_all", (void **)&f->slist_free_all },
	};

	return dl_load(LIBCURL_SONAME, &handle, syms, sizeof(syms) / sizeof(*syms), err);
}

/* The URL of an object, or of the index of a key when @name is NULL. */
static void object_url(const struct remote_backend *b, enum remote_obj kind,
		       const char *name, struct strbuf *out)
{
	strbuf_reset(out);
	strbuf_addstr(out, b->base);
	switch (kind) {
	case REMOTE_BLOB:
		strbuf_addf(out, "b/%.2s/%s", name, name);
		break;
	case REMOTE_ENTRY:
		strbuf_addf(out, "k/%.2s/%s", name, name);
		break;
	}
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct remote_sink *s = ctx;
	size_t len = size * nmemb;

	if (!s)
		return len;
	s->err = remote_sink_write(s, data, len);
	return s->err < 0 ? 0 : len;
}

struct upload {
	const char *data;
	size_t len, off;
};

static size_t on_read(char *buf, size_t size, size_t nmemb, void *ctx)
{
	struct upload *u = ctx;
	size_t n = size * nmemb;

	if (n > u->len - u->off)
		n = u->len - u->off;
	memcpy(buf, u->data + u->off, n);
	u->off += n;
	return n;
}

enum method { M_GET, M_HEAD, M_PUT };

static const char *method_name(enum method m)
{
	switch (m) {
	case M_GET:
		return "GET";
	case M_HEAD:
		return "HEAD";
	case M_PUT:
		return "PUT";
	}
	return "?";
}

/*
 * One request. Returns the HTTP status (> 0), or -errno when no status
 * came (with @err), or -EFBIG when the body overflowed @sink.
 */
static long request(struct remote_backend *b, enum method m, const char *url,
		    struct remote_sink *sink, const void *data, size_t len,
		    struct strbuf *err)
{
	struct curl_fns *f = &b->f;
	struct upload up = { data, len, 0 };
	CURLcode rc;
	long status = 0;

	f->easy_setopt(b->h, CURLOPT_URL, url);
	f->easy_setopt(b->h, CURLOPT_HTTPGET, 1L);
	f->easy_setopt(b->h, CURLOPT_NOBODY, m == M_HEAD ? 1L : 0L);
	f->easy_setopt(b->h, CURLOPT_UPLOAD, m == M_PUT ? 1L : 0L);
	f->easy_setopt(b->h, CURLOPT_WRITEDATA, (void *)sink);
	if (m == M_PUT) {
		f->easy_setopt(b->h, CURLOPT_READDATA, (void *)&up);
		f->easy_setopt(b->h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	}
	b->errbuf[0] = '\0';
	rc = f->easy_perform(b->h);
	if (rc == CURLE_WRITE_ERROR && sink && sink->err == -EFBIG)
		return -EFBIG;
	if (rc != CURLE_OK) {
		strbuf_addf(err, "%s %s: %s", method_name(m), url,
			    b->errbuf[0] ? b->errbuf : f->easy_strerror(rc));
		return rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
	}
	f->easy_getinfo(b->h, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

/* A status that is not an answer: the server failed. */
static int bad_status(enum method m, const char *url, long status,
		      struct strbuf *err)
{
	strbuf_addf(err, "%s %s: HTTP %ld%s", method_name(m), url, status,
		    status == 401 ? " (wrong or missing credentials?)"
		    : status == 403 ? " (not allowed: credentials without write access? a reader wants --remote-read-only)"
		    : status == 405 ? " (does the server take PUT?)" : "");
	return status == 401 || status == 403 ? -EACCES : -EIO;
}

static int do_get(struct remote_backend *b, const char *url,
		  struct remote_sink *sink, struct strbuf *err)
{
	long st = request(b, M_GET, url, sink, NULL, 0, err);

	if (st < 0)
		return (int)st;
	if (st == 404)
		return -ENOENT;
	if (st != 200)
		return bad_status(M_GET, url, st, err);
	return 0;
}

static int do_put(struct remote_backend *b, const char *url, const void *data,
		  size_t len, struct strbuf *err)
{
	long st = request(b, M_PUT, url, NULL, data, len, err);

	if (st < 0)
		return (int)st;
	if (st != 200 && st != 201 && st != 204)
		return bad_status(M_PUT, url, st, err);
	return 0;
}

static int http_get(struct remote_backend *b, enum remote_obj kind,
		    const char *name, struct remote_sink *sink,
		    struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf url = STRBUF_INIT;

	object_url(b, kind, name, &url);
	return do_get(b, url.buf, sink, err);
}

static int http_exists(struct remote_backend *b, enum remote_obj kind,
		       const char *name, struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf url = STRBUF_INIT;
	long st;

	object_url(b, kind, name, &url);
	st = request(b, M_HEAD, url.buf, NULL, NULL, 0, err);
	if (st < 0)
		return (int)st;
	if (st == 404)
		return 0;
	if (st != 200)
		return bad_status(M_HEAD, url.buf, st, err);
	return 1;
}

static int http_put(struct remote_backend *b, enum remote_obj kind,
		    const char *name, const void *data, size_t len,
		    struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf url = STRBUF_INIT;

	object_url(b, kind, name, &url);
	return do_put(b, url.buf, data, len, err);
}

static void index_url(const struct remote_backend *b, const char *key_hex,
		      struct strbuf *out)
{
	strbuf_reset(out);
	strbuf_addf(out, "%sk/%.2s/%s/index", b->base, key_hex, key_hex);
}

static int http_index_get(struct remote_backend *b, const char *key_hex,
			  char ***ids, size_t *nr, struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf url = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf body = STRBUF_INIT;
	struct remote_sink sink = { .buf = &body, .fd = -1,
				    .max = REMOTE_INDEX_MAX_BYTES };
	int r;

	*ids = NULL;
	*nr = 0;
	index_url(b, key_hex, &url);
	r = do_get(b, url.buf, &sink, err);
	if (r == -EFBIG || r == -ENOENT)
		return 0;	/* garbage or none: no candidates */
	if (r < 0)
		return r;
	remote_index_parse(body.buf, body.len, ids, nr);
	return 0;
}

/*
 * Read, merge, write: two writers of one key at once can lose one
 * another's id, which costs misses only (DESIGN.md section 11).
 */
static int http_index_add(struct remote_backend *b, const char *key_hex,
			  const char *id, struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf url = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf body = STRBUF_INIT;
	char **ids = NULL;
	size_t nr = 0, i, first;
	int r;

	r = http_index_get(b, key_hex, &ids, &nr, err);
	if (r < 0)
		return r;
	strbuf_addstr(&body, REMOTE_INDEX_HEADER);
	first = nr >= REMOTE_INDEX_MAX ? nr - REMOTE_INDEX_MAX + 1 : 0;
	for (i = 0; i < nr; i++) {
		if (i >= first && strcmp(ids[i], id))
			strbuf_addf(&body, "%s\n", ids[i]);
		free(ids[i]);
	}
	free(ids);
	strbuf_addf(&body, "%s\n", id);
	index_url(b, key_hex, &url);
	return do_put(b, url.buf, body.buf, body.len, err);
}

static void http_close(struct remote_backend *b)
{
	if (b->h)
		b->f.easy_cleanup(b->h);
	if (b->headers)
		b->f.slist_free_all(b->headers);
	free(b->base);
	free(b);
}

static const struct remote_ops http_ops = {
	.scheme_name = "http",
	.get = http_get,
	.exists = http_exists,
	.put = http_put,
	.index_get = http_index_get,
	.index_add = http_index_add,
	.close = http_close,
};

int remote_http_new(const struct remote_target *t, struct remote_backend **out,
		    const struct remote_ops **ops, struct strbuf *err)
{
	struct remote_backend *b = xcalloc(1, sizeof(*b));
	struct curl_fns *f = &b->f;
	int r;

	*out = NULL;
	b->t = t;
	r = curl_load(f, err);
	if (r < 0) {
		free(b);
		return r;
	}
	/* No CURL_GLOBAL_SSL-sensitive threads exist in procache. */
	if (f->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    !(b->h = f->easy_init())) {
		free(b);
		return strbuf_error(err, -ENOMEM, "cannot initialise libcurl");
	}
	if (t->port)
		b->base = xasprintf("%s://%s:%u%s", t->scheme, t->host, t->port, t->path);
	else
		b->base = xasprintf("%s://%s%s", t->scheme, t->host, t->path);
	/* No "Expect: 100-continue" wait before a PUT body. */
	b->headers = f->slist_append(NULL, "Expect:");
	if (t->token) {
		_cleanup_free_ char *h = xasprintf("Authorization: Bearer %s", t->token);

		b->headers = f->slist_append(b->headers, h);
	}
	f->easy_setopt(b->h, CURLOPT_HTTPHEADER, b->headers);
	if (t->user || t->password) {
		f->easy_setopt(b->h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		f->easy_setopt(b->h, CURLOPT_USERNAME, t->user ? t->user : "");
		f->easy_setopt(b->h, CURLOPT_PASSWORD, t->password ? t->password : "");
	}
	if (t->ca_file)
		f->easy_setopt(b->h, CURLOPT_CAINFO, t->ca_file);
	f->easy_setopt(b->h, CURLOPT_SSL_VERIFYPEER, 1L);
	f->easy_setopt(b->h, CURLOPT_SSL_VERIFYHOST, 2L);
#if LIBCURL_VERSION_NUM >= 0x075500
	f->easy_setopt(b->h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	f->easy_setopt(b->h, CURLOPT_PROTOCOLS,
		       (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	f->easy_setopt(b->h, CURLOPT_FOLLOWLOCATION, 0L);
	f->easy_setopt(b->h, CURLOPT_NOSIGNAL, 1L);
	f->easy_setopt(b->h, CURLOPT_USERAGENT, "procache/" PROCACHE_VERSION);
	f->easy_setopt(b->h, CURLOPT_CONNECTTIMEOUT_MS, t->connect_timeout_ms);
	f->easy_setopt(b->h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	f->easy_setopt(b->h, CURLOPT_LOW_SPEED_TIME, (t->timeout_ms + 999) / 1000);
	f->easy_setopt(b->h, CURLOPT_WRITEFUNCTION, on_body);
	f->easy_setopt(b->h, CURLOPT_READFUNCTION, on_read);
	f->easy_setopt(b->h, CURLOPT_ERRORBUFFER, b->errbuf);
	f->easy_setopt(b->h, CURLOPT_TCP_NODELAY, 1L);
	*out = b;
	*ops = &http_ops;
	return 0;
}

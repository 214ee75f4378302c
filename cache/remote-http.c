/*
 * The HTTP backend of the remote cache (DESIGN.md section 11): GET, HEAD
 * and PUT of <prefix>/b/ab/<hash>, <prefix>/k/ab/<key>/<id> and
 * <prefix>/k/ab/<key>/index, as nginx's WebDAV PUT, Apache mod_dav or an
 * object store's HTTP gateway serve them.
 *
 * http:// goes through a small HTTP/1.1 client of our own (as ccache
 * does): one kept-alive connection per process (cache/remote-conn.c;
 * reconnected once when the server closed it between requests),
 * Content-Length and chunked bodies, the idle timeout on every wait; a body that stops
 * short of its length, or an answer that is not HTTP, is a failure of
 * the server. https:// goes through libcurl, for TLS: it is loaded with
 * dlopen("libcurl.so.4") when the first request is made, never linked —
 * with OpenSSL, nghttp2, krb5, LDAP and the rest it pulls in, loading it
 * costs some 40 ms here (docs/BENCHMARKS.md), which neither a run without
 * a remote nor a plain-http remote hit should pay. Its header gives the
 * types and constants; the ABI of libcurl.so.4 has been stable since
 * 2006. One easy handle serves the process, so its connection is reused;
 * timeouts: CURLOPT_CONNECTTIMEOUT_MS, and a transfer that moves less than
 * one byte a second for the idle timeout (rounded up to whole seconds)
 * fails; a body short of its Content-Length is CURLE_PARTIAL_FILE. Every
 * request, on either path, also has an overall deadline (remote_deadline_ms():
 * 4x the idle timeout, plus a body of known size at 1 MiB/s): the idle
 * timeout alone lets a server that trickles bytes hold a run for ever.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

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
	char *base;		/* scheme://host[:port]/prefix/ */
	bool plain;		/* http: our client; https: libcurl */
	/* plain http */
	struct remote_conn conn;	/* the kept-alive connection */
	uint64_t discard_left;	/* what may still be read of a body dropped */
	bool earn;		/* a wanted body of unknown size: see plain_body() */
	uint64_t earned;	/* bytes of it not yet added to the deadline */
	char *hosthdr;		/* Host: */
	char *auth;		/* "Authorization: ...\r\n", or NULL */
	/* https */
	struct curl_fns f;
	CURL *h;
	struct curl_slist *headers;
	struct curl_slist *depth;	/* headers of a PROPFIND, while it runs */
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

enum method { M_GET, M_HEAD, M_PUT, M_PROPFIND, M_DELETE };

static const char *method_name(enum method m)
{
	switch (m) {
	case M_GET:
		return "GET";
	case M_HEAD:
		return "HEAD";
	case M_PUT:
		return "PUT";
	case M_PROPFIND:
		return "PROPFIND";
	case M_DELETE:
		return "DELETE";
	}
	return "?";
}

/*
 * The deadline of a libcurl request (as the plain client's): @base_ms
 * from its start, plus its download's size at REMOTE_MIN_RATE once the
 * size is known (else what of it came). CURLOPT_TIMEOUT_MS bounds it too, for when libcurl
 * calls no progress function.
 */
struct curl_deadline {
	struct timespec t0;
	uint64_t base_ms;
	bool expired;
};

static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	struct curl_deadline *d = ctx;
	struct timespec now;
	uint64_t ms;

	(void)ulnow;
	/* a download of unknown size: what came so far, as the plain client */
	if (dltotal <= 0)
		dltotal = dlnow > 0 ? dlnow : 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (uint64_t)((int64_t)(now.tv_sec - d->t0.tv_sec) * 1000 +
			(now.tv_nsec - d->t0.tv_nsec) / 1000000);
	if (ms > d->base_ms + remote_deadline_ms(0, (uint64_t)dltotal +
						    (uint64_t)(ultotal > 0 ? ultotal : 0))) {
		d->expired = true;
		return 1;
	}
	return 0;
}

static long clamp_long(uint64_t v)
{
	return v > (uint64_t)LONG_MAX ? LONG_MAX : (long)v;
}

/* One request through libcurl (https): as request() below. */
static long curl_request(struct remote_backend *b, enum method m, const char *url,
			 struct remote_sink *sink, const void *data, size_t len,
			 struct strbuf *err)
{
	struct curl_fns *f = &b->f;
	struct upload up = { data, len, 0 };
	struct curl_deadline dl = {
		.base_ms = remote_deadline_ms(b->t->timeout_ms, 0),
	};
	CURLcode rc;
	long status = 0;

	clock_gettime(CLOCK_MONOTONIC, &dl.t0);
	f->easy_setopt(b->h, CURLOPT_XFERINFODATA, (void *)&dl);
	/* the hard bound: the largest body this request may move */
	f->easy_setopt(b->h, CURLOPT_TIMEOUT_MS,
		       clamp_long(remote_deadline_ms(b->t->timeout_ms,
						     m == M_PUT ? len
						     : sink ? sink->max : 0)));

	f->easy_setopt(b->h, CURLOPT_URL, url);
	f->easy_setopt(b->h, CURLOPT_HTTPGET, 1L);
	f->easy_setopt(b->h, CURLOPT_NOBODY, m == M_HEAD ? 1L : 0L);
	f->easy_setopt(b->h, CURLOPT_UPLOAD, m == M_PUT ? 1L : 0L);
	f->easy_setopt(b->h, CURLOPT_WRITEDATA, (void *)sink);
	f->easy_setopt(b->h, CURLOPT_CUSTOMREQUEST,
		       m == M_PROPFIND || m == M_DELETE ? method_name(m) : NULL);
	if (m == M_PROPFIND) {
		b->depth = f->slist_append(NULL, "Depth: 1");
		for (const struct curl_slist *h = b->headers; h; h = h->next)
			b->depth = f->slist_append(b->depth, h->data);
		f->easy_setopt(b->h, CURLOPT_HTTPHEADER, b->depth);
	}
	if (m == M_PUT) {
		f->easy_setopt(b->h, CURLOPT_READDATA, (void *)&up);
		f->easy_setopt(b->h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	}
	b->errbuf[0] = '\0';
	rc = f->easy_perform(b->h);
	if (b->depth) {
		f->easy_setopt(b->h, CURLOPT_HTTPHEADER, b->headers);
		f->slist_free_all(b->depth);
		b->depth = NULL;
	}
	if (rc == CURLE_WRITE_ERROR && sink && sink->err == -EFBIG)
		return -EFBIG;
	if (rc == CURLE_ABORTED_BY_CALLBACK && dl.expired) {
		strbuf_addf(err, "%s %s: timed out (no complete answer in time)",
			    method_name(m), url);
		return -ETIMEDOUT;
	}
	if (rc != CURLE_OK) {
		strbuf_addf(err, "%s %s: %s", method_name(m), url,
			    b->errbuf[0] ? b->errbuf : f->easy_strerror(rc));
		return rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
	}
	f->easy_getinfo(b->h, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

/* ---- plain http: a small HTTP/1.1 client ------------------------------ */

/*
 * What an answer may hold beyond its body: a server that sends header
 * lines (or trailers) without end is not a cache, and each line read
 * also costs the deadline's time. A body that is not the object (an error
 * page, a PUT's answer) is read up to PLAIN_DISCARD_MAX to keep the
 * connection, else the connection is closed instead.
 */
#define PLAIN_LINE_MAX 8192
#define PLAIN_HEADERS_MAX 100
#define PLAIN_DISCARD_MAX (64 * 1024)

static void plain_disconnect(struct remote_backend *b)
{
	remote_conn_close(&b->conn);
}

/* One line of the response head (without CRLF) into @line. */
static int plain_line(struct remote_backend *b, struct strbuf *line)
{
	strbuf_reset(line);
	for (;;) {
		struct remote_conn *c = &b->conn;
		char *nl = memchr(c->in + c->in_off, '\n', c->in_len - c->in_off);
		size_t n = nl ? (size_t)(nl - (c->in + c->in_off)) + 1
			      : c->in_len - c->in_off;

		strbuf_add(line, c->in + c->in_off, n);
		c->in_off += n;
		if (line->len > PLAIN_LINE_MAX)
			return -EPROTO;
		if (nl) {
			strbuf_setlen(line, line->len - 1);
			if (line->len && line->buf[line->len - 1] == '\r')
				strbuf_setlen(line, line->len - 1);
			return 0;
		}
		int r = remote_conn_fill(c);
		if (r < 0)
			return r;
	}
}

/* @len bytes of body to @sink (NULL: dropped); -ENODATA if it stops short. */
static int plain_body(struct remote_backend *b, uint64_t len,
		      struct remote_sink *sink)
{
	struct remote_conn *c = &b->conn;

	while (len) {
		size_t n = c->in_len - c->in_off;
		int r;

		if (!n) {
			if ((r = remote_conn_fill(c)) < 0)
				return r;
			continue;
		}
		if (n > len)
			n = (size_t)len;
		if (sink && (r = remote_sink_write(sink, c->in + c->in_off, n)) < 0)
			return r;
		if (sink && b->earn) {
			/*
			 * Its size was not said (chunked, or up to the close):
			 * the deadline moves with what came, at REMOTE_MIN_RATE.
			 */
			b->earned += n;
			remote_conn_extend(c, remote_deadline_ms(0, b->earned));
			b->earned %= REMOTE_MIN_RATE / 1000;
		}
		if (!sink) {
			if (n > b->discard_left)
				return -EMSGSIZE;	/* plain_answer() closes */
			b->discard_left -= n;
		}
		c->in_off += n;
		len -= n;
	}
	return 0;
}

static int plain_chunked(struct remote_backend *b, struct remote_sink *sink,
			 struct strbuf *line)
{
	for (;;) {
		char *end;
		unsigned long long n;
		int r;

		if ((r = plain_line(b, line)) < 0)
			return r;
		errno = 0;
		n = strtoull(line->buf, &end, 16);
		if (end == line->buf || errno || (*end && *end != ';'))
			return -EPROTO;
		if (n == 0)
			break;
		if ((r = plain_body(b, n, sink)) < 0 || (r = plain_line(b, line)) < 0)
			return r;
		if (line->len)
			return -EPROTO;
	}
	for (int nr = 0; ; nr++) {	/* trailers, up to the empty line */
		int r = plain_line(b, line);
		if (r < 0)
			return r;
		if (!line->len)
			return 0;
		if (nr >= PLAIN_HEADERS_MAX)
			return -EPROTO;
	}
}

/*
 * Send one request on the connection and read the whole response: the
 * status (> 0) or -errno. @sent: whether any response byte came (a reused
 * connection that the server had closed fails before).
 */
/* The request line and headers of @m for @path (a body of @len) into @req. */
static void plain_head(const struct remote_backend *b, enum method m,
		       const char *path, size_t len, struct strbuf *req)
{
	strbuf_addf(req, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: procache/%s\r\n%s",
		    method_name(m), path, b->hosthdr, PROCACHE_VERSION,
		    b->auth ? b->auth : "");
	if (m == M_PUT)
		strbuf_addf(req, "Content-Length: %zu\r\n", len);
	if (m == M_PROPFIND)
		strbuf_addstr(req, "Depth: 1\r\n");
	strbuf_addstr(req, "\r\n");
}

/*
 * Read the answer to a request @m sent on the connection: the status
 * (> 0) or -errno; @answered: whether any of it came. A 200's (207's)
 * body goes to @sink. The connection is closed after it when the server
 * says so.
 */
static long plain_answer(struct remote_backend *b, enum method m,
			 struct remote_sink *sink, bool *answered)
{
	_cleanup_strbuf_ struct strbuf line = STRBUF_INIT;
	uint64_t clen = 0;
	bool has_len = false, chunked = false, close_after = false;
	long status;
	int r;

	*answered = false;
	if ((r = plain_line(b, &line)) < 0)
		return r;
	*answered = true;
	if (strncmp(line.buf, "HTTP/1.", 7) || line.len < 12 ||
	    sscanf(line.buf + 9, "%3ld", &status) != 1 || status < 100)
		return -EPROTO;
	if (!strncmp(line.buf, "HTTP/1.0", 8))
		close_after = true;
	for (int nr = 0; ; nr++) {
		if ((r = plain_line(b, &line)) < 0)
			return r;
		if (!line.len)
			break;
		if (nr >= PLAIN_HEADERS_MAX)
			return -EPROTO;
		if (!strncasecmp(line.buf, "Content-Length:", 15)) {
			char *end;

			errno = 0;
			clen = strtoull(line.buf + 15, &end, 10);
			if (errno || *end)
				return -EPROTO;
			has_len = true;
		} else if (!strncasecmp(line.buf, "Transfer-Encoding:", 18)) {
			chunked = strcasestr(line.buf + 18, "chunked") != NULL;
		} else if (!strncasecmp(line.buf, "Connection:", 11)) {
			if (strcasestr(line.buf + 11, "close"))
				close_after = true;
		}
	}
	if (status < 200)
		return -EPROTO;	/* no 1xx is asked for */
	if (status != 200 && status != 207)
		sink = NULL;	/* an error page is not the object */
	b->discard_left = PLAIN_DISCARD_MAX;
	/* The object's bytes, of known size, may take their time. */
	if (sink && has_len && m != M_HEAD)
		remote_conn_extend(&b->conn, remote_deadline_ms(0, clen));
	b->earn = sink && !has_len;
	b->earned = 0;
	if (m == M_HEAD || status == 204 || status == 304)
		r = 0;
	else if (chunked)
		r = plain_chunked(b, sink, &line);
	else if (has_len)
		r = plain_body(b, clen, sink);
	else {
		/* the body ends with the connection */
		close_after = true;
		while ((r = plain_body(b, UINT64_MAX, sink)) == 0)
			;
		if (r == -ENODATA)
			r = 0;
	}
	if (r == -EMSGSIZE && !sink) {
		/* a long body we do not want: not read, so not reusable */
		r = 0;
		close_after = true;
	}
	if (r < 0)
		return r;
	if (close_after)
		plain_disconnect(b);
	return status;
}

/* Send one request on the connection and read the whole response. */
static long plain_exchange(struct remote_backend *b, enum method m,
			   const char *path, struct remote_sink *sink,
			   const void *data, size_t len, bool *answered)
{
	_cleanup_strbuf_ struct strbuf req = STRBUF_INIT;
	int r;

	*answered = false;
	plain_head(b, m, path, len, &req);
	if ((r = remote_conn_send(&b->conn, req.buf, req.len)) < 0 ||
	    (m == M_PUT && len && (r = remote_conn_send(&b->conn, data, len)) < 0))
		return r;
	return plain_answer(b, m, sink, answered);
}

/* The message and -errno of a request that got no status (@st < 0). */
static long plain_fail(enum method m, const char *url, long st, struct strbuf *err)
{
	if (st == -EFBIG)
		return st;
	strbuf_addf(err, "%s %s: %s", method_name(m), url,
		    st == -ENODATA ? "the server closed the connection mid-answer"
		    : st == -EPROTO ? "not an HTTP answer"
		    : st == -ETIMEDOUT ? "timed out" : strerror((int)-st));
	return st == -ENODATA || st == -EPROTO ? -EIO : st;
}

/* One request over plain http: as request() below. */
static long plain_request(struct remote_backend *b, enum method m,
			  const char *url, struct remote_sink *sink,
			  const void *data, size_t len, struct strbuf *err)
{
	const char *path = url + strlen(b->base) - strlen(b->t->path);
	bool reused = b->conn.fd >= 0, answered = false;
	long st;

	for (int tries = 0; tries < 2; tries++) {
		if (b->conn.fd < 0) {
			int r = remote_conn_open(&b->conn, b->t, 80, false, err);

			if (r < 0)
				return r;
		}
		remote_conn_deadline(&b->conn,
				     remote_deadline_ms(b->t->timeout_ms,
							m == M_PUT ? len : 0));
		st = plain_exchange(b, m, path, sink, data, len, &answered);
		if (st >= 0)
			return st;
		plain_disconnect(b);
		/* a kept-alive connection the server closed meanwhile */
		if (!reused || answered || (st != -ENODATA && st != -EPIPE &&
					    st != -ECONNRESET))
			break;
		reused = false;
	}
	return plain_fail(m, url, st, err);
}

long remote_http_answer(int fd, bool head, struct remote_sink *sink)
{
	struct remote_backend *b = xcalloc(1, sizeof(*b));
	bool answered;
	long st;

	b->plain = true;
	remote_conn_init(&b->conn);
	b->conn.fd = fd;
	b->conn.timeout_ms = 1000;
	b->hosthdr = xstrdup("fuzz");
	st = plain_exchange(b, head ? M_HEAD : M_GET, "/x", sink, NULL, 0, &answered);
	b->conn.fd = -1;
	remote_conn_release(&b->conn);
	free(b->hosthdr);
	free(b);
	return st;
}

/*
 * One request. Returns the HTTP status (> 0), or -errno when no status
 * came (with @err; -ETIMEDOUT for a timeout), or -EFBIG when the body
 * overflowed @sink.
 */
static long request(struct remote_backend *b, enum method m, const char *url,
		    struct remote_sink *sink, const void *data, size_t len,
		    struct strbuf *err)
{
	if (b->plain)
		return plain_request(b, m, url, sink, data, len, err);
	return curl_request(b, m, url, sink, data, len, err);
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

/*
 * Several GETs at once (the blobs of a remote hit): with plain http, all
 * the requests in one write and the answers read in order (HTTP/1.1
 * pipelining), one round trip instead of @n; what the server leaves
 * unanswered (it closed the connection after an answer) and https go
 * one by one.
 */
static int http_get_many(struct remote_backend *b, enum remote_obj kind,
			 const char *const *names, struct remote_sink *sinks,
			 int *rets, size_t n, struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf req = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf url = STRBUF_INIT;
	size_t i = 0, skip = strlen(b->base) - strlen(b->t->path);
	bool reused = b->conn.fd >= 0, answered = false;
	long st = 0;
	int r;

	if (!b->plain || n < 2)
		goto one_by_one;
	if (!reused && (r = remote_conn_open(&b->conn, b->t, 80, false, err)) < 0)
		return r;
	for (i = 0; i < n; i++) {
		object_url(b, kind, names[i], &url);
		plain_head(b, M_GET, url.buf + skip, 0, &req);
	}
	st = remote_conn_send(&b->conn, req.buf, req.len);
	for (i = 0; st == 0 && i < n && b->conn.fd >= 0; i++) {
		st = plain_answer(b, M_GET, &sinks[i], &answered);
		if (st == -EFBIG) {
			plain_disconnect(b);	/* the rest of that body is unread */
			rets[i++] = -EFBIG;
			st = 0;
			break;
		}
		if (st < 0)
			break;
		object_url(b, kind, names[i], &url);
		if (st != 200 && st != 404)
			return bad_status(M_GET, url.buf, st, err);
		rets[i] = st == 200 ? 0 : -ENOENT;
		st = 0;
	}
	if (st < 0) {
		plain_disconnect(b);
		/* a kept-alive connection the server had closed: anew */
		if (!(i == 0 && reused && !answered &&
		      (st == -ENODATA || st == -EPIPE || st == -ECONNRESET))) {
			object_url(b, kind, names[i < n ? i : n - 1], &url);
			return (int)plain_fail(M_GET, url.buf, st, err);
		}
	}
one_by_one:
	for (; i < n; i++) {
		rets[i] = http_get(b, kind, names[i], &sinks[i], err);
		if (rets[i] < 0 && rets[i] != -ENOENT && rets[i] != -EFBIG)
			return rets[i];
	}
	return 0;
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

/* ---- listing and deleting, for `cache gc --remote` -------------------- */

/*
 * The next element named @name (any namespace prefix) in [@p, @end): its
 * text into @text/@tlen (up to the next '<'), and where to go on from.
 * NULL when there is none.
 */
static const char *xml_find(const char *p, const char *end, const char *name,
			    const char **text, size_t *tlen)
{
	size_t nl = strlen(name);

	while (p < end && (p = memchr(p, '<', (size_t)(end - p)))) {
		const char *t = ++p, *q;

		if (t < end && (*t == '/' || *t == '?' || *t == '!'))
			continue;
		q = t;
		while (q < end && *q != ':' && *q != '>' && *q != ' ' && *q != '/' &&
		       *q != '\t' && *q != '\r' && *q != '\n')
			q++;
		if (q < end && *q == ':')
			t = q + 1;
		if ((size_t)(end - t) <= nl || memcmp(t, name, nl) ||
		    !strchr(" \t\r\n/>", t[nl]))
			continue;
		q = memchr(t, '>', (size_t)(end - t));
		if (!q)
			return NULL;
		*text = q + 1;
		*tlen = 0;
		if (q[-1] != '/') {	/* not <x/> */
			const char *lt = memchr(q + 1, '<', (size_t)(end - q - 1));

			*tlen = (size_t)((lt ? lt : end) - (q + 1));
		}
		return q + 1;
	}
	return NULL;
}

void remote_listing_release(struct remote_listing *l)
{
	for (size_t i = 0; i < l->nr; i++)
		free(l->v[i].name);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void remote_propfind_parse(const char *xml, size_t len, const char *dir,
			   struct remote_listing *out)
{
	const char *end = xml + len, *p = xml, *t;
	size_t tl, dl = strlen(dir);

	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	for (p = xml_find(p, end, "response", &t, &tl); p;) {
		const char *next = xml_find(p, end, "response", &t, &tl);
		const char *stop = next ? next : end, *href, *name, *q;
		size_t hl;
		struct tm tm = { 0 };
		struct remote_listing_item it = { 0 };
		bool slash;

		if (!xml_find(p, stop, "href", &href, &hl) || !hl)
			goto next;
		/* an absolute URL: its path */
		if ((q = memmem(href, hl, "://", 3)) &&
		    (q = memchr(q + 3, '/', hl - (size_t)(q + 3 - href)))) {
			hl -= (size_t)(q - href);
			href = q;
		}
		slash = href[hl - 1] == '/';
		while (hl > 1 && href[hl - 1] == '/')
			hl--;
		if (hl == dl && !memcmp(href, dir, dl))
			goto next;	/* the directory itself */
		name = href + hl;
		while (name > href && name[-1] != '/')
			name--;
		it.name = xstrndup(name, (size_t)(href + hl - name));
		it.dir = slash || xml_find(p, stop, "collection", &t, &tl);
		if (xml_find(p, stop, "getlastmodified", &t, &tl) && tl < 64) {
			char date[64];

			memcpy(date, t, tl);
			date[tl] = '\0';
			q = strptime(date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
			if (q && !*q)
				it.mtime = (int64_t)timegm(&tm);
		}
		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		out->v[out->nr++] = it;
next:
		p = next;
	}
}

static int http_list(struct remote_backend *b, const char *rel,
		     struct remote_listing *out, struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf url = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf body = STRBUF_INIT;
	struct remote_sink sink = { .buf = &body, .fd = -1, .max = (uint64_t)256 << 20 };
	long st;

	strbuf_addf(&url, "%s%s", b->base, rel);
	st = request(b, M_PROPFIND, url.buf, &sink, NULL, 0, err);
	if (st == -EFBIG)
		return strbuf_error(err, -EFBIG, "PROPFIND %s: listing too large", url.buf);
	if (st < 0)
		return (int)st;
	if (st == 404)
		return -ENOENT;
	if (st != 207) {
		bad_status(M_PROPFIND, url.buf, st, err);
		if (st == 405 || st == 501)
			strbuf_addstr(err, " (does the server list directories? nginx: dav_ext_methods PROPFIND)");
		return -EIO;
	}
	remote_propfind_parse(body.buf, body.len, url.buf + strlen(b->base) - strlen(b->t->path),
			      out);
	return 0;
}

static int http_delete(struct remote_backend *b, const char *rel,
		       struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf url = STRBUF_INIT;
	long st;

	strbuf_addf(&url, "%s%s", b->base, rel);
	st = request(b, M_DELETE, url.buf, NULL, NULL, 0, err);
	if (st < 0)
		return (int)st;
	if (st == 404)
		return 0;	/* gone already: what was wanted */
	if (st != 200 && st != 204)
		return bad_status(M_DELETE, url.buf, st, err);
	return 0;
}

static void http_close(struct remote_backend *b)
{
	if (b->plain)
		remote_conn_release(&b->conn);
	if (b->h)
		b->f.easy_cleanup(b->h);
	if (b->headers)
		b->f.slist_free_all(b->headers);
	free(b->base);
	free(b->hosthdr);
	free(b->auth);
	free(b);
}

static void base64(const char *s, struct strbuf *out)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s);

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0) |
			     (i + 2 < len ? p[i + 2] : 0);

		strbuf_addch(out, tab[v >> 18 & 63]);
		strbuf_addch(out, tab[v >> 12 & 63]);
		strbuf_addch(out, i + 1 < len ? tab[v >> 6 & 63] : '=');
		strbuf_addch(out, i + 2 < len ? tab[v & 63] : '=');
	}
}

/* Plain http: our own client, no library to load (see the top). */
static void plain_new(struct remote_backend *b, const struct remote_target *t)
{
	b->plain = true;
	remote_conn_init(&b->conn);
	b->hosthdr = t->port ? xasprintf("%s:%u", t->host, t->port) : xstrdup(t->host);
	if (t->token) {
		b->auth = xasprintf("Authorization: Bearer %s\r\n", t->token);
	} else if (t->user || t->password) {
		_cleanup_free_ char *up = xasprintf("%s:%s", t->user ? t->user : "",
						    t->password ? t->password : "");
		struct strbuf sb = STRBUF_INIT;

		strbuf_addstr(&sb, "Authorization: Basic ");
		base64(up, &sb);
		strbuf_addstr(&sb, "\r\n");
		b->auth = strbuf_detach(&sb, NULL);
	}
}

static const struct remote_ops http_ops = {
	.scheme_name = "http",
	.get = http_get,
	.get_many = http_get_many,
	.exists = http_exists,
	.put = http_put,
	.index_get = http_index_get,
	.index_add = http_index_add,
	.list = http_list,
	.del = http_delete,
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
	if (t->port)
		b->base = xasprintf("%s://%s:%u%s", t->scheme, t->host, t->port, t->path);
	else
		b->base = xasprintf("%s://%s%s", t->scheme, t->host, t->path);
	if (!strcmp(t->scheme, "http")) {
		plain_new(b, t);
		*out = b;
		*ops = &http_ops;
		return 0;
	}
	r = curl_load(f, err);
	if (r < 0) {
		http_close(b);
		return r;
	}
	/* No CURL_GLOBAL_SSL-sensitive threads exist in procache. */
	if (f->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    !(b->h = f->easy_init())) {
		http_close(b);
		return strbuf_error(err, -ENOMEM, "cannot initialise libcurl");
	}
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
	f->easy_setopt(b->h, CURLOPT_XFERINFOFUNCTION, on_progress);
	f->easy_setopt(b->h, CURLOPT_NOPROGRESS, 0L);
	f->easy_setopt(b->h, CURLOPT_WRITEFUNCTION, on_body);
	f->easy_setopt(b->h, CURLOPT_READFUNCTION, on_read);
	f->easy_setopt(b->h, CURLOPT_ERRORBUFFER, b->errbuf);
	f->easy_setopt(b->h, CURLOPT_TCP_NODELAY, 1L);
	*out = b;
	*ops = &http_ops;
	return 0;
}

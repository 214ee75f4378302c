/*
 * The remote cache's connections (contract in cache/remote-internal.h):
 * one TCP stream, optionally TLS, with the timeouts of DESIGN.md section
 * 11 on every wait. The plain-http client (cache/remote-http.c) and the
 * Redis backend (cache/remote-redis.c, redis:// and rediss://) talk
 * through it.
 *
 * The socket is non-blocking and every wait is a poll(): the TCP connect
 * and the TLS handshake together get the connect timeout, each later wait
 * for the server the idle timeout. TLS is OpenSSL's libssl.so.3, loaded
 * with dlopen() when the first TLS connection is made (as libcurl is:
 * loading it with libcrypto costs a process some milliseconds, which a
 * run without a TLS remote must not pay); the header gives the types.
 * The peer's certificate is verified against the system's store, or
 * remote.ca_file when set, and must name the host (SSL_set1_host: a DNS
 * name or an IP address); there is no switch to turn that off. A client
 * certificate (remote.client_cert, remote.client_key) is offered when
 * set, for servers that ask for one (redis-server's default).
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "cache/remote-internal.h"
#include "common/cleanup.h"
#include "common/dlsyms.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

#define LIBSSL_SONAME "libssl.so.3"

/* libssl's and libcrypto's functions we call (named apart from their
 * macros, e.g. SSL_set_tlsext_host_name is SSL_ctrl). */
static struct {
	int (*init_ssl)(uint64_t, const OPENSSL_INIT_SETTINGS *);
	const SSL_METHOD *(*client_method)(void);
	SSL_CTX *(*ctx_new)(const SSL_METHOD *);
	void (*ctx_free)(SSL_CTX *);
	void (*ctx_set_verify)(SSL_CTX *, int, SSL_verify_cb);
	int (*ctx_default_paths)(SSL_CTX *);
	int (*ctx_load_locations)(SSL_CTX *, const char *, const char *);
	int (*ctx_use_chain_file)(SSL_CTX *, const char *);
	int (*ctx_use_key_file)(SSL_CTX *, const char *, int);
	int (*ctx_check_key)(const SSL_CTX *);
	long (*ctx_ctrl)(SSL_CTX *, int, long, void *);
	SSL *(*ssl_new)(SSL_CTX *);
	void (*ssl_free)(SSL *);
	int (*set_fd)(SSL *, int);
	long (*ssl_ctrl)(SSL *, int, long, void *);
	int (*set1_host)(SSL *, const char *);
	int (*connect)(SSL *);
	int (*read)(SSL *, void *, int);
	int (*write)(SSL *, const void *, int);
	int (*get_error)(const SSL *, int);
	long (*verify_result)(const SSL *);
	unsigned long (*err_get)(void);
	void (*err_clear)(void);
	void (*err_string)(unsigned long, char *, size_t);
	const char *(*verify_string)(long);
} ssl;

static int ssl_load(struct strbuf *err)
{
	static void *handle;
	const struct dl_sym syms[] = {
		{ "OPENSSL_init_ssl", (void **)&ssl.init_ssl },
		{ "TLS_client_method", (void **)&ssl.client_method },
		{ "SSL_CTX_new", (void **)&ssl.ctx_new },
		{ "SSL_CTX_free", (void **)&ssl.ctx_free },
		{ "SSL_CTX_set_verify", (void **)&ssl.ctx_set_verify },
		{ "SSL_CTX_set_default_verify_paths", (void **)&ssl.ctx_default_paths },
		{ "SSL_CTX_load_verify_locations", (void **)&ssl.ctx_load_locations },
		{ "SSL_CTX_use_certificate_chain_file", (void **)&ssl.ctx_use_chain_file },
		{ "SSL_CTX_use_PrivateKey_file", (void **)&ssl.ctx_use_key_file },
		{ "SSL_CTX_check_private_key", (void **)&ssl.ctx_check_key },
		{ "SSL_CTX_ctrl", (void **)&ssl.ctx_ctrl },
		{ "SSL_new", (void **)&ssl.ssl_new },
		{ "SSL_free", (void **)&ssl.ssl_free },
		{ "SSL_set_fd", (void **)&ssl.set_fd },
		{ "SSL_ctrl", (void **)&ssl.ssl_ctrl },
		{ "SSL_set1_host", (void **)&ssl.set1_host },
		{ "SSL_connect", (void **)&ssl.connect },
		{ "SSL_read", (void **)&ssl.read },
		{ "SSL_write", (void **)&ssl.write },
		{ "SSL_get_error", (void **)&ssl.get_error },
		{ "SSL_get_verify_result", (void **)&ssl.verify_result },
		/* libcrypto's, found through libssl's dependencies */
		{ "ERR_get_error", (void **)&ssl.err_get },
		{ "ERR_clear_error", (void **)&ssl.err_clear },
		{ "ERR_error_string_n", (void **)&ssl.err_string },
		{ "X509_verify_cert_error_string", (void **)&ssl.verify_string },
	};
	int r;

	if (handle)
		return 0;
	r = dl_load(LIBSSL_SONAME, &handle, syms, sizeof(syms) / sizeof(*syms), err);
	if (r == 0 && !ssl.init_ssl(OPENSSL_INIT_NO_ATEXIT, NULL))
		return strbuf_error(err, -ENOMEM, "cannot initialise OpenSSL");
	return r;
}

/* OpenSSL's first queued error, or @dflt, into @err. */
static void ssl_why(struct strbuf *err, const char *dflt)
{
	unsigned long e = ssl.err_get();
	char buf[256];

	if (!e) {
		strbuf_addstr(err, dflt);
		return;
	}
	ssl.err_string(e, buf, sizeof(buf));
	strbuf_addstr(err, buf);
	ssl.err_clear();
}

static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

static uint64_t now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
}

void remote_conn_deadline(struct remote_conn *c, uint64_t ms)
{
	c->deadline_ms = ms ? now_ms() + ms : 0;
}

void remote_conn_extend(struct remote_conn *c, uint64_t ms)
{
	if (c->deadline_ms)
		c->deadline_ms = ms > UINT64_MAX - c->deadline_ms ? UINT64_MAX
								  : c->deadline_ms + ms;
}

/* 1 when @c's request deadline has passed; else *@left is what remains. */
static bool deadline_passed(const struct remote_conn *c, long *left)
{
	uint64_t now;

	if (!c->deadline_ms)
		return false;
	now = now_ms();
	if (now >= c->deadline_ms)
		return true;
	if (c->deadline_ms - now < (uint64_t)*left)
		*left = (long)(c->deadline_ms - now);
	return false;
}

/*
 * Wait for @events on @c for at most @ms (and not past the request's
 * deadline): 0, -ETIMEDOUT or -errno.
 */
static int conn_wait(struct remote_conn *c, short events, long ms)
{
	struct pollfd p = { .fd = c->fd, .events = events };
	int r;

	if (ms < 0)
		ms = 0;
	if (deadline_passed(c, &ms))
		return -ETIMEDOUT;
	do
		r = poll(&p, 1, (int)ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return r == 0 ? -ETIMEDOUT : 0;
}

/* An SSL call that wants the socket: wait for it (until @deadline_ms
 * after @t0, or the idle timeout when @t0 is NULL). 0 to retry, -errno. */
static int ssl_again(struct remote_conn *c, int ret, const struct timespec *t0,
		     long deadline_ms)
{
	int e = ssl.get_error(c->ssl, ret);
	long ms = t0 ? deadline_ms - ms_since(t0) : c->timeout_ms;

	if (e == SSL_ERROR_WANT_READ)
		return conn_wait(c, POLLIN, ms);
	if (e == SSL_ERROR_WANT_WRITE)
		return conn_wait(c, POLLOUT, ms);
	if (e == SSL_ERROR_ZERO_RETURN)
		return -ENODATA;
	if (e == SSL_ERROR_SYSCALL && (!errno || ret == 0)) {
		ssl.err_clear();
		return -ENODATA;	/* EOF without close_notify */
	}
	if (e == SSL_ERROR_SYSCALL)
		return -errno;
	strbuf_reset(&c->why);
	strbuf_addstr(&c->why, "TLS: ");
	ssl_why(&c->why, "protocol error");
	return -EIO;
}

const char *remote_conn_strerror(const struct remote_conn *c, int r)
{
	if (r == -EIO && c->why.len)
		return c->why.buf;
	if (r == -ETIMEDOUT)
		return "timed out";
	if (r == -ENODATA)
		return "the server closed the connection";
	return strerror(-r);
}

static int tls_setup(struct remote_conn *c, const struct remote_target *t,
		     const char *host, const struct timespec *t0,
		     struct strbuf *err)
{
	SSL_CTX *ctx;
	struct in6_addr a6;
	struct in_addr a4;
	int r;

	if ((r = ssl_load(err)) < 0)
		return r;
	ssl.err_clear();
	ctx = ssl.ctx_new(ssl.client_method());
	if (!ctx)
		return strbuf_error(err, -ENOMEM, "cannot make a TLS context");
	ssl.ctx_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	ssl.ctx_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, NULL);
	if (t->ca_file ? ssl.ctx_load_locations(ctx, t->ca_file, NULL) != 1
		       : ssl.ctx_default_paths(ctx) != 1) {
		strbuf_addf(err, "cannot load the CA %s '%s': ", t->ca_file ? "file" : "store",
			    t->ca_file ? t->ca_file : "(system)");
		ssl_why(err, "failed");
		ssl.ctx_free(ctx);
		return -EINVAL;
	}
	if (t->client_cert &&
	    (ssl.ctx_use_chain_file(ctx, t->client_cert) != 1 ||
	     ssl.ctx_use_key_file(ctx, t->client_key ? t->client_key : t->client_cert,
				  SSL_FILETYPE_PEM) != 1 ||
	     ssl.ctx_check_key(ctx) != 1)) {
		strbuf_addf(err, "cannot use the client certificate '%s': ", t->client_cert);
		ssl_why(err, "failed");
		ssl.ctx_free(ctx);
		return -EINVAL;
	}
	c->ssl = ssl.ssl_new(ctx);
	ssl.ctx_free(ctx);	/* the SSL holds a reference */
	if (!c->ssl)
		return strbuf_error(err, -ENOMEM, "cannot make a TLS connection");
	/* SNI for a name, never for an address (RFC 6066) */
	if (inet_pton(AF_INET, host, &a4) != 1 && inet_pton(AF_INET6, host, &a6) != 1)
		ssl.ssl_ctrl(c->ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME,
			     TLSEXT_NAMETYPE_host_name, (void *)host);
	if (ssl.set1_host(c->ssl, host) != 1 || ssl.set_fd(c->ssl, c->fd) != 1)
		return strbuf_error(err, -ENOMEM, "cannot set up the TLS connection");
	for (;;) {
		int ret = ssl.connect(c->ssl);
		long v;

		if (ret == 1)
			return 0;
		r = ssl_again(c, ret, t0, t->connect_timeout_ms);
		if (r == 0)
			continue;
		if (r == -ETIMEDOUT)
			return strbuf_error(err, r, "TLS handshake with %s timed out", t->host);
		v = ssl.verify_result(c->ssl);
		if (v != X509_V_OK) {
			strbuf_addf(err, "TLS: the certificate of %s is not trusted: %s%s",
				    t->host, ssl.verify_string(v),
				    t->ca_file ? "" : " (remote.ca_file names a private CA)");
			ssl.err_clear();
			return -EACCES;
		}
		strbuf_addf(err, "TLS handshake with %s failed: %s", t->host,
			    r == -EIO ? c->why.buf + strlen("TLS: ")
				      : remote_conn_strerror(c, r));
		return r == -ENODATA ? -EIO : r;
	}
}

int remote_conn_open(struct remote_conn *c, const struct remote_target *t,
		     unsigned default_port, bool tls, struct strbuf *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL, *a;
	_cleanup_free_ char *host = t->host[0] == '[' ?
		xstrndup(t->host + 1, strlen(t->host) - 2) : xstrdup(t->host);
	struct timespec t0;
	char port[16];
	int r;

	remote_conn_close(c);
	c->timeout_ms = t->timeout_ms;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	snprintf(port, sizeof(port), "%u", t->port ? t->port : default_port);
	if ((r = getaddrinfo(host, port, &hints, &ai)) != 0)
		return strbuf_error(err, -EHOSTUNREACH, "cannot resolve '%s': %s",
				    t->host, gai_strerror(r));
	r = -ECONNREFUSED;
	for (a = ai; a; a = a->ai_next) {
		int one = 1, soerr = 0;
		socklen_t sl = sizeof(soerr);

		c->fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			       a->ai_protocol);
		if (c->fd < 0) {
			r = -errno;
			continue;
		}
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(c->fd, a->ai_addr, a->ai_addrlen) < 0 && errno != EINPROGRESS)
			r = -errno;
		else if ((r = conn_wait(c, POLLOUT, t->connect_timeout_ms - ms_since(&t0))) == 0 &&
			 getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0)
			r = -soerr;
		if (r == 0)
			break;
		remote_conn_close(c);
	}
	freeaddrinfo(ai);
	if (r < 0)
		return strbuf_error(err, r, "cannot connect to %s:%s: %s", t->host,
				    port, r == -ETIMEDOUT ? "timed out" : strerror(-r));
	if (tls && (r = tls_setup(c, t, host, &t0, err)) < 0) {
		remote_conn_close(c);
		return r;
	}
	return 0;
}

/*
 * SSL_write() writes to the socket without MSG_NOSIGNAL: a server that
 * closed it would kill procache with SIGPIPE. Block it around the call
 * and take a pending one away.
 */
static int tls_write(struct remote_conn *c, const char *p, size_t len)
{
	sigset_t sp, old;
	int ret;

	sigemptyset(&sp);
	sigaddset(&sp, SIGPIPE);
	sigprocmask(SIG_BLOCK, &sp, &old);
	ret = ssl.write(c->ssl, p, len > INT32_MAX ? INT32_MAX : (int)len);
	if (!sigismember(&old, SIGPIPE)) {
		const struct timespec zero = { 0, 0 };
		int saved = errno;

		while (sigtimedwait(&sp, NULL, &zero) == SIGPIPE)
			;
		sigprocmask(SIG_SETMASK, &old, NULL);
		errno = saved;
	}
	return ret;
}

/*
 * A TLS server that refuses us after the handshake (TLS 1.3 sends its
 * "certificate required" alert then) may have closed before our first
 * write: the alert it sent says why better than EPIPE does.
 */
static int tls_write_failed(struct remote_conn *c, int r)
{
	char byte;
	int ret;

	if (r != -EPIPE && r != -ECONNRESET && r != -ENODATA)
		return r;
	ret = ssl.read(c->ssl, &byte, 1);
	if (ret <= 0 && ssl.get_error(c->ssl, ret) == SSL_ERROR_SSL) {
		strbuf_reset(&c->why);
		strbuf_addstr(&c->why, "TLS: ");
		ssl_why(&c->why, "protocol error");
		return -EIO;
	}
	ssl.err_clear();
	return r == -ENODATA ? -EPIPE : r;
}

int remote_conn_send(struct remote_conn *c, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n;
		int r;

		if (c->ssl) {
			errno = 0;
			n = tls_write(c, p, len);
			if (n <= 0) {
				if ((r = ssl_again(c, (int)n, NULL, 0)) < 0)
					return tls_write_failed(c, r);
				continue;
			}
		} else {
			n = send(c->fd, p, len, MSG_NOSIGNAL);
			if (n < 0 && errno == EAGAIN) {
				if ((r = conn_wait(c, POLLOUT, c->timeout_ms)) < 0)
					return r;
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return n < 0 ? -errno : -EPIPE;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int remote_conn_fill(struct remote_conn *c)
{
	size_t room;
	ssize_t n;

	long ignored = 0;

	/* Checked before reading too: a fast flood never waits. */
	if (deadline_passed(c, &ignored))
		return -ETIMEDOUT;
	if (c->in_off == c->in_len)
		c->in_off = c->in_len = 0;
	room = sizeof(c->in) - c->in_len;
	if (!room)
		return -ENOBUFS;
	for (;;) {
		int r;

		if (c->ssl) {
			errno = 0;
			n = ssl.read(c->ssl, c->in + c->in_len, (int)room);
			if (n <= 0) {
				if ((r = ssl_again(c, (int)n, NULL, 0)) < 0)
					return r;
				continue;
			}
		} else {
			n = recv(c->fd, c->in + c->in_len, room, 0);
			if (n == 0)
				return -ENODATA;
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN)
					return -errno;
				if ((r = conn_wait(c, POLLIN, c->timeout_ms)) < 0)
					return r;
				continue;
			}
		}
		c->in_len += (size_t)n;
		return 0;
	}
}

void remote_conn_close(struct remote_conn *c)
{
	if (c->ssl)
		ssl.ssl_free(c->ssl);	/* no close_notify: nothing waits for it */
	c->ssl = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->in_len = c->in_off = 0;
	/* A new connection's connect is bounded by its own timeout only. */
	c->deadline_ms = 0;
	strbuf_reset(&c->why);
}

void remote_conn_release(struct remote_conn *c)
{
	remote_conn_close(c);
	strbuf_release(&c->why);
}

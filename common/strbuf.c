#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/die.h"
#include "common/strbuf.h"
#include "common/hex.h"
#include "common/xalloc.h"

#include "common/banned.h"

/* Shared by every unallocated strbuf; always holds "" (see strbuf.h). */
char strbuf_slopbuf[1];

void strbuf_init(struct strbuf *sb, size_t hint)
{
	sb->alloc = 0;
	sb->len = 0;
	sb->buf = strbuf_slopbuf;
	if (hint)
		strbuf_grow(sb, hint);
}

void strbuf_release(struct strbuf *sb)
{
	if (sb->alloc)
		free(sb->buf);
	strbuf_init(sb, 0);
}

char *strbuf_detach(struct strbuf *sb, size_t *len)
{
	char *res;

	strbuf_grow(sb, 0);
	res = sb->buf;
	if (len)
		*len = sb->len;
	strbuf_init(sb, 0);
	return res;
}

void strbuf_grow(struct strbuf *sb, size_t extra)
{
	int new_buf = !sb->alloc;
	size_t want = st_add(st_add(sb->len, extra), 1);

	if (new_buf)
		sb->buf = NULL;
	if (want > sb->alloc) {
		size_t n = sb->alloc < 16 ? 16 : sb->alloc;

		while (n < want)
			n = st_add(n, n / 2);
		sb->buf = xrealloc(sb->buf, n);
		sb->alloc = n;
	}
	if (new_buf)
		sb->buf[0] = '\0';
}

void strbuf_setlen(struct strbuf *sb, size_t len)
{
	if (len > (sb->alloc ? sb->alloc - 1 : 0))
		BUG("strbuf_setlen() beyond buffer: %zu > %zu", len, sb->alloc);
	sb->len = len;
	/* Never write into strbuf_slopbuf, not even its own NUL. */
	if (sb->alloc)
		sb->buf[len] = '\0';
}

void strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	if (!len)
		return;
	strbuf_grow(sb, len);
	memcpy(sb->buf + sb->len, data, len);
	strbuf_setlen(sb, sb->len + len);
}

void strbuf_addstr(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void strbuf_addch(struct strbuf *sb, int c)
{
	strbuf_grow(sb, 1);
	sb->buf[sb->len] = (char)c;
	strbuf_setlen(sb, sb->len + 1);
}

void strbuf_addbuf(struct strbuf *sb, const struct strbuf *other)
{
	/* @other may be @sb: grow first, then read other->buf afresh. */
	size_t len = other->len;

	strbuf_grow(sb, len);
	memcpy(sb->buf + sb->len, other->buf, len);
	strbuf_setlen(sb, sb->len + len);
}

void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	if (!sb->alloc)
		strbuf_grow(sb, 64);
	va_copy(cp, ap);
	n = vsnprintf(sb->buf + sb->len, sb->alloc - sb->len, fmt, cp);
	va_end(cp);
	if (n < 0)
		BUG("vsnprintf failed for format '%s'", fmt);
	if ((size_t)n >= sb->alloc - sb->len) {
		strbuf_grow(sb, (size_t)n);
		n = vsnprintf(sb->buf + sb->len, sb->alloc - sb->len, fmt, ap);
		if (n < 0 || (size_t)n >= sb->alloc - sb->len)
			BUG("vsnprintf changed its mind for format '%s'", fmt);
	}
	strbuf_setlen(sb, sb->len + (size_t)n);
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
}

ssize_t strbuf_read_fd(struct strbuf *sb, int fd, size_t hint)
{
	size_t start = sb->len;

	strbuf_grow(sb, hint ? hint : 8192);
	for (;;) {
		ssize_t n;

		if (sb->alloc - sb->len < 4096)
			strbuf_grow(sb, 8192);
		n = read(fd, sb->buf + sb->len, sb->alloc - sb->len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		strbuf_setlen(sb, sb->len + (size_t)n);
	}
	return (ssize_t)(sb->len - start);
}

ssize_t strbuf_read_file_at(struct strbuf *sb, int dirfd, const char *path,
			    size_t hint)
{
	ssize_t ret;
	int fd;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	ret = strbuf_read_fd(sb, fd, hint);
	close(fd);
	return ret;
}

void strbuf_trim_trailing_newline(struct strbuf *sb)
{
	if (sb->len && sb->buf[sb->len - 1] == '\n') {
		size_t len = sb->len - 1;

		if (len && sb->buf[len - 1] == '\r')
			len--;
		strbuf_setlen(sb, len);
	}
}

void strbuf_addhex(struct strbuf *sb, const void *data, size_t len)
{
	strbuf_grow(sb, st_mult(len, 2));
	hex_encode(data, len, sb->buf + sb->len);
	strbuf_setlen(sb, sb->len + 2 * len);
}

int strbuf_error(struct strbuf *err, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		strbuf_reset(err);
		va_start(ap, fmt);
		strbuf_vaddf(err, fmt, ap);
		va_end(ap);
	}
	return ret;
}

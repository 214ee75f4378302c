/*
 * The status pipe's record protocol (format in status.h): written by init
 * and the job after clone, read by the supervisor once init is gone.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fdio.h"
#include "sandbox/status.h"

#include "common/banned.h"

void sbx_status_send(int fd, char kind, int errnum, const char *fmt, ...)
{
	char buf[PIPE_BUF];
	int n;

	n = snprintf(buf, sizeof(buf), "%c%d", kind, errnum);
	if (fmt && n >= 0 && (size_t)n < sizeof(buf) - 2) {
		va_list ap;
		int m;

		buf[n++] = '\t';
		va_start(ap, fmt);
		m = vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
		va_end(ap);
		if (m < 0)
			m = 0;
		n += m < (int)(sizeof(buf) - n - 1) ? m : (int)(sizeof(buf) - n - 2);
	}
	if (n < 0)
		return;
	buf[n++] = '\0';
	/* One write: atomic on a pipe below PIPE_BUF. */
	(void)write_full(fd, buf, n);
}

void sbx_child_fail(int status_fd, const char *fmt, ...)
{
	int e = errno;
	char msg[PIPE_BUF - 32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sbx_status_send(status_fd, 'E', e, "%s", msg);
	_exit(125);
}

void sbx_status_decode(const char *buf, size_t len, struct sbx_status *out,
		       struct strbuf *err)
{
	const char *p = buf, *end = buf + len;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		const char *rec = p;
		size_t rlen = strnlen(p, end - p);
		char *tab;
		long v;

		p += rlen + 1;
		v = strtol(rec + 1, &tab, 10);
		switch (rec[0]) {
		case 'E':
			if (out->setup_errno)
				break;	/* the first failure is the cause */
			out->setup_errno = v > 0 ? (int)v : EIO;
			strbuf_reset(err);
			strbuf_add(err, *tab == '\t' ? tab + 1 : "set-up failed",
				   *tab == '\t' ? rlen - (tab + 1 - rec) : 13);
			strbuf_addf(err, ": %s", strerror(out->setup_errno));
			break;
		case 'X':
			out->exec_errno = (int)v;
			break;
		case 'W':
			out->wait_status = (int)v;
			out->have_wait_status = true;
			break;
		default:
			break;
		}
	}
}

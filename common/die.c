#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/die.h"

#include "common/banned.h"

const char *die_prog = "procache";
int die_exit_code = 125;
int pc_verbose;

static FILE *log_file;

/*
 * Control characters in @s (a newline in a path or an option value) are
 * written as \n, \t or \xNN, so that a message is always one line.
 */
static void escape_controls(char *s, size_t size)
{
	char tmp[4096];
	size_t i, n = 0;

	for (i = 0; s[i] && n + 5 < sizeof(tmp); i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\n') {
			tmp[n++] = '\\';
			tmp[n++] = 'n';
		} else if (ch == '\t') {
			tmp[n++] = '\\';
			tmp[n++] = 't';
		} else if (ch < 0x20 || ch == 0x7f) {
			n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "\\x%02x", ch);
		} else {
			tmp[n++] = (char)ch;
		}
	}
	tmp[n] = '\0';
	snprintf(s, size, "%s", tmp);
}

/*
 * Format the whole line first and write it with one fputs(), so that
 * lines from concurrent processes sharing stderr do not interleave.
 * @err is an errno value to append, or 0.
 */
__attribute__((format(printf, 4, 0))) static void
vreport(FILE *out, const char *kind, int err, const char *fmt, va_list ap)
{
	char msg[4096];
	char line[4096 + 512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	escape_controls(msg, sizeof(msg));
	if (err)
		snprintf(line, sizeof(line), "%s: %s%s: %s\n", die_prog, kind,
			 msg, strerror(err));
	else
		snprintf(line, sizeof(line), "%s: %s%s\n", die_prog, kind, msg);
	fputs(line, out);
	fflush(out);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(stderr, "", 0, fmt, ap);
	va_end(ap);
	exit(die_exit_code);
}

void die_errno(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vreport(stderr, "", err, fmt, ap);
	va_end(ap);
	exit(die_exit_code);
}

void warn(const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	va_start(ap, fmt);
	vreport(stderr, "warning: ", 0, fmt, ap);
	va_end(ap);
	errno = saved_errno;
}

void warn_errno(const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	va_start(ap, fmt);
	vreport(stderr, "warning: ", saved_errno, fmt, ap);
	va_end(ap);
	errno = saved_errno;
}

void bug_fl(const char *file, int line, const char *fmt, ...)
{
	char where[512];
	va_list ap;

	snprintf(where, sizeof(where), "BUG: %s:%d: ", file, line);
	va_start(ap, fmt);
	vreport(stderr, where, 0, fmt, ap);
	va_end(ap);
	abort();
}

void pc_log_set_file(FILE *f)
{
	log_file = f;
}

void info(const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	if (pc_verbose < 1)
		return;
	va_start(ap, fmt);
	vreport(log_file ? log_file : stderr, "", 0, fmt, ap);
	va_end(ap);
	errno = saved_errno;
}

void debug(const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	if (pc_verbose < 2)
		return;
	va_start(ap, fmt);
	vreport(log_file ? log_file : stderr, "debug: ", 0, fmt, ap);
	va_end(ap);
	errno = saved_errno;
}

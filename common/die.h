/*
 * Fatal errors, warnings and verbosity-gated log lines.
 *
 * Only runner/ and post-fork children may call die(), die_errno() and
 * BUG(); library code (cache/, sandbox/, common/) returns 0 or -errno
 * instead (see STYLE.md). warn(), info() and debug() may be used anywhere.
 *
 * Messages follow git's guidelines: lowercase, no full stop, say what
 * failed first and quote the subject:
 *
 *	die_errno("cannot mount overlay on '%s'", path);
 *	=> "procache: cannot mount overlay on '/usr': Operation not permitted"
 *
 * All output goes to stderr, except info() and debug(), which go to the
 * file set with pc_log_set_file() when there is one. Nothing here changes
 * errno, except die*() which do not return.
 */
#ifndef PROCACHE_COMMON_DIE_H
#define PROCACHE_COMMON_DIE_H

#include <stdarg.h>
#include <stdio.h>
#include <stdnoreturn.h>

/* Prefix of every message ("<die_prog>: "); defaults to "procache". */
extern const char *die_prog;

/*
 * Exit status of die() and die_errno(); defaults to 125, procache's
 * "procache itself failed" code, so that it can be told apart from the
 * exit status of the job it ran.
 */
extern int die_exit_code;

/* 0 (default): quiet; 1: info() is printed; 2 and more: debug() as well. */
extern int pc_verbose;

/* Print "<prog>: <message>\n" to stderr and exit(die_exit_code). */
noreturn void die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/*
 * As die(), with ": <strerror(errno)>" appended. errno is read before
 * anything else is done, so the caller need not save it.
 */
noreturn void die_errno(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Print "<prog>: warning: <message>\n" to stderr and return. */
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* As warn(), with ": <strerror(errno)>" appended; errno is preserved. */
void warn_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Report a broken internal invariant ("<prog>: BUG: file:line: message")
 * and abort(), so that a core dump shows where. Not for user errors.
 */
#define BUG(...) bug_fl(__FILE__, __LINE__, __VA_ARGS__)
noreturn void bug_fl(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Send info() and debug() lines to @f instead of stderr; NULL switches
 * back to stderr. The caller keeps ownership of @f and must reset the
 * log file (pc_log_set_file(NULL)) before closing it.
 */
void pc_log_set_file(FILE *f);

/* Print "<prog>: <message>\n" when pc_verbose >= 1. errno is preserved. */
void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print "<prog>: debug: <message>\n" when pc_verbose >= 2. */
void debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

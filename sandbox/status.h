/*
 * The status pipe: the channel from the sandbox's init and the job to the
 * supervisor (sandbox.c). Private to sandbox/.
 *
 * Records, each ending with a NUL byte:
 *	"E<errno>\t<message>"	set-up failure; message names the stage and
 *				path ("cannot mount overlay on '/usr'")
 *	"X<errno>"		execve of argv[0] failed with errno
 *	"W<status>"		the job's raw wait status (decimal)
 * Records are written with one write() each (< PIPE_BUF, so atomic).
 *
 * Calling sequence:
 *	init, job	sbx_status_send(fd, 'X', errno, NULL);
 *			sbx_child_fail(fd, "cannot ...");	// 'E', _exit(125)
 *	supervisor	reads the pipe to its end, then
 *			sbx_status_decode(buf, len, &status, err);
 */
#ifndef PROCACHE_SANDBOX_STATUS_H
#define PROCACHE_SANDBOX_STATUS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/strbuf.h"

/* Write one record of @kind ('E', 'X', 'W'); @fmt NULL: no message. */
void sbx_status_send(int fd, char kind, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Report a set-up failure from init or the job and _exit(125): errno is
 * the reason.
 */
__attribute__((__noreturn__, format(printf, 2, 3)))
void sbx_child_fail(int status_fd, const char *fmt, ...);

/* What the records of one run said. */
struct sbx_status {
	int setup_errno;	/* first 'E' record's errno; 0: none */
	int exec_errno;		/* 'X': execve's errno; 0: none */
	bool have_wait_status;	/* a 'W' record came */
	int wait_status;	/* 'W': the job's raw wait status */
};

/*
 * Decode the records in @buf (@len bytes: everything read from the pipe).
 * When an 'E' record came, @err holds its message followed by ": " and
 * strerror(setup_errno) (the first failure is the cause; later ones are
 * ignored). Unknown records are ignored.
 */
void sbx_status_decode(const char *buf, size_t len, struct sbx_status *out,
		       struct strbuf *err);

#endif

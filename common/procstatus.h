/*
 * The masks of /proc/self/status (SigIgn, SigCgt, SigBlk, CapBnd...) and
 * its lists (Mems_allowed_list):
 * one read of the kernel's own view where asking per signal or per
 * capability takes a system call each (64 sigaction() calls for the
 * signal dispositions).
 */
#ifndef PROCACHE_COMMON_PROCSTATUS_H
#define PROCACHE_COMMON_PROCSTATUS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Read /proc/self/status into @buf (NUL-terminated, at most @size - 1
 * bytes): 0, or -errno (no /proc; a file that does not fit: -EFBIG).
 * No allocation: usable in a child after fork().
 */
int proc_status_read(char *buf, size_t size);

/*
 * The hexadecimal mask of line "@field:\t..." of @status (as read
 * above): bit N-1 for signal N, bit N for capability N. 0, or -ENOENT
 * when the line is absent or not a mask.
 */
int proc_status_mask(const char *status, const char *field, uint64_t *mask);

/*
 * The text of line "@field:\t..." of @status up to its newline, into @out
 * (NUL-terminated, @size bytes): 0, -ENOENT when the line is absent,
 * -ERANGE when it does not fit.
 */
int proc_status_text(const char *status, const char *field, char *out,
		     size_t size);

#endif

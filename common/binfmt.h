/*
 * The host's binfmt_misc registrations (/proc/sys/fs/binfmt_misc) as the
 * host fact "binfmt_misc" (DESIGN.md §3). A text file without #! that a
 * job executes is run by a shell (execve() fails with ENOEXEC) unless a
 * registered handler takes it by its magic or its name's extension: so
 * a job that executes one records what procache sees registered, and a
 * lookup compares it again. The tracer and the cache call the same
 * functions.
 */
#ifndef PROCACHE_COMMON_BINFMT_H
#define PROCACHE_COMMON_BINFMT_H

#include <stdbool.h>
#include <sys/types.h>

struct strbuf;

/*
 * Could a registration procache can see take the file @path whose first
 * bytes are @buf (@n: at most the 256 bytes the kernel compares)? True
 * when one could, or when a registration cannot be read or understood.
 */
bool binfmt_may_take(const char *path, const unsigned char *buf, ssize_t n);

/*
 * Append the fact's value to @out: "none" when binfmt_misc is not mounted
 * at /proc/sys/fs/binfmt_misc, else "disabled", or the XXH3-128 (hex) of
 * the status and of each registration's name and text, in name order.
 * 0, or -errno when a registration cannot be read.
 */
int binfmt_fact_value(struct strbuf *out);

#endif

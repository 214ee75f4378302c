/*
 * The audit login uid and session id (/proc/self/loginuid, sessionid)
 * as the host facts "loginuid" and "sessionid" (DESIGN.md §3, table of
 * kinds). A process inherits both from the login that started it, every
 * job process too, and glibc's getlogin() (logname) reads them; procache
 * cannot set them unprivileged. So a job that reads one records this
 * process's value (the job's is a copy of it) and a lookup compares it
 * with its own again: the tracer and the cache call the same function.
 */
#ifndef PROCACHE_COMMON_LOGINUID_H
#define PROCACHE_COMMON_LOGINUID_H

#include <stdbool.h>

struct strbuf;

/* Whether @name is "loginuid" or "sessionid". */
bool loginuid_fact_known(const char *name);

/*
 * Append to @out this process's value of the fact @name: the bytes of
 * /proc/self/@name ("1000", "4294967295" when unset). 0, or -errno when
 * it cannot be read (-EINVAL for another name).
 */
int loginuid_fact_value(const char *name, struct strbuf *out);

#endif

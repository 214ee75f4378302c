/*
 * The host facts uname(2) gives, by the names preconditions use
 * ("uname.sysname", "uname.release", "uname.version", "uname.machine",
 * "uname.domainname"): one table for the cache's checks and the
 * tracer's replay of them (DESIGN.md §3, "Host facts").
 */
#ifndef PROCACHE_COMMON_UNAME_H
#define PROCACHE_COMMON_UNAME_H

#include <sys/utsname.h>

/* The field of @u that host fact @name names, or NULL for another name. */
const char *uname_field(const struct utsname *u, const char *name);

#endif

/*
 * The classification of every x86_64 system call (DESIGN.md §5), as data.
 *
 *	PURE	sees nothing of the host: not notified
 *	TRACED	observes the host through a path, fd or host object:
 *		notified and recorded by the tracer (sandbox/trace-notify.c)
 *	TAINT	observes or changes host state the model does not cover:
 *		notified; the job becomes uncacheable ("syscall NAME")
 *	DENY	refused with EPERM in untrusted mode; TAINT otherwise
 *
 * A few entries are refined by argument filters in sandbox/trace-filter.c:
 * clone (namespace flags), personality (anything but a query), ioctl
 * (TIOCSTI, TIOCLINUX), sendto (only with an address), sendmsg and
 * sendmmsg (not on the listener's hand-over socket), readlink and
 * readlinkat (not notified with
 * fast_readlink), clone3 (always ENOSYS, so libc falls back to clone, whose
 * flags BPF can read).
 */
#ifndef PROCACHE_SANDBOX_SYSCALLS_H
#define PROCACHE_SANDBOX_SYSCALLS_H

#include <stddef.h>

enum trace_sc_class {
	TRACE_SC_PURE,
	TRACE_SC_TRACED,
	TRACE_SC_TAINT,
	TRACE_SC_DENY,
};

struct trace_sc {
	const char *name; /* libseccomp's name */
	enum trace_sc_class class;
};

/* The whole table, sorted by name (strcmp). Static storage. */
const struct trace_sc *trace_sc_table(size_t *nr);

/* The entry for @name, or NULL when the table lacks it (which taints). */
const struct trace_sc *trace_sc_find(const char *name);

/* "pure", "traced", "taint", "deny". */
const char *trace_sc_class_name(enum trace_sc_class c);

#endif

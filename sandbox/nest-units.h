/*
 * Execution units' bookkeeping (DESIGN.md §13.2): which units enclose
 * each job process, what each unit's processes observed and wrote of the
 * view, what processes outside it did meanwhile, and why a unit cannot be
 * stored. Pure logic over events the tracer reports, under its lock; it
 * reads nothing itself (the caller reads /proc), so the unit tests drive
 * it with made-up pids.
 *
 * Calling sequence (per notification of process PID):
 *	nest_units_proc(u, PID, ancestors, n)   at its first notification
 *	nest_units_exec(u, PID)                 at an execve that will run
 *	nest_units_access(u, PID, kind, path)   each view path it looks at
 *	                                        or changes
 *	nest_units_refuse(u, PID, reason)       a taint, a socket, ...
 *	nest_units_exit(u, PID)                 when it is gone
 *	while (nest_units_next_ended(u, &end))  units whose root exited:
 *		store end.id unless end.refused
 *
 * Memory from the x-allocators. Not thread-safe.
 */
#ifndef PROCACHE_SANDBOX_NEST_UNITS_H
#define PROCACHE_SANDBOX_NEST_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct nest_units;

/*
 * What an access depends on or changes. READ: the object at the path and
 * the resolution of every component above it (content, stat, absence,
 * symlink target). LIST: a directory's set of entries. WRITE: the object
 * at the path and everything beneath it, and its parent's entries
 * (a write, creation, removal, chmod; both paths of a rename).
 */
enum nest_access { NEST_READ, NEST_LIST, NEST_WRITE };

struct nest_units *nest_units_new(void);
void nest_units_free(struct nest_units *u);

/*
 * Process @pid, at its first notification: @ancestors are its parent,
 * grandparent, ... (@n of them, from /proc/PID/stat read while they are
 * alive, up to the first one already known or the job's init). It is
 * put in the units of the first known ancestor: a process between them
 * never made a notified call, so never executed anything, and is in the
 * same units. None known while units are open: every open unit is
 * refused ("a process whose parent is unknown": a daemon reparented, a
 * process whose parents exited before it made a call), since it may
 * belong to any of them. Known already: nothing changes.
 */
void nest_units_proc(struct nest_units *u, pid_t pid, const pid_t *ancestors, size_t n);
bool nest_units_known(const struct nest_units *u, pid_t pid);

/*
 * @pid executes a program: a candidate unit begins, rooted at @pid, inside
 * the units already enclosing it. Its id (from 1), or 0 when @pid is
 * unknown (nest_units_proc() first).
 */
unsigned nest_units_exec(struct nest_units *u, pid_t pid);

/*
 * @pid accessed @path (absolute, in the job's view). Recorded for each
 * open unit that encloses @pid, and as a foreign access for each open unit
 * that does not: when a unit ends, its own accesses and the foreign ones
 * made while it ran must not meet (DESIGN §13.2, "Sibling conflicts").
 * An unknown @pid refuses every open unit.
 */
void nest_units_access(struct nest_units *u, pid_t pid, enum nest_access kind,
		       const char *path);

/* Refuse every unit enclosing @pid (the first reason stays). */
void nest_units_refuse(struct nest_units *u, pid_t pid, const char *reason);
/*
 * @pid restricts itself (a seccomp filter, a Landlock domain), which its
 * later children inherit: nest_units_restricted() is true of it and of
 * the processes it forks from now on (and, conservatively, of any
 * process whose parent is unknown). Its units are not refused here.
 */
void nest_units_restrict(struct nest_units *u, pid_t pid);
bool nest_units_restricted(const struct nest_units *u, pid_t pid);
/*
 * Thread @pid sets a memory policy (@on) or the default one back (libnuma
 * probes MPOL_PREFERRED_MANY, then restores it): unlike a restriction,
 * undone by the default, and inherited by the threads and processes it
 * forks after; nest_units_restricted() is true of them while it holds.
 */
void nest_units_set_policy(struct nest_units *u, pid_t pid, bool on);
/* Refuse every open unit. */
void nest_units_refuse_open(struct nest_units *u, const char *reason);
/* Refuse unit @id only (a reason found at its exec; the first stays). */
void nest_units_refuse_unit(struct nest_units *u, unsigned id, const char *reason);
/*
 * End every open unit now, innermost first, as nest_units_exit() of its
 * root would (the job is over: their roots' ends were not seen).
 */
void nest_units_end_open(struct nest_units *u);

/*
 * @pid is gone. The units rooted at it end: refused when a process they
 * enclose is still alive ("a process outlived its unit") or when their
 * accesses meet foreign ones, then queued for nest_units_next_ended().
 */
void nest_units_exit(struct nest_units *u, pid_t pid);

struct nest_unit_end {
	unsigned id;
	unsigned parent;	/* the enclosing unit, 0 for none */
	pid_t root;
	const char *refused;	/* the first reason, NULL when it may be stored */
	size_t nr_accesses;	/* its own, deduplicated */
};

/*
 * The open units enclosing @pid, outermost first, in *@ids (valid until
 * the next call that changes @u); their number. 0 for an unknown @pid.
 */
size_t nest_units_stack(const struct nest_units *u, pid_t pid, const unsigned **ids);
/* Whether unit @id is refused already (a record of it is wasted work). */
bool nest_units_refused(const struct nest_units *u, unsigned id);

/* The next unit that ended, in the order they ended; false when none. */
bool nest_units_next_ended(struct nest_units *u, struct nest_unit_end *end);

/* The @i-th own access of unit @id (i < nr_accesses). */
const char *nest_units_access_at(const struct nest_units *u, unsigned id, size_t i,
				 enum nest_access *kind);

#endif

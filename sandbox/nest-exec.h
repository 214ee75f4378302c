/*
 * What a process passes on to the program it executes, read at its
 * execve notification for the key of the execution unit that begins
 * there (DESIGN.md §13.3), and the reasons found then that it cannot be
 * a unit (§13.6). sandbox/ never builds a cache key: the fields are
 * (name, text) pairs the runner puts into the unit's key.
 *
 * Read from /proc/PID/{status,stat,limits,personality,oom_score_adj} and
 * /proc/PID/fd/{0,1,2} with their fdinfo, while the caller is blocked in
 * the notification (the caller checks SECCOMP_IOCTL_NOTIF_ID_VALID after
 * reading, as for any read of a job process).
 */
#ifndef PROCACHE_SANDBOX_NEST_EXEC_H
#define PROCACHE_SANDBOX_NEST_EXEC_H

#include <stddef.h>
#include <sys/types.h>

#include "common/strbuf.h"

/* What one of fds 0, 1, 2 is (§13.3). */
enum nest_fd_kind {
	NEST_FD_CLOSED,
	NEST_FD_NULL,	/* the character device 1:3 */
	NEST_FD_PIPE,
	NEST_FD_FILE,	/* a regular file */
	NEST_FD_OTHER,	/* a terminal, socket, other device, directory, ... */
};

struct nest_fd {
	enum nest_fd_kind kind;
	unsigned flags;		/* fdinfo "flags" (open flags, O_CLOEXEC included) */
	unsigned long long pos;	/* fdinfo "pos" */
	dev_t dev;		/* a regular file's, for the caller to name it */
	ino_t ino;
};

#define NEST_NR_FIELDS 32

struct nest_exec_facts {
	pid_t ppid;
	/*
	 * From the same read of /proc/PID/status as the key's fields, so
	 * that the tracer need not read it again at the exec (each read is
	 * tens of µs): its thread group, 0 when unknown, and the number of
	 * seccomp filters stacked on it, -1 when the field is missing.
	 */
	pid_t tgid;
	long seccomp_filters;
	unsigned threads;
	struct nest_fd fd[3];
	/* the key's fields: "name", then "value"; nr of them */
	char *names[NEST_NR_FIELDS];
	struct strbuf values[NEST_NR_FIELDS];
	size_t nr;
	/* the first reason this exec cannot start a unit, or empty */
	struct strbuf refused;
	/*
	 * Fd 0 is /dev/null or a pipe, open for reading only: the unit may
	 * be keyed without it ("fd0" = "unseen") when none of its processes
	 * observes fd 0 (DESIGN.md §13.3, "Stdin unseen").
	 */
	bool fd0_unseen_ok;
};

void nest_exec_facts_init(struct nest_exec_facts *f);
void nest_exec_facts_release(struct nest_exec_facts *f);

/*
 * Read @pid's facts into @f (initialized). 0, or -errno with a message in
 * @err (-ENOENT: the process is gone). A process that cannot be a unit
 * is not an error: @f->refused says why.
 */
int nest_exec_facts_read(pid_t pid, struct nest_exec_facts *f, struct strbuf *err);

/* The text of @kind ("null", "pipe", ...). */
const char *nest_fd_kind_name(enum nest_fd_kind kind);

#endif

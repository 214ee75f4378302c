/*
 * Nested caching's hooks in the tracer (DESIGN.md §13.2, §13.6): which
 * job process is in which execution unit (sandbox/nest-units.c), read
 * from /proc at each process's first notification, at its exec and its
 * exit; the refusals found on the way. Everything here runs with t->lock
 * held, and only with cfg.nested (no fast path then: every call has a
 * pid).
 *
 * NEEDSWORK: an exec is taken for one that will run when its file is
 * found (a found file that fails to execute, ENOEXEC or EACCES, starts a
 * unit whose root goes on in its old image); the exec stop of
 * sandbox/nest-redirect.c will tell. A unit's root that dies of a signal
 * is refused at the job's end ("its end was not seen") instead of being
 * read from its pidfd while a zombie; a process that dies of a signal
 * inside a unit makes it "outlive" the unit (a needless refusal).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/die.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "sandbox/nest-exec.h"
#include "sandbox/nest.h"
#include "sandbox/trace-internal.h"

#include "common/banned.h"

/* Ancestors looked up at most, from a process to one already known. */
#define NEST_MAX_DEPTH 64

struct nest_info {
	char *argv0;
	double start;
};

struct trace_nest {
	struct nest_units *units;
	pid_t top;		/* the job's first process: its execs are the job's */
	pid_t init;		/* its parent, the sandbox's init */
	struct nest_info *info;	/* by unit id - 1 */
	size_t nr_info, alloc_info;
	struct nest_exec_facts facts;
	unsigned long long nr_run, nr_skipped, nr_refused;
	double saved;
};

void trace_nest_setup(struct trace *t)
{
	if (!t->cfg.nested)
		return;
	t->nest = xcalloc(1, sizeof(*t->nest));
	t->nest->units = nest_units_new();
	nest_exec_facts_init(&t->nest->facts);
}

void trace_nest_release(struct trace *t)
{
	struct trace_nest *n = t->nest;
	size_t i;

	if (!n)
		return;
	nest_units_free(n->units);
	for (i = 0; i < n->nr_info; i++)
		free(n->info[i].argv0);
	free(n->info);
	nest_exec_facts_release(&n->facts);
	free(n);
	t->nest = NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A field of /proc/PID/status ("Tgid"), as a number; -1 when unreadable. */
static long status_number(pid_t pid, const char *name)
{
	_cleanup_strbuf_ struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	const char *p;
	size_t len = strlen(name);

	strbuf_addf(&path, "/proc/%d/status", (int)pid);
	if (strbuf_read_file_at(&text, AT_FDCWD, path.buf, 65536) < 0)
		return -1;
	for (p = text.buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, name, len) && p[len] == ':') {
			/* NSpid: the last one is the pid in the job's namespace */
			const char *end = strchr(p, '\n');
			const char *v = end ? end : p + strlen(p);

			while (v > p && (v[-1] == ' ' || v[-1] == '\t'))
				v--;
			while (v > p && v[-1] >= '0' && v[-1] <= '9')
				v--;
			return strtol(v, NULL, 10);
		}
	return -1;
}

/* The parent of @pid from /proc/PID/stat; 0 when it cannot be read. */
static pid_t parent_of(pid_t pid)
{
	_cleanup_strbuf_ struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	const char *p;
	int ppid = 0;

	strbuf_addf(&path, "/proc/%d/stat", (int)pid);
	if (strbuf_read_file_at(&text, AT_FDCWD, path.buf, 4096) < 0)
		return 0;
	p = strrchr(text.buf, ')');	/* comm may hold anything */
	if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return 0;
	return (pid_t)ppid;
}

void trace_nest_proc(struct trace *t, pid_t pid)
{
	struct trace_nest *n = t->nest;
	pid_t anc[NEST_MAX_DEPTH];
	size_t nr = 0;
	pid_t p;
	long tgid;

	if (!n || nest_units_known(n->units, pid))
		return;
	if (!n->top) {
		/* the job's first notification: its first execve */
		n->top = pid;
		n->init = parent_of(pid);
		nest_units_proc(n->units, pid, NULL, 0);
		return;
	}
	/* a thread is in its process's units */
	tgid = status_number(pid, "Tgid");
	p = tgid > 0 && tgid != pid ? (pid_t)tgid : parent_of(pid);
	while (p > 0 && nr < NEST_MAX_DEPTH) {
		anc[nr++] = p;
		if (p == n->init || nest_units_known(n->units, p))
			break;
		p = parent_of(p);
	}
	nest_units_proc(n->units, pid, anc, nr);
}

void trace_nest_refuse(struct trace *t, pid_t pid, const char *reason)
{
	if (t->nest && pid > 0)
		nest_units_refuse(t->nest->units, pid, reason);
}

void trace_nest_exec(struct trace *t, pid_t pid, const char *argv0, bool fexec)
{
	struct trace_nest *n = t->nest;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT, reason = STRBUF_INIT;
	unsigned id;
	int r;

	if (!n || pid == n->top)
		return;	/* the job's own programs: the job is the outer entry */
	id = nest_units_exec(n->units, pid);
	if (!id)
		return;
	ALLOC_GROW(n->info, id, n->alloc_info);
	while (n->nr_info < id) {
		n->info[n->nr_info].argv0 = NULL;
		n->info[n->nr_info++].start = 0;
	}
	n->info[id - 1].argv0 = xstrdup(argv0 && *argv0 ? argv0 : "?");
	n->info[id - 1].start = now_s();
	if (fexec) {
		nest_units_refuse_unit(n->units, id, "execveat with an fd and no path (fexecve)");
		return;
	}
	/* the facts of this exec alone (a reason found before would stay) */
	nest_exec_facts_release(&n->facts);
	nest_exec_facts_init(&n->facts);
	r = nest_exec_facts_read(pid, &n->facts, &err);
	if (r < 0) {
		nest_units_refuse_unit(n->units, id, r == -ENOENT ? "its exec was not seen"
					   : "its process cannot be read at exec");
		return;
	}
	if (n->facts.refused.len) {
		nest_units_refuse_unit(n->units, id, n->facts.refused.buf);
		return;
	}
	r = nest_exec_sharers(pid, n->init > 0 ? n->init : pid, &reason, &err);
	if (r < 0)
		nest_units_refuse_unit(n->units, id, "its process tree cannot be walked at exec");
	else if (reason.len)
		nest_units_refuse_unit(n->units, id, reason.buf);
}

void trace_nest_access(struct trace *t, pid_t pid, enum nest_access kind,
		       const char *path)
{
	if (t->nest && pid > 0 && path && path[0] == '/')
		nest_units_access(t->nest->units, pid, kind, path);
}

/* Units that ended: counted, and the refused ones said with -vv. */
static void collect_ended(struct trace *t)
{
	struct trace_nest *n = t->nest;
	struct nest_unit_end end;

	while (nest_units_next_ended(n->units, &end)) {
		const char *argv0 = end.id <= n->nr_info && n->info[end.id - 1].argv0
				    ? n->info[end.id - 1].argv0 : "?";

		if (end.refused) {
			n->nr_refused++;
			debug("nested: unit %u (%s, pid %d) refused: %s", end.id, argv0,
			      (int)end.root, end.refused);
		} else {
			/*
			 * NEEDSWORK: its record (key, observations, output,
			 * changes) is not stored yet (DESIGN §13, step 3).
			 */
			n->nr_run++;
			debug("nested: unit %u (%s, pid %d) ran: %zu view paths", end.id,
			      argv0, (int)end.root, end.nr_accesses);
		}
	}
}

void trace_nest_exit(struct trace *t, pid_t pid, bool group)
{
	struct trace_nest *n = t->nest;

	if (!n)
		return;
	if (group) {
		long tgid = status_number(pid, "Tgid");
		_cleanup_strbuf_ struct strbuf dir = STRBUF_INIT;
		DIR *d;
		struct dirent *e;

		if (tgid <= 0)
			tgid = pid;
		/* the other threads end with it: theirs first, the leader last */
		strbuf_addf(&dir, "/proc/%ld/task", tgid);
		d = opendir(dir.buf);
		while (d && (e = readdir(d))) {
			pid_t tid = (pid_t)atoi(e->d_name);

			if (tid > 0 && tid != (pid_t)tgid)
				nest_units_exit(n->units, tid);
		}
		if (d)
			closedir(d);
		nest_units_exit(n->units, (pid_t)tgid);
	}
	nest_units_exit(n->units, pid);
	collect_ended(t);
}

/* Whether the pid @target (in the job's namespace) is @pid's own process. */
static bool is_self(pid_t pid, long target)
{
	long nstgid = status_number(pid, "NStgid");

	return target > 0 && nstgid > 0 && target == nstgid;
}

void trace_nest_call(struct trace *t, pid_t pid, int nr, const __u64 *a)
{
	struct trace_nest *n = t->nest;
	const char *dup_reason = "duplicates its output fd";
	long fd = (long)(int)a[0];

	if (!n)
		return;
	switch (nr) {
	case SYS_dup:
		if (fd == 1 || fd == 2)
			nest_units_refuse(n->units, pid, dup_reason);
		break;
	case SYS_dup2:
	case SYS_dup3:
		if ((fd == 1 || fd == 2) && (int)a[1] != 1 && (int)a[1] != 2 &&
		    (int)a[1] != (int)fd)
			nest_units_refuse(n->units, pid, dup_reason);
		break;
	case SYS_fcntl:
		if (fd != 1 && fd != 2)
			break;
		if ((int)a[1] == F_DUPFD || (int)a[1] == F_DUPFD_CLOEXEC)
			nest_units_refuse(n->units, pid, dup_reason);
		else if ((int)a[1] == F_SETFL && (a[2] & O_NONBLOCK))
			nest_units_refuse(n->units, pid, "makes its output non-blocking");
		break;
	case SYS_prctl:
		if ((int)a[0] == PR_SET_CHILD_SUBREAPER)
			nest_units_refuse_open(n->units, "a child subreaper (prctl)");
		break;
	case SYS_kill:
	case SYS_tkill:
	case SYS_rt_sigqueueinfo:
		/* a signal to itself (raise, abort, the replayer) or a probe */
		if (!a[1] || is_self(pid, (long)(int)a[0]))
			break;
		nest_units_refuse_open(n->units, "a signal between processes");
		break;
	case SYS_tgkill:
	case SYS_rt_tgsigqueueinfo:
		if (!a[2] || is_self(pid, (long)(int)a[0]))
			break;
		nest_units_refuse_open(n->units, "a signal between processes");
		break;
	case SYS_pidfd_send_signal:
		if (a[1])
			nest_units_refuse_open(n->units, "a signal sent through a pidfd");
		break;
	default:
		break;
	}
}

void trace_nest_finish(struct trace *t)
{
	struct trace_nest *n = t->nest;

	if (!n)
		return;
	nest_units_refuse_open(n->units, "its end was not seen");
	nest_units_end_open(n->units);
	collect_ended(t);
	if (pc_verbose >= 1)
		info("nested: %llu units run, %llu skipped, %llu refused, %.1f s saved",
		     n->nr_run, n->nr_skipped, n->nr_refused, n->saved);
}

void trace_nest_counts(const struct trace *t, struct trace_counts *out)
{
	if (!t->nest)
		return;
	out->units_run = t->nest->nr_run;
	out->units_skipped = t->nest->nr_skipped;
	out->units_refused = t->nest->nr_refused;
	out->saved_s = t->nest->saved;
}

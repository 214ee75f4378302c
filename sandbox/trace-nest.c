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
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/fs.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/die.h"
#include "common/dirlist.h"
#include "common/filestat.h"
#include "common/hash.h"
#include "common/path.h"
#include "common/strbuf.h"
#include "common/loginuid.h"
#include "common/uname.h"
#include "common/xalloc.h"
#include "sandbox/nest-exec.h"
#include "sandbox/nest.h"
#include "sandbox/trace-internal.h"

#include "common/banned.h"

/* Ancestors looked up at most, from a process to one already known. */
#define NEST_MAX_DEPTH 64

/*
 * Where the supervisor's time for a skipped unit goes (-vv's line, -v's
 * means): the wait for the tracer's lock, the key's facts (the exec's
 * resolution, the program's and interpreters' hashes, argv and the
 * environment, /proc), the lookup, reading the outputs, replaying the
 * preconditions (§13.5), the apply, the redirect (memfd, seize, ADDFD,
 * answer; at the exec stop the poke and detach), the wait for the
 * program's exec in its caller (the tracer's lock let go meanwhile), and
 * the replayer's notifications to its end.
 */
enum nest_phase {
	PH_WAIT, PH_KEY, PH_LOOKUP, PH_OUTPUT, PH_COMPOSE, PH_APPLY, PH_REDIRECT,
	PH_EXEC, PH_END, PH_TOTAL, NR_PHASES
};

static const char *const phase_names[NR_PHASES] = {
	"wait", "key", "lookup", "output", "compose", "apply", "redirect", "exec", "end",
	"total",
};

/* Skipped units whose replayer runs, whose calls are timed: at most. */
#define NEST_MAX_REPLAYING 16

struct file_id {
	dev_t dev;
	ino_t ino;
};

/* Processes held_open() looks at, at most (a fork bomb is not a job). */
#define NEST_MAX_SCAN 4096

/* What the tracer keeps of a unit while it runs (by id - 1). */
struct nest_info {
	char *argv0;
	pid_t root;
	pid_t tgid;		/* root's thread group at its exec (its facts), or 0 */
	bool open;
	double start;
	/*
	 * Its fds 0, 1 and 2 at its exec when pipes (their inodes): where its
	 * output goes, what its stdin reads. Not copies of the fds: one held
	 * by the supervisor would keep the job's output pipe from its end.
	 */
	bool pipe[3];
	dev_t pipe_dev[3];
	ino_t pipe_ino[3];
	struct strbuf out[3];
	int exit_code;
	bool exited;
	bool skipped;		/* replayed from its entry: not stored again */
	char *entry;		/* the entry replayed, for -vv */
	double ph[NR_PHASES];	/* its phases (s), when skipped */
	double exec_recv;	/* its exec's receipt: that call is not its end */
	/* its key's fields */
	char **names, **values;
	size_t nr_fields, alloc_fields;
	/* its observations, deduplicated by kind and path */
	struct trace_obs *obs;
	size_t nr_obs, alloc_obs;
	struct strmap obs_index;
	/* the view paths it wrote so far: what it sees there is its own */
	struct strmap written;
	/* its fd 0 may go unkeyed (nest_exec_facts.fd0_unseen_ok), and
	 * whether one of its processes observed fd 0 (trace_nest_fd0_seen()) */
	bool fd0_unseen_ok, fd0_seen;
	/*
	 * The regular files other job processes held open for writing at
	 * its exec (held_open()): written through those fds while it runs,
	 * unseen, they are no precondition it may rely on.
	 */
	struct file_id *held;
	size_t nr_held, alloc_held;
};

struct trace_nest {
	struct nest_units *units;
	pid_t top;		/* the job's first process: its execs are the job's */
	pid_t init;		/* its parent, the sandbox's init */
	/* the seccomp filters stacked on it (the sandbox's); -1 when the
	 * kernel does not say (then restrict_self() alone tells) */
	long seccomp_base;
	int root_fd;		/* O_PATH of the view's root, from the first one */
	struct nest_info *info;	/* by unit id - 1 */
	size_t nr_info, alloc_info;
	struct nest_exec_facts facts;
	/* the program an exec runs: "path:hash" of it and its interpreters
	 * (trace_nest_exec_file()), for the unit it starts */
	char **program;
	size_t nr_program, alloc_program;
	bool program_bad;	/* one of them could not be hashed */
	unsigned last_exec;	/* the unit trace_nest_exec() started, 0: none */
	/*
	 * A job process was made sharing another's fd table (a clone with
	 * CLONE_FILES, not a thread: trace_nest_files_shared()). Until then
	 * no process shares one, and an exec needs no walk to find one.
	 */
	bool files_shared;
	/*
	 * held_open()'s shortcut. The thread groups that may hold a regular
	 * file open for writing (keys: pid_t): a process gets such an fd
	 * only from a notified open with write access (trace_nest_writer(),
	 * before it is answered), from the job's start (its first process,
	 * looked at then), or from its parent at fork, whose mark its
	 * descendants inherit in held_open()'s walk. Marks are never taken
	 * back (a process in exit_group may have other threads writing).
	 * writers_anywhere: an fd may have gone where no mark follows it
	 * (SCM_RIGHTS, pidfd_getfd, a shared fd table, a child subreaper, a
	 * Tgid that could not be read): every process is looked at again.
	 */
	struct strmap writers;
	bool writers_anywhere;
	unsigned long long nr_run, nr_skipped, nr_refused;
	double saved;
	double sum_ph[NR_PHASES];	/* over the skipped units that ended */
	unsigned long long nr_timed;
	unsigned replaying[NEST_MAX_REPLAYING];	/* their ids */
	size_t nr_replaying;
	/*
	 * The preconditions of skipped units already replayed for the outer
	 * job (replay_pre()), by kind, times and path, with the write
	 * generation then; the generation of the last write of each view
	 * path (wgen) and of the last write beneath each directory (bgen).
	 * Each is an index into slots.
	 */
	struct strmap composed, wgen, bgen;
	long *slots;
	size_t nr_slots, alloc_slots;
	long gen;
};

void trace_nest_setup(struct trace *t)
{
	if (!t->cfg.nested)
		return;
	t->nest = xcalloc(1, sizeof(*t->nest));
	t->nest->units = nest_units_new();
	t->nest->root_fd = -1;
	nest_exec_facts_init(&t->nest->facts);
	strmap_init(&t->nest->composed);
	strmap_init(&t->nest->wgen);
	strmap_init(&t->nest->bgen);
	strmap_init(&t->nest->writers);
}

static void obs_release(struct trace_obs *o)
{
	free(o->path);
	free(o->value);
}

/* Everything of unit @i but its name and counts. */
static void info_release(struct nest_info *i)
{
	size_t k;

	for (k = 0; k < 3; k++) {
		i->pipe[k] = false;
		strbuf_release(&i->out[k]);
	}
	for (k = 0; k < i->nr_fields; k++) {
		free(i->names[k]);
		free(i->values[k]);
	}
	free(i->names);
	free(i->values);
	i->names = i->values = NULL;
	i->nr_fields = i->alloc_fields = 0;
	for (k = 0; k < i->nr_obs; k++)
		obs_release(&i->obs[k]);
	free(i->obs);
	i->obs = NULL;
	i->nr_obs = i->alloc_obs = 0;
	strmap_release(&i->obs_index);
	strmap_release(&i->written);
	free(i->entry);
	i->entry = NULL;
	free(i->held);
	i->held = NULL;
	i->nr_held = i->alloc_held = 0;
}

static void program_reset(struct trace_nest *n)
{
	size_t i;

	for (i = 0; i < n->nr_program; i++)
		free(n->program[i]);
	n->nr_program = 0;
	n->program_bad = false;
}

void trace_nest_release(struct trace *t)
{
	struct trace_nest *n = t->nest;
	size_t i;

	if (!n)
		return;
	nest_units_free(n->units);
	for (i = 0; i < n->nr_info; i++) {
		info_release(&n->info[i]);
		free(n->info[i].argv0);
	}
	free(n->info);
	program_reset(n);
	free(n->program);
	nest_exec_facts_release(&n->facts);
	strmap_release(&n->composed);
	strmap_release(&n->wgen);
	strmap_release(&n->bgen);
	strmap_release(&n->writers);
	free(n->slots);
	if (n->root_fd >= 0)
		close(n->root_fd);
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

static bool holds_for_writing(pid_t pid);

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
		char root[64];

		n->top = pid;
		n->init = parent_of(pid);
		if (n->init <= 0)
			n->writers_anywhere = true;	/* no tree to walk by */
		else if (holds_for_writing(pid))
			strmap_put(&n->writers, &pid, sizeof(pid), 1);
		n->seccomp_base = status_number(pid, "Seccomp_filters");
		snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
		n->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
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

void trace_nest_proc_pid(struct trace *t, pid_t pid, const char *digits, size_t len)
{
	struct trace_nest *n = t->nest;
	const unsigned *ids;
	char buf[16];
	long target;

	if (!n || pid <= 0 || !trace_is_digits(digits, len))
		return;
	/* in no unit: nothing to refuse (an unknown pid may be in any) */
	if (nest_units_known(n->units, pid) && !nest_units_stack(n->units, pid, &ids))
		return;
	if (len >= sizeof(buf)) {
		target = -1;
	} else {
		memcpy(buf, digits, len);
		buf[len] = '\0';
		target = strtol(buf, NULL, 10);
	}
	/*
	 * Its own process, by pid or tid ($$ in a script, /proc/<tid> of
	 * a thread): state its key holds or its own doing. Any other's,
	 * its parent's comm or environ say, is state outside the unit
	 * that the same pid names again in a later run.
	 */
	if (target > 0 && (target == status_number(pid, "NSpid") ||
			   target == status_number(pid, "NStgid")))
		return;
	nest_units_refuse(n->units, pid, "reads /proc of another process");
}

static void add_field(struct nest_info *i, const char *name, const char *value)
{
	size_t had = i->alloc_fields;

	ALLOC_GROW(i->names, i->nr_fields + 1, i->alloc_fields);
	if (i->alloc_fields != had)	/* one size for both */
		i->values = xrealloc(i->values, i->alloc_fields * sizeof(*i->values));
	i->names[i->nr_fields] = xstrdup(name);
	i->values[i->nr_fields++] = xstrdup(value);
}

/*
 * Hash the file the view shows at @path (absolute), not following a final
 * symlink; 0 or -errno. Through the run's stat-keyed hash cache when it
 * has one (trace_config.hash_file): every process a unit runs opens libc
 * and the loader's cache, megabytes to hash again at each exec. The cache
 * keys on (dev, ino, size, mtime, ctime) and trusts only files whose
 * times are two seconds old; a view file rewritten in place gets a new
 * ctime, and the overlay shows a lower file with its own inode number
 * (its device is the overlay's), so a hit is the same bytes.
 */
static int hash_view_file(struct trace *t, pid_t pid, const char *path,
			  struct pc_hash *h, struct stat *st)
{
	_cleanup_strbuf_ struct strbuf view = STRBUF_INIT;
	_cleanup_close_ int fd = -1;
	struct stat after;
	int r;

	trace_view_path(pid, path, &view);
	/*
	 * Not opened unless regular: the supervisor opening a FIFO, even
	 * without waiting, is a reader its writer's open returns for, and
	 * the bytes it writes then are gone when both have closed.
	 */
	if (lstat(view.buf, st) < 0)
		return -errno;
	if (!S_ISREG(st->st_mode))
		return -EINVAL;
	fd = open(view.buf, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0)
		return -errno;
	if (!S_ISREG(st->st_mode))
		return -EINVAL;
	if (t->cfg.hash_file) {
		/* checked unchanged while hashed; -ESTALE: it changed */
		r = t->cfg.hash_file(t->cfg.hash_ctx, view.buf, st, h);
		if (r == 0 || r == -ESTALE)
			return r;
	}
	r = pc_hash_fd(fd, h, NULL);
	if (r < 0)
		return r;
	/* the bytes of the file @st describes: unchanged while read */
	if (fstat(fd, &after) < 0)
		return -errno;
	return stat_same_file(&after, st) ? 0 : -ESTALE;
}

void trace_nest_exec_file(struct trace *t, pid_t pid, const char *path)
{
	struct trace_nest *n = t->nest;
	char hex[PC_HASH_HEX_LEN + 1];
	struct pc_hash h;
	struct stat st;
	_cleanup_strbuf_ struct strbuf v = STRBUF_INIT;

	if (!n || pid == n->top)
		return;
	if (hash_view_file(t, pid, path, &h, &st) < 0) {
		/* two programs that cannot be read must not share a key */
		n->program_bad = true;
		strbuf_addf(&v, "%s:unreadable", path);
	} else {
		pc_hash_to_hex(&h, hex);
		strbuf_addf(&v, "%s:%s:%o", path, hex, (unsigned)st.st_mode);
	}
	ALLOC_GROW(n->program, n->nr_program + 1, n->alloc_program);
	n->program[n->nr_program++] = strbuf_detach(&v, NULL);
}

/* Whether @pid's fd @fd is the pipe unit @i had as its fd @k at its exec. */
static bool same_pipe(pid_t pid, int fd, const struct nest_info *i, int k)
{
	char path[64];
	struct stat st;

	if (!i->pipe[k] || fd < 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
	return stat(path, &st) == 0 && S_ISFIFO(st.st_mode) &&
	       st.st_dev == i->pipe_dev[k] && st.st_ino == i->pipe_ino[k];
}

/*
 * An fd above 2 that @pid's exec keeps open (not close-on-exec): its
 * number, 0 for none, -1 when they cannot be listed. What the program
 * reads or writes through it is not seen (reads and writes of fds above 2
 * are not notified): its content or peer is state outside the unit
 * (DESIGN §13.6). v1 refuses any, used or not (make's jobserver pipe
 * included).
 */
static int inherited_fd(pid_t pid)
{
	char path[64];
	DIR *d;
	struct dirent *e;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while (!found && (e = readdir(d))) {
		_cleanup_strbuf_ struct strbuf info = STRBUF_INIT, name = STRBUF_INIT;
		int fd = atoi(e->d_name);
		const char *flags;

		if (fd <= 2)
			continue;
		strbuf_addf(&name, "/proc/%d/fdinfo/%d", (int)pid, fd);
		if (strbuf_read_file_at(&info, AT_FDCWD, name.buf, 4096) < 0)
			continue;	/* closed meanwhile */
		flags = strstr(info.buf, "flags:");
		if (!flags || !(strtoul(flags + 6, NULL, 8) & O_CLOEXEC))
			found = fd;
	}
	closedir(d);
	return found;
}

void trace_nest_exec(struct trace *t, pid_t pid, const struct trace_nest_exec_args *a)
{
	struct trace_nest *n = t->nest;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT, reason = STRBUF_INIT;
	struct nest_info *i;
	unsigned id;
	size_t k;
	int r;

	if (n)
		n->last_exec = 0;
	if (!n || pid == n->top) {
		if (n)
			program_reset(n);
		return;	/* the job's own programs: the job is the outer entry */
	}
	id = nest_units_exec(n->units, pid);
	n->last_exec = id;
	if (!id) {
		program_reset(n);
		return;
	}
	ALLOC_GROW(n->info, id, n->alloc_info);
	while (n->nr_info < id) {
		i = &n->info[n->nr_info++];
		memset(i, 0, sizeof(*i));
		for (k = 0; k < 3; k++)
			strbuf_init(&i->out[k], 0);
		strmap_init(&i->obs_index);
		strmap_init(&i->written);
	}
	i = &n->info[id - 1];
	i->argv0 = xstrdup(a->argv0 && *a->argv0 ? a->argv0 : "?");
	i->root = pid;
	i->open = true;
	i->start = now_s();
	add_field(i, "exe", a->exe);
	for (k = 0; k < n->nr_program; k++)
		add_field(i, "program", n->program[k]);
	if (n->program_bad || !n->nr_program) {
		program_reset(n);
		nest_units_refuse_unit(n->units, id, "its program cannot be read");
		return;
	}
	program_reset(n);
	for (k = 0; k < a->nr_argv; k++)
		add_field(i, "argv", a->argv[k]);
	for (k = 0; k < a->nr_env; k++)
		add_field(i, "env", a->env[k]);
	add_field(i, "cwd", a->cwd ? a->cwd : "");
	if (a->fexec) {
		nest_units_refuse_unit(n->units, id, "execveat with an fd and no path (fexecve)");
		return;
	}
	if (a->incomplete) {
		nest_units_refuse_unit(n->units, id, "its argv or environment cannot be read");
		return;
	}
	/*
	 * A job whose permissions the kernel checks (cfg.access) under a
	 * supervisor that is root: a unit's lookup, made with root's access,
	 * holds where the program would be refused (a directory made
	 * searchable by its owner only since). What decides the job's
	 * access is recorded once per run for the whole job, not per unit
	 * (trace-resolve.c, record_searched()). Rootless, the supervisor
	 * has no more access than the job, and its lookups fail where the
	 * job's would.
	 */
	if (t->cfg.access && geteuid() == 0) {
		nest_units_refuse_unit(n->units, id, "the job runs with less access "
				       "than root (another user, or without "
				       "CAP_DAC_OVERRIDE or CAP_FOWNER)");
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
	for (k = 0; k < n->facts.nr; k++)
		add_field(i, n->facts.names[k], n->facts.values[k].buf);
	i->fd0_unseen_ok = n->facts.fd0_unseen_ok;
	i->tgid = n->facts.tgid;
	if (n->facts.refused.len) {
		nest_units_refuse_unit(n->units, id, n->facts.refused.buf);
		return;
	}
	/*
	 * A filter or Landlock domain the job set up changes what the
	 * program may do, and only the number of filters is keyed: two
	 * different ones would share an entry. Another number of filters
	 * than the job started with (one unreadable where the job's was
	 * read), or a restriction by it or an ancestor since its fork
	 * (restrict_self()), refuses the unit.
	 */
	if (nest_units_restricted(n->units, pid) ||
	    n->facts.seccomp_filters != n->seccomp_base) {
		nest_units_refuse_unit(n->units, id, "runs under a seccomp filter, Landlock "
				       "domain or inherited attribute set up in the job");
		return;
	}
	/* (walking every job process was a sixth of an exec's handling) */
	r = n->files_shared ? nest_exec_files_sharers(pid, n->init > 0 ? n->init : pid,
						      &reason, &err) : 0;
	if (r < 0) {
		nest_units_refuse_unit(n->units, id, "its process tree cannot be walked at exec");
		return;
	}
	if (reason.len) {
		nest_units_refuse_unit(n->units, id, reason.buf);
		return;
	}
	r = inherited_fd(pid);
	if (r) {
		char why[64];

		snprintf(why, sizeof(why), "holds an inherited fd %d", r);
		nest_units_refuse_unit(n->units, id, why);
		return;
	}
	/* the pipes of its stdin and outputs */
	for (k = 0; k < 3; k++) {
		if (n->facts.fd[k].kind != NEST_FD_PIPE)
			continue;
		i->pipe[k] = true;
		i->pipe_dev[k] = n->facts.fd[k].dev;
		i->pipe_ino[k] = n->facts.fd[k].ino;
	}
	if (n->facts.fd[0].kind == NEST_FD_FILE) {
		/* read from its offset on: its content is an observation */
		_cleanup_strbuf_ struct strbuf link = STRBUF_INIT, target = STRBUF_INIT;

		strbuf_addf(&link, "/proc/%d/fd/0", (int)pid);
		if (trace_readlink(link.buf, &target) < 0 || target.buf[0] != '/' ||
		    (target.len >= 10 && !strcmp(target.buf + target.len - 10, " (deleted)"))) {
			nest_units_refuse_unit(n->units, id, "fd0 is a file it cannot name");
			return;
		}
		trace_nest_observe(t, pid, TRACE_CONTENT, target.buf, NULL, false);
	}
}

void trace_nest_files_shared(struct trace *t)
{
	if (t->nest)
		t->nest->files_shared = t->nest->writers_anywhere = true;
}

void trace_nest_writers_anywhere(struct trace *t)
{
	if (t->nest)
		t->nest->writers_anywhere = true;
}

static bool is_writer(const struct trace_nest *n, pid_t pid)
{
	return strmap_get(&n->writers, &pid, sizeof(pid)) >= 0;
}

void trace_nest_writer(struct trace *t, pid_t pid)
{
	struct trace_nest *n = t->nest;
	long tgid;

	if (!n || n->writers_anywhere)
		return;
	/*
	 * The fd table is its process's (threads share it): marked by
	 * thread group, read each time (a pid marked before may be a
	 * thread of another process now).
	 */
	tgid = status_number(pid, "Tgid");
	if (tgid <= 0) {
		n->writers_anywhere = true;
		return;
	}
	if (!is_writer(n, (pid_t)tgid)) {
		pid_t g = (pid_t)tgid;

		strmap_put(&n->writers, &g, sizeof(g), 1);
	}
}

void trace_nest_exec_reset(struct trace *t)
{
	if (t->nest)
		program_reset(t->nest);
}

/* The units an observation or an output of @pid goes to: open, not refused. */
static size_t recipients(struct trace_nest *n, pid_t pid, unsigned *out, size_t max)
{
	const unsigned *ids;
	size_t nr = nest_units_stack(n->units, pid, &ids), k, m = 0;

	for (k = 0; k < nr && m < max; k++)
		if (ids[k] <= n->nr_info && n->info[ids[k] - 1].open &&
		    !nest_units_refused(n->units, ids[k]))
			out[m++] = ids[k];
	return m;
}

#define NEST_MAX_STACK 256

/*
 * Add @o (copied) to unit @i unless it has (kind, path) already. A stat
 * that showed the times after one that did not (access(), then stat())
 * makes the unit's observation one with times, of the same object; if
 * the object changed in between, unit @id is refused (as a job's run is
 * tainted, trace-observe.c): dropped, the times would go unchecked.
 */
static void unit_add_obs(struct trace_nest *n, unsigned id, const struct trace_obs *o)
{
	struct nest_info *i = &n->info[id - 1];
	_cleanup_strbuf_ struct strbuf key = STRBUF_INIT;
	struct trace_obs *c;
	long idx;

	strbuf_addch(&key, (char)('a' + (int)o->kind));
	strbuf_addstr(&key, o->path);
	idx = strmap_get(&i->obs_index, key.buf, key.len);
	if (idx != -1) {
		c = &i->obs[idx];
		if (o->kind != TRACE_STAT || !o->times || c->times)
			return;
		/*
		 * A directory whose entries changed meanwhile (the unit's own
		 * or a sibling's files: only its times and size moved) is
		 * kept as it is now, as a job's (trace_record_stat_times()):
		 * the first call showed what still holds, the entries are a
		 * listing's.
		 */
		if (S_ISDIR(c->st.st_mode) && c->st.st_dev == o->st.st_dev &&
		    c->st.st_ino == o->st.st_ino && c->st.st_mode == o->st.st_mode &&
		    c->st.st_uid == o->st.st_uid && c->st.st_gid == o->st.st_gid) {
			c->st = o->st;
			c->times = true;
			return;
		}
		if (!stat_same_file(&c->st, &o->st) || c->st.st_mode != o->st.st_mode) {
			nest_units_refuse_unit(n->units, id, "input changed during the run");
			return;
		}
		c->st = o->st;
		c->times = true;
		c->hash = o->hash;
		c->hashed = o->hashed;
		return;
	}
	strmap_put(&i->obs_index, key.buf, key.len, (long)i->nr_obs);
	ALLOC_GROW(i->obs, i->nr_obs + 1, i->alloc_obs);
	c = &i->obs[i->nr_obs++];
	*c = *o;
	c->path = xstrdup(o->path);
	c->value = o->value ? xstrdup(o->value) : NULL;
}

/*
 * Whether every recipient has (kind, path) already, with the times when
 * @times (a stat that showed them): nothing to read.
 */
static bool all_have(struct trace_nest *n, const unsigned *ids, size_t nr,
		     enum trace_obs_kind kind, const char *path, bool times)
{
	_cleanup_strbuf_ struct strbuf key = STRBUF_INIT;
	size_t k;

	strbuf_addch(&key, (char)('a' + (int)kind));
	strbuf_addstr(&key, path);
	for (k = 0; k < nr; k++) {
		const struct nest_info *i = &n->info[ids[k] - 1];
		long idx = strmap_get(&i->obs_index, key.buf, key.len);

		if (idx == -1 || (kind == TRACE_STAT && times && !i->obs[idx].times))
			return false;
	}
	return true;
}

/*
 * Whether @path, or a directory above it, is one unit @i wrote: then what
 * it sees there is its own doing, not a precondition (as a job's own
 * state is not, §3).
 */
static bool own_state(const struct nest_info *i, const char *path)
{
	size_t len = strlen(path);

	if (!i->written.nr)
		return false;
	while (len > 1) {
		if (strmap_get(&i->written, path, len) != -1)
			return true;
		while (len > 1 && path[len - 1] != '/')
			len--;
		if (len > 1)
			len--;	/* the slash */
	}
	return false;
}

/* Whether @st is a file other processes held open for writing at @i's exec. */
static bool held_by_other(const struct nest_info *i, const struct stat *st)
{
	size_t k;

	for (k = 0; k < i->nr_held; k++)
		if (i->held[k].dev == st->st_dev && i->held[k].ino == st->st_ino)
			return true;
	return false;
}

static void observe(struct trace *t, pid_t pid, struct trace_obs *o, mode_t open_mode)
{
	struct trace_nest *n = t->nest;
	_cleanup_strbuf_ struct strbuf view = STRBUF_INIT;
	unsigned ids[NEST_MAX_STACK];
	size_t nr, k;
	int r;

	if (!n || pid <= 0 || !o->path ||
	    (o->path[0] != '/' && o->kind != TRACE_HOSTFACT))
		return;
	/* their times mean nothing (trace.h, struct trace_obs) */
	if (path_has_prefix_component(o->path, "/proc") ||
	    path_has_prefix_component(o->path, "/sys"))
		o->times = false;
	nr = recipients(n, pid, ids, NEST_MAX_STACK);
	if (!nr || all_have(n, ids, nr, o->kind, o->path, o->times))
		return;
	trace_view_path(pid, o->path, &view);
	switch (o->kind) {
	case TRACE_CONTENT:
		r = hash_view_file(t, pid, o->path, &o->hash, &o->st);
		if (r == -EINVAL && S_ISFIFO(o->st.st_mode)) {
			/*
			 * What it reads is what another process writes
			 * (found by the pipeline sweep: `cat f` of a FIFO
			 * replayed the bytes of the recorded writer).
			 */
			for (k = 0; k < nr; k++)
				nest_units_refuse_unit(n->units, ids[k], "opens a FIFO by path");
			return;
		}
		if (r == -EINVAL)	/* not a regular file: its stat */
			o->kind = TRACE_STAT;
		else if (r < 0)
			goto cannot;
		o->hashed = r == 0;
		break;
	case TRACE_STAT:
	case TRACE_SYMLINK:
		if (lstat(view.buf, &o->st) < 0)
			goto cannot;
		/*
		 * A regular file's bytes: a stat that showed no times holds
		 * if its mtime or its bytes are the same (as a job's,
		 * runner/record.c), one that did only with --mtime=content.
		 */
		if (o->kind == TRACE_STAT && (!o->times || t->cfg.stat_content) &&
		    S_ISREG(o->st.st_mode)) {
			/* the bytes it had then, when still that very file */
			struct stat st;

			o->hashed = hash_view_file(t, pid, o->path, &o->hash, &st) == 0 &&
				    stat_same_file(&st, &o->st);
		}
		break;
	case TRACE_LISTING:
		if (lstat(view.buf, &o->st) < 0 ||
		    dirlist_hash_at(AT_FDCWD, view.buf, &o->hash, &o->nr_entries) < 0)
			goto cannot;
		o->hashed = true;
		break;
	case TRACE_OUTPUT:
		if (lstat(view.buf, &o->st) < 0)
			memset(&o->st, 0, sizeof(o->st));
		else if (!S_ISREG(o->st.st_mode))
			goto cannot;
		/* what creating it gives, read through the caller's root */
		{
			char *path = o->path;

			o->path = view.buf;
			o->create = trace_output_creation(pid, view.buf, open_mode, o);
			o->path = path;
		}
		break;
	case TRACE_ABSENT:
	case TRACE_HOSTFACT:	/* the value is given */
		break;
	case TRACE_XATTRS:
		/* NEEDSWORK: not observed per unit yet: refused (§13.6) */
		goto cannot;
	}
	for (k = 0; k < nr; k++) {
		if (S_ISREG(o->st.st_mode) && held_by_other(&n->info[ids[k] - 1], &o->st)) {
			nest_units_refuse_unit(n->units, ids[k], "reads a file another process "
					       "holds open for writing");
			continue;
		}
		if (!o->path || o->kind == TRACE_HOSTFACT ||
		    !own_state(&n->info[ids[k] - 1], o->path))
			unit_add_obs(n, ids[k], o);
	}
	return;
cannot:
	for (k = 0; k < nr; k++)
		nest_units_refuse_unit(n->units, ids[k], "an observation that cannot be read again");
}

void trace_nest_observe(struct trace *t, pid_t pid, enum trace_obs_kind kind,
			const char *path, const char *value, bool times)
{
	struct trace_obs o;

	memset(&o, 0, sizeof(o));
	o.kind = kind;
	o.path = (char *)path;
	o.value = (char *)value;
	o.times = times;
	o.syscall = "";
	observe(t, pid, &o, 0);
}

void trace_nest_observe_output(struct trace *t, pid_t pid, const char *path, mode_t open_mode)
{
	struct trace_obs o;

	memset(&o, 0, sizeof(o));
	o.kind = TRACE_OUTPUT;
	o.path = (char *)path;
	o.syscall = "";
	observe(t, pid, &o, open_mode);
}

void trace_nest_output(struct trace *t, pid_t pid, int fd, const void *buf, size_t len)
{
	struct trace_nest *n = t->nest;
	unsigned ids[NEST_MAX_STACK];
	size_t nr, k;

	if (!n || !len)
		return;
	nr = recipients(n, pid, ids, NEST_MAX_STACK);
	for (k = 0; k < nr; k++) {
		struct nest_info *i = &n->info[ids[k] - 1];

		/* fd1 and fd2 one pipe: one stream, in order */
		if (same_pipe(pid, fd, i, 1))
			strbuf_add(&i->out[1], buf, len);
		else if (same_pipe(pid, fd, i, 2))
			strbuf_add(&i->out[2], buf, len);
	}
}

/* Refuse the units enclosing @pid that had @pid's fd @fd as one of their
 * fds @first..@last (a pipe) at their exec. */
static void refuse_by_pipe(struct trace *t, pid_t pid, int fd, int first, int last,
			   const char *reason)
{
	struct trace_nest *n = t->nest;
	unsigned ids[NEST_MAX_STACK];
	size_t nr, k;
	int j;

	if (!n)
		return;
	nr = recipients(n, pid, ids, NEST_MAX_STACK);
	for (k = 0; k < nr; k++)
		for (j = first; j <= last; j++)
			if (same_pipe(pid, fd, &n->info[ids[k] - 1], j)) {
				nest_units_refuse_unit(n->units, ids[k], reason);
				break;
			}
}

void trace_nest_refuse_output(struct trace *t, pid_t pid, int fd, const char *reason)
{
	refuse_by_pipe(t, pid, fd, 0, 2, reason);
}

void trace_nest_attr_dir(struct trace *t, pid_t pid, const char *path)
{
	struct trace_nest *n = t->nest;
	unsigned ids[NEST_MAX_STACK];
	size_t nr, k;

	if (!n || pid <= 0)
		return;
	nr = recipients(n, pid, ids, NEST_MAX_STACK);
	for (k = 0; k < nr; k++)
		if (!own_state(&n->info[ids[k] - 1], path))
			nest_units_refuse_unit(n->units, ids[k],
					       "changes the attributes of a directory it did not make");
}

void trace_nest_moved(struct trace *t, pid_t pid, const char *path)
{
	struct trace_nest *n = t->nest;
	unsigned ids[NEST_MAX_STACK];
	size_t nr, k;

	if (!n || pid <= 0)
		return;
	nr = recipients(n, pid, ids, NEST_MAX_STACK);
	for (k = 0; k < nr; k++)
		if (!path || path[0] != '/' || !own_state(&n->info[ids[k] - 1], path))
			nest_units_refuse_unit(n->units, ids[k],
					       "moves or links a file it did not write");
}

/* The slot of @key (@len bytes) in @m, 0 when new. */
static long *slot(struct trace_nest *n, struct strmap *m, const char *key, size_t len)
{
	long i = strmap_put(m, key, len, (long)n->nr_slots);

	if (i < 0) {
		ALLOC_GROW(n->slots, n->nr_slots + 1, n->alloc_slots);
		n->slots[n->nr_slots] = 0;
		i = (long)n->nr_slots++;
	}
	return &n->slots[i];
}

static long peek(const struct trace_nest *n, const struct strmap *m, const char *key,
		 size_t len)
{
	long i = strmap_get(m, key, len);

	return i < 0 ? 0 : n->slots[i];
}

/* The length of @path's parent in its first @len bytes ("/" for "/a"). */
static size_t parent_len(const char *path, size_t len)
{
	while (len > 1 && path[len - 1] != '/')
		len--;
	return len > 1 ? len - 1 : 1;
}

/*
 * A write of the view path @path: a new generation, for it and for each
 * directory above it (whose entries, and times, it may change).
 */
static void note_write(struct trace_nest *n, const char *path)
{
	size_t len = strlen(path);

	*slot(n, &n->wgen, path, len) = ++n->gen;
	while (len > 1) {
		len = parent_len(path, len);
		*slot(n, &n->bgen, path, len) = n->gen;
	}
}

/*
 * Whether nothing wrote @path, a directory above it or a path beneath it
 * since generation @g: a walk of it would resolve as it did then.
 */
static bool unwritten_since(const struct trace_nest *n, const char *path, long g)
{
	size_t len = strlen(path);

	if (peek(n, &n->bgen, path, len) > g)
		return false;
	for (;;) {
		if (peek(n, &n->wgen, path, len) > g)
			return false;
		if (len <= 1)
			return true;
		len = parent_len(path, len);
	}
}

void trace_nest_access(struct trace *t, pid_t pid, enum nest_access kind,
		       const char *path)
{
	struct trace_nest *n = t->nest;
	unsigned ids[NEST_MAX_STACK];
	size_t nr, k;

	if (!n || pid <= 0 || !path || path[0] != '/')
		return;
	nest_units_access(n->units, pid, kind, path);
	if (kind != NEST_WRITE)
		return;
	note_write(n, path);
	nr = recipients(n, pid, ids, NEST_MAX_STACK);
	for (k = 0; k < nr; k++)
		strmap_add(&n->info[ids[k] - 1].written, path);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Unit @end, not refused: its record to the runner. */
static void unit_store(struct trace *t, const struct nest_unit_end *end, struct nest_info *i)
{
	struct trace_nest *n = t->nest;
	struct trace_unit u;
	const char **written = xcalloc(end->nr_accesses + 1, sizeof(*written));
	size_t k, nr_written = 0, w;

	for (k = 0; k < end->nr_accesses; k++) {
		enum nest_access kind;
		const char *path = nest_units_access_at(n->units, end->id, k, &kind);

		if (kind == NEST_WRITE)
			written[nr_written++] = path;
	}
	qsort(written, nr_written, sizeof(*written), cmp_str);
	/* one of each */
	for (k = w = 0; k < nr_written; k++)
		if (!w || strcmp(written[w - 1], written[k]))
			written[w++] = written[k];
	memset(&u, 0, sizeof(u));
	u.id = end->id;
	u.parent = end->parent;
	u.argv0 = i->argv0;
	u.names = (const char *const *)i->names;
	u.values = (const char *const *)i->values;
	u.nr_fields = i->nr_fields;
	u.obs = i->obs;
	u.nr_obs = i->nr_obs;
	for (k = 1; k < 3; k++) {
		u.out[k] = i->out[k].buf;
		u.out_len[k] = i->out[k].len;
	}
	u.exit_code = i->exit_code;
	u.duration_s = now_s() - i->start;
	u.written = written;
	u.nr_written = w;
	u.root_fd = n->root_fd;
	u.fd0_unseen = i->fd0_unseen_ok && !i->fd0_seen;
	t->cfg.unit_done(t->cfg.unit_ctx, &u);
	free(written);
}

/* The time of the call being answered (t->nest_t_recv on) to a skipped
 * unit @id whose replayer made it; it leaves the set at its exit. */
static void replayer_call(struct trace *t, unsigned id, bool last)
{
	struct trace_nest *n = t->nest;
	struct nest_info *i = &n->info[id - 1];
	size_t k;

	if (i->exec_recv != t->nest_t_recv && t->nest_t_recv > 0)
		i->ph[PH_END] += now_s() - t->nest_t_recv;
	if (!last)
		return;
	for (k = 0; k < n->nr_replaying; k++)
		if (n->replaying[k] == id) {
			n->replaying[k] = n->replaying[--n->nr_replaying];
			break;
		}
}

void trace_nest_call_done(struct trace *t, pid_t pid)
{
	struct trace_nest *n = t->nest;
	size_t k;

	if (!n)
		return;
	for (k = 0; k < n->nr_replaying; k++)
		if (n->info[n->replaying[k] - 1].root == pid) {
			replayer_call(t, n->replaying[k], false);
			return;
		}
}

/* Skipped unit @id ended: its phases said with -vv, summed for -v. */
static void skipped_said(struct trace_nest *n, unsigned id, struct nest_info *i)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	int k;

	if (!i->entry)
		return;	/* a redirect that failed: the run is tainted */
	i->ph[PH_TOTAL] += i->ph[PH_END];
	for (k = 0; k < NR_PHASES; k++)
		n->sum_ph[k] += i->ph[k];
	n->nr_timed++;
	if (pc_verbose < 2)
		return;
	for (k = 0; k < PH_TOTAL; k++)
		strbuf_addf(&sb, "%s%s %.2f", k ? ", " : "", phase_names[k], i->ph[k] * 1e3);
	debug("nested: unit %u (%s, pid %d) skipped in %.2f ms: %s; entry %s", id,
	      i->argv0 ? i->argv0 : "?", (int)i->root, i->ph[PH_TOTAL] * 1e3, sb.buf,
	      i->entry ? i->entry : "?");
}

/* Units that ended: counted, stored, and said with -vv. */
static void collect_ended(struct trace *t)
{
	struct trace_nest *n = t->nest;
	struct nest_unit_end end;

	while (nest_units_next_ended(n->units, &end)) {
		struct nest_info *i = end.id <= n->nr_info ? &n->info[end.id - 1] : NULL;
		const char *argv0 = i && i->argv0 ? i->argv0 : "?";
		const char *refused = end.refused;

		if (i && i->skipped) {
			/* counted at its exec; its entry is the one replayed */
			skipped_said(n, end.id, i);
			for (size_t k = 0; k < n->nr_replaying; k++)
				if (n->replaying[k] == end.id) {	/* its exit unseen */
					n->replaying[k] = n->replaying[--n->nr_replaying];
					break;
				}
			i->open = false;
			info_release(i);
			continue;
		}
		if (!refused && i && !i->exited)
			refused = "its end was not seen";
		if (!refused && n->root_fd < 0)
			refused = "the view's root cannot be held";
		if (refused) {
			n->nr_refused++;
			debug("nested: unit %u (%s, pid %d) refused: %s", end.id, argv0,
			      (int)end.root, refused);
		} else {
			n->nr_run++;
			debug("nested: unit %u (%s, pid %d) ran: exit %d, %zu view paths, %zu observations",
			      end.id, argv0, (int)end.root, i->exit_code, end.nr_accesses, i->nr_obs);
			if (t->cfg.unit_done)
				unit_store(t, &end, i);
		}
		if (i) {
			i->open = false;
			info_release(i);
		}
	}
}

/*
 * The live children of @tgid's threads that made no notified call yet
 * (a forked worker busy computing), put in @tgid's units before it is
 * gone: reparented at its exit, they could no longer be attributed, and
 * a unit they outlive would be stored without their work. Known, they
 * make the unit end "a process outlived its unit", as any process it
 * encloses does.
 */
/*
 * @fn(@ctx, child) for each child of each thread of @tgid, as
 * /proc/PID/task/TID/children lists them (CONFIG_PROC_CHILDREN; a gone
 * process lists none); @fn returns false to stop.
 */
static void each_child(pid_t tgid, bool (*fn)(void *ctx, pid_t child), void *ctx)
{
	_cleanup_strbuf_ struct strbuf dir = STRBUF_INIT, kids = STRBUF_INIT;
	bool more = true;
	DIR *d;
	struct dirent *e;

	strbuf_addf(&dir, "/proc/%d/task", (int)tgid);
	d = opendir(dir.buf);
	while (more && d && (e = readdir(d))) {
		_cleanup_strbuf_ struct strbuf path = STRBUF_INIT;
		char *p, *end;

		if (e->d_name[0] == '.')
			continue;
		strbuf_addf(&path, "%s/%s/children", dir.buf, e->d_name);
		strbuf_reset(&kids);
		if (strbuf_read_file_at(&kids, AT_FDCWD, path.buf, 64) < 0)
			continue;
		for (p = kids.buf; more && *p; p = end) {
			long c = strtol(p, &end, 10);

			if (end == p)
				break;
			if (c > 0)
				more = fn(ctx, (pid_t)c);
		}
	}
	if (d)
		closedir(d);
}

struct adopt_ctx {
	struct trace_nest *n;
	pid_t tgid;
};

static bool adopt_one(void *ctx, pid_t child)
{
	struct adopt_ctx *a = ctx;

	if (!nest_units_known(a->n->units, child))
		nest_units_proc(a->n->units, child, &a->tgid, 1);
	return true;
}

static void adopt_children(struct trace_nest *n, pid_t tgid)
{
	struct adopt_ctx a = { n, tgid };

	each_child(tgid, adopt_one, &a);
}

void trace_nest_exit(struct trace *t, pid_t pid, bool group, int code)
{
	struct trace_nest *n = t->nest;
	long tgid;
	size_t k;

	if (!n)
		return;
	nest_redirect_forget(pid);
	/* its process (one read of /proc: each costs tens of µs) */
	tgid = status_number(pid, "Tgid");
	adopt_children(n, tgid > 0 ? (pid_t)tgid : pid);
	/* a replayer's last call */
	for (k = 0; k < n->nr_replaying; k++)
		if (n->info[n->replaying[k] - 1].root == pid) {
			replayer_call(t, n->replaying[k], true);
			break;
		}
	/* the units rooted at it end with this code */
	for (k = 0; k < n->nr_info; k++)
		if (n->info[k].open && n->info[k].root == pid) {
			n->info[k].exit_code = code & 0xff;
			n->info[k].exited = true;
		}
	if (group) {
		_cleanup_strbuf_ struct strbuf dir = STRBUF_INIT;
		DIR *d;
		struct dirent *e;

		if (tgid <= 0)
			tgid = pid;
		for (k = 0; k < n->nr_info; k++)
			if (n->info[k].open && n->info[k].root == (pid_t)tgid) {
				n->info[k].exit_code = code & 0xff;
				n->info[k].exited = true;
			}
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

/*
 * Whether writes through @fd are notified (fd 1, 2, and from
 * TRACE_NEST_SAVED_FD up): a copy of it elsewhere (3 to 9) would let a
 * unit's output escape capture.
 */
static bool out_fd(long fd)
{
	return fd == 1 || fd == 2 || fd >= TRACE_NEST_SAVED_FD;
}

/*
 * @pid installs a seccomp filter or a Landlock domain (the call is not
 * made yet: failing, it refuses needlessly). The units around it are
 * refused (what they do from now on depends on it, and a filter of
 * theirs may hide calls from the supervisor's, e.g. one answering
 * ERRNO), and every later exec by it, its threads (SECCOMP_FILTER_FLAG_
 * TSYNC) or a process it forks after.
 */
static void restrict_self(struct trace *t, pid_t pid, const char *reason)
{
	struct trace_nest *n = t->nest;
	_cleanup_strbuf_ struct strbuf dir = STRBUF_INIT;
	long tgid = status_number(pid, "Tgid");
	struct dirent *e;
	DIR *d;

	nest_units_refuse(n->units, pid, reason);
	nest_units_restrict(n->units, pid);
	if (tgid <= 0)
		return;
	strbuf_addf(&dir, "/proc/%ld/task", tgid);
	d = opendir(dir.buf);
	while (d && (e = readdir(d))) {
		pid_t tid = (pid_t)atoi(e->d_name);

		if (tid > 0 && nest_units_known(n->units, tid)) {
			nest_units_refuse(n->units, tid, reason);
			nest_units_restrict(n->units, tid);
		}
	}
	if (d)
		closedir(d);
}

/*
 * fcntl's locks (whole-file, record, open file description), leases and
 * directory notices: what they answer, or whether they wait or signal,
 * depends on what the job's other processes hold or do, which no key
 * holds (a unit entry recorded while its parent held a lock was found
 * by a job whose parent held none).
 */
#define NEST_PR_SET_MDWE 65
#define NEST_PR_SET_IO_FLUSHER 57

static bool is_lock_cmd(int cmd)
{
	switch (cmd) {
	case F_GETLK: case F_SETLK: case F_SETLKW:
	case F_OFD_GETLK: case F_OFD_SETLK: case F_OFD_SETLKW:
	case F_SETLEASE: case F_NOTIFY:
		return true;
	default:
		return false;
	}
}

void trace_nest_call(struct trace *t, pid_t pid, int nr, const __u64 *a)
{
	struct trace_nest *n = t->nest;
	const char *dup_reason = "duplicates its output fd";
	const char *lock_reason = "takes or tests a file lock (its outcome is shared "
				  "with processes outside it)";
	const char *filter_reason = "installs a seccomp filter or Landlock domain";
	/*
	 * Inherited across execve and read by no /proc file the key takes:
	 * the securebits, MDWE, PR_SET_IO_FLUSHER (the job's key has the
	 * first two: procattr.c); the memory policy is set_mempolicy's.
	 */
	const char *attr_reason = "sets securebits, MDWE or I/O flusher "
				  "that later execs inherit";
	long fd = (long)(int)a[0];

	if (!n)
		return;
	/*
	 * A copy of fd 0 is a way to read it unseen (reads of fd 0 only
	 * are notified): as a read of it. A copy of fd 1 or 2 is a way to
	 * write it unseen, unless it lands at TRACE_NEST_SAVED_FD or above,
	 * whose writes are notified and captured like fd 1's (a shell
	 * saving fd 1 around `cmd >file`).
	 */
	switch (nr) {
	case SYS_dup:
		if (!fd)
			trace_nest_refuse_stdin(t, pid, 0);
		if (out_fd(fd))	/* to the lowest free number: maybe 3 */
			nest_units_refuse(n->units, pid, dup_reason);
		break;
	case SYS_dup2:
	case SYS_dup3:
		if (!fd && (int)a[1] != 0)
			trace_nest_refuse_stdin(t, pid, 0);
		if (out_fd(fd) && (int)a[1] > 2 && (int)a[1] < TRACE_NEST_SAVED_FD)
			nest_units_refuse(n->units, pid, dup_reason);
		break;
	case SYS_fcntl:
		if ((int)a[1] == F_DUPFD || (int)a[1] == F_DUPFD_CLOEXEC) {
			if (!fd)
				trace_nest_refuse_stdin(t, pid, 0);
			else if (out_fd(fd) && (long)a[2] < TRACE_NEST_SAVED_FD)
				nest_units_refuse(n->units, pid, dup_reason);
			break;
		}
		if (is_lock_cmd((int)a[1])) {
			nest_units_refuse(n->units, pid, lock_reason);
			break;
		}
		if (fd != 1 && fd != 2)
			break;
		if ((int)a[1] == F_SETFL && (a[2] & O_NONBLOCK))
			nest_units_refuse(n->units, pid, "makes its output non-blocking");
		break;
	case SYS_ioctl:
		/*
		 * The description is its parent's and siblings' too: a
		 * skip would not leave them a non-blocking pipe (found by
		 * the pipeline sweep: a later writer's EAGAIN was gone).
		 */
		if ((fd == 1 || fd == 2) && (uint32_t)a[1] == FIONBIO)
			nest_units_refuse(n->units, pid, "makes its output non-blocking");
		break;
	case SYS_flock:
		if (!((int)a[1] & LOCK_UN))
			nest_units_refuse(n->units, pid, lock_reason);
		break;
	case SYS_prctl:
		if ((int)a[0] == PR_SET_CHILD_SUBREAPER) {
			nest_units_refuse_open(n->units, "a child subreaper (prctl)");
			/* orphans it adopts are not under init (held_open()) */
			n->writers_anywhere = true;
		}
		if ((int)a[0] == PR_SET_SECCOMP)
			restrict_self(t, pid, filter_reason);
		if ((int)a[0] == PR_SET_SECUREBITS || (int)a[0] == NEST_PR_SET_MDWE ||
		    (int)a[0] == NEST_PR_SET_IO_FLUSHER)
			restrict_self(t, pid, attr_reason);
		break;
	case SYS_seccomp:
		if ((unsigned)a[0] == SECCOMP_SET_MODE_STRICT ||
		    (unsigned)a[0] == SECCOMP_SET_MODE_FILTER)
			restrict_self(t, pid, filter_reason);
		break;
	case SYS_landlock_restrict_self:
		restrict_self(t, pid, filter_reason);
		break;
	case SYS_set_mempolicy:
		/*
		 * Per thread, undone by MPOL_DEFAULT (0, with the mode
		 * flags above the low byte): libnuma's start-up sets one
		 * and puts the default back. The units around the caller
		 * stand (their children's are refused at their exec).
		 */
		nest_units_set_policy(n->units, pid, (a[0] & 0xff) != 0);
		if (a[0] & 0xff) {
			/* a child forked by this thread is found by its
			 * parent process: that is marked too */
			long tgid = status_number(pid, "Tgid");

			if (tgid > 0 && tgid != pid)
				nest_units_set_policy(n->units, (pid_t)tgid, true);
		}
		break;
	case SYS_msgget: case SYS_msgsnd: case SYS_msgrcv: case SYS_msgctl:
	case SYS_semget: case SYS_semop: case SYS_semtimedop: case SYS_semctl:
	case SYS_shmget: case SYS_shmat: case SYS_shmctl:
	case SYS_mq_open: case SYS_mq_unlink:
		/*
		 * What it receives, or whether what it sends reaches a
		 * reader, depends on processes outside it (found by the
		 * pipeline sweep: `./send B; ./recv` replayed the A of a
		 * job that sent A).
		 */
		nest_units_refuse(n->units, pid, "uses System V IPC or a POSIX message queue "
				  "(shared with processes outside it)");
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
	case SYS_read: case SYS_readv: case SYS_pread64: case SYS_preadv:
	case SYS_preadv2:
		/* stdin read: its bytes are in no key when it is a pipe */
		trace_nest_refuse_stdin(t, pid, (int)a[0]);
		break;
	case SYS_pidfd_send_signal:
		if (a[1])
			nest_units_refuse_open(n->units, "a signal sent through a pidfd");
		break;
	default:
		break;
	}
}

/* The caller of a skipped unit's exec, for replay_pre(). */
struct pre_ctx {
	struct trace *t;
	pid_t pid;
	bool failed;
	struct strbuf key;	/* scratch */
};

/*
 * A precondition of the entry that hit, replayed as the observation the
 * unit's processes would have made of it, through the tracer's own walk
 * and records (DESIGN §13.5): the outer job records it when it is host
 * state, each unit around the skipped one records it as its own, with
 * the value it has now (which the lookup just found to hold).
 */
static void replay_pre(void *arg, enum trace_obs_kind kind, const char *path, bool times)
{
	struct pre_ctx *p = arg;
	struct trace *t = p->t;
	struct walk w = { .t = t, .pid = p->pid, .sc = "execve" };
	struct res r = RES_INIT;
	unsigned ids[NEST_MAX_STACK];
	long memo = -1;
	bool failed = p->failed;

	if (kind == TRACE_HOSTFACT) {
		struct utsname u;
		const char *v = uname(&u) == 0 ? uname_field(&u, path) : NULL;
		_cleanup_strbuf_ struct strbuf now = STRBUF_INIT;
		struct trace_obs *o;

		if (!v && loginuid_fact_value(path, &now) == 0)
			v = now.buf;
		if (!v) {
			p->failed = true;
			return;
		}
		o = trace_obs_add(t, TRACE_HOSTFACT, path, "uname", NULL);
		if (o)
			o->value = xstrdup(v);
		trace_nest_observe(t, p->pid, TRACE_HOSTFACT, path, v, false);
		return;
	}
	if (kind == TRACE_XATTRS || path[0] != '/') {
		p->failed = true;
		return;
	}
	/*
	 * Replayed already, for another skipped unit, and nothing written
	 * since along its path or beneath it: the walk would find and
	 * record for the outer job what it did then (records are kept
	 * once). Only when no unit around the caller is to observe it
	 * (those read values now); its access is still every open unit's.
	 */
	if (!recipients(t->nest, p->pid, ids, NEST_MAX_STACK)) {
		strbuf_reset(&p->key);
		strbuf_addch(&p->key, (char)('a' + (int)kind));
		strbuf_addch(&p->key, times ? 't' : '-');
		strbuf_addstr(&p->key, path);
		memo = strmap_get(&t->nest->composed, p->key.buf, p->key.len);
		if (memo >= 0 && unwritten_since(t->nest, path, t->nest->slots[memo])) {
			trace_nest_access(t, p->pid, kind == TRACE_LISTING ? NEST_LIST : NEST_READ,
					  path);
			return;
		}
		memo = -2;	/* to note */
	}
	trace_walk_path(&w, "/", path, &r);
	if (r.status == RES_FAILED) {
		p->failed = true;
	} else if (r.status == RES_FOUND) {
		mode_t m = r.st.st_mode;

		if (kind == TRACE_LISTING && S_ISDIR(m)) {
			trace_record_found(t, &r, TRACE_LISTING, w.sc);
			trace_nest_observe(t, p->pid, TRACE_LISTING, r.path.buf, NULL, false);
		} else if (S_ISLNK(m)) {
			_cleanup_strbuf_ struct strbuf view = STRBUF_INIT, target = STRBUF_INIT;

			trace_record_found(t, &r, TRACE_SYMLINK, w.sc);
			trace_view_path(p->pid, r.path.buf, &view);
			if (trace_readlink(view.buf, &target) < 0)
				p->failed = true;
			else
				trace_nest_observe(t, p->pid, TRACE_SYMLINK, r.path.buf,
						   target.buf, false);
			/* a stat of it that showed its own times (note_access()) */
			if (kind == TRACE_STAT && times) {
				trace_record_stat_times(t, &r, w.sc, true, true);
				trace_nest_observe(t, p->pid, TRACE_STAT, r.path.buf, NULL, true);
			}
		} else if (kind == TRACE_CONTENT && S_ISREG(m)) {
			trace_record_found(t, &r, TRACE_CONTENT, w.sc);
			trace_nest_observe(t, p->pid, TRACE_CONTENT, r.path.buf, NULL, false);
		} else {
			if (times)
				trace_record_stat_times(t, &r, w.sc, true, true);
			else
				trace_record_found(t, &r, TRACE_STAT, w.sc);
			trace_nest_observe(t, p->pid, TRACE_STAT, r.path.buf, NULL,
					   times && (S_ISREG(m) || S_ISDIR(m)));
		}
	}
	/* (a missing path: the walk recorded its absence) */
	if (r.path.len)
		trace_nest_access(t, p->pid, kind == TRACE_LISTING ? NEST_LIST : NEST_READ,
				  r.path.buf);
	/* a walk through no symlink, every step of it notified when written */
	if (memo == -2 && !p->failed && !failed && r.status != RES_FAILED &&
	    !strcmp(r.path.buf, path))
		*slot(t->nest, &t->nest->composed, p->key.buf, p->key.len) = t->nest->gen;
	trace_res_release(&r);
}

/*
 * The tracer's lock let go while a redirected exec happens in its caller
 * (nest_exec_redirect_wait()): the other tracer threads answer the rest
 * of the job meanwhile. What the tracer keeps per call is this thread's
 * again after.
 */
struct unlocked {
	struct trace *t;
	pid_t nest_pid;
	double t_recv, t_lock;
	double begin, end, locked;	/* of the wait, the lock again */
};

static void unlock_begin(void *arg)
{
	struct unlocked *u = arg;

	u->nest_pid = u->t->nest_pid;
	u->t_recv = u->t->nest_t_recv;
	u->t_lock = u->t->nest_t_lock;
	u->begin = now_s();
	pthread_mutex_unlock(&u->t->lock);
	/* and the receiver's token, which this thread may hold */
	trace_recv_release(u->t);
}

static void unlock_end(void *arg)
{
	struct unlocked *u = arg;

	u->end = now_s();
	pthread_mutex_lock(&u->t->lock);
	u->locked = now_s();
	u->t->nest_pid = u->nest_pid;
	u->t->nest_t_recv = u->t_recv;
	u->t->nest_t_lock = u->t_lock;
}

static void hit_release(struct trace_unit_hit *hit)
{
	size_t k;

	for (k = 0; k < 3; k++)
		strbuf_release(&hit->out[k]);
	for (k = 0; k < hit->nr_written; k++)
		free(hit->written[k]);
	free(hit->written);
	free(hit->entry);
}

static int skip_unit(struct trace *t, int listener, const struct seccomp_notif *req,
		     pid_t pid);

static void add_held(struct nest_info *i, const struct stat *st)
{
	if (held_by_other(i, st))
		return;
	ALLOC_GROW(i->held, i->nr_held + 1, i->alloc_held);
	i->held[i->nr_held].dev = st->st_dev;
	i->held[i->nr_held++].ino = st->st_ino;
}

/* The regular files process @pid holds open for writing, into @i. */
static void held_by(pid_t pid, struct nest_info *i)
{
	_cleanup_strbuf_ struct strbuf info = STRBUF_INIT;
	char path[64];
	struct dirent *e;
	DIR *d;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;	/* gone: its fds with it */
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((e = readdir(d))) {
		struct stat st;
		const char *flags;

		if (e->d_name[0] == '.' || fstatat(fd, e->d_name, &st, 0) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;	/* pipes, sockets, devices: not files */
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, atoi(e->d_name));
		strbuf_reset(&info);
		if (strbuf_read_file_at(&info, AT_FDCWD, path, 4096) < 0)
			continue;	/* closed meanwhile */
		flags = strstr(info.buf, "flags:");
		if (flags && (strtoul(flags + 6, NULL, 8) & O_ACCMODE) != O_RDONLY)
			add_held(i, &st);
	}
	closedir(d);
}

/*
 * Whether @pid holds a regular file open for writing, or a socket (fds
 * may come in through it: struct trace_nest, writers), or cannot be read.
 */
static bool holds_for_writing(pid_t pid)
{
	struct nest_info i;
	char path[64];
	struct dirent *e;
	DIR *d;
	bool held = false;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return true;
	while (!held && (e = readdir(d))) {
		struct stat st;

		if (e->d_name[0] != '.' && fstatat(dirfd(d), e->d_name, &st, 0) == 0 &&
		    S_ISSOCK(st.st_mode))
			held = true;
	}
	closedir(d);
	if (held)
		return true;
	memset(&i, 0, sizeof(i));
	held_by(pid, &i);
	held = i.nr_held > 0;
	free(i.held);
	return held;
}

/* Whether this kernel lists a task's children in /proc (CONFIG_PROC_CHILDREN). */
static bool children_listed(void)
{
	static _Atomic int known = -1;	/* both tracer threads may ask */
	char path[64];

	if (known < 0) {
		snprintf(path, sizeof(path), "/proc/self/task/%ld/children", (long)syscall(SYS_gettid));
		known = access(path, R_OK) == 0;
	}
	return known;
}

/*
 * held_open()'s processes to look at, breadth first, each with whether
 * its fds are looked at (@look: it or an ancestor may hold a file open
 * for writing, struct trace_nest's writers).
 */
struct scan_queue {
	pid_t *queue;
	bool *look;
	size_t nr;
	bool full;	/* NEST_MAX_SCAN met: the scan is incomplete */
	/* the process whose children are enqueued, and its @look */
	pid_t parent;
	bool parent_look;
	pid_t root, top;
};

static bool enqueue(void *ctx, pid_t child)
{
	struct scan_queue *q = ctx;

	if (q->nr == NEST_MAX_SCAN) {
		q->full = true;
		return false;
	}
	/*
	 * The root's children: the job's first process, looked at for its
	 * own mark, and orphans, reparented there from a parent gone with
	 * its mark: always.
	 */
	q->look[q->nr] = q->parent == q->root ? child != q->top : q->parent_look;
	q->queue[q->nr++] = child;
	return true;
}

/*
 * Unit @id, which is to run (not skipped), started by @pid's exec: the
 * regular files the job's other live processes hold open for writing
 * now, found from the sandbox's init down (its children, theirs...).
 * A write through such an fd is not notified, so the conflict rule
 * (nest-units.c) cannot see it; an observation of one of them refuses
 * the unit (observe()). Files opened for writing after the exec are
 * notified writes, which the conflict rule sees. @pid's own fds are not
 * looked at: what it keeps across the exec is refused (inherited_fd(),
 * nest_exec_facts_read()) or closed by it. Shared memory mappings of
 * a file are not looked at (DESIGN §13.6).
 */
static void held_open(struct trace *t, pid_t pid, unsigned id)
{
	struct trace_nest *n = t->nest;
	struct nest_info *i;
	struct scan_queue q = { .queue = NULL };
	pid_t root = n->init > 0 ? n->init : n->top;
	long tgid;
	size_t head = 0, o;

	if (!id || id > n->nr_info || nest_units_refused(n->units, id) || root <= 0)
		return;
	i = &n->info[id - 1];
	/* read with its facts at this exec, the caller blocked in it since */
	tgid = i->root == pid && i->tgid > 0 ? i->tgid : status_number(pid, "Tgid");
	if (!children_listed()) {
		/* a kernel without CONFIG_PROC_CHILDREN: nobody to look at */
		nest_units_refuse_unit(n->units, id, "the job's processes cannot be listed "
				       "(no /proc/PID/task/TID/children)");
		return;
	}
	q.queue = xmalloc(NEST_MAX_SCAN * sizeof(*q.queue));
	q.look = xmalloc(NEST_MAX_SCAN * sizeof(*q.look));
	q.root = root;
	q.top = n->top;
	q.look[q.nr] = true;
	q.queue[q.nr++] = root;
	while (!q.full && head < q.nr) {
		pid_t p = q.queue[head];
		bool look = q.look[head++] || n->writers_anywhere || is_writer(n, p);

		if (look && p != root && p != pid && p != (pid_t)tgid)
			held_by(p, i);
		q.parent = p;
		q.parent_look = look;
		each_child(p, enqueue, &q);
	}
	if (q.full)
		nest_units_refuse_unit(n->units, id, "too many processes to look at at its exec");
	free(q.queue);
	free(q.look);
	/* what it observed at its exec already: its fd 0's file */
	for (o = 0; o < i->nr_obs; o++)
		if (S_ISREG(i->obs[o].st.st_mode) && held_by_other(i, &i->obs[o].st))
			nest_units_refuse_unit(n->units, id, "reads a file another process "
					       "holds open for writing");
}

int trace_nest_skip(struct trace *t, int listener, const struct seccomp_notif *req,
		    pid_t pid)
{
	unsigned id = t->nest ? t->nest->last_exec : 0;
	int r = skip_unit(t, listener, req, pid);

	/* to run: what may change under it unseen */
	if (r == 0 && id)
		held_open(t, pid, id);
	return r;
}

static int skip_unit(struct trace *t, int listener, const struct seccomp_notif *req,
		     pid_t pid)
{
	struct trace_nest *n = t->nest;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct trace_unit_hit hit;
	struct trace_unit u;
	struct pre_ctx pre;
	struct nest_chunk chunks[2];
	struct nest_replay rep;
	struct nest_info *i;
	char root[64];
	unsigned id;
	int root_fd, r, memfd;
	size_t k;
	double t0 = now_s(), t1, t_redirect;
	struct unlocked ul = { .t = t };

	if (!n || !t->cfg.unit_skip || !(id = n->last_exec) ||
	    nest_units_refused(n->units, id))
		return 0;
	i = &n->info[id - 1];
	memset(&u, 0, sizeof(u));
	u.id = id;
	u.argv0 = i->argv0;
	u.names = (const char *const *)i->names;
	u.values = (const char *const *)i->values;
	u.nr_fields = i->nr_fields;
	u.fd0_unseen = i->fd0_unseen_ok;
	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return 0;
	memset(&hit, 0, sizeof(hit));
	for (k = 0; k < 3; k++)
		strbuf_init(&hit.out[k], 0);
	u.root_fd = root_fd;
	pre.t = t;
	pre.pid = pid;
	pre.failed = false;
	strbuf_init(&pre.key, 0);
	hit.pre = replay_pre;
	hit.pre_arg = &pre;
	/*
	 * Its preconditions are replayed for the units around it, not for
	 * itself: replayed, it is stored no more (closed meanwhile, it
	 * receives no observation).
	 */
	i->open = false;
	r = t->cfg.unit_skip(t->cfg.unit_ctx, &u, root_fd, &hit);
	i->open = true;
	if (r != 0 && pre.failed)
		trace_taint(t, "nested: a skipped unit's precondition cannot be observed (%s)",
			    i->argv0);
	close(root_fd);
	strbuf_release(&pre.key);
	if (r == 0)
		goto out;
	if (r < 0) {
		trace_taint(t, "nested: a unit's entry could not be applied (%s)", i->argv0);
		r = 0;
		goto out;
	}
	/*
	 * An entry found under the key naming fd 0 as it is may have
	 * observed fd 0, which is the enclosing units' too when inherited:
	 * as if the skipped program had made that call in them.
	 */
	if (hit.fd0_exact)
		trace_nest_fd0_seen(t, pid);
	/* applied: what it changed is written by the unit, for every
	 * enclosing unit and the tracer's caches (§13.4) */
	for (k = 0; k < hit.nr_written; k++) {
		trace_nest_access(t, pid, NEST_WRITE, hit.written[k]);
		trace_forget_resolutions(t, hit.written[k]);
		trace_forget_seen_path(t, hit.written[k]);
	}
	memset(&rep, 0, sizeof(rep));
	rep.code = hit.exit_code;
	rep.chunks = chunks;
	for (k = 1; k < 3; k++)
		if (hit.out[k].len) {
			chunks[rep.nr_chunks].fd = (int)k;
			chunks[rep.nr_chunks].buf = hit.out[k].buf;
			chunks[rep.nr_chunks++].len = hit.out[k].len;
		}
	t_redirect = now_s();
	/* no output: the status alone, no replayer (nest.h) */
	memfd = rep.nr_chunks ? nest_replay_memfd(&rep, &err) : -1;
	if (memfd < 0 && rep.nr_chunks) {
		trace_taint(t, "nested: cannot build the replayer of %s: %s", i->argv0, err.buf);
		goto out;
	}
	/*
	 * Skipped from here on: while the lock is let go, its replayer
	 * may run and end before this thread has it again (a failure below
	 * taints the run: nothing of it is stored either way).
	 */
	i->skipped = true;
	{
		struct nest_redirect_wait w = { unlock_begin, unlock_end, &ul, rep.code };

		r = nest_exec_redirect_wait(listener, req, memfd, 0, &w, &err);
	}
	if (memfd >= 0)
		close(memfd);
	i = &n->info[id - 1];	/* another thread may have grown the table */
	if (r == -EAGAIN) {
		/* not answered: the program runs over what was applied */
		trace_taint(t, "nested: an exec redirect failed after its unit was applied (%s): %s",
			    i->argv0, err.buf);
		r = 0;
		goto out;
	}
	if (r == -ESRCH) {
		/* nothing to answer */
		trace_taint(t, "nested: an exec redirect failed (%s): the call went away",
			    i->argv0);
		r = -1;
		goto out;
	}
	if (r < 0) {
		/* answered, not redirected */
		trace_taint(t, "nested: an exec redirect failed (%s): %s", i->argv0,
			    err.len ? err.buf : strerror(-r));
		r = 1;
		goto out;
	}
	i->skipped = true;
	n->nr_skipped++;
	n->saved += hit.duration_s;
	t1 = now_s();
	i->ph[PH_WAIT] = t->nest_t_lock - t->nest_t_recv + ul.locked - ul.end;
	i->ph[PH_KEY] = t0 - t->nest_t_lock;
	i->ph[PH_LOOKUP] = hit.lookup_s;
	i->ph[PH_OUTPUT] = hit.output_s;
	i->ph[PH_COMPOSE] = hit.compose_s;
	i->ph[PH_APPLY] = hit.apply_s;
	i->ph[PH_EXEC] = ul.end - ul.begin;
	i->ph[PH_REDIRECT] = t1 - t_redirect - (ul.locked - ul.begin);
	i->ph[PH_TOTAL] = t1 - t->nest_t_recv;
	i->exec_recv = t->nest_t_recv;
	i->entry = hit.entry;
	hit.entry = NULL;
	if (n->nr_replaying < NEST_MAX_REPLAYING)
		n->replaying[n->nr_replaying++] = id;
	r = 1;
out:
	hit_release(&hit);
	return r;
}

void trace_nest_fd0_seen(struct trace *t, pid_t pid)
{
	struct trace_nest *n = t->nest;
	unsigned ids[NEST_MAX_STACK];
	size_t nr, k;

	if (!n || pid <= 0)
		return;
	nr = recipients(n, pid, ids, NEST_MAX_STACK);
	for (k = 0; k < nr; k++)
		n->info[ids[k] - 1].fd0_seen = true;
}

unsigned trace_nest_fd_args(int nr)
{
	switch (nr) {
	/* the fd or dirfd first */
	case SYS_read: case SYS_write: case SYS_pread64: case SYS_pwrite64:
	case SYS_readv: case SYS_writev: case SYS_preadv: case SYS_pwritev:
	case SYS_preadv2: case SYS_pwritev2: case SYS_vmsplice:
	case SYS_fstat: case SYS_fstatfs: case SYS_lseek: case SYS_ioctl: case SYS_fcntl:
	case SYS_flock: case SYS_fsync: case SYS_fdatasync: case SYS_syncfs:
	case SYS_ftruncate: case SYS_fallocate: case SYS_fadvise64: case SYS_readahead:
	case SYS_sync_file_range: case SYS_getdents: case SYS_getdents64:
	case SYS_fchdir: case SYS_fchmod: case SYS_fchown:
	case SYS_fgetxattr: case SYS_fsetxattr: case SYS_flistxattr: case SYS_fremovexattr:
	case SYS_dup: case SYS_dup2: case SYS_dup3:
	case SYS_openat: case SYS_openat2: case SYS_newfstatat: case SYS_statx:
	case SYS_faccessat: case SYS_faccessat2: case SYS_readlinkat:
	case SYS_fchmodat: case SYS_fchownat: case SYS_futimesat: case SYS_utimensat:
	case SYS_mkdirat: case SYS_mknodat: case SYS_unlinkat: case SYS_execveat:
	case SYS_name_to_handle_at: case SYS_open_tree: case SYS_inotify_add_watch:
	case SYS_accept: case SYS_accept4: case SYS_bind: case SYS_connect: case SYS_listen:
	case SYS_shutdown: case SYS_getsockname: case SYS_getpeername:
	case SYS_getsockopt: case SYS_setsockopt: case SYS_sendto: case SYS_recvfrom:
	case SYS_sendmsg: case SYS_recvmsg: case SYS_sendmmsg: case SYS_recvmmsg:
	case SYS_timerfd_settime: case SYS_timerfd_gettime: case SYS_signalfd:
	case SYS_signalfd4: case SYS_epoll_wait: case SYS_epoll_pwait:
	case SYS_mq_timedsend: case SYS_mq_timedreceive: case SYS_mq_notify:
	case SYS_mq_getsetattr: case SYS_pidfd_send_signal: case SYS_landlock_restrict_self:
	case SYS_inotify_rm_watch: case SYS_epoll_pwait2: case SYS_process_madvise:
	case SYS_process_mrelease: case SYS_open_by_handle_at: case SYS_setns:
	case SYS_finit_module: case SYS_fsconfig: case SYS_fsmount: case SYS_fspick:
	case SYS_mount_setattr: case SYS_quotactl_fd:
#ifdef SYS_fchmodat2
	case SYS_fchmodat2:
#endif
#ifdef SYS_cachestat
	case SYS_cachestat:
#endif
		return 1u << 0;
	case SYS_symlinkat: case SYS_pidfd_getfd:
		return 1u << 1;
	case SYS_epoll_ctl:
		return 1u << 2;
	case SYS_splice: case SYS_copy_file_range: case SYS_renameat: case SYS_renameat2:
	case SYS_linkat: case SYS_move_mount:
		return 1u << 0 | 1u << 2;
	case SYS_sendfile: case SYS_tee: case SYS_kexec_file_load:
		return 1u << 0 | 1u << 1;
	case SYS_perf_event_open: case SYS_fanotify_mark:
		return 1u << 3;
	case SYS_kcmp:
		return 1u << 3 | 1u << 4;
	case SYS_mmap:		/* (not an anonymous mapping: trace_nest_fd0_call()) */
		return 1u << 4;
	default:
		return 0;
	}
}

const struct trace_nest_pid_arg trace_nest_other_pid[15] = {
	{ SYS_setpriority, 1, 0, 0 /* PRIO_PROCESS */ },
	{ SYS_getpriority, 1, 0, 0 },
	{ SYS_ioprio_set, 1, 0, 1 /* IOPRIO_WHO_PROCESS */ },
	{ SYS_ioprio_get, 1, 0, 1 },
	{ SYS_prlimit64, 0, -1, 0 },
	{ SYS_sched_setaffinity, 0, -1, 0 },
	{ SYS_sched_getaffinity, 0, -1, 0 },
	{ SYS_sched_setscheduler, 0, -1, 0 },
	{ SYS_sched_getscheduler, 0, -1, 0 },
	{ SYS_sched_setparam, 0, -1, 0 },
	{ SYS_sched_getparam, 0, -1, 0 },
	{ SYS_sched_setattr, 0, -1, 0 },
	{ SYS_sched_getattr, 0, -1, 0 },
	{ SYS_sched_rr_get_interval, 0, -1, 0 },
	{ SYS_migrate_pages, 0, -1, 0 },
};

/*
 * Whether @target (a pid or tid in the job's namespace) is @pid's own
 * thread group: itself, or one of its threads (pthread_setaffinity_np
 * names a thread by its tid).
 */
static bool own_thread(pid_t pid, long target)
{
	_cleanup_strbuf_ struct strbuf dir = STRBUF_INIT;
	long tgid = status_number(pid, "Tgid");
	struct dirent *e;
	bool found = false;
	DIR *d;

	if (target == 0 || is_self(pid, target))
		return true;
	if (target < 0 || tgid <= 0)
		return false;
	strbuf_addf(&dir, "/proc/%ld/task", tgid);
	d = opendir(dir.buf);
	while (d && !found && (e = readdir(d))) {
		pid_t tid = (pid_t)atoi(e->d_name);

		found = tid > 0 && status_number(tid, "NSpid") == target;
	}
	if (d)
		closedir(d);
	return found;
}

/* Whether the call @nr with @a names a process other than @pid's own. */
static bool names_other_process(pid_t pid, int nr, const __u64 *a)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(trace_nest_other_pid); i++) {
		const struct trace_nest_pid_arg *e = &trace_nest_other_pid[i];

		if (e->nr != nr)
			continue;
		if (e->which_arg >= 0 && (int)a[e->which_arg] != (int)e->which_self)
			return true;	/* a process group, a user */
		return !own_thread(pid, (long)(int)a[e->pid_arg]);
	}
	return false;
}

void trace_nest_other_process(struct trace *t, pid_t pid, int nr, const __u64 *a)
{
	if (!t->nest || !names_other_process(pid, nr, a))
		return;
	/*
	 * Reading another process's priority, limits or scheduling is an
	 * observation no key holds; changing them (renice -p $PPID) an
	 * effect outside the unit, which a skip would not make.
	 */
	nest_units_refuse(t->nest->units, pid, "reads or changes the priority, limits or "
			  "scheduling of another process");
}

void trace_nest_socket(struct trace *t, pid_t pid)
{
	/*
	 * What it receives from a peer, or whether what it sends is read,
	 * is another process's doing (found by the pipeline sweep: a
	 * client that connected to its parent's abstract socket was
	 * stored, and skipped, its parent waited in accept() forever).
	 * A socketpair between its own processes needs none of these.
	 */
	if (t->nest)
		nest_units_refuse(t->nest->units, pid, "communicates through a socket "
				  "(connect, bind, listen, sendto, sendmsg)");
}

const unsigned long trace_nest_fd_ioctls[3] = {
	FICLONERANGE, FIDEDUPERANGE, SECCOMP_IOCTL_NOTIF_ADDFD,
};

bool trace_nest_fd0_call(struct trace *t, pid_t pid, int nr, const __u64 *a)
{
	unsigned args;
	size_t i;
	int k;

	switch (nr) {
	case SYS_ioctl:
		/* a second fd: FICLONE's argument, or in memory */
		for (i = 0; i < ARRAY_SIZE(trace_nest_fd_ioctls); i++)
			if ((uint32_t)a[1] == (uint32_t)trace_nest_fd_ioctls[i])
				break;
		if (i < ARRAY_SIZE(trace_nest_fd_ioctls) ||
		    ((uint32_t)a[1] == (uint32_t)FICLONE && !(int)a[2])) {
			trace_nest_fd0_seen(t, pid);
			return true;
		}
		break;
	/* sets in memory, which another thread may change meanwhile: any */
	case SYS_poll: case SYS_ppoll: case SYS_select: case SYS_pselect6:
	case SYS_io_submit: case SYS_landlock_add_rule:
		trace_nest_fd0_seen(t, pid);
		return true;
	case SYS_mmap:
		if ((int)a[4] || (a[3] & MAP_ANONYMOUS))
			return false;
		trace_nest_fd0_seen(t, pid);
		return true;
	default:
		break;
	}
	args = trace_nest_fd_args(nr);
	for (k = 0; k < 6; k++)
		if ((args & (1u << k)) && !(int)a[k]) {
			trace_nest_fd0_seen(t, pid);
			return true;
		}
	return false;
}

void trace_nest_refuse_stdin(struct trace *t, pid_t pid, int fd)
{
	refuse_by_pipe(t, pid, fd, 0, 0, "reads a pipe on stdin");
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
	if (pc_verbose >= 1 && n->nr_timed) {
		_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
		int k;

		for (k = 0; k < PH_TOTAL; k++)
			strbuf_addf(&sb, "%s%s %.2f", k ? ", " : "", phase_names[k],
				    n->sum_ph[k] * 1e3 / (double)n->nr_timed);
		info("nested: a skipped unit took %.2f ms of the supervisor on average: %s",
		     n->sum_ph[PH_TOTAL] * 1e3 / (double)n->nr_timed, sb.buf);
	}
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

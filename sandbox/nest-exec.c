/*
 * What a process passes on to the program it executes (DESIGN.md §13.3),
 * and the reasons an exec cannot start a unit (§13.6); the contract is
 * sandbox/nest-exec.h.
 *
 * Inherited across execve and so in the key: the umask, the ids and
 * groups, the capability sets, no_new_privs, the seccomp filters stacked,
 * the blocked and ignored signals, the CPU and memory-node affinity, nice,
 * the scheduling policy and priority, the resource limits, the
 * personality, the OOM score adjustment, the THP and speculation
 * controls, the timer slack, the core dump filter, the I/O priority, and
 * fds 0-2 (the memory policy, securebits and MDWE, which no /proc file
 * shows, refuse the units started under them: trace-nest.c). Pending signals are inherited too: one
 * pending refuses the unit (its delivery depends on timing).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/kcmp.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/xalloc.h"
#include "sandbox/nest-exec.h"

#include "common/banned.h"

void nest_exec_facts_init(struct nest_exec_facts *f)
{
	size_t i;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < NEST_NR_FIELDS; i++)
		strbuf_init(&f->values[i], 0);
	strbuf_init(&f->refused, 0);
}

void nest_exec_facts_release(struct nest_exec_facts *f)
{
	size_t i;

	for (i = 0; i < NEST_NR_FIELDS; i++)
		strbuf_release(&f->values[i]);
	strbuf_release(&f->refused);
}

const char *nest_fd_kind_name(enum nest_fd_kind kind)
{
	switch (kind) {
	case NEST_FD_CLOSED:
		return "closed";
	case NEST_FD_NULL:
		return "null";
	case NEST_FD_PIPE:
		return "pipe";
	case NEST_FD_FILE:
		return "file";
	case NEST_FD_OTHER:
		return "other";
	}
	return "?";
}

/* The whole of /proc/PID/NAME into @out. */
static int read_proc(pid_t pid, const char *name, struct strbuf *out)
{
	char path[64];
	_cleanup_close_ int fd = -1;
	char buf[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	strbuf_reset(out);
	while ((n = read_full(fd, buf, sizeof(buf))) > 0) {
		strbuf_add(out, buf, (size_t)n);
		if ((size_t)n < sizeof(buf))
			break;
	}
	return n < 0 ? (int)n : 0;
}

/* The value of "Name:\t..." in a status text, without the newline. */
static const char *status_field(const char *status, const char *name, size_t *len)
{
	size_t nl = strlen(name);
	const char *p = status;

	while (p && *p) {
		if (!strncmp(p, name, nl) && p[nl] == ':') {
			const char *v = p + nl + 1, *end;

			while (*v == '\t' || *v == ' ')
				v++;
			end = strchrnul(v, '\n');
			*len = (size_t)(end - v);
			return v;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

static void add_field(struct nest_exec_facts *f, const char *name, const char *v,
		      size_t len)
{
	if (f->nr == NEST_NR_FIELDS)
		return;	/* BUG-proof: the table below has fewer */
	f->names[f->nr] = (char *)name;
	strbuf_reset(&f->values[f->nr]);
	strbuf_add(&f->values[f->nr], v, len);
	f->nr++;
}

static void refuse(struct nest_exec_facts *f, const char *reason, int fd)
{
	if (f->refused.len)
		return;
	if (fd >= 0)
		strbuf_addf(&f->refused, "fd%d ", fd);
	strbuf_addstr(&f->refused, reason);
}

/* fdinfo's "flags:" (octal) and "pos:" */
static int read_fdinfo(pid_t pid, int fd, struct nest_fd *out)
{
	_cleanup_strbuf_ struct strbuf info = STRBUF_INIT;
	char name[32];
	const char *v;
	size_t len;
	int r;

	snprintf(name, sizeof(name), "fdinfo/%d", fd);
	r = read_proc(pid, name, &info);
	if (r < 0)
		return r;
	v = status_field(info.buf, "flags", &len);
	if (v)
		out->flags = (unsigned)strtoul(v, NULL, 8);
	v = status_field(info.buf, "pos", &len);
	if (v)
		out->pos = strtoull(v, NULL, 10);
	return 0;
}

static int read_fd(pid_t pid, int fd, struct nest_fd *out)
{
	char path[64];
	struct stat st;
	int r;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
	if (stat(path, &st) < 0) {
		if (errno != ENOENT)
			return -errno;
		/* no such fd, or no such process */
		snprintf(path, sizeof(path), "/proc/%d", (int)pid);
		if (access(path, F_OK) < 0)
			return -ENOENT;
		out->kind = NEST_FD_CLOSED;
		return 0;
	}
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
		out->kind = NEST_FD_NULL;
	else if (S_ISFIFO(st.st_mode))
		out->kind = NEST_FD_PIPE;
	else if (S_ISREG(st.st_mode))
		out->kind = NEST_FD_FILE;
	else
		out->kind = NEST_FD_OTHER;
	out->dev = st.st_dev;
	out->ino = st.st_ino;
	r = read_fdinfo(pid, fd, out);
	return r == -ENOENT ? 0 : r;	/* closed meanwhile: the kind will do */
}

/*
 * Append " path=PATH" (the file open on @fd of @pid, as its view names
 * it) to @text; a file that has no name (deleted, or beyond the
 * process's root) appends " path=?", which no later exec can match but
 * by the same accident: the unit is then refused by its caller (the
 * content observation of an unnamed file fails).
 */
static int fd_path(pid_t pid, int fd, struct strbuf *text)
{
	char link[64], buf[PATH_MAX + 1];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, fd);
	n = readlink(link, buf, sizeof(buf) - 1);
	if (n < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	buf[n] = '\0';
	if (buf[0] != '/' || (n >= 10 && !strcmp(buf + n - 10, " (deleted)")))
		strbuf_addstr(text, " path=?");
	else
		strbuf_addf(text, " path=%s", buf);
	return 0;
}

/*
 * Whether @ppid holds the open file description of @pid's fd 0 (@d): a
 * shell's `{ head -n1; wc; } <f` gives each command the description it
 * reads from, whose offset a skipped unit would not move. kcmp against
 * each of @ppid's fds on the same file; true when it cannot be told.
 */
static bool shares_file(pid_t pid, pid_t ppid, const struct nest_fd *d)
{
	char path[64];
	DIR *dir;
	struct dirent *e;
	bool shared = false;

	if (ppid <= 0)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)ppid);
	dir = opendir(path);
	if (!dir)
		return errno != ENOENT;
	while (!shared && (e = readdir(dir))) {
		char fdp[384];
		struct stat st;
		int fd = atoi(e->d_name);
		long c;

		if (e->d_name[0] == '.')
			continue;
		snprintf(fdp, sizeof(fdp), "%s/%s", path, e->d_name);
		if (stat(fdp, &st) < 0 || st.st_dev != d->dev || st.st_ino != d->ino)
			continue;
		c = syscall(SYS_kcmp, pid, ppid, KCMP_FILE, 0, fd);
		shared = c <= 0;	/* the same description, or unknown */
	}
	closedir(dir);
	return shared;
}

int nest_exec_facts_read(pid_t pid, struct nest_exec_facts *f, struct strbuf *err)
{
	static const char *const status_names[] = {
		"Umask", "Uid", "Gid", "Groups", "NoNewPrivs", "Seccomp_filters",
		"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "SigBlk", "SigIgn",
		"Cpus_allowed_list", "Mems_allowed_list", "THP_enabled",
		"Speculation_Store_Bypass", "SpeculationIndirectBranch",
	};
	/* inherited across execve too, as the job's key has them (procattr.c) */
	static const char *const proc_files[] = { "timerslack_ns", "coredump_filter" };
	_cleanup_strbuf_ struct strbuf text = STRBUF_INIT;
	const char *v, *p;
	size_t len, i;
	int r, k;

	r = read_proc(pid, "status", &text);
	if (r < 0)
		goto fail;
	for (i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++) {
		v = status_field(text.buf, status_names[i], &len);
		if (!v)	/* an older kernel: the field is "missing", a fact too */
			v = "missing", len = 7;
		add_field(f, status_names[i], v, len);
	}
	v = status_field(text.buf, "Tgid", &len);
	f->tgid = v ? (pid_t)strtol(v, NULL, 10) : 0;
	v = status_field(text.buf, "Seccomp_filters", &len);
	f->seccomp_filters = v ? strtol(v, NULL, 10) : -1;
	v = status_field(text.buf, "Threads", &len);
	f->threads = v ? (unsigned)strtoul(v, NULL, 10) : 0;
	if (f->threads != 1)
		refuse(f, "multi-threaded at exec", -1);
	v = status_field(text.buf, "TracerPid", &len);
	if (v && strtol(v, NULL, 10) != 0)
		refuse(f, "traced by another process", -1);
	v = status_field(text.buf, "SigPnd", &len);
	if (v && strspn(v, "0") != len)
		refuse(f, "a signal pending at exec", -1);
	v = status_field(text.buf, "ShdPnd", &len);
	if (v && strspn(v, "0") != len)
		refuse(f, "a signal pending at exec", -1);

	/* stat: "pid (comm) state ppid ...": fields after the last ')' */
	r = read_proc(pid, "stat", &text);
	if (r < 0)
		goto fail;
	p = strrchr(text.buf, ')');
	if (!p) {
		r = -EINVAL;
		goto fail;
	}
	{
		/* 3: state, 4: ppid, ... 19: nice, 40: rt_priority, 41: policy */
		unsigned long long fld[42] = { 0 };
		char *end;

		p += 2;	/* ") " */
		p = strchr(p, ' ');	/* past the state */
		for (k = 4; k < 42 && p; k++) {
			fld[k] = strtoull(p + 1, &end, 10);
			p = strchr(p + 1, ' ');
		}
		f->ppid = (pid_t)fld[4];
		strbuf_reset(&text);
		strbuf_addf(&text, "%lld", (long long)(int)fld[19]);
		add_field(f, "nice", text.buf, text.len);
		strbuf_reset(&text);
		strbuf_addf(&text, "%llu %llu", fld[41], fld[40]);
		add_field(f, "policy", text.buf, text.len);
	}
	r = read_proc(pid, "limits", &text);
	if (r < 0)
		goto fail;
	add_field(f, "limits", text.buf, text.len);
	r = read_proc(pid, "personality", &text);
	if (r < 0)
		goto fail;
	add_field(f, "personality", text.buf, text.len);
	r = read_proc(pid, "oom_score_adj", &text);
	if (r < 0)
		goto fail;
	add_field(f, "oom_score_adj", text.buf, text.len);
	for (i = 0; i < sizeof(proc_files) / sizeof(proc_files[0]); i++) {
		r = read_proc(pid, proc_files[i], &text);
		if (r == -ENOENT || r == -ESRCH)
			goto fail;
		if (r < 0) {	/* not permitted: a fact of its own */
			strbuf_reset(&text);
			strbuf_addstr(&text, "unreadable");
		}
		add_field(f, proc_files[i], text.buf, text.len);
	}
	/*
	 * The I/O priority (`ionice -c3 cmd`): a program may read it
	 * (ioprio_get), and no /proc file shows it. The pid is the
	 * supervisor's view of the caller (found by the pipeline sweep: a
	 * unit recorded under `ionice -c3` was replayed in a job without).
	 */
	errno = 0;
	{
		long prio = syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, (int)pid);

		if (prio < 0 && errno == ESRCH) {
			r = -ESRCH;
			goto fail;
		}
		strbuf_reset(&text);
		if (prio < 0)
			strbuf_addstr(&text, "unreadable");
		else
			strbuf_addf(&text, "%ld", prio);
		add_field(f, "ioprio", text.buf, text.len);
	}

	for (k = 0; k < 3; k++) {
		r = read_fd(pid, k, &f->fd[k]);
		if (r < 0)
			goto fail;
	}
	for (k = 0; k < 3; k++) {
		struct nest_fd *d = &f->fd[k];
		int j;

		strbuf_reset(&text);
		strbuf_addf(&text, "%s", nest_fd_kind_name(d->kind));
		if (d->kind != NEST_FD_CLOSED)
			strbuf_addf(&text, " flags=%o", d->flags);
		/*
		 * Which of fds 0-2 are one object (2>&1): fstat tells, and
		 * programs look (found by the pipeline sweep: a unit that
		 * printed "same" under `2>&1` was replayed so where its
		 * stdout and stderr were two pipes). Said on the lower fd,
		 * so that fd 0's relations go with its field when the key
		 * leaves fd 0 unseen.
		 */
		for (j = k + 1; j < 3 && d->kind != NEST_FD_CLOSED; j++)
			if (f->fd[j].kind != NEST_FD_CLOSED && f->fd[j].dev == d->dev &&
			    f->fd[j].ino == d->ino)
				strbuf_addf(&text, " same=%d", j);
		if (d->kind == NEST_FD_FILE && !k) {
			/*
			 * Which file, in the key: its content is a
			 * precondition, but two units reading different
			 * files on fd 0 with the same argv (`tr <a`, `tr
			 * <b`) must not share an entry whose precondition
			 * only says the other file is unchanged.
			 */
			r = fd_path(pid, k, &text);
			if (r < 0)
				goto fail;
		}
		if (d->kind == NEST_FD_FILE)
			strbuf_addf(&text, " pos=%llu", d->pos);
		/* the names are static: the table's, or these three */
		add_field(f, k == 0 ? "fd0" : k == 1 ? "fd1" : "fd2", text.buf, text.len);
		switch (d->kind) {
		case NEST_FD_CLOSED:
		case NEST_FD_NULL:
			break;
		case NEST_FD_PIPE:
			if (k && (d->flags & O_NONBLOCK))
				refuse(f, "is a non-blocking pipe", k);
			break;
		case NEST_FD_FILE:
			/* NEEDSWORK: its bytes are output and a change (§13.3) */
			if (k)
				refuse(f, "is a regular file", k);
			/* written through fd 0 (<>f, >&0), naming no path:
			 * the change would not be in its result */
			else if ((d->flags & O_ACCMODE) != O_RDONLY)
				refuse(f, "is a file open for writing", k);
			break;
		case NEST_FD_OTHER:
			refuse(f, "is a terminal, socket, device or directory", k);
			break;
		}
	}
	f->fd0_unseen_ok = (f->fd[0].kind == NEST_FD_NULL || f->fd[0].kind == NEST_FD_PIPE) &&
			   (f->fd[0].flags & O_ACCMODE) == O_RDONLY;
	if (f->fd[0].kind == NEST_FD_FILE && shares_file(pid, f->ppid, &f->fd[0]))
		refuse(f, "is a file its parent reads on (a shared offset)", 0);
	return 0;
fail:
	if (r == -ENOENT || r == -ESRCH)
		return -ENOENT;
	return strbuf_error(err, r, "cannot read what process %d passes on to its exec: %s",
			    (int)pid, strerror(-r));
}

/*
 * One seccomp user notification (trace-internal.h): received by one of the
 * supervisor's tracer threads, decoded (the system call's arguments, the
 * paths and structs it points to in the job's memory), handed to the
 * observation it makes (a lookup, an open, an execve, a listing, a socket
 * address...), and answered: SECCOMP_USER_NOTIF_FLAG_CONTINUE once the
 * observation is recorded, so a record describes the state the call is
 * about to see, or an error for what untrusted mode refuses.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/die.h"
#include "common/xalloc.h"
#include "sandbox/syscalls.h"
#include "sandbox/trace-internal.h"

#include "common/banned.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

/* ---------------------------------------------------------------------- */
/* the job's memory */

/*
 * Read @len bytes at @addr in @pid. process_vm_readv first; /proc/PID/mem
 * when it is not permitted (Yama, or a kernel without it).
 */
static int mem_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	char mem[64];
	int fd;

	if (n == (ssize_t)len)
		return 0;
	if (n >= 0)
		return -EFAULT;
	if (errno == EFAULT)
		return -EFAULT;
	snprintf(mem, sizeof(mem), "/proc/%d/mem", (int)pid);
	fd = open(mem, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, buf, len, (off_t)addr);
	close(fd);
	if (n != (ssize_t)len)
		return n < 0 ? -errno : -EFAULT;
	return 0;
}

/*
 * A NUL-terminated string of at most PATH_MAX bytes, read in chunks that
 * never cross a page: the string may end right before an unmapped page.
 * The first chunk is small because most paths are: copying a whole page
 * for each notification was a measurable part of its cost.
 */
static int mem_read_string(pid_t pid, uint64_t addr, struct strbuf *out)
{
	char page[4096];
	size_t want = 256;

	strbuf_reset(out);
	if (!addr)
		return -EFAULT;
	while (out->len < PATH_MAX) {
		size_t chunk = 4096 - (addr & 4095);

		if (chunk > want)
			chunk = want;
		want = sizeof(page);
		char *nul;
		int r;

		r = mem_read(pid, addr, page, chunk);
		if (r < 0)
			return r;
		nul = memchr(page, 0, chunk);
		if (nul) {
			strbuf_add(out, page, (size_t)(nul - page));
			return 0;
		}
		strbuf_add(out, page, chunk);
		addr += chunk;
	}
	return -ENAMETOOLONG;
}

/* ---------------------------------------------------------------------- */
/* the handlers */

struct call {
	struct trace *t;
	int fd;
	struct seccomp_notif *req;
	const char *sc; /* static name */
	bool stale;     /* the notification went away while we read */
	enum create_kind create; /* for the next resolve_arg() */
	bool forget_seen;        /* on_open(): the open writes a host path */
	mode_t open_mode;        /* for the next resolve_arg(): open's mode */
	int error;      /* answer with this errno instead of CONTINUE */
	bool emulated;  /* answered by the tracer: return @val, no CONTINUE */
	long long val;
};

static bool still_valid(struct call *c)
{
	if (seccomp_notify_id_valid(c->fd, c->req->id) < 0)
		c->stale = true;
	return !c->stale;
}

/* Read the path argument @addr; false (after a taint) when impossible. */
static bool read_path(struct call *c, uint64_t addr, struct strbuf *out)
{
	int r = mem_read_string((pid_t)c->req->pid, addr, out);

	/*
	 * Whether the bytes came from the caller (and not from a process that
	 * reused its pid) is checked once, before anything is recorded
	 * (resolve_arg): a repeated lookup answered from the seen set costs
	 * no ID_VALID round trip. A failed read is judged only for a live call.
	 */
	if (r < 0 && !still_valid(c))
		return false;
	if (r == -EFAULT && !addr)
		return false; /* NULL path: the call fails with EFAULT */
	if (r < 0) {
		if (r != -EFAULT && r != -ENAMETOOLONG)
			trace_taint(c->t, "syscall %s: cannot read path argument: %s", c->sc,
				    strerror(-r));
		return false; /* EFAULT / ENAMETOOLONG: the call fails too */
	}
	return true;
}

/*
 * Does @path, what /proc/PID/fd/@fd reads, name a file that was deleted
 * (the kernel appends " (deleted)")? Then there is no path to walk: it
 * was the job's own (a compiler's unlinked temporary file) or was removed
 * from the host during the run, which the observations made when it was
 * opened already catch. A name that really ends so is walked as usual.
 */
static bool fd_deleted(pid_t pid, int fd, const struct strbuf *path)
{
	static const char suffix[] = " (deleted)";
	const size_t n = sizeof(suffix) - 1;
	char link[64];
	struct stat st;

	if (path->len < n || memcmp(path->buf + path->len - n, suffix, n))
		return false;
	if (fd == AT_FDCWD)
		snprintf(link, sizeof(link), "/proc/%d/cwd", (int)pid);
	else
		snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, fd);
	return stat(link, &st) < 0 || st.st_nlink == 0;
}

/*
 * Resolve the path argument (dirfd, addr) of the call. @empty_ok: the call
 * honours AT_EMPTY_PATH and the flag was given.
 */
static bool resolve_arg(struct call *c, int dirfd, uint64_t addr, bool follow,
			bool empty_ok, uint64_t resolve, char op, struct res *r)
{
	struct strbuf name = STRBUF_INIT, base = STRBUF_INIT;
	struct walk w = { .t = c->t, .pid = (pid_t)c->req->pid, .sc = c->sc,
			  .follow_last = follow, .resolve = resolve, .create = c->create,
			  .open_mode = c->open_mode };
	bool ok = false;

	if (!read_path(c, addr, &name))
		goto out;
	if (!name.len && !empty_ok) {
		goto out; /* ENOENT, no lookup */
	}
	if (name.buf[0] != '/' || (resolve & RESOLVE_IN_ROOT)) {
		int err = trace_dirfd_path(w.pid, dirfd, &base);

		if (err < 0 || base.buf[0] != '/') {
			/* EBADF, or an fd that is not a path (pipe, socket) */
			if (err < 0 && err != -ENOENT && still_valid(c))
				trace_taint(c->t, "syscall %s: cannot resolve fd %d of %d: %s",
					    c->sc, dirfd, w.pid, strerror(-err));
			goto out;
		}
		if (!name.len && fd_deleted(w.pid, dirfd, &base))
			goto out;
	}
	if (op) {
		strbuf_reset(&r->key);
		strbuf_addf(&r->key, "%c%d%d%llx:%s/%s", op, follow, (int)c->create,
			    (unsigned long long)resolve, base.buf, name.buf);
		if (strmap_has(&c->t->seen, r->key.buf))
			goto out; /* recorded before: nothing new */
	}
	if (!still_valid(c))
		goto out;
	trace_walk_path(&w, base.len ? base.buf : "/", name.buf, r);
	ok = true;
out:
	strbuf_release(&name);
	strbuf_release(&base);
	return ok;
}

/*
 * Resolve the object the caller's @fd names (fstat, futimens) through
 * /proc/PID/fd/N, as resolve_arg() does an AT_EMPTY_PATH call; @op as
 * there. False when the fd names no path (a pipe, a socket, an anonymous
 * inode, a deleted file), when it was resolved before (@op), or when the
 * call is gone.
 */
static bool resolve_fd(struct call *c, int fd, char op, struct res *r)
{
	struct strbuf base = STRBUF_INIT;
	struct walk w = { .t = c->t, .pid = (pid_t)c->req->pid, .sc = c->sc };
	bool ok = false;
	int err;

	if (fd < 0)
		goto out; /* EBADF */
	err = trace_dirfd_path(w.pid, fd, &base);
	if (err < 0 || base.buf[0] != '/' || fd_deleted(w.pid, fd, &base)) {
		if (err < 0 && err != -ENOENT && err != -EBADF && still_valid(c))
			trace_taint(c->t, "syscall %s: cannot resolve fd %d of %d: %s",
				    c->sc, fd, w.pid, strerror(-err));
		goto out;
	}
	if (op) {
		strbuf_reset(&r->key);
		strbuf_addf(&r->key, "%c:%s", op, base.buf);
		if (strmap_has(&c->t->seen, r->key.buf))
			goto out;
	}
	if (!still_valid(c))
		goto out;
	trace_walk_path(&w, base.buf, "", r);
	ok = true;
out:
	strbuf_release(&base);
	return ok;
}

/* The seen-set operation of a stat that shows times (not a TRACE_* kind). */
#define OP_STAT_TIMES 't'

/* Is the path argument at @addr empty (an AT_EMPTY_PATH stat of an fd)? */
static bool empty_fd(struct call *c, uint64_t addr)
{
	char first;

	return addr && !mem_read((pid_t)c->req->pid, addr, &first, 1) && !first;
}

/* A stat that shows the job the object's times, by path (DESIGN.md §3). */
static void on_stat(struct call *c, int dirfd, uint64_t addr, bool follow,
		    bool empty_ok)
{
	struct res r = RES_INIT;

	if (resolve_arg(c, dirfd, addr, follow, empty_ok, 0, OP_STAT_TIMES, &r)) {
		/* (fd, "") with AT_EMPTY_PATH is an fstat: see on_fstat() */
		trace_record_stat_times(c->t, &r, c->sc, r.path.len && !empty_fd(c, addr),
					!follow);
		trace_res_seen(c->t, &r);
	}
	trace_res_release(&r);
}

/* fstat(fd), and a stat of (fd, "") with AT_EMPTY_PATH. */
static void on_fstat(struct call *c, int fd)
{
	struct res r = RES_INIT;

	/*
	 * An fstat of the job's own file does not mark it seen: a library
	 * fstats the file it writes for its size (BFD, stdio), and ninja and
	 * make, which act on their outputs' times, stat them by path.
	 */
	if (resolve_fd(c, fd, OP_STAT_TIMES, &r)) {
		trace_record_stat_times(c->t, &r, c->sc, false, false);
		trace_res_seen(c->t, &r);
	}
	trace_res_release(&r);
}

/* How a call that sets times passes them (utimensat, utimes, utime). */
enum times_arg { TIMES_TIMESPEC, TIMES_TIMEVAL, TIMES_UTIMBUF };

/*
 * Does the times argument at @addr give an explicit mtime? Not when it is
 * NULL or the mtime is UTIME_NOW (`touch f`: the time of the call, which a
 * rerun gives anew) or UTIME_OMIT (the mtime is left alone). Unreadable:
 * the kernel fails the call with EFAULT.
 */
static bool explicit_mtime(struct call *c, uint64_t addr, enum times_arg how)
{
	pid_t pid = (pid_t)c->req->pid;
	struct timespec ts[2];
	struct timeval tv[2];
	struct { time_t actime, modtime; } ub; /* struct utimbuf */

	if (!addr)
		return false;
	switch (how) {
	case TIMES_TIMESPEC:
		return !mem_read(pid, addr, ts, sizeof(ts)) &&
		       ts[1].tv_nsec != UTIME_NOW && ts[1].tv_nsec != UTIME_OMIT;
	case TIMES_TIMEVAL:
		return !mem_read(pid, addr, tv, sizeof(tv));
	case TIMES_UTIMBUF:
		return !mem_read(pid, addr, &ub, sizeof(ub));
	}
	return false;
}

/*
 * A call that sets times: of (dirfd, addr), or of the fd @dirfd when
 * @addr is NULL (futimens), to what @times (passed as @how) says. The
 * path's existence, type and mode are observed as for any writing call,
 * and, when the call gives an explicit mtime, the path is marked: its
 * times are the job's (trace.h, TRACE_TIMES_SET); set to the time of the
 * call, the mark goes (a rerun would give the time it runs at). A host
 * path becomes the job's own (the kernel copies it up).
 */
static void on_settime(struct call *c, int dirfd, uint64_t addr, bool follow,
		       bool empty_ok, uint64_t times, enum times_arg how)
{
	struct res r = RES_INIT;
	bool ok;

	if (addr) {
		ok = resolve_arg(c, dirfd, addr, follow, empty_ok, 0, 0, &r);
		if (ok)
			trace_record_found(c->t, &r, TRACE_STAT, c->sc);
	} else {
		ok = resolve_fd(c, dirfd, 0, &r);
	}
	if (ok && r.status == RES_FOUND && r.where != W_INTERNAL) {
		if (explicit_mtime(c, times, how))
			trace_jobtime_mark(c->t, r.path.buf, TRACE_TIMES_SET);
		else
			trace_jobtime_unmark(c->t, r.path.buf, TRACE_TIMES_SET);
		if (r.where == W_HOST)
			trace_forget_seen(c->t);
	}
	trace_res_release(&r);
}

static void on_lookup(struct call *c, int dirfd, uint64_t addr, bool follow,
		      bool empty_ok, enum trace_obs_kind kind)
{
	struct res r = RES_INIT;

	if (resolve_arg(c, dirfd, addr, follow, empty_ok, 0, 'a' + (char)kind, &r)) {
		trace_record_found(c->t, &r, kind, c->sc);
		trace_res_seen(c->t, &r);
	}
	trace_res_release(&r);
}

/*
 * A path the call creates when missing (mkdir, symlink, link, bind...).
 * A host path made the job's own is looked at again by a later lookup
 * (trace_forget_seen()).
 */
static void on_create(struct call *c, int dirfd, uint64_t addr)
{
	struct res r = RES_INIT;

	c->create = CREATE_NEW;
	if (resolve_arg(c, dirfd, addr, false, false, 0, 'a' + (char)TRACE_STAT, &r)) {
		trace_record_found(c->t, &r, TRACE_STAT, c->sc);
		trace_res_seen(c->t, &r);
		if (r.where == W_HOST)
			trace_forget_seen(c->t);
	}
	c->create = CREATE_NONE;
	trace_res_release(&r);
}

/*
 * A call that removes or replaces the path it names (unlink, rmdir, both
 * sides of rename): recorded like a stat, and the resolution caches are
 * dropped unless the path is private to the sandbox (a compiler's
 * temporary files in the private /tmp change nothing of the host view).
 */
static void on_removal(struct call *c, int dirfd, uint64_t addr,
		       struct strbuf *view)
{
	struct res r = RES_INIT;

	if (resolve_arg(c, dirfd, addr, false, false, 0, 0, &r)) {
		trace_record_found(c->t, &r, TRACE_STAT, c->sc);
		if (r.where != W_INTERNAL)
			trace_forget_resolutions(c->t);
		if (view)
			strbuf_addbuf(view, &r.path);
	} else if (!c->stale) {
		trace_forget_resolutions(c->t);
	}
	c->create = CREATE_NONE;
	trace_res_release(&r);
}

static void on_open(struct call *c, int dirfd, uint64_t addr, uint64_t flags,
		    uint64_t mode, uint64_t resolve)
{
	struct res r = RES_INIT;
	bool follow = !(flags & O_NOFOLLOW) && !((flags & O_CREAT) && (flags & O_EXCL));
	enum trace_obs_kind kind;
	char op = 'o';

	if ((flags & O_PATH) || (flags & __O_TMPFILE) == __O_TMPFILE ||
	    (flags & O_TRUNC) || ((flags & O_CREAT) && (flags & O_EXCL)))
		op = 's';
	/*
	 * O_CREAT|O_TRUNC with write access on a missing path: what the job
	 * gets does not depend on whether a regular file was there (its
	 * bytes are discarded), so no absent observation — only its
	 * directory's existence — and a run's own output does not make the
	 * next run miss. An existing path is still a stat observation.
	 * O_CREAT without O_TRUNC keeps the absent observation: appended
	 * bytes follow whatever was there.
	 */
	bool output = (flags & O_TRUNC) && !(flags & O_EXCL) &&
		      (flags & O_ACCMODE) != O_RDONLY &&
		      (flags & __O_TMPFILE) != __O_TMPFILE && !(flags & O_PATH);
	if (flags & O_CREAT)
		c->create = output ? CREATE_TRUNC : CREATE_NEW;
	c->open_mode = (mode_t)mode;
	if (!resolve_arg(c, dirfd, addr, follow, false, resolve, op, &r))
		goto out;
	/* A write makes a host path the job's own (trace_forget_seen()). */
	if (r.where == W_HOST && !(flags & O_PATH) &&
	    ((flags & O_ACCMODE) != O_RDONLY || (flags & O_CREAT)))
		c->forget_seen = true;
	if ((flags & O_PATH) || (flags & __O_TMPFILE) == __O_TMPFILE ||
	    (flags & O_TRUNC) || ((flags & O_CREAT) && (flags & O_EXCL)))
		kind = TRACE_STAT;
	else
		kind = TRACE_CONTENT;
	if ((flags & O_TRUNC) && (flags & O_ACCMODE) == O_RDONLY)
		kind = TRACE_CONTENT; /* O_TRUNC is ignored without write access */
	if (output && r.status == RES_FOUND && r.where == W_HOST &&
	    S_ISREG(r.st.st_mode) && !trace_is_always_changing(r.hostpath.buf)) {
		/* Truncated: its bytes do not matter (trace.h, TRACE_OUTPUT). */
		struct trace_obs *o;

		if (!trace_obs_find(c->t, TRACE_OUTPUT, r.hostpath.buf)) {
			o = trace_obs_add(c->t, TRACE_OUTPUT, r.hostpath.buf, c->sc, &r.st);
			if ((flags & O_CREAT) &&
			    !trace_output_creation((pid_t)c->req->pid, r.hostpath.buf,
						   (mode_t)mode, o))
				o->create = false; /* then only "regular file" holds */
		}
		trace_res_seen(c->t, &r);
		goto out;
	}
	trace_record_found(c->t, &r, kind, c->sc);
	trace_res_seen(c->t, &r);
out:
	if (c->forget_seen)
		trace_forget_seen(c->t);
	c->forget_seen = false;
	trace_res_release(&r);
}

static void on_exec(struct call *c, int dirfd, uint64_t addr, bool follow, bool empty_ok)
{
	struct res r = RES_INIT;
	struct walk w = { .t = c->t, .pid = (pid_t)c->req->pid, .sc = c->sc,
			  .follow_last = true };

	if (!resolve_arg(c, dirfd, addr, follow, empty_ok, 0, 0, &r))
		goto out;
	trace_record_found(c->t, &r, TRACE_CONTENT, c->sc);
	trace_record_exec(&w, &r);
out:
	trace_res_release(&r);
}

static void on_getdents(struct call *c, int fd)
{
	struct res r = RES_INIT;
	struct strbuf base = STRBUF_INIT;
	struct walk w = { .t = c->t, .pid = (pid_t)c->req->pid, .sc = c->sc };

	if (trace_dirfd_path(w.pid, fd, &base) < 0 || base.buf[0] != '/')
		goto out;
	trace_walk_path(&w, base.buf, "", &r);
	trace_record_found(c->t, &r, TRACE_LISTING, c->sc);
out:
	strbuf_release(&base);
	trace_res_release(&r);
}

/*
 * sysinfo(2), answered from the host facts the view shows (trace.h,
 * cfg.sysinfo_ram), so that glibc's sysconf(_SC_PHYS_PAGES) (the JVM's
 * heap size) agrees with /proc/meminfo. The struct is written into the
 * caller once its notification is known to be valid.
 */
static void on_sysinfo(struct call *c, uint64_t addr)
{
	struct sysinfo si;
	struct iovec local = { .iov_base = &si, .iov_len = sizeof(si) };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr,
				.iov_len = sizeof(si) };

	if (!c->t->cfg.sysinfo_ram)
		return;
	memset(&si, 0, sizeof(si));
	si.uptime = 100;
	si.totalram = c->t->cfg.sysinfo_ram;
	si.freeram = c->t->cfg.sysinfo_ram;
	si.procs = 1;
	si.mem_unit = 1;
	if (!still_valid(c))
		return;
	trace_synthetic_read(c->t, "sysinfo(2)");
	c->emulated = true;
	if (process_vm_writev((pid_t)c->req->pid, &local, 1, &remote, 1, 0) !=
	    (ssize_t)sizeof(si))
		c->error = EFAULT;
}

static void add_hostfact(struct call *c, const char *name, const char *value)
{
	struct trace_obs *o = trace_obs_add(c->t, TRACE_HOSTFACT, name, c->sc, NULL);

	if (o)
		o->value = xstrdup(value);
}

static void on_uname(struct call *c)
{
	struct utsname u;

	if (c->t->uname_done)
		return;
	c->t->uname_done = true;
	if (uname(&u) < 0) {
		trace_taint(c->t, "syscall uname: %s", strerror(errno));
		return;
	}
	/* the nodename is always "procache" in the sandbox: not a host fact */
	add_hostfact(c, "uname.sysname", u.sysname);
	add_hostfact(c, "uname.release", u.release);
	add_hostfact(c, "uname.version", u.version);
	add_hostfact(c, "uname.machine", u.machine);
	add_hostfact(c, "uname.domainname", u.domainname);
}

/*
 * Read the socket address (@addr, @len) of the call into @sun (as a
 * sockaddr_un, sun_path NUL-terminated); returns the bytes read, 0 when
 * there is no address or the call is gone.
 */
static size_t read_sockaddr(struct call *c, uint64_t addr, uint64_t len,
			    struct sockaddr_un *sun)
{
	size_t n = len < sizeof(*sun) ? (size_t)len : sizeof(*sun);

	memset(sun, 0, sizeof(*sun));
	if (!addr || len < sizeof(sa_family_t) ||
	    mem_read((pid_t)c->req->pid, addr, sun, n) < 0 || !still_valid(c))
		return 0;
	sun->sun_path[sizeof(sun->sun_path) - 1] = 0;
	return n;
}

/* A socket address the job sends to or connects to. */
static void on_sockaddr(struct call *c, uint64_t addr, uint64_t len)
{
	struct sockaddr_un sun;
	struct res r = RES_INIT;
	struct walk w = { .t = c->t, .pid = (pid_t)c->req->pid, .sc = c->sc,
			  .follow_last = true };
	size_t n = read_sockaddr(c, addr, len, &sun);

	if (!n)
		return;
	if (sun.sun_family != AF_UNIX) {
		if (c->t->cfg.host_net && sun.sun_family != AF_UNSPEC &&
		    sun.sun_family != AF_NETLINK)
			trace_taint(c->t, "syscall %s: network access", c->sc);
		return;
	}
	if (n <= offsetof(struct sockaddr_un, sun_path))
		return; /* unnamed */
	if (!sun.sun_path[0]) {
		/* abstract: per network namespace */
		if (c->t->cfg.host_net)
			trace_taint(c->t, "syscall %s: host abstract unix socket", c->sc);
		return;
	}
	if (!trace_walk_from_cwd(&w, sun.sun_path, &r) &&
	    r.status == RES_FOUND && r.where == W_HOST) {
		trace_taint(c->t, "syscall %s: host unix socket %s", c->sc, r.hostpath.buf);
		if (c->t->cfg.untrusted)
			c->error = EACCES;
	}
	trace_res_release(&r);
}

/* bind: a path-named socket is created like a file: its name is probed. */
static void on_bind(struct call *c, uint64_t addr, uint64_t len)
{
	struct sockaddr_un sun;
	struct res r = RES_INIT;
	struct walk w = { .t = c->t, .pid = (pid_t)c->req->pid, .sc = c->sc,
			  .create = CREATE_NEW };
	size_t n = read_sockaddr(c, addr, len, &sun);

	if (n > offsetof(struct sockaddr_un, sun_path) && sun.sun_family == AF_UNIX &&
	    sun.sun_path[0] && !trace_walk_from_cwd(&w, sun.sun_path, &r))
		trace_record_found(c->t, &r, TRACE_STAT, c->sc);
	trace_res_release(&r);
}

/* sendmmsg() sends at most this many messages (the kernel's UIO_MAXIOV). */
#define SENDMMSG_MAX_VLEN 1024

/* The destination of each message of a sendmsg() or sendmmsg(). */
static void on_sendmsg(struct call *c, uint64_t msgp, uint64_t vlen, bool mmsg)
{
	uint64_t i, n = mmsg ? (vlen > SENDMMSG_MAX_VLEN ? SENDMMSG_MAX_VLEN : vlen) : 1;
	size_t stride = mmsg ? sizeof(struct mmsghdr) : sizeof(struct msghdr);

	for (i = 0; i < n && !c->stale && !c->error; i++) {
		struct msghdr m;

		if (mem_read((pid_t)c->req->pid, msgp + i * stride, &m, sizeof(m)) < 0 ||
		    !still_valid(c))
			return;
		on_sockaddr(c, (uint64_t)(uintptr_t)m.msg_name, m.msg_namelen);
	}
}

/* An fd argument (an int in a 64-bit register). */
static int arg_fd(__u64 x)
{
	return (int)(int32_t)x;
}

/* A *at() call naming (dirfd a[0], path a[1]) with AT_* @flags. */
static void on_lookup_at(struct call *c, const __u64 *a, __u64 flags)
{
	on_lookup(c, arg_fd(a[0]), a[1], !(flags & AT_SYMLINK_NOFOLLOW),
		  flags & AT_EMPTY_PATH, TRACE_STAT);
}

/* newfstatat and statx: (dirfd a[0], path a[1]) with AT_* @flags. */
static void on_stat_at(struct call *c, const __u64 *a, __u64 flags)
{
	on_stat(c, arg_fd(a[0]), a[1], !(flags & AT_SYMLINK_NOFOLLOW),
		flags & AT_EMPTY_PATH);
}

/*
 * rename: both sides are removals; the new name is created if missing.
 * The marks on the times of the old name go to the new one.
 */
static void on_rename(struct call *c, int olddirfd, __u64 oldpath, int newdirfd,
		      __u64 newpath)
{
	struct strbuf from = STRBUF_INIT, to = STRBUF_INIT;

	on_removal(c, olddirfd, oldpath, &from);
	c->create = CREATE_NEW;
	on_removal(c, newdirfd, newpath, &to);
	if (from.len && to.len)
		trace_jobtime_rename(c->t, from.buf, to.buf);
	strbuf_release(&from);
	strbuf_release(&to);
}

/* getcwd: the job learns where it is (trace_config.location_dir). */
static void on_getcwd(struct call *c)
{
	struct strbuf cwd = STRBUF_INIT;

	if (trace_dirfd_path((pid_t)c->req->pid, AT_FDCWD, &cwd) < 0)
		trace_location(c->t, "getcwd: cannot read the caller's cwd");
	else if (trace_in_location(c->t, cwd.buf))
		trace_location(c->t, "getcwd in %s", cwd.buf);
	strbuf_release(&cwd);
}

static void on_notification(struct call *c)
{
	const __u64 *a = c->req->data.args;
	int nr = c->req->data.nr;
	struct trace *t = c->t;

	if (pc_verbose >= 2)
		debug("trace: pid %u: %s", (unsigned)c->req->pid, c->sc);
	switch (nr) {
	case SYS_open:
		on_open(c, AT_FDCWD, a[0], a[1], a[2], 0);
		break;
	case SYS_creat:
		on_open(c, AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, a[1], 0);
		break;
	case SYS_openat:
		on_open(c, arg_fd(a[0]), a[1], a[2], a[3], 0);
		break;
	case SYS_sysinfo:
		on_sysinfo(c, a[0]);
		break;
	case SYS_openat2: {
		struct open_how how;

		memset(&how, 0, sizeof(how));
		if (a[3] < sizeof(how) - sizeof(how.resolve) ||
		    mem_read((pid_t)c->req->pid, a[2], &how,
			     a[3] < sizeof(how) ? a[3] : sizeof(how)) < 0 ||
		    !still_valid(c))
			break;
		on_open(c, arg_fd(a[0]), a[1], how.flags, how.mode, how.resolve);
		break;
	}
	/* calls that look at a path (the writing ones: its existence, type
	 * and mode) */
	/* stats: what they show includes the times */
	case SYS_stat:
		on_stat(c, AT_FDCWD, a[0], true, false);
		break;
	case SYS_lstat:
		on_stat(c, AT_FDCWD, a[0], false, false);
		break;
	case SYS_fstat:
		on_fstat(c, arg_fd(a[0]));
		break;
	case SYS_newfstatat:
		on_stat_at(c, a, a[3]);
		break;
	case SYS_statx:
		on_stat_at(c, a, a[2]);
		break;
	/* calls that set times */
	case SYS_utime:
		on_settime(c, AT_FDCWD, a[0], true, false, a[1], TIMES_UTIMBUF);
		break;
	case SYS_utimes:
		on_settime(c, AT_FDCWD, a[0], true, false, a[1], TIMES_TIMEVAL);
		break;
	case SYS_futimesat:
		on_settime(c, arg_fd(a[0]), a[1], true, false, a[2], TIMES_TIMEVAL);
		break;
	case SYS_utimensat:
		/* a NULL path is futimens(fd) */
		on_settime(c, arg_fd(a[0]), a[1], !(a[3] & AT_SYMLINK_NOFOLLOW),
			   a[3] & AT_EMPTY_PATH, a[2], TIMES_TIMESPEC);
		break;
	case SYS_access:
	case SYS_chdir:
	case SYS_chmod:
	case SYS_chown:
	case SYS_truncate:
		on_lookup(c, AT_FDCWD, a[0], true, false, TRACE_STAT);
		break;
	case SYS_readlink:
	case SYS_lchown:
		on_lookup(c, AT_FDCWD, a[0], false, false, TRACE_STAT);
		break;
	case SYS_faccessat:
	case SYS_fchmodat:
		on_lookup(c, arg_fd(a[0]), a[1], true, false, TRACE_STAT);
		break;
	case SYS_readlinkat:
		on_lookup(c, arg_fd(a[0]), a[1], false, true, TRACE_STAT);
		break;
	case SYS_faccessat2:
	case SYS_fchmodat2:
		on_lookup_at(c, a, a[3]);
		break;
	case SYS_fchownat:
		on_lookup_at(c, a, a[4]);
		break;
	case SYS_execve:
		on_exec(c, AT_FDCWD, a[0], true, false);
		break;
	case SYS_execveat:
		on_exec(c, arg_fd(a[0]), a[1], !(a[4] & AT_SYMLINK_NOFOLLOW),
			a[4] & AT_EMPTY_PATH);
		break;
	case SYS_getdents:
	case SYS_getdents64:
		on_getdents(c, arg_fd(a[0]));
		break;
	case SYS_uname:
		on_uname(c);
		break;
	case SYS_getcwd:
		/* notified only with a location_dir (trace-filter.c) */
		on_getcwd(c);
		break;
	/* calls that remove, create or rename a path */
	case SYS_unlink:
	case SYS_rmdir:
		on_removal(c, AT_FDCWD, a[0], NULL);
		break;
	case SYS_unlinkat:
		on_removal(c, arg_fd(a[0]), a[1], NULL);
		break;
	case SYS_mkdir:
	case SYS_mknod:
		on_create(c, AT_FDCWD, a[0]);
		break;
	case SYS_mkdirat:
	case SYS_mknodat:
		on_create(c, arg_fd(a[0]), a[1]);
		break;
	case SYS_symlink:
		on_create(c, AT_FDCWD, a[1]);
		break;
	case SYS_symlinkat:
		on_create(c, arg_fd(a[1]), a[2]);
		break;
	case SYS_rename:
		on_rename(c, AT_FDCWD, a[0], AT_FDCWD, a[1]);
		break;
	case SYS_renameat:
	case SYS_renameat2:
		on_rename(c, arg_fd(a[0]), a[1], arg_fd(a[2]), a[3]);
		break;
	case SYS_link:
		on_lookup(c, AT_FDCWD, a[0], false, false, TRACE_STAT);
		on_create(c, AT_FDCWD, a[1]);
		break;
	case SYS_linkat:
		on_lookup(c, arg_fd(a[0]), a[1], a[4] & AT_SYMLINK_FOLLOW,
			  a[4] & AT_EMPTY_PATH, TRACE_STAT);
		on_create(c, arg_fd(a[2]), a[3]);
		break;
	/* sockets */
	case SYS_bind:
		on_bind(c, a[1], a[2]);
		break;
	case SYS_connect:
		on_sockaddr(c, a[1], a[2]);
		break;
	case SYS_sendto:
		on_sockaddr(c, a[4], a[5]);
		break;
	case SYS_sendmsg:
		on_sendmsg(c, a[1], 1, false);
		break;
	case SYS_sendmmsg:
		on_sendmsg(c, a[1], a[2], true);
		break;
	/* argument filters: notified only for what they let through */
	case SYS_clone:
		/* only notified with namespace flags (argument filter) */
		trace_taint(t, "syscall clone: namespace flags 0x%llx", (unsigned long long)a[0]);
		break;
	case SYS_ioctl:
		/* only notified for TIOCSTI/TIOCLINUX (argument filter) */
		trace_taint(t, "syscall ioctl: terminal injection request 0x%llx",
			    (unsigned long long)a[1]);
		break;
	case SYS_personality:
		/* notified in untrusted mode only: queries and ASLR off pass */
		if ((uint32_t)a[0] != TRACE_PERSONALITY_QUERY &&
		    (uint32_t)a[0] != PER_LINUX &&
		    (uint32_t)a[0] != (PER_LINUX | ADDR_NO_RANDOMIZE))
			c->error = EPERM;
		break;
	default: {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
		const struct trace_sc *e = name ? trace_sc_find(name) : NULL;

		if (!name)
			trace_taint(t, "syscall %d: unknown to libseccomp", nr);
		else if (!e)
			trace_taint(t, "syscall %s: not classified", name);
		else if (t->cfg.untrusted && e->class == TRACE_SC_DENY)
			c->error = EPERM; /* the filter normally does this */
		else
			trace_taint(t, "syscall %s", name);
		free(name);
		break;
	}
	}
}

/* Under t->lock: the name cache is shared by the tracer's threads. */
static const char *sc_static_name(int nr)
{
	static char *names[1024];

	if (nr < 0 || nr >= (int)ARRAY_SIZE(names))
		return "unknown";
	if (!names[nr]) {
		names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
		if (!names[nr])
			names[nr] = xasprintf("%d", nr);
	}
	return names[nr];
}

static void give_up(struct trace *t, const char *what, int err)
{
	pthread_mutex_lock(&t->lock);
	trace_taint(t, "tracer: %s: %s", what, strerror(-err));
	t->dead = true;
	pthread_mutex_unlock(&t->lock);
}

/*
 * One notification, in one of the sandbox's tracer threads: receive
 * (blocking), record under t->lock, answer. The buffers are on this
 * thread's stack; the kernel's sizes were checked by trace_new().
 */
int trace_handle(void *ctx, int fd)
{
	struct trace *t = ctx;
	union {
		struct seccomp_notif req;
		char buf[TRACE_NOTIF_BUF];
	} rq;
	union {
		struct seccomp_notif_resp resp;
		char buf[TRACE_NOTIF_BUF];
	} rs;
	struct call c = { .t = t, .fd = fd, .req = &rq.req };
	int r;

	if (t->notif_sizes_bad) {
		give_up(t, "notification buffers", -EOVERFLOW);
		return -EOVERFLOW;
	}
	memset(&rq, 0, sizeof(rq));
	/*
	 * The ioctls themselves: libseccomp 2.5 returns -ECANCELED for any
	 * failure, which hid the ENOENT/EINTR of a call that is gone (a job
	 * process signalled mid-notification) and killed the tracer: every
	 * later notified call of the job then failed with ENOSYS.
	 */
	r = ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &rq.req) < 0 ? -errno : 0;
	if (r < 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		/*
		 * ENOENT: the caller was killed before we read it, or no job
		 * process is left (then the fd reports POLLHUP and every
		 * later RECV fails at once: stop).
		 */
		if (r == -ENOENT && poll(&p, 1, 0) == 1 && (p.revents & POLLHUP))
			return 1;
		if (r == -ENOENT || r == -EINTR || r == -EAGAIN)
			return 0;
		give_up(t, "cannot receive notification", r);
		return r;
	}
	pthread_mutex_lock(&t->lock);
	c.sc = sc_static_name(c.req->data.nr);
	if (c.req->data.arch != AUDIT_ARCH_X86_64) {
		trace_taint(t, "syscall %d: non-native ABI", c.req->data.nr);
		c.error = ENOSYS;
	} else {
		on_notification(&c);
	}
	pthread_mutex_unlock(&t->lock);
	if (c.stale)
		return 0; /* the call is gone; nothing to answer */
	memset(&rs, 0, sizeof(rs));
	rs.resp.id = c.req->id;
	if (c.error) {
		rs.resp.error = -c.error;
	} else if (c.emulated) {
		rs.resp.val = c.val;
	} else {
		rs.resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	}
	r = ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &rs.resp) < 0 ? -errno : 0;
	if (r < 0 && r != -ENOENT) {
		give_up(t, "cannot answer notification", r);
		return r;
	}
	return 0;
}


/*
 * One seccomp user notification (trace-internal.h): received by one of the
 * supervisor's tracer threads, decoded (the system call's arguments, the
 * paths and structs it points to in the job's memory), handed to the
 * observation it makes (a lookup, an open, an execve, a listing, a socket
 * address...), and answered: SECCOMP_USER_NOTIF_FLAG_CONTINUE once the
 * observation is recorded, so a record describes the state the call is
 * about to see, or an error for what untrusted mode refuses.
 *
 * A fast-path record (DESIGN.md §3.1) is the same call made without a
 * notification: it goes through the same handlers, with the path and the
 * directory it is relative to taken from the record instead of the job's
 * memory and /proc/PID, and is then checked against what the call itself
 * saw. Before a notified write is answered, every published record is
 * handled and the write generation moves on (trace-fast.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <linux/netlink.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/die.h"
#include "common/path.h"
#include "common/xalloc.h"
#include "common/xattr.h"
#include "sandbox/syscalls.h"
#include "sandbox/nest.h"
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
 * Read (@write false) or write @len bytes at @addr in @pid through
 * /proc/PID/mem, which also writes read-only pages (as a debugger does).
 * 0 or -errno.
 */
static int proc_mem_rw(pid_t pid, uint64_t addr, void *buf, size_t len, bool write)
{
	char mem[64];
	ssize_t n;
	int fd;

	snprintf(mem, sizeof(mem), "/proc/%d/mem", (int)pid);
	fd = open(mem, (write ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write ? pwrite(fd, buf, len, (off_t)addr) : pread(fd, buf, len, (off_t)addr);
	close(fd);
	return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EFAULT;
}

/*
 * Read @len bytes at @addr in @pid. process_vm_readv first; /proc/PID/mem
 * when it is not permitted (Yama, or a kernel without it).
 */
static int mem_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);

	if (n == (ssize_t)len)
		return 0;
	if (n >= 0 || errno == EFAULT)
		return -EFAULT;
	return proc_mem_rw(pid, addr, buf, len, false);
}

/*
 * A NUL-terminated string of at most PATH_MAX bytes, read in chunks that
 * never cross a page: the string may end right before an unmapped page.
 * The first chunk is small because most paths are: copying a whole page
 * for each notification was a measurable part of its cost.
 */
static int mem_read_string_max(pid_t pid, uint64_t addr, struct strbuf *out, size_t max)
{
	char page[4096];
	size_t want = 256;

	strbuf_reset(out);
	if (!addr)
		return -EFAULT;
	while (out->len < max) {
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

static int mem_read_string(pid_t pid, uint64_t addr, struct strbuf *out)
{
	return mem_read_string_max(pid, addr, out, PATH_MAX);
}

/* ---------------------------------------------------------------------- */
/* the handlers */

/* A writing call touches at most this many paths (rename: 2). */
#define CALL_MAX_TOUCHED 4

struct call {
	struct trace *t;
	int fd;
	struct seccomp_notif *req;	/* NULL for a record */
	const struct trace_fast_rec *rec; /* a fast-path record instead */
	pid_t pid;			/* the caller; 0 for a record */
	int nr;
	const __u64 *args;
	const char *sc; /* static name */
	bool stale;     /* the notification went away while we read */
	enum create_kind create; /* for the next resolve_arg() */
	bool forget_seen;        /* on_open(): the open writes a host path */
	bool copy_up;            /* on_lookup(), on_removal(): the call copies
	                            a host object up (record_copy_up()) */
	bool removes;            /* on_removal(): the call removes or replaces
	                            what it names (rmdir, unlink, a rename's
	                            target): a directory's entries decide it */
	mode_t open_mode;        /* for the next resolve_arg(): open's mode */
	bool stat_lpath;         /* on_stat(): by path, a final symlink not
	                            followed (a directory's times count) */
	int error;      /* answer with this errno instead of CONTINUE */
	bool seen;      /* the lookup is in the seen set (found or added) */
	/*
	 * A call that may change how a path classifies (DESIGN §3.1): the
	 * job-view paths it touched, and whether one is not internal state.
	 */
	bool write;
	bool touched_all;	/* it cannot tell which */
	bool touched_host;
	size_t nr_touched;
	char *touched[CALL_MAX_TOUCHED];
	bool touched_job[CALL_MAX_TOUCHED]; /* trace_fast_wrote()'s @job */
	bool emulated;  /* answered by the tracer: return @val, no CONTINUE */
	bool answered;  /* answered already (an exec redirected: nest.h) */
	long long val;
};

/*
 * The ioctl itself, not libseccomp's seccomp_notify_id_valid(): that one
 * first probes the kernel's API level, nine seccomp() calls on the
 * tracer's first notification, which the job's execve waits for.
 */
static bool still_valid(struct call *c)
{
	if (c->req && ioctl(c->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &c->req->id) < 0)
		c->stale = true;
	return !c->stale;
}

/* A path a writing call names, resolved (@r) or not (@r NULL). */
static void note_touched(struct call *c, const struct res *r)
{
	if (!c->write)
		return;
	if (!r || r->status == RES_FAILED || !r->path.len ||
	    c->nr_touched == CALL_MAX_TOUCHED) {
		c->touched_all = true;
		return;
	}
	/*
	 * The job's own state before the call (a creating call too: mkdir
	 * of the job's existing directory, which two rustc processes of
	 * `cargo test` each make: DESIGN §3.1 "Ordering").
	 */
	c->touched_job[c->nr_touched] =
		r->where != W_HOST &&
		(r->status == RES_MISSING ||
		 (r->status == RES_FOUND && !S_ISLNK(r->st.st_mode)));
	c->touched[c->nr_touched++] = xstrdup(r->path.buf);
	if (r->where != W_INTERNAL)
		c->touched_host = true;
}

/* An fd a writing call changes (fchmod, futimens): its path, if it has one. */
static void note_touched_fd(struct call *c, int fd)
{
	struct res r = RES_INIT;

	if (c->write && trace_dirfd_path(c->pid, fd, &r.path) == 0 && r.path.buf[0] == '/') {
		r.status = RES_FOUND;
		r.where = W_HOST;	/* it may be; we do not walk it */
		note_touched(c, &r);
	} else {
		note_touched(c, NULL);
	}
	trace_res_release(&r);
}

/* Whether call @nr shows the times of what it names (DESIGN §3). */
static bool shows_times(int nr)
{
	return nr == SYS_stat || nr == SYS_lstat || nr == SYS_fstat ||
	       nr == SYS_newfstatat || nr == SYS_statx;
}

static bool is_open(int nr)
{
	return nr == SYS_open || nr == SYS_openat || nr == SYS_openat2 || nr == SYS_creat ||
	       nr == SYS_execve || nr == SYS_execveat;
}

static void nest_observe(struct call *c, const struct res *r, enum nest_access kind);

/* A call that changes an existing object's attributes, not its bytes. */
static bool is_attr_call(int nr)
{
	switch (nr) {
	case SYS_chmod: case SYS_fchmod: case SYS_fchmodat:
	case SYS_chown: case SYS_fchown: case SYS_lchown: case SYS_fchownat:
	case SYS_utime: case SYS_utimes: case SYS_futimesat: case SYS_utimensat:
	case SYS_setxattr: case SYS_lsetxattr: case SYS_fsetxattr:
	case SYS_removexattr: case SYS_lremovexattr: case SYS_fremovexattr:
#ifdef SYS_fchmodat2
	case SYS_fchmodat2:
#endif
		return true;
	default:
		return false;
	}
}

/*
 * Under --nested: the caller's units looked at or changed @r's path
 * (§13.2), and what they observed of the found object (§13.3; a missing
 * component or a symlink on the way is the walk's: trace-resolve.c).
 */
static void note_access(struct call *c, const struct res *r, enum nest_access kind)
{
	struct trace *t = c->t;
	const char *path = r->path.buf;
	mode_t m = r->st.st_mode;

	/* a device's bytes are no state of the view (/dev/null, /dev/tty) */
	if (r->status == RES_FOUND && (S_ISCHR(m) || S_ISBLK(m)))
		return;
	if (!t->nest || !c->pid || !r->path.len)
		return;
	/*
	 * mkdir of a path that exists fails (EEXIST) and changes nothing: it
	 * looks at the path. As a write it met every sibling's write beneath
	 * it, so `mkdir -p out` in each recipe of `make -j2` refused the
	 * units writing into out/. Whatever removes the path before the
	 * call runs writes it: a sibling's removal meets this read, the
	 * unit's own puts the path among its writes.
	 */
	if (kind == NEST_WRITE && r->status == RES_FOUND &&
	    (c->nr == SYS_mkdir || c->nr == SYS_mkdirat))
		kind = NEST_READ;
	/*
	 * A directory's attributes changed: a unit's result holds a written
	 * directory whole (runner/nest.c, add_changes()), right for one it
	 * made or moved into place, wrong for one it only chmods or touches
	 * (the files beneath would be restored as they were): refused then.
	 */
	if (kind == NEST_WRITE && r->status == RES_FOUND && S_ISDIR(m) && is_attr_call(c->nr))
		trace_nest_attr_dir(t, c->pid, path);
	/*
	 * A directory removed or replaced: whether it is empty decides the
	 * call (ENOTEMPTY), so its entries are observed, before the write
	 * makes it the unit's own (on_removal()).
	 */
	if (kind == NEST_WRITE && r->status == RES_FOUND && S_ISDIR(m) && c->removes)
		nest_observe(c, r, NEST_LIST);
	/* what it saw before, then that it wrote it (its own state after) */
	nest_observe(c, r, kind);
	trace_nest_access(t, c->pid, kind, path);
}

/* note_access()'s observation of @r's object. */
static void nest_observe(struct call *c, const struct res *r, enum nest_access kind)
{
	struct trace *t = c->t;
	const char *path = r->path.buf;
	mode_t m = r->st.st_mode;

	if (kind == NEST_LIST) {
		trace_nest_observe(t, c->pid, TRACE_LISTING, path, NULL, false);
		return;
	}
	if (kind == NEST_WRITE && c->create == CREATE_TRUNC && is_open(c->nr) &&
	    (r->status == RES_MISSING || (r->status == RES_FOUND && S_ISREG(m)))) {
		/* its prior bytes do not matter (trace.h, TRACE_OUTPUT) */
		trace_nest_observe_output(t, c->pid, path, c->open_mode);
		return;
	}
	if (r->status != RES_FOUND)
		return;
	if (S_ISLNK(m)) {
		struct strbuf target = STRBUF_INIT, view = STRBUF_INIT;

		trace_view_path(c->pid, path, &view);
		if (trace_readlink(view.buf, &target) < 0)
			trace_nest_refuse(t, c->pid, "a symlink that cannot be read");
		else
			trace_nest_observe(t, c->pid, TRACE_SYMLINK, path, target.buf, false);
		strbuf_release(&target);
		strbuf_release(&view);
		/* its own times, as a job's (trace_record_stat_times()) */
		if (shows_times(c->nr))
			trace_nest_observe(t, c->pid, TRACE_STAT, path, NULL, true);
	} else if (S_ISREG(m) && is_open(c->nr)) {
		trace_nest_observe(t, c->pid, TRACE_CONTENT, path, NULL, false);
	} else if (S_ISFIFO(m) && is_open(c->nr)) {
		/*
		 * What it reads or writes there is another process's (found
		 * by the pipeline sweep: `cat f` of a FIFO replayed the bytes
		 * of the recorded writer).
		 */
		trace_nest_refuse(t, c->pid, "opens a FIFO by path");
	} else {
		/*
		 * A directory's times as a job's (DESIGN §3, "Timestamps"):
		 * shown by a stat by path not following a final symlink, and
		 * kept when the unit listed it too (runner/nest.c).
		 */
		trace_nest_observe(t, c->pid, TRACE_STAT, path, NULL,
				   shows_times(c->nr) &&
				   (S_ISREG(m) || (S_ISDIR(m) && c->stat_lpath)));
	}
}

/* Read the path argument @addr; false (after a taint) when impossible. */
static bool read_path(struct call *c, uint64_t addr, struct strbuf *out)
{
	int r;

	if (c->rec) {
		strbuf_reset(out);
		strbuf_addstr(out, c->rec->path);
		return true;
	}
	r = mem_read_string(c->pid, addr, out);

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

/* The seen set's key of a lookup: built by hand, it is made per call. */
static void seen_key(struct strbuf *key, char op, bool follow, enum create_kind create,
		     uint64_t resolve, const char *base, const char *name)
{
	static const char hex[] = "0123456789abcdef";
	char buf[20];
	int i = 0;

	strbuf_reset(key);
	strbuf_addch(key, op);
	strbuf_addch(key, follow ? '1' : '0');
	strbuf_addch(key, (char)('0' + (int)create));
	do
		buf[i++] = hex[resolve & 15];
	while ((resolve >>= 4));
	while (i)
		strbuf_addch(key, buf[--i]);
	strbuf_addch(key, ':');
	strbuf_addstr(key, base);
	strbuf_addch(key, '/');
	strbuf_addstr(key, name);
}

/*
 * Does @path, what /proc/PID/fd/@fd reads, name a file that was deleted
 * (the kernel appends " (deleted)")? Then there is no path to walk: it
 * was the job's own (a compiler's unlinked temporary file) or was removed
 * from the host during the run, which the observations made when it was
 * opened already catch. A name that really ends so is walked as usual.
 */
static bool fd_deleted(pid_t pid, int fd, const char *path)
{
	static const char suffix[] = " (deleted)";
	const size_t n = sizeof(suffix) - 1, len = strlen(path);
	char link[64];
	struct stat st;

	if (len < n || memcmp(path + len - n, suffix, n))
		return false;
	if (fd == AT_FDCWD)
		snprintf(link, sizeof(link), "/proc/%d/cwd", (int)pid);
	else
		snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, fd);
	return stat(link, &st) < 0 || st.st_nlink == 0;
}

/*
 * Resolve the path argument (dirfd, addr) of the call. @empty_ok: the call
 * honours AT_EMPTY_PATH and the flag was given. The path and the base
 * are read into the tracer's scratch buffers (t->lock is held), or taken
 * from the record as they are: a lookup the seen set answers allocates
 * nothing.
 */
static bool resolve_arg(struct call *c, int dirfd, uint64_t addr, bool follow,
			bool empty_ok, uint64_t resolve, char op, struct res *r)
{
	struct trace *t = c->t;
	struct walk w = { .t = t, .pid = c->pid, .sc = c->sc,
			  .follow_last = follow, .resolve = resolve, .create = c->create,
			  .open_mode = c->open_mode };
	const char *name, *base = "";

	if (c->rec) {
		w.gen = c->rec->rec->gen;
		w.stale = w.gen < trace_fast_gen(t);
		name = c->rec->path;
	} else {
		if (!read_path(c, addr, &t->scratch_name))
			return false;
		name = t->scratch_name.buf;
	}
	if (!*name && !empty_ok)
		return false; /* ENOENT, no lookup */
	if (name[0] != '/' || (resolve & RESOLVE_IN_ROOT)) {
		int err;

		if (c->rec) {
			base = c->rec->base;
			err = *base ? 0 : -EINVAL;
		} else {
			err = trace_dirfd_path(w.pid, dirfd, &t->scratch_base);
			base = t->scratch_base.buf;
		}
		if (err < 0 || base[0] != '/') {
			/* EBADF, or an fd that is not a path (pipe, socket) */
			if (err < 0 && err != -ENOENT && still_valid(c)) {
				trace_taint(t, "syscall %s: cannot resolve fd %d of %d: %s",
					    c->sc, dirfd, w.pid, strerror(-err));
				note_touched(c, NULL);
			}
			return false;
		}
		/* (a record's base never is: the library notifies those) */
		if (!*name && !c->rec && fd_deleted(w.pid, dirfd, base))
			return false;
	}
	/*
	 * A write is walked every time: what it touches is logged. So is
	 * every lookup under --nested: each process's accesses are its
	 * units' (DESIGN §13.2), whoever looked before.
	 */
	if (op && !c->write && !w.stale && !t->nest) {
		long id;

		seen_key(&t->scratch_key, op, follow, c->create, resolve, base, name);
		id = trace_seen_find(t, t->scratch_key.buf, t->scratch_key.len);
		if (id >= 0) {
			c->seen = true;
			t->last_seen_id = id;
			return false; /* recorded before: nothing new */
		}
		strbuf_addbuf(&r->key, &t->scratch_key);
	}
	if (!still_valid(c))
		return false;
	trace_walk_path(&w, *base ? base : "/", name, r);
	note_touched(c, r);
	note_access(c, r, c->write ? NEST_WRITE : NEST_READ);
	return true;
}


/*
 * A fast-path record's hazard (b): what the call saw of a host object
 * must be what we find now, else the host changed between the call and
 * this record (DESIGN §3.1).
 */
static void check_record(struct call *c, const struct res *r)
{
	const struct fp_rec *rec;
	bool changed = false;

	if (!c->rec || r->where != W_HOST ||
	    (r->status != RES_FOUND && r->status != RES_MISSING))
		return;
	rec = c->rec->rec;
	if (r->status == RES_MISSING) {
		changed = rec->ret >= 0;
	} else if (rec->ret == -ENOENT) {
		changed = true;
	} else if (rec->ret == -ENOTDIR) {
		/* found: O_DIRECTORY or a trailing slash on a non-directory */
		changed = S_ISDIR(r->st.st_mode);
	} else if (rec->ret >= 0 && rec->st.mode) {
		const struct stat *st = &r->st;

		changed = (rec->st.mode & S_IFMT) != (st->st_mode & S_IFMT);
		/* a directory through the overlay shows its upper's times */
		if (!changed && !S_ISDIR(st->st_mode))
			changed = rec->st.size != (uint64_t)st->st_size ||
				  rec->st.mtime_sec != st->st_mtim.tv_sec ||
				  rec->st.mtime_nsec != st->st_mtim.tv_nsec ||
				  rec->st.ctime_sec != st->st_ctim.tv_sec ||
				  rec->st.ctime_nsec != st->st_ctim.tv_nsec;
	}
	if (!changed && (rec->nr == SYS_readlink || rec->nr == SYS_readlinkat) &&
	    rec->ret >= 0 && S_ISLNK(r->st.st_mode)) {
		struct strbuf target = STRBUF_INIT;

		/* the record holds a prefix when the target did not fit */
		changed = trace_readlink(r->hostpath.buf, &target) < 0 ||
			  (int64_t)target.len < rec->ret ||
			  memcmp(target.buf, c->rec->value, rec->value_len);
		strbuf_release(&target);
	}
	if (changed)
		trace_taint(c->t, "input changed during the run: %s", r->hostpath.buf);
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
	struct walk w = { .t = c->t, .pid = c->pid, .sc = c->sc };
	bool ok = false;
	int err;

	if (fd < 0)
		goto out; /* EBADF */
	err = trace_dirfd_path(w.pid, fd, &base);
	if (err < 0 || base.buf[0] != '/' || fd_deleted(w.pid, fd, base.buf)) {
		if (err < 0 && err != -ENOENT && err != -EBADF && still_valid(c))
			trace_taint(c->t, "syscall %s: cannot resolve fd %d of %d: %s",
				    c->sc, fd, w.pid, strerror(-err));
		goto out;
	}
	if (op && !c->t->nest) {
		strbuf_reset(&r->key);
		strbuf_addf(&r->key, "%c:%s", op, base.buf);
		if (trace_seen_find(c->t, r->key.buf, r->key.len) >= 0)
			goto out;
	}
	if (!still_valid(c))
		goto out;
	trace_walk_path(&w, base.buf, "", r);
	note_access(c, r, c->write ? NEST_WRITE : NEST_READ);
	ok = true;
out:
	/* a write through an fd that names no path touches nothing we know */
	if (!c->stale)
		note_touched(c, ok ? r : NULL);
	strbuf_release(&base);
	return ok;
}

/* The seen-set operation of a stat that shows times (not a TRACE_* kind). */
#define OP_STAT_TIMES 't'

/* Is the path argument at @addr empty (an AT_EMPTY_PATH stat of an fd)? */
static bool empty_fd(struct call *c, uint64_t addr)
{
	char first;

	if (c->rec)
		return !*c->rec->path;
	return addr && !mem_read(c->pid, addr, &first, 1) && !first;
}

/* A stat that shows the job the object's times, by path (DESIGN.md §3). */
static void on_stat(struct call *c, int dirfd, uint64_t addr, bool follow,
		    bool empty_ok)
{
	struct res r = RES_INIT;

	/* for note_access(), under resolve_arg() */
	c->stat_lpath = !follow && !empty_fd(c, addr);
	if (resolve_arg(c, dirfd, addr, follow, empty_ok, 0, OP_STAT_TIMES, &r)) {
		/* (fd, "") with AT_EMPTY_PATH is an fstat: see on_fstat() */
		trace_record_stat_times(c->t, &r, c->sc, r.path.len && !empty_fd(c, addr),
					!follow);
		c->seen = trace_res_seen(c->t, &r);
		check_record(c, &r);
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

/*
 * A write-side call on @r: the host object it changes (@object: a write
 * open, a truncate, a chmod, a removal...), and the host directory it adds
 * an entry to or removes one from (@parent), taint when immutable or
 * append-only (trace_check_inode_flags()). Only a host object can be:
 * the job cannot set the flags (the ioctl taints).
 */
static void check_write_flags(struct call *c, const struct res *r, bool object, bool parent)
{
	const char *slash;

	if (r->where != W_HOST || !r->hostpath.len || c->stale)
		return;
	if (object && r->status == RES_FOUND)
		trace_check_inode_flags(c->t, r->hostpath.buf);
	if (parent && (r->status == RES_FOUND || r->status == RES_MISSING) &&
	    (slash = strrchr(r->hostpath.buf, '/')) && slash[1]) {
		char *dir = slash == r->hostpath.buf ? xstrdup("/") :
			    xstrndup(r->hostpath.buf, (size_t)(slash - r->hostpath.buf));

		trace_check_inode_flags(c->t, dir);
		free(dir);
	}
}

/*
 * The extended-attribute calls (DESIGN.md §3): of (dirfd, addr), or of the
 * fd @dirfd when @by_fd. A read (get, list) of a host object records its
 * whole set of attributes, and its stat (what may read them); a write
 * (set, remove) too, since what it leaves depends on what was there
 * (XATTR_CREATE, XATTR_REPLACE, the other names), and the object then
 * becomes the job's own (copied up; its attributes are in the diff).
 */
static void on_xattr(struct call *c, int dirfd, uint64_t addr, bool follow,
		     bool by_fd, bool write)
{
	/* NEEDSWORK: extended attributes are not a unit's observations yet */
	trace_nest_refuse(c->t, c->pid, "extended attributes");
	struct res r = RES_INIT;
	bool ok;

	if (by_fd)
		ok = resolve_fd(c, dirfd, write ? 0 : 'x', &r);
	else
		ok = resolve_arg(c, dirfd, addr, follow, false, 0, write ? 0 : 'x', &r);
	if (ok) {
		trace_record_found(c->t, &r, TRACE_STAT, c->sc);
		if (r.status == RES_FOUND && r.where == W_HOST &&
		    !trace_record_always_changing(c->t, r.hostpath.buf, c->sc))
			trace_record_xattrs(c->t, &r, c->sc);
		if (write)
			check_write_flags(c, &r, true, false);
		if (write && r.where == W_HOST)
			trace_forget_seen_path(c->t, r.path.buf);
		else
			trace_res_seen(c->t, &r);
	}
	trace_res_release(&r);
}

/*
 * A call that copies a host object up into the job's result as it is
 * (its extended attributes with it): a write, a chmod, a rename...
 */
static void record_copy_up(struct call *c, const struct res *r)
{
	if (r->status == RES_FOUND && r->where == W_HOST &&
	    (S_ISREG(r->st.st_mode) || S_ISDIR(r->st.st_mode)) &&
	    !trace_is_always_changing(r->hostpath.buf))
		trace_record_xattrs(c->t, r, c->sc);
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
	pid_t pid = c->pid;
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
		if (r.where == W_HOST) {
			check_write_flags(c, &r, true, false);
			record_copy_up(c, &r);
			trace_forget_seen_path(c->t, r.path.buf);
		}
	}
	trace_res_release(&r);
}

static void on_lookup(struct call *c, int dirfd, uint64_t addr, bool follow,
		      bool empty_ok, enum trace_obs_kind kind)
{
	struct res r = RES_INIT;
	char op = c->copy_up ? 'C' : 'a' + (char)kind;

	if (resolve_arg(c, dirfd, addr, follow, empty_ok, 0, op, &r)) {
		trace_record_found(c->t, &r, kind, c->sc);
		if (c->copy_up) {
			check_write_flags(c, &r, true, false);
			record_copy_up(c, &r);
		}
		c->seen = trace_res_seen(c->t, &r);
		check_record(c, &r);
	}
	c->copy_up = false;
	trace_res_release(&r);
}

/* A call that changes a host object's metadata in place (chmod, chown...). */
static void on_lookup_copy_up(struct call *c, int dirfd, uint64_t addr,
			      bool follow, bool empty_ok)
{
	c->copy_up = true;
	on_lookup(c, dirfd, addr, follow, empty_ok, TRACE_STAT);
}

/*
 * A path the call creates when missing (mkdir, symlink, link, bind...),
 * its path in the job's view added to @view if given. A host path made
 * the job's own is looked at again by a later lookup
 * (trace_forget_seen_path()).
 */
static void on_create_view(struct call *c, int dirfd, uint64_t addr, struct strbuf *view)
{
	struct res r = RES_INIT;

	c->create = CREATE_NEW;
	if (resolve_arg(c, dirfd, addr, false, false, 0, 'a' + (char)TRACE_STAT, &r)) {
		trace_record_found(c->t, &r, TRACE_STAT, c->sc);
		if (r.status == RES_MISSING)
			check_write_flags(c, &r, false, true);
		trace_res_seen(c->t, &r);
		if (r.where == W_HOST)
			trace_forget_seen_path(c->t, r.path.buf);
		if (view && r.where != W_INTERNAL)
			strbuf_addbuf(view, &r.path);
	}
	c->create = CREATE_NONE;
	trace_res_release(&r);
}

static void on_create(struct call *c, int dirfd, uint64_t addr)
{
	on_create_view(c, dirfd, addr, NULL);
}

/*
 * link, linkat: the source is observed and copied up, the new name
 * created. The new name's times are the source's: when those are what a
 * rerun gives too (a host file the job did not write, or one whose times
 * the job set), the new name is marked like a file whose times the job
 * set (trace.h, TRACE_TIMES_SET) and a hit gives it the recorded ones:
 * cargo links each build's binary to target/debug/NAME and stats it on
 * the next build. A source the job wrote gets a fresh time on a hit
 * (DESIGN.md §7), and so does its new name.
 */
/*
 * Under --nested, the source of a rename or link, named as the call
 * names it (before the walk marks it written, which makes it the unit's
 * own): trace_nest_moved(). A path not read, or not absolute, refuses
 * the units around the caller; so does one whose spelling (`..`, a
 * symlink) is not how the unit wrote it: at worst a needless refusal.
 */
static void nest_moved(struct call *c, int dirfd, uint64_t addr)
{
	struct strbuf name = STRBUF_INIT, base = STRBUF_INIT;
	char *abs = NULL;

	if (read_path(c, addr, &name) && name.len) {
		if (name.buf[0] == '/')
			abs = xstrdup(name.buf);
		else if (trace_dirfd_path(c->pid, dirfd, &base) == 0 && base.buf[0] == '/')
			abs = path_join(base.buf, name.buf);
	}
	trace_nest_moved(c->t, c->pid, abs);
	free(abs);
	strbuf_release(&name);
	strbuf_release(&base);
}

static void on_link(struct call *c, int olddirfd, uint64_t oldpath, bool follow,
		    bool empty_ok, int newdirfd, uint64_t newpath)
{
	struct res r = RES_INIT;
	struct strbuf to = STRBUF_INIT;
	bool times_kept = false;

	c->copy_up = true;
	if (c->t->nest)
		nest_moved(c, olddirfd, oldpath);
	if (resolve_arg(c, olddirfd, oldpath, follow, empty_ok, 0, 'C', &r)) {
		trace_record_found(c->t, &r, TRACE_STAT, c->sc);
		check_write_flags(c, &r, true, false);
		record_copy_up(c, &r);
		c->seen = trace_res_seen(c->t, &r);
		check_record(c, &r);
		times_kept = r.status == RES_FOUND && S_ISREG(r.st.st_mode) &&
			     (r.where == W_HOST ||
			      (trace_job_times(c->t, r.path.buf) & TRACE_TIMES_SET));
	}
	c->copy_up = false;
	trace_res_release(&r);
	on_create_view(c, newdirfd, newpath, &to);
	if (times_kept && to.len)
		trace_jobtime_mark(c->t, to.buf, TRACE_TIMES_SET);
	strbuf_release(&to);
}

/*
 * A call that removes or replaces the path it names (unlink, rmdir, both
 * sides of rename): recorded like a stat, and the resolution caches are
 * dropped unless the path is private to the sandbox (a compiler's
 * temporary files in the private /tmp change nothing of the host view).
 * A directory removed or replaced (rmdir, unlinkat(AT_REMOVEDIR), a
 * rename onto it) is also a listing: the call succeeds only when it is
 * empty, so its type and mode alone would let a hit delete the files a
 * user put there since, or replay the ENOTEMPTY of a directory emptied
 * since (found in review, t1130). The source of a rename (@c->copy_up)
 * moves whole, emptiness aside.
 */
static void on_removal(struct call *c, int dirfd, uint64_t addr,
		       struct strbuf *view)
{
	struct res r = RES_INIT;

	c->removes = !c->copy_up;
	if (resolve_arg(c, dirfd, addr, false, false, 0, 0, &r)) {
		trace_record_found(c->t, &r, TRACE_STAT, c->sc);
		if (c->removes && r.status == RES_FOUND && S_ISDIR(r.st.st_mode))
			trace_record_found(c->t, &r, TRACE_LISTING, c->sc);
		check_write_flags(c, &r, true, true);
		if (c->copy_up)
			record_copy_up(c, &r);
		if (r.where != W_INTERNAL)
			trace_forget_resolutions(c->t, r.path.buf);
		if (view)
			strbuf_addbuf(view, &r.path);
	} else if (!c->stale) {
		trace_forget_resolutions(c->t, NULL);
		if (!c->nr_touched)
			note_touched(c, NULL);
	}
	c->create = CREATE_NONE;
	c->copy_up = false;
	c->removes = false;
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
	/* what the fast path never takes (fastpath.h): a write */
	c->write = !!(flags & FP_OPEN_WRITE_FLAGS);
	/* whatever the outcome: the fd it may get (trace-nest.c, held_open()) */
	if (c->t->nest && (flags & O_ACCMODE) != O_RDONLY)
		trace_nest_writer(c->t, c->pid);
	if (flags & O_CREAT)
		c->create = output ? CREATE_TRUNC : CREATE_NEW;
	c->open_mode = (mode_t)mode;
	if (!resolve_arg(c, dirfd, addr, follow, false, resolve, op, &r))
		goto out;
	/* O_TRUNC without write access truncates nothing */
	if (!(flags & O_PATH))
		check_write_flags(c, &r, (flags & O_ACCMODE) != O_RDONLY,
				  (flags & O_CREAT) && r.status == RES_MISSING);
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
			    !trace_output_creation(c->pid, r.hostpath.buf,
						   (mode_t)mode, o))
				o->create = false; /* then only "regular file" holds */
		}
		/*
		 * Its attributes stay. Observed first here (not by a read of
		 * them), none but a label: absent would do as well.
		 */
		bool seen = trace_obs_find(c->t, TRACE_XATTRS, r.hostpath.buf);

		record_copy_up(c, &r);
		o = trace_obs_find(c->t, TRACE_XATTRS, r.hostpath.buf);
		if (o && !seen) {
			struct xattr_set x = XATTR_SET_INIT;

			o->absent_ok = !xattr_read_path(r.hostpath.buf, &x) && !x.nr;
			xattr_set_release(&x);
		}
		c->seen = trace_res_seen(c->t, &r);
		goto out;
	}
	trace_record_found(c->t, &r, kind, c->sc);
	if (c->forget_seen)
		record_copy_up(c, &r);
	c->seen = trace_res_seen(c->t, &r);
	check_record(c, &r);
out:
	if (c->forget_seen)
		trace_forget_seen_path(c->t, r.path.buf);
	c->forget_seen = false;
	trace_res_release(&r);
}

/* An environment has at most this many entries we look at. */
#define EXEC_MAX_ENV 65536

/*
 * The program about to be executed aborts when a preloaded library comes
 * before its sanitizer runtime (DESIGN §3.1 "Compatibility"): take the
 * fast path's library out of the LD_PRELOAD of the environment @envp in
 * the caller's memory, before the kernel copies it. The string keeps its
 * length ("LD_PRELOAD=a" and NULs, or "LD_PRELOAD=" alone), so nothing
 * else moves; the program then runs on the notified path alone.
 */
static void exec_without_preload(struct call *c, uint64_t envp)
{
	static const char lib[] = TRACE_FAST_PRELOAD;
	struct strbuf e = STRBUF_INIT;
	uint64_t i, p;

	for (i = 0; envp && i < EXEC_MAX_ENV; i++) {
		char *at;
		size_t keep;

		if (mem_read(c->pid, envp + i * sizeof(p), &p, sizeof(p)) < 0 || !p)
			break;
		if (mem_read_string(c->pid, p, &e) < 0 || strncmp(e.buf, "LD_PRELOAD=", 11))
			continue;
		at = strstr(e.buf + 11, lib);
		if (!at || (at[sizeof(lib) - 1] && at[sizeof(lib) - 1] != ':' &&
			    at[sizeof(lib) - 1] != ' '))
			continue;
		/* "x:LIB:y" -> "x:y": drop LIB and the separator after it */
		memmove(at, at + sizeof(lib) - 1 + !!at[sizeof(lib) - 1],
			strlen(at + sizeof(lib) - 1 + !!at[sizeof(lib) - 1]) + 1);
		keep = strlen(e.buf);
		while (keep > 11 && (e.buf[keep - 1] == ':' || e.buf[keep - 1] == ' '))
			e.buf[--keep] = 0;
		memset(e.buf + keep, 0, e.len - keep);
		/* /proc/PID/mem: an environment may be a string constant */
		if (still_valid(c) && proc_mem_rw(c->pid, p, e.buf, e.len, true) < 0)
			trace_taint(c->t, "syscall %s: cannot take the fast path's library "
				    "out of LD_PRELOAD", c->sc);
		break;
	}
	strbuf_release(&e);
}

/*
 * Under --nested, an exec of a found regular file starts a candidate
 * execution unit (DESIGN §13.2), named by its argv[0] (@argv: the
 * caller's array).
 */
/* Pointers and strings of an argv or envp read at once (read_strv()). */
#define STRV_BATCH 64
#define STRV_CHUNK 256

/*
 * Up to @max pointers of the array at @addr in @pid, into @out, without
 * reading past the page the first one is on (the array may end right
 * before an unmapped page): how many (at least 1), or -errno.
 */
static int read_ptrs(pid_t pid, uint64_t addr, uint64_t *out, size_t max)
{
	size_t room = (4096 - (addr & 4095)) / sizeof(*out);
	size_t n = room ? (room < max ? room : max) : 1;
	int r = mem_read(pid, addr, out, n * sizeof(*out));

	return r < 0 ? r : (int)n;
}

/*
 * The strings at @ptrs[0..@n) in @pid, appended to *@out: a first chunk
 * of each in one process_vm_readv() (an exec's argv and environment are
 * tens of strings, and a call each was most of a nested exec's cost),
 * the rest of a longer one, or one whose chunk could not be read, by
 * mem_read_string(). False when one cannot be read.
 */
static bool read_strs(pid_t pid, const uint64_t *ptrs, size_t n, char ***out,
		      size_t *nr, size_t *alloc)
{
	static __thread char buf[STRV_BATCH][STRV_CHUNK];
	struct iovec local[STRV_BATCH], remote[STRV_BATCH];
	struct strbuf s = STRBUF_INIT;
	size_t i, done = 0;
	ssize_t got;

	for (i = 0; i < n; i++) {
		size_t room = 4096 - (ptrs[i] & 4095);

		local[i].iov_base = buf[i];
		local[i].iov_len = remote[i].iov_len = room < STRV_CHUNK ? room : STRV_CHUNK;
		remote[i].iov_base = (void *)(uintptr_t)ptrs[i];
	}
	got = process_vm_readv(pid, local, n, remote, n, 0);
	for (i = 0; i < n; i++) {
		const char *nul = NULL;

		if (got > 0 && (size_t)got >= done + local[i].iov_len)
			nul = memchr(buf[i], 0, local[i].iov_len);
		done += local[i].iov_len;
		ALLOC_GROW(*out, *nr + 1, *alloc);
		if (nul) {
			(*out)[(*nr)++] = xstrndup(buf[i], (size_t)(nul - buf[i]));
			continue;
		}
		/*
		 * An argument or variable may be as long as the kernel's
		 * MAX_ARG_STRLEN (32 pages), not PATH_MAX: a `sh -c` script
		 * longer than 4 KiB, or GNU parallel's probe of the longest
		 * command line, was refused (found by the pipeline sweep).
		 */
		if (mem_read_string_max(pid, ptrs[i], &s, 32 * 4096) < 0) {
			strbuf_release(&s);
			return false;
		}
		(*out)[(*nr)++] = strbuf_detach(&s, NULL);
	}
	return true;
}

/* The strings of the NULL-terminated array @addr in the caller; false
 * when it cannot be read whole. */
static bool read_strv(struct call *c, uint64_t addr, char ***out, size_t *nr)
{
	uint64_t ptrs[STRV_BATCH];
	size_t alloc = 0, i = 0;

	*out = NULL;
	*nr = 0;
	while (addr && i < EXEC_MAX_ENV) {
		int n = read_ptrs(c->pid, addr + i * sizeof(*ptrs), ptrs, STRV_BATCH);
		int k;

		if (n < 0)
			return false;
		for (k = 0; k < n && ptrs[k]; k++)
			;
		if (k && !read_strs(c->pid, ptrs, (size_t)k, out, nr, &alloc))
			return false;
		if (k < n)
			return true;	/* its NULL */
		i += (size_t)n;
	}
	return !addr;
}

static void nest_exec(struct call *c, const struct res *r, uint64_t argv, uint64_t envp,
		      bool fexec)
{
	struct trace_nest_exec_args a = { .exe = r->path.buf, .fexec = fexec };
	struct strbuf cwd = STRBUF_INIT;
	char **av = NULL, **ev = NULL;
	size_t i;

	if (r->status != RES_FOUND || !S_ISREG(r->st.st_mode)) {
		trace_nest_exec_reset(c->t);
		return;
	}
	a.incomplete = !read_strv(c, argv, &av, &a.nr_argv) ||
		       !read_strv(c, envp, &ev, &a.nr_env) ||
		       trace_dirfd_path(c->pid, AT_FDCWD, &cwd) < 0;
	a.argv = (const char *const *)av;
	a.env = (const char *const *)ev;
	a.argv0 = a.nr_argv ? av[0] : r->path.buf;
	a.cwd = cwd.buf;
	if (still_valid(c)) {
		trace_nest_exec(c->t, c->pid, &a);
		if (c->req && !fexec) {
			int done = trace_nest_skip(c->t, c->fd, c->req, c->pid);

			if (done > 0)
				c->answered = true;
			else if (done < 0)
				c->stale = true;
		}
	} else {
		trace_nest_exec_reset(c->t);
	}
	for (i = 0; i < a.nr_argv; i++)
		free(av[i]);
	for (i = 0; i < a.nr_env; i++)
		free(ev[i]);
	free(av);
	free(ev);
	strbuf_release(&cwd);
}

static void on_exec(struct call *c, int dirfd, uint64_t addr, bool follow, bool empty_ok,
		    uint64_t argv, uint64_t envp)
{
	struct res r = RES_INIT;
	struct walk w = { .t = c->t, .pid = c->pid, .sc = c->sc, .follow_last = true };

	if (c->t->nest)
		trace_nest_exec_reset(c->t);
	if (!resolve_arg(c, dirfd, addr, follow, empty_ok, 0, 0, &r))
		goto out;
	trace_record_found(c->t, &r, TRACE_CONTENT, c->sc);
	if (trace_record_exec(&w, &r))
		exec_without_preload(c, envp);
	if (c->t->nest)
		nest_exec(c, &r, argv, envp, empty_ok && empty_fd(c, addr));
out:
	trace_res_release(&r);
}

/* An iovec array has at most this many entries (UIO_MAXIOV). */
#define NEST_MAX_IOV 1024

/*
 * Under --nested, a write to fd 1 or 2: the bytes as given, before the
 * kernel writes them, are output of the units whose description it is
 * (DESIGN §13.3). A buffer that cannot be read refuses them.
 */
static void nest_write(struct call *c, int fd, uint64_t addr, uint64_t len, bool vec)
{
	struct iovec iov[NEST_MAX_IOV];
	size_t nr = 1, i;
	char *buf;

	if (vec) {
		nr = (size_t)len;
		if (nr > NEST_MAX_IOV ||
		    (nr && mem_read(c->pid, addr, iov, nr * sizeof(*iov)) < 0)) {
			trace_nest_refuse_output(c->t, c->pid, fd, "an output buffer that cannot be read");
			return;
		}
	} else {
		iov[0].iov_base = (void *)(uintptr_t)addr;
		iov[0].iov_len = (size_t)len;
	}
	for (i = 0; i < nr; i++) {
		size_t n = iov[i].iov_len;

		if (!n)
			continue;
		if (n > ((size_t)1 << 30)) {
			trace_nest_refuse_output(c->t, c->pid, fd, "an output buffer that cannot be read");
			return;
		}
		buf = xmalloc(n);
		if (mem_read(c->pid, (uint64_t)(uintptr_t)iov[i].iov_base, buf, n) < 0) {
			free(buf);
			trace_nest_refuse_output(c->t, c->pid, fd, "an output buffer that cannot be read");
			return;
		}
		trace_nest_output(c->t, c->pid, fd, buf, n);
		free(buf);
	}
}

static void on_getdents(struct call *c, int fd)
{
	struct res r = RES_INIT;
	struct strbuf base = STRBUF_INIT;
	struct walk w = { .t = c->t, .pid = c->pid, .sc = c->sc };

	if (trace_dirfd_path(w.pid, fd, &base) < 0 || base.buf[0] != '/')
		goto out;
	trace_walk_path(&w, base.buf, "", &r);
	note_access(c, &r, NEST_LIST);
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
	/* the caller's units' too (DESIGN §13.3) */
	trace_nest_observe(c->t, c->pid, TRACE_HOSTFACT, name, value, false);
}

static void on_uname(struct call *c)
{
	struct utsname u;

	if (c->t->uname_done && !c->t->nest)
		return;
	c->t->uname_done = true;
	if (uname(&u) < 0) {
		trace_taint(c->t, "syscall uname: %s", strerror(errno));
		return;
	}
/* the nodename is always "localhost" in the sandbox: not a host fact */
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
	    mem_read(c->pid, addr, sun, n) < 0 || !still_valid(c))
		return 0;
	sun->sun_path[sizeof(sun->sun_path) - 1] = 0;
	return n;
}

/* A socket address the job sends to or connects to. */
/*
 * A connect or a send to the address at @addr. Under --nested, the units
 * around the caller are refused when a peer may answer (trace_nest_
 * socket()): not for the kernel's netlink (nl_pid 0: getaddrinfo's route
 * dump), nor for a socket path that is absent (glibc's connect to nscd's
 * socket, in every getpwuid(): it fails, and the walk gave the units its
 * absence).
 */
static void on_sockaddr(struct call *c, uint64_t addr, uint64_t len)
{
	struct sockaddr_un sun;
	struct res r = RES_INIT;
	struct walk w = { .t = c->t, .pid = c->pid, .sc = c->sc, .follow_last = true };
	size_t n = read_sockaddr(c, addr, len, &sun);

	if (!n) {
		if (addr)	/* an address it gave that cannot be read */
			trace_nest_socket(c->t, c->pid);
		return;
	}
	if (sun.sun_family != AF_UNIX) {
		struct sockaddr_nl nl;

		memcpy(&nl, &sun, sizeof(nl));
		if (sun.sun_family != AF_NETLINK || n < sizeof(nl) || nl.nl_pid)
			trace_nest_socket(c->t, c->pid);
		if (c->t->cfg.host_net && sun.sun_family != AF_UNSPEC &&
		    sun.sun_family != AF_NETLINK)
			trace_taint(c->t, "syscall %s: network access", c->sc);
		return;
	}
	if (n <= offsetof(struct sockaddr_un, sun_path) || !sun.sun_path[0]) {
		/* unnamed, or abstract: per network namespace */
		trace_nest_socket(c->t, c->pid);
		if (n > offsetof(struct sockaddr_un, sun_path) && c->t->cfg.host_net)
			trace_taint(c->t, "syscall %s: host abstract unix socket", c->sc);
		return;
	}
	if (trace_walk_from_cwd(&w, sun.sun_path, &r) || r.status != RES_MISSING)
		trace_nest_socket(c->t, c->pid);
	if (r.status == RES_FOUND && r.where == W_HOST) {
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
	struct walk w = { .t = c->t, .pid = c->pid, .sc = c->sc, .create = CREATE_NEW };
	size_t n = read_sockaddr(c, addr, len, &sun);

	/* a name a peer may send to or connect to, but the kernel's netlink */
	if (!n || sun.sun_family != AF_NETLINK)
		trace_nest_socket(c->t, c->pid);
	if (n > offsetof(struct sockaddr_un, sun_path) && sun.sun_family == AF_UNIX &&
	    sun.sun_path[0] && !trace_walk_from_cwd(&w, sun.sun_path, &r)) {
		trace_record_found(c->t, &r, TRACE_STAT, c->sc);
		note_touched(c, &r);
	}
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

		if (mem_read(c->pid, msgp + i * stride, &m, sizeof(m)) < 0 ||
		    !still_valid(c))
			return;
		on_sockaddr(c, (uint64_t)(uintptr_t)m.msg_name, m.msg_namelen);
		/*
		 * Fds passed (SCM_RIGHTS) may include fd 0, whose copy the
		 * receiver could fstat: counted, without reading them
		 * (DESIGN.md §13.3, "Stdin unseen").
		 */
		if (c->t->nest && m.msg_controllen)
			trace_nest_fd0_seen(c->t, c->pid);
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

	if (c->t->nest)
		nest_moved(c, olddirfd, oldpath);
	c->copy_up = true; /* a host file renamed keeps its attributes */
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

/* Calls that may change how a path classifies (besides opens for writing). */
static bool is_writing_call(int nr)
{
	switch (nr) {
	case SYS_creat: case SYS_unlink: case SYS_unlinkat: case SYS_rmdir:
	case SYS_rename: case SYS_renameat: case SYS_renameat2:
	case SYS_mkdir: case SYS_mkdirat: case SYS_mknod: case SYS_mknodat:
	case SYS_symlink: case SYS_symlinkat: case SYS_link: case SYS_linkat:
	case SYS_chmod: case SYS_fchmodat: case SYS_fchmodat2: case SYS_fchmod:
	case SYS_chown: case SYS_lchown: case SYS_fchownat: case SYS_fchown:
	case SYS_truncate: case SYS_utime: case SYS_utimes: case SYS_futimesat:
	case SYS_utimensat: case SYS_bind:
	case SYS_setxattr: case SYS_lsetxattr: case SYS_fsetxattr:
	case SYS_removexattr: case SYS_lremovexattr: case SYS_fremovexattr:
		return true;
	default:
		return false;
	}
}

static void on_notification(struct call *c)
{
	const __u64 *a = c->args;
	int nr = c->nr;
	struct trace *t = c->t;

	if (pc_verbose >= 2)
		debug("trace: pid %u: %s%s", (unsigned)c->pid, c->sc, c->rec ? " (fast)" : "");
	c->write = is_writing_call(nr);
	if (t->nest)
		trace_nest_fd0_call(t, c->pid, nr, a);
	switch (nr) {
	/*
	 * Notified under --nested only when they name fd 0, or always for
	 * poll and its kind (add_nested_rules()): trace_nest_fd0_call()
	 * above is all they need.
	 */
	case SYS_lseek: case SYS_fsync: case SYS_fdatasync: case SYS_syncfs:
	case SYS_ftruncate: case SYS_fallocate: case SYS_fadvise64: case SYS_readahead:
	case SYS_sync_file_range: case SYS_fchdir: case SYS_fstatfs:
	case SYS_accept: case SYS_accept4: case SYS_shutdown:
	case SYS_getsockname: case SYS_getpeername: case SYS_getsockopt: case SYS_setsockopt:
	case SYS_recvfrom: case SYS_recvmsg: case SYS_recvmmsg:
	case SYS_timerfd_settime: case SYS_timerfd_gettime: case SYS_signalfd: case SYS_signalfd4:
	case SYS_epoll_wait: case SYS_epoll_pwait: case SYS_epoll_ctl:
	case SYS_mq_timedsend: case SYS_mq_timedreceive: case SYS_mq_notify: case SYS_mq_getsetattr:
	case SYS_landlock_add_rule: case SYS_mmap: case SYS_poll: case SYS_ppoll: case SYS_select:
	case SYS_pselect6: case SYS_io_submit: case SYS_inotify_rm_watch: case SYS_epoll_pwait2:
	case SYS_process_madvise: case SYS_process_mrelease:
#ifdef SYS_cachestat
	case SYS_cachestat:
#endif
		if (!t->nest)
			goto unexpected;
		break;
	/*
	 * Notified always under --nested: a restriction later execs
	 * inherit (trace-nest.c, restrict_self()).
	 */
	/* naming another process by pid (trace_nest_other_pid) */
	case SYS_setpriority: case SYS_getpriority: case SYS_ioprio_set: case SYS_ioprio_get:
	case SYS_prlimit64: case SYS_sched_setaffinity: case SYS_sched_getaffinity:
	case SYS_sched_setscheduler: case SYS_sched_getscheduler: case SYS_sched_setparam:
	case SYS_sched_getparam: case SYS_sched_setattr: case SYS_sched_getattr:
	case SYS_sched_rr_get_interval: case SYS_migrate_pages:
		if (!t->nest)
			goto unexpected;
		trace_nest_other_process(t, c->pid, nr, a);
		break;
	case SYS_listen:	/* (notified for fd 0 too: one case) */
		if (!t->nest)
			goto unexpected;
		trace_nest_socket(t, c->pid);
		break;
	case SYS_seccomp: case SYS_landlock_restrict_self: case SYS_set_mempolicy:
	/* IPC objects shared by key, id or name: the units are refused */
	case SYS_msgget: case SYS_msgsnd: case SYS_msgrcv: case SYS_msgctl:
	case SYS_semget: case SYS_semop: case SYS_semtimedop: case SYS_semctl:
	case SYS_shmget: case SYS_shmat: case SYS_shmctl:
	case SYS_mq_open: case SYS_mq_unlink:
		if (!t->nest)
			goto unexpected;
		trace_nest_call(t, c->pid, nr, a);
		break;
	/*
	 * Notified always under --nested: another process's fds or memory
	 * (an ancestor's copy of fd 0, what it holds) are not in a unit's
	 * key: the units around the caller are refused.
	 */
	/*
	 * ptrace reaches only the job's own processes: the sandbox's PID
	 * namespace holds nothing else but init, whose capabilities the
	 * job's do not cover (the kernel refuses to attach). What a tracer
	 * sees of its tracees is job state, as with process_vm_readv (PURE):
	 * LeakSanitizer stops the threads of its own process at exit, gdb
	 * and strace run their tracee. Tainting still: a request that would
	 * switch the tracee's seccomp filters off or read them (the
	 * tracer's own filter is not the job's to see), any request under
	 * --untrusted (a tracer can rewrite a path after the supervisor
	 * read it) and under --nested (a unit's exec is held with ptrace by
	 * the supervisor itself).
	 */
	case SYS_ptrace: {
		long req = (long)a[0];
		bool suspend = (req == PTRACE_SETOPTIONS || req == PTRACE_SEIZE) &&
			       (a[3] & PTRACE_O_SUSPEND_SECCOMP);

		if (t->cfg.untrusted || t->nest || suspend ||
		    req == PTRACE_SECCOMP_GET_FILTER || req == PTRACE_SECCOMP_GET_METADATA)
			trace_taint(t, "syscall ptrace%s", suspend ? ": PTRACE_O_SUSPEND_SECCOMP"
				    : req == PTRACE_SECCOMP_GET_FILTER ||
				      req == PTRACE_SECCOMP_GET_METADATA ? ": reads seccomp filters"
				    : t->nest ? " (under --nested)"
				    : " (under --untrusted; LeakSanitizer: ASAN_OPTIONS=detect_leaks=0)");
		break;
	}
	case SYS_kcmp: case SYS_pidfd_getfd: case SYS_process_vm_readv:
	case SYS_process_vm_writev:
		if (!t->nest)
			goto unexpected;
		trace_nest_refuse(t, c->pid, "looks into another process (kcmp, pidfd_getfd, "
				  "process_vm_readv/writev)");
		if (nr == SYS_pidfd_getfd)
			trace_nest_writers_anywhere(t);	/* an fd taken over */
		break;
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
		    mem_read(c->pid, a[2], &how,
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
		on_lookup(c, AT_FDCWD, a[0], true, false, TRACE_STAT);
		break;
	case SYS_statfs:
		/*
		 * Notified under --nested only: its path may lead to fd 0
		 * (/dev/stdin: tmpfs or pipefs), which the walk counts
		 * (step_proc_pid_entry()); what it found is recorded as an
		 * access() is (the free space stays out of the model, §3).
		 */
		if (!t->nest)
			goto unexpected;
		on_lookup(c, AT_FDCWD, a[0], true, false, TRACE_STAT);
		break;
	case SYS_chmod:
	case SYS_chown:
	case SYS_truncate:
		on_lookup_copy_up(c, AT_FDCWD, a[0], true, false);
		break;
	case SYS_readlink:
		on_lookup(c, AT_FDCWD, a[0], false, false, TRACE_STAT);
		break;
	case SYS_lchown:
		on_lookup_copy_up(c, AT_FDCWD, a[0], false, false);
		break;
	case SYS_faccessat:
		on_lookup(c, arg_fd(a[0]), a[1], true, false, TRACE_STAT);
		break;
	case SYS_fchmodat:
		on_lookup_copy_up(c, arg_fd(a[0]), a[1], true, false);
		break;
	case SYS_readlinkat:
		on_lookup(c, arg_fd(a[0]), a[1], false, true, TRACE_STAT);
		break;
	case SYS_faccessat2:
		on_lookup_at(c, a, a[3]);
		break;
	case SYS_fchmodat2:
		c->copy_up = true;
		on_lookup_at(c, a, a[3]);
		break;
	case SYS_fchownat:
		c->copy_up = true;
		on_lookup_at(c, a, a[4]);
		break;
	case SYS_fchmod:
	case SYS_fchown:
		/* notified with the fast path only: a copy-up through an fd */
		note_touched_fd(c, arg_fd(a[0]));
		break;
	/* extended attributes */
	case SYS_getxattr:
	case SYS_listxattr:
		on_xattr(c, AT_FDCWD, a[0], true, false, false);
		break;
	case SYS_lgetxattr:
	case SYS_llistxattr:
		on_xattr(c, AT_FDCWD, a[0], false, false, false);
		break;
	case SYS_fgetxattr:
	case SYS_flistxattr:
		on_xattr(c, arg_fd(a[0]), 0, false, true, false);
		break;
	case SYS_setxattr:
	case SYS_removexattr:
		on_xattr(c, AT_FDCWD, a[0], true, false, true);
		break;
	case SYS_lsetxattr:
	case SYS_lremovexattr:
		on_xattr(c, AT_FDCWD, a[0], false, false, true);
		break;
	case SYS_fsetxattr:
	case SYS_fremovexattr:
		on_xattr(c, arg_fd(a[0]), 0, false, true, true);
		break;
	case SYS_execve:
	case SYS_execveat:
		/* the replayer a redirect set up: no unit, nothing to see */
		if (t->nest && c->req && nest_redirect_is_own(c->req))
			break;
		if (nr == SYS_execveat) {
			on_exec(c, arg_fd(a[0]), a[1], !(a[4] & AT_SYMLINK_NOFOLLOW),
				a[4] & AT_EMPTY_PATH, a[2], a[3]);
			break;
		}
		on_exec(c, AT_FDCWD, a[0], true, false, a[1], a[2]);
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
		on_link(c, AT_FDCWD, a[0], false, false, AT_FDCWD, a[1]);
		break;
	case SYS_linkat:
		on_link(c, arg_fd(a[0]), a[1], a[4] & AT_SYMLINK_FOLLOW, a[4] & AT_EMPTY_PATH,
			arg_fd(a[2]), a[3]);
		break;
	/* sockets (under --nested, what may receive fds from outside the job) */
	case SYS_bind:
		trace_nest_writers_anywhere(t);
		on_bind(c, a[1], a[2]);
		break;
	case SYS_connect:
		trace_nest_writers_anywhere(t);
		on_sockaddr(c, a[1], a[2]);
		break;
	case SYS_sendto:	/* to an address: a peer of its choosing */
		on_sockaddr(c, a[4], a[5]);
		break;
	/* (under --nested, fds it may pass: trace_nest_writers_anywhere()) */
	case SYS_sendmsg:
		trace_nest_writers_anywhere(t);
		trace_nest_socket(t, c->pid);
		on_sendmsg(c, a[1], 1, false);
		break;
	case SYS_sendmmsg:
		trace_nest_writers_anywhere(t);
		trace_nest_socket(t, c->pid);
		on_sendmsg(c, a[1], a[2], true);
		break;
	/*
	 * Signals a job process sends: a death by one of them is the job's
	 * own doing (DESIGN.md §7, "Deaths"). Only job processes are in its
	 * PID namespace, so only they can be the targets.
	 */
	case SYS_kill:
	case SYS_tkill:
	case SYS_pidfd_send_signal:
	case SYS_rt_sigqueueinfo:
		trace_signal_sent(t, (int)a[1]);
		if (t->nest)
			trace_nest_call(t, c->pid, nr, a);
		break;
	case SYS_tgkill:
	case SYS_rt_tgsigqueueinfo:
		trace_signal_sent(t, (int)a[2]);
		if (t->nest)
			trace_nest_call(t, c->pid, nr, a);
		break;
	/*
	 * Notified under --nested only (trace-filter.c, add_nested_rules()):
	 * what execution units need to know (trace-nest.c).
	 */
	case SYS_exit:
	case SYS_exit_group:
		if (t->nest)
			trace_nest_exit(t, c->pid, nr == SYS_exit_group, (int)a[0]);
		break;
	case SYS_write:
	case SYS_writev:
		if (t->nest && ((int)a[0] == 1 || (int)a[0] == 2 ||
				(int)a[0] >= TRACE_NEST_SAVED_FD))
			nest_write(c, (int)a[0], a[1], a[2], nr == SYS_writev);
		else if (t->nest && !(int)a[0])
			trace_nest_refuse_stdin(t, c->pid, 0);
		break;
	case SYS_pwrite64: case SYS_pwritev: case SYS_pwritev2: case SYS_vmsplice:
		if (t->nest)
			trace_nest_refuse_output(t, c->pid, (int)a[0],
						 "writes its output or stdin in a way not captured");
		break;
	case SYS_sendfile: case SYS_splice: case SYS_copy_file_range: case SYS_tee: {
		/* the fds they write to and read from */
		int out = nr == SYS_sendfile ? (int)a[0] : nr == SYS_tee ? (int)a[1] : (int)a[2];
		int in = nr == SYS_sendfile ? (int)a[1] : (int)a[0];

		if (t->nest && (out == 1 || out == 2 || out >= TRACE_NEST_SAVED_FD))
			trace_nest_refuse_output(t, c->pid, out,
						 "writes its output in a way not captured");
		if (t->nest && !in)
			trace_nest_refuse_stdin(t, c->pid, 0);
		break;
	}
	case SYS_read: case SYS_readv: case SYS_pread64: case SYS_preadv:
	case SYS_preadv2:
	case SYS_dup: case SYS_dup2: case SYS_dup3:
	case SYS_fcntl:
	case SYS_flock:
	case SYS_prctl:
		if (t->nest)
			trace_nest_call(t, c->pid, nr, a);
		break;
	/* argument filters: notified only for what they let through */
	case SYS_clone:
		/*
		 * Notified with namespace flags (argument filter), and under
		 * --nested for a process sharing the caller's fd table.
		 */
		if (a[0] & (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
			    CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET))
			trace_taint(t, "syscall clone: namespace flags 0x%llx",
				    (unsigned long long)a[0]);
		if ((a[0] & (CLONE_FILES | CLONE_THREAD)) == CLONE_FILES)
			trace_nest_files_shared(t);
		break;
	case SYS_ioctl:
		/*
		 * Only notified for TIOCSTI/TIOCLINUX and the inode flags
		 * (argument filter); under --nested also on fd 0 and for the
		 * requests that take a second fd (trace_nest_fd0_call() above
		 * counted them).
		 */
		if (trace_fileattr_ioctl(a[1])) {
			/* the flags chattr sets are no precondition (DESIGN §5) */
			trace_taint(t, "syscall ioctl: %s (a file's inode flags) not modelled",
				    trace_fileattr_ioctl(a[1]));
			break;
		}
		if ((a[1] & 0xffffffffu) != TIOCSTI && (a[1] & 0xffffffffu) != TIOCLINUX) {
			if (!t->nest)
				goto unexpected;
			trace_nest_call(t, c->pid, nr, a);	/* FIONBIO */
			break;
		}
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
	default:
	unexpected: {
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
const char *trace_sc_name(int nr)
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

static void call_release(struct call *c)
{
	size_t i;

	for (i = 0; i < c->nr_touched; i++)
		free(c->touched[i]);
}

/* ---------------------------------------------------------------------- */
/* fast-path records */

/* The calls the library records (sandbox/preload/pcfast.c). */
static bool is_fast_call(const struct fp_rec *r)
{
	switch (r->nr) {
	case SYS_openat:
		return !(r->args[2] & FP_OPEN_WRITE_FLAGS);
	case SYS_newfstatat:
	case SYS_statx:
	case SYS_readlink:
	case SYS_readlinkat:
	case SYS_access:
	case SYS_faccessat:
	case SYS_faccessat2:
		return true;
	default:
		return false;
	}
}

static void handle_record(struct trace *t, const struct trace_fast_rec *fr)
{
	struct call c = { .t = t, .fd = -1, .rec = fr, .nr = (int)fr->rec->nr,
			  .args = (const __u64 *)fr->rec->args };

	if (!is_fast_call(fr->rec)) {
		trace_taint(t, "fast path: malformed record");
		return;
	}
	c.sc = trace_sc_name(c.nr);
	t->nr_records++;
	on_notification(&c);
	if (c.seen)
		trace_fast_seen_add(t, fr, t->last_seen_id);
	call_release(&c);
}

void trace_path_skipped(void *ctx, const char *const *paths, size_t nr)
{
	struct trace *t = ctx;
	size_t i;

	pthread_mutex_lock(&t->lock);
	if (!paths) {
		t->path_skipped_unknown = true;
	} else {
		strv_free(t->path_skipped);
		t->path_skipped = xcalloc(nr + 1, sizeof(*t->path_skipped));
		for (i = 0; i < nr; i++)
			t->path_skipped[i] = xstrdup(paths[i]);
	}
	pthread_mutex_unlock(&t->lock);
}

/*
 * At the first notification, with the job's root held: the PATH
 * candidates the job skipped (trace_path_skipped()), each as the record
 * the library makes of a failed exec, a stat that found ENOENT (pcfast.c,
 * w_execve()): walked here, recorded as absent, and the run tainted if
 * the walk now finds one (check_record()). Once tainted, the rest is not
 * walked: the run is uncacheable whatever it would record, and without
 * the job's root a walk could not look at the job's state anyway.
 */
static void record_path_skipped(struct trace *t, pid_t pid)
{
	struct trace_fast_rec fr;
	char **p;

	if (t->path_skipped_unknown || trace_fast_hold_view(t, pid) < 0 ||
	    trace_fast_root(t) < 0) {
		trace_taint(t, "PATH search: the candidates skipped cannot be recorded");
		t->path_skipped_unknown = false;
		goto out;
	}
	for (p = t->path_skipped; p && *p; p++) {
		size_t len = strlen(*p);

		if (len + 3 > FP_DATA_MAX || len > UINT16_MAX) {
			trace_taint(t, "PATH search: a candidate too long to record");
			break;
		}
		memset(&fr, 0, sizeof(fr));
		fr.rec = (struct fp_rec *)fr.buf;
		fr.rec->nr = SYS_newfstatat;
		fr.rec->args[0] = (uint64_t)(int64_t)AT_FDCWD;
		fr.rec->gen = trace_fast_gen(t);
		fr.rec->ret = -ENOENT;
		fr.rec->path_len = (uint16_t)len;
		memcpy(fr.rec->data + 1, *p, len + 1);
		fr.base = fr.rec->data;
		fr.path = fr.rec->data + 1;
		fr.value = fr.path + len + 1;
		handle_record(t, &fr);
	}
out:
	strv_free(t->path_skipped);
	t->path_skipped = NULL;
}

void trace_drain(struct trace *t, bool final)
{
	struct trace_fast_rec fr; /* a slot's copy: 1 KiB */
	size_t n;
	int r;

	if (!t->fast)
		return;
	/*
	 * At most a lap of the ring: every record published before we
	 * started is in it, and producers cannot keep us here forever.
	 */
	for (n = 0; n < FP_NR_SLOTS || final; n++) {
		r = trace_fast_pop(t, &fr, final);
		if (!r)
			break;
		if (r < 0)
			trace_taint(t, "fast path: malformed record");
		else
			handle_record(t, &fr);
	}
}

/*
 * The drainer: records between notified writes. Producers wake it when
 * the channel is a quarter full (fastpath.h); otherwise it looks every
 * DRAIN_EVERY_MS (a wake-up costs both CPUs of a small machine some
 * microseconds: no more often than needed).
 */
#define DRAIN_EVERY_MS 50

static void *drainer_main(void *arg)
{
	struct trace *t = arg;

	while (!atomic_load(&t->drainer_stop)) {
		pthread_mutex_lock(&t->lock);
		trace_drain(t, false);
		pthread_mutex_unlock(&t->lock);
		trace_fast_wait(t, DRAIN_EVERY_MS);
	}
	return NULL;
}

/*
 * With t->lock held, at the first notification (the job's first execve),
 * in two steps: the job's view held while the caller still waits (its
 * pid names it), the thread once it is answered (trace_handle()).
 */
static void drainer_hold_view(struct trace *t, pid_t pid)
{
	int r = trace_fast_hold_view(t, pid);

	if (r < 0)
		debug("fast path: cannot map the channel: %s (every call is notified)",
		     strerror(-r));
}

static void drainer_start(struct trace *t)
{
	if (pthread_create(&t->drainer, NULL, drainer_main, t) == 0)
		t->drainer_started = true;
	else
		trace_taint(t, "fast path: cannot start the drainer thread");
}

void trace_drainer_stop(struct trace *t)
{
	if (!t->drainer_started)
		return;
	atomic_store(&t->drainer_stop, true);
	trace_fast_wake(t);
	pthread_join(t->drainer, NULL);
	t->drainer_started = false;
}

/*
 * A notified write is about to be answered: a record of a call made
 * before it was handled before it (trace_handle()), one in flight is
 * judged by the write log (DESIGN §3.1 "Ordering"). Writes to internal
 * state only (the private /tmp, /dev) change nothing of how a host path
 * classifies.
 */
static void before_write_answer(struct call *c)
{
	struct trace *t = c->t;

	if (!t->fast || !c->write || c->stale || c->error ||
	    (!c->touched_all && !c->touched_host))
		return;
	trace_fast_wrote(t, (const char *const *)c->touched, c->touched_job,
			 c->touched_all ? 0 : c->nr_touched);
}

/*
 * The tracer whose receiver's token (struct trace) this thread holds:
 * kept from one trace_handle() to the next.
 */
static __thread const struct trace *recv_token;

static void recv_take(struct trace *t)
{
	if (recv_token == t)
		return;
	pthread_mutex_lock(&t->recv_lock);
	recv_token = t;
}

static void recv_give(struct trace *t)
{
	recv_token = NULL;
	pthread_mutex_unlock(&t->recv_lock);
}

void trace_recv_release(struct trace *t)
{
	if (recv_token == t)
		recv_give(t);
}

/*
 * After a notification was received: another one already pending goes
 * to another thread of the pool (the token passed on) while this one is
 * handled; otherwise this thread keeps the token, and the next
 * notification waits for it at most as long as the handling of this one
 * takes (rare: they come hundreds of microseconds apart with the fast
 * path, and a thread woken for nothing costs a context switch on the
 * caller's CPU for every notification).
 */
static void recv_pass_if_pending(struct trace *t, int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, 0) == 1 && (p.revents & POLLIN))
		recv_give(t);
}

/*
 * One notification, in one of the sandbox's tracer threads: receive
 * (blocking, holding the receiver's token), record under t->lock,
 * answer. The buffers are on this thread's stack; the kernel's sizes
 * were checked by trace_new().
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
	double t_recv = 0;
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
	recv_take(t);
	r = ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &rq.req) < 0 ? -errno : 0;
	if (r < 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		recv_give(t);

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
	recv_pass_if_pending(t, fd);
	c.pid = (pid_t)rq.req.pid;
	c.nr = rq.req.data.nr;
	c.args = rq.req.data.args;
	if (t->nest) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		t_recv = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	}
	pthread_mutex_lock(&t->lock);
	t->nr_notifications++;
	if ((unsigned)c.nr < ARRAY_SIZE(t->nr_by_call))
		t->nr_by_call[c.nr]++;
	/*
	 * The first notification (the job's execve) starts the drainer
	 * and records the PATH candidates the job skipped: 0.6 to 1 ms
	 * here, done once the call is answered, with t->lock still held.
	 * No call of the job is handled before they are done, and every
	 * call that changes a path is notified: the view they look at is
	 * the one before the call. The view is held now, while the caller
	 * waits: a static program that makes no notified call before it
	 * exits may be gone by then.
	 */
	bool first_drainer = t->fast && !t->drainer_started && !t->drainer_stop &&
			     still_valid(&c);
	bool first_skipped = (t->path_skipped || t->path_skipped_unknown) &&
			     still_valid(&c);

	if (first_drainer)
		drainer_hold_view(t, c.pid);
	if (first_skipped && trace_fast_hold_view(t, c.pid) < 0)
		t->path_skipped_unknown = true;	/* cannot be walked: tainted */
	c.sc = trace_sc_name(c.nr);
	if (rq.req.data.arch != AUDIT_ARCH_X86_64) {
		trace_taint(t, "syscall %d: non-native ABI", c.nr);
		c.error = ENOSYS;
	} else {
		/*
		 * The records of calls made before this one first: against
		 * the view before it, and before it changes what the tracer
		 * keeps (the seen set, the marks on the job's times, which a
		 * rename moves).
		 */
		trace_drain(t, false);
		if (t->nest) {
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			t->nest_t_recv = t_recv;
			t->nest_t_lock = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
			trace_nest_proc(t, c.pid);
			t->nest_pid = c.pid;
		}
		on_notification(&c);
		if (t->nest)
			trace_nest_call_done(t, c.pid);
		t->nest_pid = 0;
		before_write_answer(&c);
	}
	if (!first_drainer && !first_skipped)
		pthread_mutex_unlock(&t->lock);
	call_release(&c);
	r = 0;
	if (!c.stale && !c.answered) {	/* else gone, or answered already */
		memset(&rs, 0, sizeof(rs));
		rs.resp.id = rq.req.id;
		if (c.error) {
			rs.resp.error = -c.error;
		} else if (c.emulated) {
			rs.resp.val = c.val;
		} else {
			rs.resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		}
		r = ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &rs.resp) < 0 ? -errno : 0;
	}
	if (first_drainer || first_skipped) {
		if (first_drainer)
			drainer_start(t);
		if (first_skipped)
			record_path_skipped(t, c.pid);
		pthread_mutex_unlock(&t->lock);
	}
	if (r < 0 && r != -ENOENT) {
		give_up(t, "cannot answer notification", r);
		return r;
	}
	return 0;
}

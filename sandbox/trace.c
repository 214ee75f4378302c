/*
 * The tracer (DESIGN.md §3 and §5): the seccomp filter installed in the job,
 * the user-notification handler run by the supervisor, path resolution as
 * the kernel does it for the job, and the observation records.
 *
 * Every notified call is answered with SECCOMP_USER_NOTIF_FLAG_CONTINUE
 * (or an error for what untrusted mode refuses) after the observation was
 * recorded, so a record describes the state the call is about to see.
 * Nothing here may make the job fail: what cannot be decoded or modelled
 * becomes a taint and the call goes on.
 */
#include "sandbox/trace.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <linux/openat2.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <xxhash.h>

#include "common/strmap.h"
#include "common/filestat.h"
#include "common/cleanup.h"
#include "common/die.h"
#include "common/dirlist.h"
#include "common/path.h"
#include "common/progress.h"
#include "common/xalloc.h"
#include "sandbox/syscalls.h"
#include "common/banned.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS _IOW('!', 4, uint64_t)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif
#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif

/* Room for struct seccomp_notif(_resp) as this kernel sizes them. */
#define TRACE_NOTIF_BUF 512

/* The kernel follows at most 40 symlinks in one lookup (MAXSYMLINKS). */
#define TRACE_MAX_SYMLINKS 40
/* binfmt_script + binfmt_elf nest at most 5 deep (BINPRM_MAX_RECURSION 4). */
#define TRACE_MAX_INTERP_DEPTH 5

struct trace {
	struct trace_config cfg;
	char **private_paths;

	struct trace_obs *obs;
	size_t nr_obs, alloc_obs;
	/* open addressing: index + 1 into obs, 0 = empty; size power of 2 */
	uint32_t *map;
	size_t map_size;

	char **taints;
	size_t nr_taints, alloc_taints;

	/*
	 * Lookups already fully recorded (op, flags, dirfd path, name): a
	 * repeat records nothing new, so it is answered without a walk.
	 * Cleared by every call that removes or renames a path, the only way
	 * the job can change how an already-seen host path resolves.
	 */
	struct strmap seen;
	/*
	 * Job-view directories known to be host directories (not in upper, or
	 * merged there, not opaque): a child's state is then decided by its
	 * own upper entry alone. Only a removal or rename can change that.
	 */
	struct strmap hostdirs;

	/*
	 * Taken by each tracer thread (trace_handle) from receiving a
	 * notification to answering it: everything above and below is
	 * shared. The ioctls that wait stay outside.
	 */
	pthread_mutex_t lock;
	bool notif_sizes_bad; /* the kernel's structs exceed TRACE_NOTIF_BUF */
	bool dead;
	bool uname_done;
};

/* ---------------------------------------------------------------------- */
/* records */

static uint64_t obs_key(enum trace_obs_kind kind, const char *path)
{
	XXH3_state_t *s = NULL;
	unsigned char k = (unsigned char)kind;
	uint64_t h;

	/* small and hot: one-shot over kind then path via a seeded hash */
	(void)s;
	h = XXH3_64bits_withSeed(path, strlen(path), k + 1);
	return h;
}

static void map_insert(struct trace *t, size_t idx);

static void map_grow(struct trace *t)
{
	size_t i;

	free(t->map);
	t->map_size = t->map_size ? t->map_size * 2 : 1024;
	t->map = xcalloc(t->map_size, sizeof(*t->map));
	for (i = 0; i < t->nr_obs; i++)
		map_insert(t, i);
}

static void map_insert(struct trace *t, size_t idx)
{
	const struct trace_obs *o = &t->obs[idx];
	size_t mask = t->map_size - 1;
	size_t pos = obs_key(o->kind, o->path) & mask;

	while (t->map[pos])
		pos = (pos + 1) & mask;
	t->map[pos] = (uint32_t)(idx + 1);
}

static struct trace_obs *obs_find(struct trace *t, enum trace_obs_kind kind,
				  const char *path)
{
	size_t mask, pos;

	if (!t->map_size)
		return NULL;
	mask = t->map_size - 1;
	pos = obs_key(kind, path) & mask;
	while (t->map[pos]) {
		struct trace_obs *o = &t->obs[t->map[pos] - 1];

		if (o->kind == kind && !strcmp(o->path, path))
			return o;
		pos = (pos + 1) & mask;
	}
	return NULL;
}

/* Returns the new record, or NULL when (kind, path) was already recorded. */
static struct trace_obs *obs_add(struct trace *t, enum trace_obs_kind kind,
				 const char *path, const char *sc,
				 const struct stat *st)
{
	struct trace_obs *o;

	if (obs_find(t, kind, path))
		return NULL;
	ALLOC_GROW(t->obs, t->nr_obs + 1, t->alloc_obs);
	o = &t->obs[t->nr_obs++];
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->path = xstrdup(path);
	o->syscall = sc;
	if (st)
		o->st = *st;
	if ((t->nr_obs + 1) * 2 > t->map_size)
		map_grow(t);
	else
		map_insert(t, t->nr_obs - 1);
	return o;
}

/*
 * The job removed or renamed something: how an already-seen path resolves
 * may have changed, so forget what the caches say (see struct trace).
 */
static void forget_resolutions(struct trace *t)
{
	strmap_clear(&t->seen);
	strmap_clear(&t->hostdirs);
}

__attribute__((format(printf, 2, 3)))
static void taint(struct trace *t, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	for (i = 0; i < t->nr_taints; i++) {
		if (!strcmp(t->taints[i], sb.buf)) {
			strbuf_release(&sb);
			return;
		}
	}
	ALLOC_GROW(t->taints, t->nr_taints + 1, t->alloc_taints);
	t->taints[t->nr_taints++] = strbuf_detach(&sb, NULL);
}

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
/* where a path of the job's view lives */

enum where {
	W_HOST,     /* host state: host path in hostpath */
	W_JOB,      /* the job's own state (upper dir, whiteout, opaque, ...) */
	W_INTERNAL, /* private to the sandbox: /dev, /proc/PID, tmpfs /tmp */
};

static bool is_digits(const char *s, size_t len)
{
	size_t i;

	if (!len)
		return false;
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static bool has_prefix(const char *path, const char *prefix)
{
	return path_has_prefix_component(path, prefix);
}

/* /proc/self, /proc/thread-self, /proc/<digits> and below */
static bool is_proc_pid(const char *p)
{
	const char *c, *e;

	if (strncmp(p, "/proc/", 6))
		return false;
	c = p + 6;
	e = strchrnul(c, '/');
	if ((size_t)(e - c) == 4 && !strncmp(c, "self", 4))
		return true;
	if ((size_t)(e - c) == 11 && !strncmp(c, "thread-self", 11))
		return true;
	return is_digits(c, (size_t)(e - c));
}

static bool is_opaque(const char *dir)
{
	char v[4];
	ssize_t n = lgetxattr(dir, "trusted.overlay.opaque", v, sizeof(v));

	if (n == 1 && v[0] == 'y')
		return true;
	n = lgetxattr(dir, "user.overlay.opaque", v, sizeof(v));
	return n == 1 && v[0] == 'y';
}

static const struct sbx_layer *layer_for(const struct trace *t, const char *p)
{
	const struct sbx_layer *best = NULL;
	size_t best_len = 0, i;

	for (i = 0; i < t->cfg.nr_layers; i++) {
		const struct sbx_layer *l = &t->cfg.layers[i];
		size_t len = strlen(l->mountpoint);

		if (has_prefix(p, l->mountpoint) && (!best || len > best_len)) {
			best = l;
			best_len = len;
		}
	}
	return best;
}

/*
 * Classify the job-view path @p (absolute, clean, no symlink resolved in
 * the last component). For W_HOST, *@hostpath is where to look at it in
 * the host.
 */
static enum where where_is(const struct trace *t, const char *p,
			   struct strbuf *hostpath)
{
	const char *slash;
	bool parent_host = false;
	const struct sbx_layer *l;
	const char *rel;
	struct strbuf up = STRBUF_INIT, low = STRBUF_INIT;
	enum where w = W_HOST;
	size_t i;

	strbuf_reset(hostpath);
	if (is_proc_pid(p) || has_prefix(p, "/dev"))
		return W_INTERNAL;
	for (i = 0; i < t->cfg.nr_private_paths; i++)
		if (has_prefix(p, t->private_paths[i]))
			return W_INTERNAL;
	if (has_prefix(p, "/proc") || has_prefix(p, "/sys")) {
		strbuf_addstr(hostpath, p);
		return W_HOST;
	}
	l = layer_for(t, p);
	if (!l) {
		strbuf_addstr(hostpath, p);
		return W_HOST;
	}
	rel = p + strlen(l->mountpoint);
	while (*rel == '/')
		rel++;
	slash = strrchr(p, '/');
	if (slash && slash != p && *rel) {
		struct strbuf parent = STRBUF_INIT;

		strbuf_add(&parent, p, (size_t)(slash - p));
		parent_host = strmap_has(&t->hostdirs, parent.buf);
		strbuf_release(&parent);
	}
	/* walk the upper dir along the path: the first upper entry decides */
	strbuf_addstr(&up, l->upper);
	strbuf_addstr(&low, l->lower);
	if (parent_host && strchr(rel, '/')) {
		/* the parent is a host directory: only the last entry matters */
		const char *lastc = strrchr(rel, '/');

		strbuf_addch(&up, '/');
		strbuf_add(&up, rel, (size_t)(lastc - rel));
		strbuf_addch(&low, '/');
		strbuf_add(&low, rel, (size_t)(lastc - rel));
		rel = lastc + 1;
	}
	while (*rel) {
		const char *e = strchrnul(rel, '/');
		struct stat ust, lst;

		strbuf_addch(&up, '/');
		strbuf_add(&up, rel, (size_t)(e - rel));
		strbuf_addch(&low, '/');
		strbuf_add(&low, rel, (size_t)(e - rel));
		rel = *e ? e + 1 : e;
		if (lstat(up.buf, &ust) < 0)
			break; /* not in upper: host state from here down */
		if (!S_ISDIR(ust.st_mode)) {
			w = W_JOB; /* the job's file, symlink or whiteout */
			break;
		}
		/* a directory in upper: merged (still host state), or the job's */
		if (is_opaque(up.buf) || lstat(low.buf, &lst) < 0 ||
		    !S_ISDIR(lst.st_mode)) {
			w = W_JOB;
			break;
		}
	}
	if (w == W_HOST) {
		strbuf_addstr(hostpath, l->lower);
		rel = p + strlen(l->mountpoint);
		if (*rel && *rel != '/' && hostpath->len && hostpath->buf[hostpath->len - 1] != '/')
			strbuf_addch(hostpath, '/');
		if (hostpath->len > 1 && hostpath->buf[hostpath->len - 1] == '/' && *rel == '/')
			strbuf_setlen(hostpath, hostpath->len - 1);
		strbuf_addstr(hostpath, rel);
		if (!hostpath->len)
			strbuf_addch(hostpath, '/');
	}
	strbuf_release(&up);
	strbuf_release(&low);
	return w;
}

/* The job's view of @p, through /proc/PID/root (for job and internal state). */
static void view_path(pid_t pid, const char *p, struct strbuf *out)
{
	strbuf_reset(out);
	strbuf_addf(out, "/proc/%d/root%s", (int)pid, p);
}

/* ---------------------------------------------------------------------- */
/* resolution */

enum res_status {
	RES_FOUND,   /* st is the object (lstat when the last is not followed) */
	RES_MISSING, /* ENOENT/ENOTDIR; the absent observation is recorded */
	RES_OPAQUE,  /* not a path (pipe, socket, anon inode), or internal
	                state we do not walk into; nothing to record */
	RES_FAILED,  /* could not be modelled; a taint is recorded */
};

struct res {
	enum res_status status;
	enum where where;
	struct strbuf path;     /* job-view path */
	struct strbuf hostpath; /* W_HOST: host path */
	struct stat st;
	struct strbuf key;      /* for the seen set (resolve_arg with an op) */
};

#define RES_INIT { .path = STRBUF_INIT, .hostpath = STRBUF_INIT, .key = STRBUF_INIT }

static void res_release(struct res *r)
{
	strbuf_release(&r->path);
	strbuf_release(&r->hostpath);
	strbuf_release(&r->key);
}

/* Remember a lookup whose records are complete (host state only). */
static void res_seen(struct trace *t, const struct res *r)
{
	if (r->key.len && r->where == W_HOST &&
	    (r->status == RES_FOUND || r->status == RES_MISSING))
		strmap_add(&t->seen, r->key.buf);
}

struct walk {
	struct trace *t;
	pid_t pid;
	const char *sc;
	bool follow_last;
	uint64_t resolve; /* openat2 RESOLVE_* */
	enum create_kind {
		CREATE_NONE,
		CREATE_NEW,   /* the call creates the last component if missing */
		CREATE_TRUNC, /* ... and its result does not depend on what was
		                 there before when it is a regular file */
	} create;
	mode_t open_mode; /* CREATE_TRUNC: the mode argument of the open */
};

/*
 * What creating a file gives, for an output observation (trace.h): the
 * open's mode less the process's umask, its fsuid, and its fsgid or the
 * directory's group when the directory is set-group-id. Read from
 * /proc/PID/status, whose ids are shown in the supervisor's (host) terms.
 * Returns false when the process is gone or the file unreadable.
 */
static bool output_creation(pid_t pid, const char *path, mode_t open_mode,
			    struct trace_obs *o)
{
	char name[64], line[256];
	unsigned long umask_v = 0, fs = 0, ids[4];
	bool have_umask = false, have_uid = false, have_gid = false;
	FILE *f;

	snprintf(name, sizeof(name), "/proc/%d/status", (int)pid);
	f = fopen(name, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Umask: %lo", &umask_v) == 1)
			have_umask = true;
		else if (sscanf(line, "Uid: %lu %lu %lu %lu", &ids[0], &ids[1],
				&ids[2], &ids[3]) == 4)
			o->create_uid = (uid_t)ids[3], have_uid = true;
		else if (sscanf(line, "Gid: %lu %lu %lu %lu", &ids[0], &ids[1],
				&ids[2], &ids[3]) == 4)
			fs = ids[3], have_gid = true;
	}
	fclose(f);
	if (!have_umask || !have_uid || !have_gid)
		return false;

	struct strbuf parent = STRBUF_INIT;
	const char *sl = strrchr(path, '/');
	strbuf_add(&parent, path, sl && sl != path ? (size_t)(sl - path) : 1);
	bool ok = lstat(parent.buf, &o->parent) == 0 && S_ISDIR(o->parent.st_mode);
	strbuf_release(&parent);
	if (!ok)
		return false;
	o->create = true;
	o->create_mode = open_mode & ~(mode_t)umask_v & 07777;
	o->create_gid = (o->parent.st_mode & S_ISGID) ? o->parent.st_gid : (gid_t)fs;
	return true;
}

static int readlink_sb(const char *path, struct strbuf *out)
{
	char buf[PATH_MAX + 1];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (n < 0)
		return -errno;
	strbuf_reset(out);
	strbuf_add(out, buf, (size_t)n);
	return 0;
}

/* The directory a dirfd (or AT_FDCWD) of @pid names, in the job's view. */
static int dirfd_path(pid_t pid, int dirfd, struct strbuf *out)
{
	char link[64];

	if (dirfd == AT_FDCWD)
		snprintf(link, sizeof(link), "/proc/%d/cwd", (int)pid);
	else
		snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, dirfd);
	return readlink_sb(link, out);
}

static void pop_component(struct strbuf *path)
{
	char *s = strrchr(path->buf, '/');

	if (!s || s == path->buf)
		strbuf_setlen(path, 1); /* "/" */
	else
		strbuf_setlen(path, (size_t)(s - path->buf));
}

static void record_always_changing(struct trace *t, const char *p, const char *sc);

/*
 * Whether @digits is @pid's own pid as seen in its innermost PID namespace
 * (the last NSpid field of /proc/PID/status): /proc/$$/fd/N in a script.
 */
static bool is_own_ns_pid(pid_t pid, const char *digits)
{
	struct strbuf sb = STRBUF_INIT;
	char path[64];
	const char *line;
	bool ret = false;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (strbuf_read_file_at(&sb, AT_FDCWD, path, 2048) < 0)
		goto out;
	line = strstr(sb.buf, "\nNSpid:");
	if (line) {
		const char *end = strchrnul(line + 1, '\n');
		const char *last = end;

		while (last > line && (last[-1] >= '0' && last[-1] <= '9'))
			last--;
		ret = (size_t)(end - last) == strlen(digits) &&
		      !strncmp(last, digits, (size_t)(end - last));
	}
out:
	strbuf_release(&sb);
	return ret;
}

/*
 * Resolve @name (relative to the job-view directory @base) as the kernel
 * does for the job, recording every host symlink met and a host component
 * found missing.
 */
static void walk_path(const struct walk *w, const char *base, const char *name,
		      struct res *r)
{
	struct trace *t = w->t;
	struct strbuf rest = STRBUF_INIT, tmp = STRBUF_INIT, view = STRBUF_INIT;
	const char *root = "/";
	int links = 0;
	bool walked = false;

	strbuf_reset(&r->path);
	if (w->resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT))
		root = base;
	if (name[0] == '/' && !(w->resolve & RESOLVE_IN_ROOT)) {
		if (w->resolve & RESOLVE_BENEATH) {
			r->status = RES_OPAQUE; /* the kernel refuses: EXDEV */
			goto out;
		}
		strbuf_addch(&r->path, '/');
	} else {
		strbuf_addstr(&r->path, base);
	}
	strbuf_addstr(&rest, name);

	for (;;) {
		const char *c = rest.buf;
		const char *e;
		size_t clen;
		bool last;
		enum where wh;
		int err = 0;

		while (*c == '/')
			c++;
		if (!*c)
			break;
		e = strchrnul(c, '/');
		clen = (size_t)(e - c);
		last = true;
		for (const char *q = e; *q; q++)
			if (*q != '/') {
				last = false;
				break;
			}
		strbuf_reset(&tmp);
		strbuf_add(&tmp, c, clen);
		/* shift rest */
		{
			size_t off = (size_t)(e - rest.buf);

			memmove(rest.buf, rest.buf + off, rest.len - off + 1);
			strbuf_setlen(&rest, rest.len - off);
		}
		if (!strcmp(tmp.buf, "."))
			continue;
		if (!strcmp(tmp.buf, "..")) {
			if ((w->resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)) &&
			    !strcmp(r->path.buf, root)) {
				if (w->resolve & RESOLVE_BENEATH) {
					r->status = RES_OPAQUE;
					goto out;
				}
				continue; /* IN_ROOT: ".." of the root is the root */
			}
			pop_component(&r->path);
			continue;
		}
		walked = true;

		/* /proc/<pid>: the sandbox's own processes, never host state */
		if (!strcmp(r->path.buf, "/proc") &&
		    (!strcmp(tmp.buf, "self") || !strcmp(tmp.buf, "thread-self") ||
		     is_digits(tmp.buf, tmp.len))) {
			strbuf_addch(&r->path, '/');
			strbuf_addbuf(&r->path, &tmp);
			r->where = W_INTERNAL;
			if (last) {
				r->status = RES_OPAQUE;
				goto out;
			}
			continue;
		}
		/* /proc/self/fd/N and friends are magic links: follow the fd */
		if (is_proc_pid(r->path.buf) && !strchr(r->path.buf + 6, '/')) {
			const char *pidc = r->path.buf + 6;
			bool self = !strcmp(pidc, "self") || !strcmp(pidc, "thread-self");

			if (!strcmp(tmp.buf, "fd") || !strcmp(tmp.buf, "cwd") ||
			    !strcmp(tmp.buf, "root") || !strcmp(tmp.buf, "exe")) {
				char link[96];
				struct strbuf target = STRBUF_INIT;

				if (!self)
					self = is_own_ns_pid(w->pid, pidc);
				if (!self) {
					/* NEEDSWORK: map other sandbox pids to host pids */
					taint(t, "syscall %s: path through /proc/%s/%s not modelled",
					      w->sc, pidc, tmp.buf);
					r->status = RES_FAILED;
					goto out;
				}
				if (!strcmp(tmp.buf, "fd")) {
					const char *c2 = rest.buf, *e2;

					while (*c2 == '/')
						c2++;
					e2 = strchrnul(c2, '/');
					if (!is_digits(c2, (size_t)(e2 - c2))) {
						r->status = RES_OPAQUE;
						goto out;
					}
					snprintf(link, sizeof(link), "/proc/%d/fd/%.*s",
						 (int)w->pid, (int)(e2 - c2), c2);
					memmove(rest.buf, e2, strlen(e2) + 1);
					strbuf_setlen(&rest, strlen(rest.buf));
				} else {
					snprintf(link, sizeof(link), "/proc/%d/%s",
						 (int)w->pid, tmp.buf);
				}
				if ((w->resolve & RESOLVE_NO_MAGICLINKS) ||
				    readlink_sb(link, &target) < 0 || target.buf[0] != '/') {
					strbuf_release(&target);
					r->status = RES_OPAQUE;
					goto out;
				}
				/* the fd's object: continue from its path */
				strbuf_setlen(&r->path, 1);
				strbuf_addbuf(&target, &rest);
				strbuf_reset(&rest);
				strbuf_addbuf(&rest, &target);
				strbuf_release(&target);
				walked = false;
				continue;
			}
			r->status = RES_OPAQUE; /* /proc/<pid>/status and such */
			goto out;
		}

		if (r->path.len > 1)
			strbuf_addch(&r->path, '/');
		strbuf_addbuf(&r->path, &tmp);

		wh = where_is(t, r->path.buf, &r->hostpath);
		r->where = wh;
		if (wh == W_HOST) {
			if (lstat(r->hostpath.buf, &r->st) < 0)
				err = errno;
		} else {
			view_path(w->pid, r->path.buf, &view);
			if (lstat(view.buf, &r->st) < 0)
				err = errno;
		}
		if (err == ENOENT || err == ENOTDIR) {
			if (wh == W_HOST && last && err == ENOENT && w->create == CREATE_TRUNC) {
				/*
				 * An output (O_CREAT|O_TRUNC) created here: what
				 * matters is what creating it gives, in which
				 * directory (trace.h, TRACE_OUTPUT).
				 */
				struct trace_obs *o;

				if (!obs_find(t, TRACE_OUTPUT, r->hostpath.buf)) {
					o = obs_add(t, TRACE_OUTPUT, r->hostpath.buf, w->sc, NULL);
					if (!output_creation(w->pid, r->hostpath.buf,
							     w->open_mode, o))
						taint(t, "syscall %s: cannot tell how %s would be created",
						      w->sc, r->hostpath.buf);
				}
			} else if (wh == W_HOST && last && err == ENOENT && w->create != CREATE_NONE) {
				/*
				 * A creating call succeeds only in an existing
				 * directory: that is observed too (an absent file
				 * says nothing about its parent).
				 */
				struct strbuf parent = STRBUF_INIT;
				struct stat pst;
				char *sl = strrchr(r->hostpath.buf, '/');

				strbuf_add(&parent, r->hostpath.buf,
					   sl && sl != r->hostpath.buf ? (size_t)(sl - r->hostpath.buf) : 1);
				if (!lstat(parent.buf, &pst))
					obs_add(t, TRACE_STAT, parent.buf, w->sc, &pst);
				strbuf_release(&parent);
			}
			if (wh == W_HOST && !(last && err == ENOENT && w->create == CREATE_TRUNC)) {
				record_always_changing(t, r->hostpath.buf, w->sc);
				obs_add(t, TRACE_ABSENT, r->hostpath.buf, w->sc, NULL);
			}
			r->status = RES_MISSING;
			goto out;
		}
		if (err) {
			if (wh == W_HOST) {
				taint(t, "syscall %s: cannot examine %s: %s", w->sc,
				      r->hostpath.buf, strerror(err));
				r->status = RES_FAILED;
			} else {
				r->status = RES_OPAQUE;
			}
			goto out;
		}
		if (wh == W_HOST && S_ISDIR(r->st.st_mode) && !last)
			strmap_add(&t->hostdirs, r->path.buf);
		if (S_ISLNK(r->st.st_mode) && (!last || w->follow_last)) {
			struct strbuf target = STRBUF_INIT;
			int rr = readlink_sb(wh == W_HOST ? r->hostpath.buf : view.buf, &target);

			if (rr < 0) {
				strbuf_release(&target);
				if (wh == W_HOST) {
					taint(t, "syscall %s: cannot read symlink %s", w->sc,
					      r->hostpath.buf);
					r->status = RES_FAILED;
				} else {
					r->status = RES_OPAQUE;
				}
				goto out;
			}
			if (wh == W_HOST) {
				struct trace_obs *o = obs_add(t, TRACE_SYMLINK, r->hostpath.buf,
							      w->sc, &r->st);
				if (o)
					o->value = xstrdup(target.buf);
			}
			if ((w->resolve & RESOLVE_NO_SYMLINKS) || ++links > TRACE_MAX_SYMLINKS) {
				strbuf_release(&target);
				r->status = RES_OPAQUE; /* the call fails with ELOOP */
				goto out;
			}
			pop_component(&r->path);
			if (target.buf[0] == '/') {
				if (w->resolve & RESOLVE_BENEATH) {
					strbuf_release(&target);
					r->status = RES_OPAQUE;
					goto out;
				}
				strbuf_reset(&r->path);
				strbuf_addstr(&r->path, w->resolve & RESOLVE_IN_ROOT ? root : "/");
			}
			strbuf_addch(&target, '/');
			strbuf_addbuf(&target, &rest);
			strbuf_reset(&rest);
			strbuf_addbuf(&rest, &target);
			strbuf_release(&target);
			continue;
		}
		if (!last && !S_ISDIR(r->st.st_mode)) {
			/* the next lookup fails with ENOTDIR */
			if (wh == W_HOST) {
				const char *c2 = rest.buf, *e2;

				while (*c2 == '/')
					c2++;
				e2 = strchrnul(c2, '/');
				strbuf_addch(&r->hostpath, '/');
				strbuf_add(&r->hostpath, c2, (size_t)(e2 - c2));
				obs_add(t, TRACE_ABSENT, r->hostpath.buf, w->sc, NULL);
			}
			r->status = RES_MISSING;
			goto out;
		}
	}
	if (!walked) {
		/* the base itself ("/", ".", AT_EMPTY_PATH, /proc/self/fd/N) */
		int err = 0;

		if (!r->path.len)
			strbuf_addch(&r->path, '/');
		r->where = where_is(t, r->path.buf, &r->hostpath);
		if (r->where == W_HOST) {
			if (lstat(r->hostpath.buf, &r->st) < 0)
				err = errno;
		} else {
			view_path(w->pid, r->path.buf, &view);
			if (lstat(view.buf, &r->st) < 0)
				err = errno;
		}
		if (err) {
			r->status = RES_OPAQUE; /* deleted file or directory */
			goto out;
		}
	}
	r->status = RES_FOUND;
out:
	strbuf_release(&rest);
	strbuf_release(&tmp);
	strbuf_release(&view);
}

/* ---------------------------------------------------------------------- */
/* observations of a resolved path */

static const char *const always_changing[] = {
	"/proc/meminfo", "/proc/stat", "/proc/uptime", "/proc/loadavg",
	"/proc/interrupts", "/proc/vmstat", "/proc/diskstats", "/proc/net",
	"/proc/pressure", "/proc/softirqs", "/proc/schedstat",
	"/proc/zoneinfo", "/proc/slabinfo", "/proc/buddyinfo",
	"/proc/sys/kernel/random", "/proc/locks", "/sys/fs/cgroup",
};

static bool is_always_changing(const char *p)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(always_changing); i++)
		if (has_prefix(p, always_changing[i]))
			return true;
	return false;
}

static void record_always_changing(struct trace *t, const char *p, const char *sc)
{
	if (is_always_changing(p))
		taint(t, "syscall %s: reads always-changing host file %s", sc, p);
}

static bool is_pseudo(const char *p)
{
	return has_prefix(p, "/proc") || has_prefix(p, "/sys");
}

/* A found host object named by a call that looks at it. */
static void record_found(struct trace *t, const struct res *r,
			 enum trace_obs_kind kind, const char *sc)
{
	struct trace_obs *o;

	if (r->status != RES_FOUND || r->where != W_HOST)
		return;
	if (is_always_changing(r->hostpath.buf)) {
		taint(t, "syscall %s: reads always-changing host file %s", sc,
		      r->hostpath.buf);
		return;
	}
	if (S_ISLNK(r->st.st_mode)) {
		struct strbuf target = STRBUF_INIT;

		if (obs_find(t, TRACE_SYMLINK, r->hostpath.buf))
			return;
		if (readlink_sb(r->hostpath.buf, &target) < 0) {
			taint(t, "syscall %s: cannot read symlink %s", sc, r->hostpath.buf);
		} else {
			o = obs_add(t, TRACE_SYMLINK, r->hostpath.buf, sc, &r->st);
			o->value = strbuf_detach(&target, NULL);
		}
		strbuf_release(&target);
		return;
	}
	if (kind == TRACE_CONTENT && !S_ISREG(r->st.st_mode)) {
		if (S_ISDIR(r->st.st_mode)) {
			kind = TRACE_STAT;
		} else {
			taint(t, "syscall %s: opens host special file %s", sc,
			      r->hostpath.buf);
			return;
		}
	}
	if (kind == TRACE_LISTING) {
		struct pc_hash h;
		size_t n = 0;
		int err;

		if (!S_ISDIR(r->st.st_mode))
			return;
		if (obs_find(t, TRACE_LISTING, r->hostpath.buf))
			return;
		err = dirlist_hash_at(AT_FDCWD, r->hostpath.buf, &h, &n);
		if (err < 0) {
			taint(t, "syscall %s: cannot list %s: %s", sc, r->hostpath.buf,
			      strerror(-err));
			return;
		}
		o = obs_add(t, TRACE_LISTING, r->hostpath.buf, sc, &r->st);
		o->hash = h;
		o->hashed = true;
		o->nr_entries = n;
		return;
	}
	/* content implies stat: a file read also had its existence checked */
	if (kind == TRACE_STAT && obs_find(t, TRACE_CONTENT, r->hostpath.buf))
		return;
	obs_add(t, kind, r->hostpath.buf, sc, &r->st);
}

/* ---------------------------------------------------------------------- */
/* execve: the binary, its PT_INTERP and #! interpreters */

static void record_exec_chain(const struct walk *w, const struct res *r, int depth);

static void exec_interp(const struct walk *w, const char *interp, int depth)
{
	struct walk iw = *w;
	struct res ir = RES_INIT;
	struct strbuf cwd = STRBUF_INIT;

	iw.follow_last = true;
	iw.resolve = 0;
	if (interp[0] != '/' && dirfd_path(w->pid, AT_FDCWD, &cwd) < 0) {
		taint(w->t, "syscall %s: cannot read cwd of %d", w->sc, (int)w->pid);
		goto out;
	}
	walk_path(&iw, cwd.len ? cwd.buf : "/", interp, &ir);
	if (ir.status == RES_FOUND) {
		record_found(w->t, &ir, TRACE_CONTENT, w->sc);
		record_exec_chain(w, &ir, depth + 1);
	}
out:
	strbuf_release(&cwd);
	res_release(&ir);
}

static void record_exec_chain(const struct walk *w, const struct res *r, int depth)
{
	struct strbuf view = STRBUF_INIT;
	const char *file;
	unsigned char buf[256];
	_cleanup_close_ int fd = -1;
	ssize_t n;

	if (r->status != RES_FOUND || !S_ISREG(r->st.st_mode))
		return;
	if (depth >= TRACE_MAX_INTERP_DEPTH)
		return; /* the kernel gives ELOOP */
	if (r->where == W_HOST) {
		file = r->hostpath.buf;
	} else {
		view_path(w->pid, r->path.buf, &view);
		file = view.buf;
	}
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		goto out;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n < 2)
		goto out;
	buf[n] = 0;
	if (buf[0] == '#' && buf[1] == '!') {
		/* binfmt_script: the interpreter is the first word after #! */
		char *p = (char *)buf + 2, *end;

		while (*p == ' ' || *p == '\t')
			p++;
		end = p;
		while (*end && *end != ' ' && *end != '\t' && *end != '\n')
			end++;
		if (end == p)
			goto out;
		*end = 0;
		exec_interp(w, p, depth);
	} else if (n >= (ssize_t)sizeof(Elf64_Ehdr) && !memcmp(buf, ELFMAG, SELFMAG) &&
		   buf[EI_CLASS] == ELFCLASS64) {
		Elf64_Ehdr eh;
		int i;

		memcpy(&eh, buf, sizeof(eh));
		if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 512)
			goto out;
		for (i = 0; i < eh.e_phnum; i++) {
			Elf64_Phdr ph;
			char interp[PATH_MAX];

			if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)i * sizeof(ph))) !=
			    (ssize_t)sizeof(ph))
				break;
			if (ph.p_type != PT_INTERP)
				continue;
			if (ph.p_filesz < 2 || ph.p_filesz > sizeof(interp) ||
			    pread(fd, interp, ph.p_filesz, (off_t)ph.p_offset) != (ssize_t)ph.p_filesz ||
			    interp[ph.p_filesz - 1]) {
				taint(w->t, "syscall %s: cannot read PT_INTERP of %s", w->sc,
				      r->path.buf);
				break;
			}
			exec_interp(w, interp, depth);
			break;
		}
	} else if (n >= 5 && !memcmp(buf, ELFMAG, SELFMAG)) {
		taint(w->t, "syscall %s: non-64-bit ELF %s", w->sc, r->path.buf);
	}
out:
	strbuf_release(&view);
}

/* ---------------------------------------------------------------------- */
/* the handler */

struct call {
	struct trace *t;
	int fd;
	struct seccomp_notif *req;
	const char *sc; /* static name */
	bool stale;     /* the notification went away while we read */
	enum create_kind create; /* for the next resolve_arg() */
	mode_t open_mode;        /* for the next resolve_arg(): open's mode */
	int error;      /* answer with this errno instead of CONTINUE */
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
			taint(c->t, "syscall %s: cannot read path argument: %s", c->sc,
			      strerror(-r));
		return false; /* EFAULT / ENAMETOOLONG: the call fails too */
	}
	return true;
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
		int err = dirfd_path(w.pid, dirfd, &base);

		if (err < 0 || base.buf[0] != '/') {
			/* EBADF, or an fd that is not a path (pipe, socket) */
			if (err < 0 && err != -ENOENT && still_valid(c))
				taint(c->t, "syscall %s: cannot resolve fd %d of %d: %s",
				      c->sc, dirfd, w.pid, strerror(-err));
			goto out;
		}
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
	walk_path(&w, base.len ? base.buf : "/", name.buf, r);
	ok = true;
out:
	strbuf_release(&name);
	strbuf_release(&base);
	return ok;
}

static void on_lookup(struct call *c, int dirfd, uint64_t addr, bool follow,
		      bool empty_ok, enum trace_obs_kind kind)
{
	struct res r = RES_INIT;

	if (resolve_arg(c, dirfd, addr, follow, empty_ok, 0, 'a' + (char)kind, &r)) {
		record_found(c->t, &r, kind, c->sc);
		res_seen(c->t, &r);
	}
	res_release(&r);
}

/* A path the call creates when missing (mkdir, symlink, link, bind...). */
static void on_create(struct call *c, int dirfd, uint64_t addr)
{
	c->create = CREATE_NEW;
	on_lookup(c, dirfd, addr, false, false, TRACE_STAT);
	c->create = CREATE_NONE;
}

/*
 * A call that removes or replaces the path it names (unlink, rmdir, both
 * sides of rename): recorded like a stat, and the resolution caches are
 * dropped unless the path is private to the sandbox (a compiler's
 * temporary files in the private /tmp change nothing of the host view).
 */
static void on_removal(struct call *c, int dirfd, uint64_t addr)
{
	struct res r = RES_INIT;

	if (resolve_arg(c, dirfd, addr, false, false, 0, 0, &r)) {
		record_found(c->t, &r, TRACE_STAT, c->sc);
		if (r.where != W_INTERNAL)
			forget_resolutions(c->t);
	} else if (!c->stale) {
		forget_resolutions(c->t);
	}
	c->create = CREATE_NONE;
	res_release(&r);
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
	if ((flags & O_PATH) || (flags & __O_TMPFILE) == __O_TMPFILE ||
	    (flags & O_TRUNC) || ((flags & O_CREAT) && (flags & O_EXCL)))
		kind = TRACE_STAT;
	else
		kind = TRACE_CONTENT;
	if ((flags & O_TRUNC) && (flags & O_ACCMODE) == O_RDONLY)
		kind = TRACE_CONTENT; /* O_TRUNC is ignored without write access */
	if (output && r.status == RES_FOUND && r.where == W_HOST &&
	    S_ISREG(r.st.st_mode) && !is_always_changing(r.hostpath.buf)) {
		/* Truncated: its bytes do not matter (trace.h, TRACE_OUTPUT). */
		struct trace_obs *o;

		if (!obs_find(c->t, TRACE_OUTPUT, r.hostpath.buf)) {
			o = obs_add(c->t, TRACE_OUTPUT, r.hostpath.buf, c->sc, &r.st);
			if ((flags & O_CREAT) &&
			    !output_creation((pid_t)c->req->pid, r.hostpath.buf,
					     (mode_t)mode, o))
				o->create = false; /* then only "regular file" holds */
		}
		res_seen(c->t, &r);
		goto out;
	}
	record_found(c->t, &r, kind, c->sc);
	res_seen(c->t, &r);
out:
	res_release(&r);
}

static void on_exec(struct call *c, int dirfd, uint64_t addr, bool follow, bool empty_ok)
{
	struct res r = RES_INIT;
	struct walk w = { .t = c->t, .pid = (pid_t)c->req->pid, .sc = c->sc,
			  .follow_last = true };

	if (!resolve_arg(c, dirfd, addr, follow, empty_ok, 0, 0, &r))
		goto out;
	record_found(c->t, &r, TRACE_CONTENT, c->sc);
	record_exec_chain(&w, &r, 0);
out:
	res_release(&r);
}

static void on_getdents(struct call *c, int fd)
{
	struct res r = RES_INIT;
	struct strbuf base = STRBUF_INIT;
	struct walk w = { .t = c->t, .pid = (pid_t)c->req->pid, .sc = c->sc };

	if (dirfd_path(w.pid, fd, &base) < 0 || base.buf[0] != '/')
		goto out;
	walk_path(&w, base.buf, "", &r);
	record_found(c->t, &r, TRACE_LISTING, c->sc);
out:
	strbuf_release(&base);
	res_release(&r);
}

static void on_uname(struct call *c)
{
	struct utsname u;
	struct trace_obs *o;

	if (c->t->uname_done)
		return;
	c->t->uname_done = true;
	if (uname(&u) < 0) {
		taint(c->t, "syscall uname: %s", strerror(errno));
		return;
	}
	/* the nodename is always "procache" in the sandbox: not a host fact */
	o = obs_add(c->t, TRACE_HOSTFACT, "uname.sysname", c->sc, NULL);
	if (o)
		o->value = xstrdup(u.sysname);
	o = obs_add(c->t, TRACE_HOSTFACT, "uname.release", c->sc, NULL);
	if (o)
		o->value = xstrdup(u.release);
	o = obs_add(c->t, TRACE_HOSTFACT, "uname.version", c->sc, NULL);
	if (o)
		o->value = xstrdup(u.version);
	o = obs_add(c->t, TRACE_HOSTFACT, "uname.machine", c->sc, NULL);
	if (o)
		o->value = xstrdup(u.machine);
	o = obs_add(c->t, TRACE_HOSTFACT, "uname.domainname", c->sc, NULL);
	if (o)
		o->value = xstrdup(u.domainname);
}

/* A socket address the job sends to or connects to. */
static void on_sockaddr(struct call *c, uint64_t addr, uint64_t len)
{
	struct sockaddr_un sun;
	struct res r = RES_INIT;
	struct strbuf cwd = STRBUF_INIT;
	struct walk w = { .t = c->t, .pid = (pid_t)c->req->pid, .sc = c->sc,
			  .follow_last = true };
	size_t n;

	if (!addr || len < sizeof(sa_family_t))
		return;
	n = len < sizeof(sun) ? (size_t)len : sizeof(sun);
	memset(&sun, 0, sizeof(sun));
	if (mem_read(w.pid, addr, &sun, n) < 0 || !still_valid(c))
		return;
	if (sun.sun_family != AF_UNIX) {
		if (c->t->cfg.host_net && sun.sun_family != AF_UNSPEC &&
		    sun.sun_family != AF_NETLINK)
			taint(c->t, "syscall %s: network access", c->sc);
		return;
	}
	if (n <= offsetof(struct sockaddr_un, sun_path))
		return; /* unnamed */
	if (!sun.sun_path[0]) {
		/* abstract: per network namespace */
		if (c->t->cfg.host_net)
			taint(c->t, "syscall %s: host abstract unix socket", c->sc);
		return;
	}
	sun.sun_path[sizeof(sun.sun_path) - 1] = 0;
	if (sun.sun_path[0] != '/' && dirfd_path(w.pid, AT_FDCWD, &cwd) < 0)
		goto out;
	walk_path(&w, cwd.len ? cwd.buf : "/", sun.sun_path, &r);
	if (r.status == RES_FOUND && r.where == W_HOST) {
		taint(c->t, "syscall %s: host unix socket %s", c->sc, r.hostpath.buf);
		if (c->t->cfg.untrusted)
			c->error = EACCES;
	}
out:
	strbuf_release(&cwd);
	res_release(&r);
}

static void on_sendmsg(struct call *c, uint64_t msgp, uint64_t vlen, bool mmsg)
{
	uint64_t i, n = mmsg ? (vlen > 1024 ? 1024 : vlen) : 1;
	size_t stride = mmsg ? sizeof(struct mmsghdr) : sizeof(struct msghdr);

	for (i = 0; i < n && !c->stale && !c->error; i++) {
		struct msghdr m;

		if (mem_read((pid_t)c->req->pid, msgp + i * stride, &m, sizeof(m)) < 0 ||
		    !still_valid(c))
			return;
		on_sockaddr(c, (uint64_t)(uintptr_t)m.msg_name, m.msg_namelen);
	}
}

static void on_notification(struct call *c)
{
	const __u64 *a = c->req->data.args;
	int nr = c->req->data.nr;
	struct trace *t = c->t;

	if (pc_verbose >= 2)
		debug("trace: pid %u: %s", (unsigned)c->req->pid, c->sc);
#define AFD(x) ((int)(int32_t)(x))
	switch (nr) {
	case SYS_open:
		on_open(c, AT_FDCWD, a[0], a[1], a[2], 0);
		break;
	case SYS_creat:
		on_open(c, AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, a[1], 0);
		break;
	case SYS_openat:
		on_open(c, AFD(a[0]), a[1], a[2], a[3], 0);
		break;
	case SYS_openat2: {
		struct open_how how;

		memset(&how, 0, sizeof(how));
		if (a[3] < sizeof(how) - sizeof(how.resolve) ||
		    mem_read((pid_t)c->req->pid, a[2], &how,
			     a[3] < sizeof(how) ? a[3] : sizeof(how)) < 0 ||
		    !still_valid(c))
			break;
		on_open(c, AFD(a[0]), a[1], how.flags, how.mode, how.resolve);
		break;
	}
	case SYS_stat:
	case SYS_access:
		on_lookup(c, AT_FDCWD, a[0], true, false, TRACE_STAT);
		break;
	case SYS_lstat:
		on_lookup(c, AT_FDCWD, a[0], false, false, TRACE_STAT);
		break;
	case SYS_newfstatat:
		on_lookup(c, AFD(a[0]), a[1], !(a[3] & AT_SYMLINK_NOFOLLOW),
			  a[3] & AT_EMPTY_PATH, TRACE_STAT);
		break;
	case SYS_statx:
		on_lookup(c, AFD(a[0]), a[1], !(a[2] & AT_SYMLINK_NOFOLLOW),
			  a[2] & AT_EMPTY_PATH, TRACE_STAT);
		break;
	case SYS_faccessat:
		on_lookup(c, AFD(a[0]), a[1], true, false, TRACE_STAT);
		break;
	case SYS_faccessat2:
		on_lookup(c, AFD(a[0]), a[1], !(a[3] & AT_SYMLINK_NOFOLLOW),
			  a[3] & AT_EMPTY_PATH, TRACE_STAT);
		break;
	case SYS_readlink:
		on_lookup(c, AT_FDCWD, a[0], false, false, TRACE_STAT);
		break;
	case SYS_readlinkat:
		on_lookup(c, AFD(a[0]), a[1], false, true, TRACE_STAT);
		break;
	case SYS_chdir:
		on_lookup(c, AT_FDCWD, a[0], true, false, TRACE_STAT);
		break;
	case SYS_execve:
		on_exec(c, AT_FDCWD, a[0], true, false);
		break;
	case SYS_execveat:
		on_exec(c, AFD(a[0]), a[1], !(a[4] & AT_SYMLINK_NOFOLLOW), a[4] & AT_EMPTY_PATH);
		break;
	case SYS_getdents:
	case SYS_getdents64:
		on_getdents(c, AFD(a[0]));
		break;
	case SYS_uname:
		on_uname(c);
		break;
	/* writing calls: existence, type and mode of each path they name */
	case SYS_unlink:
	case SYS_rmdir:
		on_removal(c, AT_FDCWD, a[0]);
		break;
	case SYS_mkdir:
	case SYS_mknod:
		on_create(c, AT_FDCWD, a[0]);
		break;
	case SYS_unlinkat:
		on_removal(c, AFD(a[0]), a[1]);
		break;
	case SYS_mkdirat:
	case SYS_mknodat:
		on_create(c, AFD(a[0]), a[1]);
		break;
	case SYS_rename:
		on_removal(c, AT_FDCWD, a[0]);
		c->create = CREATE_NEW;
		on_removal(c, AT_FDCWD, a[1]);
		break;
	case SYS_link:
		on_lookup(c, AT_FDCWD, a[0], false, false, TRACE_STAT);
		on_create(c, AT_FDCWD, a[1]);
		break;
	case SYS_renameat:
	case SYS_renameat2:
		on_removal(c, AFD(a[0]), a[1]);
		c->create = CREATE_NEW;
		on_removal(c, AFD(a[2]), a[3]);
		break;
	case SYS_linkat:
		on_lookup(c, AFD(a[0]), a[1], a[4] & AT_SYMLINK_FOLLOW, a[4] & AT_EMPTY_PATH,
			  TRACE_STAT);
		on_create(c, AFD(a[2]), a[3]);
		break;
	case SYS_symlink:
		on_create(c, AT_FDCWD, a[1]);
		break;
	case SYS_symlinkat:
		on_create(c, AFD(a[1]), a[2]);
		break;
	case SYS_chmod:
	case SYS_chown:
	case SYS_truncate:
	case SYS_utime:
	case SYS_utimes:
		on_lookup(c, AT_FDCWD, a[0], true, false, TRACE_STAT);
		break;
	case SYS_lchown:
		on_lookup(c, AT_FDCWD, a[0], false, false, TRACE_STAT);
		break;
	case SYS_fchmodat:
		on_lookup(c, AFD(a[0]), a[1], true, false, TRACE_STAT);
		break;
	case SYS_fchmodat2:
		on_lookup(c, AFD(a[0]), a[1], !(a[3] & AT_SYMLINK_NOFOLLOW),
			  a[3] & AT_EMPTY_PATH, TRACE_STAT);
		break;
	case SYS_fchownat:
		on_lookup(c, AFD(a[0]), a[1], !(a[4] & AT_SYMLINK_NOFOLLOW),
			  a[4] & AT_EMPTY_PATH, TRACE_STAT);
		break;
	case SYS_futimesat:
		if (a[1])
			on_lookup(c, AFD(a[0]), a[1], true, false, TRACE_STAT);
		break;
	case SYS_utimensat:
		/* a NULL path is futimens(fd): the fd was opened by a traced call */
		if (a[1])
			on_lookup(c, AFD(a[0]), a[1], !(a[3] & AT_SYMLINK_NOFOLLOW),
				  a[3] & AT_EMPTY_PATH, TRACE_STAT);
		break;
	case SYS_bind: {
		struct sockaddr_un sun;
		size_t n = a[2] < sizeof(sun) ? (size_t)a[2] : sizeof(sun);

		memset(&sun, 0, sizeof(sun));
		/* a path-named socket is created like a file: its name is probed */
		if (n > offsetof(struct sockaddr_un, sun_path) &&
		    !mem_read((pid_t)c->req->pid, a[1], &sun, n) && still_valid(c) &&
		    sun.sun_family == AF_UNIX && sun.sun_path[0]) {
			struct res r = RES_INIT;
			struct strbuf cwd = STRBUF_INIT;
			struct walk w = { .t = t, .pid = (pid_t)c->req->pid, .sc = c->sc,
					  .create = CREATE_NEW };

			sun.sun_path[sizeof(sun.sun_path) - 1] = 0;
			if (sun.sun_path[0] == '/' || !dirfd_path(w.pid, AT_FDCWD, &cwd)) {
				walk_path(&w, cwd.len ? cwd.buf : "/", sun.sun_path, &r);
				record_found(t, &r, TRACE_STAT, c->sc);
			}
			res_release(&r);
			strbuf_release(&cwd);
		}
		break;
	}
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
	case SYS_clone:
		/* only notified with namespace flags (argument filter) */
		taint(t, "syscall clone: namespace flags 0x%llx", (unsigned long long)a[0]);
		break;
	case SYS_ioctl:
		/* only notified for TIOCSTI/TIOCLINUX (argument filter) */
		taint(t, "syscall ioctl: terminal injection request 0x%llx",
		      (unsigned long long)a[1]);
		break;
	case SYS_personality:
		/* notified in untrusted mode only: queries and ASLR off pass */
		if ((uint32_t)a[0] != 0xffffffffu && (uint32_t)a[0] != 0 &&
		    (uint32_t)a[0] != 0x0040000)
			c->error = EPERM;
		break;
	default: {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
		const struct trace_sc *e = name ? trace_sc_find(name) : NULL;

		if (!name)
			taint(t, "syscall %d: unknown to libseccomp", nr);
		else if (!e)
			taint(t, "syscall %s: not classified", name);
		else if (t->cfg.untrusted && e->class == TRACE_SC_DENY)
			c->error = EPERM; /* the filter normally does this */
		else
			taint(t, "syscall %s", name);
		free(name);
		break;
	}
	}
#undef AFD
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
	taint(t, "tracer: %s: %s", what, strerror(-err));
	t->dead = true;
	pthread_mutex_unlock(&t->lock);
}

/*
 * One notification, in one of the sandbox's tracer threads: receive
 * (blocking), record under t->lock, answer. The buffers are on this
 * thread's stack; the kernel's sizes were checked by trace_new().
 */
static int trace_handle(void *ctx, int fd)
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
		taint(t, "syscall %d: non-native ABI", c.req->data.nr);
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

/* ---------------------------------------------------------------------- */
/* the filter */

#define NS_FLAGS_LIST                                                        \
	{ CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,          \
	  CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET }

static int add_rule(scmp_filter_ctx f, uint32_t action, int nr, unsigned cnt,
		    const struct scmp_arg_cmp *cmp)
{
	int r = seccomp_rule_add_array(f, action, nr, cnt, cmp);

	return r == -EEXIST ? 0 : r;
}

/*
 * Build the filter. Trace mode: default ALLOW, every non-PURE call and every
 * number libseccomp cannot name NOTIFY; untrusted: DENY calls EPERM in the
 * filter itself. Deny-only: only the untrusted refusals.
 */
/* build_filter()'s @handoff: no fd is exempted, every sendmsg notified */
#define HANDOFF_BY_OTHER_THREAD (-2)

static int build_filter(const struct trace *t, int handoff, scmp_filter_ctx *out)
{
	const bool tr = t->cfg.trace, untr = t->cfg.untrusted;
	const uint32_t notify = SCMP_ACT_NOTIFY, eperm = SCMP_ACT_ERRNO(EPERM);
	const unsigned long ns_flags[] = NS_FLAGS_LIST;
	scmp_filter_ctx f;
	const struct trace_sc *tab;
	size_t nr, i;
	int r = 0, n;

	f = seccomp_init(SCMP_ACT_ALLOW);
	if (!f)
		return -ENOMEM;
	if ((r = seccomp_attr_set(f, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0 ||
	    (r = seccomp_attr_set(f, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0)
		goto fail;
	tab = trace_sc_table(&nr);
	for (i = 0; i < nr; i++) {
		const char *name = tab[i].name;
		int sn = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name);

		if (sn == __NR_SCMP_ERROR || sn < 0)
			continue;
		if (!strcmp(name, "clone3")) {
			r = add_rule(f, SCMP_ACT_ERRNO(ENOSYS), sn, 0, NULL);
		} else if (!strcmp(name, "clone")) {
			size_t k;

			for (k = 0; k < ARRAY_SIZE(ns_flags) && r >= 0; k++) {
				struct scmp_arg_cmp cmp =
					SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[k], ns_flags[k]);

				if (untr)
					r = add_rule(f, eperm, sn, 1, &cmp);
				else if (tr)
					r = add_rule(f, notify, sn, 1, &cmp);
			}
		} else if (!strcmp(name, "ioctl")) {
			struct scmp_arg_cmp a1 = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI);
			struct scmp_arg_cmp a2 = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCLINUX);

			if (untr) {
				r = add_rule(f, eperm, sn, 1, &a1);
				if (r >= 0)
					r = add_rule(f, eperm, sn, 1, &a2);
			} else if (tr) {
				r = add_rule(f, notify, sn, 1, &a1);
				if (r >= 0)
					r = add_rule(f, notify, sn, 1, &a2);
			}
		} else if (!strcmp(name, "personality")) {
			if (untr) {
				struct scmp_arg_cmp q = SCMP_A0(SCMP_CMP_NE, 0xffffffffu);

				/* queries pass; anything else: the handler decides
				 * (trace) or EPERM (deny-only) */
				r = add_rule(f, tr ? notify : eperm, sn, 1, &q);
			}
		} else if (!strcmp(name, "newfstatat") || !strcmp(name, "statx")) {
			/*
			 * With AT_EMPTY_PATH this is fstat() of an fd, which a
			 * traced open (or stdin) produced: not notified. A path
			 * passed together with AT_EMPTY_PATH goes unseen (§5).
			 */
			struct scmp_arg_cmp nofd = name[0] == 'n' ?
				SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, 0) :
				SCMP_A2(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, 0);

			if (tr)
				r = add_rule(f, notify, sn, 1, &nofd);
		} else if (t->cfg.fast_readlink &&
			   (!strcmp(name, "readlink") || !strcmp(name, "readlinkat"))) {
			/* not notified on request: see trace_config.fast_readlink */
		} else if (!strcmp(name, "sendmsg") || !strcmp(name, "sendmmsg")) {
			/*
			 * Notified, except on the socket the installing thread
			 * hands the listener over with (it sends before the
			 * supervisor can serve us); all of them when another,
			 * unfiltered thread does the hand-over (the sandbox).
			 * With no single such socket, not notified at all
			 * (DESIGN §5).
			 */
			if (tr && handoff == HANDOFF_BY_OTHER_THREAD) {
				r = add_rule(f, notify, sn, 0, NULL);
			} else if (tr && handoff >= 0) {
				struct scmp_arg_cmp other = SCMP_A0(SCMP_CMP_NE, (uint64_t)handoff);

				r = add_rule(f, notify, sn, 1, &other);
			}
		} else if (!strcmp(name, "sendto")) {
			struct scmp_arg_cmp addr = SCMP_A4(SCMP_CMP_NE, 0);

			if (tr)
				r = add_rule(f, notify, sn, 1, &addr);
		} else {
			switch (tab[i].class) {
			case TRACE_SC_PURE:
				break;
			case TRACE_SC_TRACED:
			case TRACE_SC_TAINT:
				if (tr)
					r = add_rule(f, notify, sn, 0, NULL);
				break;
			case TRACE_SC_DENY:
				if (untr)
					r = add_rule(f, eperm, sn, 0, NULL);
				else if (tr)
					r = add_rule(f, notify, sn, 0, NULL);
				break;
			}
		}
		if (r < 0)
			goto fail;
	}
	/* numbers libseccomp cannot name: notified (taint) or refused */
	for (n = 0; n < 512; n++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, n);

		if (name) {
			free(name);
			continue;
		}
		if (tr)
			r = add_rule(f, notify, n, 0, NULL);
		else if (untr)
			r = add_rule(f, SCMP_ACT_ERRNO(ENOSYS), n, 0, NULL);
		if (r < 0)
			goto fail;
	}
	*out = f;
	return 0;
fail:
	seccomp_release(f);
	return r < 0 ? r : -EINVAL;
}

/*
 * A small classic-BPF filter stacked under libseccomp's (numbers >= 512:
 * ENOSYS); any ABI but
 * native x86_64 — i386 (int 0x80) and x32 (native arch, numbers with
 * __X32_SYSCALL_BIT, which libseccomp's x86_64 filter lets through to the
 * default action) — kills the process. On a kernel with x32 enabled an
 * x32 openat would otherwise bypass every rule.
 */
static int install_abi_filter(void)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		/* numbers past what the main filter covers (0..511): as if
		 * the kernel lacked them */
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 512, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(code), .filter = code };

	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return -errno;
	return 0;
}

/*
 * The socket the sandbox will send the listener over: the only socket
 * among the job's fds above 2 right before execve (the sandbox closed the
 * rest). -1 when there is not exactly one; HANDOFF_BY_OTHER_THREAD when
 * another thread exists to send it.
 */
static int find_handoff_socket(void)
{
	_cleanup_closedir_ DIR *task = opendir("/proc/self/task");
	int threads = 0;

	/*
	 * A process with more than one thread hands the listener over from
	 * an unfiltered thread (sandbox/init.c): no socket is exempted, so
	 * a job reusing that fd number is seen like any other.
	 */
	while (task && readdir(task))
		threads++;
	if (threads > 3)	/* ".", ".." and this thread */
		return HANDOFF_BY_OTHER_THREAD;

	_cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int found = -1, n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		struct stat st;
		int fd;

		if (!is_digits(e->d_name, strlen(e->d_name)))
			continue;
		fd = atoi(e->d_name);
		if (fd <= 2 || fd == dirfd(d) || fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
			continue;
		found = fd;
		n++;
	}
	return n == 1 ? found : -1;
}

static int trace_install(void *ctx)
{
	struct trace *t = ctx;
	scmp_filter_ctx f = NULL;
	int r, fd = 0;

	r = build_filter(t, find_handoff_socket(), &f);
	if (r < 0)
		return r;
	r = install_abi_filter();
	if (r < 0) {
		seccomp_release(f);
		return r;
	}
	/* libseccomp asks for SECCOMP_FILTER_FLAG_NEW_LISTENER itself when
	 * the filter has NOTIFY rules (always, in trace mode) */
	r = seccomp_load(f);
	if (r < 0)
		goto out;
	if (t->cfg.trace) {
		fd = seccomp_notify_fd(f);
		if (fd < 0) {
			r = fd;
			goto out;
		}
		/*
		 * The supervisor answers at once: wake it, and then the job,
		 * on the current CPU (kernel >= 6.6; older kernels refuse,
		 * which only costs speed). The flags are the ioctl's argument
		 * itself, not a pointer to them: a pointer is EINVAL.
		 */
		(void)ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS,
			    (unsigned long)SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
	}
	r = fd;
out:
	seccomp_release(f);
	return r;
}

/* ---------------------------------------------------------------------- */
/* public */

struct trace *trace_new(const struct trace_config *cfg)
{
	struct trace *t = xcalloc(1, sizeof(*t));
	size_t i;

	t->cfg = *cfg;
	if (cfg->nr_private_paths) {
		t->private_paths = xcalloc(cfg->nr_private_paths, sizeof(char *));
		for (i = 0; i < cfg->nr_private_paths; i++)
			t->private_paths[i] = xstrdup(cfg->private_paths[i]);
	}
	t->cfg.private_paths = NULL;
	pthread_mutex_init(&t->lock, NULL);
	if (cfg->trace) {
		struct seccomp_notif_sizes sz;

		/* newer kernels may grow the structs; ours must hold them */
		if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0 ||
		    sz.seccomp_notif > TRACE_NOTIF_BUF ||
		    sz.seccomp_notif_resp > TRACE_NOTIF_BUF)
			t->notif_sizes_bad = true;
	}
	return t;
}

void trace_free(struct trace *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nr_obs; i++) {
		free(t->obs[i].path);
		free(t->obs[i].value);
	}
	free(t->obs);
	free(t->map);
	strmap_release(&t->seen);
	strmap_release(&t->hostdirs);
	for (i = 0; i < t->nr_taints; i++)
		free(t->taints[i]);
	free(t->taints);
	for (i = 0; i < t->cfg.nr_private_paths; i++)
		free(t->private_paths[i]);
	free(t->private_paths);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

struct sbx_tracer trace_hooks(struct trace *t)
{
	return (struct sbx_tracer){ .ctx = t, .install = trace_install,
				    .handle = trace_handle };
}

static void finish_content(struct trace *t, struct trace_obs *o)
{
	_cleanup_close_ int fd = -1;
	struct stat st1, st2;
	int r;

	fd = open(o->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st1) < 0) {
		taint(t, "input changed during the run: %s", o->path);
		return;
	}
	/* /proc and /sys files have no meaningful stat: their bytes decide */
	if (!is_pseudo(o->path) && !stat_same_file(&o->st, &st1)) {
		taint(t, "input changed during the run: %s", o->path);
		return;
	}
	r = pc_hash_fd(fd, &o->hash, NULL);
	if (r < 0) {
		taint(t, "cannot hash input %s: %s", o->path, strerror(-r));
		return;
	}
	if (fstat(fd, &st2) < 0 || (!is_pseudo(o->path) && !stat_same_file(&st1, &st2))) {
		taint(t, "input changed during the run: %s", o->path);
		return;
	}
	o->hashed = true;
}

int trace_finish(struct trace *t, struct strbuf *err)
{
	size_t i;

	(void)err;
	struct progress prog;
	progress_start(&prog, "hashing inputs", t->nr_obs, PROGRESS_COUNT);
	for (i = 0; i < t->nr_obs; i++) {
		struct trace_obs *o = &t->obs[i];
		struct stat st;

		progress_update(&prog, i + 1);

		switch (o->kind) {
		case TRACE_CONTENT:
			finish_content(t, o);
			break;
		case TRACE_LISTING: {
			struct pc_hash h;

			if (dirlist_hash_at(AT_FDCWD, o->path, &h, NULL) < 0 ||
			    !pc_hash_equal(&h, &o->hash))
				taint(t, "input changed during the run: %s", o->path);
			break;
		}
		case TRACE_STAT:
		case TRACE_SYMLINK:
			if (lstat(o->path, &st) < 0 || st.st_ino != o->st.st_ino ||
			    st.st_dev != o->st.st_dev || st.st_mode != o->st.st_mode ||
			    (S_ISREG(st.st_mode) && st.st_size != o->st.st_size))
				if (!is_pseudo(o->path))
					taint(t, "input changed during the run: %s", o->path);
			break;
		case TRACE_ABSENT:
			if (!lstat(o->path, &st))
				taint(t, "input changed during the run: %s", o->path);
			break;
		case TRACE_OUTPUT:
			if (!o->st.st_mode ? !lstat(o->path, &st)
			    : lstat(o->path, &st) < 0 || st.st_ino != o->st.st_ino ||
				      st.st_dev != o->st.st_dev || st.st_mode != o->st.st_mode ||
				      st.st_uid != o->st.st_uid || st.st_gid != o->st.st_gid)
				taint(t, "input changed during the run: %s", o->path);
			break;
		case TRACE_HOSTFACT:
			break;
		}
	}
	progress_done(&prog);
	if (t->dead && !t->nr_taints)
		taint(t, "tracer stopped");
	return 0;
}

size_t trace_nr_obs(const struct trace *t)
{
	return t->nr_obs;
}

const struct trace_obs *trace_obs_at(const struct trace *t, size_t i)
{
	return i < t->nr_obs ? &t->obs[i] : NULL;
}

size_t trace_nr_taints(const struct trace *t)
{
	return t->nr_taints;
}

const char *trace_taint_at(const struct trace *t, size_t i)
{
	return i < t->nr_taints ? t->taints[i] : NULL;
}

const char *trace_obs_kind_name(enum trace_obs_kind k)
{
	switch (k) {
	case TRACE_CONTENT: return "content";
	case TRACE_ABSENT: return "absent";
	case TRACE_STAT: return "stat";
	case TRACE_LISTING: return "listing";
	case TRACE_SYMLINK: return "symlink";
	case TRACE_HOSTFACT: return "hostfact";
	case TRACE_OUTPUT: return "output";
	}
	return "?";
}

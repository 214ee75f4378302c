/*
 * Path resolution for the tracer (trace-internal.h): where a path of the
 * job's view lives (host state under a layer's lower directory, the job's
 * own state in its upper directory, or internal to the sandbox), and the
 * walk that resolves a path as the kernel does for the job, one component
 * at a time, recording the host symlinks it follows and the host names it
 * finds missing (DESIGN.md §3).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/path.h"
#include "common/xalloc.h"
#include "sandbox/trace-internal.h"

#include "common/banned.h"

/* The kernel follows at most 40 symlinks in one lookup (MAXSYMLINKS). */
#define TRACE_MAX_SYMLINKS 40

/* ---------------------------------------------------------------------- */
/* where a path of the job's view lives */

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
	return trace_is_digits(c, (size_t)(e - c));
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

		if (path_has_prefix_component(p, l->mountpoint) && (!best || len > best_len)) {
			best = l;
			best_len = len;
		}
	}
	return best;
}

/* Where the host state of job-view @p is, under layer @l (NULL: as is). */
static void host_path(const struct sbx_layer *l, const char *p, struct strbuf *hostpath)
{
	const char *rel;

	strbuf_reset(hostpath);
	if (!l) {
		strbuf_addstr(hostpath, p);
		return;
	}
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

/*
 * Classify the job-view path @p (absolute, clean, no symlink resolved in
 * the last component) for the walk @w. For W_HOST, *@hostpath is where to
 * look at it in the host. *@forced: @p is host state because a write
 * after @w's record touched it (DESIGN §3.1), whatever the upper
 * directory says; a path those writes found and left the job's own is
 * W_JOB, whatever the upper directory says now.
 */
static enum where where_is(const struct walk *w, const char *p,
			   struct strbuf *hostpath, bool *forced)
{
	const struct trace *t = w->t;
	const char *slash;
	bool parent_host = false;
	const struct sbx_layer *l;
	const char *rel;
	struct strbuf up = STRBUF_INIT, low = STRBUF_INIT;
	enum where wh = W_HOST;
	size_t i;

	strbuf_reset(hostpath);
	if (is_proc_pid(p) || path_has_prefix_component(p, "/dev"))
		return W_INTERNAL;
	for (i = 0; i < t->cfg.nr_private_paths; i++)
		if (path_has_prefix_component(p, t->private_paths[i]))
			return W_INTERNAL;
	for (i = 0; i < t->cfg.nr_declared; i++)
		if (path_has_prefix_component(p, t->declared[i]))
			return W_INTERNAL;
	if (t->cfg.hostfacts && sbx_hostfacts_is_synthetic(p))
		return W_INTERNAL; /* generated: a function of the key */
	if (path_has_prefix_component(p, "/proc") || path_has_prefix_component(p, "/sys")) {
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
	if (w->stale) {
		switch (trace_fast_touched(t, p, w->gen)) {
		case FAST_UNTOUCHED:
			break;
		case FAST_TOUCHED_JOB:
			return W_JOB; /* whatever the upper directory says now */
		case FAST_TOUCHED:
			*forced = true;
			goto host;
		}
	}
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
			wh = W_JOB; /* the job's file, symlink or whiteout */
			break;
		}
		/* a directory in upper: merged (still host state), or the job's */
		if (is_opaque(up.buf) || lstat(low.buf, &lst) < 0 ||
		    !S_ISDIR(lst.st_mode)) {
			wh = W_JOB;
			break;
		}
	}
	strbuf_release(&up);
	strbuf_release(&low);
	if (wh != W_HOST)
		return wh;
host:
	host_path(l, p, hostpath);
	return W_HOST;
}

/* The job's view of @p, through /proc/PID/root (for job and internal state). */
void trace_view_path(pid_t pid, const char *p, struct strbuf *out)
{
	strbuf_reset(out);
	strbuf_addf(out, "/proc/%d/root%s", (int)pid, p);
}

/* ---------------------------------------------------------------------- */
/* resolution */

void trace_res_release(struct res *r)
{
	strbuf_release(&r->path);
	strbuf_release(&r->hostpath);
	strbuf_release(&r->key);
	strbuf_release(&r->visited);
}

bool trace_res_seen(struct trace *t, const struct res *r)
{
	if (r->key.len && r->where == W_HOST && !r->forced &&
	    (r->status == RES_FOUND || r->status == RES_MISSING)) {
		t->last_seen_id = trace_seen_enter(t, r);
		return true;
	}
	return false;
}

/* Add the parent directory of the absolute @path to @out. */
static void add_parent(struct strbuf *out, const char *path)
{
	const char *sl = strrchr(path, '/');

	strbuf_add(out, path, sl && sl != path ? (size_t)(sl - path) : 1);
}

bool trace_output_creation(pid_t pid, const char *path, mode_t open_mode,
			   struct trace_obs *o)
{
	char name[64], line[256];
	unsigned long umask_v = 0, fs = 0, ids[4];
	bool have_umask = false, have_uid = false, have_gid = false, ok;
	struct strbuf parent = STRBUF_INIT;
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

	add_parent(&parent, path);
	ok = lstat(parent.buf, &o->parent) == 0 && S_ISDIR(o->parent.st_mode);
	strbuf_release(&parent);
	if (!ok)
		return false;
	o->create = true;
	o->create_mode = open_mode & ~(mode_t)umask_v & 07777;
	o->create_gid = (o->parent.st_mode & S_ISGID) ? o->parent.st_gid : (gid_t)fs;
	return true;
}

int trace_readlink_at(int dirfd, const char *path, struct strbuf *out)
{
	char buf[PATH_MAX + 1];
	ssize_t n = readlinkat(dirfd, path, buf, sizeof(buf) - 1);

	if (n < 0)
		return -errno;
	strbuf_reset(out);
	strbuf_add(out, buf, (size_t)n);
	return 0;
}

int trace_readlink(const char *path, struct strbuf *out)
{
	return trace_readlink_at(AT_FDCWD, path, out);
}

int trace_dirfd_path(pid_t pid, int dirfd, struct strbuf *out)
{
	char link[64];

	if (dirfd == AT_FDCWD)
		snprintf(link, sizeof(link), "/proc/%d/cwd", (int)pid);
	else
		snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, dirfd);
	return trace_readlink(link, out);
}

static void pop_component(struct strbuf *path)
{
	char *s = strrchr(path->buf, '/');

	if (!s || s == path->buf)
		strbuf_setlen(path, 1); /* "/" */
	else
		strbuf_setlen(path, (size_t)(s - path->buf));
}

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
 * The walk, one component at a time. A struct lookup is the cursor: the
 * job-view path resolved so far (r->path) and what is left (rest). Each
 * step returns STEP_ON to go on with the next component, or STEP_DONE
 * with r->status set.
 */
enum step {
	STEP_ON,
	STEP_DONE,
};

struct lookup {
	const struct walk *w;
	struct res *r;
	struct strbuf rest;  /* still to resolve, symlink targets spliced in */
	struct strbuf name;  /* the component at hand */
	struct strbuf view;  /* r->path through /proc/PID/root (job state) */
	const char *root;    /* ".." stops here (RESOLVE_BENEATH, IN_ROOT) */
	int links;           /* symlinks followed */
	bool last;           /* the component at hand is the last one */
	bool trailing;       /* ... and slashes follow it: the kernel then
	                        follows a symlink there, even for lstat */
	bool walked;         /* the last step looked a component up: else
	                        the result (the base itself, or where "."
	                        or ".." left the walk) is examined at the end */
	bool in_loc;         /* r->path is in cfg.location_dir */
	bool forced;         /* the component at hand was judged by the
	                        write log (where_is) */
};

/*
 * The walk moved (a component looked up, "..") within the job's reach:
 * crossing the border of cfg.location_dir either way tells the job where
 * that directory is — a path from outside into it names it absolutely,
 * ".." out of it lands where the directory's location decides (DESIGN.md
 * §12). A move the job did not make (to a symlink's or magic link's
 * target) only updates where the walk is (@check false).
 */
static void track_location(struct lookup *lk, bool check)
{
	struct trace *t = lk->w->t;
	bool in;

	if (!t->cfg.location_dir)
		return;
	in = trace_in_location(t, lk->r->path.len ? lk->r->path.buf : "/");
	if (check && in != lk->in_loc)
		trace_location(t, "syscall %s: a path %s %s", lk->w->sc,
			       in ? "from outside into" : "out of",
			       t->cfg.location_dir);
	lk->in_loc = in;
}

static enum step done(struct lookup *lk, enum res_status status)
{
	lk->r->status = status;
	return STEP_DONE;
}

/* The next component of @rest: its start (after slashes) and length. */
static size_t peek_component(const char *rest, const char **start)
{
	while (*rest == '/')
		rest++;
	*start = rest;
	return (size_t)(strchrnul(rest, '/') - rest);
}

/* Move the next component of lk->rest into lk->name; false at the end. */
static bool next_component(struct lookup *lk)
{
	const char *c, *e, *q;
	size_t clen = peek_component(lk->rest.buf, &c), off;

	if (!clen)
		return false;
	e = c + clen;
	lk->last = true;
	for (q = e; *q; q++)
		if (*q != '/') {
			lk->last = false;
			break;
		}
	lk->trailing = lk->last && *e == '/';
	strbuf_reset(&lk->name);
	strbuf_add(&lk->name, c, clen);
	off = (size_t)(e - lk->rest.buf);
	memmove(lk->rest.buf, lk->rest.buf + off, lk->rest.len - off + 1);
	strbuf_setlen(&lk->rest, lk->rest.len - off);
	return true;
}

/* Make @prefix + "/" + rest (or @prefix + rest) the rest to resolve. */
static void splice_rest(struct lookup *lk, struct strbuf *prefix, bool slash)
{
	if (slash)
		strbuf_addch(prefix, '/');
	strbuf_addbuf(prefix, &lk->rest);
	strbuf_reset(&lk->rest);
	strbuf_addbuf(&lk->rest, prefix);
}

static enum step step_dotdot(struct lookup *lk)
{
	const uint64_t resolve = lk->w->resolve;

	if ((resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)) &&
	    !strcmp(lk->r->path.buf, lk->root)) {
		if (resolve & RESOLVE_BENEATH)
			return done(lk, RES_OPAQUE);
		return STEP_ON; /* IN_ROOT: ".." of the root is the root */
	}
	pop_component(&lk->r->path);
	track_location(lk, true);
	return STEP_ON;
}

/* "/proc" + <pid>: the sandbox's own processes, never host state. */
static bool at_proc_pid(const struct lookup *lk)
{
	const char *n = lk->name.buf;

	return !strcmp(lk->r->path.buf, "/proc") &&
	       (!strcmp(n, "self") || !strcmp(n, "thread-self") ||
		trace_is_digits(n, lk->name.len));
}

static enum step step_proc_pid(struct lookup *lk)
{
	/* another process's /proc: its units are refused (trace-nest.c) */
	if (lk->w->pid > 0)
		trace_nest_proc_pid(lk->w->t, lk->w->pid, lk->name.buf, lk->name.len);
	strbuf_addch(&lk->r->path, '/');
	strbuf_addbuf(&lk->r->path, &lk->name);
	lk->r->where = W_INTERNAL;
	return lk->last ? done(lk, RES_OPAQUE) : STEP_ON;
}

/* The component at hand is an entry of /proc/<pid>. */
static bool in_proc_pid(const struct lookup *lk)
{
	const char *p = lk->r->path.buf;

	return is_proc_pid(p) && !strchr(p + 6, '/');
}

/*
 * Whether the next component of @rest may name fd 0: "0", "00", or
 * anything but digits ("." or "..", which may lead there); not the
 * directory itself (its listing is the same whatever fd 0 is).
 */
static bool names_fd0(const char *rest)
{
	const char *c;
	size_t len = peek_component(rest, &c);

	return len && (!trace_is_digits(c, len) || strspn(c, "0") >= len);
}

/*
 * An entry of /proc/<pid>: fd/N, cwd, root and exe are magic links, which
 * the walk follows to the object's path; anything else is internal.
 */
static enum step step_proc_pid_entry(struct lookup *lk)
{
	const struct walk *w = lk->w;
	const char *pidc = lk->r->path.buf + 6, *n = lk->name.buf;
	bool self = !strcmp(pidc, "self") || !strcmp(pidc, "thread-self");
	struct strbuf target = STRBUF_INIT;
	char link[96];

	/*
	 * fd/0 and fdinfo/0 of any process (its fd 0 may be the unit's),
	 * anything in task/ (the same, by thread): what the unit's fd 0
	 * is, which its key may leave out (DESIGN.md §13.3, "Stdin unseen").
	 */
	if (w->pid > 0 && (!strcmp(n, "task") ||
			   ((!strcmp(n, "fd") || !strcmp(n, "fdinfo")) && names_fd0(lk->rest.buf))))
		trace_nest_fd0_seen(w->t, w->pid);
	trace_proc_audit_facts(w->t, w->pid, w->sc, n, lk->rest.buf);
	if (w->t->cfg.location_dir &&
	    (!strcmp(n, "maps") || !strcmp(n, "smaps") || !strcmp(n, "numa_maps") ||
	     !strcmp(n, "map_files") || !strcmp(n, "mountinfo") ||
	     !strcmp(n, "mounts") || !strcmp(n, "mountstats") || !strcmp(n, "task")))
		/* they print absolute paths of mapped files and mounts */
		trace_location(w->t, "syscall %s: /proc/%s/%s", w->sc, pidc, n);
	if (strcmp(n, "fd") && strcmp(n, "cwd") && strcmp(n, "root") && strcmp(n, "exe"))
		return done(lk, RES_OPAQUE); /* /proc/<pid>/status and such */
	if (!w->pid) {
		/* a fast-path record: its process may be gone (the library
		 * sends /proc paths through the notified path; this one was
		 * reached through a symlink) */
		trace_taint(w->t, "syscall %s: path through /proc/%s/%s not modelled "
			    "in the fast path", w->sc, pidc, n);
		return done(lk, RES_FAILED);
	}
	if (!self)
		self = is_own_ns_pid(w->pid, pidc);
	if (!self) {
		/* NEEDSWORK: map other sandbox pids to host pids */
		trace_taint(w->t, "syscall %s: path through /proc/%s/%s not modelled",
			    w->sc, pidc, n);
		return done(lk, RES_FAILED);
	}
	if (!strcmp(n, "fd")) {
		const char *c;
		size_t len = peek_component(lk->rest.buf, &c);

		if (!trace_is_digits(c, len))
			return done(lk, RES_OPAQUE);
		snprintf(link, sizeof(link), "/proc/%d/fd/%.*s", (int)w->pid,
			 (int)len, c);
		memmove(lk->rest.buf, c + len, strlen(c + len) + 1);
		strbuf_setlen(&lk->rest, strlen(lk->rest.buf));
	} else {
		snprintf(link, sizeof(link), "/proc/%d/%s", (int)w->pid, n);
	}
	if ((w->resolve & RESOLVE_NO_MAGICLINKS) ||
	    trace_readlink(link, &target) < 0 || target.buf[0] != '/') {
		strbuf_release(&target);
		return done(lk, RES_OPAQUE);
	}
	/* The link itself, not followed (readlink): the job reads its target. */
	if (!w->follow_last && strspn(lk->rest.buf, "/") == lk->rest.len &&
	    trace_in_location(w->t, target.buf))
		trace_location(w->t, "syscall %s: /proc/%s/%s points into %s", w->sc,
			       pidc, n, w->t->cfg.location_dir);
	/* the fd's object: continue from its path */
	strbuf_setlen(&lk->r->path, 1);
	track_location(lk, false);
	splice_rest(lk, &target, false);
	strbuf_release(&target);
	lk->walked = false;
	return STEP_ON;
}

/*
 * @p is a declared output (hidden from the view at start, trace.h): the
 * job could make it only in an existing directory, so a host parent's
 * stat is observed (a rerun where that directory is gone must miss).
 */
static void record_declared_parent(const struct walk *w, const char *p)
{
	struct trace *t = w->t;
	struct strbuf parent = STRBUF_INIT, host = STRBUF_INIT;
	struct stat pst;
	bool forced;
	size_t i;

	for (i = 0; i < t->cfg.nr_declared; i++)
		if (!strcmp(p, t->declared[i]))
			break;
	if (i == t->cfg.nr_declared)
		return;
	add_parent(&parent, p);
	if (where_is(w, parent.buf, &host, &forced) == W_HOST && !lstat(host.buf, &pst))
		trace_obs_add(t, TRACE_STAT, host.buf, w->sc, &pst);
	strbuf_release(&parent);
	strbuf_release(&host);
}

/*
 * The job's view of r->path for a lookup that is not host state: through
 * the job's root held open by the fast path (it outlives the process),
 * else through /proc/PID/root. Returns the fd and sets *@rel, or -1 with
 * lk->view set to the /proc path.
 */
static int view_at(struct lookup *lk, const char **rel)
{
	const char *p = lk->r->path.buf;
	int rfd = trace_fast_root(lk->w->t);

	if (rfd >= 0) {
		while (*p == '/')
			p++;
		*rel = *p ? p : ".";
		return rfd;
	}
	trace_view_path(lk->w->pid, p, &lk->view);
	*rel = lk->view.buf;
	return AT_FDCWD;
}

/*
 * Where r->path lives and its lstat (in the host for host state, in the
 * job's view otherwise). Returns 0 or an errno.
 */
/* The walk looks at r->path: a seen entry's outcome depends on it. */
static void visit(struct lookup *lk)
{
	struct res *r = lk->r;

	if (r->key.len)
		strbuf_add(&r->visited, r->path.buf, r->path.len + 1);
}

static int lstat_in_view(struct lookup *lk)
{
	struct res *r = lk->r;
	const char *rel;
	bool forced = false;
	int dfd;

	visit(lk);
	lk->forced = false;
	r->where = where_is(lk->w, r->path.buf, &r->hostpath, &forced);
	if (forced)
		lk->forced = r->forced = true;
	if (r->where == W_HOST)
		return lstat(r->hostpath.buf, &r->st) < 0 ? errno : 0;
	if (r->where == W_INTERNAL)
		record_declared_parent(lk->w, r->path.buf);
	dfd = view_at(lk, &rel);
	if (dfd == AT_FDCWD && !lk->w->pid)
		return EACCES; /* no process and no root: cannot look */
	return fstatat(dfd, rel, &r->st, AT_SYMLINK_NOFOLLOW) < 0 ? errno : 0;
}

/*
 * An output (O_CREAT|O_TRUNC) created at the missing host path: what
 * matters is what creating it gives, in which directory (trace.h,
 * TRACE_OUTPUT).
 */
static void record_output_creation(const struct walk *w, const char *hostpath)
{
	struct trace_obs *o;

	if (trace_obs_find(w->t, TRACE_OUTPUT, hostpath))
		return;
	o = trace_obs_add(w->t, TRACE_OUTPUT, hostpath, w->sc, NULL);
	if (!trace_output_creation(w->pid, hostpath, w->open_mode, o)) {
		trace_taint(w->t, "syscall %s: cannot tell how %s would be created",
			    w->sc, hostpath);
		return;
	}
	/* A default ACL of the directory is what the new file inherits. */
	struct strbuf parent = STRBUF_INIT;

	add_parent(&parent, hostpath);
	trace_record_xattrs_path(w->t, parent.buf, w->sc);
	strbuf_release(&parent);
}

/*
 * A creating call succeeds only in an existing directory: that is observed
 * too (an absent file says nothing about its parent).
 */
static void record_parent(const struct walk *w, const char *hostpath)
{
	struct strbuf parent = STRBUF_INIT;
	struct stat pst;

	add_parent(&parent, hostpath);
	if (!lstat(parent.buf, &pst)) {
		trace_obs_add(w->t, TRACE_STAT, parent.buf, w->sc, &pst);
		/* a default ACL there is what a new entry inherits */
		trace_record_xattrs_path(w->t, parent.buf, w->sc);
	}
	strbuf_release(&parent);
}

/* The component at hand does not exist (@err ENOENT or ENOTDIR). */
static enum step step_missing(struct lookup *lk, int err)
{
	const struct walk *w = lk->w;
	const char *hostpath = lk->r->hostpath.buf;
	bool created = lk->last && err == ENOENT;

	/* an execution unit's observation, host or job state (DESIGN §13.3);
	 * an output's is the caller's (trace-notify.c) */
	if (w->t->nest && w->pid && !(created && w->create == CREATE_TRUNC))
		trace_nest_observe(w->t, w->pid, TRACE_ABSENT, lk->r->path.buf, NULL, false);
	if (lk->r->where != W_HOST)
		return done(lk, RES_MISSING);
	if (created && w->create == CREATE_TRUNC) {
		record_output_creation(w, hostpath);
		return done(lk, RES_MISSING);
	}
	if (created && w->create == CREATE_NEW)
		record_parent(w, hostpath);
	trace_record_always_changing(w->t, hostpath, w->sc);
	trace_obs_add(w->t, TRACE_ABSENT, hostpath, w->sc, NULL);
	return done(lk, RES_MISSING);
}

/* The component at hand cannot be examined (@err, not a missing one). */
static enum step step_unexaminable(struct lookup *lk, int err)
{
	if (lk->r->where != W_HOST)
		return done(lk, RES_OPAQUE);
	trace_taint(lk->w->t, "syscall %s: cannot examine %s: %s", lk->w->sc,
		    lk->r->hostpath.buf, strerror(err));
	return done(lk, RES_FAILED);
}

/* The component at hand is a symlink to follow: go on from its target. */
static enum step step_symlink(struct lookup *lk)
{
	const struct walk *w = lk->w;
	struct res *r = lk->r;
	const bool host = r->where == W_HOST;
	struct strbuf target = STRBUF_INIT;
	struct trace_obs *o;
	int err;

	if (host) {
		err = trace_readlink(r->hostpath.buf, &target);
	} else {
		const char *rel;
		int dfd = view_at(lk, &rel);

		err = trace_readlink_at(dfd, rel, &target);
	}
	if (err < 0) {
		strbuf_release(&target);
		if (!host)
			return done(lk, RES_OPAQUE);
		trace_taint(w->t, "syscall %s: cannot read symlink %s", w->sc,
			    r->hostpath.buf);
		return done(lk, RES_FAILED);
	}
	if (host) {
		o = trace_obs_add(w->t, TRACE_SYMLINK, r->hostpath.buf, w->sc, &r->st);
		if (o) {
			o->value = xstrdup(target.buf);
			trace_record_link_access(w->t, r->hostpath.buf, &r->st, w->sc);
		}
	}
	if (w->t->nest && w->pid)
		trace_nest_observe(w->t, w->pid, TRACE_SYMLINK, r->path.buf, target.buf, false);
	if ((w->resolve & RESOLVE_NO_SYMLINKS) || ++lk->links > TRACE_MAX_SYMLINKS) {
		strbuf_release(&target);
		return done(lk, RES_OPAQUE); /* the call fails with ELOOP */
	}
	pop_component(&r->path);
	if (target.buf[0] == '/') {
		if (w->resolve & RESOLVE_BENEATH) {
			strbuf_release(&target);
			return done(lk, RES_OPAQUE);
		}
		strbuf_reset(&r->path);
		strbuf_addstr(&r->path, w->resolve & RESOLVE_IN_ROOT ? lk->root : "/");
	}
	track_location(lk, false);
	splice_rest(lk, &target, true);
	strbuf_release(&target);
	return STEP_ON;
}

/*
 * The component at hand is not a directory and more follows: the next
 * lookup fails with ENOTDIR, and for host state that next name is absent.
 */
static enum step step_not_dir(struct lookup *lk)
{
	struct res *r = lk->r;

	/*
	 * The component is no directory, so what follows is ENOTDIR
	 * whatever it names. Its stat says so; an absence of the next name
	 * would also hold where it is a directory without that name
	 * (ENOENT: another answer, and lookup.c's absence wants ENOENT).
	 */
	if (lk->w->t->nest && lk->w->pid)
		trace_nest_observe(lk->w->t, lk->w->pid, TRACE_STAT, r->path.buf, NULL, false);
	if (r->where == W_HOST) {
		const char *c;
		size_t len = peek_component(lk->rest.buf, &c);

		trace_record_found(lk->w->t, r, TRACE_STAT, lk->w->sc);
		strbuf_addch(&r->hostpath, '/');
		strbuf_add(&r->hostpath, c, len);
	}
	return done(lk, RES_MISSING);
}

/* Look the component at hand up in r->path, the job's view. */
static enum step step_lookup(struct lookup *lk)
{
	struct res *r = lk->r;
	int err;

	if (r->path.len > 1)
		strbuf_addch(&r->path, '/');
	strbuf_addbuf(&r->path, &lk->name);
	track_location(lk, true);
	/*
	 * A directory on the way already known as a host directory (only a
	 * removal or rename changes that: see struct trace): nothing to look
	 * at, nothing to record.
	 */
	if (!lk->last && !lk->w->stale &&
	    strmap_get(&lk->w->t->hostdirs, r->path.buf, r->path.len) != -1) {
		visit(lk);
		r->where = W_HOST;
		host_path(layer_for(lk->w->t, r->path.buf), r->path.buf, &r->hostpath);
		memset(&r->st, 0, sizeof(r->st));
		r->st.st_mode = S_IFDIR; /* not the result: a component follows */
		lk->forced = false;
		return STEP_ON;
	}
	err = lstat_in_view(lk);
	if (err == ENOENT || err == ENOTDIR)
		return step_missing(lk, err);
	if (err)
		return step_unexaminable(lk, err);
	if (r->where == W_HOST && S_ISDIR(r->st.st_mode) && !lk->last && !lk->forced)
		strmap_add(&lk->w->t->hostdirs, r->path.buf);
	if (S_ISLNK(r->st.st_mode) && (!lk->last || lk->w->follow_last || lk->trailing))
		return step_symlink(lk);
	if (!lk->last && !S_ISDIR(r->st.st_mode))
		return step_not_dir(lk);
	return STEP_ON;
}

/*
 * With cfg.access: the component at hand is looked up in r->path, which
 * the kernel lets the job do only with search permission there (every
 * component: ".", ".." and the first of a relative path too), and a
 * creation, removal or rename in it only with write permission; the
 * supervisor is never refused either. So the directory's access is
 * recorded when it is host state (trace_record_access()), once per run.
 * The job's own directories are its own: nothing to record.
 * NEEDSWORK: not an execution unit's observation (trace_nest_observe):
 * once per run is not once per unit; which record a unit should get
 * (DESIGN.md §3 "Access") is still open. Until then a root supervisor
 * refuses the units of such a job (trace_nest_exec(), §13.6).
 */
static void record_searched(struct lookup *lk)
{
	struct trace *t = lk->w->t;
	const char *dir = lk->r->path.len ? lk->r->path.buf : "/";
	struct strbuf host = STRBUF_INIT;
	struct stat st;
	bool forced = false;

	if (!t->cfg.access || strmap_has(&t->searched, dir))
		return;
	switch (where_is(lk->w, dir, &host, &forced)) {
	case W_HOST:
		if (lstat(host.buf, &st) < 0) {
			/* the walk's own look at it decides (a taint) */
			strbuf_release(&host);
			return;
		}
		trace_record_access(t, host.buf, &st, lk->w->sc);
		break;
	case W_INTERNAL:
		break;
	case W_JOB:
		/*
		 * Not remembered: a fast-path record handled after the
		 * job's write may still find it host state (where_is(),
		 * forced), as the lookup it stands for did.
		 */
		strbuf_release(&host);
		return;
	}
	strmap_add(&t->searched, dir);
	strbuf_release(&host);
}

static enum step step_component(struct lookup *lk)
{
	record_searched(lk);
	/*
	 * "." and ".." leave the walk at a directory whose stat was not
	 * taken (a known host directory) or is another's (the one left by
	 * ".."): if it ends there, walk_end() looks at it.
	 */
	if (!strcmp(lk->name.buf, ".")) {
		lk->walked = false;
		return STEP_ON;
	}
	if (!strcmp(lk->name.buf, "..")) {
		lk->walked = false;
		return step_dotdot(lk);
	}
	lk->walked = true;
	if (at_proc_pid(lk))
		return step_proc_pid(lk);
	if (in_proc_pid(lk))
		return step_proc_pid_entry(lk);
	return step_lookup(lk);
}

/* Where the walk starts: the root or @base. */
static enum step walk_start(struct lookup *lk, const char *base, const char *name)
{
	const uint64_t resolve = lk->w->resolve;

	strbuf_reset(&lk->r->path);
	lk->root = (resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)) ? base : "/";
	if (name[0] == '/' && !(resolve & RESOLVE_IN_ROOT)) {
		if (resolve & RESOLVE_BENEATH)
			return done(lk, RES_OPAQUE); /* the kernel refuses: EXDEV */
		strbuf_addch(&lk->r->path, '/');
	} else {
		strbuf_addstr(&lk->r->path, base);
		if (is_proc_pid(base) && strchr(base + 6, '/'))
			trace_proc_audit_facts(lk->w->t, lk->w->pid, lk->w->sc, NULL, name);
		/*
		 * From a directory inside /proc/<pid> (an fd of
		 * /proc/self/fd, a cwd in fdinfo): the walk does not see
		 * the entries of /proc/<pid> it starts below, so whatever
		 * it names may be fd 0 (DESIGN.md §13.3, "Stdin unseen").
		 */
		if (lk->w->pid > 0 && is_proc_pid(base) && strchr(base + 6, '/'))
			trace_nest_fd0_seen(lk->w->t, lk->w->pid);
		/* from inside /proc/<pid> (a cwd there, an fd of it) */
		if (lk->w->pid > 0 && is_proc_pid(base))
			trace_nest_proc_pid(lk->w->t, lk->w->pid, base + 6,
					    (size_t)(strchrnul(base + 6, '/') - (base + 6)));
	}
	strbuf_addstr(&lk->rest, name);
	track_location(lk, false);
	return STEP_ON;
}

/* Every component was resolved: the object is found. */
static void walk_end(struct lookup *lk)
{
	if (!lk->walked) {
		/* the base itself ("/", ".", AT_EMPTY_PATH, /proc/self/fd/N),
		 * or where "." or ".." left the walk */
		if (!lk->r->path.len)
			strbuf_addch(&lk->r->path, '/');
		if (lstat_in_view(lk)) {
			done(lk, RES_OPAQUE); /* deleted file or directory */
			return;
		}
	}
	done(lk, RES_FOUND);
}

void trace_walk_path(const struct walk *w, const char *base, const char *name,
		     struct res *r)
{
	struct lookup lk = { .w = w, .r = r, .rest = STRBUF_INIT,
			     .name = STRBUF_INIT, .view = STRBUF_INIT };
	enum step s = walk_start(&lk, base, name);

	while (s == STEP_ON && next_component(&lk))
		s = step_component(&lk);
	if (s == STEP_ON)
		walk_end(&lk);
	strbuf_release(&lk.rest);
	strbuf_release(&lk.name);
	strbuf_release(&lk.view);
}

int trace_walk_from_cwd(const struct walk *w, const char *name, struct res *r)
{
	struct strbuf cwd = STRBUF_INIT;
	int err = 0;

	if (name[0] != '/')
		err = trace_dirfd_path(w->pid, AT_FDCWD, &cwd);
	if (!err)
		trace_walk_path(w, cwd.len ? cwd.buf : "/", name, r);
	strbuf_release(&cwd);
	return err;
}

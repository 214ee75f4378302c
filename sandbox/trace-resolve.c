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
	if (is_proc_pid(p) || path_has_prefix_component(p, "/dev"))
		return W_INTERNAL;
	for (i = 0; i < t->cfg.nr_private_paths; i++)
		if (path_has_prefix_component(p, t->private_paths[i]))
			return W_INTERNAL;
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
}

void trace_res_seen(struct trace *t, const struct res *r)
{
	if (r->key.len && r->where == W_HOST &&
	    (r->status == RES_FOUND || r->status == RES_MISSING))
		strmap_add(&t->seen, r->key.buf);
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

int trace_readlink(const char *path, struct strbuf *out)
{
	char buf[PATH_MAX + 1];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (n < 0)
		return -errno;
	strbuf_reset(out);
	strbuf_add(out, buf, (size_t)n);
	return 0;
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

void trace_walk_path(const struct walk *w, const char *base, const char *name,
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
		     trace_is_digits(tmp.buf, tmp.len))) {
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
					trace_taint(t, "syscall %s: path through /proc/%s/%s not modelled",
						    w->sc, pidc, tmp.buf);
					r->status = RES_FAILED;
					goto out;
				}
				if (!strcmp(tmp.buf, "fd")) {
					const char *c2 = rest.buf, *e2;

					while (*c2 == '/')
						c2++;
					e2 = strchrnul(c2, '/');
					if (!trace_is_digits(c2, (size_t)(e2 - c2))) {
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
				    trace_readlink(link, &target) < 0 || target.buf[0] != '/') {
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
			trace_view_path(w->pid, r->path.buf, &view);
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

				if (!trace_obs_find(t, TRACE_OUTPUT, r->hostpath.buf)) {
					o = trace_obs_add(t, TRACE_OUTPUT, r->hostpath.buf, w->sc, NULL);
					if (!trace_output_creation(w->pid, r->hostpath.buf,
								   w->open_mode, o))
						trace_taint(t, "syscall %s: cannot tell how %s would be created",
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
					trace_obs_add(t, TRACE_STAT, parent.buf, w->sc, &pst);
				strbuf_release(&parent);
			}
			if (wh == W_HOST && !(last && err == ENOENT && w->create == CREATE_TRUNC)) {
				trace_record_always_changing(t, r->hostpath.buf, w->sc);
				trace_obs_add(t, TRACE_ABSENT, r->hostpath.buf, w->sc, NULL);
			}
			r->status = RES_MISSING;
			goto out;
		}
		if (err) {
			if (wh == W_HOST) {
				trace_taint(t, "syscall %s: cannot examine %s: %s", w->sc,
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
			int rr = trace_readlink(wh == W_HOST ? r->hostpath.buf : view.buf, &target);

			if (rr < 0) {
				strbuf_release(&target);
				if (wh == W_HOST) {
					trace_taint(t, "syscall %s: cannot read symlink %s", w->sc,
						    r->hostpath.buf);
					r->status = RES_FAILED;
				} else {
					r->status = RES_OPAQUE;
				}
				goto out;
			}
			if (wh == W_HOST) {
				struct trace_obs *o = trace_obs_add(t, TRACE_SYMLINK, r->hostpath.buf,
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
				trace_obs_add(t, TRACE_ABSENT, r->hostpath.buf, w->sc, NULL);
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
			trace_view_path(w->pid, r->path.buf, &view);
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

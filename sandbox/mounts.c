/*
 * The job's file system view (DESIGN.md section 2).
 *
 * Two halves:
 *  - sbx_mounts_plan() runs in the supervisor from sbx_new(): it reads the
 *    host mount table (/proc/self/mountinfo) and, for the rootless view, the host
 *    directories, and turns them into layers (with their upper/work
 *    directories under R/layers/<n>/) and a list of steps;
 *  - sbx_mounts_build() and sbx_mounts_mask() run in init, in the new
 *    mount namespace, and only make system calls: overlays and fresh
 *    mounts under R/root, pivot_root, masks.
 *
 * Every mount uses the new mount API (fsopen/fsconfig/fsmount,
 * open_tree/mount_setattr, move_mount), so no path is ever parsed as part
 * of an option string, and targets are reached relative to a held fd of
 * the new root.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/path.h"
#include "common/xalloc.h"
#include "sandbox/sbx-internal.h"
#include "sandbox/status.h"

#include "common/banned.h"

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

/* File system types never shown through an overlay (made fresh or hidden). */
static const char *const pseudo_fstypes[] = {
	"proc", "sysfs", "cgroup", "cgroup2", "devpts", "mqueue", "debugfs",
	"tracefs", "securityfs", "pstore", "bpf", "configfs", "fusectl",
	"hugetlbfs", "binfmt_misc", "autofs", "efivarfs", "nsfs",
	"rpc_pipefs", "devtmpfs", NULL,
};

static bool is_pseudo(const char *fstype)
{
	size_t i;

	for (i = 0; pseudo_fstypes[i]; i++)
		if (!strcmp(fstype, pseudo_fstypes[i]))
			return true;
	return false;
}

/* The host mount table, reduced to what planning needs. */
struct host_mount {
	char *target;
	bool pseudo;
};

struct host_mounts {
	struct host_mount *v;
	size_t nr, alloc;
};

static void host_mounts_release(struct host_mounts *m)
{
	size_t i;

	for (i = 0; i < m->nr; i++)
		free(m->v[i].target);
	free(m->v);
}

static int cmp_host_mount(const void *a, const void *b)
{
	return strcmp(((const struct host_mount *)a)->target,
		      ((const struct host_mount *)b)->target);
}

/*
 * Decode a mountinfo field in place: the kernel writes space, tab,
 * newline and backslash as \ooo (octal), and nothing else so. Returns
 * false for a malformed escape (the line is not trusted then).
 */
static bool mountinfo_unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (*s != '\\') {
			*w++ = *s;
			continue;
		}
		if (s[1] < '0' || s[1] > '3' || s[2] < '0' || s[2] > '7' ||
		    s[3] < '0' || s[3] > '7')
			return false;
		*w++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
		s += 3;
	}
	*w = '\0';
	return true;
}

/*
 * One line of /proc/self/mountinfo (proc(5)): "ID PARENT MAJ:MIN ROOT
 * TARGET OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER-OPTIONS". Sets
 * @target and @fstype (pointers into @line, decoded); false for a line
 * that does not have that shape.
 */
static bool mountinfo_line(char *line, char **target, char **fstype)
{
	char *field[6], *save = NULL, *f;
	size_t n = 0;

	for (f = strtok_r(line, " ", &save); f && n < 6; f = strtok_r(NULL, " ", &save))
		field[n++] = f;
	if (n < 6)
		return false;
	/* the optional fields end at a lone "-"; the type follows it */
	while (f && strcmp(f, "-"))
		f = strtok_r(NULL, " ", &save);
	if (!f || !(f = strtok_r(NULL, " ", &save)))
		return false;
	if (!mountinfo_unescape(field[4]) || !mountinfo_unescape(f))
		return false;
	/*
	 * A mount point whose directory was deleted reads "PATH\040(deleted)";
	 * it is PATH's mount (as libmount reads it), unreachable by name.
	 */
	size_t len = strlen(field[4]);
	static const char deleted[] = " (deleted)";
	if (len > sizeof(deleted) - 1 &&
	    !strcmp(field[4] + len - (sizeof(deleted) - 1), deleted))
		field[4][len - (sizeof(deleted) - 1)] = '\0';
	*target = field[4];
	*fstype = f;
	return true;
}

/*
 * The host mount table, in mountinfo order (parents before children).
 * Parsed here rather than with libmount: loading libmount, with the
 * libblkid, libselinux and libpcre2 it pulls in, cost every sandboxed run
 * more than reading the table (docs/BENCHMARKS.md), for two fields.
 */
static int host_mounts_read(struct host_mounts *m, struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf buf = STRBUF_INIT;
	size_t i, j;
	ssize_t r;
	char *line, *next;

	r = strbuf_read_file_at(&buf, AT_FDCWD, "/proc/self/mountinfo", 8192);
	if (r < 0)
		return strbuf_error(err, (int)r, "cannot read '/proc/self/mountinfo'");
	for (line = buf.buf; line && *line; line = next) {
		char *target, *type;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!mountinfo_line(line, &target, &type)) {
			strbuf_addstr(err, "cannot read '/proc/self/mountinfo': a line is not of the form proc(5) gives");
			return -EIO;
		}
		if (target[0] != '/')
			continue;
		ALLOC_GROW(m->v, m->nr + 1, m->alloc);
		m->v[m->nr].target = path_clean(target);
		m->v[m->nr].pseudo = is_pseudo(type);
		m->nr++;
	}

	/*
	 * Stacked mounts on one target: the last one in mountinfo order is
	 * on top and is what a path lookup finds. A stable sort keeps that
	 * order among equal targets; keep the last of each run.
	 */
	for (i = 1; i < m->nr; i++) {
		struct host_mount tmp = m->v[i];

		for (j = i; j > 0 && strcmp(m->v[j - 1].target, tmp.target) > 0; j--)
			m->v[j] = m->v[j - 1];
		m->v[j] = tmp;
	}
	for (i = 0, j = 0; i < m->nr; i++) {
		if (i + 1 < m->nr && !strcmp(m->v[i].target, m->v[i + 1].target)) {
			free(m->v[i].target);
			continue;
		}
		m->v[j++] = m->v[i];
	}
	m->nr = j;
	(void)cmp_host_mount;
	return 0;
}

/* True if some host mount lies strictly beneath @dir. */
static bool has_submount(const struct host_mounts *m, const char *dir)
{
	size_t i;

	for (i = 0; i < m->nr; i++)
		if (strcmp(m->v[i].target, dir) &&
		    path_has_prefix_component(m->v[i].target, dir))
			return true;
	return false;
}

static const struct host_mount *find_mount(const struct host_mounts *m,
					   const char *target)
{
	size_t i;

	for (i = 0; i < m->nr; i++)
		if (!strcmp(m->v[i].target, target))
			return &m->v[i];
	return NULL;
}

/* Paths whose host content is never shown through an overlay. */
static bool is_fresh(const struct sbx *s, const char *path)
{
	return path_has_prefix_component(path, "/proc") ||
	       path_has_prefix_component(path, "/sys") ||
	       path_has_prefix_component(path, "/dev") ||
	       (!s->cfg.share_tmp && path_has_prefix_component(path, "/tmp"));
}

static bool is_hidden(const struct sbx *s, const char *path)
{
	size_t i;

	if (path_has_prefix_component(path, s->run_root))
		return true;
	for (i = 0; s->masks[i]; i++)
		if (path_has_prefix_component(path, s->masks[i]))
			return true;
	return false;
}

static struct sbx_view_step *add_step(struct sbx *s, enum sbx_view_op op,
				      const char *abs_path)
{
	struct sbx_view_step *st;

	ALLOC_GROW(s->steps, s->nr_steps + 1, s->alloc_steps);
	st = &s->steps[s->nr_steps++];
	memset(st, 0, sizeof(*st));
	st->op = op;
	st->path = xstrdup(abs_path + 1);	/* relative to the new root */
	return st;
}

static bool in_groups(gid_t gid)
{
	gid_t groups[256];
	int n = getgroups(ARRAY_SIZE(groups), groups), i;

	for (i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/*
 * Create R/@rel with @mode, owned by the ids the job's are mapped from
 * when they are not the runner's. 0 or -errno with a message in @err.
 */
static int make_layer_dir(struct sbx *s, const char *rel, mode_t mode,
			  struct strbuf *err)
{
	int e;

	if (mkdirat(s->run_dir_fd, rel, mode) == 0 &&
	    (!s->userns || s->map_uid == s->host_uid ||
	     fchownat(s->run_dir_fd, rel, s->map_uid, s->map_gid,
		      AT_SYMLINK_NOFOLLOW) == 0))
		return 0;
	e = errno;
	strbuf_addf(err, "cannot create '%s/%s': %s", s->run_dir, rel,
		    strerror(e));
	return -e;
}

/*
 * A new layer showing host directory @dir, with R/layers/<n>/upper and
 * work. In untrusted mode as root the job (and init, which mounts the
 * overlay) runs as SBX_UNTRUSTED_ID: upper and work must be theirs.
 */
static int add_layer(struct sbx *s, const char *dir, struct strbuf *err)
{
	struct sbx_layer *l;
	char name[64];
	size_t n = s->nr_layers;
	const char *sub[] = { "upper", "work" };
	size_t i;
	int ret;

	snprintf(name, sizeof(name), "layers/%zu", n);
	ret = make_layer_dir(s, name, 0700, err);
	if (ret < 0)
		return ret;
	for (i = 0; i < ARRAY_SIZE(sub); i++) {
		char p[80];

		snprintf(p, sizeof(p), "%s/%s", name, sub[i]);
		ret = make_layer_dir(s, p, 0755, err);
		if (ret < 0)
			return ret;
	}
	/*
	 * The overlay's root directory takes its owner and mode from the
	 * upper root: give it the lower's, so the mount point looks as on
	 * the host. Only root can give it the lower's owner. In a user
	 * namespace the upper root belongs to the job's own (host) uid, so
	 * its owner bits are set to what the job may do on the host
	 * directory: a rootless job cannot create entries in /etc. (init,
	 * which copies up, has CAP_DAC_OVERRIDE over that directory.)
	 */
	{
		struct stat lst;
		char p[80];

		snprintf(p, sizeof(p), "%s/upper", name);
		if (stat(dir, &lst) == 0) {
			mode_t mode = lst.st_mode & 07777;

			if (!s->userns) {
				(void)fchownat(s->run_dir_fd, p, lst.st_uid,
					       lst.st_gid, AT_SYMLINK_NOFOLLOW);
			} else {
				mode_t eff;

				if (lst.st_uid == s->map_uid)
					eff = (mode >> 6) & 7;
				else if (lst.st_gid == s->map_gid ||
					 (s->map_uid == s->host_uid &&
					  in_groups(lst.st_gid)))
					eff = (mode >> 3) & 7;
				else
					eff = mode & 7;
				/*
				 * r-x stay: the supervisor reads the upper
				 * for the diff; the job still cannot read
				 * a lower it may not read (overlayfs reads
				 * it with init's creds, which have no
				 * override over unmapped owners).
				 */
				mode = (mode & ~0700) | (eff << 6) | S_IRUSR |
				       S_IXUSR;
			}
			(void)fchmodat(s->run_dir_fd, p, mode, 0);
		}
	}
	ALLOC_GROW(s->layers, n + 1, s->alloc_layers);
	l = &s->layers[n];
	l->mountpoint = xstrdup(dir);
	l->lower = xstrdup(dir);
	l->upper = xasprintf("%s/%s/upper", s->run_dir, name);
	l->work = xasprintf("%s/%s/work", s->run_dir, name);
	s->nr_layers++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What the job (host ids map_uid/map_gid) may do on @sb: rwx bits. */
static mode_t job_access(const struct sbx *s, const struct stat *sb)
{
	mode_t mode = sb->st_mode;

	if (sb->st_uid == s->map_uid)
		return (mode >> 6) & 7;
	if (sb->st_gid == s->map_gid ||
	    (s->map_uid == s->host_uid && in_groups(sb->st_gid)))
		return (mode >> 3) & 7;
	return mode & 7;
}

/*
 * Rootless: could the job write anything below host directory @dir
 * through an overlay? Copy-up re-creates parents with their owners, and
 * an owner not mapped in the user namespace fails (EOVERFLOW). So only
 * @dir itself, when the job may write it, or an entry directly in it
 * owned by the job, can ever be written. If neither, a read-only bind
 * shows the same thing at a fraction of an overlay's cost (no upper,
 * no work directory); writing there fails with EROFS instead of EACCES
 * or EOVERFLOW.
 */
static bool job_may_write_below(const struct sbx *s, const char *dir,
				const struct stat *dsb)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (job_access(s, dsb) & 2)
		return true;
	if (!(job_access(s, dsb) & 1))
		return false;	/* cannot even reach its entries */
	d = opendir(dir);
	if (!d)
		return true;	/* searchable, unlistable: cannot tell */
	while ((de = readdir(d))) {
		struct stat sb;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    sb.st_uid == s->map_uid)
			return true;
	}
	return false;
}

/*
 * Rootless view: re-create host directory @dir in the skeleton. Each
 * entry becomes an overlay (a directory without submounts), a skeleton
 * directory handled recursively (with submounts), a symlink, or a
 * read-only bind of a file.
 */
static int plan_skeleton_dir(struct sbx *s, const struct host_mounts *m,
			     const char *dir, struct strbuf *err)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	char **names = NULL;
	size_t nr = 0, alloc = 0, i;
	struct dirent *de;
	int ret = 0;

	if (!d) {
		int e = errno;

		strbuf_addf(err, "cannot read directory '%s': %s", dir,
			    strerror(e));
		return -e;
	}
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ALLOC_GROW(names, nr + 1, alloc);
		names[nr++] = xstrdup(de->d_name);
	}
	if (errno) {
		int e = errno;

		strbuf_addf(err, "cannot read directory '%s': %s", dir,
			    strerror(e));
		ret = -e;
		goto out;
	}
	qsort(names, nr, sizeof(*names), cmp_str);

	for (i = 0; i < nr && !ret; i++) {
		_cleanup_free_ char *path = path_join(dir, names[i]);
		const struct host_mount *hm = find_mount(m, path);
		struct sbx_view_step *st;
		struct stat sb;

		if (is_fresh(s, path)) {
			/* Only top-level ones get a fresh mount; see build. */
			if (!strcmp(dir, "/"))
				add_step(s, VIEW_FRESH, path);
			continue;
		}
		if (lstat(path, &sb) < 0) {
			if (errno == ENOENT)
				continue;	/* vanished meanwhile */
			ret = -errno;
			strbuf_addf(err, "cannot stat '%s': %s", path,
				    strerror(errno));
			break;
		}
		if (S_ISDIR(sb.st_mode)) {
			if (hm && hm->pseudo) {
				/* A pseudo file system is not shown. */
				st = add_step(s, VIEW_DIR, path);
				st->mode = sb.st_mode & 07777;
			} else if (has_submount(m, path)) {
				st = add_step(s, VIEW_DIR, path);
				st->mode = sb.st_mode & 07777;
				ret = plan_skeleton_dir(s, m, path, err);
			} else if (is_hidden(s, path)) {
				/* All of it is masked (or is the run root). */
				st = add_step(s, VIEW_DIR, path);
				st->mode = sb.st_mode & 07777;
			} else if (!s->cfg.untrusted &&
				   !job_may_write_below(s, path, &sb)) {
				/*
				 * Not untrusted: a bind shows the host's own
				 * inodes, so a host Unix socket below is the
				 * real one, and the tracer's check of a
				 * connect() address is a race a job can win
				 * (it reads the address, the kernel reads it
				 * again). Through an overlay, connect() to a
				 * lower socket is refused by the kernel.
				 */
				st = add_step(s, VIEW_BIND_RO, path);
				st->host = xstrdup(path);
			} else {
				ret = add_layer(s, path, err);
				if (!ret) {
					st = add_step(s, VIEW_OVERLAY, path);
					st->layer = s->nr_layers - 1;
				}
			}
		} else if (S_ISLNK(sb.st_mode)) {
			_cleanup_free_ char *target = xmalloc(PATH_MAX);
			ssize_t n = readlink(path, target, PATH_MAX - 1);

			if (n < 0) {
				ret = -errno;
				strbuf_addf(err, "cannot read link '%s': %s",
					    path, strerror(errno));
				break;
			}
			target[n] = '\0';
			st = add_step(s, VIEW_SYMLINK, path);
			st->target = steal_pointer(&target);
		} else if (S_ISREG(sb.st_mode)) {
			st = add_step(s, VIEW_FILE, path);
			st->host = xstrdup(path);
		}
		/*
		 * NEEDSWORK: a fifo, socket or device directly in a skeleton
		 * directory (not inside an overlay) is not shown; none exist
		 * at the top of a usual root file system.
		 */
	}
out:
	for (i = 0; i < nr; i++)
		free(names[i]);
	free(names);
	return ret;
}

/*
 * Rootless: copy-up re-creates the parents of a written file in the upper
 * directory with their owners, and a parent owned by an id that is not
 * mapped in the user namespace (root) fails with EOVERFLOW. So a job
 * could not write in its own working directory when a root-owned
 * directory lies between it and the layer's root (/var/tmp/me/src below
 * the /var layer). The working directory gets a layer of its own.
 */
static int plan_cwd_layer(struct sbx *s, struct strbuf *err)
{
	const struct sbx_layer *parent = NULL;
	struct sbx_view_step *st;
	struct stat sb;
	size_t i;
	int ret;

	if (is_fresh(s, s->cwd) || is_hidden(s, s->cwd) ||
	    stat(s->cwd, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return 0;	/* the job's chdir() will report it */
	for (i = 0; i < s->nr_layers; i++)
		if (path_has_prefix_component(s->cwd, s->layers[i].mountpoint))
			parent = &s->layers[i];
	if (parent && !strcmp(parent->mountpoint, s->cwd))
		return 0;
	if (!parent) {
		/* Below a read-only bind, or in the skeleton itself (no). */
		bool in_bind = false;

		for (i = 0; i < s->nr_steps; i++)
			if (s->steps[i].op == VIEW_BIND_RO &&
			    path_has_prefix_component(s->cwd, s->steps[i].host))
				in_bind = true;
		if (!in_bind)
			return 0;
	}
	if (!job_may_write_below(s, s->cwd, &sb))
		return 0;
	ret = add_layer(s, s->cwd, err);
	if (ret < 0)
		return ret;
	st = add_step(s, VIEW_OVERLAY, s->cwd);
	st->layer = s->nr_layers - 1;
	return 0;
}

int sbx_mounts_plan(struct sbx *s, struct strbuf *err)
{
	struct host_mounts m = { 0 };
	size_t i;
	int ret;

	ret = host_mounts_read(&m, err);
	if (ret < 0)
		goto out;

	if (s->skeleton) {
		ret = plan_skeleton_dir(s, &m, "/", err);
		if (!ret)
			ret = plan_cwd_layer(s, err);
		goto out;
	}

	/* /sys's own submounts but the cgroup tree (build_sys()) */
	if (s->cfg.hostfacts_dir) {
		s->sys_planned = true;
		for (i = 0; i < m.nr; i++) {
			const char *t = m.v[i].target;
			bool inside = false;

			/* hostfacts.c's sbx_synthetic_cgroup_dir */
			if (!strcmp(t, "/sys") || !path_has_prefix_component(t, "/sys") ||
			    path_has_prefix_component(t, "/sys/fs/cgroup"))
				continue;
			for (size_t k = 0; k < s->nr_sys_mounts && !inside; k++)
				inside = path_has_prefix_component(t, s->sys_mounts[k]);
			if (inside)
				continue;
			s->sys_mounts = xrealloc(s->sys_mounts,
						 (s->nr_sys_mounts + 1) * sizeof(*s->sys_mounts));
			s->sys_mounts[s->nr_sys_mounts++] = xstrdup(t);
		}
	}

	/* As root: one overlay per real file system mount, "/" first. */
	for (i = 0; i < m.nr; i++) {
		const char *t = m.v[i].target;
		size_t j;
		bool skip = m.v[i].pseudo || is_hidden(s, t) ||
			    (strcmp(t, "/") && is_fresh(s, t));

		/* Below a pseudo mount: not visible either. */
		for (j = 0; j < i && !skip; j++)
			if (m.v[j].pseudo &&
			    path_has_prefix_component(t, m.v[j].target))
				skip = true;
		if (skip)
			continue;
		if (!s->nr_layers && strcmp(t, "/")) {
			strbuf_addf(err, "no root file system in the mount table");
			ret = -ENOENT;
			goto out;
		}
		if (strcmp(t, "/")) {
			struct stat sb;

			if (stat(t, &sb) < 0)
				continue;	/* unreachable mount point */
			if (!S_ISDIR(sb.st_mode)) {
				/*
				 * A file bind-mounted by the host (a container's
				 * /etc/resolv.conf): no overlay of a file, so it
				 * is shown read-only; writing it fails visibly.
				 */
				struct sbx_view_step *st = add_step(s, VIEW_FILE, t);

				st->host = xstrdup(t);
				continue;
			}
		}
		ret = add_layer(s, t, err);
		if (ret < 0)
			goto out;
		if (s->nr_layers > 1) {
			struct sbx_view_step *st = add_step(s, VIEW_OVERLAY, t);

			st->layer = s->nr_layers - 1;
		}
	}
	if (!s->nr_layers) {
		strbuf_addf(err, "no root file system in the mount table");
		ret = -ENOENT;
	}
out:
	host_mounts_release(&m);
	return ret;
}

/* ---------------------------------------------------------------------
 * In init: build the view. Failures end init with a message naming the
 * stage and the path as the job will see it.
 */

static int set_attr(int fd, const char *path, unsigned flags, uint64_t set)
{
	struct mount_attr attr = { .attr_set = set };

	return mount_setattr(fd, path, flags, &attr, sizeof(attr));
}

/* Append the kernel's own message for a failed fsconfig (fs context log). */
static void fs_log(int fsfd, char *buf, size_t len)
{
	ssize_t n;

	buf[0] = '\0';
	n = read(fsfd, buf, len - 1);
	if (n > 0) {
		buf[n] = '\0';
		if (buf[n - 1] == '\n')
			buf[n - 1] = '\0';
	} else {
		buf[0] = '\0';
	}
}

static int fs_set(int fsfd, const char *key, const char *value)
{
	if (value)
		return fsconfig(fsfd, FSCONFIG_SET_STRING, key, value, 0);
	return fsconfig(fsfd, FSCONFIG_SET_FLAG, key, NULL, 0);
}

/*
 * A new mount of @fstype with @opts ({key, value} pairs, value NULL for a
 * flag), attached at @rel below @dirfd. Returns 0 or -1 with errno; on
 * failure *@what says which step.
 */
static int mount_fresh_fd(int dirfd, const char *rel, const char *fstype,
			  const char *const *opts, uint64_t attrs,
			  const char **what, int *out_mfd)
{
	_cleanup_close_ int fsfd = -1, mfd = -1;
	size_t i;

	*what = "fsopen";
	fsfd = fsopen(fstype, FSOPEN_CLOEXEC);
	if (fsfd < 0)
		return -1;
	*what = "fsconfig";
	for (i = 0; opts && opts[i]; i += 2)
		if (fs_set(fsfd, opts[i], opts[i + 1]) < 0)
			return -1;
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return -1;
	*what = "fsmount";
	mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, attrs);
	if (mfd < 0)
		return -1;
	*what = "move_mount";
	if (move_mount(mfd, "", dirfd, rel,
		       MOVE_MOUNT_F_EMPTY_PATH |
			       (*rel ? 0 : MOVE_MOUNT_T_EMPTY_PATH)) < 0)
		return -1;
	if (out_mfd)
		*out_mfd = steal_fd(&mfd);
	return 0;
}

static int mount_fresh(int dirfd, const char *rel, const char *fstype,
		       const char *const *opts, uint64_t attrs,
		       const char **what)
{
	return mount_fresh_fd(dirfd, rel, fstype, opts, attrs, what, NULL);
}

/*
 * A host mount the plan saw can be unmounted and its directory removed
 * before init mounts its layer (another process's tmpfs on a busy
 * machine): the lower directory is gone (ENOENT), and so is the mount
 * point in the view, whose parent layer shows the host as it is now.
 * Then there is nothing to mount: the view matches the host without it
 * (its layer's upper directory stays empty). Not for the root, and not
 * when the mount point is still there: that is a failure.
 */
static bool mount_point_vanished(int dirfd, const char *rel)
{
	struct stat st;
	int e = errno;

	if (e != ENOENT || !*rel)
		return false;
	if (fstatat(dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT) {
		errno = e;
		return false;
	}
	return true;
}

/*
 * The same when the mount was unmounted but its directory is still there
 * (a tmpfs a test mounts and unmounts in a loop): overlayfs then refuses
 * the lower directory (EINVAL) or move_mount() the target, and the host
 * shows a plain directory there, which the parent layer shows too. Only
 * for a layer that is not the root, and only when the lower directory is
 * known to be no mount root any more (statx STATX_ATTR_MOUNT_ROOT).
 */
static bool lower_unmounted(const char *rel, const struct sbx_layer *l)
{
	struct statx sx;
	int e = errno;
	bool gone;

	if (!*rel)
		return false;
	if (statx(AT_FDCWD, l->lower, AT_SYMLINK_NOFOLLOW, STATX_TYPE, &sx) < 0)
		gone = errno == ENOENT;
	else
		gone = (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
		       !(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
	errno = e;
	return gone;
}

static void mount_overlay(struct sbx *s, int dirfd, const char *rel,
			  const struct sbx_layer *l, int status_fd, int *out_mfd)
{
	_cleanup_close_ int fsfd = -1, mfd = -1;
	/*
	 * redirect_dir=nofollow: never create nor follow redirects ("off"
	 * means "follow" on kernels built with redirect_always_follow, which
	 * userxattr refuses, and would follow redirects found on the host).
	 */
	static const char *const opts[] = {
		"redirect_dir", "nofollow", "metacopy", "off", "index", "off",
		"uuid", "off", "xino", "off", "volatile", NULL,
	};
	/*
	 * "lowerdir+" takes its path as it is, but overlayfs still unescapes
	 * "upperdir" and "workdir" (ovl_mount_dir(): a backslash quotes the
	 * next character) even through fsconfig: a cache directory named
	 * 'a\b' would make it look for 'ab'. Every special character gets
	 * its backslash; removing them gives the path back.
	 */
	_cleanup_free_ char *upper = path_escape_mount_opt(l->upper);
	_cleanup_free_ char *work = path_escape_mount_opt(l->work);
	char log[256];
	size_t i;

	fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fsfd < 0)
		sbx_child_fail(status_fd, "cannot mount overlay on '%s': fsopen",
			       l->mountpoint);
	if (fs_set(fsfd, "lowerdir+", l->lower) < 0 ||
	    fs_set(fsfd, "upperdir", upper) < 0 ||
	    fs_set(fsfd, "workdir", work) < 0)
		goto fail;
	for (i = 0; i < ARRAY_SIZE(opts); i += 2)
		if (fs_set(fsfd, opts[i], opts[i + 1]) < 0)
			goto fail;
	if (s->userns && fs_set(fsfd, "userxattr", NULL) < 0)
		goto fail;
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		goto fail;
	/*
	 * nodev: a job keeps CAP_MKNOD (as in Docker), so the node it makes
	 * must never open (a raw disk, /dev/mem). /dev's nodes are binds
	 * of the host's, with mount flags of their own.
	 */
	mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV);
	if (mfd < 0)
		goto fail;
	if (move_mount(mfd, "", dirfd, rel,
		       MOVE_MOUNT_F_EMPTY_PATH |
			       (*rel ? 0 : MOVE_MOUNT_T_EMPTY_PATH)) < 0) {
		if (mount_point_vanished(dirfd, rel) || lower_unmounted(rel, l))
			return;
		sbx_child_fail(status_fd, "cannot mount overlay on '%s'",
			       l->mountpoint);
	}
	if (out_mfd)
		*out_mfd = steal_fd(&mfd);
	return;
fail: {
	int e = errno;

	if (mount_point_vanished(dirfd, rel) || lower_unmounted(rel, l))
		return;
	fs_log(fsfd, log, sizeof(log));
	errno = e;
	if (log[0])
		sbx_child_fail(status_fd, "cannot mount overlay on '%s' (%s)",
			       l->mountpoint, log);
	sbx_child_fail(status_fd, "cannot mount overlay on '%s'",
		       l->mountpoint);
}
}

/* Bind host @src (a file) read-only onto @rel below @dirfd. */
static int bind_file(const char *src, int dirfd, const char *rel,
		     uint64_t attrs, const char **what)
{
	_cleanup_close_ int fd = -1, tfd = -1;

	/* Read-only: an existing mount point in an overlay is not copied up. */
	*what = "create";
	tfd = openat(dirfd, rel, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		     0444);
	if (tfd < 0)
		return -1;
	*what = "open_tree";
	fd = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (fd < 0)
		return -1;
	*what = "mount_setattr";
	if (attrs && set_attr(fd, "", AT_EMPTY_PATH, attrs) < 0)
		return -1;
	*what = "move_mount";
	return move_mount(fd, "", dirfd, rel, MOVE_MOUNT_F_EMPTY_PATH);
}

/* Bind host directory @src (no submounts) read-only onto a new @rel. */
static int bind_dir_ro(const char *src, int dirfd, const char *rel,
		       const char **what)
{
	_cleanup_close_ int fd = -1;
	unsigned recursive = 0;

	*what = "mkdir";
	if (mkdirat(dirfd, rel, 0755) < 0)
		return -1;
	*what = "open_tree";
	fd = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	/*
	 * EINVAL: a mount appeared below @src after the plan was made
	 * (another process's scratch mount), and in a user namespace its
	 * locked children forbid binding @src alone. Bind it with them, all
	 * read-only: the job sees the host as it now is.
	 */
	if (fd < 0 && errno == EINVAL) {
		recursive = AT_RECURSIVE;
		fd = open_tree(AT_FDCWD, src,
			       OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	}
	if (fd < 0)
		return -1;
	*what = "mount_setattr";
	if (set_attr(fd, "", AT_EMPTY_PATH | recursive, MOUNT_ATTR_RDONLY) < 0)
		return -1;
	*what = "move_mount";
	return move_mount(fd, "", dirfd, rel, MOVE_MOUNT_F_EMPTY_PATH);
}

/*
 * A bind whose host entry was removed since the plan was made (another
 * process's scratch directory, in a directory shown entry by entry): the
 * view shows it absent, as the host now has it, instead of failing the
 * run. Removes the mount point just made; false for any other failure.
 */
static bool vanished(int rootfd, const char *rel, const char *what, int rmflag)
{
	if (errno != ENOENT || strcmp(what, "open_tree"))
		return false;
	return unlinkat(rootfd, rel, rmflag) == 0;
}

static void build_proc(int rootfd, int status_fd)
{
	/* Host-wide knobs the job could change or must not see written. */
	static const char *const ro[] = {
		"proc/sys", "proc/sysrq-trigger", "proc/irq", "proc/bus",
		"proc/fs", "proc/kcore", "proc/keys", "proc/timer_list",
	};
	const char *what;
	size_t i;

	if (mount_fresh(rootfd, "proc", "proc", NULL,
			MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
			&what) < 0)
		sbx_child_fail(status_fd, "cannot mount proc on '/proc': %s",
			       what);
	for (i = 0; i < ARRAY_SIZE(ro); i++) {
		_cleanup_close_ int fd = open_tree(rootfd, ro[i],
						   OPEN_TREE_CLONE |
							   OPEN_TREE_CLOEXEC);

		if (fd < 0) {
			if (errno == ENOENT)
				continue;
			sbx_child_fail(status_fd,
				       "cannot bind '/%s' read-only", ro[i]);
		}
		if (set_attr(fd, "", AT_EMPTY_PATH,
			     MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
				     MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC) < 0 ||
		    move_mount(fd, "", rootfd, ro[i], MOVE_MOUNT_F_EMPTY_PATH) < 0)
			sbx_child_fail(status_fd,
				       "cannot bind '/%s' read-only", ro[i]);
	}
}

/*
 * The tracer's files (struct sbx_tracer binds), in a directory under
 * /dev of their own: a small tmpfs, executable (the fast path's library is
 * mapped so; /dev is noexec), read-only once filled but for the files
 * asked writable, each then a bind mount of its own. A file given by its
 * bytes or size is made there; a host file is bound.
 */
static void build_tracer_files(const struct sbx *s, int rootfd, int status_fd)
{
	static const char *const opts[] = { "mode", "0755", "size", "8m", NULL };
	_cleanup_close_ int mfd = -1;
	int rw[8];
	const char *what = "path", *view;
	char dir[64];
	size_t i, dlen, nr_rw = 0;

	if (!s->has_tracer || !s->tracer.nr_binds)
		return;
	view = s->tracer.binds[0].view;
	dlen = (size_t)(strrchr(view, '/') - view);
	if (!path_has_prefix_component(view, "/dev") || dlen <= 4 || dlen >= sizeof(dir) ||
	    s->tracer.nr_binds > ARRAY_SIZE(rw))
		sbx_child_fail(status_fd, "cannot make '%s': not under /dev", view);
	memcpy(dir, view + 1, dlen - 1);
	dir[dlen - 1] = 0;
	if (mkdirat(rootfd, dir, 0755) < 0 ||
	    mount_fresh_fd(rootfd, dir, "tmpfs", opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
			   &what, &mfd) < 0)
		sbx_child_fail(status_fd, "cannot mount tmpfs on '/%s': %s", dir, what);
	for (i = 0; i < s->tracer.nr_binds; i++) {
		const struct sbx_bind *b = &s->tracer.binds[i];
		const char *name = b->view + dlen + 1;

		if (strncmp(b->view, view, dlen) || b->view[dlen] != '/' || strchr(name, '/'))
			sbx_child_fail(status_fd, "cannot make '%s': not in /%s", b->view, dir);
		if (!b->host) {
			_cleanup_close_ int fd = openat(mfd, name,
							O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
							b->writable ? 0600 : 0555);

			if (fd < 0 || (b->data ? write_full(fd, b->data, b->size)
					       : ftruncate(fd, (off_t)b->size)) < 0)
				sbx_child_fail(status_fd, "cannot write '%s'", b->view);
			if (b->writable) {
				rw[nr_rw] = open_tree(mfd, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
				if (rw[nr_rw++] < 0)
					sbx_child_fail(status_fd, "cannot bind '%s'", b->view);
			}
		} else if (bind_file(b->host, mfd, name,
				     MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
					     (b->writable ? 0 : MOUNT_ATTR_RDONLY),
				     &what) < 0) {
			sbx_child_fail(status_fd, "cannot bind '%s' on '%s': %s", b->host,
				       b->view, what);
		}
	}
	if (set_attr(mfd, "", AT_EMPTY_PATH, MOUNT_ATTR_RDONLY) < 0)
		sbx_child_fail(status_fd, "cannot make '/%s' read-only", dir);
	/* the writable files over themselves, in the same order */
	for (i = 0, nr_rw = 0; i < s->tracer.nr_binds; i++) {
		const struct sbx_bind *b = &s->tracer.binds[i];

		if (b->host || !b->writable)
			continue;
		if (set_attr(rw[nr_rw], "", AT_EMPTY_PATH, MOUNT_ATTR_NOEXEC) < 0 ||
		    move_mount(rw[nr_rw], "", mfd, b->view + dlen + 1, MOVE_MOUNT_F_EMPTY_PATH) < 0)
			sbx_child_fail(status_fd, "cannot bind '%s'", b->view);
		close(rw[nr_rw++]);
	}
}

static void build_dev(int rootfd, int status_fd)
{
	static const char *const devs[] = {
		"null", "zero", "full", "random", "urandom", "tty",
	};
	static const char *const tmpfs_opts[] = { "mode", "0755", "size", "64k", NULL };
	static const char *const shm_opts[] = { "mode", "1777", NULL };
	static const char *const pts_opts[] = {
		"newinstance", NULL, "ptmxmode", "0666", "mode", "0620", NULL,
	};
	static const char *const links[][2] = {
		{ "pts/ptmx", "dev/ptmx" }, { "/proc/self/fd", "dev/fd" },
		{ "/proc/self/fd/0", "dev/stdin" },
		{ "/proc/self/fd/1", "dev/stdout" },
		{ "/proc/self/fd/2", "dev/stderr" },
	};
	const char *what;
	size_t i;

	if (mount_fresh(rootfd, "dev", "tmpfs", tmpfs_opts,
			MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODEV,
			&what) < 0)
		sbx_child_fail(status_fd, "cannot mount tmpfs on '/dev': %s",
			       what);
	for (i = 0; i < ARRAY_SIZE(devs); i++) {
		char src[32], rel[32];

		snprintf(src, sizeof(src), "/dev/%s", devs[i]);
		snprintf(rel, sizeof(rel), "dev/%s", devs[i]);
		if (bind_file(src, rootfd, rel, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC,
			      &what) < 0)
			sbx_child_fail(status_fd, "cannot bind '%s': %s", src,
				       what);
	}
	if (mkdirat(rootfd, "dev/pts", 0755) < 0 ||
	    mount_fresh(rootfd, "dev/pts", "devpts", pts_opts,
			MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, &what) < 0)
		sbx_child_fail(status_fd, "cannot mount devpts on '/dev/pts'");
	if (mkdirat(rootfd, "dev/shm", 01777) < 0 ||
	    mount_fresh(rootfd, "dev/shm", "tmpfs", shm_opts,
			MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, &what) < 0)
		sbx_child_fail(status_fd, "cannot mount tmpfs on '/dev/shm'");
	for (i = 0; i < ARRAY_SIZE(links); i++)
		if (symlinkat(links[i][0], rootfd, links[i][1]) < 0)
			sbx_child_fail(status_fd, "cannot create symlink '/%s'",
				       links[i][1]);
}

/*
 * /sys read-only, recursively; with host facts (s->sys_planned) its
 * submounts one by one, the host's cgroup tree left out: the generated
 * one goes there (sbx_hostfacts_bind()).
 */
static void build_sys(const struct sbx *s, int rootfd, int status_fd)
{
	const uint64_t ro = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
			    MOUNT_ATTR_NOEXEC;
	unsigned rec = s->sys_planned ? 0 : AT_RECURSIVE;
	_cleanup_close_ int fd = open_tree(AT_FDCWD, "/sys",
					   OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);

	if (fd < 0)
		sbx_child_fail(status_fd, "cannot bind '/sys': open_tree");
	if (set_attr(fd, "", AT_EMPTY_PATH | rec, ro) < 0)
		sbx_child_fail(status_fd, "cannot make '/sys' read-only");
	if (move_mount(fd, "", rootfd, "sys", MOVE_MOUNT_F_EMPTY_PATH) < 0)
		sbx_child_fail(status_fd, "cannot bind '/sys'");
	for (size_t i = 0; s->sys_planned && i < s->nr_sys_mounts; i++) {
		const char *path = s->sys_mounts[i];
		_cleanup_close_ int sub = open_tree(AT_FDCWD, path,
						    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
							    AT_RECURSIVE);

		if (sub < 0 && errno == ENOENT)
			continue;	/* gone since the plan */
		if (sub < 0 || set_attr(sub, "", AT_EMPTY_PATH | AT_RECURSIVE, ro) < 0 ||
		    move_mount(sub, "", rootfd, path + 1, MOVE_MOUNT_F_EMPTY_PATH) < 0)
			sbx_child_fail(status_fd, "cannot bind '%s'", path);
	}
}

void sbx_mounts_build(struct sbx *s, int hostroot_fd, int status_fd)
{
	static const char *const root_opts[] = { "mode", "0755", NULL };
	static const char *const tmp_opts[] = { "mode", "1777", NULL };
	_cleanup_close_ int rootfd = -1;
	const char *what, *where;
	size_t i;

	/* Nothing we mount may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		sbx_child_fail(status_fd, "cannot make mounts private");

	/*
	 * The new root is mounted on R/root through an fd opened earlier
	 * (init may have lost the right to look R up since), and is then
	 * reached through the new mount's own fd.
	 */
	if (s->skeleton) {
		if (mount_fresh_fd(hostroot_fd, "", "tmpfs", root_opts,
				   MOUNT_ATTR_NODEV, &what, &rootfd) < 0)
			sbx_child_fail(status_fd,
				       "cannot mount the root skeleton on '%s': %s",
				       s->root_dir, what);
	} else {
		mount_overlay(s, hostroot_fd, "", &s->layers[0], status_fd,
			      &rootfd);
	}

	for (i = 0; i < s->nr_steps; i++) {
		const struct sbx_view_step *st = &s->steps[i];

		switch (st->op) {
		case VIEW_OVERLAY:
			/* Nested layers (the cwd's) have their mount point already. */
			if (s->skeleton && mkdirat(rootfd, st->path, 0755) < 0 &&
			    errno != EEXIST)
				sbx_child_fail(status_fd, "cannot create '/%s'",
					       st->path);
			mount_overlay(s, rootfd, st->path, &s->layers[st->layer],
				      status_fd, NULL);
			break;
		case VIEW_DIR:
			if (mkdirat(rootfd, st->path, st->mode) < 0)
				sbx_child_fail(status_fd, "cannot create '/%s'",
					       st->path);
			break;
		case VIEW_FRESH:
			if (mkdirat(rootfd, st->path, 0755) < 0)
				sbx_child_fail(status_fd, "cannot create '/%s'",
					       st->path);
			break;
		case VIEW_SYMLINK:
			if (symlinkat(st->target, rootfd, st->path) < 0)
				sbx_child_fail(status_fd,
					       "cannot create symlink '/%s'",
					       st->path);
			break;
		case VIEW_FILE:
			if (bind_file(st->host, rootfd, st->path,
				      MOUNT_ATTR_RDONLY, &what) < 0 &&
			    !vanished(rootfd, st->path, what, 0))
				sbx_child_fail(status_fd, "cannot bind '%s': %s",
					       st->host, what);
			break;
		case VIEW_BIND_RO:
			if (bind_dir_ro(st->host, rootfd, st->path, &what) < 0 &&
			    !vanished(rootfd, st->path, what, AT_REMOVEDIR))
				sbx_child_fail(status_fd, "cannot bind '%s': %s",
					       st->host, what);
			break;
		}
	}

	build_proc(rootfd, status_fd);
	build_dev(rootfd, status_fd);
	build_tracer_files(s, rootfd, status_fd);
	build_sys(s, rootfd, status_fd);
	if (s->cfg.hostfacts_dir &&
	    sbx_hostfacts_bind(s->cfg.hostfacts_dir, rootfd, &what, &where) < 0)
		sbx_child_fail(status_fd, "cannot show host facts on '%s': %s",
			       where, what);
	if (!s->cfg.share_tmp &&
	    mount_fresh(rootfd, "tmp", "tmpfs", tmp_opts,
			MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, &what) < 0)
		sbx_child_fail(status_fd, "cannot mount tmpfs on '/tmp': %s",
			       what);

	/*
	 * The skeleton is read-only once built: a new top-level entry
	 * would live in the skeleton's tmpfs and be silently lost.
	 */
	if (s->skeleton && set_attr(rootfd, "", AT_EMPTY_PATH, MOUNT_ATTR_RDONLY) < 0)
		sbx_child_fail(status_fd, "cannot make the root skeleton read-only");

	if (fchdir(rootfd) < 0)
		sbx_child_fail(status_fd, "cannot change directory to '%s'",
			       s->root_dir);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		sbx_child_fail(status_fd, "cannot pivot_root to '%s'",
			       s->root_dir);
	if (umount2(".", MNT_DETACH) < 0)
		sbx_child_fail(status_fd, "cannot detach the old root");
	if (chdir("/") < 0)
		sbx_child_fail(status_fd, "cannot change directory to '/'");
}

static void mask_one(const char *path, int status_fd)
{
	static const char *const opts[] = { "mode", "0755", "size", "4k", NULL };
	const char *what;
	struct stat sb;

	if (stat(path, &sb) < 0) {
		/*
		 * Nothing there to hide; or out of reach of init, whose
		 * credentials the job has at most (untrusted: SBX_UNTRUSTED_ID).
		 */
		if (errno == ENOENT || errno == ENOTDIR || errno == EACCES)
			return;
		sbx_child_fail(status_fd, "cannot mask '%s': stat", path);
	}
	if (S_ISDIR(sb.st_mode)) {
		if (mount_fresh(AT_FDCWD, path, "tmpfs", opts,
				MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
					MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
				&what) < 0)
			sbx_child_fail(status_fd, "cannot mask '%s': %s", path,
				       what);
	} else {
		_cleanup_close_ int fd = open_tree(AT_FDCWD, "/dev/null",
						   OPEN_TREE_CLONE |
							   OPEN_TREE_CLOEXEC);

		if (fd < 0 ||
		    move_mount(fd, "", AT_FDCWD, path,
			       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_SYMLINKS) < 0)
			sbx_child_fail(status_fd, "cannot mask '%s'", path);
	}
}

/*
 * The run root last: it is below the cache directory, a mask, unless
 * --cache-dir and the run root were set apart, and a path below a masked
 * directory is not there any more (the stat finds ENOENT): one tmpfs
 * fewer to make, mount and tear down a run, which the cache's mask hid
 * anyway.
 */
void sbx_mounts_mask(struct sbx *s, int status_fd)
{
	size_t i;

	for (i = 0; s->masks[i]; i++)
		mask_one(s->masks[i], status_fd);
	mask_one(s->run_root, status_fd);
}

/*
 * A declared output, removed through its overlay: the upper directory
 * gets a whiteout (overlayfs removes a lower entry that way), so the job
 * finds nothing there, and the diff reports a deletion unless the job
 * leaves something in its place. The parent is opened without following
 * any symlink: the path is the runner's canonical one, and a symlink
 * there now would make us remove something else.
 */
static void hide_one(const char *path, int status_fd)
{
	_cleanup_free_ char *dir = path_dirname(path);
	_cleanup_free_ char *base = path_basename(path);
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_NO_SYMLINKS,
	};
	_cleanup_close_ int fd = (int)syscall(SYS_openat2, AT_FDCWD, dir,
					      &how, sizeof(how));
	int r;

	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return;	/* nothing there to hide */
		sbx_child_fail(status_fd,
			       "cannot hide the declared output '%s': cannot open '%s'",
			       path, dir);
	}
	r = rm_rf_at(fd, base);
	if (r < 0 && r != -ENOENT) {
		errno = -r;
		sbx_child_fail(status_fd, "cannot hide the declared output '%s'",
			       path);
	}
}

void sbx_mounts_hide(struct sbx *s, int status_fd)
{
	for (size_t i = 0; s->hidden[i]; i++)
		hide_one(s->hidden[i], status_fd);
}

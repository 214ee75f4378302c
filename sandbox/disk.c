/*
 * The run's disk limit (DESIGN.md section 2, "Disk limit"): the upper
 * and work directories of every layer live on one tmpfs of the limit's
 * size, made for the run, so that a job writing more gets ENOSPC inside
 * the sandbox and the cache's file system never fills.
 *
 * The tmpfs is never seen in the host's mount namespace: the supervisor
 * first moves itself into a mount namespace of its own (a copy of the
 * host's that receives the host's later mounts and sends none back), and
 * mounts the tmpfs on R/layers there, with the new mount API. Every path
 * of the plan (R/layers/<n>/upper, .../work) keeps its meaning for the
 * supervisor (the tracer, the diff, the store) and for init, whose mount
 * namespace is a copy of the supervisor's. When the runner dies, its
 * namespace goes, and the tmpfs with it: nothing to clean up. The price:
 * captured files are copied into the blob store instead of renamed, and
 * the bytes a job writes are held in memory (and charged to the memory
 * cgroup of the process writing them: --memory counts them) until the run
 * is stored.
 *
 * Only root can make a mount namespace without a user namespace: a
 * rootless run keeps its upper directories on the cache's file system,
 * unlimited (sbx_result.limit_notes says so; an explicit limit is refused
 * unless best_effort_limits).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/path.h"
#include "common/xalloc.h"
#include "sandbox/sbx-internal.h"

#include "common/banned.h"

/* Inodes of the tmpfs: one per KiB of the limit, at least this many. */
#define SBX_DISK_MIN_INODES 16384

/*
 * Move this process into a private copy of its mount namespace, once:
 * later mounts of the host still appear here (slave), none made here
 * reaches the host.
 */
/* The namespace private_mount_ns() left, for sbx_disk_leave_ns(); or -1. */
static int host_ns_fd = -1;

static int private_mount_ns(struct strbuf *err)
{
	static bool done;

	if (done)
		return 0;
	host_ns_fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (unshare(CLONE_NEWNS) < 0)
		return strbuf_error(err, -errno, "cannot enforce the disk limit: cannot create a mount namespace: %s",
				    strerror(errno));
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return strbuf_error(err, -errno, "cannot enforce the disk limit: cannot make mounts private: %s",
				    strerror(errno));
	done = true;
	return 0;
}

int sbx_disk_prepare(struct sbx *s, struct strbuf *err)
{
	_cleanup_close_ int fsfd = -1, mfd = -1;
	char size[32], inodes[32], mode_s[16];
	uint64_t nr_inodes;
	struct stat st;
	int r, fd;

	s->disk_fd = -1;
	if (!s->cfg.disk_bytes || s->cfg.keep_run_dir)
		return 0;
	if (!sbx_disk_tmpfs(s)) {
		if (!s->cfg.best_effort_limits && !s->cfg.disk_default)
			return strbuf_error(err, -EPERM, "cannot enforce the disk limit: procache is not root (a mount namespace needs root); use --best-effort-limits to run without it");
		sbx_limits_add_note(&s->limits, xstrdup("disk limit not enforced: procache is not root"));
		return 0;
	}
	/* the tmpfs's root takes R/layers' mode */
	if (fstatat(s->run_dir_fd, "layers", &st, AT_SYMLINK_NOFOLLOW) < 0)
		return strbuf_error(err, -errno, "cannot stat '%s/layers': %s", s->run_dir,
				    strerror(errno));
	r = private_mount_ns(err);
	if (r < 0)
		return r;
	/*
	 * R's fd was opened in the namespace left behind: a mount there
	 * would be in the wrong one, a lookup through it would not see ours.
	 */
	fd = open(s->run_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return strbuf_error(err, -errno, "cannot open '%s': %s", s->run_dir,
				    strerror(errno));
	close(s->run_dir_fd);
	s->run_dir_fd = fd;
	nr_inodes = s->cfg.disk_bytes / 1024;
	if (nr_inodes < SBX_DISK_MIN_INODES)
		nr_inodes = SBX_DISK_MIN_INODES;
	snprintf(size, sizeof(size), "%" PRIu64, s->cfg.disk_bytes);
	snprintf(inodes, sizeof(inodes), "%" PRIu64, nr_inodes);
	snprintf(mode_s, sizeof(mode_s), "%04o", (unsigned)(st.st_mode & 07777));
	fsfd = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fsfd < 0 ||
	    fsconfig(fsfd, FSCONFIG_SET_STRING, "size", size, 0) < 0 ||
	    fsconfig(fsfd, FSCONFIG_SET_STRING, "nr_inodes", inodes, 0) < 0 ||
	    fsconfig(fsfd, FSCONFIG_SET_STRING, "mode", mode_s, 0) < 0 ||
	    fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return strbuf_error(err, -errno, "cannot enforce the disk limit: cannot make a tmpfs of %s bytes: %s",
				    size, strerror(errno));
	/* nodev: the job makes nodes here through its overlays */
	mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID);
	if (mfd < 0 ||
	    move_mount(mfd, "", s->run_dir_fd, "layers", MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return strbuf_error(err, -errno, "cannot mount a tmpfs on '%s/layers': %s",
				    s->run_dir, strerror(errno));
	s->disk_fd = openat(s->run_dir_fd, "layers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->disk_fd < 0)
		return strbuf_error(err, -errno, "cannot open '%s/layers': %s", s->run_dir,
				    strerror(errno));
	/* the view's mount point, here rather than on the cache's disk */
	if (mkdirat(s->disk_fd, "root", 0755) < 0)
		return strbuf_error(err, -errno, "cannot create '%s/layers/root': %s",
				    s->run_dir, strerror(errno));
	free(s->root_dir);
	s->root_dir = path_join(s->run_dir, "layers/root");
	return 0;
}

bool sbx_disk_tmpfs(const struct sbx *s)
{
	return s->cfg.disk_bytes && !s->cfg.keep_run_dir && s->host_uid == 0;
}

void sbx_disk_check(struct sbx *s)
{
	struct statfs sf;

	if (s->disk_fd < 0 || s->disk_full || fstatfs(s->disk_fd, &sf) < 0)
		return;
	/* tmpfs gives whole pages: ENOSPC leaves none free */
	if (sf.f_bfree == 0 || sf.f_ffree == 0)
		s->disk_full = true;
}

int sbx_disk_leave_ns(struct sbx *s)
{
	if (s->disk_fd < 0 || host_ns_fd < 0)
		return -ENOENT;
	if (setns(host_ns_fd, CLONE_NEWNS) < 0)
		return -errno;
	/* the tmpfs went with the namespace; the directory below is R's */
	close(s->disk_fd);
	s->disk_fd = -1;
	close(host_ns_fd);
	host_ns_fd = -1;
	return 0;
}

void sbx_disk_release(struct sbx *s)
{
	if (s->disk_fd < 0)
		return;

	_cleanup_free_ char *layers = xasprintf("%s/layers", s->run_dir);

	close(s->disk_fd);
	s->disk_fd = -1;
	/* the memory goes now; the directory below is R's as before */
	umount2(layers, MNT_DETACH);
}

uint64_t sbx_disk_default(const char *dir)
{
	_cleanup_free_ char *d = xstrdup(dir);
	struct statvfs sv;
	uint64_t fs = 0, ram;
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);

	/* a cache not made yet: the file system it will be made on */
	for (;;) {
		char *slash;

		if (statvfs(d, &sv) == 0) {
			fs = (uint64_t)sv.f_blocks * sv.f_frsize / SBX_DISK_DEFAULT_FS_DIV;
			break;
		}
		slash = strrchr(d, '/');
		if (!slash || slash == d)
			break;
		*slash = '\0';
	}
	ram = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page / SBX_DISK_DEFAULT_RAM_DIV : 0;
	if (!fs)
		return ram;
	if (!ram)
		return fs;
	return fs < ram ? fs : ram;
}

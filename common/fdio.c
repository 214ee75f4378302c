#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

#include "common/fdio.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

#include "common/banned.h"

/* Largest single read/write/copy request; keeps results within ssize_t. */
#define IO_CHUNK_MAX ((size_t)1 << 30)
#define COPY_BUF_SIZE ((size_t)128 * 1024)

ssize_t read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t done = 0;

	if (len > SSIZE_MAX)
		return -EINVAL;
	while (done < len) {
		size_t want = len - done;
		ssize_t n;

		n = read(fd, p + done, want < IO_CHUNK_MAX ? want : IO_CHUNK_MAX);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

ssize_t pread_full(int fd, void *buf, size_t len, off_t offset)
{
	char *p = buf;
	size_t done = 0;

	if (len > SSIZE_MAX)
		return -EINVAL;
	while (done < len) {
		size_t want = len - done;
		ssize_t n;

		n = pread(fd, p + done, want < IO_CHUNK_MAX ? want : IO_CHUNK_MAX,
			  offset + (off_t)done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

ssize_t write_full(int fd, const void *buf, size_t len)
{
	return pwrite_full(fd, buf, len, -1);
}

ssize_t pwrite_full(int fd, const void *buf, size_t len, off_t offset)
{
	const char *p = buf;
	size_t done = 0;

	if (len > SSIZE_MAX)
		return -EINVAL;
	while (done < len) {
		size_t want = len - done;
		ssize_t n;

		if (want > IO_CHUNK_MAX)
			want = IO_CHUNK_MAX;
		n = offset < 0 ? write(fd, p + done, want) :
				 pwrite(fd, p + done, want, offset + (off_t)done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* The read()/write() half of copy_fd_range(). */
static ssize_t copy_fd_range_rw(int in_fd, int out_fd, size_t len)
{
	char *buf = xmalloc(COPY_BUF_SIZE);
	size_t done = 0;

	while (done < len) {
		size_t want = len - done;
		ssize_t n, w;

		n = read_full(in_fd, buf,
			      want < COPY_BUF_SIZE ? want : COPY_BUF_SIZE);
		if (n <= 0) {
			if (n < 0) {
				free(buf);
				return n;
			}
			break;
		}
		w = write_full(out_fd, buf, (size_t)n);
		if (w < 0) {
			free(buf);
			return w;
		}
		done += (size_t)n;
		if ((size_t)n < (want < COPY_BUF_SIZE ? want : COPY_BUF_SIZE))
			break;	/* end of file */
	}
	free(buf);
	return (ssize_t)done;
}

ssize_t copy_fd_range(int in_fd, int out_fd, size_t len)
{
	size_t done = 0;

	if (len > SSIZE_MAX)
		return -EINVAL;
	while (done < len) {
		size_t want = len - done;
		ssize_t n, rest;

		n = copy_file_range(in_fd, NULL, out_fd, NULL,
				    want < IO_CHUNK_MAX ? want : IO_CHUNK_MAX,
				    0);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		/*
		 * EBADF is also what an O_APPEND @out_fd gives; a truly
		 * bad fd fails again in read()/write() below. A result of
		 * 0 is not trusted as end of file: some files (procfs,
		 * sysfs, older kernels across filesystems) report 0
		 * although they have data, so read() decides.
		 */
		if (n < 0 && errno != EXDEV && errno != ENOSYS &&
		    errno != EINVAL && errno != EOPNOTSUPP && errno != EBADF)
			return -errno;
		rest = copy_fd_range_rw(in_fd, out_fd, want);
		if (rest < 0)
			return rest;
		done += (size_t)rest;
		break;
	}
	return (ssize_t)done;
}

static bool is_single_component(const char *name)
{
	return *name && !strchr(name, '/') && strcmp(name, ".") &&
	       strcmp(name, "..");
}

static unsigned long long random_u64(void)
{
	static unsigned long long counter;
	unsigned long long r;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (unsigned long long)getpid() * 1000003ULL + ++counter;
	return r;
}

#define WRITE_FILE_ALL_FLAGS (WRITE_FILE_FSYNC)

int write_file_atomic_at(int dirfd, const char *name, const void *data,
			 size_t len, mode_t mode, unsigned flags)
{
	struct strbuf tmp = STRBUF_INIT;
	ssize_t w;
	int fd, err, tries;

	if (!is_single_component(name) || (flags & ~WRITE_FILE_ALL_FLAGS))
		return -EINVAL;

	/*
	 * O_EXCL|O_NOFOLLOW: never write through a file or symlink someone
	 * else put at the temporary name. The name is truncated so that the
	 * temporary name stays within NAME_MAX.
	 */
	for (tries = 0;; tries++) {
		strbuf_reset(&tmp);
		strbuf_addf(&tmp, ".tmp.%.200s.%ld.%016llx", name,
			    (long)getpid(), random_u64());
		fd = openat(dirfd, tmp.buf,
			    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
				    O_NOFOLLOW | O_NOCTTY,
			    mode);
		if (fd >= 0)
			break;
		if (errno != EEXIST || tries >= 100) {
			err = -errno;
			strbuf_release(&tmp);
			return err;
		}
	}

	w = write_full(fd, data, len);
	if (w < 0) {
		err = (int)w;
		goto fail;
	}
	if ((flags & WRITE_FILE_FSYNC) && fsync(fd) < 0) {
		err = -errno;
		goto fail;
	}
	/* close() can report delayed write errors (NFS, quota). */
	if (close(fd) < 0) {
		fd = -1;
		err = -errno;
		goto fail;
	}
	fd = -1;
	if (renameat(dirfd, tmp.buf, dirfd, name) < 0) {
		err = -errno;
		goto fail;
	}
	strbuf_release(&tmp);

	if (flags & WRITE_FILE_FSYNC) {
		int dfd = openat(dirfd, ".",
				 O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd < 0)
			return -errno;
		if (fsync(dfd) < 0) {
			err = -errno;
			close(dfd);
			return err;
		}
		close(dfd);
	}
	return 0;

fail:
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp.buf, 0);
	strbuf_release(&tmp);
	return err;
}

/* mkdirat(), where an existing directory (or symlink to one) is fine. */
static int mkdir_one(int dirfd, const char *path, mode_t mode, bool last)
{
	struct stat st;

	if (mkdirat(dirfd, path, mode) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	if (fstatat(dirfd, path, &st, 0) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return last ? -EEXIST : -ENOTDIR;
	return 0;
}

int mkdir_p_at(int dirfd, const char *path, mode_t mode)
{
	struct strbuf prefix = STRBUF_INIT;
	const char *p = path;
	struct stat st;
	int ret = 0;

	if (!*path)
		return -ENOENT;
	/* the common case, a directory made before: one lookup, not two a component */
	if (fstatat(dirfd, path, &st, 0) == 0 && S_ISDIR(st.st_mode))
		return 0;
	while (*p) {
		size_t n;

		/* Copy the slashes, then one component. */
		n = strspn(p, "/");
		strbuf_add(&prefix, p, n);
		p += n;
		if (!*p)
			break;
		n = strcspn(p, "/");
		strbuf_add(&prefix, p, n);
		p += n;
		ret = mkdir_one(dirfd, prefix.buf, mode, !p[strspn(p, "/")]);
		if (ret < 0)
			break;
	}
	strbuf_release(&prefix);
	return ret;
}

static int rm_rf_entry(int parent, const char *name, unsigned char d_type,
		       bool top);

/*
 * Give @fd, an open directory, owner rwx so that its entries can be
 * listed and unlinked. Done on the open fd, not by name, so it cannot be
 * redirected through a symlink swapped in after the check.
 */
static int make_dir_writable(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if ((st.st_mode & S_IRWXU) == S_IRWXU)
		return 0;
	if (fchmod(fd, (st.st_mode & 07777) | S_IRWXU) < 0)
		return -errno;
	return 0;
}

/*
 * Open directory @name in @parent for removal of its entries. When it
 * cannot be opened for reading (mode 0000 or similar), chmod it u+rwx
 * through an O_PATH|O_NOFOLLOW fd: chmod() of /proc/self/fd/N acts on
 * that very directory, where fchmodat() by name would follow a symlink.
 */
static int open_dir_for_removal(int parent, const char *name)
{
	const int oflags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	char proc_path[64];
	struct stat st;
	int fd, pfd, err;

	fd = openat(parent, name, oflags);
	if (fd >= 0 || errno != EACCES)
		return fd >= 0 ? fd : -errno;

	pfd = openat(parent, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0)
		return -errno;
	snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", pfd);
	if (fstat(pfd, &st) < 0 ||
	    chmod(proc_path, (st.st_mode & 07777) | S_IRWXU) < 0) {
		err = -errno;
		close(pfd);
		return err;
	}
	close(pfd);
	fd = openat(parent, name, oflags);
	return fd >= 0 ? fd : -errno;
}

/* Remove everything in the directory @fd; takes ownership of @fd. */
static int rm_rf_children(int fd)
{
	struct dirent *de;
	int ret = 0, r;
	DIR *d;

	r = make_dir_writable(fd);
	if (r < 0) {
		close(fd);
		return r;
	}
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		return r;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno && !ret)
				ret = -errno;
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		r = rm_rf_entry(dirfd(d), de->d_name, de->d_type, false);
		if (r < 0 && !ret)
			ret = r;
	}
	closedir(d);
	return ret;
}

/*
 * NEEDSWORK: the recursion holds one fd per directory level, so a tree
 * deeper than the fd limit fails with -EMFILE. Cache trees are shallow;
 * revisit if job output trees turn out not to be.
 */
static int rm_rf_entry(int parent, const char *name, unsigned char d_type,
		       bool top)
{
	int fd, r, ret;

	if (d_type == DT_UNKNOWN || top) {
		struct stat st;

		if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return (!top && errno == ENOENT) ? 0 : -errno;
		d_type = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
	}
	if (d_type != DT_DIR) {
		if (unlinkat(parent, name, 0) == 0 ||
		    (!top && errno == ENOENT))
			return 0;
		if (errno != EISDIR)
			return -errno;
		/* Replaced by a directory since readdir(): go on below. */
	}

	fd = open_dir_for_removal(parent, name);
	if (fd < 0)
		return (!top && fd == -ENOENT) ? 0 : fd;
	ret = rm_rf_children(fd);
	r = unlinkat(parent, name, AT_REMOVEDIR);
	if (r < 0 && !ret && !(errno == ENOENT && !top))
		ret = -errno;
	return ret;
}

int rm_rf_at(int dirfd, const char *name)
{
	const char *last = strrchr(name, '/');

	last = last ? last + 1 : name;
	/* An empty last component ("a/") would make fstatat() follow "a". */
	if (!*last || !strcmp(last, ".") || !strcmp(last, ".."))
		return -EINVAL;
	return rm_rf_entry(dirfd, name, DT_UNKNOWN, true);
}

int rm_rf_children_fd(int fd)
{
	/* rm_rf_children() owns the fd it is given (closedir()). */
	int own = fcntl(fd, F_DUPFD_CLOEXEC, 3);

	if (own < 0)
		return -errno;
	/* The offset is shared with @fd: read from the first entry. */
	if (lseek(own, 0, SEEK_SET) < 0) {
		int r = -errno;

		close(own);
		return r;
	}
	return rm_rf_children(own);
}

int set_cloexec(int fd)
{
	int flags = fcntl(fd, F_GETFD);

	if (flags < 0)
		return -errno;
	if (flags & FD_CLOEXEC)
		return 0;
	if (fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)
		return -errno;
	return 0;
}

int close_preserve_errno(int fd)
{
	int saved_errno = errno;

	if (fd >= 0)
		close(fd);
	errno = saved_errno;
	return -1;
}

int fd_openat2(int dirfd, const char *path, int flags, uint64_t resolve)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = resolve,
	};
	int fd, tries = 0;

	do
		fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	while (fd < 0 && (errno == EINTR || (errno == EAGAIN && ++tries < 16)));
	return fd < 0 ? -errno : fd;
}

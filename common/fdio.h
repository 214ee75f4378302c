/*
 * File-descriptor I/O and directory-tree helpers.
 *
 * Every function returns a non-negative result on success or -errno on
 * failure (errno itself is then unspecified); none of them exits. Every
 * fd opened here is O_CLOEXEC and is closed again before returning.
 * Paths are taken relative to a directory fd (AT_FDCWD allowed), as the
 * *at() system calls do.
 */
#ifndef PROCACHE_COMMON_FDIO_H
#define PROCACHE_COMMON_FDIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Read up to @len bytes, looping over short reads and EINTR. Returns the
 * number of bytes read, which is less than @len only at end of file, or
 * -errno. On error, how much was read before is lost to the caller.
 */
ssize_t read_full(int fd, void *buf, size_t len);

/* As read_full(), with pread() from @offset (the file offset is unused). */
ssize_t pread_full(int fd, void *buf, size_t len, off_t offset);

/*
 * Write all @len bytes, looping over short writes and EINTR. Returns
 * @len or -errno. A write() that returns 0 gives -EIO.
 */
ssize_t write_full(int fd, const void *buf, size_t len);

/* As write_full(), with pwrite() at @offset (>= 0; the file offset is
 * unused). */
ssize_t pwrite_full(int fd, const void *buf, size_t len, off_t offset);

/*
 * Copy @len bytes from the current offset of @in_fd to the current
 * offset of @out_fd, with copy_file_range() (which may share extents on
 * reflink filesystems), falling back to read()/write() when the kernel
 * refuses it with EXDEV, ENOSYS, EINVAL or EOPNOTSUPP (e.g. pipes, or
 * different filesystems on older kernels). Returns the number of bytes
 * copied, which is less than @len only if @in_fd hits end of file, or
 * -errno.
 */
ssize_t copy_fd_range(int in_fd, int out_fd, size_t len);

/* Flags for write_file_atomic_at(). */
enum {
	/* fsync() the file before rename and the directory after it. */
	WRITE_FILE_FSYNC = 1 << 0,
};

/*
 * Atomically create or replace @name in @dirfd with @len bytes of @data
 * and permission @mode (subject to the umask): the data goes to a
 * temporary file ".tmp.<name>.<pid>.<random>" in the same directory,
 * created with O_CREAT|O_EXCL|O_CLOEXEC|O_NOFOLLOW, which is then
 * renameat()ed over @name. Readers see either the old or the new content,
 * never a partial file. @name must be a single path component (else
 * -EINVAL). @flags is 0 or WRITE_FILE_FSYNC; other bits give -EINVAL.
 * On failure the temporary file is unlinked and @name is unchanged.
 * Returns 0 or -errno.
 */
int write_file_atomic_at(int dirfd, const char *name, const void *data,
			 size_t len, mode_t mode, unsigned flags);

/*
 * Create directory @path relative to @dirfd with all missing parents
 * (each with @mode, subject to the umask). An existing directory is
 * fine; an existing non-directory gives -ENOTDIR (for the last
 * component: -EEXIST). Symlinks in existing components are followed,
 * as mkdir -p does. Returns 0 or -errno.
 */
int mkdir_p_at(int dirfd, const char *path, mode_t mode);

/*
 * Remove @name in @dirfd and, if it is a directory, everything beneath
 * it, like "rm -rf". Nothing below @name is ever followed through a
 * symlink: a symlink is removed, not its target, and directories are
 * opened with O_NOFOLLOW|O_DIRECTORY. Directories without owner rwx
 * (read-only ones, mode 0000) are given u+rwx through their own fd
 * before being emptied, so the owner can always remove a tree.
 *
 * @name is normally one component; it may have leading components
 * ("a/b/c"), which are trusted and followed like any path. Its last
 * component must not be empty, "." or ".." (-EINVAL).
 *
 * Returns 0, -ENOENT if @name does not exist, or the -errno of the first
 * failure; after a failure it keeps removing what it can. Entries that
 * vanish during the walk are not errors.
 */
int rm_rf_at(int dirfd, const char *name);

/*
 * Remove everything in the open directory @fd (an O_RDONLY|O_DIRECTORY
 * fd), as rm_rf_at() removes a tree's entries, keeping the directory
 * itself (its inode, owner and place in its parent). @fd is given owner
 * rwx first when it lacks them, and is not closed. Returns 0 or the
 * -errno of the first failure; after a failure it keeps removing what
 * it can.
 */
int rm_rf_children_fd(int fd);

/* Set FD_CLOEXEC on @fd. Returns 0 or -errno. */
int set_cloexec(int fd);

/*
 * close(@fd) if it is >= 0, keeping errno as it was, for error paths.
 * Close errors are ignored. Always returns -1, so that
 * "fd = close_preserve_errno(fd);" both closes and marks it unused.
 */
int close_preserve_errno(int fd);

/*
 * openat2(@dirfd, @path) with @flags | O_CLOEXEC and @resolve, retried on
 * EINTR and, a few times, on EAGAIN (a concurrent rename: the kernel asks
 * to retry). The fd or -errno.
 */
int fd_openat2(int dirfd, const char *path, int flags, uint64_t resolve);

#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cap-ng.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/strbuf.h"

#include "tests/unit/unit.h"

static int open_dir(const char *path)
{
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* Number of entries in @dfd other than "." and "..". */
static int count_entries(int dfd)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int n = 0;

	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	return n;
}

static bool file_is(int dfd, const char *name, const char *content)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;

	if (strbuf_read_file_at(&sb, dfd, name, 0) < 0)
		return false;
	return sb.len == strlen(content) && !memcmp(sb.buf, content, sb.len);
}

TEST(test_write_file_atomic)
{
	_cleanup_close_ int dfd = open_dir(unit_tmpdir());
	struct stat st;

	if (!CHECK(dfd >= 0))
		return;
	CHECK_EQ_INT(write_file_atomic_at(dfd, "f", "one", 3, 0600, 0), 0);
	CHECK(file_is(dfd, "f", "one"));
	CHECK_EQ_INT(count_entries(dfd), 1);
	CHECK_EQ_INT(fstatat(dfd, "f", &st, 0), 0);
	CHECK_EQ_INT(st.st_mode & 07777, 0600);

	/* Replace: a reader holding the old file still sees "one". */
	{
		_cleanup_close_ int old = openat(dfd, "f", O_RDONLY | O_CLOEXEC);
		char buf[8];

		CHECK_EQ_INT(write_file_atomic_at(dfd, "f", "second", 6, 0644,
						  WRITE_FILE_FSYNC),
			     0);
		CHECK_EQ_INT(read_full(old, buf, sizeof(buf)), 3);
		CHECK_EQ_MEM(buf, (size_t)3, "one", (size_t)3);
	}
	CHECK(file_is(dfd, "f", "second"));
	CHECK_EQ_INT(count_entries(dfd), 1);

	/* Bad names and flags. */
	CHECK_EQ_INT(write_file_atomic_at(dfd, "a/b", "x", 1, 0644, 0), -EINVAL);
	CHECK_EQ_INT(write_file_atomic_at(dfd, "", "x", 1, 0644, 0), -EINVAL);
	CHECK_EQ_INT(write_file_atomic_at(dfd, "..", "x", 1, 0644, 0), -EINVAL);
	CHECK_EQ_INT(write_file_atomic_at(dfd, "g", "x", 1, 0644, 1u << 7),
		     -EINVAL);

	/* Failure (the target is a directory): no temporary file left. */
	CHECK_EQ_INT(mkdirat(dfd, "d", 0755), 0);
	CHECK_EQ_INT(write_file_atomic_at(dfd, "d", "x", 1, 0644, 0), -EISDIR);
	CHECK_EQ_INT(count_entries(dfd), 2);
}

TEST(test_mkdir_p)
{
	_cleanup_close_ int dfd = open_dir(unit_tmpdir());
	struct stat st;

	if (!CHECK(dfd >= 0))
		return;
	CHECK_EQ_INT(mkdir_p_at(dfd, "a/b//c/", 0755), 0);
	CHECK_EQ_INT(fstatat(dfd, "a/b/c", &st, 0), 0);
	CHECK(S_ISDIR(st.st_mode));
	CHECK_EQ_INT(mkdir_p_at(dfd, "a/b/c", 0755), 0);
	CHECK_EQ_INT(mkdir_p_at(dfd, "a", 0755), 0);
	CHECK_EQ_INT(write_file_atomic_at(dfd, "file", "", 0, 0644, 0), 0);
	CHECK_EQ_INT(mkdir_p_at(dfd, "file", 0755), -EEXIST);
	CHECK_EQ_INT(mkdir_p_at(dfd, "file/x", 0755), -ENOTDIR);
	CHECK_EQ_INT(mkdir_p_at(dfd, "", 0755), -ENOENT);
	/* A symlink to a directory is followed, as with mkdir -p. */
	CHECK_EQ_INT(symlinkat("a", dfd, "link"), 0);
	CHECK_EQ_INT(mkdir_p_at(dfd, "link/new", 0755), 0);
	CHECK_EQ_INT(fstatat(dfd, "a/new", &st, 0), 0);
}

/*
 * rm_rf_at() as an owner without privileges. Run as root, the test
 * would prove nothing about read-only directories (CAP_DAC_OVERRIDE
 * ignores their modes), so a child drops the DAC and ownership
 * capabilities first; it still owns the tree. Returns rm_rf_at()'s
 * result.
 */
static int rm_rf_unprivileged(int dfd, const char *name)
{
	int status, r;
	pid_t pid;

	if (geteuid() != 0)
		return rm_rf_at(dfd, name);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		capng_get_caps_process();
		capng_updatev(CAPNG_DROP, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
			      CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH,
			      CAP_FOWNER, -1);
		if (capng_apply(CAPNG_SELECT_CAPS) < 0)
			_exit(255);
		/* Without the capability, a mode 0 directory is closed. */
		if (faccessat(dfd, "t/locked", R_OK, 0) == 0)
			_exit(254);
		r = rm_rf_at(dfd, name);
		_exit(r < 0 ? -r : 0);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -ECHILD;
	if (WEXITSTATUS(status) >= 254)
		unit_fail(__FILE__, __LINE__, "cannot drop capabilities (%d)",
			  WEXITSTATUS(status));
	return -WEXITSTATUS(status);
}

TEST(test_rm_rf)
{
	const char *outside_path = unit_tmpdir();
	_cleanup_close_ int out = open_dir(outside_path);
	_cleanup_close_ int dfd = open_dir(unit_tmpdir());
	struct stat st;

	if (!CHECK(dfd >= 0 && out >= 0))
		return;
	/* A tree with symlinks pointing out of it, and read-only dirs. */
	CHECK_EQ_INT(write_file_atomic_at(out, "keep", "k", 1, 0644, 0), 0);
	CHECK_EQ_INT(mkdir_p_at(dfd, "t/a/b/c", 0755), 0);
	CHECK_EQ_INT(symlinkat(outside_path, dfd, "t/a/out-dir"), 0);
	CHECK_EQ_INT(symlinkat("../../../", dfd, "t/a/b/up"), 0);
	CHECK_EQ_INT(mkdirat(dfd, "t/ro", 0755), 0);
	CHECK_EQ_INT(mkdirat(dfd, "t/ro/inner", 0755), 0);
	CHECK_EQ_INT(mkfifoat(dfd, "t/ro/inner/fifo", 0644), 0);
	CHECK_EQ_INT(fchmodat(dfd, "t/ro/inner", 0500, 0), 0);
	CHECK_EQ_INT(fchmodat(dfd, "t/ro", 0555, 0), 0);
	CHECK_EQ_INT(mkdirat(dfd, "t/locked", 0755), 0);
	CHECK_EQ_INT(mkdirat(dfd, "t/locked/x", 0755), 0);
	CHECK_EQ_INT(fchmodat(dfd, "t/locked", 0, 0), 0);

	CHECK_EQ_INT(rm_rf_unprivileged(dfd, "t"), 0);
	CHECK_EQ_INT(fstatat(dfd, "t", &st, AT_SYMLINK_NOFOLLOW), -1);
	CHECK_EQ_INT(count_entries(dfd), 0);
	/* Nothing outside the tree was touched. */
	CHECK(file_is(out, "keep", "k"));
	CHECK_EQ_INT(count_entries(out), 1);

	/* A symlink as the top: removed, target kept. */
	CHECK_EQ_INT(symlinkat(outside_path, dfd, "top-link"), 0);
	CHECK_EQ_INT(rm_rf_at(dfd, "top-link"), 0);
	CHECK(file_is(out, "keep", "k"));

	/* A plain file; missing names; bad names. */
	CHECK_EQ_INT(write_file_atomic_at(dfd, "f", "", 0, 0644, 0), 0);
	CHECK_EQ_INT(rm_rf_at(dfd, "f"), 0);
	CHECK_EQ_INT(rm_rf_at(dfd, "f"), -ENOENT);
	CHECK_EQ_INT(rm_rf_at(dfd, ""), -EINVAL);
	CHECK_EQ_INT(rm_rf_at(dfd, "."), -EINVAL);
	CHECK_EQ_INT(rm_rf_at(dfd, "a/.."), -EINVAL);
	CHECK_EQ_INT(rm_rf_at(dfd, "a/"), -EINVAL);

	/* Leading components are allowed. */
	CHECK_EQ_INT(mkdir_p_at(dfd, "p/q/r", 0755), 0);
	CHECK_EQ_INT(rm_rf_at(dfd, "p/q"), 0);
	CHECK_EQ_INT(fstatat(dfd, "p", &st, 0), 0);
	CHECK_EQ_INT(fstatat(dfd, "p/q", &st, 0), -1);

	/* The children only: the directory stays, with its inode. */
	{
		_cleanup_close_ int e = -1;
		struct stat before;

		CHECK_EQ_INT(mkdir_p_at(dfd, "e/sub/deep", 0755), 0);
		e = openat(dfd, "e", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (!CHECK(e >= 0))
			return;
		CHECK_EQ_INT(write_file_atomic_at(e, "f", "x", 1, 0644, 0), 0);
		CHECK_EQ_INT(symlinkat(outside_path, e, "l"), 0);
		CHECK_EQ_INT(fchmodat(dfd, "e", 0500, 0), 0);
		CHECK_EQ_INT(fstatat(dfd, "e", &before, 0), 0);
		CHECK_EQ_INT(rm_rf_children_fd(e), 0);
		CHECK_EQ_INT(count_entries(e), 0);
		CHECK_EQ_INT(fstatat(dfd, "e", &st, 0), 0);
		CHECK_EQ_INT(st.st_ino, before.st_ino);
		CHECK(file_is(out, "keep", "k"));
		CHECK_EQ_INT(rm_rf_children_fd(e), 0); /* empty: nothing to do */
	}
}

TEST(test_read_write_full)
{
	char buf[16];
	int fds[2];

	if (!CHECK(pipe2(fds, O_CLOEXEC) == 0))
		return;
	CHECK_EQ_INT(write_full(fds[1], "hello", 5), 5);
	close(fds[1]);
	CHECK_EQ_INT(read_full(fds[0], buf, sizeof(buf)), 5);
	CHECK_EQ_MEM(buf, (size_t)5, "hello", (size_t)5);
	CHECK_EQ_INT(read_full(fds[0], buf, sizeof(buf)), 0);
	close(fds[0]);
	CHECK_EQ_INT(read_full(-1, buf, 1), -EBADF);
	CHECK_EQ_INT(write_full(-1, buf, 1), -EBADF);
}

TEST(test_pread_full)
{
	_cleanup_close_ int dfd = open_dir(unit_tmpdir());
	_cleanup_close_ int fd = -1;
	char buf[8];

	if (!CHECK(dfd >= 0))
		return;
	CHECK_EQ_INT(write_file_atomic_at(dfd, "f", "0123456789", 10, 0644, 0),
		     0);
	fd = openat(dfd, "f", O_RDONLY | O_CLOEXEC);
	CHECK_EQ_INT(pread_full(fd, buf, 4, 3), 4);
	CHECK_EQ_MEM(buf, (size_t)4, "3456", (size_t)4);
	CHECK_EQ_INT(pread_full(fd, buf, 8, 8), 2);
	CHECK_EQ_MEM(buf, (size_t)2, "89", (size_t)2);
}

TEST(test_copy_fd_range)
{
	_cleanup_close_ int dfd = open_dir(unit_tmpdir());
	_cleanup_close_ int in = -1, out = -1;
	_cleanup_free_ char *data = xmalloc(500000);
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	int fds[2];
	size_t i;

	if (!CHECK(dfd >= 0))
		return;
	for (i = 0; i < 500000; i++)
		data[i] = (char)(i * 13 + (i >> 8));
	CHECK_EQ_INT(write_file_atomic_at(dfd, "src", data, 500000, 0644, 0),
		     0);

	/* File to file: copy_file_range() path. */
	in = openat(dfd, "src", O_RDONLY | O_CLOEXEC);
	out = openat(dfd, "dst", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	CHECK_EQ_INT(copy_fd_range(in, out, 100), 100);
	CHECK_EQ_INT(copy_fd_range(in, out, 1000000), 500000 - 100);
	CHECK_EQ_INT(copy_fd_range(in, out, 10), 0);
	CHECK_EQ_INT(strbuf_read_file_at(&sb, dfd, "dst", 0), 500000);
	CHECK_EQ_MEM(sb.buf, sb.len, data, (size_t)500000);

	/* File to O_APPEND file and to a pipe: read()/write() fallback. */
	close(out);
	out = openat(dfd, "dst", O_WRONLY | O_APPEND | O_CLOEXEC);
	CHECK_EQ_INT(lseek(in, 0, SEEK_SET), 0);
	CHECK_EQ_INT(copy_fd_range(in, out, 7), 7);
	CHECK_EQ_INT(lseek(in, 0, SEEK_CUR), 7);
	strbuf_reset(&sb);
	CHECK_EQ_INT(strbuf_read_file_at(&sb, dfd, "dst", 0), 500007);
	CHECK_EQ_MEM(sb.buf + 500000, (size_t)7, data, (size_t)7);

	if (!CHECK(pipe2(fds, O_CLOEXEC) == 0))
		return;
	CHECK_EQ_INT(copy_fd_range(in, fds[1], 3000), 3000);
	close(fds[1]);
	strbuf_reset(&sb);
	CHECK_EQ_INT(strbuf_read_fd(&sb, fds[0], 0), 3000);
	CHECK_EQ_MEM(sb.buf, sb.len, data + 7, (size_t)3000);
	close(fds[0]);

	CHECK_EQ_INT(copy_fd_range(-1, out, 1), -EBADF);
}

TEST(test_cloexec_and_close)
{
	int fds[2];

	if (!CHECK(pipe(fds) == 0))
		return;
	CHECK_EQ_INT(fcntl(fds[0], F_GETFD) & FD_CLOEXEC, 0);
	CHECK_EQ_INT(set_cloexec(fds[0]), 0);
	CHECK_EQ_INT(fcntl(fds[0], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	CHECK_EQ_INT(set_cloexec(-1), -EBADF);
	errno = EXDEV;
	CHECK_EQ_INT(close_preserve_errno(fds[0]), -1);
	CHECK_EQ_INT(close_preserve_errno(-1), -1);
	CHECK_EQ_INT(errno, EXDEV);
	close(fds[1]);
}

TEST(test_steal)
{
	_cleanup_free_ char *p = xstrdup("x");
	_cleanup_close_ int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	char *q = steal_pointer(&p);
	int fd2 = steal_fd(&fd);

	CHECK(p == NULL);
	CHECK_EQ_STR(q, "x");
	CHECK_EQ_INT(fd, -1);
	CHECK(fd2 >= 0);
	free(q);
	close(fd2);
}

int main(void)
{
	RUN(test_write_file_atomic);
	RUN(test_mkdir_p);
	RUN(test_rm_rf);
	RUN(test_read_write_full);
	RUN(test_pread_full);
	RUN(test_copy_fd_range);
	RUN(test_cloexec_and_close);
	RUN(test_steal);
	return unit_done();
}

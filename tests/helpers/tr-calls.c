/*
 * tr-calls: make one traced system call (or a short sequence) directly,
 * with exact flags, for the tracer tests. Stands alone: raw syscall()
 * where glibc would pick another call.
 *
 *	tr-calls CMD ARGS...
 *
 * Exit status 0 when the sequence ran (the calls' own results are
 * ignored: a failing probe is an observation too), 2 on bad usage.
 */
#include <dirent.h>
#include <linux/fs.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

static void usage(void)
{
	fprintf(stderr, "usage: tr-calls CMD ARGS...\n");
	exit(2);
}

static long sys_openat(int dirfd, const char *p, int flags, int mode)
{
	return syscall(SYS_openat, dirfd, p, flags, mode);
}

static void read_all(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static void *thread_open(void *arg)
{
	long fd = sys_openat(AT_FDCWD, arg, O_RDONLY | O_CLOEXEC, 0);

	if (fd >= 0)
		close((int)fd);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *cmd;
	long fd, dfd;

	if (argc < 2)
		usage();
	cmd = argv[1];
	if (!strcmp(cmd, "open") && argc == 3) { /* open(2) O_RDONLY */
		fd = syscall(SYS_open, argv[2], O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			read_all((int)fd);
	} else if (!strcmp(cmd, "openat-dirfd") && argc == 4) {
		dfd = sys_openat(AT_FDCWD, argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
		fd = sys_openat((int)dfd, argv[3], O_RDONLY | O_CLOEXEC, 0);
		if (fd >= 0)
			read_all((int)fd);
	} else if (!strcmp(cmd, "openat2") && argc == 5) { /* DIR NAME RESOLVE */
		struct open_how how = { .flags = O_RDONLY | O_CLOEXEC,
					.resolve = strtoull(argv[4], NULL, 0) };

		dfd = sys_openat(AT_FDCWD, argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
		fd = syscall(SYS_openat2, (int)dfd, argv[3], &how, sizeof(how));
	} else if (!strcmp(cmd, "creat") && argc == 3) {
		fd = syscall(SYS_creat, argv[2], 0644);
	} else if (!strcmp(cmd, "nofollow") && argc == 3) {
		fd = sys_openat(AT_FDCWD, argv[2], O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
	} else if (!strcmp(cmd, "opath") && argc == 3) {
		fd = sys_openat(AT_FDCWD, argv[2], O_PATH | O_CLOEXEC, 0);
	} else if (!strcmp(cmd, "excl") && argc == 3) {
		fd = sys_openat(AT_FDCWD, argv[2], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	} else if (!strcmp(cmd, "trunc") && argc == 3) {
		fd = sys_openat(AT_FDCWD, argv[2], O_WRONLY | O_TRUNC | O_CLOEXEC, 0);
	} else if (!strcmp(cmd, "append") && argc == 3) {
		fd = sys_openat(AT_FDCWD, argv[2], O_WRONLY | O_APPEND | O_CLOEXEC, 0);
	} else if (!strcmp(cmd, "create-append") && argc == 3) {
		fd = sys_openat(AT_FDCWD, argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	} else if (!strcmp(cmd, "tmpfile") && argc == 3) {
		fd = sys_openat(AT_FDCWD, argv[2], O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	} else if (!strcmp(cmd, "fstat-empty") && argc == 3) { /* O_PATH + AT_EMPTY_PATH */
		struct stat st;

		fd = sys_openat(AT_FDCWD, argv[2], O_PATH | O_CLOEXEC, 0);
		if (syscall(SYS_newfstatat, (int)fd, "", &st, AT_EMPTY_PATH) == 0)
			printf("%lld\n", (long long)st.st_mtime);
	} else if (!strcmp(cmd, "fstat-raw") && argc == 3) { /* fstat(2) itself */
		struct stat st;

		fd = sys_openat(AT_FDCWD, argv[2], O_RDONLY | O_CLOEXEC, 0);
		if (syscall(SYS_fstat, (int)fd, &st) == 0)
			printf("%lld\n", (long long)st.st_mtime);
	} else if (!strcmp(cmd, "statx-empty") && argc == 3) { /* statx(fd, "") */
		struct statx stx;

		fd = sys_openat(AT_FDCWD, argv[2], O_RDONLY | O_CLOEXEC, 0);
		if (syscall(SYS_statx, (int)fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx) == 0)
			printf("%lld\n", (long long)stx.stx_mtime.tv_sec);
	} else if ((!strcmp(cmd, "clone-files-exec") || !strcmp(cmd, "clone-exec")) &&
		   argc >= 3) {
		/*
		 * A raw clone, sharing the fd table (CLONE_FILES) or not,
		 * whose child executes PROG ARGS... while this process
		 * waits for it (the sharer stays alive across its exec).
		 */
		unsigned long flags = SIGCHLD | (!strcmp(cmd, "clone-exec") ? 0 : CLONE_FILES);
		long pid = syscall(SYS_clone, flags, 0, NULL, NULL, 0);
		int st;

		if (pid == 0) {
			execv(argv[2], argv + 2);
			_exit(127);
		}
		if (pid < 0 || waitpid((pid_t)pid, &st, 0) < 0)
			return 1;
		return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
	} else if (!strcmp(cmd, "stat") && argc == 3) {
		struct stat st;

		syscall(SYS_newfstatat, AT_FDCWD, argv[2], &st, 0);
	} else if (!strcmp(cmd, "lstat") && argc == 3) {
		struct stat st;

		syscall(SYS_newfstatat, AT_FDCWD, argv[2], &st, AT_SYMLINK_NOFOLLOW);
	} else if (!strcmp(cmd, "statx") && argc == 3) {
		struct statx stx;

		syscall(SYS_statx, AT_FDCWD, argv[2], AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx);
	} else if (!strcmp(cmd, "faccessat2") && argc == 3) {
		syscall(SYS_faccessat2, AT_FDCWD, argv[2], R_OK, AT_SYMLINK_NOFOLLOW);
	} else if (!strcmp(cmd, "readlinkat") && argc == 3) {
		char buf[256];

		syscall(SYS_readlinkat, AT_FDCWD, argv[2], buf, sizeof(buf));
	} else if (!strcmp(cmd, "getdents") && argc == 3) {
		char buf[4096];

		fd = sys_openat(AT_FDCWD, argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
		while (syscall(SYS_getdents64, (int)fd, buf, sizeof(buf)) > 0)
			;
	} else if (!strcmp(cmd, "execveat-empty") && argc >= 3) {
		char *const args[] = { argv[2], "true", NULL };
		pid_t pid = fork();

		if (!pid) {
			fd = sys_openat(AT_FDCWD, argv[2], O_PATH | O_CLOEXEC, 0);
			syscall(SYS_execveat, (int)fd, "", args, environ, AT_EMPTY_PATH);
			_exit(127);
		}
		waitpid(pid, NULL, 0);
	} else if (!strcmp(cmd, "exec") && argc >= 3) {
		execv(argv[2], argv + 2);
		return 127;
	} else if (!strcmp(cmd, "renameat2") && argc == 4) {
		syscall(SYS_renameat2, AT_FDCWD, argv[2], AT_FDCWD, argv[3], 0);
	} else if (!strcmp(cmd, "linkat") && argc == 4) {
		syscall(SYS_linkat, AT_FDCWD, argv[2], AT_FDCWD, argv[3], 0);
	} else if (!strcmp(cmd, "chdir-open") && argc == 4) {
		if (chdir(argv[2]))
			return 1;
		fd = sys_openat(AT_FDCWD, argv[3], O_RDONLY | O_CLOEXEC, 0);
	} else if (!strcmp(cmd, "fchdir-open") && argc == 4) {
		dfd = sys_openat(AT_FDCWD, argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
		if (fchdir((int)dfd))
			return 1;
		fd = sys_openat(AT_FDCWD, argv[3], O_RDONLY | O_CLOEXEC, 0);
	} else if (!strcmp(cmd, "procfd") && argc == 4) { /* DIR NAME via /proc/self/fd */
		char p[4096];

		dfd = sys_openat(AT_FDCWD, argv[2], O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
		snprintf(p, sizeof(p), "/proc/self/fd/%ld/%s", dfd, argv[3]);
		fd = sys_openat(AT_FDCWD, p, O_RDONLY | O_CLOEXEC, 0);
	} else if (!strcmp(cmd, "overwrite") && argc == 3) { /* read, then rewrite */
		fd = sys_openat(AT_FDCWD, argv[2], O_RDONLY | O_CLOEXEC, 0);
		read_all((int)fd);
		close((int)fd);
		fd = sys_openat(AT_FDCWD, argv[2], O_WRONLY | O_TRUNC | O_CLOEXEC, 0);
		if (write((int)fd, "new\n", 4) != 4)
			return 1;
	} else if (!strcmp(cmd, "connect") && argc == 3) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int r;

		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", argv[2]);
		r = connect(s, (struct sockaddr *)&sun, sizeof(sun));
		printf("connect=%d errno=%d\n", r, r ? errno : 0);
	} else if (!strcmp(cmd, "sendmsg-dgram") && argc == 3) { /* msg_name = PATH */
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		struct iovec iov = { .iov_base = "x", .iov_len = 1 };
		struct msghdr m = { .msg_name = &sun, .msg_namelen = sizeof(sun),
				    .msg_iov = &iov, .msg_iovlen = 1 };
		int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		long r;

		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", argv[2]);
		r = sendmsg(s, &m, 0);
		printf("sendmsg=%ld errno=%d\n", r, r < 0 ? errno : 0);
	} else if (!strcmp(cmd, "fork-open") && argc == 4) { /* child opens A, parent B */
		pid_t pid = fork();

		if (!pid) {
			fd = sys_openat(AT_FDCWD, argv[2], O_RDONLY | O_CLOEXEC, 0);
			_exit(0);
		}
		waitpid(pid, NULL, 0);
		fd = sys_openat(AT_FDCWD, argv[3], O_RDONLY | O_CLOEXEC, 0);
	} else if (!strcmp(cmd, "threads") && argc >= 3) { /* one thread per path */
		pthread_t th[16];
		int i, n = argc - 2 > 16 ? 16 : argc - 2;

		for (i = 0; i < n; i++)
			pthread_create(&th[i], NULL, thread_open, argv[2 + i]);
		for (i = 0; i < n; i++)
			pthread_join(th[i], NULL);
	} else if (!strcmp(cmd, "uname") && argc == 2) {
		struct utsname u;

		uname(&u);
	} else if (!strcmp(cmd, "loop-stat") && argc == 4) { /* N PATH: cost per call */
		long i, n = atol(argv[2]);
		struct stat st;

		for (i = 0; i < n; i++)
			syscall(SYS_newfstatat, AT_FDCWD, argv[3], &st, 0);
	} else if (!strcmp(cmd, "loop-readlink") && argc == 4) { /* N PATH */
		long i, n = atol(argv[2]);
		char buf[256];

		for (i = 0; i < n; i++)
			syscall(SYS_readlink, argv[3], buf, sizeof(buf));
	} else if (!strcmp(cmd, "loop-open") && argc == 4) { /* N PATH: open, close */
		long i, n = atol(argv[2]);

		for (i = 0; i < n; i++) {
			fd = sys_openat(AT_FDCWD, argv[3], O_RDONLY | O_CLOEXEC, 0);
			if (fd >= 0)
				close((int)fd);
		}
	} else if (!strcmp(cmd, "loop-exec") && argc >= 4) { /* N PROG ARGS: fork, exec, wait */
		long i, n = atol(argv[2]);

		for (i = 0; i < n; i++) {
			pid_t pid = fork();

			if (!pid) {
				syscall(SYS_execve, argv[3], argv + 3, environ);
				_exit(127);
			}
			waitpid(pid, NULL, 0);
		}
	} else if (!strcmp(cmd, "personality") && argc == 3) {
		long r = syscall(SYS_personality, strtoul(argv[2], NULL, 0));

		printf("personality=%ld errno=%d\n", r, r < 0 ? errno : 0);
	} else if (!strcmp(cmd, "i386") && argc == 2) { /* getpid via int 0x80 */
		long r = 20;

		__asm__ volatile("int $0x80" : "+a"(r) : : "memory");
		printf("i386=%ld\n", r);
	} else if (!strcmp(cmd, "x32") && argc == 2) { /* getpid, x32 numbering */
		long r = syscall(39 | 0x40000000);

		printf("x32=%ld errno=%d\n", r, r < 0 ? errno : 0);
	} else if (!strcmp(cmd, "keyctl") && argc == 2) {
		long r = syscall(SYS_keyctl, 0, 0, 0, 0, 0);

		printf("keyctl=%ld errno=%d\n", r, r < 0 ? errno : 0);
	} else if (!strcmp(cmd, "stdin") && argc == 3) {
		/* one call that tells /dev/null from a pipe on fd 0 */
		const char *op = argv[2];
		long r = -1;

		if (!strcmp(op, "fstat")) {
			struct stat st;

			r = fstat(0, &st) < 0 ? -1 : (long)(st.st_mode & S_IFMT);
		} else if (!strcmp(op, "lseek")) {
			r = syscall(SYS_lseek, 0, 0, SEEK_CUR);
		} else if (!strcmp(op, "fcntl")) {
			r = syscall(SYS_fcntl, 0, F_GETFL);
		} else if (!strcmp(op, "fadvise")) {
			r = syscall(SYS_fadvise64, 0, 0, 0, 0);
		} else if (!strcmp(op, "fstatfs")) {
			char buf[256];

			r = syscall(SYS_fstatfs, 0, buf) < 0 ? -1 : *(long *)buf;
		} else if (!strcmp(op, "poll")) {
			struct { int fd; short ev, rev; } p = { 0, 1 /* POLLIN */, 0 };

			/* POLLIN alone: /dev/null has it, an empty pipe not,
			 * whether its writer has exited yet (POLLHUP) or not */
			r = syscall(SYS_poll, &p, 1, 0) < 0 ? -1 : p.rev & 1;
		} else if (!strcmp(op, "statx")) {
			char buf[256];

			r = syscall(SYS_statx, 0, "", AT_EMPTY_PATH, 1 /* STATX_TYPE */, buf) < 0 ?
				-1 : *(unsigned short *)(buf + 0x1c);
		} else if (!strcmp(op, "fdinfo")) {
			char buf[256] = "";

			fd = sys_openat(AT_FDCWD, "/proc/self/fdinfo/0", O_RDONLY | O_CLOEXEC, 0);
			if (fd >= 0 && read((int)fd, buf, sizeof(buf) - 1) > 0)
				r = strstr(buf, "flags:\t0100000") != NULL;
		} else if (!strcmp(op, "readlink")) {
			char buf[256] = "";

			r = readlink("/proc/self/fd/0", buf, sizeof(buf) - 1) < 0 ? -1 : buf[0];
		} else if (!strcmp(op, "statfs")) {
			/* the file system /dev/stdin leads to: tmpfs or pipefs */
			struct statfs sf;

			r = statfs("/dev/stdin", &sf) < 0 ? -1 : (long)sf.f_type;
		} else if (!strcmp(op, "ficlone")) {
			/* fd 0 as FICLONE's source: EINVAL for a pipe, EXDEV else */
			int p[2];

			if (pipe(p) == 0)
				r = ioctl(p[1], FICLONE, 0);
		} else if (!strcmp(op, "scm")) {
			/* fd 0 passed to itself over a socket, then fstat-ed */
			int sv[2], got = -1;
			char c = 'x', cbuf[CMSG_SPACE(sizeof(int))];
			struct iovec iov = { &c, 1 };
			struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
					    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
			struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
			struct stat st;

			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			got = 0;
			memcpy(CMSG_DATA(cm), &got, sizeof(int));
			if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0 &&
			    sendmsg(sv[0], &m, 0) == 1 && recvmsg(sv[1], &m, 0) == 1) {
				memcpy(&got, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(int));
				r = fstat(got, &st) < 0 ? -1 : (long)(st.st_mode & S_IFMT);
			}
		} else if (!strcmp(op, "fddir") || !strcmp(op, "fdinfodir")) {
			/* "0" relative to an fd of /proc/self/fd or /proc/self/fdinfo */
			bool info = !strcmp(op, "fdinfodir");
			long pdfd = sys_openat(AT_FDCWD, info ? "/proc/self/fdinfo" : "/proc/self/fd",
					       O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
			char buf[256] = "";
			struct stat st;

			if (pdfd >= 0 && !info)
				r = fstatat((int)pdfd, "0", &st, 0) < 0 ? -1 : (long)(st.st_mode & S_IFMT);
			fd = pdfd >= 0 && info ? sys_openat((int)pdfd, "0", O_RDONLY | O_CLOEXEC, 0) : -1;
			if (fd >= 0 && read((int)fd, buf, sizeof(buf) - 1) > 0)
				r = strstr(buf, "flags:\t0100000") != NULL;
		} else {
			usage();
		}
		printf("stdin %s=%ld errno=%d\n", op, r, r < 0 ? errno : 0);
	} else {
		usage();
	}
	(void)fd;
	return 0;
}

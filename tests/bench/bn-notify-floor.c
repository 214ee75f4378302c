/*
 * bn-notify-floor N: the cheapest possible seccomp user-notification round
 * trip on this machine, as a floor for procache's tracer (tests/bench).
 *
 * A child installs a filter that notifies getppid() only, with
 * SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, hands the listener to the parent over
 * a socketpair and calls getppid() N times; the parent answers each with
 * SECCOMP_USER_NOTIF_FLAG_CONTINUE and nothing else (no memory read, no
 * bookkeeping: blocking RECV, then SEND). Then the same loop without a
 * filter. Prints one line:
 *	floor: N calls, notified X us, plain Y us per call
 * Exit 0, or 1 with a message when a step fails (no seccomp, old kernel).
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS _IOW('!', 4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP 1UL
#endif

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail(const char *what)
{
	fprintf(stderr, "bn-notify-floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void send_fd(int sock, int fd)
{
	char c = 0, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec io = { .iov_base = &c, .iov_len = 1 };
	struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(sock, &m, 0) != 1)
		fail("sendmsg");
}

static int recv_fd(int sock)
{
	char c, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec io = { .iov_base = &c, .iov_len = 1 };
	struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &m, 0) != 1 || !(cm = CMSG_FIRSTHDR(&m)))
		fail("recvmsg");
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

static double loop_us(long n)
{
	double t0 = now_s();
	long i;

	for (i = 0; i < n; i++)
		syscall(SYS_getppid);
	return (now_s() - t0) * 1e6 / (double)n;
}

static void child(int sock, long n)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };
	double plain, notified;
	char go;
	int fd;

	plain = loop_us(n);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fail("no_new_privs");
	fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			  SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (fd < 0)
		fail("seccomp");
	/* the flags are the argument itself, not a pointer to them */
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) < 0)
		fail("SECCOMP_IOCTL_NOTIF_SET_FLAGS");
	send_fd(sock, fd);
	close(fd);
	if (read(sock, &go, 1) != 1)
		fail("read");
	notified = loop_us(n);
	printf("floor: %ld calls, notified %.2f us, plain %.2f us per call\n", n, notified,
	       plain);
	fflush(stdout);
	_exit(0);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 50000;
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	int sv[2], fd, status;
	pid_t pid;

	if (n <= 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		fail("usage: bn-notify-floor N, or socketpair");
	pid = fork();
	if (pid < 0)
		fail("fork");
	if (!pid)
		child(sv[1], n);
	fd = recv_fd(sv[0]);
	if (write(sv[0], "g", 1) != 1)
		fail("write");
	/* exactly n: a zombie child still holds the filter, RECV would wait */
	for (long i = 0; i < n; i++) {
		memset(&req, 0, sizeof(req));
		if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
			if (errno == EINTR) {
				i--;
				continue;
			}
			fail("SECCOMP_IOCTL_NOTIF_RECV");
		}
		memset(&resp, 0, sizeof(resp));
		resp.id = req.id;
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
			fail("SECCOMP_IOCTL_NOTIF_SEND");
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		fail("waitpid");
	return WEXITSTATUS(status);
}

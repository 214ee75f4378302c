/*
 * esc-sock HOW ADDR [PORT]: tries to reach a host service from inside the
 * sandbox and, when it gets through, sends the marker "ESCAPED\n". Prints
 * "HOW: ok" or "HOW: ERRNAME" and exits 0 when refused, 1 when something
 * was sent, 2 on usage errors.
 *
 *	unix PATH		connect() a stream socket to a path-named
 *				Unix socket, then write the marker
 *	abstract NAME		the same to the abstract address "\0NAME"
 *	dgram PATH		sendto() a datagram to a path-named socket
 *	dgram-fd N PATH		sendmsg() with msg_name from a datagram
 *				socket moved to fd N first (the number the
 *				sandbox exempts for its listener hand-over)
 *	tcp IPV4 PORT		connect() (2 s timeout) then write the marker
 *	race PATH DECOY SECS	connect() to DECOY (a path the tracer lets
 *				through) again and again for up to SECS
 *				seconds while a thread rewrites the address
 *				in memory to PATH and back: the tracer reads
 *				the address, the kernel reads it again
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <time.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char marker[] = "ESCAPED\n";

static int report(const char *how, int ok)
{
	if (ok) {
		printf("%s: ok\n", how);
		return 1;
	}
	printf("%s: %s\n", how, strerrorname_np(errno) ? strerrorname_np(errno) : "E?");
	return 0;
}

static socklen_t unix_addr(struct sockaddr_un *sa, const char *name, int abstract)
{
	size_t n = strlen(name);

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (n + 2 > sizeof(sa->sun_path)) {
		fprintf(stderr, "esc-sock: name too long\n");
		exit(2);
	}
	memcpy(sa->sun_path + (abstract ? 1 : 0), name, n);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (abstract ? 1 : 1));
}

static struct sockaddr_un race_sa;
static char race_a[108], race_b[108];
static volatile int race_stop;

static void *race_flip(void *arg)
{
	(void)arg;
	volatile long spin;

	/* each address stays a while: the tracer and the kernel read at
	 * random times, so either may see either */
	while (!race_stop) {
		memcpy(race_sa.sun_path, race_a, sizeof(race_a));
		__asm__ volatile("" ::: "memory");	/* both stores happen */
		for (spin = 0; spin < 2000; spin++)
			;
		memcpy(race_sa.sun_path, race_b, sizeof(race_b));
		__asm__ volatile("" ::: "memory");
		for (spin = 0; spin < 2000; spin++)
			;
	}
	return NULL;
}

static int race(const char *path, const char *decoy, int secs)
{
	time_t end = time(NULL) + secs;
	pthread_t th;
	long tries = 0;
	int fd, ok = 0;

	if (strlen(path) >= sizeof(race_a) || strlen(decoy) >= sizeof(race_b))
		return 2;
	memcpy(race_a, path, strlen(path) + 1);
	memcpy(race_b, decoy, strlen(decoy) + 1);
	race_sa.sun_family = AF_UNIX;
	memcpy(race_sa.sun_path, race_b, sizeof(race_b));
	if (pthread_create(&th, NULL, race_flip, NULL))
		return 2;
	while (!ok && time(NULL) < end) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			break;
		tries++;
		if (connect(fd, (struct sockaddr *)&race_sa, sizeof(race_sa)) == 0)
			ok = write(fd, marker, sizeof(marker) - 1) > 0;
		close(fd);
	}
	race_stop = 1;
	pthread_join(th, NULL);
	fprintf(stderr, "race: %ld tries\n", tries);
	errno = ECONNREFUSED;
	return report("race", ok);
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa;
	socklen_t len;
	const char *how;
	int fd;

	if (argc < 3) {
		fprintf(stderr, "usage: esc-sock HOW ADDR [PORT]\n");
		return 2;
	}
	how = argv[1];
	if (!strcmp(how, "unix") || !strcmp(how, "abstract")) {
		int abstract = how[0] == 'a';

		len = unix_addr(&sa, argv[2], abstract);
		if (abstract)
			len--;	/* abstract names are not NUL-terminated */
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return report("socket", 0), 2;
		if (connect(fd, (struct sockaddr *)&sa, len) < 0)
			return report(how, 0);
		return report(how, write(fd, marker, sizeof(marker) - 1) > 0);
	}
	if (!strcmp(how, "dgram")) {
		len = unix_addr(&sa, argv[2], 0);
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return report("socket", 0), 2;
		return report(how, sendto(fd, marker, sizeof(marker) - 1, 0,
					  (struct sockaddr *)&sa, len) > 0);
	}
	if (!strcmp(how, "dgram-fd")) {
		struct iovec iov = { (void *)marker, sizeof(marker) - 1 };
		struct msghdr mh = { 0 };
		int n;

		if (argc < 4)
			return 2;
		n = atoi(argv[2]);
		len = unix_addr(&sa, argv[3], 0);
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || dup2(fd, n) < 0)
			return report("socket", 0), 2;
		mh.msg_name = &sa;
		mh.msg_namelen = len;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		return report(how, sendmsg(n, &mh, 0) > 0);
	}
	if (!strcmp(how, "race")) {
		if (argc < 5)
			return 2;
		return race(argv[2], argv[3], atoi(argv[4]));
	}
	if (!strcmp(how, "tcp")) {
		struct sockaddr_in in = { .sin_family = AF_INET };
		struct pollfd p;
		socklen_t elen = sizeof(int);
		int err = 0;

		if (argc < 4 || inet_pton(AF_INET, argv[2], &in.sin_addr) != 1)
			return 2;
		in.sin_port = htons((unsigned short)atoi(argv[3]));
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return report("socket", 0), 2;
		if (connect(fd, (struct sockaddr *)&in, sizeof(in)) < 0) {
			if (errno != EINPROGRESS)
				return report(how, 0);
			p.fd = fd;
			p.events = POLLOUT;
			if (poll(&p, 1, 2000) != 1) {
				errno = ETIMEDOUT;
				return report(how, 0);
			}
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
				err = errno;
			if (err) {
				errno = err;
				return report(how, 0);
			}
		}
		return report(how, write(fd, marker, sizeof(marker) - 1) > 0);
	}
	fprintf(stderr, "esc-sock: unknown '%s'\n", how);
	return 2;
}

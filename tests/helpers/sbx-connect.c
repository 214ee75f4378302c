/*
 * sbx-connect ADDR PORT: one TCP connect() to an IPv4 address, with a
 * 2 s timeout, as a job would. Prints and exits with:
 *	0 "connected"	a listener answered
 *	1 "refused"	the address is reachable, nothing listens (ECONNREFUSED)
 *	2 "unreachable: <error>"	no route (ENETUNREACH...) or timeout
 *	3 usage or socket errors
 * Tests use it against the host's own non-loopback address, never an
 * outside one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct pollfd p;
	socklen_t len = sizeof(int);
	int fd, err = 0;

	if (argc != 3 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "usage: sbx-connect IPV4 PORT\n");
		return 3;
	}
	sa.sin_port = htons((unsigned short)atoi(argv[2]));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		perror("socket");
		return 3;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno != EINPROGRESS) {
			err = errno;
			goto done;
		}
		p.fd = fd;
		p.events = POLLOUT;
		if (poll(&p, 1, 2000) != 1) {
			err = ETIMEDOUT;
			goto done;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
	}
done:
	close(fd);
	if (!err) {
		printf("connected\n");
		return 0;
	}
	if (err == ECONNREFUSED) {
		printf("refused\n");
		return 1;
	}
	printf("unreachable: %s\n", strerror(err));
	return 2;
}

/*
 * he-open: open one file with exact flags and write to it, for the
 * hermeticity tests of files opened for writing without O_TRUNC (their
 * prior bytes survive, so they are inputs).
 *
 *	he-open append FILE DATA   O_WRONLY|O_APPEND: DATA added at the end
 *	he-open rdwr FILE DATA     O_RDWR: DATA written at offset 0
 *	he-open wronly FILE DATA   O_WRONLY: DATA written at offset 0
 *	he-open creat FILE DATA    O_WRONLY|O_CREAT (no O_TRUNC), mode 0644
 *
 * Raw openat(2), so the flags are exactly these. Exit 0 when written,
 * 1 when a call failed, 2 on bad usage.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int flags;
	long fd;
	size_t len;

	if (argc != 4) {
		fprintf(stderr, "usage: he-open append|rdwr|wronly|creat FILE DATA\n");
		return 2;
	}
	if (!strcmp(argv[1], "append"))
		flags = O_WRONLY | O_APPEND;
	else if (!strcmp(argv[1], "rdwr"))
		flags = O_RDWR;
	else if (!strcmp(argv[1], "wronly"))
		flags = O_WRONLY;
	else if (!strcmp(argv[1], "creat"))
		flags = O_WRONLY | O_CREAT;
	else
		return 2;
	fd = syscall(SYS_openat, AT_FDCWD, argv[2], flags | O_CLOEXEC, 0644);
	if (fd < 0) {
		perror(argv[2]);
		return 1;
	}
	len = strlen(argv[3]);
	if (write((int)fd, argv[3], len) != (ssize_t)len) {
		perror("write");
		return 1;
	}
	return close((int)fd) ? 1 : 0;
}

/*
 * he-cat: copy each FILE to stdout with open/read/write and nothing else
 * (no locale, no stdio buffering), so it can be linked statically
 * (`cc -static`) and shows what a static binary's job observes: only the
 * execve and its own opens, no dynamic loader.
 *
 *	he-cat FILE...
 *
 * Exit 0, 1 when a file cannot be read.
 */
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char buf[4096];
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		ssize_t n;
		int fd = open(argv[i], O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			rc = 1;
			continue;
		}
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			if (write(1, buf, (size_t)n) != n)
				rc = 1;
		if (n < 0)
			rc = 1;
		close(fd);
	}
	return rc;
}

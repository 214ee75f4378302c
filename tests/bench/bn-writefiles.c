/*
 * bn-writefiles DIR N KIB: the output-heavy job of tests/bench/materialize.sh.
 * Creates DIR (which must not exist) and N files of KIB KiB in it, 100 per
 * subdirectory (DIR/dNNN/fNNNNN), with deterministic pseudo-random bytes
 * (xorshift seeded by the file's index), so that every run writes the
 * same tree. Reads nothing but its own arguments.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void die_errno(const char *what, const char *path)
{
	fprintf(stderr, "bn-writefiles: %s '%s': %s\n", what, path, strerror(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	static uint64_t buf[1024 / 8 * 1024];
	char path[4096];
	unsigned long n, kib, i;

	if (argc != 4) {
		fprintf(stderr, "usage: bn-writefiles DIR N KIB\n");
		return 2;
	}
	n = strtoul(argv[2], NULL, 10);
	kib = strtoul(argv[3], NULL, 10);
	if (kib > 1024) {
		fprintf(stderr, "bn-writefiles: at most 1024 KiB a file\n");
		return 2;
	}
	if (mkdir(argv[1], 0755) < 0)
		die_errno("cannot create", argv[1]);
	for (i = 0; i < n; i++) {
		uint64_t x = 0x9e3779b97f4a7c15ULL ^ (i + 1);
		size_t len = kib * 1024, w, k;
		int fd;

		if (i % 100 == 0) {
			snprintf(path, sizeof(path), "%s/d%03lu", argv[1], i / 100);
			if (mkdir(path, 0755) < 0)
				die_errno("cannot create", path);
		}
		for (k = 0; k < len / 8; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[k] = x;
		}
		snprintf(path, sizeof(path), "%s/d%03lu/f%05lu", argv[1], i / 100, i);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0)
			die_errno("cannot create", path);
		for (w = 0; w < len;) {
			ssize_t r = write(fd, (char *)buf + w, len - w);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				die_errno("cannot write", path);
			}
			w += (size_t)r;
		}
		if (close(fd) < 0)
			die_errno("cannot close", path);
	}
	return 0;
}

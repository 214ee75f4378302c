/*
 * bn-statread DIR: the syscall-heavy job of tests/bench/trace-files.sh.
 * Walks DIR (openat + getdents64 through readdir), and for every regular
 * file makes a stat() by path, then open(), read() to the end and close():
 * two notified calls per file under the tracer (stat, openat), and the
 * directory listings. Prints "<files> <bytes>".
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned long files, bytes;

static void walk(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[4096], buf[65536];

	if (!d) {
		perror(dir);
		exit(1);
	}
	while ((de = readdir(d))) {
		struct stat st;
		ssize_t n;
		int fd;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path)) {
			fprintf(stderr, "bn-statread: path too long\n");
			exit(1);
		}
		if (stat(path, &st) < 0) {
			perror(path);
			exit(1);
		}
		if (S_ISDIR(st.st_mode)) {
			walk(path);
			continue;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			perror(path);
			exit(1);
		}
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			bytes += (unsigned long)n;
		if (n < 0) {
			perror(path);
			exit(1);
		}
		close(fd);
		files++;
	}
	closedir(d);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: bn-statread DIR\n");
		return 2;
	}
	walk(argv[1]);
	printf("%lu %lu\n", files, bytes);
	return 0;
}

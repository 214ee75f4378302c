/*
 * he-threads: read each FILE from its own thread (all started before any
 * is joined), then print "NAME SIZE SUM" per file in argument order, SUM
 * being a simple checksum of the bytes. For the hermeticity tests of
 * multi-threaded jobs: every thread's opens must be recorded.
 *
 *	he-threads FILE...
 *
 * Exit 0, 1 when a file cannot be read, 2 on bad usage.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct job {
	const char *path;
	pthread_t thread;
	long size;
	unsigned long sum;
	int failed;
};

static void *read_one(void *arg)
{
	struct job *j = arg;
	unsigned char buf[4096];
	ssize_t n;
	int fd = open(j->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		j->failed = 1;
		return NULL;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			j->sum = j->sum * 31 + buf[i];
		j->size += n;
	}
	if (n < 0)
		j->failed = 1;
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	struct job *jobs;
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: he-threads FILE...\n");
		return 2;
	}
	jobs = calloc((size_t)argc, sizeof(*jobs));
	if (!jobs)
		return 1;
	for (int i = 1; i < argc; i++) {
		jobs[i].path = argv[i];
		if (pthread_create(&jobs[i].thread, NULL, read_one, &jobs[i]))
			return 1;
	}
	for (int i = 1; i < argc; i++)
		pthread_join(jobs[i].thread, NULL);
	for (int i = 1; i < argc; i++) {
		if (jobs[i].failed) {
			printf("%s unreadable\n", argv[i]);
			rc = 1;
		} else {
			printf("%s %ld %lu\n", argv[i], jobs[i].size, jobs[i].sum);
		}
	}
	free(jobs);
	return rc;
}

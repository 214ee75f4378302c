/*
 * Small helpers shared by the commands of runner/ (contracts in
 * runner/util.h): the clock, the files procache writes itself, opening
 * the cache with the resolved settings.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cache/cache.h"
#include "common/die.h"
#include "common/strbuf.h"
#include "runner/util.h"
#include "common/banned.h"

double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct cache *open_cache_or_die(const char *dir, uint64_t max_size)
{
	struct cache *c;
	struct strbuf err = STRBUF_INIT;
	if (cache_open(dir, max_size, &c, &err) < 0)
		die("%s", err.buf);
	strbuf_release(&err);
	return c;
}

int open_own_output(const char *path, int flags)
{
	/*
	 * A job's applied changes may have left a symlink at this name in
	 * an output root (or in one of its directories: that is not
	 * checked); root would write, or create, wherever it points.
	 * Under /dev and /proc the name is the user's: /dev/stdout,
	 * /proc/self/fd/N, a terminal.
	 */
	int nofollow = strncmp(path, "/dev/", 5) && strncmp(path, "/proc/", 6) ?
		       O_NOFOLLOW : 0;

	return open(path, O_WRONLY | O_CREAT | O_CLOEXEC | nofollow | flags, 0644);
}

void open_log_or_die(const char *path)
{
	if (!path)
		return;
	int fd = open_own_output(path, O_APPEND);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "ae");
	if (!f)
		die_errno("cannot open log file '%s'", path);
	setvbuf(f, NULL, _IOLBF, 0);
	pc_log_set_file(f);
}

/*
 * Small helpers shared by the commands of runner/ (contracts in
 * runner/util.h): the clock, the files procache writes itself, opening
 * the cache with the resolved settings.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "cache/cache.h"
#include "common/cleanup.h"
#include "common/die.h"
#include "common/path.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runner/util.h"
#include "sandbox/sandbox.h"
#include "common/banned.h"

double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The phases of this run, in the order they first ended. */
static struct {
	struct {
		const char *name;
		double s;
	} v[16];
	size_t nr;
	double t0, last, carved;
} phases;

static void phase_put(const char *name, double s)
{
	size_t i;

	for (i = 0; i < phases.nr; i++)
		if (!strcmp(phases.v[i].name, name))
			break;
	if (i == phases.nr) {
		if (phases.nr == ARRAY_SIZE(phases.v))
			return;
		phases.v[phases.nr++].name = name;
	}
	phases.v[i].s += s;
}

void phase_start(double t0)
{
	phases.nr = 0;
	phases.t0 = phases.last = t0;
	phases.carved = 0;
}

void phase_end(const char *name)
{
	double now = now_seconds(), s = now - phases.last - phases.carved;

	phase_put(name, s > 0 ? s : 0);
	phases.last = now;
	phases.carved = 0;
}

void phase_add(const char *name, double s)
{
	if (s <= 0)
		return;
	phase_put(name, s);
	phases.carved += s;
}

void phase_say(const char *outcome)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	if (pc_verbose < 2)
		return;
	for (i = 0; i < phases.nr; i++)
		strbuf_addf(&sb, "%s%s %.2f", i ? ", " : "", phases.v[i].name,
			    phases.v[i].s * 1e3);
	debug("time (%s, ms from main()): %s; total %.2f", outcome, sb.buf,
	      (now_seconds() - phases.t0) * 1e3);
	strbuf_release(&sb);
}

/*
 * Stale run directories (of a runner killed, or one that died on a full
 * disk with a job's upper directories in it) are removed by
 * sbx_clean_stale() at most once a minute. On a file system short of
 * space that is too late: they can hold what the next run needs, and it
 * fails with ENOSPC in turn. There the stamp is removed, so that every
 * run scans (a readdir of run/, cheap when nothing is stale); and so it
 * is for 'cache gc', whose business cleaning is.
 */
int clean_stale_runs(const char *run_root, bool force)
{
	struct statvfs sv;

	if (!force && statvfs(run_root, &sv) == 0) {
		uint64_t avail = (uint64_t)sv.f_bavail * sv.f_frsize;
		uint64_t size = (uint64_t)sv.f_blocks * sv.f_frsize;
		force = avail < size / 16 || avail < (256u << 20);
	}
	if (force) {
		_cleanup_free_ char *stamp = path_join(run_root, ".clean-stamp");
		unlink(stamp);
	}
	return sbx_clean_stale(run_root);
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

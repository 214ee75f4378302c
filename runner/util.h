/*
 * Small helpers shared by the commands of runner/ (runner/util.c): the
 * clock, the files procache writes itself, opening the cache. They die
 * (125) on failure.
 */
#ifndef PROCACHE_RUNNER_UTIL_H
#define PROCACHE_RUNNER_UTIL_H

#include <stdbool.h>
#include <stdint.h>

struct cache;

/* CLOCK_MONOTONIC seconds. */
double now_seconds(void);

/*
 * cache_open() the cache at @dir (absolute) with the automatic size
 * limit @max_size (0: none), both as resolved by config_resolve(); dies
 * with cache_open()'s message.
 */
struct cache *open_cache_or_die(const char *dir, uint64_t max_size);

/*
 * Opens a file procache writes itself (--report, --diff-json, --log) for
 * writing, creating it 0644, with @flags (O_TRUNC, O_APPEND) added. A
 * symlink as the last component is not followed (ELOOP), except under
 * /dev and /proc. Returns the fd or -1 with errno set.
 */
int open_own_output(const char *path, int flags);

/*
 * Remove the stale run directories under @run_root (sbx_clean_stale():
 * of runners killed, and the trash of runs that ended), at most once a
 * minute unless @force or the file system is short of space. Returns
 * how many were removed.
 */
int clean_stale_runs(const char *run_root, bool force);

/* --log FILE: messages go to FILE (appended). NULL: stderr. */
void open_log_or_die(const char *path);

#endif

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
 * -vv's one line of where a run's time went. phase_start(t0) starts the
 * clock at @t0 (now_seconds()); phase_end(NAME) ends the phase NAME, which
 * began where the previous one ended (a NAME seen before adds up);
 * phase_add(NAME, S) records a part of S seconds measured elsewhere (the
 * sandbox's start-up, the lookup's parts), taken out of the phase the next
 * phase_end() closes; phase_say(OUTCOME) prints the line at -vv:
 * "procache: debug: time (hit, ms from main()): start 0.41, key 0.12, ...;
 * total 1.93". @NAME must outlive the run (a literal).
 */
void phase_start(double t0);
void phase_end(const char *name);
void phase_add(const char *name, double s);
void phase_say(const char *outcome);

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

/*
 * Helpers shared by the commands of runner/. They die (125) on failure.
 */
#ifndef PROCACHE_RUNNER_RUNNER_H
#define PROCACHE_RUNNER_RUNNER_H

#include "common/strbuf.h"

struct cache;

/* CLOCK_MONOTONIC seconds. */
double now_seconds(void);

/*
 * The cache directory: @flag (--cache-dir) if given, else the default
 * ($PROCACHE_DIR, $XDG_CACHE_HOME/procache, $HOME/.cache/procache); made
 * absolute and clean, into @out.
 */
void resolve_cache_dir(const char *flag, struct strbuf *out);

/* cache_open() with $PROCACHE_MAX_SIZE, or die with the message. */
struct cache *open_cache_or_die(const char *dir);

/*
 * Opens a file procache writes itself (--report, --diff-json, --log) for
 * writing, creating it 0644, with @flags (O_TRUNC, O_APPEND) added. A
 * symlink as the last component is not followed (ELOOP), except under
 * /dev and /proc. Returns the fd or -1 with errno set.
 */
int open_own_output(const char *path, int flags);

/* --log FILE: messages go to FILE (appended). NULL: stderr. */
void open_log_or_die(const char *path);

#endif

/*
 * --check (runner/check.c): on a hit the job is run anyway and what it
 * did is compared with the entry — exit status, stdout, stderr, and the
 * diff path by path (kind, mode, symlink target, file content). The
 * entry is kept either way (DESIGN.md section 7).
 *
 * Calling sequence (runner/run.c):
 *	job_execute(&j, run_root, &r);
 *	n = check_run(c, hit, &r, roots, ignores, &diff, &rp); // "check" (and "differences") in the report
 *	job_run_release(&r);
 *	... the hit is replayed; n > 0 makes the exit status 1 ...
 */
#ifndef PROCACHE_RUNNER_CHECK_H
#define PROCACHE_RUNNER_CHECK_H

#include <stddef.h>

#include "runner/job.h"
#include "runner/report.h"

struct cache;
struct cache_entry;
struct strbuf;

/*
 * Compare the run @r with the entry @e and say the result in @rp:
 * "check" is "uncacheable" (@r has reasons not to be stored: nothing is
 * compared), "same", or "different" with "differences" listing what
 * differs ("exit status", "stdout", "stderr", or a path). Returns the
 * number of differences. A text output (no NUL byte, at most 1 MiB)
 * whose bytes differ is the same when its lines are, once the lines
 * matching one of the POSIX extended regexes @ignores (NULL-terminated,
 * or NULL; --check-ignore) are dropped; for the first three that still
 * differ, a unified diff (one hunk, at most 20 lines) is appended to
 * @diff. A path outside every output root of @roots (NULL-terminated) is
 * never applied, and differs for nobody: not counted.
 */
size_t check_run(struct cache *c, const struct cache_entry *e,
		 const struct job_run *r, char *const *roots, char *const *ignores,
		 struct strbuf *diff, struct report *rp);

#endif

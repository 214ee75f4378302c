/*
 * What 'procache run --explain' prints on a miss (runner/explain.c): a
 * one-line summary and the nearest candidate by default, every reason of
 * every candidate with -vv, and for a file the job both reads and
 * rewrites (a tool's state in the tree) the remedy. The full list is
 * always in the report (--report, "explain").
 *
 * Calling sequence (runner/run.c):
 *	cache_lookup(c, k, CACHE_LOOKUP_EXPLAIN, &hit, &ex, &err);
 *	explain_print(ex, stderr, pc_verbose >= 2);
 */
#ifndef PROCACHE_RUNNER_EXPLAIN_H
#define PROCACHE_RUNNER_EXPLAIN_H

#include <stdbool.h>
#include <stdio.h>

struct cache_explain;

/* Print @ex to @f, "procache: explain: " lines; every reason when @all. */
void explain_print(const struct cache_explain *ex, FILE *f, bool all);

/*
 * The remedy for a file a job reads and rewrites on every run, by the
 * tool its path names (".pytest_cache": "run pytest with -p
 * no:cacheprovider"); a general one for any other path. Never NULL.
 */
const char *explain_state_remedy(const char *path);

/*
 * The remedy for an uncacheable reason (a message of the tracer or the
 * runner): the one table both the one-line note and -v use. NULL when
 * there is none to give (a failure --no-cache-failures refused, a call
 * the sandbox forbids); a reason the table does not know gets "procache
 * trace" as its remedy.
 */
const char *explain_uncacheable_remedy(const char *reason);

#endif

/*
 * The job key (runner/key.c, DESIGN.md section 4).
 *
 * Calling sequence (runner/run.c):
 *	struct cache_key *k = cache_key_new();
 *	job_add_key(&j, k);          // after job_start()
 *	cache_lookup(c, k, ...);  ...  cache_key_free(k);
 */
#ifndef PROCACHE_RUNNER_KEY_H
#define PROCACHE_RUNNER_KEY_H

#include <stdbool.h>

#include "runner/job.h"

struct cache_key;

/*
 * Add every key field of @j to @k, in order: format, arch, argv,
 * environment, cwd, ids, umask, stdin, sandbox options. Two jobs get the
 * same key only when all of these are equal.
 */
void job_add_key(const struct job *j, struct cache_key *k);

/*
 * The relocatable key (DESIGN.md section 12): the same fields with
 * "cwd_in_base" (the cwd relative to the base directory, "." for itself)
 * instead of "cwd". Only for a job whose cwd is under its --base-dir and
 * whose arguments, environment and masks do not contain that directory
 * (j->relocatable); returns false, adding nothing, otherwise.
 */
/*
 * The fields an execution unit's key (DESIGN.md §13.3) starts with:
 * "unit", then the outer job's format and sandbox and option fields (the
 * same view, the same rules); runner/nest.c adds the unit's own.
 */
void job_add_unit_key(const struct job *j, struct cache_key *k);

bool job_add_relocatable_key(const struct job *j, struct cache_key *k);

#endif

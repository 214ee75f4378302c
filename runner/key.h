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

#include "runner/job.h"

struct cache_key;

/*
 * Add every key field of @j to @k, in order: format, arch, argv,
 * environment, cwd, ids, umask, stdin, sandbox options. Two jobs get the
 * same key only when all of these are equal.
 */
void job_add_key(const struct job *j, struct cache_key *k);

#endif

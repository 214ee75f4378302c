/*
 * The cache record of a run (runner/record.c): what cache_store() keeps
 * of it — the preconditions, from the trace's observations (DESIGN.md
 * section 3), the result (exit status, duration, captured stdout and
 * stderr) and the changes, from the diff.
 *
 * Calling sequence (runner/run.c), for a cacheable run only:
 *	rec = record_build(&r, k, &o);
 *	cache_store(c, rec, &stored, &err);
 *	cache_record_free(rec);
 */
#ifndef PROCACHE_RUNNER_RECORD_H
#define PROCACHE_RUNNER_RECORD_H

#include <stdbool.h>

#include "runner/job.h"

struct cache_key;
struct cache_record;

/*
 * The record of @r under the key @k (which the record references, not
 * copies), as @o says: --strict-stat (every stat observation compares
 * mtime and ctime), --mtime (what a stat that showed times holds). @r
 * must be cacheable (traced, no reasons): a special file in its diff is
 * a BUG().
 */
struct cache_record *record_build(const struct job_run *r,
				  struct cache_key *k, const struct job_opts *o);

/*
 * The precondition that stands for observation @ob, into @rec, as @o
 * says (above). An output (TRACE_OUTPUT) absent before: @left_file says
 * whether the run's result leaves a regular file there (else its
 * absence is what the run relied on). @in_result: the run's result
 * holds @ob's path with the time it has (the source of a rename or a
 * link): a stat that showed no times then holds the mtime too
 * (CACHE_STAT_PIN). Also for an execution unit's observations
 * (runner/nest.c).
 */
struct trace_obs;
void record_add_obs(struct cache_record *rec, const struct trace_obs *ob,
		    const struct job_opts *o, bool left_file, bool in_result);

#endif

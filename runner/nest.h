/*
 * Execution units' entries (DESIGN.md §13.3): the runner's side of the
 * tracer's unit_done callback, which builds a unit's key (the outer
 * job's sandbox fields, then the unit's own) and its cache record, and
 * stores it by copy (the files stay in the view the job goes on using).
 *
 * Calling sequence (runner/job.c, job_execute()), with --nested:
 *	tcfg.unit_done = nest_unit_done;
 *	tcfg.unit_skip = nest_unit_skip;	// the lookup and apply at an exec
 *	tcfg.unit_ctx = j;		// the struct job, with its cache
 * Each store's failure is a debug line: the unit is only not cached.
 */
#ifndef PROCACHE_RUNNER_NEST_H
#define PROCACHE_RUNNER_NEST_H

struct trace_unit;

struct trace_unit_hit;

/* unit_done and unit_skip of struct trace_config: @ctx is the struct job. */
void nest_unit_done(void *ctx, const struct trace_unit *u);
int nest_unit_skip(void *ctx, const struct trace_unit *u, int root_fd,
		   struct trace_unit_hit *hit);

#endif

/*
 * Applying a job's changes under its --output roots (runner/apply.c),
 * DESIGN.md section 7. Whether they come from a stored entry (a hit, or a
 * miss just stored) or straight from a run's upper directories (an
 * uncacheable run, or one whose store failed), they go through
 * mat_apply(), and what came of each change is kept for the report.
 *
 * Calling sequence (runner/run.c):
 *	struct applied a;
 *	apply_entry(c, entry, &j, &a, &err);   // or apply_diff(&r, &j, &a, &err)
 *	report_set_applied(&rp, &a);           // runner/report.h
 *	applied_warn_refusals(&a);
 *	if (a.rc < 0) ... fail with err ...
 *	applied_release(&a);
 */
#ifndef PROCACHE_RUNNER_APPLY_H
#define PROCACHE_RUNNER_APPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "cache/materialize.h"
#include "common/strbuf.h"
#include "runner/job.h"

struct cache;
struct cache_entry;

/*
 * What applying a diff did: the materialization report (change i's
 * outcome and reason), and for each change the path and kind it names
 * (pointing into the entry or the run, valid while they are).
 */
struct applied {
	struct mat_report rep;
	size_t nr;
	const char **paths;
	const char **kinds;	/* change_kind_name() */
	const struct xattr_set **xattrs; /* each change's, or NULL */
	int rc;			/* 0, or -errno with a message in the caller's err */
};

/* Apply the changes of the stored entry @e under @j's output roots. */
void apply_entry(struct cache *c, const struct cache_entry *e,
		 const struct job *j, struct applied *a, struct strbuf *err);

/*
 * Apply @r's diff straight from its upper directories. Special files are
 * not applied (one warning each) and not listed. A file whose captured
 * copy is gone (a failed store could not put it back) is skipped, the
 * rest applied, and a->rc is then -ENOENT with a message naming it.
 */
void apply_diff(const struct job_run *r, const struct job *j,
		struct applied *a, struct strbuf *err);

/*
 * Apply nothing of @r's diff: every change is listed as skipped, for
 * reason @why (a run that reached the disk limit: its files are cut
 * short).
 */
void apply_none(const struct job_run *r, const char *why, struct applied *a);

/* Refusals are a security event: one warning each, even on a quiet hit. */
void applied_warn_refusals(const struct applied *a);

/*
 * Changes kept outside the output roots (never applied) are work a user
 * would lose silently: one warning line naming the first paths and the
 * --output that applies them. Printed after the job's replayed or live
 * stderr, on a miss and a hit alike, never stored (DESIGN.md §7).
 */
void applied_warn_kept(const struct applied *a, bool default_roots);

void applied_release(struct applied *a);

#endif

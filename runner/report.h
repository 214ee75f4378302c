/*
 * The JSON of a run (runner/report.c): the --report object, built up
 * while the run goes and written at its end, and the --diff-json array
 * of the job's changes. The keys and their meaning: procache(1).
 *
 * Calling sequence (runner/run.c):
 *	struct report rp;
 *	report_init(&rp, o.report_path, start);    // opens FILE before the job runs
 *	report_set_str(&rp, "key", hex);  report_set_strv(&rp, "uncacheable", ...);
 *	report_set_applied(&rp, &a);               // "outputs" and "kept"
 *	report_finish(&rp, status);                // exit_code, duration_s; writes FILE
 * or, when the run fails after report_init():
 *	report_fail(&rp, err.buf);                 // "status": "error", exit 125
 *
 * A key set again moves to the end: the order of the calls is the order
 * of the keys in FILE.
 */
#ifndef PROCACHE_RUNNER_REPORT_H
#define PROCACHE_RUNNER_REPORT_H

#include <stddef.h>
#include <stdnoreturn.h>

#include <cjson/cJSON.h>

#include "runner/apply.h"
#include "runner/job.h"

struct cache_entry;

struct report {
	cJSON *root;
	const char *path;
	int fd;			/* opened by report_init(), -1 without --report */
	double start;
};

/*
 * Start the report of a run that began at @start (now_seconds()). With
 * @path (--report FILE), FILE is opened now: once the job's changes are
 * applied, its name may be a symlink the job left there (an untrusted
 * job making procache write outside the output roots). Not atomic by
 * design: FILE may be /dev/stdout or a fifo. Dies (125) when FILE cannot
 * be opened.
 */
void report_init(struct report *rp, const char *path, double start);

/* Set @key (replacing it): a string, a number, @v (taken over), strings. */
void report_set_str(struct report *rp, const char *key, const char *v);
void report_set_num(struct report *rp, const char *key, double v);
void report_set(struct report *rp, const char *key, cJSON *v);
void report_set_strv(struct report *rp, const char *key, char *const *v,
		     size_t n);

/*
 * "outputs": each change not kept, with its outcome (and reason);
 * "kept": the changes outside every output root.
 */
void report_set_applied(struct report *rp, const struct applied *a);

/*
 * Set exit_code and duration_s, write FILE (when asked for) and free the
 * report. Dies (125) when FILE cannot be written, or when the job's
 * changes replaced it.
 */
void report_finish(struct report *rp, int exit_code);

/* The run failed: "status": "error", report_finish() with 125, die(@msg). */
noreturn void report_fail(struct report *rp, const char *msg);

/*
 * --diff-json FILE: the changes of a stored entry (a hit), or of a run,
 * as one JSON array. Dies (125) when FILE cannot be written.
 */
void diff_json_write_entry(const char *path, const struct cache_entry *e);
void diff_json_write_run(const char *path, const struct job_run *r);

#endif

/*
 * procache run (cmd_run): look the job up; on a hit restore its results
 * and replay its output; on a miss run it sandboxed and traced, store it
 * when it is cacheable, and apply its changes through the same function a
 * hit uses (mat_apply()); with --check run a hit anyway and compare.
 * DESIGN.md section 7. This file is the orchestration: the parts are in
 * job.c (start, execute), key.c, apply.c, record.c, check.c and report.c.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>

#include "cache/cache.h"
#include "cache/remote.h"
#include "common/cleanup.h"
#include "common/die.h"
#include "common/path.h"
#include "common/xalloc.h"
#include "runner/apply.h"
#include "runner/check.h"
#include "runner/config.h"
#include "runner/commands.h"
#include "runner/explain.h"
#include "runner/job.h"
#include "runner/key.h"
#include "runner/record.h"
#include "runner/report.h"
#include "runner/util.h"
#include "common/banned.h"

/*
 * This run's outcome, counted once in the cache's counters and kept for
 * its batch record (written at the end, with the run's whole duration).
 */
static struct {
	bool counted;
	enum cache_outcome o;
	char *reason;
	double saved_s;
} outcome;

static void count(struct cache *c, enum cache_outcome o, const char *reason,
		  double saved_s)
{
	cache_stats_record(c, o, reason, saved_s);
	if (outcome.counted && outcome.o == CACHE_ERROR)
		return;	/* a failed apply stays the run's outcome */
	free(outcome.reason);
	outcome.counted = true;
	outcome.o = o;
	outcome.reason = reason ? xstrdup(reason) : NULL;
	outcome.saved_s = saved_s;
}

/*
 * Say in the report what applying did and warn of refusals; when it
 * failed, count the error and exit 125 with the report saying so.
 */
static void report_applied(struct cache *c, const struct applied *a,
			   struct report *rp, const struct strbuf *err)
{
	report_set_applied(rp, a);
	applied_warn_refusals(a);
	if (a->rc < 0) {
		count(c, CACHE_ERROR, "apply failed", 0);
		report_fail(rp, err->buf);
	}
}

/*
 * The entry that applies to the job, or NULL: no entry holds, the lookup
 * failed (said, and the job runs), or the job is not looked up at all
 * (--no-cache, --refresh, a terminal as stdin, --no-trace, --net).
 */
static struct cache_entry *look_up(struct cache *c, const struct cache_key *k,
				   const struct cache_key *kr,
				   const struct job *j, struct report *rp)
{
	const struct job_opts *o = j->opts;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct cache_entry *hit = NULL;
	struct cache_explain *ex = NULL;

	if (o->no_cache || o->refresh || j->stdin_kind == JOB_STDIN_TTY ||
	    o->no_trace || o->share_net)
		return NULL;
	int rc = cache_lookup(c, k, o->explain ? CACHE_LOOKUP_EXPLAIN : 0,
			      &hit, &ex, &err);
	if (rc < 0) {
		warn("cache lookup failed, running the job: %s", err.buf);
		hit = NULL;
	}
	if (ex) {
		if (rc == 0) {
			report_set(rp, "explain", cache_explain_json(ex));
			/* asked for: said without -v; every candidate with -vv */
			explain_print(ex, stderr, pc_verbose >= 2);
		}
		cache_explain_free(ex);
	}
	/* The relocatable key (DESIGN.md section 12), then the remote (§11). */
	if (!hit && rc == 0 && kr) {
		strbuf_reset(&err);
		if (cache_lookup(c, kr, 0, &hit, NULL, &err) < 0) {
			warn("cache lookup failed, running the job: %s", err.buf);
			hit = NULL;
		}
	}
	if (!hit && rc == 0 && j->remote &&
	    (cache_remote_lookup(c, j->remote, k, &hit) == 1 ||
	     (kr && cache_remote_lookup(c, j->remote, kr, &hit) == 1)))
		report_set_str(rp, "remote", "hit");
	return hit;
}

static int replay_hit(struct cache *c, struct cache_entry *e, struct job *j,
		      struct report *rp, bool *reader_left)
{
	struct applied a;
	struct strbuf err = STRBUF_INIT;

	apply_entry(c, e, j, &a, &err);
	report_applied(c, &a, rp, &err);
	phase_end("apply");
	/*
	 * A reader that stops early (| head) gives EPIPE, handled below, not
	 * a SIGPIPE death that would leave no report and no hit counted (a
	 * miss blocks SIGPIPE while it streams, too).
	 */
	signal(SIGPIPE, SIG_IGN);
	bool reader_gone = false, stdout_gone = false;
	for (int which = 1; which <= 2; which++) {
		int rc = cache_entry_write_output(c, e, which, which, &err);
		if (rc < 0) {
			if (rc == -EPIPE) {
				strbuf_reset(&err);
				reader_gone = true;
				stdout_gone = which == 1;
				if (reader_left && stdout_gone)
					break;	/* the caller runs the job */
				continue;	/* stderr is still replayed */
			}
			report_fail(rp, err.buf);
		}
	}
	phase_end("replay");
	/*
	 * The reader of stdout went away: what the job does then (dies of
	 * SIGPIPE, prints a traceback and exits 1, panics) is no part of the
	 * entry. The caller runs it (a miss, not stored: the supervisor
	 * closes its stdout as the reader is gone), which is what a shell
	 * then sees; what reached the reader is the same bytes, and nothing
	 * of stderr was replayed yet. (Stderr's reader gone, with stdout
	 * replayed whole, a run would write stdout again: the status is
	 * that of a death by SIGPIPE, below.)
	 */
	if (stdout_gone && reader_left) {
		*reader_left = true;
		applied_release(&a);
		strbuf_release(&err);
		return 0;
	}
	applied_warn_kept(&a, !j->opts->nr_outputs);
	/*
	 * Its reader gone (--check), the job would have had SIGPIPE at that
	 * write, as a miss gives it: the status a shell sees is that death's
	 * for most programs.
	 */
	int status = reader_gone ? job_exit_status(0, SIGPIPE)
		     : job_exit_status(cache_entry_exit_code(e), cache_entry_signal(e));
	double saved = cache_entry_duration(e);
	count(c, CACHE_HIT, NULL, saved);
	report_set_num(rp, "saved_s", saved);
	info("hit, %zu files restored (%zu unchanged), %.1f s saved",
	     a.rep.applied, a.rep.unchanged, saved);
	applied_release(&a);
	strbuf_release(&err);
	return status;
}

/* A hit: its changes and output replayed, its exit status. */
static int run_hit(struct cache *c, struct cache_entry *hit, struct job *j,
		   struct report *rp, bool *reader_left)
{
	report_set_str(rp, "status", "hit");
	report_set_str(rp, "entry", cache_entry_id(hit));
	report_set_strv(rp, "uncacheable", NULL, 0);
	if (j->opts->diff_json_path)
		diff_json_write_entry(j->opts->diff_json_path, hit);
	return replay_hit(c, hit, j, rp, reader_left);
}

/* Run the job (@why: for the debug log) into @r; a miss and --check. */
static void execute(struct cache *c, struct job *j, const char *why,
		    struct job_run *r, struct report *rp)
{
	int clean = clean_stale_runs(cache_run_root(c), false);
	if (clean > 0)
		debug("removed %d stale run directories", clean);
	debug("run: running the job (%s)", why);
	job_execute(j, cache_run_root(c), r);
	debug("run: job ended: status %d, %zu observations, %zu changes, %zu reasons not to store",
	      r->exit_status, r->trace ? trace_nr_obs(r->trace) : 0, r->nr_changes,
	      r->nr_reasons);
	if (r->trace && trace_nr_synthetic(r->trace)) {
		struct strbuf syn = STRBUF_INIT;

		for (size_t i = 0; i < trace_nr_synthetic(r->trace); i++)
			strbuf_addf(&syn, "%s%s", i ? ", " : "",
				    trace_synthetic_at(r->trace, i));
		info("host facts the job read, generated by procache: %s", syn.buf);
		strbuf_release(&syn);
	}
	if (j->opts->diff_json_path)
		diff_json_write_run(j->opts->diff_json_path, r);
	report_set_strv(rp, "uncacheable", r->reasons, r->nr_reasons);
	if (j->opts->nested && r->trace) {
		/* DESIGN.md §13.7: the execution units' counts */
		struct trace_counts tc;
		cJSON *n = cJSON_CreateObject();

		trace_counts(r->trace, &tc);
		/* the size check the units' stores left out (runner/nest.c) */
		if (tc.units_run)
			cache_gc_if_over(c);
		cJSON_AddNumberToObject(n, "run", (double)tc.units_run);
		cJSON_AddNumberToObject(n, "skipped", (double)tc.units_skipped);
		cJSON_AddNumberToObject(n, "refused", (double)tc.units_refused);
		cJSON_AddNumberToObject(n, "saved_s", tc.saved_s);
		report_set(rp, "nested", n);
	}
}

/* --check on a hit: run, compare, keep the entry, apply what it says. */
static int run_check(struct cache *c, struct cache_entry *hit, struct job *j,
		     struct report *rp)
{
	struct job_run r;

	execute(c, j, "--check", &r, rp);
	report_set_str(rp, "status", "hit");
	report_set_str(rp, "entry", cache_entry_id(hit));
	_cleanup_strbuf_ struct strbuf diff = STRBUF_INIT;
	size_t n = check_run(c, hit, &r, j->roots, j->opts->check_ignores, &diff, rp);
	job_run_release(&r);
	int status = replay_hit(c, hit, j, rp, NULL);
	if (n) {
		warn("check: the job is not deterministic: %zu outputs differ from entry %s",
		     n, cache_entry_id(hit));
		fputs(diff.buf, stderr);
		status = 1;
	}
	return status;
}

/*
 * A miss (or --no-cache, --refresh): run the job; store it when it is
 * cacheable; apply its changes.
 */
/*
 * Whether the run could not have observed where its base directory is
 * (DESIGN.md section 12), so that it is stored under the relocatable key
 * with base-relative paths; said in the report either way.
 */
static bool run_relocatable(const struct job *j, const struct job_run *r,
			    struct report *rp)
{
	const char *why = NULL;

	if (!j->relocatable)
		return false;
	if (!r->trace)
		why = "not traced";
	else if ((why = trace_location_observed(r->trace)) == NULL) {
		for (size_t i = 0; i < trace_nr_obs(r->trace); i++) {
			const struct trace_obs *ob = trace_obs_at(r->trace, i);

			if (ob->kind == TRACE_SYMLINK && strstr(ob->value, j->base_dir)) {
				why = "a symlink it read points into the base directory";
				break;
			}
		}
	}
	report_set_str(rp, "relocatable", why ? why : "yes");
	debug("run: %s", why ? why : "relocatable: the job never saw where it is");
	return why == NULL;
}

/*
 * What a user can do about a reason not to store a run (matched by the
 * reason's start), or NULL.
 */
/*
 * One line on stderr for an uncacheable run: nothing of it is ever
 * replayed, so the note costs no exactness, and a user learns why the
 * next run will not be a hit. A job that could not be executed has
 * said so already.
 */
static void say_uncacheable(const struct job_run *r)
{
	const char *remedy = explain_uncacheable_remedy(r->reasons[0]);

	if (r->res.exec_errno)
		return;
	if (r->nr_reasons > 1)
		warn("not cached: %s (and %zu more, -v lists them)%s%s", r->reasons[0],
		     r->nr_reasons - 1, remedy ? "; " : "", remedy ? remedy : "");
	else
		warn("not cached: %s%s%s", r->reasons[0], remedy ? "; " : "",
		     remedy ? remedy : "");
}

static int run_miss(struct cache *c, struct cache_key *k, struct cache_key *kr,
		    struct job *j, struct report *rp)
{
	const struct job_opts *o = j->opts;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct job_run r;

	execute(c, j, o->no_cache ? "--no-cache" : o->refresh ? "--refresh"
			: "no entry applies", &r, rp);
	int status = r.exit_status;

	struct cache_entry *stored = NULL;
	if (o->no_cache_failures && status != 0 && !o->no_cache)
		job_run_add_reason(&r, "exited with status %d and --no-cache-failures stores only successes",
				   status);
	bool cacheable = r.nr_reasons == 0 && !o->no_cache;
	bool store_failed = false;
	if (cacheable) {
		bool reloc = run_relocatable(j, &r, rp);
		struct cache_record *rec = record_build(&r, reloc ? kr : k, o);
		if (reloc)
			cache_record_set_relocatable(rec);
		if (cache_store(c, rec, &stored, &err) < 0) {
			/*
			 * The job ran: its results are not lost because the
			 * cache is full or broken. cache_store() put the
			 * captured files back; they are applied as an
			 * uncacheable run's are.
			 */
			warn("cannot store the result (applying it uncached): %s", err.buf);
			job_run_add_reason(&r, "cannot store the result: %s", err.buf);
			report_set_strv(rp, "uncacheable", r.reasons, r.nr_reasons);
			strbuf_reset(&err);
			store_failed = true;
		} else {
			report_set_str(rp, "entry", cache_entry_id(stored));
		}
		cache_record_free(rec);
		phase_end("store");
	}

	struct applied a;
	if (stored)
		apply_entry(c, stored, j, &a, &err);
	else if (r.res.disk_full) {
		/* what it wrote may be cut short anywhere: none of it */
		warn("the job reached the disk limit of %llu bytes: none of its changes are applied (see --disk)",
		     (unsigned long long)j->disk);
		apply_none(&r, "the job reached the disk limit", &a);
	} else
		apply_diff(&r, j, &a, &err);
	report_applied(c, &a, rp, &err);
	phase_end("apply");
	applied_warn_kept(&a, !j->opts->nr_outputs);
	if (stored) {
		report_set_str(rp, "status", "miss");
		count(c, CACHE_MISS, NULL, 0);
		info("miss, stored entry %s: %zu preconditions, %zu changes (%zu applied, %zu kept)",
		     cache_entry_id(stored), r.trace ? trace_nr_obs(r.trace) : 0,
		     r.nr_changes, a.rep.applied + a.rep.unchanged, a.rep.kept);
		/*
		 * After the outputs are applied: the job's result never waits
		 * on the network, and the upload cannot change the status.
		 */
		if (j->remote && a.rc >= 0)
			cache_remote_upload(c, j->remote, stored);
		cache_entry_free(stored);
	} else if (o->no_cache && !r.nr_reasons) {
		report_set_str(rp, "status", "miss");
		info("ran without cache (--no-cache): %zu changes (%zu applied, %zu kept)",
		     r.nr_changes, a.rep.applied + a.rep.unchanged, a.rep.kept);
	} else {
		report_set_str(rp, "status", "uncacheable");
		if (store_failed)
			count(c, CACHE_ERROR, "store failed", 0);
		else
			count(c, CACHE_UNCACHEABLE, r.reasons[0], 0);
		if (pc_verbose) {
			info("uncacheable (%zu reason%s); %zu changes applied, %zu kept",
			     r.nr_reasons, r.nr_reasons == 1 ? "" : "s",
			     a.rep.applied + a.rep.unchanged, a.rep.kept);
			for (size_t i = 0; i < r.nr_reasons; i++) {
				const char *fix = explain_uncacheable_remedy(r.reasons[i]);
				info("uncacheable: %s%s%s", r.reasons[i],
				     fix ? "; remedy: " : "", fix ? fix : "");
			}
		} else if (!store_failed && !o->no_cache) {
			say_uncacheable(&r);
		}
	}
	applied_release(&a);
	job_run_release_later(&r);
	return status;
}

int cmd_run(int argc, char **argv)
{
	double start = now_seconds();
	struct job_opts o;
	struct job j;
	struct report rp;
	int status;

	phase_start(start);
	job_opts_init(&o);
	struct cache *c = job_start(&o, argc, argv, JOB_CMD_RUN, &j);
	phase_end("start");
	report_init(&rp, o.report_path, start);
	/* checked before the job runs: a bad name is a usage error (125) */
	const char *batch = config_batch(o.batch);

	struct cache_key *k = cache_key_new();
	job_add_key(&j, k);
	report_set_str(&rp, "key", cache_key_hex(k));
	debug("run: key %s for '%s' in '%s'", cache_key_hex(k), j.argv[0], j.cwd);

	struct cache_key *kr = cache_key_new();
	if (!job_add_relocatable_key(&j, kr)) {
		cache_key_free(kr);
		kr = NULL;
	}
	phase_end("key");

	struct cache_entry *hit = look_up(c, k, kr, &j, &rp);
	const struct cache_lookup_times *lt = cache_lookup_times(c);
	phase_add("entry read", lt->read_s);
	phase_add("preconditions", lt->check_s);
	phase_add("blobs", lt->blobs_s);
	phase_end("lookup");
	if (hit && o.no_cache_failures &&
	    (cache_entry_exit_code(hit) || cache_entry_signal(hit))) {
		debug("run: entry %s is a failure and --no-cache-failures replays none",
		      cache_entry_id(hit));
		cache_entry_free(hit);
		hit = NULL;
	}
	bool reader_left = false;
	if (hit && !o.check) {
		status = run_hit(c, hit, &j, &rp, &reader_left);
		if (reader_left) {
			info("hit, but the reader of its stdout went away during the replay: the job runs");
			status = run_miss(c, k, kr, &j, &rp);
		}
	} else if (hit)
		status = run_check(c, hit, &j, &rp);
	else
		status = run_miss(c, k, kr, &j, &rp);

	report_finish(&rp, status);
	if (batch && outcome.counted)
		cache_batch_record(c, batch, outcome.o, outcome.reason,
				   now_seconds() - start, outcome.saved_s);
	phase_end("finish");
	static const char *const outcome_name[] = {
		[CACHE_HIT] = "hit", [CACHE_MISS] = "miss",
		[CACHE_UNCACHEABLE] = "uncacheable", [CACHE_ERROR] = "error",
	};
	phase_say(outcome.counted ? outcome_name[outcome.o] : "not looked up");
	free(outcome.reason);
	cache_entry_free(hit);
	cache_key_free(kr);
	cache_key_free(k);
	cache_close(c);
	job_release(&j);
	job_opts_release(&o);
	job_finish_later(status);
	return status;
}

/*
 * The cache record of a run (contract in runner/record.h): each trace
 * observation becomes the precondition that stands for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "cache/cache.h"
#include "common/change.h"
#include "common/die.h"
#include "common/filestat.h"
#include "common/hash.h"
#include "common/path.h"
#include "common/xalloc.h"
#include "runner/record.h"
#include "common/banned.h"

static int cmp_change_path(const void *key, const void *elem)
{
	return strcmp(key, ((const struct sbx_change *)elem)->path);
}

static const struct sbx_change *change_at(const struct job_run *r, const char *path)
{
	if (!r->nr_changes)
		return NULL;	/* changes is NULL: bsearch() may not see it */
	return bsearch(path, r->changes, r->nr_changes, sizeof(*r->changes),
		       cmp_change_path);
}

/* Does the diff (sorted by path) leave a regular file at @path? */
static bool diff_has_file(const struct job_run *r, const char *path)
{
	const struct sbx_change *c = change_at(r, path);

	return c && c->kind == CHANGE_FILE;
}

void record_add_obs(struct cache_record *rec, const struct trace_obs *ob,
		    const struct job_opts *opts, bool left_file, bool in_result)
{
	unsigned stat_how = opts->strict_stat ? CACHE_STAT_STRICT : 0;
	/*
	 * A stat that showed the job the times holds the mtime, or with
	 * --mtime=content the bytes (DESIGN.md §3). One that showed none
	 * (access, link, chmod, rename...) holds a regular file's mtime or
	 * its bytes, and its bytes besides (CACHE_STAT_BYTES): those calls
	 * copy a file into the job's result as it is (a hard link, a chmod),
	 * so the bytes matter even unread, and an edit that kept the mtime
	 * (`touch -r`) would be reverted by the hit.
	 */
	unsigned time_how = CACHE_STAT_MTIME |
			    (opts->mtime_content ? CACHE_STAT_CONTENT : 0);
	/*
	 * A path whose time passes into the result (@in_result), without
	 * --mtime=content, holds its mtime too (CACHE_STAT_PIN): a link
	 * shares it, a rename keeps it, replayed exactly (record_build()),
	 * and a hit after a `touch` of the source would give the old one. Others (a name walked through, as
	 * `f` of `cat f/x`, an access()) keep "the mtime or the bytes".
	 */
	const unsigned no_time_how = CACHE_STAT_MTIME | CACHE_STAT_CONTENT | CACHE_STAT_BYTES |
				     (!opts->mtime_content && in_result ? CACHE_STAT_PIN : 0);

	switch (ob->kind) {
	case TRACE_CONTENT:
		if (!ob->hashed)
			BUG("content observation of '%s' not hashed", ob->path);
		cache_record_add_content(rec, ob->path, &ob->hash, ob->st.st_mode);
		break;
	case TRACE_ABSENT:
		cache_record_add_absent(rec, ob->path);
		break;
	case TRACE_STAT:
		/*
		 * Recorded for the job's access alone (a directory a lookup
		 * searched, a file it read: trace.h): type, bits and owner
		 * decide that, never times or bytes, which no call showed.
		 */
		if (ob->access)
			cache_record_add_stat(rec, ob->path, &ob->st, 0);
		else
			cache_record_add_stat(rec, ob->path, &ob->st,
					      stat_how | (ob->times ? time_how : no_time_how));
		break;
	case TRACE_LISTING:
		if (!ob->hashed)
			BUG("listing of '%s' not hashed", ob->path);
		cache_record_add_listing(rec, ob->path, &ob->hash);
		break;
	case TRACE_SYMLINK:
		cache_record_add_symlink(rec, ob->path, ob->value);
		break;
	case TRACE_HOSTFACT:
		cache_record_add_hostfact(rec, ob->path, ob->value);
		break;
	case TRACE_XATTRS:
		cache_record_add_xattrs(rec, ob->path, &ob->hash, ob->absent_ok);
		break;
	case TRACE_OUTPUT: {
		/* The result: the file that was there, or the one created. */
		bool existed = ob->st.st_mode != 0;
		/*
		 * Created, then deleted or renamed away: nothing in the
		 * result stands for it, so its absence is what the run
		 * relied on (a file there later would wrongly be kept).
		 */
		if (!existed && !left_file) {
			cache_record_add_absent(rec, ob->path);
			break;
		}
		struct cache_output_pre o = {
			.mode = existed ? ob->st.st_mode & 07777 : ob->create_mode,
			.uid = existed ? ob->st.st_uid : ob->create_uid,
			.gid = existed ? ob->st.st_gid : ob->create_gid,
			.create = ob->create,
			.create_mode = ob->create_mode,
			.create_uid = ob->create_uid,
			.create_gid = ob->create_gid,
			.parent_mode = ob->parent.st_mode,
			.parent_uid = ob->parent.st_uid,
			.parent_gid = ob->parent.st_gid,
		};
		cache_record_add_output(rec, ob->path, &o);
		break;
	}
	}
}

static bool same_ts(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/*
 * Is @s a settled rewrite (DESIGN.md §7 "Settled rewrites")? The job
 * stat'ed the host's file at its path, times shown (@seen, the
 * observation), then wrote the very same bytes over it: gcc's `as`
 * checks x.o before replacing it, javac its class files, `sed -i` that
 * changes nothing. Were the result's time fresh, the next run would see
 * another mtime than this one saw, and miss, every time. So when the
 * host's file is still as the job saw it (mtime, ctime, size), has the
 * same bytes, mode and owner as the result and no extended attributes,
 * and its mtime is no older than any other regular file the job
 * observed (@newest: the result stays newer than its inputs, as a run's
 * would) nor in the future, the result keeps that time: the file is
 * left as it is, on this run and on every hit, and the next run sees
 * what this one saw. Into @host, the host file's lstat.
 *
 * A job that stat'ed its result after writing it (ld does, to chmod it)
 * saw a time of the clock, which is out of the model (DESIGN.md §3): it
 * settles too. One that set its times (touch -d, cp -p, tar x) keeps
 * them (the caller's check).
 */
static bool settled_rewrite(const struct sbx_change *s, const struct trace_obs *seen,
			    const struct timespec *newest, struct stat *host)
{
	struct timespec now;
	struct pc_hash a, b;
	uint64_t na, nb;

	if (lstat(s->path, host) < 0 || !S_ISREG(host->st_mode) ||
	    !same_ts(&host->st_mtim, &seen->st.st_mtim) ||
	    !same_ts(&host->st_ctim, &seen->st.st_ctim) ||
	    host->st_size != s->size || host->st_size != seen->st.st_size ||
	    (host->st_mode & 07777) != (s->mode & 07777) ||
	    host->st_uid != geteuid() || host->st_gid != getegid() ||
	    s->xattrs.nr || s->xattr_err)
		return false;
	if (timespec_ns(&host->st_mtim) < timespec_ns(newest) ||
	    clock_gettime(CLOCK_REALTIME, &now) < 0 ||
	    timespec_ns(&host->st_mtim) > timespec_ns(&now))
		return false;
	errno = 0;
	if (llistxattr(s->path, NULL, 0) != 0)
		return false;	/* some, or cannot tell */
	if (pc_hash_file_at(AT_FDCWD, s->path, &a, &na) < 0 ||
	    pc_hash_file_at(AT_FDCWD, s->upper_path, &b, &nb) < 0 ||
	    na != nb || !pc_hash_equal(&a, &b))
		return false;
	/*
	 * Reading it may have moved its atime (relatime): the times kept
	 * are those it has now, or the apply would set them and move its
	 * ctime, which --strict-stat holds. Still the same file, unwritten.
	 */
	struct stat again;
	if (lstat(s->path, &again) < 0 || !same_ts(&again.st_mtim, &host->st_mtim) ||
	    !same_ts(&again.st_ctim, &host->st_ctim) || again.st_ino != host->st_ino)
		return false;
	*host = again;
	return true;
}

/*
 * The observation of each change's path that could make it a settled
 * rewrite (a stat of a regular file that showed the times), by change
 * index, and the newest mtime of the other regular files observed: the
 * inputs (the previous times of the candidates themselves are not;
 * /proc and /sys are no inputs). An input whose bytes alone are held
 * (read, never stat'ed with the times shown: `read l <in`) may be
 * touched since and still hit: the settled result is older than it then,
 * with the same bytes a run would write (DESIGN.md §7: a make rule reruns
 * its recipe, a hit, until the input's bytes change).
 */
static const struct trace_obs **rewrite_candidates(const struct job_run *r,
						   struct timespec *newest)
{
	const struct trace_obs **seen = xcalloc(r->nr_changes ? r->nr_changes : 1,
						sizeof(*seen));
	size_t i, n = trace_nr_obs(r->trace);

	for (i = 0; i < n; i++) {
		const struct trace_obs *ob = trace_obs_at(r->trace, i);
		const struct sbx_change *c;

		if (ob->kind == TRACE_STAT && ob->times && S_ISREG(ob->st.st_mode) &&
		    (c = change_at(r, ob->path)) && c->kind == CHANGE_FILE)
			seen[c - r->changes] = ob;
	}
	newest->tv_sec = 0;
	newest->tv_nsec = 0;
	for (i = 0; i < n; i++) {
		const struct trace_obs *ob = trace_obs_at(r->trace, i);
		const struct sbx_change *c;

		if ((ob->kind != TRACE_CONTENT && ob->kind != TRACE_STAT) ||
		    !S_ISREG(ob->st.st_mode) || path_is_beneath(ob->path, "/proc") ||
		    path_is_beneath(ob->path, "/sys"))
			continue;
		if ((c = change_at(r, ob->path)) && seen[c - r->changes])
			continue;
		if (timespec_ns(&ob->st.st_mtim) > timespec_ns(newest))
			*newest = ob->st.st_mtim;
	}
	return seen;
}

/* How a change's times replay (DESIGN.md §7); see decide_times(). */
enum times_rule { TIMES_NONE, TIMES_SETTLED, TIMES_EXACT, TIMES_FRESH };

static int cmp_written(const void *va, const void *vb, void *vr)
{
	const struct job_run *r = vr;
	int64_t a = timespec_ns(&r->changes[*(const size_t *)va].mtime);
	int64_t b = timespec_ns(&r->changes[*(const size_t *)vb].mtime);

	return a < b ? -1 : a > b;
}

/*
 * The rule for each change of @r into @rule (and a settled file's lstat
 * into @host), first that applies:
 * - none (the apply leaves the host's current times, as a real run does)
 *   for a file the job left with the host's times, a copy-up without a
 *   write (a chmod, an open for writing that wrote nothing), unless it
 *   set them itself: the recorded ones would set back a `touch` made
 *   since, which the bytes' precondition allows;
 * - exact for times the job saw after writing (make, ninja), and for
 *   every time of the run when one was (anchored: fresh ones would come
 *   out newer than it in another order than the run's; cargo took a
 *   build script's output for newer than the crate built from it). Not
 *   with --mtime=content: the job vouched it does not act on times, and
 *   is wrapped per file (ld stats its output after writing it; the old
 *   time a link hit gave it left it older than a copy made from another
 *   version, which make then did not redo);
 * - exact for times it set, unless to a time of the clock during its
 *   run (`touch -r` of a file it wrote): those are fresh, ranked with
 *   the others by their recorded time (a past time replayed exactly left
 *   a.o older than the final linked from another version);
 * - exact (not with --mtime=content, @seen NULL) for a file whose time is
 *   not the clock's of the run (older than its start, newer than its
 *   end): the job did not write it, its times came from a host file
 *   (`mv`, `ln`), whose stat pins its mtime (record_add_obs());
 * - fresh otherwise;
 * and, before all but none and the times it set, settled
 * (settled_rewrite()) for the files the job wrote before any other it
 * wrote that does not settle: the rest come back fresh or with times of
 * the run, newer than any settled one, so a settled file after one of
 * them would turn the order of the run around (`echo x >stamp; rm -f
 * out; cat stamp >out` left out older than stamp, and make redid it).
 * A job that saw its result's time after writing it (ld stats it to
 * chmod it) saw a time of the clock, out of the model: it settles too.
 */
static void decide_times(const struct job_run *r, const struct job_opts *opts,
			 const struct trace_obs *const *seen,
			 const struct timespec *newest, enum times_rule *rule,
			 struct stat *host)
{
	struct timespec now;
	size_t i, n = 0, *order = xcalloc(r->nr_changes ? r->nr_changes : 1, sizeof(*order));
	bool anchored = false;

	clock_gettime(CLOCK_REALTIME, &now);
	for (i = 0; i < r->nr_changes && !opts->mtime_content && !anchored; i++) {
		const struct sbx_change *s = &r->changes[i];
		int64_t m = timespec_ns(&s->mtime);

		anchored = (trace_job_times(r->trace, s->path) & TRACE_TIMES_SEEN) &&
			   m >= timespec_ns(&r->started) && m <= timespec_ns(&now);
	}
	for (i = 0; i < r->nr_changes; i++) {
		const struct sbx_change *s = &r->changes[i];
		unsigned jt = trace_job_times(r->trace, s->path);
		int64_t m = timespec_ns(&s->mtime);
		bool during = m >= timespec_ns(&r->started) && m <= timespec_ns(&now);

		if (s->host_times && !(jt & TRACE_TIMES_SET))
			rule[i] = TIMES_NONE;
		else if ((jt & TRACE_TIMES_SET) && !during)
			rule[i] = TIMES_EXACT;
		else if (seen && s->kind == CHANGE_FILE && !during)
			rule[i] = TIMES_EXACT;
		else if (!opts->mtime_content && ((jt & TRACE_TIMES_SEEN) || (anchored && during)))
			rule[i] = TIMES_EXACT;
		else
			rule[i] = TIMES_FRESH;
		/* the files the run wrote (a time of its clock), for settling */
		if (s->kind == CHANGE_FILE && during && rule[i] != TIMES_NONE &&
		    !(jt & TRACE_TIMES_SET))
			order[n++] = i;
	}
	qsort_r(order, n, sizeof(*order), cmp_written, (void *)r);
	for (i = 0; i < n && seen; i++) {
		size_t c = order[i];
		const struct sbx_change *s = &r->changes[c];

		if (!seen[c] || !settled_rewrite(s, seen[c], newest, &host[c]))
			break;
		rule[c] = TIMES_SETTLED;
	}
	free(order);
}

struct cache_record *record_build(const struct job_run *r,
				  struct cache_key *k, const struct job_opts *opts)
{
	struct cache_record *rec = cache_record_new(k);
	struct timespec newest = { 0, 0 };
	/* only where the mtime is what a stat holds (not --mtime=content) */
	const struct trace_obs **seen = opts->mtime_content ? NULL
					: rewrite_candidates(r, &newest);
	enum times_rule *rule = xcalloc(r->nr_changes ? r->nr_changes : 1, sizeof(*rule));
	struct stat *host = xcalloc(r->nr_changes ? r->nr_changes : 1, sizeof(*host));

	decide_times(r, opts, seen, &newest, rule, host);
	for (size_t i = 0; i < trace_nr_obs(r->trace); i++) {
		const struct trace_obs *ob = trace_obs_at(r->trace, i);
		const struct sbx_change *c = change_at(r, ob->path);

		/*
		 * Pinned: a path whose time can pass into the result as it
		 * is, the source of a rename (gone: a DELETE) or of a link
		 * (copied up unwritten: the host's times), not one the
		 * result rewrites (its old time goes with its old bytes).
		 */
		record_add_obs(rec, ob, opts,
			       ob->kind == TRACE_OUTPUT && diff_has_file(r, ob->path),
			       c && (c->kind == CHANGE_DELETE ||
				     (c->kind == CHANGE_FILE && c->host_times)));
	}
	int st = r->res.wait_status;
	cache_record_set_exit(rec, WIFEXITED(st) ? WEXITSTATUS(st) : 0,
			      WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	cache_record_set_duration(rec, r->res.duration_s);
	if (r->res.stdout_path)
		cache_record_set_output(rec, 1, r->res.stdout_path);
	if (r->res.stderr_path)
		cache_record_set_output(rec, 2, r->res.stderr_path);
	for (size_t i = 0; i < r->nr_changes; i++) {
		const struct sbx_change *s = &r->changes[i];
		if (s->kind == CHANGE_SPECIAL)
			BUG("special files are never stored");
		cache_record_add_change(rec, s->kind, s->path,
					s->mode & 07777,
					s->kind == CHANGE_FILE ? s->upper_path : NULL,
					s->target);
		switch (rule[i]) {
		case TIMES_NONE:
			break;	/* a hit leaves the host's, as a run does */
		case TIMES_SETTLED:
			cache_record_change_times(rec, timespec_ns(&host[i].st_mtim),
						  timespec_ns(&host[i].st_atim), true);
			break;
		case TIMES_EXACT:
		case TIMES_FRESH:
			cache_record_change_times(rec, timespec_ns(&s->mtime),
						  timespec_ns(&s->atime),
						  rule[i] == TIMES_EXACT);
			break;
		}
		cache_record_change_xattrs(rec, &s->xattrs);
	}
	free(rule);
	free(host);
	free(seen);
	return rec;
}

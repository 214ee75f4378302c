/*
 * The cache record of a run (contract in runner/record.h): each trace
 * observation becomes the precondition that stands for it.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cache/cache.h"
#include "common/change.h"
#include "common/die.h"
#include "common/filestat.h"
#include "runner/record.h"
#include "common/banned.h"

static int cmp_change_path(const void *key, const void *elem)
{
	return strcmp(key, ((const struct sbx_change *)elem)->path);
}

/* Does the diff (sorted by path) leave a regular file at @path? */
static bool diff_has_file(const struct job_run *r, const char *path)
{
	if (!r->nr_changes)
		return false;	/* changes is NULL: bsearch() may not see it */
	const struct sbx_change *c = bsearch(path, r->changes, r->nr_changes,
					     sizeof(*r->changes), cmp_change_path);
	return c && c->kind == CHANGE_FILE;
}

void record_add_obs(struct cache_record *rec, const struct trace_obs *ob,
		    const struct job_opts *opts, bool left_file)
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
	const unsigned no_time_how = CACHE_STAT_MTIME | CACHE_STAT_CONTENT | CACHE_STAT_BYTES;

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

struct cache_record *record_build(const struct job_run *r,
				  struct cache_key *k, const struct job_opts *opts)
{
	struct cache_record *rec = cache_record_new(k);

	for (size_t i = 0; i < trace_nr_obs(r->trace); i++) {
		const struct trace_obs *ob = trace_obs_at(r->trace, i);

		record_add_obs(rec, ob, opts,
			       ob->kind == TRACE_OUTPUT && diff_has_file(r, ob->path));
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
		/*
		 * Times the job set or saw replay exactly, as do those it
		 * left as the host had them; the others fresh (DESIGN.md §7).
		 */
		cache_record_change_times(rec, timespec_ns(&s->mtime),
					  timespec_ns(&s->atime),
					  s->host_times ||
					  trace_job_times(r->trace, s->path));
		cache_record_change_xattrs(rec, &s->xattrs);
	}
	return rec;
}

/*
 * The cache record of a run (contract in runner/record.h): each trace
 * observation becomes the precondition that stands for it.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cache/cache.h"
#include "common/change.h"
#include "common/die.h"
#include "common/dirlist.h"
#include "common/xalloc.h"
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
	const struct sbx_change *c = bsearch(path, r->changes, r->nr_changes,
					     sizeof(*r->changes), cmp_change_path);
	return c && c->kind == CHANGE_FILE;
}

/*
 * A directory the job was shown the mtime of: the listing it saw (the
 * host's, unchanged since: trace_finish() checked the mtime) and the one
 * it left (the diff's changes of its entries made in it), for
 * cache_record_stat_listings(). Nothing when the job replaced or removed
 * the directory itself, or when it cannot be read (the mtime alone then
 * decides).
 */
static void stat_listings(const struct job_run *r, struct cache_record *rec,
			  const char *dir)
{
	struct dirlist_edit *edits = NULL;
	size_t nr = 0, alloc = 0, len = strlen(dir), i;
	struct pc_hash seen, left;
	/* the first change at or below @dir (changes are sorted by path) */
	size_t lo = 0, hi = r->nr_changes;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(r->changes[mid].path, dir) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < r->nr_changes; i++) {
		const struct sbx_change *c = &r->changes[i];
		const char *name;

		if (strncmp(c->path, dir, len))
			break;
		if (!c->path[len]) {
			if (c->kind == CHANGE_MODE)
				continue;
			goto out; /* the directory itself replaced or removed */
		}
		if (c->path[len] != '/' && len > 1)
			continue; /* a sibling such as "dir2" */
		name = c->path + len + (len > 1);
		if (strchr(name, '/'))
			continue; /* deeper */
		ALLOC_GROW(edits, nr + 1, alloc);
		edits[nr].name = name;
		switch (c->kind) {
		case CHANGE_FILE: edits[nr].type = DT_REG; break;
		case CHANGE_DIR:
		case CHANGE_DIR_REPLACED: edits[nr].type = DT_DIR; break;
		case CHANGE_SYMLINK: edits[nr].type = DT_LNK; break;
		case CHANGE_DELETE: edits[nr].type = DT_UNKNOWN; break;
		case CHANGE_MODE: continue;
		case CHANGE_SPECIAL: goto out;
		}
		nr++;
	}
	if (dirlist_hash_at(AT_FDCWD, dir, &seen, NULL) == 0 &&
	    dirlist_hash_edited_at(AT_FDCWD, dir, edits, nr, &left) == 0)
		cache_record_stat_listings(rec, dir, &seen, &left);
out:
	free(edits);
}

struct cache_record *record_build(const struct job_run *r,
				  struct cache_key *k, const struct job_opts *opts)
{
	struct cache_record *rec = cache_record_new(k);
	unsigned stat_how = opts->strict_stat ? CACHE_STAT_STRICT : 0;
	unsigned time_how = CACHE_STAT_MTIME |
			    (opts->mtime_content ? CACHE_STAT_CONTENT : 0);

	for (size_t i = 0; i < trace_nr_obs(r->trace); i++) {
		const struct trace_obs *ob = trace_obs_at(r->trace, i);
		switch (ob->kind) {
		case TRACE_CONTENT:
			if (!ob->hashed)
				BUG("content observation of '%s' not hashed", ob->path);
			cache_record_add_content(rec, ob->path, &ob->hash,
						 ob->st.st_mode);
			break;
		case TRACE_ABSENT:
			cache_record_add_absent(rec, ob->path);
			break;
		case TRACE_STAT:
			cache_record_add_stat(rec, ob->path, &ob->st,
					      stat_how | (ob->times ? time_how : 0));
			if (ob->times && !opts->strict_stat && !opts->mtime_content &&
			    S_ISDIR(ob->st.st_mode))
				stat_listings(r, rec, ob->path);
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
		case TRACE_OUTPUT: {
			/* The result: the file that was there, or the one created. */
			bool existed = ob->st.st_mode != 0;
			/*
			 * Created, then deleted or renamed away: nothing in the
			 * diff stands for it, so its absence is what the run
			 * relied on (a file there later would wrongly be kept).
			 */
			if (!existed && !diff_has_file(r, ob->path)) {
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
	}
	return rec;
}

/*
 * --check (contract in runner/check.h): a fresh run compared with the
 * stored entry it hit.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>

#include <cjson/cJSON.h>

#include "cache/cache.h"
#include "common/change.h"
#include "common/hash.h"
#include "runner/check.h"
#include "common/banned.h"

/* Does the file at @path (NULL: none, as empty) hold exactly the blob? */
static bool same_file_as_blob(const struct pc_hash *blob, uint64_t size,
			      const char *path)
{
	struct pc_hash h;
	uint64_t sz = 0;
	if (!path)
		return size == 0;
	if (pc_hash_file_at(AT_FDCWD, path, &h, &sz) < 0)
		return false;
	return sz == size && pc_hash_equal(&h, blob);
}

/* Appends a description of each difference; returns their number. */
static size_t compare_with_entry(const struct cache_entry *e,
				 const struct job_run *r, cJSON *diffs)
{
	size_t n = 0;
	int st = r->res.wait_status;
	int code = WIFEXITED(st) ? WEXITSTATUS(st) : 0;
	int sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	if (code != cache_entry_exit_code(e) || sig != cache_entry_signal(e)) {
		cJSON_AddItemToArray(diffs, cJSON_CreateString("exit status"));
		n++;
	}
	for (int which = 1; which <= 2; which++) {
		struct pc_hash h;
		uint64_t size;
		cache_entry_output(e, which, &h, &size);
		const char *path = which == 1 ? r->res.stdout_path : r->res.stderr_path;
		if (!same_file_as_blob(&h, size, path)) {
			cJSON_AddItemToArray(diffs, cJSON_CreateString(
				which == 1 ? "stdout" : "stderr"));
			n++;
		}
	}
	/* Both diffs are sorted by path: walk them side by side. */
	size_t ne = cache_entry_nr_changes(e), i = 0, k = 0;
	while (i < ne || k < r->nr_changes) {
		struct cache_change_view v;
		const struct sbx_change *s = k < r->nr_changes ? &r->changes[k] : NULL;
		if (i < ne)
			cache_entry_change(e, i, &v);
		int cmp = i >= ne ? 1 : !s ? -1 : strcmp(v.path, s->path);
		const char *path = cmp <= 0 ? v.path : s->path;
		bool differs = cmp != 0;
		if (!differs) {
			/* a special file is never stored */
			if (s->kind == CHANGE_SPECIAL || s->kind != v.kind)
				differs = true;
			else if (v.kind != CHANGE_DELETE &&
				 v.kind != CHANGE_SYMLINK &&
				 (v.mode & 07777) != (s->mode & 07777))
				differs = true;
			else if (v.kind == CHANGE_SYMLINK)
				differs = strcmp(v.target, s->target) != 0;
			else if (v.kind == CHANGE_FILE)
				differs = !same_file_as_blob(&v.blob, v.size,
							     s->upper_path);
		}
		if (differs) {
			cJSON_AddItemToArray(diffs, cJSON_CreateString(path));
			n++;
		}
		if (cmp <= 0)
			i++;
		if (cmp >= 0)
			k++;
	}
	return n;
}

size_t check_run(const struct cache_entry *e, const struct job_run *r,
		 struct report *rp)
{
	cJSON *diffs = cJSON_CreateArray();
	size_t n = r->nr_reasons ? 0 : compare_with_entry(e, r, diffs);

	if (r->nr_reasons) {
		report_set_str(rp, "check", "uncacheable");
		cJSON_Delete(diffs);
	} else if (n) {
		report_set_str(rp, "check", "different");
		report_set(rp, "differences", diffs);
	} else {
		report_set_str(rp, "check", "same");
		cJSON_Delete(diffs);
	}
	return n;
}

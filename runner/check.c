/*
 * --check (contract in runner/check.h): a fresh run compared with the
 * stored entry it hit.
 */
#include <fcntl.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cjson/cJSON.h>

#include "cache/cache.h"
#include "common/change.h"
#include "common/die.h"
#include "common/hash.h"
#include "common/path.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runner/check.h"
#include "common/banned.h"

/* Texts larger than this are compared by hash only (no ignore, no diff). */
#define CHECK_TEXT_MAX (1 << 20)
/* Lines of diff shown per output, and outputs shown. */
#define CHECK_DIFF_LINES 20
#define CHECK_DIFF_OUTPUTS 3

struct check_ctx {
	struct cache *c;
	regex_t *ignores;
	size_t nr_ignores;
	struct strbuf *diff;	/* the unified diffs shown */
	size_t nr_diffs;
	char *const *roots;	/* the output roots, NULL-terminated */
};

/*
 * A change outside every output root is never applied (it is kept in the
 * sandbox and named in a warning): what differs there reaches nobody, as
 * npm's debug log named after the clock under ~/.npm does not.
 */
static bool applied_path(const struct check_ctx *cx, const char *path)
{
	for (char *const *r = cx->roots; r && *r; r++)
		if (path_is_beneath(path, *r))
			return true;
	return false;
}

/* @path's bytes (NULL: empty) into @sb; false when too large or unreadable. */
static bool read_text(int dirfd, const char *path, struct strbuf *sb)
{
	strbuf_reset(sb);
	if (!path)
		return true;
	ssize_t n = strbuf_read_file_at(sb, dirfd, path, 4096);
	return n >= 0 && sb->len <= CHECK_TEXT_MAX && !memchr(sb->buf, '\0', sb->len);
}

struct lines {
	char **v;
	size_t nr, alloc;
};

/* Split @text into lines (without their LF), dropping ignored ones. */
static void split_lines(const struct check_ctx *cx, char *text, size_t len,
			struct lines *out)
{
	char *p = text, *end = text + len;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		char *nl = memchr(p, '\n', end - p);
		char *stop = nl ? nl : end;
		bool ignored = false;

		*stop = '\0';
		for (size_t i = 0; i < cx->nr_ignores && !ignored; i++)
			ignored = regexec(&cx->ignores[i], p, 0, NULL, 0) == 0;
		if (!ignored) {
			ALLOC_GROW(out->v, out->nr + 1, out->alloc);
			out->v[out->nr++] = p;
		}
		p = stop + 1;
	}
}

/*
 * A bounded unified diff of @a (the entry) and @b (the run): the common
 * head and tail are trimmed and what lies between is one hunk with up
 * to 3 lines of context, cut after CHECK_DIFF_LINES lines.
 */
static void show_diff(struct strbuf *out, const char *name,
		      const struct lines *a, const struct lines *b)
{
	size_t pre = 0, suf = 0, shown = 0;

	while (pre < a->nr && pre < b->nr && !strcmp(a->v[pre], b->v[pre]))
		pre++;
	while (suf < a->nr - pre && suf < b->nr - pre &&
	       !strcmp(a->v[a->nr - 1 - suf], b->v[b->nr - 1 - suf]))
		suf++;
	size_t ctx0 = pre < 3 ? pre : 3, ctx1 = suf < 3 ? suf : 3;
	size_t a0 = pre - ctx0, a1 = a->nr - suf + ctx1;
	size_t b0 = pre - ctx0, b1 = b->nr - suf + ctx1;

	strbuf_addf(out, "--- %s (stored)\n+++ %s (this run)\n@@ -%zu,%zu +%zu,%zu @@\n",
		    name, name, a0 + 1, a1 - a0, b0 + 1, b1 - b0);
	for (size_t i = a0; i < pre; i++, shown++)
		strbuf_addf(out, " %s\n", a->v[i]);
	for (size_t i = pre; i < a->nr - suf && shown < CHECK_DIFF_LINES; i++, shown++)
		strbuf_addf(out, "-%s\n", a->v[i]);
	for (size_t i = pre; i < b->nr - suf && shown < CHECK_DIFF_LINES; i++, shown++)
		strbuf_addf(out, "+%s\n", b->v[i]);
	for (size_t i = a->nr - suf; i < a1 && shown < CHECK_DIFF_LINES; i++, shown++)
		strbuf_addf(out, " %s\n", a->v[i]);
	size_t total = (pre - a0) + (a->nr - suf - pre) + (b->nr - suf - pre) +
		       (a1 - (a->nr - suf));
	if (shown < total)
		strbuf_addf(out, "... (diff cut after %d lines)\n", CHECK_DIFF_LINES);
}

/*
 * The stored blob @blob and the run's file @path differ by hash: are
 * they the same text once the --check-ignore lines are dropped? If not,
 * show the first few such differences as diffs.
 */
static bool same_text(struct check_ctx *cx, const char *name,
		      const struct pc_hash *blob, const char *path)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, rel = STRBUF_INIT;
	struct lines la, lb;
	bool same = false;

	cache_blob_relpath(blob, &rel);
	if (!read_text(cache_blobs_dirfd(cx->c), rel.buf, &a) ||
	    !read_text(AT_FDCWD, path, &b))
		goto out;
	/* bytes differ: without an ignored line, so do the texts */
	bool last_lf_a = a.len && a.buf[a.len - 1] == '\n';
	bool last_lf_b = b.len && b.buf[b.len - 1] == '\n';
	split_lines(cx, a.buf, a.len, &la);
	split_lines(cx, b.buf, b.len, &lb);
	same = cx->nr_ignores && la.nr == lb.nr && last_lf_a == last_lf_b;
	for (size_t i = 0; same && i < la.nr; i++)
		same = !strcmp(la.v[i], lb.v[i]);
	if (!same && cx->nr_diffs++ < CHECK_DIFF_OUTPUTS)
		show_diff(cx->diff, name, &la, &lb);
	free(la.v);
	free(lb.v);
out:
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&rel);
	return same;
}

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
static size_t compare_with_entry(struct check_ctx *cx, const struct cache_entry *e,
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
		if (!same_file_as_blob(&h, size, path) &&
		    !same_text(cx, which == 1 ? "stdout" : "stderr", &h, path)) {
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
							     s->upper_path) &&
					  !same_text(cx, v.path, &v.blob, s->upper_path);
		}
		if (differs && applied_path(cx, path)) {
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

size_t check_run(struct cache *c, const struct cache_entry *e,
		 const struct job_run *r, char *const *roots, char *const *ignores,
		 struct strbuf *diff, struct report *rp)
{
	struct check_ctx cx = { .c = c, .diff = diff, .roots = roots };
	cJSON *diffs = cJSON_CreateArray();

	for (char *const *p = ignores; p && *p; p++)
		cx.nr_ignores++;
	cx.ignores = xcalloc(cx.nr_ignores + 1, sizeof(*cx.ignores));
	for (size_t i = 0; i < cx.nr_ignores; i++)
		if (regcomp(&cx.ignores[i], ignores[i], REG_EXTENDED | REG_NOSUB))
			BUG("--check-ignore '%s' not checked", ignores[i]);
	size_t n = r->nr_reasons ? 0 : compare_with_entry(&cx, e, r, diffs);
	for (size_t i = 0; i < cx.nr_ignores; i++)
		regfree(&cx.ignores[i]);
	free(cx.ignores);

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

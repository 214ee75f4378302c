/*
 * Applying a job's changes (contracts in runner/apply.h): from a stored
 * entry through cache_entry_apply(), or from a run's upper directories
 * through mat_apply(), both with the same roots and flags.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/cache.h"
#include "common/change.h"
#include "common/cleanup.h"
#include "common/die.h"
#include "common/filestat.h"
#include "common/path.h"
#include "common/xalloc.h"
#include "runner/apply.h"
#include "common/banned.h"

static void applied_init(struct applied *a, size_t nr)
{
	memset(a, 0, sizeof(*a));
	a->nr = nr;
	a->paths = xcalloc(nr ? nr : 1, sizeof(*a->paths));
	a->kinds = xcalloc(nr ? nr : 1, sizeof(*a->kinds));
	a->xattrs = xcalloc(nr ? nr : 1, sizeof(*a->xattrs));
	mat_report_init(&a->rep);
}

static unsigned mat_flags(const struct job_opts *o)
{
	return o->fsync ? MAT_FSYNC : 0;
}

void apply_entry(struct cache *c, const struct cache_entry *e,
		 const struct job *j, struct applied *a, struct strbuf *err)
{
	applied_init(a, cache_entry_nr_changes(e));
	for (size_t i = 0; i < a->nr; i++) {
		struct cache_change_view v;
		cache_entry_change(e, i, &v);
		a->paths[i] = v.path;
		a->kinds[i] = change_kind_name(v.kind);
		a->xattrs[i] = v.xattrs;
	}
	a->rc = cache_entry_apply(c, e, (const char *const *)j->roots,
				  mat_flags(j->opts), &a->rep, err);
}

void apply_diff(const struct job_run *r, const struct job *j,
		struct applied *a, struct strbuf *err)
{
	struct mat_change *ch = xcalloc(r->nr_changes ? r->nr_changes : 1, sizeof(*ch));
	const char *lost = NULL;
	/* an untrusted job's attributes less file capabilities (below) */
	struct xattr_set *safe = xcalloc(r->nr_changes ? r->nr_changes : 1, sizeof(*safe));
	bool *filtered = xcalloc(r->nr_changes ? r->nr_changes : 1, sizeof(*filtered));
	size_t n = 0;
	for (size_t i = 0; i < r->nr_changes; i++) {
		const struct sbx_change *s = &r->changes[i];
		if (s->kind == CHANGE_SPECIAL) {
			warn("not applying special file '%s'", s->path);
			continue;
		}
		/*
		 * A failed store could not put this captured file back
		 * (cache_store() said where its bytes are): everything
		 * else is still applied, and the run fails naming it.
		 */
		if (s->kind == CHANGE_FILE &&
		    faccessat(AT_FDCWD, s->upper_path, F_OK, AT_SYMLINK_NOFOLLOW) < 0 &&
		    errno == ENOENT) {
			if (!lost)
				lost = s->path;
			continue;
		}
		struct mat_change *m = &ch[n++];
		m->kind = s->kind;
		m->path = s->path;
		m->mode = s->mode & 07777;
		m->target = s->target;
		m->src_dirfd = AT_FDCWD;
		m->src_path = s->kind == CHANGE_FILE ? s->upper_path : NULL;
		m->size = s->size;
		if (s->kind != CHANGE_DELETE && !s->xattr_err)
			m->xattrs = &s->xattrs;
		/*
		 * File capabilities are privileges, as setuid bits are (which
		 * materialization drops): never granted from an untrusted job.
		 */
		if (m->xattrs && j->opts->untrusted &&
		    xattr_set_find(&s->xattrs, "security.capability")) {
			for (size_t k = 0; k < s->xattrs.nr; k++)
				if (strcmp(s->xattrs.v[k].name, "security.capability"))
					xattr_set_add(&safe[i], s->xattrs.v[k].name,
						      s->xattrs.v[k].value, s->xattrs.v[k].len);
			m->xattrs = &safe[i];
			filtered[n - 1] = true;
		}
		/* What the job left, as a real run would (DESIGN.md §7). */
		if (s->kind == CHANGE_FILE || s->kind == CHANGE_DIR ||
		    s->kind == CHANGE_DIR_REPLACED || s->kind == CHANGE_SYMLINK) {
			m->times = MAT_TIMES_EXACT;
			m->mtime_ns = timespec_ns(&s->mtime);
			m->atime_ns = timespec_ns(&s->atime);
		}
	}
	applied_init(a, n);
	for (size_t i = 0; i < n; i++) {
		a->paths[i] = ch[i].path;
		a->kinds[i] = change_kind_name(ch[i].kind);
		a->xattrs[i] = ch[i].xattrs;
	}
	a->rc = mat_apply(ch, n, (const char *const *)j->roots,
			  mat_flags(j->opts), &a->rep, err);
	if (a->rc == 0 && lost) {
		strbuf_reset(err);
		strbuf_addf(err, "cannot apply '%s': its captured file was lost when the store failed",
			    lost);
		a->rc = -ENOENT;
	}
	/* @safe goes: the report names those changes' attributes no more */
	for (size_t i = 0; i < n; i++)
		if (filtered[i])
			a->xattrs[i] = NULL;
	free(filtered);
	for (size_t i = 0; i < r->nr_changes; i++)
		xattr_set_release(&safe[i]);
	free(safe);
	free(ch);
}

void apply_none(const struct job_run *r, const char *why, struct applied *a)
{
	size_t n = 0;

	applied_init(a, r->nr_changes);
	a->rep.results = xcalloc(r->nr_changes ? r->nr_changes : 1,
				 sizeof(*a->rep.results));
	for (size_t i = 0; i < r->nr_changes; i++) {
		const struct sbx_change *s = &r->changes[i];
		if (s->kind == CHANGE_SPECIAL)
			continue;
		a->paths[n] = s->path;
		a->kinds[n] = change_kind_name(s->kind);
		a->rep.results[n].outcome = MAT_SKIPPED;
		a->rep.results[n].reason = xstrdup(why);
		n++;
	}
	a->nr = a->rep.nr = a->rep.skipped = n;
}

void applied_warn_refusals(const struct applied *a)
{
	for (size_t i = 0; i < a->nr; i++)
		if (mat_report_outcome(&a->rep, i) == MAT_REFUSED)
			warn("refused to apply '%s': %s", a->paths[i],
			     mat_report_reason(&a->rep, i));
}

void applied_warn_kept(const struct applied *a, bool default_roots)
{
	size_t first = a->nr, shown = 0;
	struct strbuf paths = STRBUF_INIT;

	if (!a->rep.kept)
		return;
	/* Files, symlinks and deletions name what was lost; directories less. */
	for (int dirs = 0; dirs < 2 && shown < 3; dirs++)
		for (size_t i = 0; i < a->nr && shown < 3; i++) {
			bool is_dir = !strcmp(a->kinds[i], change_kind_name(CHANGE_DIR));
			if (mat_report_outcome(&a->rep, i) != MAT_KEPT ||
			    is_dir != (dirs == 1))
				continue;
			strbuf_addf(&paths, "%s'%s'", shown ? ", " : "", a->paths[i]);
			if (first == a->nr)
				first = i;
			shown++;
		}
	_cleanup_free_ char *dir = !strcmp(a->kinds[first], change_kind_name(CHANGE_DIR))
		? xstrdup(a->paths[first]) : path_dirname(a->paths[first]);
	/* --output replaces the default root, the working directory */
	warn("%zu change%s kept in the sandbox, outside the output roots: %s%s; to apply them, add --output '%s'%s",
	     a->rep.kept, a->rep.kept == 1 ? "" : "s", paths.buf,
	     a->rep.kept > shown ? ", ..." : "", dir,
	     default_roots ? " (and --output . to keep the working directory)" : "");
	strbuf_release(&paths);
}

void applied_release(struct applied *a)
{
	free(a->paths);
	free(a->kinds);
	free(a->xattrs);
	mat_report_release(&a->rep);
}

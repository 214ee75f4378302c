/*
 * Materialization of a diff onto the host: see cache/materialize.h.
 * Skeleton: the API compiles; mat_apply() is being written.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache/materialize.h"
#include "common/die.h"
#include "common/xalloc.h"
#include "common/banned.h"

void mat_report_init(struct mat_report *rep)
{
	memset(rep, 0, sizeof(*rep));
}

void mat_report_release(struct mat_report *rep)
{
	size_t i;

	for (i = 0; i < rep->nr; i++)
		free(rep->results[i].reason);
	free(rep->results);
	mat_report_init(rep);
}

enum mat_outcome mat_report_outcome(const struct mat_report *rep, size_t i)
{
	if (i >= rep->nr)
		BUG("mat_report_outcome(%zu) of %zu", i, rep->nr);
	return rep->results[i].outcome;
}

const char *mat_report_reason(const struct mat_report *rep, size_t i)
{
	if (i >= rep->nr)
		BUG("mat_report_reason(%zu) of %zu", i, rep->nr);
	return rep->results[i].reason;
}

const char *mat_outcome_name(enum mat_outcome outcome)
{
	switch (outcome) {
	case MAT_APPLIED: return "applied";
	case MAT_UNCHANGED: return "unchanged";
	case MAT_KEPT: return "kept";
	case MAT_REFUSED: return "refused";
	case MAT_FAILED: return "failed";
	case MAT_SKIPPED: return "skipped";
	}
	return "?";
}

const char *mat_kind_name(enum mat_kind kind)
{
	switch (kind) {
	case MAT_FILE: return "file";
	case MAT_DIR: return "dir";
	case MAT_DIR_REPLACED: return "dir-replaced";
	case MAT_SYMLINK: return "symlink";
	case MAT_DELETE: return "delete";
	case MAT_MODE: return "mode";
	}
	return "?";
}

int mat_apply(const struct mat_change *ch, size_t nr,
	      const char *const *roots, unsigned flags,
	      struct mat_report *rep, struct strbuf *err)
{
	(void)ch; (void)nr; (void)roots; (void)flags; (void)rep;
	strbuf_addstr(err, "materialization is not implemented yet");
	return -ENOSYS;
}

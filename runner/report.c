/*
 * The JSON of a run (contracts in runner/report.h): the --report object
 * and the --diff-json array.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/cache.h"
#include "cache/materialize.h"
#include "common/change.h"
#include "common/die.h"
#include "common/fdio.h"
#include "common/hex.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runner/report.h"
#include "runner/util.h"
#include "common/banned.h"

void report_init(struct report *rp, const char *path, double start)
{
	rp->path = path;
	rp->fd = -1;
	rp->start = start;
	/* No JSON at all without --report: a hit then needs no cJSON. */
	rp->root = NULL;
	if (path) {
		rp->root = cJSON_CreateObject();
		rp->fd = open_own_output(path, O_TRUNC);
		if (rp->fd < 0)
			die_errno("cannot write report '%s'", path);
	}
}

void report_set_str(struct report *rp, const char *key, const char *v)
{
	if (!rp->root)
		return;
	cJSON_DeleteItemFromObject(rp->root, key);
	cJSON_AddStringToObject(rp->root, key, v);
}

void report_set_num(struct report *rp, const char *key, double v)
{
	if (!rp->root)
		return;
	cJSON_DeleteItemFromObject(rp->root, key);
	cJSON_AddNumberToObject(rp->root, key, v);
}

void report_set(struct report *rp, const char *key, cJSON *v)
{
	if (!rp->root) {
		cJSON_Delete(v);
		return;
	}
	cJSON_DeleteItemFromObject(rp->root, key);
	cJSON_AddItemToObject(rp->root, key, v);
}

void report_set_strv(struct report *rp, const char *key, char *const *v,
		     size_t n)
{
	if (!rp->root)
		return;
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(v[i]));
	report_set(rp, key, arr);
}

/* The names of @x, or NULL when there are none. */
static cJSON *xattr_names_json(const struct xattr_set *x)
{
	if (!x || !x->nr)
		return NULL;
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < x->nr; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(x->v[i].name));
	return arr;
}

static cJSON *applied_json(const struct applied *a, bool kept)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < a->nr; i++) {
		enum mat_outcome o = mat_report_outcome(&a->rep, i);
		if ((o == MAT_KEPT) != kept)
			continue;
		cJSON *it = cJSON_CreateObject();
		cJSON_AddStringToObject(it, "path", a->paths[i]);
		cJSON_AddStringToObject(it, "kind", a->kinds[i]);
		if (!kept)
			cJSON_AddStringToObject(it, "outcome", mat_outcome_name(o));
		cJSON *names = xattr_names_json(a->xattrs[i]);
		if (names)
			cJSON_AddItemToObject(it, "xattrs", names);
		const char *why = mat_report_reason(&a->rep, i);
		if (why && o != MAT_KEPT)
			cJSON_AddStringToObject(it, "reason", why);
		cJSON_AddItemToArray(arr, it);
	}
	return arr;
}

void report_set_applied(struct report *rp, const struct applied *a)
{
	if (!rp->root)
		return;
	report_set(rp, "outputs", applied_json(a, false));
	report_set(rp, "kept", applied_json(a, true));
}

void report_finish(struct report *rp, int exit_code)
{
	report_set_num(rp, "exit_code", exit_code);
	/* to the microsecond; a duration is never negative (no libm) */
	report_set_num(rp, "duration_s",
		       (double)(long long)((now_seconds() - rp->start) * 1e6 + 0.5) / 1e6);
	if (rp->path) {
		char *text = json_print_output(rp->root, true);
		struct strbuf sb = STRBUF_INIT;
		strbuf_addstr(&sb, text);
		strbuf_addch(&sb, '\n');
		free(text);
		struct stat held, named;
		int fd = rp->fd;

		rp->fd = -1;
		/*
		 * The applied changes replaced or removed the file we hold:
		 * writing the name again could follow what the job put there,
		 * writing the held file would leave the job's file as the
		 * report.
		 */
		if (strncmp(rp->path, "/dev/", 5) && strncmp(rp->path, "/proc/", 6) &&
		    fstat(fd, &held) == 0 && S_ISREG(held.st_mode) &&
		    (lstat(rp->path, &named) < 0 || named.st_dev != held.st_dev ||
		     named.st_ino != held.st_ino))
			die("cannot write report '%s': the job's changes replaced it",
			    rp->path);
		if (write_full(fd, sb.buf, sb.len) < 0 || close(fd) < 0)
			die_errno("cannot write report '%s'", rp->path);
		strbuf_release(&sb);
	}
	cJSON_Delete(rp->root);
	rp->root = NULL;
}

noreturn void report_fail(struct report *rp, const char *msg)
{
	report_set_str(rp, "status", "error");
	report_finish(rp, 125);
	die("%s", msg);
}

/* ---- --diff-json ------------------------------------------------------- */

/*
 * A change; its extended attributes, when it has some, as the entry
 * stores them: [[name, hex value], ...].
 */
static cJSON *change_json(const char *kind, const char *path, mode_t mode,
			  double size, const char *target,
			  const struct xattr_set *x)
{
	cJSON *it = cJSON_CreateObject();
	cJSON_AddStringToObject(it, "kind", kind);
	cJSON_AddStringToObject(it, "path", path);
	cJSON_AddNumberToObject(it, "mode", mode & 07777);
	cJSON_AddNumberToObject(it, "size", size);
	if (target)
		cJSON_AddStringToObject(it, "target", target);
	if (x && x->nr) {
		cJSON *arr = cJSON_AddArrayToObject(it, "xattrs");
		for (size_t i = 0; i < x->nr; i++) {
			cJSON *pair = cJSON_CreateArray();
			char *hex = xmalloc(2 * x->v[i].len + 1);
			hex_encode(x->v[i].value, x->v[i].len, hex);
			cJSON_AddItemToArray(pair, cJSON_CreateString(x->v[i].name));
			cJSON_AddItemToArray(pair, cJSON_CreateString(hex));
			cJSON_AddItemToArray(arr, pair);
			free(hex);
		}
	}
	return it;
}

static void write_json_file(const char *path, cJSON *arr)
{
	char *text = json_print_output(arr, true);
	cJSON_Delete(arr);
	size_t len = strlen(text);
	text = xrealloc(text, len + 2);
	text[len++] = '\n';
	int fd = open_own_output(path, O_TRUNC);
	if (fd < 0 || write_full(fd, text, len) < 0 || close(fd) < 0)
		die_errno("cannot write '%s'", path);
	free(text);
}

void diff_json_write_entry(const char *path, const struct cache_entry *e)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < cache_entry_nr_changes(e); i++) {
		struct cache_change_view v;
		cache_entry_change(e, i, &v);
		cJSON_AddItemToArray(arr, change_json(change_kind_name(v.kind),
						      v.path, v.mode, (double)v.size,
						      v.target, v.xattrs));
	}
	write_json_file(path, arr);
}

void diff_json_write_run(const char *path, const struct job_run *r)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < r->nr_changes; i++) {
		const struct sbx_change *s = &r->changes[i];
		cJSON_AddItemToArray(arr, change_json(change_kind_name(s->kind),
						      s->path, s->mode, (double)s->size,
						      s->target, &s->xattrs));
	}
	write_json_file(path, arr);
}

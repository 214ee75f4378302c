/*
 * The sandbox's public entry points and the supervisor loop.
 * NEEDSWORK: skeleton while the implementation lands (issue 3).
 */
#include <errno.h>
#include <stdlib.h>

#include "sandbox/sandbox.h"
#include "common/xalloc.h"

#include "common/banned.h"

struct sbx {
	struct sbx_config cfg;
	struct sbx_layer *layers;
	size_t nr_layers;
};

int sbx_new(const struct sbx_config *cfg, struct sbx **out, struct strbuf *err)
{
	(void)cfg;
	*out = NULL;
	strbuf_reset(err);
	strbuf_addstr(err, "sandbox not implemented yet");
	return -ENOSYS;
}

const struct sbx_layer *sbx_layers(const struct sbx *s, size_t *nr)
{
	*nr = s->nr_layers;
	return s->layers;
}

void sbx_set_tracer(struct sbx *s, const struct sbx_tracer *tracer)
{
	(void)s;
	(void)tracer;
}

void sbx_job_ids(const struct sbx *s, uid_t *uid, gid_t *gid)
{
	(void)s;
	*uid = 0;
	*gid = 0;
}

int sbx_run(struct sbx *s, struct sbx_result *res, struct strbuf *err)
{
	(void)s;
	(void)res;
	strbuf_reset(err);
	strbuf_addstr(err, "sandbox not implemented yet");
	return -ENOSYS;
}

const char *sbx_change_kind_name(enum sbx_change_kind kind)
{
	switch (kind) {
	case SBX_FILE: return "file";
	case SBX_DIR: return "dir";
	case SBX_DIR_REPLACED: return "dir_replaced";
	case SBX_SYMLINK: return "symlink";
	case SBX_DELETE: return "delete";
	case SBX_MODE: return "mode";
	case SBX_SPECIAL: return "special";
	}
	return "?";
}

int sbx_diff_read(struct sbx *s, struct sbx_change **changes, size_t *nr,
		  struct strbuf *err)
{
	(void)s;
	*changes = NULL;
	*nr = 0;
	strbuf_reset(err);
	strbuf_addstr(err, "sandbox not implemented yet");
	return -ENOSYS;
}

int sbx_diff_read_layers(const struct sbx_layer *layers, size_t nr_layers,
			 bool userxattr, struct sbx_change **changes,
			 size_t *nr, struct strbuf *err)
{
	(void)layers;
	(void)nr_layers;
	(void)userxattr;
	*changes = NULL;
	*nr = 0;
	strbuf_reset(err);
	strbuf_addstr(err, "sandbox not implemented yet");
	return -ENOSYS;
}

void sbx_changes_free(struct sbx_change *changes, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		free(changes[i].path);
		free(changes[i].upper_path);
		free(changes[i].target);
	}
	free(changes);
}

const char *sbx_run_dir(const struct sbx *s)
{
	(void)s;
	return NULL;
}

void sbx_free(struct sbx *s)
{
	free(s);
}

int sbx_clean_stale(const char *run_root)
{
	(void)run_root;
	return -ENOSYS;
}

/* The tracer (DESIGN.md §3): skeleton while the implementation lands. */
#include "sandbox/trace.h"

#include <errno.h>
#include <stdlib.h>

#include "common/xalloc.h"
#include "common/banned.h"

struct trace {
	struct trace_config cfg;
};

struct trace *trace_new(const struct trace_config *cfg)
{
	struct trace *t = xcalloc(1, sizeof(*t));

	t->cfg = *cfg;
	return t;
}

void trace_free(struct trace *t)
{
	free(t);
}

static int skel_install(void *ctx)
{
	(void)ctx;
	return -ENOSYS; /* NEEDSWORK: being written */
}

static int skel_handle(void *ctx, int fd)
{
	(void)ctx;
	(void)fd;
	return -ENOSYS;
}

struct sbx_tracer trace_hooks(struct trace *t)
{
	return (struct sbx_tracer){ .ctx = t, .install = skel_install, .handle = skel_handle };
}

int trace_finish(struct trace *t, struct strbuf *err)
{
	(void)t;
	if (err)
		strbuf_addstr(err, "tracer not implemented yet");
	return -ENOSYS;
}

size_t trace_nr_obs(const struct trace *t) { (void)t; return 0; }
const struct trace_obs *trace_obs_at(const struct trace *t, size_t i) { (void)t; (void)i; return NULL; }
size_t trace_nr_taints(const struct trace *t) { (void)t; return 0; }
const char *trace_taint_at(const struct trace *t, size_t i) { (void)t; (void)i; return NULL; }

const char *trace_obs_kind_name(enum trace_obs_kind k)
{
	switch (k) {
	case TRACE_CONTENT: return "content";
	case TRACE_ABSENT: return "absent";
	case TRACE_STAT: return "stat";
	case TRACE_LISTING: return "listing";
	case TRACE_SYMLINK: return "symlink";
	case TRACE_HOSTFACT: return "hostfact";
	}
	return "?";
}

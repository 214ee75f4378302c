/*
 * The tracer (DESIGN.md §3 and §5): its public API (trace.h). A run's
 * tracer is made here, hooked into the sandbox (trace-filter.c installs
 * the filter in the job, trace-notify.c handles each notification in the
 * supervisor), and checked after the job by trace_finish(), which hashes
 * what was read and taints what changed during the run. What the files
 * share is in trace-internal.h.
 *
 * Nothing here may make the job fail: what cannot be decoded or modelled
 * becomes a taint and the call goes on.
 */
#include "sandbox/trace.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/dirlist.h"
#include "common/filestat.h"
#include "common/path.h"
#include "common/progress.h"
#include "common/xalloc.h"
#include "sandbox/trace-internal.h"

#include "common/banned.h"

/* /proc and /sys: their files have no meaningful stat, only bytes. */
static bool is_pseudo(const char *p)
{
	return path_has_prefix_component(p, "/proc") ||
	       path_has_prefix_component(p, "/sys");
}

struct trace *trace_new(const struct trace_config *cfg)
{
	struct trace *t = xcalloc(1, sizeof(*t));
	size_t i;

	t->cfg = *cfg;
	if (cfg->nr_private_paths) {
		t->private_paths = xcalloc(cfg->nr_private_paths, sizeof(char *));
		for (i = 0; i < cfg->nr_private_paths; i++)
			t->private_paths[i] = xstrdup(cfg->private_paths[i]);
	}
	t->cfg.private_paths = NULL;
	if (cfg->nr_declared) {
		t->declared = xcalloc(cfg->nr_declared, sizeof(char *));
		for (i = 0; i < cfg->nr_declared; i++)
			t->declared[i] = xstrdup(cfg->declared[i]);
	}
	t->cfg.declared = NULL;
	if (cfg->location_dir)
		t->cfg.location_dir = xstrdup(cfg->location_dir);
	pthread_mutex_init(&t->lock, NULL);
	if (cfg->trace) {
		struct seccomp_notif_sizes sz;

		/* newer kernels may grow the structs; ours must hold them */
		if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0 ||
		    sz.seccomp_notif > TRACE_NOTIF_BUF ||
		    sz.seccomp_notif_resp > TRACE_NOTIF_BUF)
			t->notif_sizes_bad = true;
	}
	return t;
}

void trace_free(struct trace *t)
{
	size_t i;

	if (!t)
		return;
	trace_records_release(t);
	for (i = 0; i < t->cfg.nr_private_paths; i++)
		free(t->private_paths[i]);
	free(t->private_paths);
	for (i = 0; i < t->cfg.nr_declared; i++)
		free(t->declared[i]);
	free(t->declared);
	free((char *)t->cfg.location_dir);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

struct sbx_tracer trace_hooks(struct trace *t)
{
	return (struct sbx_tracer){ .ctx = t, .install = trace_install,
				    .handle = trace_handle };
}

static void finish_content(struct trace *t, struct trace_obs *o)
{
	_cleanup_close_ int fd = -1;
	struct stat st1, st2;
	int r;

	fd = open(o->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st1) < 0) {
		trace_taint(t, "input changed during the run: %s", o->path);
		return;
	}
	/* /proc and /sys files have no meaningful stat: their bytes decide */
	if (!is_pseudo(o->path) && !stat_same_file(&o->st, &st1)) {
		trace_taint(t, "input changed during the run: %s", o->path);
		return;
	}
	r = pc_hash_fd(fd, &o->hash, NULL);
	if (r < 0) {
		trace_taint(t, "cannot hash input %s: %s", o->path, strerror(-r));
		return;
	}
	if (fstat(fd, &st2) < 0 || (!is_pseudo(o->path) && !stat_same_file(&st1, &st2))) {
		trace_taint(t, "input changed during the run: %s", o->path);
		return;
	}
	o->hashed = true;
}

int trace_finish(struct trace *t, struct strbuf *err)
{
	size_t i;

	(void)err;
	struct progress prog;
	progress_start(&prog, "hashing inputs", t->nr_obs, PROGRESS_COUNT);
	for (i = 0; i < t->nr_obs; i++) {
		struct trace_obs *o = &t->obs[i];
		struct stat st;

		progress_update(&prog, i + 1);

		switch (o->kind) {
		case TRACE_CONTENT:
			finish_content(t, o);
			break;
		case TRACE_LISTING: {
			struct pc_hash h;

			if (dirlist_hash_at(AT_FDCWD, o->path, &h, NULL) < 0 ||
			    !pc_hash_equal(&h, &o->hash))
				trace_taint(t, "input changed during the run: %s", o->path);
			break;
		}
		case TRACE_STAT:
		case TRACE_SYMLINK:
			/*
			 * A directory's times count when the job also read
			 * its entries (trace.h, trace_obs.times).
			 */
			if (o->kind == TRACE_STAT && o->times && S_ISDIR(o->st.st_mode) &&
			    !trace_obs_find(t, TRACE_LISTING, o->path))
				o->times = false;
			if (lstat(o->path, &st) < 0 || st.st_ino != o->st.st_ino ||
			    st.st_dev != o->st.st_dev || st.st_mode != o->st.st_mode ||
			    (S_ISREG(st.st_mode) && st.st_size != o->st.st_size) ||
			    (o->times && timespec_ns(&st.st_mtim) !=
						 timespec_ns(&o->st.st_mtim)))
				if (!is_pseudo(o->path))
					trace_taint(t, "input changed during the run: %s", o->path);
			break;
		case TRACE_ABSENT:
			if (!lstat(o->path, &st))
				trace_taint(t, "input changed during the run: %s", o->path);
			break;
		case TRACE_OUTPUT:
			if (!o->st.st_mode ? !lstat(o->path, &st)
			    : lstat(o->path, &st) < 0 || st.st_ino != o->st.st_ino ||
				      st.st_dev != o->st.st_dev || st.st_mode != o->st.st_mode ||
				      st.st_uid != o->st.st_uid || st.st_gid != o->st.st_gid)
				trace_taint(t, "input changed during the run: %s", o->path);
			break;
		case TRACE_HOSTFACT:
			break;
		}
	}
	progress_done(&prog);
	if (t->dead && !t->nr_taints)
		trace_taint(t, "tracer stopped");
	return 0;
}

size_t trace_nr_obs(const struct trace *t)
{
	return t->nr_obs;
}

const struct trace_obs *trace_obs_at(const struct trace *t, size_t i)
{
	return i < t->nr_obs ? &t->obs[i] : NULL;
}

size_t trace_nr_taints(const struct trace *t)
{
	return t->nr_taints;
}

const char *trace_taint_at(const struct trace *t, size_t i)
{
	return i < t->nr_taints ? t->taints[i] : NULL;
}

const char *trace_location_observed(const struct trace *t)
{
	return t->location_seen;
}

const char *trace_obs_kind_name(enum trace_obs_kind k)
{
	switch (k) {
	case TRACE_CONTENT: return "content";
	case TRACE_ABSENT: return "absent";
	case TRACE_STAT: return "stat";
	case TRACE_LISTING: return "listing";
	case TRACE_SYMLINK: return "symlink";
	case TRACE_HOSTFACT: return "hostfact";
	case TRACE_OUTPUT: return "output";
	}
	return "?";
}

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
#include "common/die.h"
#include "common/dirlist.h"
#include "common/filestat.h"
#include "common/path.h"
#include "common/progress.h"
#include "common/xalloc.h"
#include "common/xattr.h"
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
	t->cfg.fast_dir = NULL;
	/* two more: the fast path's files, private to the job */
	t->private_paths = xcalloc(cfg->nr_private_paths + 2, sizeof(char *));
	for (i = 0; i < cfg->nr_private_paths; i++)
		t->private_paths[i] = xstrdup(cfg->private_paths[i]);
	t->cfg.private_paths = NULL;
	if (cfg->nr_declared) {
		t->declared = xcalloc(cfg->nr_declared, sizeof(char *));
		for (i = 0; i < cfg->nr_declared; i++)
			t->declared[i] = xstrdup(cfg->declared[i]);
	}
	t->cfg.declared = NULL;
	if (cfg->location_dir)
		t->cfg.location_dir = xstrdup(cfg->location_dir);
	t->cfg.filter_dir = NULL;
	strbuf_init(&t->scratch_name, 0);
	strbuf_init(&t->scratch_base, 0);
	strbuf_init(&t->scratch_key, 0);
	pthread_mutex_init(&t->lock, NULL);
	pthread_mutex_init(&t->recv_lock, NULL);
	t->view_fds[0] = t->view_fds[1] = -1;
	t->cfg.nested = cfg->nested && cfg->trace && !cfg->untrusted;
	if (cfg->fast && cfg->trace && !cfg->untrusted && !t->cfg.nested) {
		struct strbuf err = STRBUF_INIT;

		if (trace_fast_setup(t, cfg->fast_dir, &err) < 0) {
			t->fast_error = strbuf_detach(&err, NULL);
		} else {
			/* seen by host path only when there is no sandbox */
			if (trace_fast_channel(t))
				t->private_paths[t->cfg.nr_private_paths++] =
					xstrdup(trace_fast_channel(t));
			t->binds[0] = (struct sbx_bind){ .data = fp_lib_bytes,
							 .size = (size_t)(fp_lib_end - fp_lib_bytes),
							 .view = TRACE_FAST_PRELOAD };
			t->binds[1] = (struct sbx_bind){ .size = FP_CHAN_SIZE,
							 .view = FP_CHAN_PATH,
							 .writable = true };
		}
		strbuf_release(&err);
	}
	if (cfg->trace) {
		struct seccomp_notif_sizes sz;

		/* newer kernels may grow the structs; ours must hold them */
		if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0 ||
		    sz.seccomp_notif > TRACE_NOTIF_BUF ||
		    sz.seccomp_notif_resp > TRACE_NOTIF_BUF)
			t->notif_sizes_bad = true;
	}
	if (cfg->filter_dir)
		trace_filter_prepare(t, cfg->filter_dir);
	trace_nest_setup(t);
	return t;
}

void trace_free(struct trace *t)
{
	size_t i;

	if (!t)
		return;
	trace_drainer_stop(t);
	trace_fast_release(t);
	for (i = 0; i < 2; i++)
		if (t->view_fds[i] >= 0)
			close(t->view_fds[i]);
	free(t->fast_error);
	free(t->prog);
	trace_nest_release(t);
	trace_records_release(t);
	for (i = 0; i < t->cfg.nr_private_paths; i++)
		free(t->private_paths[i]);
	free(t->private_paths);
	for (i = 0; i < t->cfg.nr_declared; i++)
		free(t->declared[i]);
	free(t->declared);
	free((char *)t->cfg.location_dir);
	strv_free(t->path_skipped);
	pthread_mutex_destroy(&t->lock);
	trace_recv_release(t); /* the caller's last handle() kept it */
	pthread_mutex_destroy(&t->recv_lock);
	free(t);
}

struct sbx_tracer trace_hooks(struct trace *t)
{
	struct sbx_tracer h = { .ctx = t, .install = trace_install,
				.handle = trace_handle, .exec_notified = t->cfg.trace };

	if (t->fast) {
		h.binds = t->binds;
		h.nr_binds = ARRAY_SIZE(t->binds);
		h.preload = TRACE_FAST_PRELOAD;
		/* recorded as the library's failed execs are (DESIGN §3.1) */
		if (t->cfg.trace && !t->nest)
			h.path_skipped = trace_path_skipped;
	}
	return h;
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
	/*
	 * Through the stat cache when the runner gives one: the file it
	 * hashes (or whose hash it has) is the one fstat just described.
	 */
	r = -ENOSYS;
	if (t->cfg.hash_file && !is_pseudo(o->path) && S_ISREG(st1.st_mode)) {
		r = t->cfg.hash_file(t->cfg.hash_ctx, o->path, &st1, &o->hash);
		if (r == -ESTALE) {
			trace_taint(t, "input changed during the run: %s", o->path);
			return;
		}
	}
	if (r < 0)
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

void trace_counts(const struct trace *t, struct trace_counts *out)
{
	out->notifications = t->nr_notifications;
	out->records = t->nr_records;
	out->fallbacks = t->nr_fallbacks;
	out->units_run = out->units_skipped = out->units_refused = 0;
	out->saved_s = 0;
	trace_nest_counts(t, out);
}

/*
 * Whether the job read the entries of directory @path, or of its parent:
 * ls -l, find -maxdepth 1 and a scandir with a stat of each entry show a
 * subdirectory's times without reading it, and a file made in it moves
 * them (found in a sweep, t1090).
 */
static bool listed_or_parent(struct trace *t, const char *path)
{
	_cleanup_free_ char *parent = NULL;
	const char *slash;

	if (trace_obs_find(t, TRACE_LISTING, path))
		return true;
	slash = strrchr(path, '/');
	if (!slash)
		return false;
	parent = slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
	return trace_obs_find(t, TRACE_LISTING, parent) != NULL;
}

/* What the tracer did, with -v (-vv: by system call). */
static void log_counts(const struct trace *t)
{
	size_t i;

	if (pc_verbose < 1)
		return;
	info("trace: %llu notifications, %llu fast-path records, %llu fast-path calls "
	      "notified for want of a slot", (unsigned long long)t->nr_notifications,
	      (unsigned long long)t->nr_records, (unsigned long long)t->nr_fallbacks);

	for (i = 0; pc_verbose >= 2 && i < ARRAY_SIZE(t->nr_by_call); i++)
		if (t->nr_by_call[i])
			debug("trace: notified %s: %u", trace_sc_name((int)i), t->nr_by_call[i]);
}

int trace_finish(struct trace *t, struct strbuf *err)
{
	size_t i;

	(void)err;
	/* the records the job left: it is over, so every one, past holes */
	trace_drainer_stop(t);
	pthread_mutex_lock(&t->lock);
	trace_drain(t, true);
	/* skipped PATH candidates never recorded: no notification came */
	if (t->path_skipped || t->path_skipped_unknown)
		trace_taint(t, "PATH search: the candidates skipped were not recorded");
	pthread_mutex_unlock(&t->lock);
	t->nr_fallbacks = trace_fast_fallbacks(t);
	log_counts(t);
	t->nest_pid = 0;
	trace_nest_finish(t);
	/* the view's teardown waits for trace_free() (its fds' last close) */
	if (t->view_fds[0] < 0 && t->view_fds[1] < 0)
		trace_fast_keep_view(t, t->view_fds);
	trace_fast_release(t);
	if (t->fast_error)
		trace_taint(t, "fast path: %s", t->fast_error);

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

			if (dirlist_hash_at_hiding(AT_FDCWD, o->path, o->path,
						   (const char *const *)t->declared,
						   t->cfg.nr_declared, &h, NULL) < 0 ||
			    !pc_hash_equal(&h, &o->hash))
				trace_taint(t, "input changed during the run: %s", o->path);
			break;
		}
		case TRACE_STAT:
		case TRACE_SYMLINK:
			/*
			 * A directory's times count when the job also read
			 * its entries, or its parent's (trace.h,
			 * trace_obs.times).
			 */
			if (o->kind == TRACE_STAT && o->times && S_ISDIR(o->st.st_mode) &&
			    !listed_or_parent(t, o->path))
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
		case TRACE_XATTRS: {
			struct pc_hash h;

			xattr_hash_path(o->path, &h);
			if (!pc_hash_equal(&h, &o->hash))
				trace_taint(t, "input changed during the run: %s", o->path);
			break;
		}
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

void trace_signal_sent(struct trace *t, int sig)
{
	if (sig >= 1 && sig <= 64)
		t->signals_sent |= UINT64_C(1) << (sig - 1);
}

bool trace_job_sent_signal(const struct trace *t, int sig)
{
	return sig >= 1 && sig <= 64 && (t->signals_sent & (UINT64_C(1) << (sig - 1)));
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
	case TRACE_XATTRS: return "xattrs";
	}
	return "?";
}

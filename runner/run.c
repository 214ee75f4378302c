/*
 * procache run: look the job up; on a hit restore its results and replay
 * its output; on a miss run it sandboxed and traced, store it when it is
 * cacheable, and apply its changes through the same function a hit uses
 * (mat_apply()). DESIGN.md section 7.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cache/cache.h"
#include "cache/materialize.h"
#include "common/cleanup.h"
#include "common/die.h"
#include "common/fdio.h"
#include "common/json.h"
#include "common/path.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "runner/commands.h"
#include "runner/config.h"
#include "runner/job.h"
#include "runner/runner.h"
#include "common/banned.h"

double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * The default cache directory into @out (reset first): $PROCACHE_DIR,
 * else $XDG_CACHE_HOME/procache, else $HOME/.cache/procache (empty
 * variables count as unset). -ENOENT when none of them is set.
 */
static int default_cache_dir(struct strbuf *out)
{
	const char *v;

	strbuf_reset(out);
	v = getenv("PROCACHE_DIR");
	if (v && *v) {
		strbuf_addstr(out, v);
		return 0;
	}
	v = getenv("XDG_CACHE_HOME");
	if (v && *v) {
		strbuf_addf(out, "%s/procache", v);
		return 0;
	}
	v = getenv("HOME");
	if (v && *v) {
		strbuf_addf(out, "%s/.cache/procache", v);
		return 0;
	}
	return -ENOENT;
}

void resolve_cache_dir(const char *flag, struct strbuf *out)
{
	strbuf_reset(out);
	if (flag) {
		strbuf_addstr(out, flag);
	} else if (default_cache_dir(out) < 0) {
		die("no cache directory: set --cache-dir, $PROCACHE_DIR or $HOME");
	}
	if (out->buf[0] != '/') {
		_cleanup_free_ char *cwd = getcwd(NULL, 0);
		if (!cwd)
			die_errno("cannot get the current directory");
		char *abs = path_join(cwd, out->buf);
		strbuf_reset(out);
		strbuf_addstr(out, abs);
		free(abs);
	}
	char *clean = path_clean(out->buf);
	strbuf_reset(out);
	strbuf_addstr(out, clean);
	free(clean);
}

struct cache *open_cache_or_die(const char *dir)
{
	struct cache *c;
	struct strbuf err = STRBUF_INIT;
	const char *env = getenv("PROCACHE_MAX_SIZE");
	uint64_t max_size = 0;
	bool bad_max = env && *env && parse_size(env, &max_size) < 0;

	/* The directory's errors come first, as they did from cache_open(). */
	if (cache_open(dir, bad_max ? 0 : max_size, &c, &err) < 0)
		die("%s", err.buf);
	if (bad_max)
		die("invalid PROCACHE_MAX_SIZE '%s' (expected a size such as 500M or 2G)",
		    env);
	strbuf_release(&err);
	return c;
}

int open_own_output(const char *path, int flags)
{
	/*
	 * A job's applied changes may have left a symlink at this name in
	 * an output root (or in one of its directories: that is not
	 * checked); root would write, or create, wherever it points.
	 * Under /dev and /proc the name is the user's: /dev/stdout,
	 * /proc/self/fd/N, a terminal.
	 */
	int nofollow = strncmp(path, "/dev/", 5) && strncmp(path, "/proc/", 6) ?
		       O_NOFOLLOW : 0;

	return open(path, O_WRONLY | O_CREAT | O_CLOEXEC | nofollow | flags, 0644);
}

void open_log_or_die(const char *path)
{
	if (!path)
		return;
	int fd = open_own_output(path, O_APPEND);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "ae");
	if (!f)
		die_errno("cannot open log file '%s'", path);
	setvbuf(f, NULL, _IOLBF, 0);
	pc_log_set_file(f);
}

/* ---- applying changes ------------------------------------------------ */

/*
 * What applying a diff did: the materialization report, and for each
 * change the path and kind it names (pointing into the entry or the run).
 */
struct applied {
	struct mat_report rep;
	size_t nr;
	const char **paths;
	const char **kinds;
	int rc;
};

static void applied_init(struct applied *a, size_t nr)
{
	memset(a, 0, sizeof(*a));
	a->nr = nr;
	a->paths = xcalloc(nr ? nr : 1, sizeof(*a->paths));
	a->kinds = xcalloc(nr ? nr : 1, sizeof(*a->kinds));
	mat_report_init(&a->rep);
}

static void applied_release(struct applied *a)
{
	free(a->paths);
	free(a->kinds);
	mat_report_release(&a->rep);
}

static unsigned mat_flags(const struct job_opts *o)
{
	return o->fsync ? MAT_FSYNC : 0;
}

/* Apply a stored entry (a hit, or a miss just stored). */
static void apply_entry(struct cache *c, const struct cache_entry *e,
			const struct job *j, struct applied *a,
			struct strbuf *err)
{
	applied_init(a, cache_entry_nr_changes(e));
	for (size_t i = 0; i < a->nr; i++) {
		struct cache_change_view v;
		cache_entry_change(e, i, &v);
		a->paths[i] = v.path;
		a->kinds[i] = change_kind_name(v.kind);
	}
	a->rc = cache_entry_apply(c, e, (const char *const *)j->roots,
				  mat_flags(j->opts), &a->rep, err);
}

/*
 * Apply a run's diff straight from its upper directories (an uncacheable
 * run, or one whose store failed). Special files are not applied: they
 * are reported as refused.
 */
static void apply_diff(const struct job_run *r, const struct job *j,
		       struct applied *a, struct strbuf *err)
{
	struct mat_change *ch = xcalloc(r->nr_changes ? r->nr_changes : 1, sizeof(*ch));
	size_t n = 0;
	for (size_t i = 0; i < r->nr_changes; i++) {
		const struct sbx_change *s = &r->changes[i];
		if (s->kind == CHANGE_SPECIAL) {
			warn("not applying special file '%s'", s->path);
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
	}
	applied_init(a, n);
	for (size_t i = 0; i < n; i++) {
		a->paths[i] = ch[i].path;
		a->kinds[i] = change_kind_name(ch[i].kind);
	}
	a->rc = mat_apply(ch, n, (const char *const *)j->roots,
			  mat_flags(j->opts), &a->rep, err);
	free(ch);
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
		const char *why = mat_report_reason(&a->rep, i);
		if (why && o != MAT_KEPT)
			cJSON_AddStringToObject(it, "reason", why);
		cJSON_AddItemToArray(arr, it);
	}
	return arr;
}

/* Refusals are a security event: always said, even on a quiet hit. */
static void warn_refusals(const struct applied *a)
{
	for (size_t i = 0; i < a->nr; i++)
		if (mat_report_outcome(&a->rep, i) == MAT_REFUSED)
			warn("refused to apply '%s': %s", a->paths[i],
			     mat_report_reason(&a->rep, i));
}

/* ---- the report -------------------------------------------------------- */

struct report {
	cJSON *root;
	const char *path;
	int fd;			/* opened by report_init(), -1 without --report */
	double start;
};

/*
 * The report file is opened before the job runs: once the job's changes
 * are applied, its name may be a symlink the job left there (an untrusted
 * job making procache write outside the output roots). Not atomic by
 * design: FILE may be /dev/stdout or a fifo.
 */
static void report_init(struct report *rp, const char *path, double start)
{
	rp->path = path;
	rp->fd = -1;
	rp->start = start;
	rp->root = cJSON_CreateObject();
	if (path) {
		rp->fd = open_own_output(path, O_TRUNC);
		if (rp->fd < 0)
			die_errno("cannot write report '%s'", path);
	}
}

static void report_set_str(struct report *rp, const char *key, const char *v)
{
	cJSON_DeleteItemFromObject(rp->root, key);
	cJSON_AddStringToObject(rp->root, key, v);
}

static void report_set_num(struct report *rp, const char *key, double v)
{
	cJSON_DeleteItemFromObject(rp->root, key);
	cJSON_AddNumberToObject(rp->root, key, v);
}

static void report_set(struct report *rp, const char *key, cJSON *v)
{
	cJSON_DeleteItemFromObject(rp->root, key);
	cJSON_AddItemToObject(rp->root, key, v);
}

static cJSON *strv_json(char *const *v, size_t n)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(v[i]));
	return arr;
}

/* Write the report (when asked for) and free it. */
static void report_finish(struct report *rp, int exit_code)
{
	report_set_num(rp, "exit_code", exit_code);
	/* to the microsecond; a duration is never negative (no libm) */
	report_set_num(rp, "duration_s",
		       (double)(long long)((now_seconds() - rp->start) * 1e6 + 0.5) / 1e6);
	if (rp->path) {
		char *text = cJSON_Print(rp->root);
		if (!text)
			die("cannot format the report");
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

static cJSON *change_json(const char *kind, const char *path, mode_t mode,
			  double size, const char *target)
{
	cJSON *it = cJSON_CreateObject();
	cJSON_AddStringToObject(it, "kind", kind);
	cJSON_AddStringToObject(it, "path", path);
	cJSON_AddNumberToObject(it, "mode", mode & 07777);
	cJSON_AddNumberToObject(it, "size", size);
	if (target)
		cJSON_AddStringToObject(it, "target", target);
	return it;
}

static void write_json_file(const char *path, cJSON *arr);

/* --diff-json on a hit: the stored changes, in the same form. */
static void write_entry_diff_json(const char *path, const struct cache_entry *e)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < cache_entry_nr_changes(e); i++) {
		struct cache_change_view v;
		cache_entry_change(e, i, &v);
		cJSON_AddItemToArray(arr, change_json(change_kind_name(v.kind),
						      v.path, v.mode, (double)v.size,
						      v.target));
	}
	write_json_file(path, arr);
}

static void write_diff_json(const char *path, const struct job_run *r)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < r->nr_changes; i++) {
		const struct sbx_change *s = &r->changes[i];
		cJSON_AddItemToArray(arr, change_json(change_kind_name(s->kind),
						      s->path, s->mode, (double)s->size,
						      s->target));
	}
	write_json_file(path, arr);
}

static void write_json_file(const char *path, cJSON *arr)
{
	char *text = cJSON_Print(arr);
	cJSON_Delete(arr);
	if (!text)
		die("cannot format the diff");
	size_t len = strlen(text);
	text = xrealloc(text, len + 2);
	text[len++] = '\n';
	int fd = open_own_output(path, O_TRUNC);
	if (fd < 0 || write_full(fd, text, len) < 0 || close(fd) < 0)
		die_errno("cannot write '%s'", path);
	free(text);
}

/* ---- recording ------------------------------------------------------- */

static enum change_kind cache_kind_of_sbx(enum change_kind k)
{
	switch (k) {
	case CHANGE_FILE: return CHANGE_FILE;
	case CHANGE_DIR: return CHANGE_DIR;
	case CHANGE_DIR_REPLACED: return CHANGE_DIR_REPLACED;
	case CHANGE_SYMLINK: return CHANGE_SYMLINK;
	case CHANGE_DELETE: return CHANGE_DELETE;
	case CHANGE_MODE: return CHANGE_MODE;
	case CHANGE_SPECIAL: break;
	}
	BUG("special files are never stored");
}

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

static struct cache_record *build_record(const struct job_run *r,
					 struct cache_key *k, bool strict)
{
	struct cache_record *rec = cache_record_new(k);

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
			cache_record_add_stat(rec, ob->path, &ob->st, strict);
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
		cache_record_add_change(rec, cache_kind_of_sbx(s->kind), s->path,
					s->mode & 07777,
					s->kind == CHANGE_FILE ? s->upper_path : NULL,
					s->target);
	}
	return rec;
}

/* ---- --check: compare a fresh run with the stored entry ------------- */

static bool same_file_as_blob(struct cache *c, const struct pc_hash *blob,
			      uint64_t size, const char *path)
{
	struct pc_hash h;
	uint64_t sz = 0;
	if (!path)
		return size == 0;
	if (pc_hash_file_at(AT_FDCWD, path, &h, &sz) < 0)
		return false;
	(void)c;
	return sz == size && pc_hash_equal(&h, blob);
}

/* Appends a description of each difference; returns their number. */
static size_t compare_with_entry(struct cache *c, const struct cache_entry *e,
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
		if (!same_file_as_blob(c, &h, size, path)) {
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
			if (s->kind == CHANGE_SPECIAL ||
			    cache_kind_of_sbx(s->kind) != v.kind)
				differs = true;
			else if (v.kind != CHANGE_DELETE &&
				 v.kind != CHANGE_SYMLINK &&
				 (v.mode & 07777) != (s->mode & 07777))
				differs = true;
			else if (v.kind == CHANGE_SYMLINK)
				differs = strcmp(v.target, s->target) != 0;
			else if (v.kind == CHANGE_FILE)
				differs = !same_file_as_blob(c, &v.blob, v.size,
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

/* ---- the command -------------------------------------------------------- */

/*
 * Stale run directories (of a runner killed, or one that died on a full
 * disk with a job's upper directories in it) are removed by
 * sbx_clean_stale() at most once a minute. On a file system short of
 * space that is too late: they can hold what the next run needs, and it
 * fails with ENOSPC in turn. There the stamp is removed, so that every
 * run scans (a readdir of run/, cheap when nothing is stale).
 */
static void force_clean_when_short_of_space(const char *run_root)
{
	struct statvfs sv;

	if (statvfs(run_root, &sv) < 0)
		return;
	uint64_t avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	uint64_t size = (uint64_t)sv.f_blocks * sv.f_frsize;
	if (avail < size / 16 || avail < (256u << 20)) {
		_cleanup_free_ char *stamp = path_join(run_root, ".clean-stamp");
		unlink(stamp);
	}
}

static int replay_hit(struct cache *c, struct cache_entry *e, struct job *j,
		      struct report *rp)
{
	struct applied a;
	struct strbuf err = STRBUF_INIT;

	apply_entry(c, e, j, &a, &err);
	report_set(rp, "outputs", applied_json(&a, false));
	report_set(rp, "kept", applied_json(&a, true));
	warn_refusals(&a);
	if (a.rc < 0) {
		report_set_str(rp, "status", "error");
		report_finish(rp, 125);
		cache_stats_record(c, CACHE_ERROR, "apply failed", 0);
		die("%s", err.buf);
	}
	/*
	 * A reader that stops early (| head) gives EPIPE, handled below, not
	 * a SIGPIPE death that would leave no report and no hit counted (a
	 * miss blocks SIGPIPE while it streams, too).
	 */
	signal(SIGPIPE, SIG_IGN);
	for (int which = 1; which <= 2; which++) {
		if (cache_entry_write_output(c, e, which, which, &err) < 0) {
			if (which == 1 && strstr(err.buf, "Broken pipe")) {
				strbuf_reset(&err);
				continue;	/* stderr is still replayed */
			}
			report_set_str(rp, "status", "error");
			report_finish(rp, 125);
			die("%s", err.buf);
		}
	}
	int status = job_exit_status(cache_entry_exit_code(e),
				     cache_entry_signal(e));
	double saved = cache_entry_duration(e);
	cache_stats_record(c, CACHE_HIT, NULL, saved);
	report_set_num(rp, "saved_s", saved);
	info("hit, %zu files restored (%zu unchanged), %.1f s saved",
	     a.rep.applied, a.rep.unchanged, saved);
	applied_release(&a);
	strbuf_release(&err);
	return status;
}

int cmd_run(int argc, char **argv)
{
	double start = now_seconds();
	struct job_opts o;
	struct job j;
	struct strbuf cache_dir = STRBUF_INIT, err = STRBUF_INIT;
	struct report rp;

	job_opts_init(&o);
	struct cache *c = job_start(&o, argc, argv, JOB_CMD_RUN, &j, &cache_dir);
	report_init(&rp, o.report_path, start);

	struct cache_key *k = cache_key_new();
	job_add_key(&j, k);
	report_set_str(&rp, "key", cache_key_hex(k));
	debug("run: key %s for '%s' in '%s'", cache_key_hex(k), j.argv[0], j.cwd);

	struct cache_entry *hit = NULL;
	if (!o.no_cache && !o.refresh && j.stdin_kind != JOB_STDIN_TTY &&
	    !o.no_trace && !o.share_net) {
		struct cache_explain *ex = NULL;
		int rc = cache_lookup(c, k, o.explain ? CACHE_LOOKUP_EXPLAIN : 0,
				      &hit, &ex, &err);
		if (rc < 0) {
			warn("cache lookup failed, running the job: %s", err.buf);
			hit = NULL;
		}
		if (ex) {
			if (rc == 0) {
				report_set(&rp, "explain", cache_explain_json(ex));
				if (pc_verbose)
					cache_explain_print(ex, stderr);
			}
			cache_explain_free(ex);
		}
		if (rc == 1 && !o.check) {
			report_set_str(&rp, "status", "hit");
			report_set_str(&rp, "entry", cache_entry_id(hit));
			report_set(&rp, "uncacheable", cJSON_CreateArray());
			if (o.diff_json_path)
				write_entry_diff_json(o.diff_json_path, hit);
			int status = replay_hit(c, hit, &j, &rp);
			report_finish(&rp, status);
			cache_entry_free(hit);
			cache_key_free(k);
			cache_close(c);
			job_release(&j);
			job_opts_release(&o);
			strbuf_release(&cache_dir);
			strbuf_release(&err);
			return status;
		}
	}

	/* A miss (or --check on a hit): run the job. */
	force_clean_when_short_of_space(cache_run_root(c));
	int clean = sbx_clean_stale(cache_run_root(c));
	if (clean > 0)
		debug("removed %d stale run directories", clean);
	struct job_run r;
	debug("run: running the job (%s)", hit ? "--check" : o.no_cache ? "--no-cache"
					   : o.refresh ? "--refresh" : "no entry applies");
	job_execute(&j, cache_run_root(c), &r);
	debug("run: job ended: status %d, %zu observations, %zu changes, %zu reasons not to store",
	      r.exit_status, r.trace ? trace_nr_obs(r.trace) : 0, r.nr_changes,
	      r.nr_reasons);
	if (o.diff_json_path)
		write_diff_json(o.diff_json_path, &r);
	report_set(&rp, "uncacheable", strv_json(r.reasons, r.nr_reasons));
	int status = r.exit_status;

	if (hit) {
		/* --check: compare, keep the entry, apply what it says. */
		cJSON *diffs = cJSON_CreateArray();
		size_t n = r.nr_reasons ? 0 : compare_with_entry(c, hit, &r, diffs);
		report_set_str(&rp, "status", "hit");
		report_set_str(&rp, "entry", cache_entry_id(hit));
		if (r.nr_reasons) {
			report_set_str(&rp, "check", "uncacheable");
			cJSON_Delete(diffs);
		} else if (n) {
			report_set_str(&rp, "check", "different");
			report_set(&rp, "differences", diffs);
		} else {
			report_set_str(&rp, "check", "same");
			cJSON_Delete(diffs);
		}
		job_run_release(&r);
		status = replay_hit(c, hit, &j, &rp);
		if (n) {
			warn("check: the job is not deterministic: %zu outputs differ from entry %s",
			     n, cache_entry_id(hit));
			status = 1;
		}
		report_finish(&rp, status);
		cache_entry_free(hit);
		goto out;
	}

	struct cache_entry *stored = NULL;
	bool cacheable = r.nr_reasons == 0 && !o.no_cache;
	bool store_failed = false;
	if (cacheable) {
		struct cache_record *rec = build_record(&r, k, o.strict_stat);
		if (cache_store(c, rec, &stored, &err) < 0) {
			/*
			 * The job ran: its results are not lost because the
			 * cache is full or broken. cache_store() put the
			 * captured files back; they are applied as an
			 * uncacheable run's are.
			 */
			warn("cannot store the result (applying it uncached): %s", err.buf);
			job_run_add_reason(&r, "cannot store the result: %s", err.buf);
			report_set(&rp, "uncacheable", strv_json(r.reasons, r.nr_reasons));
			strbuf_reset(&err);
			store_failed = true;
		} else {
			report_set_str(&rp, "entry", cache_entry_id(stored));
		}
		cache_record_free(rec);
	}

	struct applied a;
	if (stored)
		apply_entry(c, stored, &j, &a, &err);
	else
		apply_diff(&r, &j, &a, &err);
	report_set(&rp, "outputs", applied_json(&a, false));
	report_set(&rp, "kept", applied_json(&a, true));
	warn_refusals(&a);
	if (a.rc < 0) {
		report_set_str(&rp, "status", "error");
		report_finish(&rp, 125);
		cache_stats_record(c, CACHE_ERROR, "apply failed", 0);
		die("%s", err.buf);
	}
	if (stored) {
		report_set_str(&rp, "status", "miss");
		cache_stats_record(c, CACHE_MISS, NULL, 0);
		info("miss, stored entry %s: %zu preconditions, %zu changes (%zu applied, %zu kept)",
		     cache_entry_id(stored), r.trace ? trace_nr_obs(r.trace) : 0,
		     r.nr_changes, a.rep.applied + a.rep.unchanged, a.rep.kept);
		cache_entry_free(stored);
	} else if (o.no_cache && !r.nr_reasons) {
		report_set_str(&rp, "status", "miss");
		info("ran without cache (--no-cache): %zu changes (%zu applied, %zu kept)",
		     r.nr_changes, a.rep.applied + a.rep.unchanged, a.rep.kept);
	} else {
		report_set_str(&rp, "status", "uncacheable");
		if (store_failed)
			cache_stats_record(c, CACHE_ERROR, "store failed", 0);
		else
			cache_stats_record(c, CACHE_UNCACHEABLE, r.reasons[0], 0);
		if (pc_verbose) {
			info("uncacheable (%zu reasons); %zu changes applied, %zu kept",
			     r.nr_reasons, a.rep.applied + a.rep.unchanged, a.rep.kept);
			for (size_t i = 0; i < r.nr_reasons; i++)
				info("uncacheable: %s", r.reasons[i]);
		}
	}
	applied_release(&a);
	job_run_release(&r);
	report_finish(&rp, status);
out:
	cache_key_free(k);
	cache_close(c);
	job_release(&j);
	job_opts_release(&o);
	strbuf_release(&cache_dir);
	strbuf_release(&err);
	return status;
}

/*
 * Batches: runs grouped by a name (--batch, $PROCACHE_BATCH), and their
 * summary (procache cache batch). DESIGN.md section 6, "Batches".
 *
 * Format of $CACHE/batches/<name>: text, one record per run, each line
 *
 *	B1 TAB <unix time> TAB <status> TAB <duration s> TAB <saved s> TAB <reason> LF
 *
 * "B1" is the magic and version of a record; <status> is hit, miss,
 * uncacheable or error; <duration s> the wall-clock seconds of the
 * procache run, <saved s> the recorded job time a hit skipped (0
 * otherwise), <reason> why the run was not stored ("-" when it was),
 * with tabs and line feeds made spaces and cut to 200 bytes. A record is
 * written with one write() to a file opened with O_APPEND, far below
 * PIPE_BUF, so that many runners of one batch append at once without a
 * lock and without interleaving. A line that does not parse (another
 * version, a torn tail after a crash) is skipped: the summary is
 * advisory, never a reason to fail. The last batch is the file written
 * last (its mtime).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache/cache.h"
#include "cache/internal.h"
#include "common/cleanup.h"
#include "common/die.h"
#include "common/fdio.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

#define BATCH_DIR "batches"
#define BATCH_REASON_MAX 200

int cache_batch_name_check(const char *name)
{
	size_t n = strlen(name);

	if (!n || n > 64 || name[0] == '.')
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		      ch == '-'))
			return -EINVAL;
	}
	return 0;
}

static const char *const outcome_names[] = {
	[CACHE_HIT] = "hit", [CACHE_MISS] = "miss",
	[CACHE_UNCACHEABLE] = "uncacheable", [CACHE_ERROR] = "error",
};

void cache_batch_record(struct cache *c, const char *name,
			enum cache_outcome o, const char *reason,
			double duration_s, double saved_s)
{
	struct strbuf line = STRBUF_INIT;
	_cleanup_close_ int dfd = -1, fd = -1;

	if (cache_batch_name_check(name) < 0)
		BUG("batch name '%s' not checked", name);
	if (mkdirat(c->dirfd, BATCH_DIR, 0755) < 0 && errno != EEXIST)
		goto fail;
	dfd = openat(c->dirfd, BATCH_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0)
		goto fail;
	fd = openat(dfd, name, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		goto fail;
	strbuf_addf(&line, "B1\t%lld\t%s\t%.3f\t%.3f\t", (long long)time(NULL),
		    outcome_names[o], duration_s, saved_s > 0 ? saved_s : 0);
	if (!reason || !*reason) {
		strbuf_addch(&line, '-');
	} else {
		for (size_t i = 0; reason[i] && i < BATCH_REASON_MAX; i++)
			strbuf_addch(&line, reason[i] == '\t' || reason[i] == '\n'
					    ? ' ' : reason[i]);
	}
	strbuf_addch(&line, '\n');
	if (write_full(fd, line.buf, line.len) < 0)
		goto fail;
	strbuf_release(&line);
	return;
fail:
	debug("cannot record the run in batch '%s' of '%s': %s", name, c->path,
	      strerror(errno));
	strbuf_release(&line);
}

/* The batch written last, into @out; -ENOENT when there is none. */
static int last_batch(int dfd, struct strbuf *out)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct timespec best = { 0, 0 };
	int fd = dup(dfd);
	struct dirent *de;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	strbuf_reset(out);
	while ((de = readdir(d))) {
		struct stat st;

		if (cache_batch_name_check(de->d_name) < 0 ||
		    fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (!out->len || st.st_mtim.tv_sec > best.tv_sec ||
		    (st.st_mtim.tv_sec == best.tv_sec &&
		     st.st_mtim.tv_nsec > best.tv_nsec)) {
			best = st.st_mtim;
			strbuf_reset(out);
			strbuf_addstr(out, de->d_name);
		}
	}
	return out->len ? 0 : -ENOENT;
}

static void add_reason(cJSON *reasons, const char *reason)
{
	char cat[BATCH_REASON_MAX + 1];
	size_t len = strcspn(reason, ":");
	cJSON *it;

	snprintf(cat, sizeof(cat), "%.*s", (int)len, reason);
	it = cJSON_GetObjectItemCaseSensitive(reasons, cat);
	if (it)
		cJSON_SetNumberValue(it, it->valuedouble + 1);
	else
		cJSON_AddNumberToObject(reasons, cat, 1);
}

/* One record into @s; false when the line is not one. */
static bool parse_record(char *line, struct cache_batch_summary *s)
{
	char *f[6], *save = NULL;
	size_t n = 0;

	for (char *t = strtok_r(line, "\t", &save); t && n < 6;
	     t = strtok_r(NULL, "\t", &save))
		f[n++] = t;
	if (n != 6 || strcmp(f[0], "B1"))
		return false;
	char *end;
	long long when = strtoll(f[1], &end, 10);
	if (*end || when < 0)
		return false;
	double dur = strtod(f[3], &end);
	if (*end || !(dur >= 0))
		return false;
	double saved = strtod(f[4], &end);
	if (*end || !(saved >= 0))
		return false;
	if (!strcmp(f[2], "hit"))
		s->hits++;
	else if (!strcmp(f[2], "miss"))
		s->misses++;
	else if (!strcmp(f[2], "uncacheable"))
		s->uncacheable++;
	else if (!strcmp(f[2], "error"))
		s->errors++;
	else
		return false;
	if (strcmp(f[5], "-"))
		add_reason(s->reasons, f[5]);
	s->runs++;
	s->duration_s += dur;
	s->saved_s += saved;
	if (!s->first || when < s->first)
		s->first = when;
	if (when > s->last)
		s->last = when;
	return true;
}

static int open_batches(struct cache *c, struct strbuf *err)
{
	int dfd = openat(c->dirfd, BATCH_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

	if (dfd < 0 && errno == ENOENT)
		return strbuf_error(err, -ENOENT, "no batch recorded in '%s' (run jobs with PROCACHE_BATCH=NAME or --batch NAME)",
				    c->path);
	if (dfd < 0)
		return strbuf_error(err, -errno, "cannot open '%s/%s': %s", c->path,
				    BATCH_DIR, strerror(errno));
	return dfd;
}

/* @name, or the last batch when NULL, into @out; the batch's fd or -errno. */
static int batch_name(struct cache *c, int dfd, const char *name,
		      struct strbuf *out, struct strbuf *err)
{
	strbuf_reset(out);
	if (name) {
		if (cache_batch_name_check(name) < 0)
			return strbuf_error(err, -EINVAL, "invalid batch name '%s'", name);
		strbuf_addstr(out, name);
	} else if (last_batch(dfd, out) < 0) {
		return strbuf_error(err, -ENOENT, "no batch recorded in '%s' (run jobs with PROCACHE_BATCH=NAME or --batch NAME)",
				    c->path);
	}
	return 0;
}

int cache_batch_summary(struct cache *c, const char *name,
			struct cache_batch_summary *s, struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf text = STRBUF_INIT;
	_cleanup_close_ int dfd = -1;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((dfd = open_batches(c, err)) < 0)
		return dfd;
	if ((rc = batch_name(c, dfd, name, &text, err)) < 0)
		return rc;
	s->name = strbuf_detach(&text, NULL);
	s->reasons = cJSON_CreateObject();
	ssize_t n = strbuf_read_file_at(&text, dfd, s->name, 1 << 16);
	if (n < 0)
		return strbuf_error(err, (int)n, "no batch '%s' in '%s': %s", s->name,
				    c->path, strerror((int)-n));
	for (char *p = text.buf, *nl; p < text.buf + text.len; p = nl + 1) {
		nl = memchr(p, '\n', text.buf + text.len - p);
		if (!nl)
			break;	/* a torn last line */
		*nl = '\0';
		if (!parse_record(p, s))
			s->damaged++;
	}
	return 0;
}

int cache_batch_clear(struct cache *c, const char *name, struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf which = STRBUF_INIT;
	_cleanup_close_ int dfd = -1;
	int rc;

	if ((dfd = open_batches(c, err)) < 0)
		return dfd;
	if ((rc = batch_name(c, dfd, name, &which, err)) < 0)
		return rc;
	if (unlinkat(dfd, which.buf, 0) < 0)
		return strbuf_error(err, -errno, "cannot remove batch '%s': %s",
				    which.buf, strerror(errno));
	return 0;
}

void cache_batch_summary_release(struct cache_batch_summary *s)
{
	free(s->name);
	cJSON_Delete(s->reasons);
	memset(s, 0, sizeof(*s));
}

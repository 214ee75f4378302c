/*
 * The cache's side of execution units (DESIGN.md §13.4): lookup and apply
 * beneath a view's root fd (cache_lookup_at(), cache_entry_apply_at()),
 * records in copy mode, unit entries in ls/stats/gc/verify, outputs read
 * into memory.
 *
 * The "view" is a directory tree made under unit_tmpdir() and opened
 * O_PATH, with symlinks that point outside it (which must resolve inside
 * it); one test uses a real /proc/PID/root of a child in its own mount
 * namespace with a tmpfs only that namespace sees (skipped when the test
 * may not unshare). The timing test prints the mean lookup + apply time
 * of a unit with 50 preconditions and 3 small files as a "#" line.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache/cache.h"
#include "cache/materialize.h"
#include "common/cleanup.h"
#include "common/dirlist.h"
#include "common/fdio.h"
#include "common/hash.h"
#include "common/path.h"
#include "common/strbuf.h"

#include "tests/unit/unit.h"
#include "tests/unit/cache-test.h"

static char *read_text(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char buf[4096];
	ssize_t n;

	if (fd < 0)
		return NULL;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		strbuf_add(&sb, buf, (size_t)n);
	close(fd);
	return strbuf_detach(&sb, NULL);
}

/* A unit's key: the field "unit" first (DESIGN.md §13.3). */
static struct cache_key *unit_key(const char *argv0)
{
	struct cache_key *k = cache_key_new();

	cache_key_add_u64(k, "unit", 1);
	cache_key_add_str(k, "format", "procache-key-1");
	cache_key_add_u64(k, "argc", 1);
	cache_key_add_str(k, "argv", argv0);
	cache_key_add_str(k, "cwd", "/");
	return k;
}

/* The view: @root, a directory; view paths are joined to it. */
struct view {
	char *top;	/* the temporary directory holding root/ and outside/ */
	char *root;
	int fd;		/* O_PATH of root */
};

static char *vpath(const struct view *v, const char *p)
{
	return xasprintf("%s%s", v->root, p);
}

/* Make @vp in the view: a directory (@text NULL, @target NULL), a file
 * with @text, or a symlink to @target. */
static void view_add(const struct view *v, const char *vp, const char *text,
		     const char *target)
{
	char *p = vpath(v, vp);

	if (target) {
		if (symlink(target, p) < 0)
			die_errno("symlink '%s'", p);
	} else if (text) {
		write_file(p, text);
	} else if (mkdir(p, 0755) < 0) {
		die_errno("mkdir '%s'", p);
	}
	free(p);
}

/*
 * root/etc/passwd, root/dir/{a,b}, root/link -> /etc (absolute: inside the
 * view it is root/etc), root/up -> ../.. (climbs out on the host),
 * root/abs -> <top>/outside (an absolute host path), outside/secret.
 */
static void view_make(struct view *v)
{
	char *p, *out;

	v->top = xstrdup(unit_tmpdir());
	v->root = path_join(v->top, "root");
	out = path_join(v->top, "outside");
	if (mkdir(v->root, 0755) < 0 || mkdir(out, 0755) < 0)
		die_errno("mkdir");
	p = path_join(out, "secret");
	write_file(p, "host secret\n");
	free(p);
	p = path_join(out, "passwd");
	write_file(p, "host passwd\n");
	free(p);
	view_add(v, "/etc", NULL, NULL);
	view_add(v, "/etc/passwd", "view passwd\n", NULL);
	view_add(v, "/dir", NULL, NULL);
	view_add(v, "/dir/a", "a\n", NULL);
	view_add(v, "/dir/b", "b\n", NULL);
	view_add(v, "/link", NULL, "/etc");
	view_add(v, "/up", NULL, "../..");
	view_add(v, "/abs", NULL, out);
	free(out);
	v->fd = open(v->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (v->fd < 0)
		die_errno("open root");
}

static void view_release(struct view *v)
{
	close(v->fd);
	free(v->root);
	free(v->top);
}

/* A content precondition on view path @vp with the bytes of host @file. */
static void add_content_of(struct cache_record *r, const char *vp,
			   const char *file)
{
	struct pc_hash h;
	struct stat st;

	if (lstat(file, &st) < 0 || pc_hash_file_at(AT_FDCWD, file, &h, NULL) < 0)
		die_errno("hash '%s'", file);
	cache_record_add_content(r, vp, &h, st.st_mode);
}

static void add_content(struct cache_record *r, const struct view *v,
			const char *vp)
{
	char *p = vpath(v, vp);

	add_content_of(r, vp, p);
	free(p);
}

static char *store(struct cache *c, struct cache_record *r)
{
	struct strbuf err = STRBUF_INIT;
	struct cache_entry *e = NULL;
	char *id;

	cache_record_set_exit(r, 0, 0);
	if (cache_store(c, r, &e, &err) < 0)
		die("store: %s", err.buf);
	id = xstrdup(cache_entry_id(e));
	cache_entry_free(e);
	strbuf_release(&err);
	return id;
}

/* 1 hit (with the entry's id in *@id when not NULL), 0 miss, or -errno. */
static int lookup_at(struct cache *c, int root_fd, struct cache_key *k,
		     char **id)
{
	struct strbuf err = STRBUF_INIT;
	struct cache_entry *e = NULL;
	int r = cache_lookup_at(c, root_fd, k, 0, &e, NULL, &err);

	if (r == 1 && id)
		*id = xstrdup(cache_entry_id(e));
	cache_entry_free(e);
	strbuf_release(&err);
	return r;
}

static int lookup_host(struct cache *c, struct cache_key *k)
{
	struct strbuf err = STRBUF_INIT;
	struct cache_entry *e = NULL;
	int r = cache_lookup(c, k, 0, &e, NULL, &err);

	cache_entry_free(e);
	strbuf_release(&err);
	return r;
}

/* Every kind of precondition, with paths through the view's symlinks. */
TEST(test_view_preconditions_hold)
{
	struct cache *c = open_tmp_cache();
	struct view v;
	struct cache_key *k = unit_key("every-kind");
	struct cache_record *r;
	struct pc_hash h;
	struct stat st;
	char *p, *id = NULL;

	view_make(&v);
	r = cache_record_new(k);
	add_content(r, &v, "/etc/passwd");
	/* /link -> /etc is the view's /etc, not the host's */
	p = vpath(&v, "/etc/passwd");
	add_content_of(r, "/link/passwd", p);
	free(p);
	cache_record_add_symlink(r, "/link", "/etc");
	cache_record_add_absent(r, "/nothere");
	cache_record_add_absent(r, "/link/nothere");
	/* ".." at the view's root stays there: outside/secret is not seen */
	cache_record_add_absent(r, "/up/outside/secret");
	/* an absolute host path inside the view is a view path */
	cache_record_add_absent(r, "/abs/secret");
	p = vpath(&v, "/dir");
	CHECK(dirlist_hash_at(AT_FDCWD, p, &h, NULL) == 0);
	cache_record_add_listing(r, "/dir", &h);
	CHECK(lstat(p, &st) == 0);
	cache_record_add_stat(r, "/dir", &st, 0);
	free(p);
	p = vpath(&v, "/etc/passwd");
	CHECK(lstat(p, &st) == 0);
	cache_record_add_stat(r, "/etc/passwd", &st, CACHE_STAT_STRICT);
	free(p);
	CHECK(lstat(v.root, &st) == 0);
	cache_record_add_stat(r, "/", &st, 0);
	free(store(c, r));
	cache_record_free(r);

	CHECK_EQ_INT(lookup_at(c, v.fd, k, &id), 1);
	free(id);
	/* on the host the same paths are other files: a miss */
	CHECK_EQ_INT(lookup_host(c, k), 0);

	/* a listing changes */
	p = vpath(&v, "/dir/c");
	write_file(p, "c\n");
	free(p);
	CHECK_EQ_INT(lookup_at(c, v.fd, k, NULL), 0);
	p = vpath(&v, "/dir/c");
	unlink(p);
	free(p);
	CHECK_EQ_INT(lookup_at(c, v.fd, k, NULL), 1);
	/* an absent path appears */
	p = vpath(&v, "/etc/nothere");
	write_file(p, "x\n");
	free(p);
	CHECK_EQ_INT(lookup_at(c, v.fd, k, NULL), 0);
	p = vpath(&v, "/etc/nothere");
	unlink(p);
	free(p);
	CHECK_EQ_INT(lookup_at(c, v.fd, k, NULL), 1);
	/* the symlink's target changes */
	p = vpath(&v, "/link");
	unlink(p);
	CHECK(symlink("etc", p) == 0);
	CHECK_EQ_INT(lookup_at(c, v.fd, k, NULL), 0);
	unlink(p);
	CHECK(symlink("/etc", p) == 0);
	free(p);
	CHECK_EQ_INT(lookup_at(c, v.fd, k, NULL), 1);
	/* a bad fd */
	CHECK_EQ_INT(lookup_at(c, -1, k, NULL), -EBADF);
	/* a name below a file is no absence: ENOTDIR, not ENOENT (the tracer
	 * records the file's stat instead, trace-resolve.c step_not_dir()) */
	{
		struct cache_key *k2 = unit_key("notdir");

		r = cache_record_new(k2);
		cache_record_add_absent(r, "/etc/passwd/under-a-file");
		free(store(c, r));
		cache_record_free(r);
		CHECK_EQ_INT(lookup_at(c, v.fd, k2, NULL), 0);
		cache_key_free(k2);
	}

	cache_key_free(k);
	view_release(&v);
	cache_close(c);
}

/* Preconditions on host files reached through symlinks out of the view
 * never hold: the paths resolve inside it. */
TEST(test_symlinks_do_not_leave_the_view)
{
	struct cache *c = open_tmp_cache();
	struct view v;
	struct cache_key *k1 = unit_key("up"), *k2 = unit_key("abs");
	struct cache_record *r;
	char *secret;

	view_make(&v);
	secret = path_join(v.top, "outside/secret");
	/* root/up -> ../.. would reach <top>/outside/secret on the host */
	r = cache_record_new(k1);
	add_content_of(r, "/up/outside/secret", secret);
	free(store(c, r));
	cache_record_free(r);
	r = cache_record_new(k2);
	add_content_of(r, "/abs/secret", secret);
	free(store(c, r));
	cache_record_free(r);
	CHECK_EQ_INT(lookup_at(c, v.fd, k1, NULL), 0);
	CHECK_EQ_INT(lookup_at(c, v.fd, k2, NULL), 0);
	/* the view's own outside/secret is what /up/outside/secret names */
	{
		char *p = vpath(&v, "/outside");

		CHECK(mkdir(p, 0755) == 0);
		free(p);
		p = vpath(&v, "/outside/secret");
		write_file(p, "host secret\n");
		free(p);
	}
	CHECK_EQ_INT(lookup_at(c, v.fd, k1, NULL), 1);

	free(secret);
	cache_key_free(k1);
	cache_key_free(k2);
	view_release(&v);
	cache_close(c);
}

/* Content is hashed, not taken from a stat-keyed cache: a rewrite that
 * keeps size and times misses; a file replaced by a symlink to the same
 * bytes misses. */
TEST(test_content_is_hashed)
{
	struct cache *c = open_tmp_cache();
	struct view v;
	struct cache_key *k = unit_key("content");
	struct cache_record *r;
	struct timespec ts[2];
	struct stat st;
	char *p, *g, *g2;

	view_make(&v);
	p = vpath(&v, "/f");
	g = vpath(&v, "/g");
	g2 = vpath(&v, "/g2");
	write_file(p, "same size 1\n");
	write_file(g, "target\n");
	write_file(g2, "target\n");
	/* old enough for the stat cache's 2 s rule, were it used */
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - 3600;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	CHECK(utimensat(AT_FDCWD, p, ts, 0) == 0);
	r = cache_record_new(k);
	add_content(r, &v, "/f");
	add_content(r, &v, "/g");
	free(store(c, r));
	cache_record_free(r);
	CHECK_EQ_INT(lookup_at(c, v.fd, k, NULL), 1);
	CHECK_EQ_INT(lookup_at(c, v.fd, k, NULL), 1);

	write_file(p, "same size 2\n");
	CHECK(utimensat(AT_FDCWD, p, ts, 0) == 0);
	CHECK(lstat(p, &st) == 0 && st.st_size == 12);
	CHECK_EQ_INT(lookup_at(c, v.fd, k, NULL), 0);
	write_file(p, "same size 1\n");
	CHECK_EQ_INT(lookup_at(c, v.fd, k, NULL), 1);

	/* /g replaced by a symlink to a file of the same bytes */
	CHECK(unlink(g) == 0);
	CHECK(symlink("g2", g) == 0);
	CHECK_EQ_INT(lookup_at(c, v.fd, k, NULL), 0);

	free(p);
	free(g);
	free(g2);
	cache_key_free(k);
	view_release(&v);
	cache_close(c);
}

/* More directories than the lookup keeps open at once: still a hit. */
TEST(test_many_directories)
{
	struct cache *c = open_tmp_cache();
	struct view v;
	struct cache_key *k = unit_key("many-dirs");
	struct cache_record *r;
	int i;

	view_make(&v);
	r = cache_record_new(k);
	for (i = 0; i < 300; i++) {
		char vp[64], *p;

		snprintf(vp, sizeof(vp), "/d%03d", i);
		p = vpath(&v, vp);
		CHECK(mkdir(p, 0755) == 0);
		free(p);
		snprintf(vp, sizeof(vp), "/d%03d/f", i);
		p = vpath(&v, vp);
		write_file(p, vp);
		free(p);
		add_content(r, &v, vp);
		snprintf(vp, sizeof(vp), "/d%03d/none", i);
		cache_record_add_absent(r, vp);
	}
	free(store(c, r));
	cache_record_free(r);
	CHECK_EQ_INT(lookup_at(c, v.fd, k, NULL), 1);
	{
		char *p = vpath(&v, "/d299/f");

		write_file(p, "/d299/g");
		free(p);
	}
	CHECK_EQ_INT(lookup_at(c, v.fd, k, NULL), 0);

	cache_key_free(k);
	view_release(&v);
	cache_close(c);
}

/* A base-relative entry is never a unit's: lookup_at skips it. */
TEST(test_base_relative_refused)
{
	struct cache *c = open_tmp_cache();
	struct view v;
	struct cache_key *k = unit_key("based");
	struct cache_record *r;
	char *base;

	view_make(&v);
	/* the view's root doubles as the host's base directory */
	base = realpath(v.root, NULL);
	cache_set_base_dir(c, base);
	r = cache_record_new(k);
	{
		char *p = path_join(base, "etc/passwd");

		add_content_of(r, p, p);
		free(p);
	}
	cache_record_set_relocatable(r);
	free(store(c, r));
	cache_record_free(r);
	CHECK_EQ_INT(lookup_host(c, k), 1);
	CHECK_EQ_INT(lookup_at(c, v.fd, k, NULL), 0);

	free(base);
	cache_key_free(k);
	view_release(&v);
	cache_close(c);
}

/*
 * Copy mode: the captured files stay where they are, equal, and the blob
 * does not follow later writes to them. Then the entry applied beneath
 * the view: files land in it, nothing through a symlinked parent.
 */
TEST(test_copy_mode_and_apply_at)
{
	struct cache *c = open_tmp_cache();
	struct strbuf err = STRBUF_INIT;
	struct view v;
	struct cache_key *k = unit_key("writer");
	struct cache_record *r;
	struct cache_entry *e = NULL;
	struct mat_report rep;
	char *upper = path_join(unit_tmpdir(), "upper");
	char *src, *src2, *s, *p, *outside;
	struct stat st;
	int ret;

	view_make(&v);
	CHECK(mkdir(upper, 0755) == 0);
	src = path_join(upper, "a.txt");
	src2 = path_join(upper, "evil");
	write_file(src, "unit output\n");
	write_file(src2, "escaped\n");
	r = cache_record_new(k);
	cache_record_set_copy_files(r);
	add_content(r, &v, "/etc/passwd");
	cache_record_add_change(r, CHANGE_DIR, "/out", 0755, NULL, NULL);
	cache_record_add_change(r, CHANGE_FILE, "/out/a.txt", 0640, src, NULL);
	/* parents that are symlinks out of the view: refused */
	cache_record_add_change(r, CHANGE_FILE, "/abs/evil", 0644, src2, NULL);
	cache_record_add_change(r, CHANGE_FILE, "/up/outside/evil2", 0644, src2,
				NULL);
	cache_record_add_change(r, CHANGE_SYMLINK, "/sl", 0, NULL, "/etc/passwd");
	free(store(c, r));
	cache_record_free(r);

	/* the sources are still there, unchanged */
	s = read_text(src);
	CHECK(s && !strcmp(s, "unit output\n"));
	free(s);
	s = read_text(src2);
	CHECK(s && !strcmp(s, "escaped\n"));
	free(s);
	/* the job appends to its file: the blob must not follow */
	{
		int fd = open(src, O_WRONLY | O_APPEND | O_CLOEXEC);

		CHECK(fd >= 0 && write_full(fd, "more\n", 5) == 5);
		close(fd);
	}

	ret = cache_lookup_at(c, v.fd, k, 0, &e, NULL, &err);
	CHECK_EQ_INT(ret, 1);
	if (ret != 1)
		goto out;
	mat_report_init(&rep);
	ret = cache_entry_apply_at(c, e, v.fd, 0, &rep, &err);
	/* refused changes: not the unit's result, whatever else was applied */
	CHECK_EQ_INT(ret, -EPERM);
	CHECK(strstr(err.buf, "'/abs/evil'") != NULL);
	CHECK(strstr(err.buf, "symlink in the view") != NULL);
	CHECK_EQ_INT(rep.threads, 0);
	p = vpath(&v, "/out/a.txt");
	s = read_text(p);
	CHECK(s && !strcmp(s, "unit output\n"));
	free(s);
	CHECK(lstat(p, &st) == 0 && (st.st_mode & 07777) == 0640);
	free(p);
	p = vpath(&v, "/sl");
	{
		char buf[64] = "";

		CHECK(readlink(p, buf, sizeof(buf) - 1) == 11);
		CHECK_EQ_STR(buf, "/etc/passwd");
	}
	free(p);
	/* nothing outside the view */
	outside = path_join(v.top, "outside/evil");
	CHECK(access(outside, F_OK) < 0 && errno == ENOENT);
	free(outside);
	outside = path_join(v.top, "outside/evil2");
	CHECK(access(outside, F_OK) < 0 && errno == ENOENT);
	free(outside);
	for (size_t i = 0; i < rep.nr; i++) {
		struct cache_change_view cv;

		cache_entry_change(e, i, &cv);
		(void)cv;
	}
	CHECK_EQ_INT(rep.refused, 2);
	CHECK_EQ_INT(rep.applied, 3);
	mat_report_release(&rep);
	cache_entry_free(e);
out:
	free(src);
	free(src2);
	free(upper);
	strbuf_release(&err);
	cache_key_free(k);
	view_release(&v);
	cache_close(c);
}

/*
 * Copy mode reads the captured files while the job runs: a source named
 * <root><change path> whose directory the job swapped for a symlink (out
 * of the view: absolute, resolved by procache against the host's /)
 * must not be stored. As the tracer names them: /proc/self/fd/N<path>.
 */
TEST(test_copy_mode_source_through_a_symlink)
{
	struct cache *c = open_tmp_cache();
	struct strbuf err = STRBUF_INIT;
	struct view v;
	struct cache_key *k = unit_key("swapped");
	struct cache_record *r;
	struct cache_entry *e = NULL;
	char *src, *p;

	view_make(&v);
	/* the unit wrote /d/secret; /d is now a symlink to <top>/outside */
	p = vpath(&v, "/d");
	CHECK(symlink(v.top, p) == 0);
	free(p);
	src = xasprintf("/proc/self/fd/%d/d/outside/secret", v.fd);
	r = cache_record_new(k);
	cache_record_set_copy_files(r);
	cache_record_add_change(r, CHANGE_FILE, "/d/outside/secret", 0644, src, NULL);
	cache_record_set_exit(r, 0, 0);
	CHECK_EQ_INT(cache_store(c, r, &e, &err), -ELOOP);
	CHECK(e == NULL);
	cache_entry_free(e);
	cache_record_free(r);
	free(src);

	/* the same through a real directory is stored */
	strbuf_reset(&err);
	src = xasprintf("/proc/self/fd/%d/dir/a", v.fd);
	r = cache_record_new(k);
	cache_record_set_copy_files(r);
	cache_record_add_change(r, CHANGE_FILE, "/dir/a", 0644, src, NULL);
	cache_record_set_exit(r, 0, 0);
	e = NULL;
	CHECK_EQ_INT(cache_store(c, r, &e, &err), 0);
	cache_entry_free(e);
	cache_record_free(r);
	free(src);

	strbuf_release(&err);
	cache_key_free(k);
	view_release(&v);
	cache_close(c);
}

/* Outputs read into memory, verified, with a size limit. */
TEST(test_read_output)
{
	struct cache *c = open_tmp_cache();
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct cache_key *k = unit_key("printer");
	struct cache_record *r = cache_record_new(k);
	struct cache_entry *e = NULL;
	char *file = path_join(unit_tmpdir(), "stdout");

	write_file(file, "hello\nworld\n");
	cache_record_set_copy_files(r);
	cache_record_set_output(r, 1, file);
	cache_record_set_exit(r, 3, 0);
	CHECK(cache_store(c, r, &e, &err) == 0);
	CHECK(access(file, F_OK) == 0);
	strbuf_addstr(&out, ">");
	CHECK_EQ_INT(cache_entry_read_output(c, e, 1, 1024, &out, &err), 0);
	CHECK_EQ_STR(out.buf, ">hello\nworld\n");
	strbuf_reset(&out);
	CHECK_EQ_INT(cache_entry_read_output(c, e, 2, 1024, &out, &err), 0);
	CHECK_EQ_INT(out.len, 0);
	CHECK_EQ_INT(cache_entry_read_output(c, e, 1, 11, &out, &err), -EFBIG);
	CHECK_EQ_INT(out.len, 0);
	CHECK_EQ_INT(cache_entry_read_output(c, e, 3, 11, &out, &err), -EINVAL);
	/* a damaged blob: nothing appended */
	{
		struct strbuf rel = STRBUF_INIT;
		struct pc_hash h;
		uint64_t size;
		int fd;

		cache_entry_output(e, 1, &h, &size);
		cache_blob_relpath(&h, &rel);
		fd = openat(cache_blobs_dirfd(c), rel.buf, O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			fchmodat(cache_blobs_dirfd(c), rel.buf, 0644, 0);
			fd = openat(cache_blobs_dirfd(c), rel.buf, O_WRONLY | O_CLOEXEC);
		}
		CHECK(fd >= 0 && write_full(fd, "J", 1) == 1);
		close(fd);
		strbuf_release(&rel);
	}
	CHECK_EQ_INT(cache_entry_read_output(c, e, 1, 1024, &out, &err), -EBADMSG);
	CHECK_EQ_INT(out.len, 0);

	free(file);
	cache_entry_free(e);
	cache_record_free(r);
	cache_key_free(k);
	strbuf_release(&out);
	strbuf_release(&err);
	cache_close(c);
}

/* A unit's entry in ls, stats, verify, gc. */
TEST(test_unit_entries_in_maintenance)
{
	struct cache *c = open_tmp_cache();
	struct strbuf err = STRBUF_INIT;
	struct cache_key *k = unit_key("maint"), *job = cache_key_new();
	struct cache_record *r;
	struct cache_ls_item *items = NULL;
	struct cache_stats_summary sum;
	struct cache_verify_result vr;
	struct cache_gc_result gr;
	char *file = path_join(unit_tmpdir(), "f");
	size_t nr = 0;
	FILE *devnull = fopen("/dev/null", "w");

	write_file(file, "unit bytes\n");
	r = cache_record_new(k);
	cache_record_set_copy_files(r);
	cache_record_add_change(r, CHANGE_FILE, "/o", 0644, file, NULL);
	free(store(c, r));
	cache_record_free(r);
	cache_key_add_str(job, "format", "procache-key-1");
	cache_key_add_str(job, "argv", "job");
	r = cache_record_new(job);
	free(store(c, r));
	cache_record_free(r);

	CHECK(cache_ls(c, &items, &nr, &err) == 0);
	CHECK_EQ_INT(nr, 2);
	for (size_t i = 0; i < nr; i++)
		CHECK(items[i].unit == !strcmp(items[i].command, "maint"));
	cache_ls_free(items, nr);
	memset(&sum, 0, sizeof(sum));
	CHECK(cache_stats_get(c, &sum, &err) == 0);
	CHECK_EQ_INT(sum.entries, 2);
	CHECK(sum.blobs >= 2);
	cJSON_Delete(sum.uncacheable_reasons);
	memset(&vr, 0, sizeof(vr));
	CHECK(cache_verify(c, false, devnull, &vr, &err) == 0);
	CHECK_EQ_INT(vr.entries_ok, 2);
	CHECK_EQ_INT(vr.entries_bad, 0);
	CHECK_EQ_INT(vr.blobs_bad, 0);
	memset(&gr, 0, sizeof(gr));
	CHECK(cache_gc(c, 0, 0, &gr, &err) == 0);
	CHECK_EQ_INT(gr.entries_removed, 0);
	CHECK(cache_gc(c, 1, 0, &gr, &err) == 0);
	CHECK_EQ_INT(gr.entries_removed, 2);

	fclose(devnull);
	free(file);
	cache_key_free(k);
	cache_key_free(job);
	strbuf_release(&err);
	cache_close(c);
}

/*
 * A real /proc/PID/root: a child in its own mount namespace with a tmpfs
 * at <tmp>/ns that only it sees. The lookup through its root finds the
 * tmpfs's file; the host does not have it; an apply lands in the tmpfs.
 */
TEST(test_proc_root_of_a_mount_namespace)
{
	struct cache *c = open_tmp_cache();
	struct strbuf err = STRBUF_INIT;
	char *dir = path_join(unit_tmpdir(), "ns");
	char *f = path_join(dir, "f"), *o = path_join(dir, "o");
	char *src = path_join(unit_tmpdir(), "src");
	struct cache_key *k = unit_key("ns");
	struct cache_record *r;
	struct cache_entry *e = NULL;
	struct mat_report rep;
	int ready[2], hold[2], root = -1, status;
	char b, procroot[64];
	pid_t pid;

	CHECK(mkdir(dir, 0755) == 0);
	write_file(src, "into the namespace\n");
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(hold, O_CLOEXEC) < 0)
		die_errno("pipe");
	pid = fork();
	if (pid < 0)
		die_errno("fork");
	if (pid == 0) {
		close(ready[0]);
		close(hold[1]);
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("tmpfs", dir, "tmpfs", 0, "size=1m") < 0)
			_exit(2);
		write_file(f, "only in the namespace\n");
		if (write(ready[1], "r", 1) != 1)
			_exit(3);
		(void)!read(hold[0], &b, 1);
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	if (read(ready[0], &b, 1) != 1) {
		printf("# skipped: the child could not unshare or mount\n");
		close(hold[1]);
		waitpid(pid, &status, 0);
		goto out;
	}
	snprintf(procroot, sizeof(procroot), "/proc/%d/root", (int)pid);
	root = open(procroot, O_PATH | O_DIRECTORY | O_CLOEXEC);
	CHECK(root >= 0);
	CHECK(access(f, F_OK) < 0);	/* not on the host */

	r = cache_record_new(k);
	{
		struct pc_hash h;

		pc_hash_buffer("only in the namespace\n", 22, &h);
		cache_record_add_content(r, f, &h, S_IFREG | 0644);
	}
	cache_record_set_copy_files(r);
	cache_record_add_change(r, CHANGE_FILE, o, 0644, src, NULL);
	free(store(c, r));
	cache_record_free(r);
	CHECK_EQ_INT(lookup_host(c, k), 0);
	CHECK_EQ_INT(cache_lookup_at(c, root, k, 0, &e, NULL, &err), 1);
	if (e) {
		char *s;
		int fd;

		mat_report_init(&rep);
		CHECK_EQ_INT(cache_entry_apply_at(c, e, root, 0, &rep, &err), 0);
		mat_report_release(&rep);
		CHECK(access(o, F_OK) < 0);	/* not on the host */
		fd = openat(root, o + 1, O_RDONLY | O_CLOEXEC);
		CHECK(fd >= 0);
		if (fd >= 0) {
			char buf[64] = "";

			CHECK(read(fd, buf, sizeof(buf) - 1) == 19);
			CHECK_EQ_STR(buf, "into the namespace\n");
			close(fd);
		}
		s = read_text(src);
		CHECK(s && !strcmp(s, "into the namespace\n"));
		free(s);
	}
	close(hold[1]);
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0);
out:
	if (root >= 0)
		close(root);
	cache_entry_free(e);
	close(ready[0]);
	free(dir);
	free(f);
	free(o);
	free(src);
	cache_key_free(k);
	strbuf_release(&err);
	cache_close(c);
}

/*
 * A view whose /proc is its own PID namespace's (a real job's): the
 * supervisor, outside that namespace, finds nothing behind /proc/self or
 * /proc/thread-self, where the job finds its own /proc/PID. A directory
 * the entry saw as one (absent "status" in it), now a symlink to
 * /proc/self, must not pass for absent: the job would find its status.
 * A grandchild is init of a new PID namespace with its own mount
 * namespace and procfs at <tmp>/pv/proc (skipped when it cannot be made).
 */
TEST(test_absent_through_proc_self)
{
	struct cache *c = open_tmp_cache();
	char *top = path_join(unit_tmpdir(), "pv");
	char *procdir = path_join(top, "proc"), *d = path_join(top, "d");
	char *t = path_join(top, "t"), *plain = path_join(top, "plain");
	char *st_d = path_join(d, "status"), *st_t = path_join(t, "status");
	char *self = path_join(procdir, "self"), *tself = path_join(procdir, "thread-self");
	struct cache_key *k1 = unit_key("proc-self"), *k2 = unit_key("proc-thread-self");
	struct cache_key *k3 = unit_key("proc-dir");
	struct cache_record *r;
	int ready[2], hold[2], root = -1, status;
	char procroot[64];
	pid_t pid, init = 0;

	if (mkdir(top, 0755) < 0 || mkdir(procdir, 0755) < 0 || mkdir(d, 0755) < 0 ||
	    mkdir(t, 0755) < 0)
		die_errno("mkdir");
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(hold, O_CLOEXEC) < 0)
		die_errno("pipe");
	pid = fork();
	if (pid < 0)
		die_errno("fork");
	if (pid == 0) {
		int mounted[2];
		char b;

		close(ready[0]);
		close(hold[1]);
		if (unshare(CLONE_NEWNS | CLONE_NEWPID) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    pipe2(mounted, O_CLOEXEC) < 0)
			_exit(2);
		init = fork();
		if (init < 0)
			_exit(3);
		if (init == 0) {
			if (mount("proc", procdir, "proc", 0, NULL) < 0)
				_exit(4);
			if (write(mounted[1], "r", 1) != 1)
				_exit(5);
			(void)!read(hold[0], &b, 1);
			_exit(0);
		}
		close(mounted[1]);
		/* the grandchild's pid as the test sees it, once it mounted */
		if (read(mounted[0], &b, 1) != 1 ||
		    write(ready[1], &init, sizeof(init)) != sizeof(init) ||
		    write(ready[1], "r", 1) != 1)
			_exit(6);
		_exit(waitpid(init, &status, 0) == init && WIFEXITED(status) ?
		      WEXITSTATUS(status) : 7);
	}
	close(ready[1]);
	close(hold[0]);
	{
		char b = 0;

		if (read(ready[0], &init, sizeof(init)) != sizeof(init) ||
		    read(ready[0], &b, 1) != 1 || b != 'r') {
			printf("# skipped: no PID namespace with its own /proc here\n");
			goto out;
		}
	}
	snprintf(procroot, sizeof(procroot), "/proc/%d/root", (int)init);
	root = open(procroot, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (!CHECK(root >= 0))
		goto out;

	/* recorded: d/ and t/ were directories without a "status" */
	r = cache_record_new(k1);
	cache_record_add_absent(r, st_d);
	free(store(c, r));
	cache_record_free(r);
	r = cache_record_new(k2);
	cache_record_add_absent(r, st_t);
	free(store(c, r));
	cache_record_free(r);
	r = cache_record_new(k3);
	cache_record_add_absent(r, st_d);
	free(store(c, r));
	cache_record_free(r);
	CHECK_EQ_INT(lookup_at(c, root, k1, NULL), 1);
	CHECK_EQ_INT(lookup_at(c, root, k2, NULL), 1);

	/* now links into the view's /proc: the job would see its status */
	if (rmdir(d) < 0 || symlink(self, d) < 0 || rmdir(t) < 0 ||
	    symlink(tself, t) < 0)
		die_errno("symlink");
	CHECK_EQ_INT(lookup_at(c, root, k1, NULL), 0);
	CHECK_EQ_INT(lookup_at(c, root, k2, NULL), 0);
	/* a link to a plain directory: absent as before */
	unlink(d);
	if (mkdir(plain, 0755) < 0 || symlink("plain", d) < 0)
		die_errno("plain");
	CHECK_EQ_INT(lookup_at(c, root, k3, NULL), 1);
out:
	close(hold[1]);
	CHECK(waitpid(pid, &status, 0) == pid);
	if (root >= 0)
		close(root);
	close(ready[0]);
	free(top);
	free(procdir);
	free(d);
	free(t);
	free(plain);
	free(st_d);
	free(st_t);
	free(self);
	free(tself);
	cache_key_free(k1);
	cache_key_free(k2);
	cache_key_free(k3);
	cache_close(c);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * What the supervisor pays per skipped unit while a job process waits:
 * a lookup of 50 preconditions (45 content of small files, 5 absent) and
 * the apply of 3 small files. Printed, and checked against a loose bound
 * (a loaded CI machine must not fail it): under 20 ms.
 */
TEST(test_timing)
{
	struct cache *c = open_tmp_cache();
	struct strbuf err = STRBUF_INIT;
	struct view v;
	struct cache_key *k = unit_key("timed");
	struct cache_record *r;
	char *upper = path_join(unit_tmpdir(), "upper");
	double t, best = 1e9, sum = 0, sum_lookup = 0;
	int rounds = 200, i;

	view_make(&v);
	CHECK(mkdir(upper, 0755) == 0);
	r = cache_record_new(k);
	cache_record_set_copy_files(r);
	{
		char *p = vpath(&v, "/src");

		mkdir(p, 0755);
		free(p);
	}
	for (i = 0; i < 45; i++) {
		char vp[64], *p, text[64];

		snprintf(vp, sizeof(vp), "/src/in%02d.c", i);
		snprintf(text, sizeof(text), "int x%d = %d;\n", i, i);
		p = vpath(&v, vp);
		write_file(p, text);
		free(p);
		add_content(r, &v, vp);
	}
	for (i = 0; i < 5; i++) {
		char vp[64];

		snprintf(vp, sizeof(vp), "/src/none%d.h", i);
		cache_record_add_absent(r, vp);
	}
	for (i = 0; i < 3; i++) {
		char vp[64], name[64], *src;

		snprintf(name, sizeof(name), "out%d", i);
		src = path_join(upper, name);
		write_file(src, "an object file, small\n");
		snprintf(vp, sizeof(vp), "/src/out%d.o", i);
		cache_record_add_change(r, CHANGE_FILE, vp, 0644, src, NULL);
		free(src);
	}
	free(store(c, r));
	cache_record_free(r);

	for (i = 0; i < rounds; i++) {
		struct cache_entry *e = NULL;
		struct mat_report rep;
		double d;

		t = now_s();
		if (cache_lookup_at(c, v.fd, k, 0, &e, NULL, &err) != 1) {
			CHECK(!"a hit");
			break;
		}
		sum_lookup += now_s() - t;
		mat_report_init(&rep);
		CHECK(cache_entry_apply_at(c, e, v.fd, 0, &rep, &err) == 0);
		d = now_s() - t;
		mat_report_release(&rep);
		cache_entry_free(e);
		sum += d;
		if (d < best)
			best = d;
	}
	{
		const struct cache_lookup_times *tm = cache_lookup_times(c);

		printf("# lookup_at (50 preconditions) + apply_at (3 files): "
		       "mean %.0f us (lookup %.0f: read %.0f, check %.0f, "
		       "blobs %.0f), best %.0f us over %d rounds\n",
		       sum / rounds * 1e6, sum_lookup / rounds * 1e6,
		       tm->read_s / rounds * 1e6, tm->check_s / rounds * 1e6,
		       tm->blobs_s / rounds * 1e6, best * 1e6, rounds);
	}
	CHECK(best < 0.020);

	free(upper);
	strbuf_release(&err);
	cache_key_free(k);
	view_release(&v);
	cache_close(c);
}

int main(void)
{
	RUN(test_view_preconditions_hold);
	RUN(test_symlinks_do_not_leave_the_view);
	RUN(test_content_is_hashed);
	RUN(test_many_directories);
	RUN(test_base_relative_refused);
	RUN(test_copy_mode_and_apply_at);
	RUN(test_copy_mode_source_through_a_symlink);
	RUN(test_read_output);
	RUN(test_unit_entries_in_maintenance);
	RUN(test_proc_root_of_a_mount_namespace);
	RUN(test_absent_through_proc_self);
	RUN(test_timing);
	return unit_done();
}

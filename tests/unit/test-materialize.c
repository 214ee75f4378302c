/*
 * mat_apply(): real files in a temporary directory, real system calls.
 *
 * Layout of each test's directory (from unit_tmpdir(), made 0755 so that
 * a child running as uid 65534 can reach it):
 *	out/	the output root
 *	blobs/	sources of FILE changes (stands for the blob store)
 *	canary/	outside every root; must never change
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache/materialize.h"
#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/hash.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

#include "tests/unit/unit.h"

/* Strings made by the helpers, freed at exit (sanitizer builds). */
static char **pool;
static size_t pool_nr, pool_alloc;

static void pool_free(void)
{
	size_t i;

	for (i = 0; i < pool_nr; i++)
		free(pool[i]);
	free(pool);
}

static char *keep(char *s)
{
	if (!pool_alloc)
		atexit(pool_free);
	ALLOC_GROW(pool, pool_nr + 1, pool_alloc);
	pool[pool_nr++] = s;
	return s;
}

struct fx {
	const char *base, *out, *blobs, *canary;
	int blobs_fd;
	unsigned nblob;
};

static void fx_init(struct fx *f)
{
	f->base = unit_tmpdir();
	if (chmod(f->base, 0755) < 0)
		die_errno("chmod '%s'", f->base);
	f->out = keep(xasprintf("%s/out", f->base));
	f->blobs = keep(xasprintf("%s/blobs", f->base));
	f->canary = keep(xasprintf("%s/canary", f->base));
	if (mkdir(f->out, 0755) < 0 || mkdir(f->blobs, 0755) < 0 ||
	    mkdir(f->canary, 0755) < 0)
		die_errno("mkdir in '%s'", f->base);
	f->blobs_fd = open(f->blobs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (f->blobs_fd < 0)
		die_errno("open '%s'", f->blobs);
	f->nblob = 0;
}

static void fx_release(struct fx *f)
{
	close(f->blobs_fd);
}

/* "out/x" -> "<base>/out/x"; an absolute path is kept. */
static const char *P(const struct fx *f, const char *rel)
{
	if (rel[0] == '/')
		return rel;
	return keep(xasprintf("%s/%s", f->base, rel));
}

static void put(const char *path, const char *content, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0 || write_full(fd, content, strlen(content)) < 0)
		die_errno("cannot write '%s'", path);
	close(fd);
	if (chmod(path, mode) < 0)
		die_errno("chmod '%s'", path);
}

/* Content of @path, or NULL if it cannot be read. */
static char *slurp(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return NULL;
	if (strbuf_read_fd(&sb, fd, 0) < 0) {
		close(fd);
		strbuf_release(&sb);
		return NULL;
	}
	close(fd);
	return keep(strbuf_detach(&sb, NULL));
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return (mode_t)-1;
	return st.st_mode;
}

static bool absent(const char *path)
{
	struct stat st;

	return lstat(path, &st) < 0 && errno == ENOENT;
}

static struct mat_change c_file(struct fx *f, const char *rel,
				const char *content, mode_t mode, bool hash)
{
	char *name = keep(xasprintf("blob%u", f->nblob++));
	struct mat_change c = {
		.kind = CHANGE_FILE,
		.path = P(f, rel),
		.mode = mode,
		.src_dirfd = f->blobs_fd,
		.src_path = name,
		.size = (off_t)strlen(content),
		.has_hash = hash,
	};

	put(keep(xasprintf("%s/%s", f->blobs, name)), content, 0644);
	if (hash)
		pc_hash_buffer(content, strlen(content), &c.hash);
	return c;
}

static struct mat_change c_kind(struct fx *f, enum change_kind kind,
				const char *rel, mode_t mode)
{
	struct mat_change c = { .kind = kind, .path = P(f, rel), .mode = mode };

	return c;
}

static struct mat_change c_link(struct fx *f, const char *rel,
				const char *target)
{
	struct mat_change c = { .kind = CHANGE_SYMLINK, .path = P(f, rel),
				.target = target };

	return c;
}

/* Apply @ch beneath the fixture's out/; returns mat_apply()'s result. */
static int apply(struct fx *f, struct mat_change *ch, size_t nr,
		 struct mat_report *rep, struct strbuf *err, unsigned flags)
{
	const char *roots[] = { f->out, NULL };

	strbuf_reset(err);
	return mat_apply(ch, nr, roots, flags, rep, err);
}

/* A listing of the tree at @dir: type, mode, size, mtime, content. */
static struct strbuf snap_buf = STRBUF_INIT;
static size_t snap_base_len;
static bool snap_no_mtime; /* leave mtimes out (two trees made apart) */

static int snap_one(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)flag;
	(void)ftw;
	strbuf_addf(&snap_buf, "%s %o %lld ", path + snap_base_len,
		    (unsigned)st->st_mode, (long long)st->st_size);
	if (!snap_no_mtime)
		strbuf_addf(&snap_buf, "%lld.%09ld ",
			    (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
	if (S_ISLNK(st->st_mode)) {
		char t[PATH_MAX];
		ssize_t n = readlink(path, t, sizeof(t) - 1);

		strbuf_add(&snap_buf, t, n > 0 ? (size_t)n : 0);
	} else if (S_ISREG(st->st_mode)) {
		struct pc_hash h;
		char hex[PC_HASH_HEX_LEN + 1];

		if (pc_hash_file_at(AT_FDCWD, path, &h, NULL) == 0) {
			pc_hash_to_hex(&h, hex);
			strbuf_addstr(&snap_buf, hex);
		}
	}
	strbuf_addch(&snap_buf, '\n');
	return 0;
}

static char *snapshot(const char *dir)
{
	strbuf_reset(&snap_buf);
	snap_base_len = strlen(dir);
	if (nftw(dir, snap_one, 16, FTW_PHYS) < 0)
		die_errno("nftw '%s'", dir);
	return keep(strbuf_detach(&snap_buf, NULL));
}

/* A canary tree outside the root: a file, a subdir, a file in it. */
static char *canary_setup(struct fx *f)
{
	struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };

	put(P(f, "canary/passwd"), "root:x:0:0\n", 0644);
	if (mkdir(P(f, "canary/sub"), 0755) < 0)
		die_errno("mkdir");
	put(P(f, "canary/sub/x"), "keep me\n", 0600);
	utimensat(AT_FDCWD, P(f, "canary/passwd"), old, AT_SYMLINK_NOFOLLOW);
	return snapshot(f->canary);
}

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The snapshot of @dir without mtimes, its lines sorted. */
static char *snapshot_sorted(const char *dir)
{
	char *all, *line, **lines = NULL, *save = NULL;
	size_t nr = 0, alloc = 0, i;
	struct strbuf out = STRBUF_INIT;

	snap_no_mtime = true;
	all = snapshot(dir);
	snap_no_mtime = false;
	for (line = strtok_r(all, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		ALLOC_GROW(lines, nr + 1, alloc);
		lines[nr++] = line;
	}
	qsort(lines, nr, sizeof(*lines), cmp_lines);
	for (i = 0; i < nr; i++)
		strbuf_addf(&out, "%s\n", lines[i]);
	free(lines);
	return keep(strbuf_detach(&out, NULL));
}

static bool no_tmp_files(const char *dir)
{
	return !strstr(snapshot(dir), ".procache-tmp");
}

TEST(test_create_nested)
{
	struct fx f;
	struct mat_report rep;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	/* Given children first: mat_apply() orders parents first. */
	struct mat_change ch[] = {
		{ 0 },
		{ 0 },
		{ 0 },
		{ 0 },
	};

	fx_init(&f);
	mat_report_init(&rep);
	ch[0] = c_file(&f, "out/a/b/c.txt", "hello\n", 0640, true);
	ch[1] = c_kind(&f, CHANGE_DIR, "out/a/b", 0750);
	ch[2] = c_kind(&f, CHANGE_DIR, "out/a", 0755);
	ch[3] = c_file(&f, "out/top", "", 0600, false);
	CHECK_EQ_INT(apply(&f, ch, ARRAY_SIZE(ch), &rep, &err, 0), 0);
	CHECK_EQ_STR(err.buf, "");
	CHECK_EQ_STR(slurp(P(&f, "out/a/b/c.txt")), "hello\n");
	CHECK_EQ_INT(mode_of(P(&f, "out/a/b/c.txt")), S_IFREG | 0640);
	CHECK_EQ_INT(mode_of(P(&f, "out/a/b")), S_IFDIR | 0750);
	CHECK_EQ_INT(mode_of(P(&f, "out/a")), S_IFDIR | 0755);
	CHECK_EQ_STR(slurp(P(&f, "out/top")), "");
	CHECK_EQ_INT(mode_of(P(&f, "out/top")), S_IFREG | 0600);
	CHECK_EQ_INT(rep.nr, 4);
	CHECK_EQ_INT(rep.applied, 4);
	CHECK_EQ_INT(rep.files_written, 2);
	CHECK_EQ_INT(rep.bytes_written, 6);
	CHECK_EQ_INT(mat_report_outcome(&rep, 0), MAT_APPLIED);
	CHECK(mat_report_reason(&rep, 0) == NULL);
	CHECK(no_tmp_files(f.out));
	mat_report_release(&rep);
	fx_release(&f);
}

TEST(test_overwrite_and_unchanged)
{
	struct fx f;
	struct mat_report rep;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct timespec old[2] = { { 1500000000, 0 }, { 1500000000, 0 } };
	struct mat_change ch[5];
	struct stat before_same, before_nohash, before_mode, after;

	fx_init(&f);
	mat_report_init(&rep);
	put(P(&f, "out/changed"), "old content\n", 0644);
	put(P(&f, "out/same"), "same bytes\n", 0644);
	put(P(&f, "out/same-nohash"), "same again\n", 0644);
	put(P(&f, "out/same-othermode"), "same mode?\n", 0644);
	put(P(&f, "out/samesize"), "abc\n", 0644);
	utimensat(AT_FDCWD, P(&f, "out/same"), old, 0);
	utimensat(AT_FDCWD, P(&f, "out/same-nohash"), old, 0);
	utimensat(AT_FDCWD, P(&f, "out/same-othermode"), old, 0);
	stat(P(&f, "out/same"), &before_same);
	stat(P(&f, "out/same-nohash"), &before_nohash);
	stat(P(&f, "out/same-othermode"), &before_mode);

	ch[0] = c_file(&f, "out/changed", "new content, longer\n", 0644, true);
	ch[1] = c_file(&f, "out/same", "same bytes\n", 0644, true);
	ch[2] = c_file(&f, "out/same-nohash", "same again\n", 0644, false);
	ch[3] = c_file(&f, "out/same-othermode", "same mode?\n", 0600, true);
	ch[4] = c_file(&f, "out/samesize", "xyz\n", 0644, true);
	CHECK_EQ_INT(apply(&f, ch, 5, &rep, &err, 0), 0);
	CHECK_EQ_STR(slurp(P(&f, "out/changed")), "new content, longer\n");
	CHECK_EQ_STR(slurp(P(&f, "out/samesize")), "xyz\n");
	CHECK_EQ_INT(mat_report_outcome(&rep, 0), MAT_APPLIED);
	CHECK_EQ_INT(mat_report_outcome(&rep, 1), MAT_UNCHANGED);
	CHECK_EQ_STR(mat_report_reason(&rep, 1), "identical on the host");
	CHECK_EQ_INT(mat_report_outcome(&rep, 2), MAT_UNCHANGED);
	CHECK_EQ_INT(mat_report_outcome(&rep, 3), MAT_APPLIED);
	CHECK_EQ_INT(mat_report_outcome(&rep, 4), MAT_APPLIED);

	/* Left untouched: same inode, same mtime. */
	stat(P(&f, "out/same"), &after);
	CHECK_EQ_INT(after.st_ino, before_same.st_ino);
	CHECK_EQ_INT(after.st_mtim.tv_sec, 1500000000);
	stat(P(&f, "out/same-nohash"), &after);
	CHECK_EQ_INT(after.st_ino, before_nohash.st_ino);
	CHECK_EQ_INT(after.st_mtim.tv_sec, 1500000000);
	/* Same bytes, other mode: only the mode changes, mtime kept. */
	stat(P(&f, "out/same-othermode"), &after);
	CHECK_EQ_INT(after.st_ino, before_mode.st_ino);
	CHECK_EQ_INT(after.st_mtim.tv_sec, 1500000000);
	CHECK_EQ_INT(after.st_mode, S_IFREG | 0600);
	CHECK_EQ_INT(rep.unchanged, 2);
	CHECK_EQ_INT(rep.applied, 3);
	CHECK_EQ_INT(rep.files_written, 2);

	/* Applying the same diff again changes nothing at all. */
	{
		char *before = snapshot(f.out);

		CHECK_EQ_INT(apply(&f, ch, 5, &rep, &err, 0), 0);
		CHECK_EQ_INT(rep.unchanged, 5);
		CHECK_EQ_INT(rep.files_written, 0);
		CHECK_EQ_STR(snapshot(f.out), before);
	}
	mat_report_release(&rep);
	fx_release(&f);
}

/* @path's attribute @name as a string, or "-" when it has none. */
static const char *xget(const char *path, const char *name)
{
	char v[256];
	ssize_t n = lgetxattr(path, name, v, sizeof(v) - 1);

	if (n < 0)
		return "-";
	v[n] = '\0';
	return keep(xstrdup(v));
}

/*
 * Extended attributes (DESIGN.md §7): the restorable ones are made exactly
 * the change's, the others left alone; NULL leaves them all alone.
 */
TEST(test_xattrs)
{
	struct fx f;
	struct mat_report rep;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct xattr_set want_keep = XATTR_SET_INIT, want_new = XATTR_SET_INIT,
			 want_dir = XATTR_SET_INIT, want_m = XATTR_SET_INIT;
	/* a POSIX ACL, kernel format: user::rw- user:65534:r-- group::r--
	 * mask::r-- other::r-- */
	static const unsigned char acl[] = {
		2, 0, 0, 0,
		0x01, 0, 6, 0, 0xff, 0xff, 0xff, 0xff,
		0x02, 0, 4, 0, 0xfe, 0xff, 0, 0,
		0x04, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,
		0x10, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,
		0x20, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,
	};
	struct mat_change ch[5];
	struct stat before, after;
	char got[64];

	fx_init(&f);
	mat_report_init(&rep);
	put(P(&f, "out/keep"), "same\n", 0644);
	CHECK(!lsetxattr(P(&f, "out/keep"), "user.a", "1", 1, 0));
	CHECK(!lsetxattr(P(&f, "out/keep"), "user.old", "x", 1, 0));
	/* not restorable: left alone even when not in the change */
	CHECK(!lsetxattr(P(&f, "out/keep"), "trusted.other", "t", 1, 0));
	stat(P(&f, "out/keep"), &before);
	CHECK(!mkdir(P(&f, "out/m"), 0755));
	CHECK(!mkdir(P(&f, "out/alone"), 0755));
	CHECK(!lsetxattr(P(&f, "out/alone"), "user.x", "1", 1, 0));

	xattr_set_add(&want_keep, "user.a", "1", 1);
	xattr_set_add(&want_keep, "user.b", "2", 1);
	xattr_set_add(&want_new, "system.posix_acl_access", acl, sizeof(acl));
	xattr_set_add(&want_new, "trusted.never", "n", 1);
	xattr_set_add(&want_new, "user.n", "v", 1);
	xattr_set_add(&want_dir, "user.d", "", 0);
	xattr_set_add(&want_m, "user.m", "1", 1);
	ch[0] = c_file(&f, "out/keep", "same\n", 0644, true);
	ch[0].xattrs = &want_keep;
	ch[1] = c_file(&f, "out/new", "new\n", 0640, true);
	ch[1].xattrs = &want_new;
	ch[2] = c_kind(&f, CHANGE_DIR, "out/d", 0755);
	ch[2].xattrs = &want_dir;
	ch[3] = c_kind(&f, CHANGE_MODE, "out/m", 0755);
	ch[3].xattrs = &want_m;
	ch[4] = c_kind(&f, CHANGE_MODE, "out/alone", 0700);
	CHECK_EQ_INT(apply(&f, ch, 5, &rep, &err, MAT_SERIAL), 0);
	for (size_t i = 0; i < 5; i++)
		CHECK_EQ_INT(mat_report_outcome(&rep, i), MAT_APPLIED);
	/* same bytes and mode, other attributes: the same file, retagged */
	stat(P(&f, "out/keep"), &after);
	CHECK_EQ_INT(after.st_ino, before.st_ino);
	CHECK_EQ_STR(xget(P(&f, "out/keep"), "user.a"), "1");
	CHECK_EQ_STR(xget(P(&f, "out/keep"), "user.b"), "2");
	CHECK_EQ_STR(xget(P(&f, "out/keep"), "user.old"), "-");
	CHECK_EQ_STR(xget(P(&f, "out/keep"), "trusted.other"), "t");
	/* the ACL as recorded; its mask gives the group bits (r) */
	CHECK_EQ_INT(lgetxattr(P(&f, "out/new"), "system.posix_acl_access", got,
			       sizeof(got)), (ssize_t)sizeof(acl));
	CHECK(!memcmp(got, acl, sizeof(acl)));
	CHECK_EQ_INT(mode_of(P(&f, "out/new")), S_IFREG | 0644);
	CHECK_EQ_STR(xget(P(&f, "out/new"), "user.n"), "v");
	CHECK_EQ_STR(xget(P(&f, "out/new"), "trusted.never"), "-");
	CHECK_EQ_STR(xget(P(&f, "out/d"), "user.d"), "");
	CHECK_EQ_STR(xget(P(&f, "out/m"), "user.m"), "1");
	/* no xattrs in the change (NULL): the host's stay */
	CHECK_EQ_STR(xget(P(&f, "out/alone"), "user.x"), "1");
	CHECK_EQ_INT(mode_of(P(&f, "out/alone")), S_IFDIR | 0700);

	/* Again: nothing to do. */
	CHECK_EQ_INT(apply(&f, ch, 5, &rep, &err, MAT_SERIAL), 0);
	CHECK_EQ_INT(mat_report_outcome(&rep, 0), MAT_UNCHANGED);
	CHECK_EQ_INT(mat_report_outcome(&rep, 2), MAT_UNCHANGED);
	CHECK_EQ_INT(mat_report_outcome(&rep, 3), MAT_UNCHANGED);
	CHECK_EQ_INT(mat_report_outcome(&rep, 4), MAT_UNCHANGED);

	/* An attribute removed by hand since: restored. */
	CHECK(!lremovexattr(P(&f, "out/m"), "user.m"));
	CHECK_EQ_INT(apply(&f, ch, 5, &rep, &err, MAT_SERIAL), 0);
	CHECK_EQ_INT(mat_report_outcome(&rep, 3), MAT_APPLIED);
	CHECK_EQ_STR(xget(P(&f, "out/m"), "user.m"), "1");

	xattr_set_release(&want_keep);
	xattr_set_release(&want_new);
	xattr_set_release(&want_dir);
	xattr_set_release(&want_m);
	mat_report_release(&rep);
	fx_release(&f);
}

TEST(test_modes)
{
	struct fx f;
	struct mat_report rep;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct mat_change ch[6];

	fx_init(&f);
	mat_report_init(&rep);
	put(P(&f, "out/exists"), "x", 0644);
	if (mkdir(P(&f, "out/olddir"), 0700) < 0)
		die_errno("mkdir");
	ch[0] = c_file(&f, "out/suid", "#!/bin/sh\n", 04755, true);
	ch[1] = c_kind(&f, CHANGE_DIR, "out/sgid", 02775);
	ch[2] = c_kind(&f, CHANGE_DIR, "out/sticky", 01777);
	ch[3] = c_kind(&f, CHANGE_MODE, "out/exists", 06711);
	ch[4] = c_kind(&f, CHANGE_MODE, "out/olddir", 0755);
	ch[5] = c_file(&f, "out/ro", "read only\n", 0444, true);
	CHECK_EQ_INT(apply(&f, ch, 6, &rep, &err, 0), 0);
	CHECK_EQ_INT(mode_of(P(&f, "out/suid")), S_IFREG | 0755);
	CHECK_EQ_INT(mode_of(P(&f, "out/sgid")), S_IFDIR | 0775);
	CHECK_EQ_INT(mode_of(P(&f, "out/sticky")), S_IFDIR | 01777);
	CHECK_EQ_INT(mode_of(P(&f, "out/exists")), S_IFREG | 0711);
	CHECK_EQ_INT(mode_of(P(&f, "out/olddir")), S_IFDIR | 0755);
	CHECK_EQ_INT(mode_of(P(&f, "out/ro")), S_IFREG | 0444);
	CHECK_EQ_INT(rep.applied, 6);

	/* MODE of something absent fails, naming it. */
	ch[0] = c_kind(&f, CHANGE_MODE, "out/nothing", 0644);
	CHECK_EQ_INT(apply(&f, ch, 1, &rep, &err, 0), -ENOENT);
	CHECK(strstr(err.buf, "out/nothing'"));
	CHECK_EQ_INT(mat_report_outcome(&rep, 0), MAT_FAILED);

	/* Mode bits beyond 07777 are a caller bug: -EINVAL, nothing done. */
	ch[0] = c_kind(&f, CHANGE_MODE, "out/exists", S_IFREG | 0644);
	CHECK_EQ_INT(apply(&f, ch, 1, &rep, &err, 0), -EINVAL);
	CHECK_EQ_INT(mode_of(P(&f, "out/exists")), S_IFREG | 0711);
	mat_report_release(&rep);
	fx_release(&f);
}

TEST(test_symlinks)
{
	struct fx f;
	struct mat_report rep;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct mat_change ch[5];
	char t[PATH_MAX];
	ssize_t n;

	fx_init(&f);
	mat_report_init(&rep);
	char *canary = canary_setup(&f);

	put(P(&f, "out/wasfile"), "file", 0644);
	if (symlink("same-target", P(&f, "out/same")) < 0 ||
	    mkdir(P(&f, "out/wasdir"), 0755) < 0)
		die_errno("setup");
	put(P(&f, "out/wasdir/inner"), "inner", 0644);
	/* A symlink pointing outside is just data: created, never followed. */
	ch[0] = c_link(&f, "out/link", f.canary);
	ch[1] = c_link(&f, "out/wasfile", "target/of/wasfile");
	ch[2] = c_link(&f, "out/same", "same-target");
	ch[3] = c_link(&f, "out/wasdir", "../elsewhere");
	ch[4] = c_link(&f, "out/empty", "");
	CHECK_EQ_INT(apply(&f, ch, 5, &rep, &err, 0), 0);
	n = readlink(P(&f, "out/link"), t, sizeof(t));
	CHECK(n > 0 && (size_t)n == strlen(f.canary) &&
	      !memcmp(t, f.canary, (size_t)n));
	n = readlink(P(&f, "out/wasfile"), t, sizeof(t));
	CHECK(n == 17 && !memcmp(t, "target/of/wasfile", 17));
	n = readlink(P(&f, "out/wasdir"), t, sizeof(t));
	CHECK(n == 12 && !memcmp(t, "../elsewhere", 12));
	CHECK_EQ_INT(mat_report_outcome(&rep, 2), MAT_UNCHANGED);
	CHECK_EQ_INT(mat_report_outcome(&rep, 4), MAT_REFUSED);
	CHECK(absent(P(&f, "out/empty")));
	CHECK_EQ_STR(snapshot(f.canary), canary);
	mat_report_release(&rep);
	fx_release(&f);
}

TEST(test_deletions)
{
	struct fx f;
	struct mat_report rep;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct mat_change ch[4];

	fx_init(&f);
	mat_report_init(&rep);
	char *canary = canary_setup(&f);

	put(P(&f, "out/file"), "x", 0644);
	if (mkdir(P(&f, "out/tree"), 0755) < 0 ||
	    mkdir(P(&f, "out/tree/sub"), 0000) < 0 ||
	    symlink(f.canary, P(&f, "out/tree/escape")) < 0 ||
	    symlink(P(&f, "canary/passwd"), P(&f, "out/linkfile")) < 0)
		die_errno("setup");
	put(P(&f, "out/tree/a"), "a", 0644);
	ch[0] = c_kind(&f, CHANGE_DELETE, "out/file", 0);
	ch[1] = c_kind(&f, CHANGE_DELETE, "out/tree", 0);
	ch[2] = c_kind(&f, CHANGE_DELETE, "out/never-was", 0);
	/* Deleting a symlink removes the link, not its target. */
	ch[3] = c_kind(&f, CHANGE_DELETE, "out/linkfile", 0);
	CHECK_EQ_INT(apply(&f, ch, 4, &rep, &err, 0), 0);
	CHECK(absent(P(&f, "out/file")));
	CHECK(absent(P(&f, "out/tree")));
	CHECK(absent(P(&f, "out/linkfile")));
	CHECK_EQ_INT(mat_report_outcome(&rep, 2), MAT_UNCHANGED);
	CHECK_EQ_STR(mat_report_reason(&rep, 2), "already absent");
	CHECK_EQ_INT(rep.applied, 3);
	CHECK_EQ_STR(snapshot(f.canary), canary);
	mat_report_release(&rep);
	fx_release(&f);
}

TEST(test_dir_replaced)
{
	struct fx f;
	struct mat_report rep;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct mat_change ch[4];

	fx_init(&f);
	mat_report_init(&rep);
	if (mkdir(P(&f, "out/d"), 0755) < 0 ||
	    mkdir(P(&f, "out/d/deep"), 0755) < 0)
		die_errno("setup");
	put(P(&f, "out/d/old"), "old", 0644);
	put(P(&f, "out/d/deep/old2"), "old", 0644);
	put(P(&f, "out/f"), "a file where a dir will be", 0644);
	/* Children given before the replacement: still applied after it. */
	ch[0] = c_file(&f, "out/d/new", "new\n", 0644, true);
	ch[1] = c_kind(&f, CHANGE_DIR_REPLACED, "out/d", 0711);
	ch[2] = c_kind(&f, CHANGE_DIR_REPLACED, "out/f", 0755);
	ch[3] = c_kind(&f, CHANGE_DIR_REPLACED, "out/fresh", 0700);
	CHECK_EQ_INT(apply(&f, ch, 4, &rep, &err, 0), 0);
	CHECK_EQ_STR(err.buf, "");
	CHECK(absent(P(&f, "out/d/old")));
	CHECK(absent(P(&f, "out/d/deep")));
	CHECK_EQ_STR(slurp(P(&f, "out/d/new")), "new\n");
	CHECK_EQ_INT(mode_of(P(&f, "out/d")), S_IFDIR | 0711);
	CHECK_EQ_INT(mode_of(P(&f, "out/f")), S_IFDIR | 0755);
	CHECK_EQ_INT(mode_of(P(&f, "out/fresh")), S_IFDIR | 0700);
	CHECK_EQ_INT(rep.applied, 4);
	mat_report_release(&rep);
	fx_release(&f);
}

TEST(test_type_changes)
{
	struct fx f;
	struct mat_report rep;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct mat_change ch[4];

	fx_init(&f);
	mat_report_init(&rep);
	if (mkdir(P(&f, "out/dir2file"), 0755) < 0 ||
	    mkdir(P(&f, "out/dir2file/sub"), 0755) < 0)
		die_errno("setup");
	put(P(&f, "out/dir2file/sub/x"), "x", 0644);
	put(P(&f, "out/file2dir"), "x", 0644);
	if (symlink("/etc", P(&f, "out/link2file")) < 0 ||
	    symlink("/etc", P(&f, "out/link2dir")) < 0)
		die_errno("setup");
	ch[0] = c_file(&f, "out/dir2file", "now a file\n", 0644, true);
	ch[1] = c_kind(&f, CHANGE_DIR, "out/file2dir", 0755);
	ch[2] = c_file(&f, "out/link2file", "not /etc\n", 0600, true);
	ch[3] = c_kind(&f, CHANGE_DIR, "out/link2dir", 0755);
	CHECK_EQ_INT(apply(&f, ch, 4, &rep, &err, 0), 0);
	CHECK_EQ_STR(slurp(P(&f, "out/dir2file")), "now a file\n");
	CHECK_EQ_INT(mode_of(P(&f, "out/file2dir")), S_IFDIR | 0755);
	CHECK_EQ_STR(slurp(P(&f, "out/link2file")), "not /etc\n");
	CHECK_EQ_INT(mode_of(P(&f, "out/link2file")), S_IFREG | 0600);
	CHECK_EQ_INT(mode_of(P(&f, "out/link2dir")), S_IFDIR | 0755);
	CHECK_EQ_INT(rep.applied, 4);
	mat_report_release(&rep);
	fx_release(&f);
}

TEST(test_kept_outside_roots)
{
	struct fx f;
	struct mat_report rep;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct mat_change ch[4];

	fx_init(&f);
	mat_report_init(&rep);
	char *canary = canary_setup(&f);

	ch[0] = c_file(&f, "canary/new", "x", 0644, true);
	ch[1] = c_kind(&f, CHANGE_DELETE, "canary/passwd", 0);
	/* "out2" shares a prefix with "out" but is not beneath it. */
	ch[2] = c_kind(&f, CHANGE_DIR, "out2", 0755);
	ch[3] = c_file(&f, "out/in", "in", 0644, true);
	CHECK_EQ_INT(apply(&f, ch, 4, &rep, &err, 0), 0);
	CHECK_EQ_INT(mat_report_outcome(&rep, 0), MAT_KEPT);
	CHECK_EQ_INT(mat_report_outcome(&rep, 1), MAT_KEPT);
	CHECK_EQ_INT(mat_report_outcome(&rep, 2), MAT_KEPT);
	CHECK_EQ_STR(mat_report_reason(&rep, 2), "outside the output roots");
	CHECK_EQ_INT(mat_report_outcome(&rep, 3), MAT_APPLIED);
	CHECK_EQ_INT(rep.kept, 3);
	CHECK(absent(P(&f, "out2")));
	CHECK_EQ_STR(snapshot(f.canary), canary);

	/* Two roots: each change goes under its own. */
	{
		const char *roots[] = { f.out, f.canary, NULL };

		ch[0] = c_file(&f, "canary/new", "x", 0644, true);
		CHECK_EQ_INT(mat_apply(ch, 1, roots, 0, &rep, &err), 0);
		CHECK_EQ_STR(slurp(P(&f, "canary/new")), "x");
	}
	/* Nested roots: refused before anything is applied. */
	{
		const char *roots[] = { f.out, P(&f, "out/s/x"), NULL };

		ch[0] = c_file(&f, "out/s/x/evil", "x", 0644, true);
		CHECK_EQ_INT(mat_apply(ch, 1, roots, 0, &rep, &err), -EINVAL);
		CHECK(absent(P(&f, "out/s")));
	}
	mat_report_release(&rep);
	fx_release(&f);
}

TEST(test_refused_paths)
{
	struct fx f;
	struct mat_report rep;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct mat_change ch[7];
	size_t i;

	fx_init(&f);
	mat_report_init(&rep);
	char *canary = canary_setup(&f);
	char *out = snapshot(f.out);

	ch[0] = c_file(&f, "out/../canary/passwd", "pwned\n", 0644, true);
	ch[1] = c_file(&f, "out/a/../../canary/new", "pwned\n", 0644, true);
	ch[2] = c_kind(&f, CHANGE_DIR, "out/./x", 0755);
	ch[3] = c_kind(&f, CHANGE_DIR, "out//x", 0755);
	ch[4] = c_kind(&f, CHANGE_DIR, "out/x/", 0755);
	ch[5] = c_kind(&f, CHANGE_DELETE, "out/..", 0);
	ch[6] = c_file(&f, "out/x", "relative", 0644, true);
	ch[6].path = "out/x";
	CHECK_EQ_INT(apply(&f, ch, 7, &rep, &err, 0), 0);
	for (i = 0; i < 7; i++)
		CHECK_EQ_INT(mat_report_outcome(&rep, i), MAT_REFUSED);
	CHECK_EQ_STR(mat_report_reason(&rep, 0), "path has a '..' component");
	CHECK_EQ_STR(mat_report_reason(&rep, 2), "path has a '.' component");
	CHECK_EQ_STR(mat_report_reason(&rep, 3), "path has an empty component");
	CHECK_EQ_STR(mat_report_reason(&rep, 4), "path has an empty component");
	CHECK_EQ_STR(mat_report_reason(&rep, 6), "path is not absolute");
	CHECK_EQ_INT(rep.refused, 7);
	CHECK_EQ_STR(snapshot(f.canary), canary);
	CHECK_EQ_STR(snapshot(f.out), out);
	mat_report_release(&rep);
	fx_release(&f);
}

/* A diff that plants a symlink and then writes through it. */
TEST(test_symlink_in_diff_attack)
{
	struct fx f;
	struct mat_report rep;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct mat_change ch[6];
	size_t i;

	fx_init(&f);
	mat_report_init(&rep);
	char *canary = canary_setup(&f);

	ch[0] = c_link(&f, "out/link", f.canary);
	ch[1] = c_file(&f, "out/link/passwd", "pwned\n", 0644, true);
	ch[2] = c_kind(&f, CHANGE_DIR, "out/link/newdir", 0755);
	ch[3] = c_kind(&f, CHANGE_DELETE, "out/link/sub", 0);
	ch[4] = c_kind(&f, CHANGE_MODE, "out/link/sub/x", 0777);
	ch[5] = c_link(&f, "out/link/sub/x", "/nowhere");
	CHECK_EQ_INT(apply(&f, ch, 6, &rep, &err, 0), 0);
	CHECK_EQ_INT(mat_report_outcome(&rep, 0), MAT_APPLIED);
	for (i = 1; i < 6; i++) {
		CHECK_EQ_INT(mat_report_outcome(&rep, i), MAT_REFUSED);
		CHECK_EQ_STR(mat_report_reason(&rep, i),
			     "a parent directory is a symlink on the host");
	}
	CHECK_EQ_STR(snapshot(f.canary), canary);
	mat_report_release(&rep);
	fx_release(&f);
}

/* Symlinks the user left in the root are never followed either. */
TEST(test_host_symlink_in_root)
{
	struct fx f;
	struct mat_report rep;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct mat_change ch[6];
	size_t i;

	fx_init(&f);
	mat_report_init(&rep);
	char *canary = canary_setup(&f);

	if (symlink(f.canary, P(&f, "out/hostlink")) < 0 ||
	    mkdir(P(&f, "out/d"), 0755) < 0 ||
	    symlink("../../canary", P(&f, "out/d/rel")) < 0 ||
	    symlink(P(&f, "canary/passwd"), P(&f, "out/pw")) < 0)
		die_errno("setup");
	ch[0] = c_file(&f, "out/hostlink/passwd", "pwned\n", 0644, true);
	ch[1] = c_kind(&f, CHANGE_DELETE, "out/hostlink/sub/x", 0);
	ch[2] = c_kind(&f, CHANGE_DIR_REPLACED, "out/d/rel/sub", 0755);
	ch[3] = c_file(&f, "out/d/rel/sub/y", "pwned\n", 0644, true);
	ch[4] = c_kind(&f, CHANGE_MODE, "out/hostlink/passwd", 0777);
	/* The last component a symlink: MODE refused, never followed. */
	ch[5] = c_kind(&f, CHANGE_MODE, "out/pw", 0777);
	CHECK_EQ_INT(apply(&f, ch, 6, &rep, &err, 0), 0);
	CHECK_EQ_STR(err.buf, "");
	for (i = 0; i < 5; i++)
		CHECK_EQ_INT(mat_report_outcome(&rep, i), MAT_REFUSED);
	CHECK_EQ_INT(mat_report_outcome(&rep, 5), MAT_REFUSED);
	CHECK_EQ_STR(mat_report_reason(&rep, 5), "is a symlink on the host");
	CHECK_EQ_INT(mode_of(P(&f, "out/pw")), S_IFLNK | 0777);
	CHECK_EQ_STR(snapshot(f.canary), canary);

	/* A FILE over a symlink replaces the link, not its target. */
	ch[0] = c_file(&f, "out/d/rel", "replaced the link\n", 0644, true);
	ch[1] = c_file(&f, "out/pw", "replaced too\n", 0600, false);
	CHECK_EQ_INT(apply(&f, ch, 2, &rep, &err, 0), 0);
	CHECK_EQ_INT(rep.applied, 2);
	CHECK_EQ_INT(mode_of(P(&f, "out/d/rel")), S_IFREG | 0644);
	CHECK_EQ_STR(slurp(P(&f, "out/pw")), "replaced too\n");
	CHECK_EQ_STR(snapshot(f.canary), canary);
	mat_report_release(&rep);
	fx_release(&f);
}

TEST(test_at_root)
{
	struct fx f;
	struct mat_report rep;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct mat_change ch[4];

	fx_init(&f);
	mat_report_init(&rep);
	put(P(&f, "out/keep"), "k", 0644);
	ch[0] = c_kind(&f, CHANGE_MODE, "out", 0700);
	ch[1] = c_kind(&f, CHANGE_DELETE, "out", 0);
	ch[2] = c_kind(&f, CHANGE_DIR_REPLACED, "out", 0755);
	ch[3] = c_link(&f, "out", "/etc");
	CHECK_EQ_INT(apply(&f, ch, 4, &rep, &err, 0), 0);
	CHECK_EQ_INT(mat_report_outcome(&rep, 0), MAT_APPLIED);
	CHECK_EQ_INT(mode_of(f.out), S_IFDIR | 0700);
	CHECK_EQ_INT(mat_report_outcome(&rep, 1), MAT_REFUSED);
	CHECK_EQ_INT(mat_report_outcome(&rep, 2), MAT_REFUSED);
	CHECK_EQ_INT(mat_report_outcome(&rep, 3), MAT_REFUSED);
	CHECK_EQ_STR(slurp(P(&f, "out/keep")), "k");

	/* A root that does not exist yet: a DIR change at it makes it. */
	{
		const char *roots[] = { P(&f, "newroot"), NULL };

		ch[0] = c_file(&f, "newroot/sub/f", "f\n", 0644, true);
		ch[1] = c_kind(&f, CHANGE_DIR, "newroot/sub", 0755);
		ch[2] = c_kind(&f, CHANGE_DIR, "newroot", 0751);
		CHECK_EQ_INT(mat_apply(ch, 3, roots, 0, &rep, &err), 0);
		CHECK_EQ_STR(err.buf, "");
		CHECK_EQ_INT(mode_of(P(&f, "newroot")), S_IFDIR | 0751);
		CHECK_EQ_STR(slurp(P(&f, "newroot/sub/f")), "f\n");
		CHECK_EQ_INT(rep.applied, 3);

		/* ... and its missing parents, which lie outside the root. */
		roots[0] = P(&f, "deep/er/root");
		ch[0] = c_kind(&f, CHANGE_DIR, "deep", 0700);
		ch[1] = c_kind(&f, CHANGE_DIR, "deep/er/root", 0755);
		ch[2] = c_file(&f, "deep/er/root/f", "f\n", 0644, true);
		CHECK_EQ_INT(mat_apply(ch, 3, roots, 0, &rep, &err), 0);
		CHECK_EQ_INT(mat_report_outcome(&rep, 0), MAT_KEPT);
		CHECK_EQ_INT(mode_of(P(&f, "deep/er/root")), S_IFDIR | 0755);
		CHECK_EQ_STR(slurp(P(&f, "deep/er/root/f")), "f\n");
	}
	/* A root that is a file (--output result.txt). */
	{
		const char *roots[] = { P(&f, "result.txt"), NULL };

		ch[0] = c_file(&f, "result.txt", "result\n", 0644, true);
		CHECK_EQ_INT(mat_apply(ch, 1, roots, 0, &rep, &err), 0);
		CHECK_EQ_STR(slurp(P(&f, "result.txt")), "result\n");
		/* ... but a file never replaces a root directory. */
		roots[0] = f.out;
		ch[0] = c_file(&f, "out", "x", 0644, true);
		CHECK_EQ_INT(mat_apply(ch, 1, roots, 0, &rep, &err), 0);
		CHECK_EQ_INT(mat_report_outcome(&rep, 0), MAT_REFUSED);
		CHECK_EQ_INT(mode_of(f.out), S_IFDIR | 0700);
	}
	mat_report_release(&rep);
	fx_release(&f);
}

TEST(test_bad_arguments)
{
	struct fx f;
	struct mat_report rep;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct mat_change ch[1];
	const char *rel_roots[] = { "out", NULL };
	const char *unclean_roots[] = { "/tmp/", NULL };

	fx_init(&f);
	mat_report_init(&rep);
	ch[0] = c_file(&f, "out/f", "x", 0644, true);
	CHECK_EQ_INT(apply(&f, ch, 1, &rep, &err, 0x100), -EINVAL);
	CHECK_EQ_INT(mat_apply(ch, 1, rel_roots, 0, &rep, &err), -EINVAL);
	CHECK_EQ_INT(mat_apply(ch, 1, unclean_roots, 0, &rep, &err), -EINVAL);
	ch[0].src_path = NULL;
	CHECK_EQ_INT(apply(&f, ch, 1, &rep, &err, 0), -EINVAL);
	CHECK(absent(P(&f, "out/f")));

	/* A source of another size than recorded is corruption: -EIO. */
	ch[0] = c_file(&f, "out/f", "x", 0644, true);
	ch[0].size = 2;
	ch[0].has_hash = false;
	CHECK_EQ_INT(apply(&f, ch, 1, &rep, &err, 0), -EIO);
	CHECK(strstr(err.buf, "out/f'"));
	CHECK(absent(P(&f, "out/f")));
	/* A missing source: the error names the target. */
	ch[0] = c_file(&f, "out/f", "x", 0644, true);
	ch[0].src_path = "no-such-blob";
	CHECK_EQ_INT(apply(&f, ch, 1, &rep, &err, 0), -ENOENT);
	CHECK(strstr(err.buf, "out/f'"));
	CHECK(no_tmp_files(f.out));
	mat_report_release(&rep);
	fx_release(&f);
}

TEST(test_fsync_flag)
{
	struct fx f;
	struct mat_report rep;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct mat_change ch[3];

	fx_init(&f);
	mat_report_init(&rep);
	ch[0] = c_kind(&f, CHANGE_DIR, "out/d", 0755);
	ch[1] = c_file(&f, "out/d/f", "synced\n", 0644, true);
	ch[2] = c_link(&f, "out/l", "d/f");
	CHECK_EQ_INT(apply(&f, ch, 3, &rep, &err, MAT_FSYNC), 0);
	CHECK_EQ_STR(err.buf, "");
	CHECK_EQ_STR(slurp(P(&f, "out/l")), NULL); /* O_NOFOLLOW in slurp */
	CHECK_EQ_STR(slurp(P(&f, "out/d/f")), "synced\n");
	CHECK_EQ_INT(rep.applied, 3);
	mat_report_release(&rep);
	fx_release(&f);
}

/*
 * Run @fn in a child as uid/gid 65534 (so permissions apply even though
 * the suite runs as root); the child reports mat_apply()'s result and
 * message through a pipe.
 */
struct child_result {
	int ret;
	char err[512];
};

static void run_as_nobody(struct fx *f, struct mat_change *ch, size_t nr,
			  bool fsize_limit, struct child_result *res)
{
	int pfd[2];
	pid_t pid;
	int status;

	memset(res, 0, sizeof(*res));
	res->ret = 1;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		die_errno("pipe");
	pid = fork();
	if (pid < 0)
		die_errno("fork");
	if (pid == 0) {
		struct mat_report rep;
		struct strbuf err = STRBUF_INIT;
		struct child_result out = { 0 };

		if (fsize_limit) {
			struct rlimit rl = { 1000, 1000 };

			signal(SIGXFSZ, SIG_IGN);
			if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
				_exit(3);
		}
		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 ||
		    setuid(65534) < 0)
			_exit(2);
		mat_report_init(&rep);
		out.ret = apply(f, ch, nr, &rep, &err, 0);
		snprintf(out.err, sizeof(out.err), "%s", err.buf);
		if (write_full(pfd[1], &out, sizeof(out)) < 0)
			_exit(4);
		_exit(0);
	}
	close(pfd[1]);
	if (read_full(pfd[0], res, sizeof(*res)) != sizeof(*res))
		res->ret = 1;
	close(pfd[0]);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		res->ret = 1000 + status;
}

TEST(test_eacces_midway)
{
	struct fx f;
	struct child_result res;
	struct mat_change ch[4];

	fx_init(&f);
	if (mkdir(P(&f, "out/ro"), 0555) < 0 ||
	    chown(f.out, 65534, 65534) < 0 ||
	    chown(P(&f, "out/ro"), 65534, 65534) < 0)
		die_errno("setup");
	put(P(&f, "out/a"), "old a\n", 0644);
	if (chown(P(&f, "out/a"), 65534, 65534) < 0)
		die_errno("chown");
	ch[0] = c_file(&f, "out/a", "new a\n", 0644, true);
	ch[1] = c_file(&f, "out/ro/b", "b\n", 0644, true);
	ch[2] = c_file(&f, "out/z", "z\n", 0644, true);
	ch[3] = c_file(&f, "out/ro/sub/c", "c\n", 0644, true);
	run_as_nobody(&f, ch, 4, false, &res);
	CHECK_EQ_INT(res.ret, -EACCES);
	CHECK_EQ_STR(res.err, keep(xasprintf("cannot apply '%s': "
					     "Permission denied",
					     P(&f, "out/ro/b"))));
	/* What was applied before is whole; nothing half-written anywhere. */
	CHECK_EQ_STR(slurp(P(&f, "out/a")), "new a\n");
	CHECK_EQ_STR(slurp(P(&f, "out/z")), "z\n");
	CHECK(absent(P(&f, "out/ro/b")));
	CHECK(absent(P(&f, "out/ro/sub")));
	CHECK(no_tmp_files(f.out));
	fx_release(&f);
}

/* A failure after the temporary file exists: it is removed. */
TEST(test_failure_removes_tmp)
{
	struct fx f;
	struct child_result res;
	struct mat_change ch[1];
	char big[4097];

	fx_init(&f);
	if (chown(f.out, 65534, 65534) < 0)
		die_errno("chown");
	put(P(&f, "out/big"), "old\n", 0644);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	ch[0] = c_file(&f, "out/big", big, 0644, true);
	run_as_nobody(&f, ch, 1, true, &res);
	CHECK_EQ_INT(res.ret, -EFBIG);
	CHECK(strstr(res.err, "out/big'"));
	CHECK_EQ_STR(slurp(P(&f, "out/big")), "old\n");
	CHECK(no_tmp_files(f.out));
	fx_release(&f);
}

/* As non-root, a directory without u+w still gets its entries. */
TEST(test_restrictive_dir_modes)
{
	struct fx f;
	struct child_result res;
	struct mat_change ch[4];

	fx_init(&f);
	if (chown(f.out, 65534, 65534) < 0)
		die_errno("chown");
	ch[0] = c_kind(&f, CHANGE_DIR, "out/locked", 0555);
	ch[1] = c_kind(&f, CHANGE_DIR, "out/locked/inner", 0500);
	ch[2] = c_file(&f, "out/locked/inner/f", "f\n", 0400, true);
	ch[3] = c_file(&f, "out/locked/g", "g\n", 0644, true);
	run_as_nobody(&f, ch, 4, false, &res);
	CHECK_EQ_INT(res.ret, 0);
	CHECK_EQ_STR(res.err, "");
	CHECK_EQ_INT(mode_of(P(&f, "out/locked")), S_IFDIR | 0555);
	CHECK_EQ_INT(mode_of(P(&f, "out/locked/inner")), S_IFDIR | 0500);
	CHECK_EQ_STR(slurp(P(&f, "out/locked/inner/f")), "f\n");
	CHECK_EQ_STR(slurp(P(&f, "out/locked/g")), "g\n");
	fx_release(&f);
}

/* Many files over several directories (parent fd cache, ordering). */
TEST(test_many_files)
{
	struct fx f;
	struct mat_report rep;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct mat_change ch[210];
	size_t i, n = 0, bad = 0;

	fx_init(&f);
	mat_report_init(&rep);
	for (i = 0; i < 10; i++)
		ch[n++] = c_kind(&f, CHANGE_DIR,
				 keep(xasprintf("out/d%zu", i)), 0755);
	/* Interleaved directories, reverse order. */
	for (i = 200; i-- > 0;)
		ch[n++] = c_file(&f, keep(xasprintf("out/d%zu/f%zu", i % 10, i)),
				 keep(xasprintf("content %zu\n", i)), 0644,
				 i % 2);
	CHECK_EQ_INT(apply(&f, ch, n, &rep, &err, 0), 0);
	CHECK_EQ_INT(rep.applied, 210);
	for (i = 0; i < 200; i++) {
		char *want = keep(xasprintf("content %zu\n", i));
		char *got = slurp(P(&f, keep(xasprintf("out/d%zu/f%zu",
						      i % 10, i))));

		if (!got || strcmp(got, want))
			bad++;
	}
	CHECK_EQ_INT(bad, 0);
	mat_report_release(&rep);
	fx_release(&f);
}

/*
 * How many copy workers a big diff gets here: one per CPU, at most 8; none
 * on one CPU, where the worker tests then only check the serial path:
 * said, and a failure in CI (never a silent skip).
 */
static size_t expected_threads(void)
{
	cpu_set_t set;
	size_t n;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		die_errno("sched_getaffinity");
	n = (size_t)CPU_COUNT(&set);
	if (n < 2) {
		const char *ci = getenv("CI");

		printf("# one CPU: the copy workers are not exercised\n");
		if (ci && *ci && strcmp(ci, "false"))
			die("CI needs 2 CPUs to test the copy workers");
		return 0;
	}
	return n < 8 ? n : 8;
}

/*
 * Enough files for the copy workers, mixed with every other kind of
 * change, a directory in a file's way, two changes of one path and a
 * symlink in the diff with files beneath it. Returns the count.
 */
static size_t mixed_diff(struct fx *f, struct mat_change *ch)
{
	size_t i, n = 0;

	/* What the host has before. */
	if (mkdir(P(f, "out/was-dir"), 0755) < 0 ||
	    mkdir(P(f, "out/was-dir/inner"), 0755) < 0 ||
	    mkdir(P(f, "out/gone"), 0755) < 0 ||
	    mkdir(P(f, "out/d0"), 0700) < 0)
		die_errno("mkdir in '%s'", f->out);
	put(P(f, "out/was-dir/inner/x"), "x\n", 0644);
	put(P(f, "out/gone/y"), "y\n", 0644);
	put(P(f, "out/d0/same"), "same\n", 0644);
	put(P(f, "out/d0/same-mode"), "same bytes\n", 0600);
	put(P(f, "out/d0/old"), "old\n", 0644);

	for (i = 0; i < 4; i++)
		ch[n++] = c_kind(f, CHANGE_DIR, keep(xasprintf("out/d%zu", i)),
				 i == 3 ? 0500 : 0755);
	for (i = 0; i < 120; i++)
		ch[n++] = c_file(f, keep(xasprintf("out/d%zu/f%03zu", i % 4, i)),
				 keep(xasprintf("content %zu\n", i)),
				 i % 3 ? 0644 : 0755, i % 2);
	ch[n++] = c_file(f, "out/d0/same", "same\n", 0644, true);
	ch[n++] = c_file(f, "out/d0/same-mode", "same bytes\n", 0644, false);
	ch[n++] = c_file(f, "out/d0/old", "new\n", 04755, true);
	ch[n++] = c_file(f, "out/was-dir", "now a file\n", 0644, true);
	ch[n++] = c_kind(f, CHANGE_DELETE, "out/gone", 0);
	ch[n++] = c_file(f, "out/gone", "gone, then a file\n", 0600, true);
	ch[n++] = c_file(f, "out/twice", "first\n", 0644, true);
	ch[n++] = c_file(f, "out/twice", "second\n", 0640, true);
	ch[n++] = c_link(f, "out/d1/link", "f001");
	ch[n++] = c_link(f, "out/esc", "../canary");
	for (i = 0; i < 70; i++)
		ch[n++] = c_file(f, keep(xasprintf("out/esc/p%02zu", i)),
				 "pwned\n", 0644, true);
	ch[n++] = c_kind(f, CHANGE_MODE, "out/d2", 0711);
	return n;
}

/* The workers leave exactly what the calling thread alone leaves. */
TEST(test_workers_same_as_serial)
{
	struct fx a, b;
	struct mat_report ra, rb;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct mat_change cha[256], chb[256];
	size_t n, m, i, diff = 0;
	char *canary;

	fx_init(&a);
	fx_init(&b);
	mat_report_init(&ra);
	mat_report_init(&rb);
	canary = canary_setup(&a);
	n = mixed_diff(&a, cha);
	m = mixed_diff(&b, chb);
	CHECK_EQ_INT(n, m);
	CHECK_EQ_INT(apply(&a, cha, n, &ra, &err, 0), 0);
	CHECK_EQ_STR(err.buf, "");
	CHECK_EQ_INT(apply(&b, chb, n, &rb, &err, MAT_SERIAL), 0);
	CHECK_EQ_STR(err.buf, "");
	CHECK_EQ_INT(ra.threads, expected_threads());
	CHECK_EQ_INT(rb.threads, 0);
	for (i = 0; i < n; i++)
		if (mat_report_outcome(&ra, i) != mat_report_outcome(&rb, i))
			diff++;
	CHECK_EQ_INT(diff, 0);
	CHECK_EQ_INT(ra.files_written, rb.files_written);
	CHECK_EQ_INT(ra.bytes_written, rb.bytes_written);
	CHECK_EQ_INT(ra.refused, 70);
	CHECK_EQ_INT(ra.unchanged, 1);
	CHECK_EQ_STR(snapshot_sorted(a.out), snapshot_sorted(b.out));
	CHECK_EQ_STR(slurp(P(&a, "out/twice")), "second\n");
	CHECK_EQ_INT(mode_of(P(&a, "out/twice")), S_IFREG | 0640);
	CHECK_EQ_STR(slurp(P(&a, "out/was-dir")), "now a file\n");
	CHECK_EQ_INT(mode_of(P(&a, "out/d0/old")), S_IFREG | 0755);
	CHECK_EQ_INT(mode_of(P(&a, "out/d3")), S_IFDIR | 0500);
	CHECK_EQ_STR(snapshot(a.canary), canary);
	CHECK(no_tmp_files(a.out));
	mat_report_release(&ra);
	mat_report_release(&rb);
	fx_release(&a);
	fx_release(&b);
}

/*
 * A worker's failure (a missing source) stops the rest: one message,
 * the failed change named, every file either whole or absent.
 */
TEST(test_worker_failure)
{
	struct fx f;
	struct mat_report rep;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct mat_change ch[200];
	size_t i, n = 0, failed = 0, bad = 0;
	char *want;

	fx_init(&f);
	mat_report_init(&rep);
	for (i = 0; i < 200; i++)
		ch[n++] = c_file(&f, keep(xasprintf("out/f%03zu", i)),
				 keep(xasprintf("content %zu\n", i)), 0644,
				 true);
	if (unlinkat(f.blobs_fd, ch[100].src_path, 0) < 0)
		die_errno("unlink blob");
	CHECK_EQ_INT(apply(&f, ch, n, &rep, &err, 0), -ENOENT);
	CHECK_EQ_INT(rep.threads, expected_threads());
	want = keep(xasprintf("cannot apply '%s': cannot open its source: "
			      "No such file or directory",
			      P(&f, "out/f100")));
	CHECK_EQ_STR(err.buf, want);
	CHECK_EQ_INT(mat_report_outcome(&rep, 100), MAT_FAILED);
	for (i = 0; i < n; i++) {
		enum mat_outcome o = mat_report_outcome(&rep, i);
		char *got = slurp(P(&f, keep(xasprintf("out/f%03zu", i))));

		if (o == MAT_FAILED)
			failed++;
		else if (o == MAT_APPLIED)
			bad += !got || strcmp(got, keep(xasprintf("content %zu\n", i)));
		else
			bad += o != MAT_SKIPPED || got != NULL;
	}
	CHECK_EQ_INT(failed, 1);
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(rep.files_written, rep.applied);
	CHECK(no_tmp_files(f.out));
	mat_report_release(&rep);
	fx_release(&f);
}

/*
 * Several processes restoring the same new directory at once (xargs -P
 * running one job twice): each may find it absent, then lose the mkdir
 * race. That is not a failure: the directory is what the change wants.
 */
TEST(test_concurrent_mkdir)
{
	struct fx f;
	struct mat_change ch[2];
	int round, k, bad = 0;

	fx_init(&f);
	for (round = 0; round < 40; round++) {
		pid_t pids[4];

		ch[0] = c_kind(&f, CHANGE_DIR, keep(xasprintf("out/r%d", round)), 0755);
		ch[1] = c_file(&f, keep(xasprintf("out/r%d/f", round)), "f\n",
			       0644, true);
		for (k = 0; k < 4; k++) {
			pids[k] = fork();
			if (pids[k] < 0)
				die_errno("fork");
			if (pids[k] == 0) {
				struct mat_report rep;
				struct strbuf err = STRBUF_INIT;

				mat_report_init(&rep);
				_exit(apply(&f, ch, 2, &rep, &err, 0) == 0 ? 0 : 1);
			}
		}
		for (k = 0; k < 4; k++) {
			int st;

			if (waitpid(pids[k], &st, 0) < 0)
				die_errno("waitpid");
			bad += !WIFEXITED(st) || WEXITSTATUS(st);
		}
	}
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_STR(slurp(P(&f, "out/r39/f")), "f\n");
	fx_release(&f);
}

/* Old times on @path (not followed): atime @sec + 7, mtime @sec. */
static void set_old_times(const char *path, time_t sec)
{
	struct timespec ts[2] = { { sec + 7, 0 }, { sec, 0 } };

	if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) < 0)
		die_errno("utimensat '%s'", path);
}

static struct stat stat_of(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		die_errno("lstat '%s'", path);
	return st;
}

/*
 * A declared output directory (DIR_REPLACED) the host has is emptied in
 * place (DESIGN.md §7 "Times"): it keeps its inode, and its parent's
 * names, so the parent's mtime (which a job that lstat's it saw) stays.
 * Serial, with workers and with MAT_FSYNC alike.
 */
TEST(test_dir_replaced_in_place)
{
	static const unsigned flags[] = { MAT_SERIAL, 0, MAT_FSYNC };

	for (size_t k = 0; k < sizeof(flags) / sizeof(flags[0]); k++) {
		struct fx f;
		struct mat_report rep;
		_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
		struct mat_change ch[72];
		struct stat held, root_after, d_after;
		_cleanup_close_ int d_fd = -1;
		size_t n = 0;

		fx_init(&f);
		mat_report_init(&rep);
		if (mkdir(P(&f, "out/d"), 0755) < 0 ||
		    mkdir(P(&f, "out/d/deep"), 0500) < 0 ||
		    mkdir(P(&f, "out/d/same"), 0755) < 0)
			die_errno("setup");
		put(P(&f, "out/d/old"), "old", 0644);
		put(P(&f, "out/d/f0"), "stale f0", 0644);
		put(P(&f, "out/keep"), "keep", 0644);
		/* held open: a new directory could not reuse its inode */
		d_fd = open(P(&f, "out/d"), O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (d_fd < 0)
			die_errno("open");
		set_old_times(f.out, 1000000000);

		ch[n++] = c_kind(&f, CHANGE_DIR_REPLACED, "out/d", 0711);
		ch[n++] = c_kind(&f, CHANGE_DIR, "out/d/same", 0755);
		/* enough files for the copy workers when flags allow them */
		for (int i = 0; i < 70; i++)
			ch[n++] = c_file(&f, keep(xasprintf("out/d/f%d", i)),
					 keep(xasprintf("new %d\n", i)), 0644, true);
		CHECK_EQ_INT(apply(&f, ch, n, &rep, &err, flags[k]), 0);
		CHECK_EQ_STR(err.buf, "");
		CHECK(absent(P(&f, "out/d/old")));
		CHECK(absent(P(&f, "out/d/deep")));
		CHECK_EQ_STR(slurp(P(&f, "out/d/f0")), "new 0\n");
		CHECK_EQ_STR(slurp(P(&f, "out/d/f69")), "new 69\n");
		CHECK_EQ_INT(mode_of(P(&f, "out/d/same")), S_IFDIR | 0755);
		CHECK_EQ_INT(mode_of(P(&f, "out/d")), S_IFDIR | 0711);
		CHECK_EQ_INT(mat_report_outcome(&rep, 0), MAT_APPLIED);
		CHECK_EQ_INT(rep.applied, n);
		d_after = stat_of(P(&f, "out/d"));
		if (fstat(d_fd, &held) < 0)
			die_errno("fstat");
		CHECK_EQ_INT(d_after.st_ino, held.st_ino);
		CHECK(held.st_nlink > 0); /* not removed */
		root_after = stat_of(f.out);
		CHECK_EQ_INT(root_after.st_mtim.tv_sec, 1000000000);
		CHECK_EQ_INT(root_after.st_mtim.tv_nsec, 0);
		CHECK(no_tmp_files(f.out));
		mat_report_release(&rep);
		fx_release(&f);
	}
}

/*
 * A directory in which the apply only replaces existing names (a file
 * renamed over, a symlink retargeted) gets its mtime and atime back,
 * the root included; one in which a name is created or removed, or an
 * entry changes type to or from a directory, keeps the apply's; one
 * whose own change gives exact times gets those.
 */
TEST(test_dir_times_given_back)
{
	static const unsigned flags[] = { MAT_SERIAL, 0, MAT_FSYNC };

	for (size_t k = 0; k < sizeof(flags) / sizeof(flags[0]); k++) {
		struct fx f;
		struct mat_report rep;
		_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
		struct mat_change ch[80];
		static const char *const dirs[] = {
			"out/rep", "out/new", "out/del", "out/lnk", "out/type",
			"out/exact", "out/many", "out/same",
		};
		struct stat st;
		size_t n = 0;

		fx_init(&f);
		mat_report_init(&rep);
		for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
			if (mkdir(P(&f, dirs[i]), 0755) < 0)
				die_errno("setup");
		put(P(&f, "out/top"), "old top", 0644);
		put(P(&f, "out/rep/f"), "old f", 0644);
		put(P(&f, "out/new/f"), "old f", 0644);
		put(P(&f, "out/del/f"), "old f", 0644);
		put(P(&f, "out/del/g"), "old g", 0644);
		put(P(&f, "out/type/f"), "old f", 0644);
		put(P(&f, "out/exact/f"), "old f", 0644);
		put(P(&f, "out/same/f"), "same f", 0644);
		for (int i = 0; i < 64; i++)
			put(P(&f, keep(xasprintf("out/many/f%d", i))), "old", 0644);
		if (symlink("old-target", P(&f, "out/lnk/l")) < 0)
			die_errno("setup");
		for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
			set_old_times(P(&f, dirs[i]), 1000000000);
		set_old_times(f.out, 1000000000);

		ch[n++] = c_file(&f, "out/top", "new top\n", 0644, true);
		ch[n++] = c_file(&f, "out/rep/f", "new f\n", 0600, true);
		ch[n++] = c_file(&f, "out/new/f", "new f\n", 0644, true);
		ch[n++] = c_file(&f, "out/new/g", "created\n", 0644, true);
		ch[n++] = c_kind(&f, CHANGE_DELETE, "out/del/g", 0);
		ch[n++] = c_link(&f, "out/lnk/l", "new-target");
		ch[n++] = c_kind(&f, CHANGE_DIR, "out/type/f", 0755);
		ch[n++] = c_file(&f, "out/exact/f", "new f\n", 0644, true);
		ch[n] = c_kind(&f, CHANGE_DIR, "out/exact", 0755);
		ch[n].times = MAT_TIMES_EXACT;
		ch[n].mtime_ns = 1200000000LL * 1000000000LL;
		ch[n++].atime_ns = 1200000000LL * 1000000000LL;
		ch[n++] = c_file(&f, "out/same/f", "same f", 0644, true);
		for (int i = 0; i < 64; i++)
			ch[n++] = c_file(&f, keep(xasprintf("out/many/f%d", i)),
					 keep(xasprintf("new %d\n", i)), 0644, true);
		CHECK_EQ_INT(apply(&f, ch, n, &rep, &err, flags[k]), 0);
		CHECK_EQ_STR(err.buf, "");
		CHECK_EQ_INT(rep.applied, n - 2); /* out/exact, out/same/f */
		CHECK_EQ_STR(slurp(P(&f, "out/rep/f")), "new f\n");
		CHECK_EQ_STR(slurp(P(&f, "out/many/f63")), "new 63\n");
		CHECK(absent(P(&f, "out/del/g")));

		/* only names replaced: the times they had, atime too */
		st = stat_of(f.out);
		CHECK_EQ_INT(st.st_mtim.tv_sec, 1000000000);
		CHECK_EQ_INT(st.st_atim.tv_sec, 1000000007);
		st = stat_of(P(&f, "out/rep"));
		CHECK_EQ_INT(st.st_mtim.tv_sec, 1000000000);
		CHECK_EQ_INT(st.st_mtim.tv_nsec, 0);
		CHECK_EQ_INT(st.st_atim.tv_sec, 1000000007);
		CHECK_EQ_INT(stat_of(P(&f, "out/lnk")).st_mtim.tv_sec, 1000000000);
		CHECK_EQ_INT(stat_of(P(&f, "out/many")).st_mtim.tv_sec, 1000000000);
		CHECK_EQ_INT(stat_of(P(&f, "out/same")).st_mtim.tv_sec, 1000000000);
		/* a name created, removed, or a type change: the apply's time */
		CHECK(stat_of(P(&f, "out/new")).st_mtim.tv_sec > 1000000000);
		CHECK(stat_of(P(&f, "out/del")).st_mtim.tv_sec > 1000000000);
		CHECK(stat_of(P(&f, "out/type")).st_mtim.tv_sec > 1000000000);
		/* its own exact times win */
		CHECK_EQ_INT(stat_of(P(&f, "out/exact")).st_mtim.tv_sec, 1200000000);
		CHECK(no_tmp_files(f.out));
		mat_report_release(&rep);
		fx_release(&f);
	}
}

int main(void)
{
	RUN(test_create_nested);
	RUN(test_overwrite_and_unchanged);
	RUN(test_modes);
	RUN(test_xattrs);
	RUN(test_symlinks);
	RUN(test_deletions);
	RUN(test_dir_replaced);
	RUN(test_type_changes);
	RUN(test_kept_outside_roots);
	RUN(test_refused_paths);
	RUN(test_symlink_in_diff_attack);
	RUN(test_host_symlink_in_root);
	RUN(test_at_root);
	RUN(test_bad_arguments);
	RUN(test_fsync_flag);
	RUN(test_eacces_midway);
	RUN(test_failure_removes_tmp);
	RUN(test_restrictive_dir_modes);
	RUN(test_many_files);
	RUN(test_workers_same_as_serial);
	RUN(test_worker_failure);
	RUN(test_concurrent_mkdir);
	RUN(test_dir_replaced_in_place);
	RUN(test_dir_times_given_back);
	strbuf_release(&snap_buf);
	return unit_done();
}

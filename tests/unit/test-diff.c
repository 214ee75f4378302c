/*
 * sbx_diff_read_layers() on hand-made upper/lower pairs: every row of
 * the table in DESIGN.md section 2 (and sandbox/diff.c), without
 * mounting anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "sandbox/sandbox.h"
#include "tests/unit/unit.h"

static char *base, *upper, *lower;

static void put(const char *root, const char *rel, const char *data, mode_t mode)
{
	char *p = xasprintf("%s/%s", root, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, data, strlen(data)) != (ssize_t)strlen(data))
		die_errno("cannot write '%s'", p);
	close(fd);
	if (chmod(p, mode) < 0)
		die_errno("cannot chmod '%s'", p);
	free(p);
}

static void dir(const char *root, const char *rel, mode_t mode)
{
	char *p = xasprintf("%s/%s", root, rel);

	if (mkdir(p, mode) < 0 || chmod(p, mode) < 0)
		die_errno("cannot mkdir '%s'", p);
	free(p);
}

static void link_at(const char *target, const char *root, const char *rel)
{
	char *p = xasprintf("%s/%s", root, rel);

	if (symlink(target, p) < 0)
		die_errno("cannot create symlink '%s'", p);
	free(p);
}

static void fresh(void)
{
	base = xstrdup(unit_tmpdir());
	upper = xasprintf("%s/upper", base);
	lower = xasprintf("%s/lower", base);
	if (mkdir(upper, 0755) < 0 || mkdir(lower, 0755) < 0)
		die_errno("cannot mkdir");
}

static void release(void)
{
	free(base);
	free(upper);
	free(lower);
}

/* The diff as "kind rel[ -> target]" lines, paths relative to lower. */
static char *diff_text(bool userxattr)
{
	struct sbx_layer l = { .mountpoint = lower, .lower = lower,
			       .upper = upper, .work = NULL };
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct sbx_change *ch;
	size_t nr, i;

	if (sbx_diff_read_layers(&l, 1, userxattr, &ch, &nr, &err) < 0) {
		strbuf_addf(&out, "error: %s", err.buf);
		strbuf_release(&err);
		return strbuf_detach(&out, NULL);
	}
	for (i = 0; i < nr; i++) {
		strbuf_addf(&out, "%s %s", change_kind_name(ch[i].kind),
			    ch[i].path + strlen(lower) + 1);
		if (ch[i].target)
			strbuf_addf(&out, " -> %s", ch[i].target);
		if (ch[i].xattrs.nr) {
			strbuf_addstr(&out, " [");
			xattr_set_describe(&ch[i].xattrs, &out);
			strbuf_addch(&out, ']');
		}
		if (ch[i].kind == CHANGE_DELETE ? ch[i].upper_path != NULL
					     : ch[i].upper_path == NULL)
			strbuf_addstr(&out, " (bad upper_path)");
		strbuf_addch(&out, '\n');
	}
	sbx_changes_free(ch, nr);
	strbuf_release(&err);
	return strbuf_detach(&out, NULL);
}

TEST(test_files)
{
	char *d;

	fresh();
	put(lower, "same", "abc", 0644);
	put(upper, "same", "abc", 0644);		/* copy-up, or rewritten alike */
	put(lower, "chmod", "abc", 0644);
	put(upper, "chmod", "abc", 0600);
	put(lower, "edit", "abc", 0644);
	put(upper, "edit", "abd", 0644);		/* same size, other bytes */
	put(lower, "grow", "abc", 0644);
	put(upper, "grow", "abcd", 0644);
	put(upper, "new", "n", 0644);
	dir(lower, "wasdir", 0755);
	put(upper, "wasdir", "f", 0644);		/* a file over a directory */
	d = diff_text(false);
	/* Every upper file is a change: see the comment atop sandbox/diff.c. */
	CHECK_EQ_STR(d, "file chmod\nfile edit\nfile grow\nfile new\nfile same\n"
			"file wasdir\n");
	free(d);
	release();
}

TEST(test_dirs_and_links)
{
	char *d;

	fresh();
	dir(lower, "kept", 0755);
	dir(upper, "kept", 0755);
	put(upper, "kept/child", "c", 0644);
	dir(lower, "moded", 0755);
	dir(upper, "moded", 0700);
	dir(upper, "newdir", 0755);
	put(lower, "newdir-was-file", "x", 0644);
	dir(upper, "newdir/sub", 0755);
	put(upper, "newdir/sub/f", "f", 0644);
	link_at("t1", lower, "samelink");
	link_at("t1", upper, "samelink");
	link_at("t1", lower, "relink");
	link_at("t2", upper, "relink");
	link_at("a b", upper, "newlink");
	d = diff_text(false);
	CHECK_EQ_STR(d, "file kept/child\nmode moded\ndir newdir\ndir newdir/sub\n"
			"file newdir/sub/f\nsymlink newlink -> a b\nsymlink relink -> t2\n"
			"symlink samelink -> t1\n");
	free(d);
	release();
}

TEST(test_opaque_dir)
{
	char *d, *p;

	fresh();
	dir(lower, "r", 0755);
	put(lower, "r/old", "o", 0644);
	put(lower, "r/same", "s", 0644);
	dir(upper, "r", 0755);
	/* Under an opaque directory the lower is hidden: same bytes are new. */
	put(upper, "r/same", "s", 0644);
	p = xasprintf("%s/r", upper);
	if (setxattr(p, "user.overlay.opaque", "y", 1, 0) < 0) {
		CHECK(!"setxattr user.overlay.opaque");
		goto out;
	}
	d = diff_text(true);
	CHECK_EQ_STR(d, "dir_replaced r\nfile r/same\n");
	free(d);
	/*
	 * trusted.* is what counts without userxattr: a plain directory,
	 * with an attribute of overlayfs' other namespace the job set.
	 */
	d = diff_text(false);
	CHECK_EQ_STR(d, "mode r [user.overlay.opaque=79]\nfile r/same\n");
	free(d);
out:
	free(p);
	release();
}

TEST(test_whiteouts_and_specials)
{
	char *d, *p, *q;

	fresh();
	put(lower, "gone", "g", 0644);
	p = xasprintf("%s/gone", upper);
	q = xasprintf("%s/never", upper);
	if (mknod(p, S_IFCHR | 0000, makedev(0, 0)) < 0 ||
	    mknod(q, S_IFCHR | 0000, makedev(0, 0)) < 0) {
		/* Creating whiteouts needs CAP_MKNOD or a recent kernel. */
		CHECK_EQ_INT(errno, EPERM);
		goto out;
	}
	free(p);
	p = xasprintf("%s/pipe", upper);
	if (mkfifo(p, 0644) < 0)
		die_errno("mkfifo");
	d = diff_text(false);
	/* "never": its lower is gone by now; still a deletion. */
	CHECK_EQ_STR(d, "delete gone\ndelete never\nspecial pipe\n");
	free(d);
out:
	free(p);
	free(q);
	release();
}

TEST(test_sorted_and_empty)
{
	char *d;

	fresh();
	d = diff_text(false);
	CHECK_EQ_STR(d, "");
	free(d);
	put(upper, "b", "1", 0644);
	put(upper, "a b", "1", 0644);
	dir(upper, "a", 0755);
	put(upper, "a/z", "1", 0644);
	d = diff_text(false);
	CHECK_EQ_STR(d, "dir a\nfile a b\nfile a/z\nfile b\n");
	free(d);
	release();
}

static void xset(const char *root, const char *rel, const char *name,
		 const char *value)
{
	char *p = xasprintf("%s/%s", root, rel);

	if (lsetxattr(p, name, value, strlen(value), 0) < 0)
		die_errno("cannot set %s on '%s'", name, p);
	free(p);
}

/*
 * Every change carries the upper entry's attributes but the private ones;
 * a merged directory whose attributes differ from the lower's is a MODE
 * change even with its mode unchanged.
 */
TEST(test_xattrs)
{
	char *d;

	fresh();
	put(lower, "f", "abc", 0644);
	xset(lower, "f", "user.a", "1");
	put(upper, "f", "abc", 0644);		/* copied up, then one more set */
	xset(upper, "f", "user.a", "1");
	xset(upper, "f", "user.b", "2");
	xset(upper, "f", "user.overlay.origin", "x"); /* overlayfs' own */
	dir(lower, "same", 0755);
	xset(lower, "same", "user.k", "1");
	dir(upper, "same", 0755);		/* copied up as it was */
	xset(upper, "same", "user.k", "1");
	put(upper, "same/child", "c", 0644);
	dir(lower, "set", 0755);
	dir(upper, "set", 0755);		/* setfattr on a host directory */
	xset(upper, "set", "user.k", "2");
	dir(lower, "removed", 0755);
	xset(lower, "removed", "user.k", "1");
	dir(upper, "removed", 0755);		/* setfattr -x */
	dir(upper, "new", 0700);
	xset(upper, "new", "user.n", "v");
	d = diff_text(true);
	CHECK_EQ_STR(d, "file f [user.a=31, user.b=32]\ndir new [user.n=76]\n"
			"mode removed\nfile same/child\nmode set [user.k=32]\n");
	free(d);
	release();
}

/*
 * The overlay's own markers are left out; names of its namespaces that a
 * job set (escaped by overlayfs 6.7+, or the other namespace's) are kept,
 * for the runner to refuse.
 */
TEST(test_xattrs_overlay_names)
{
	char *d;

	fresh();
	put(upper, "f", "x", 0644);
	xset(upper, "f", "user.overlay.origin", "o");	/* userxattr: its own */
	xset(upper, "f", "user.overlay.overlay.opaque", "y"); /* the job's */
	xset(upper, "f", "security.selinux", "l");
	d = diff_text(true);
	CHECK_EQ_STR(d, "file f [user.overlay.overlay.opaque=79]\n");
	free(d);
	/* without userxattr, user.overlay.* is an ordinary name */
	d = diff_text(false);
	CHECK_EQ_STR(d, "file f [user.overlay.origin=6f, user.overlay.overlay.opaque=79]\n");
	free(d);
	release();
}

int main(void)
{
	setenv("TMPDIR", "/var/tmp", 1);
	RUN(test_files);
	RUN(test_dirs_and_links);
	RUN(test_opaque_dir);
	RUN(test_whiteouts_and_specials);
	RUN(test_sorted_and_empty);
	RUN(test_xattrs);
	RUN(test_xattrs_overlay_names);
	return unit_done();
}

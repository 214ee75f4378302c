/* dirlist_hash_at: exact (name, type) sets, order-independent, canonical. */
#include "tests/unit/unit.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/dirlist.h"
#include "common/hash.h"
#include "common/path.h"
#include "common/xalloc.h"

static void touch(const char *dir, const char *name)
{
	_cleanup_free_ char *p = path_join(dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		die_errno("cannot create %s", p);
	close(fd);
}

TEST(test_encoding)
{
	const char *d = unit_tmpdir();
	_cleanup_free_ char *sub = path_join(d, "b");
	struct pc_hash h, want;
	struct keyenc k;
	size_t n;

	touch(d, "c");
	touch(d, "a");
	CHECK(!mkdir(sub, 0755));
	CHECK(!dirlist_hash_at(AT_FDCWD, d, &h, &n));
	CHECK_EQ_INT(n, 3);
	/* the documented encoding, by hand */
	keyenc_init(&k);
	keyenc_add_str(&k, "dirlist", "procache-dirlist-1");
	keyenc_add(&k, "e", "a\x08", 2);
	keyenc_add(&k, "e", "b\x04", 2);
	keyenc_add(&k, "e", "c\x08", 2);
	keyenc_hash(&k, &want);
	keyenc_release(&k);
	CHECK(pc_hash_equal(&h, &want));
}

TEST(test_changes_detected)
{
	const char *d = unit_tmpdir();
	_cleanup_free_ char *x = path_join(d, "x");
	_cleanup_free_ char *link = path_join(d, "l");
	struct pc_hash h0, h1, h2, h3;

	CHECK(!dirlist_hash_at(AT_FDCWD, d, &h0, NULL));
	touch(d, "x");
	CHECK(!dirlist_hash_at(AT_FDCWD, d, &h1, NULL));
	CHECK(!pc_hash_equal(&h0, &h1)); /* a superset is not equal */
	/* same name, other type */
	CHECK(!unlink(x));
	CHECK(!mkdir(x, 0755));
	CHECK(!dirlist_hash_at(AT_FDCWD, d, &h2, NULL));
	CHECK(!pc_hash_equal(&h1, &h2));
	CHECK(!symlink("x", link));
	CHECK(!dirlist_hash_at(AT_FDCWD, d, &h3, NULL));
	CHECK(!pc_hash_equal(&h2, &h3));
	/* content of entries is not part of a listing */
	touch(x, "inner");
	CHECK(!dirlist_hash_at(AT_FDCWD, d, &h0, NULL));
	CHECK(pc_hash_equal(&h0, &h3));
}

TEST(test_errors)
{
	const char *d = unit_tmpdir();
	_cleanup_free_ char *link = path_join(d, "l");
	struct pc_hash h;

	touch(d, "f");
	CHECK(!symlink(".", link));
	CHECK_EQ_INT(dirlist_hash_at(AT_FDCWD, link, &h, NULL), -ENOTDIR);
	CHECK_EQ_INT(dirlist_hash_at(AT_FDCWD, "/nonexistent-dir", &h, NULL), -ENOENT);
	CHECK_EQ_INT(dirlist_hash_at(AT_FDCWD, "", &h, NULL), -EINVAL);
	{
		_cleanup_free_ char *f = path_join(d, "f");

		CHECK_EQ_INT(dirlist_hash_at(AT_FDCWD, f, &h, NULL), -ENOTDIR);
	}
}

/* the listing a job sees with its declared outputs hidden */
TEST(test_hiding)
{
	const char *d = unit_tmpdir();
	_cleanup_free_ char *out = path_join(d, "out");
	_cleanup_free_ char *deeper = path_join(d, "sub/out2");
	_cleanup_free_ char *other = path_join(d, "outx");
	_cleanup_free_ char *slashed = xasprintf("%s/", d);
	const char *hidden[] = { out, deeper, "/", "relative" };
	struct pc_hash h0, h1, h2;
	size_t n;

	touch(d, "in");
	CHECK(!dirlist_hash_at(AT_FDCWD, d, &h0, NULL));
	touch(d, "out");
	/* out left out; sub/out2 (not a child) and the others ignored */
	CHECK(!dirlist_hash_at_hiding(AT_FDCWD, d, d, hidden, 4, &h1, &n));
	CHECK(pc_hash_equal(&h0, &h1));
	CHECK_EQ_INT(n, 1);
	CHECK(!dirlist_hash_at_hiding(AT_FDCWD, d, slashed, hidden, 4, &h1, NULL));
	CHECK(pc_hash_equal(&h0, &h1));
	/* a name that only begins like a hidden one stays */
	touch(d, "outx");
	CHECK(!dirlist_hash_at_hiding(AT_FDCWD, d, d, hidden, 1, &h2, &n));
	CHECK(!pc_hash_equal(&h0, &h2));
	CHECK_EQ_INT(n, 2);
	CHECK(!unlink(other));
	/* nothing hidden, or another directory's: dirlist_hash_at() */
	CHECK(!dirlist_hash_at_hiding(AT_FDCWD, d, "/elsewhere", hidden, 1, &h1, NULL));
	CHECK(!dirlist_hash_at(AT_FDCWD, d, &h2, NULL));
	CHECK(pc_hash_equal(&h1, &h2));
	CHECK(!pc_hash_equal(&h0, &h2));
}

int main(void)
{
	RUN(test_encoding);
	RUN(test_changes_detected);
	RUN(test_errors);
	RUN(test_hiding);
	return unit_done();
}

/*
 * The stat-keyed hash cache (cache/statcache.c): hits, misses on any stat
 * change, the same-tick guard, torn records, a foreign file replaced.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache/internal.h"
#include "common/fdio.h"
#include "common/hash.h"
#include "common/path.h"

#include "tests/unit/unit.h"

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int open_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		die_errno("cannot open '%s'", path);
	return fd;
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write_full(fd, text, strlen(text)) < 0)
		die_errno("cannot write '%s'", path);
	close(fd);
}

TEST(test_put_get)
{
	const char *dir = unit_tmpdir();
	int dfd = open_dir(dir);
	struct statcache *sc;
	struct stat st;
	struct pc_hash h, got;
	char *f = path_join(dir, "f");

	CHECK(statcache_open(dfd, &sc) == 0);
	write_file(f, "abc");
	CHECK(lstat(f, &st) == 0);
	pc_hash_buffer("abc", 3, &h);
	CHECK(!statcache_get(sc, &st, &got));
	/* Hashed "3 s after" the file's timestamps: old enough. */
	CHECK(statcache_put(sc, &st, &h, now_ns() + 3000000000LL));
	CHECK(statcache_get(sc, &st, &got));
	CHECK(pc_hash_equal(&got, &h));
	/* Any stat field differing is a miss. */
	st.st_size++;
	CHECK(!statcache_get(sc, &st, &got));
	st.st_size--;
	st.st_mtim.tv_nsec ^= 1;
	CHECK(!statcache_get(sc, &st, &got));
	st.st_mtim.tv_nsec ^= 1;
	st.st_ctim.tv_nsec ^= 1;
	CHECK(!statcache_get(sc, &st, &got));
	st.st_ctim.tv_nsec ^= 1;
	st.st_mode ^= 0100;
	CHECK(!statcache_get(sc, &st, &got));
	st.st_mode ^= 0100;
	st.st_ino++;
	CHECK(!statcache_get(sc, &st, &got));
	st.st_ino--;
	CHECK(statcache_get(sc, &st, &got));
	statcache_close(sc);

	/* Persistent across opens. */
	CHECK(statcache_open(dfd, &sc) == 0);
	CHECK(statcache_get(sc, &st, &got));
	statcache_close(sc);
	close(dfd);
	free(f);
}

TEST(test_same_tick_guard)
{
	const char *dir = unit_tmpdir();
	int dfd = open_dir(dir);
	struct statcache *sc;
	struct stat st;
	struct pc_hash h, got;
	char *f = path_join(dir, "young");
	uint64_t stored;
	bool vouched;

	CHECK(statcache_open(dfd, &sc) == 0);
	write_file(f, "fresh");
	CHECK(lstat(f, &st) == 0);
	pc_hash_buffer("fresh", 5, &h);
	/* Hashed now, the file is younger than 2 s: not recorded. */
	CHECK(!statcache_put(sc, &st, &h, now_ns()));
	CHECK(!statcache_put(sc, &st, &h, now_ns() + 1900000000LL));
	CHECK(!statcache_get(sc, &st, &got));
	/* hash_file: correct hash, but nothing recorded for a young file. */
	stored = statcache_counts.stored;
	vouched = true;
	CHECK(statcache_hash_file(sc, AT_FDCWD, f, &st, &got, &vouched) == 0);
	CHECK(pc_hash_equal(&got, &h));
	CHECK_EQ_INT(statcache_counts.stored, stored);
	CHECK(!vouched);	/* nothing for the verified stats either */
	CHECK(!statcache_get(sc, &st, &got));
	statcache_close(sc);
	close(dfd);
	free(f);
}

TEST(test_hash_file_checks_identity)
{
	const char *dir = unit_tmpdir();
	struct stat st, st2;
	struct pc_hash got;
	char *f = path_join(dir, "f"), *g = path_join(dir, "g");

	write_file(f, "one");
	write_file(g, "two");
	CHECK(lstat(f, &st) == 0);
	CHECK(lstat(g, &st2) == 0);
	/* A stat that does not describe the file opened: refused. */
	CHECK_EQ_INT(statcache_hash_file(NULL, AT_FDCWD, g, &st, &got, NULL), -ESTALE);
	CHECK(statcache_hash_file(NULL, AT_FDCWD, g, &st2, &got, NULL) == 0);
	free(f);
	free(g);
}

TEST(test_torn_record_is_a_miss)
{
	const char *dir = unit_tmpdir();
	int dfd = open_dir(dir), fd;
	struct statcache *sc;
	struct stat st, fst;
	struct pc_hash h, got;
	char *f = path_join(dir, "f"), *scf = path_join(dir, "statcache");
	unsigned char *buf;
	off_t off;
	size_t len;

	write_file(f, "abc");
	CHECK(lstat(f, &st) == 0);
	pc_hash_buffer("abc", 3, &h);
	CHECK(statcache_open(dfd, &sc) == 0);
	CHECK(statcache_put(sc, &st, &h, now_ns() + 3000000000LL));
	statcache_close(sc);
	/* Flip one hash byte of every non-empty slot. */
	fd = open(scf, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0 && fstat(fd, &fst) == 0);
	len = (size_t)fst.st_size;
	buf = xmalloc(len);
	CHECK(pread_full(fd, buf, len, 0) == (ssize_t)len);
	for (off = 64; off < (off_t)len; off += 64) {
		size_t i;
		bool empty = true;

		for (i = 0; i < 64 && empty; i++)
			empty = !buf[off + i];
		if (!empty) {
			buf[off + 50] ^= 0xff;
			CHECK(pwrite(fd, buf + off, 64, off) == 64);
		}
	}
	close(fd);
	free(buf);
	CHECK(statcache_open(dfd, &sc) == 0);
	CHECK(!statcache_get(sc, &st, &got));
	statcache_close(sc);
	close(dfd);
	free(f);
	free(scf);
}

TEST(test_foreign_file_replaced)
{
	const char *dir = unit_tmpdir();
	int dfd = open_dir(dir);
	struct statcache *sc;
	char *scf = path_join(dir, "statcache");
	struct stat st;

	write_file(scf, "not a stat cache");
	CHECK(statcache_open(dfd, &sc) == 0);
	statcache_close(sc);
	CHECK(stat(scf, &st) == 0 && st.st_size > 1000000);
	close(dfd);
	free(scf);
}

TEST(test_many_files_fit)
{
	const char *dir = unit_tmpdir();
	int dfd = open_dir(dir);
	struct statcache *sc;
	struct stat st;
	struct pc_hash h, got;
	int i, found = 0;

	CHECK(statcache_open(dfd, &sc) == 0);
	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG | 0644;
	for (i = 0; i < 50000; i++) {
		st.st_ino = (ino_t)(1000 + i);
		pc_hash_buffer(&i, sizeof(i), &h);
		statcache_put(sc, &st, &h, now_ns());
	}
	for (i = 0; i < 50000; i++) {
		st.st_ino = (ino_t)(1000 + i);
		pc_hash_buffer(&i, sizeof(i), &h);
		if (statcache_get(sc, &st, &got) && pc_hash_equal(&got, &h))
			found++;
	}
	/* 2^18 slots in buckets of 4: nearly all of 50,000 stay. */
	CHECK(found > 49000);
	statcache_close(sc);
	close(dfd);
}

int main(void)
{
	RUN(test_put_get);
	RUN(test_same_tick_guard);
	RUN(test_hash_file_checks_identity);
	RUN(test_torn_record_is_a_miss);
	RUN(test_foreign_file_replaced);
	RUN(test_many_files_fit);
	return unit_done();
}

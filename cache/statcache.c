/*
 * The stat-keyed hash cache: (dev, ino, mode, size, mtime ns, ctime ns) ->
 * XXH3-128 of the file's bytes, so that checking a content precondition
 * of an unchanged file costs one lstat and one table probe instead of
 * reading the file.
 *
 * File format of $CACHE/statcache (all integers little-endian):
 *
 *	header, 64 bytes:
 *	  0  8	magic "PCSTATC\n"
 *	  8  4	version (1)
 *	 12  4	log2 of the number of slots (STATCACHE_LOG2_SLOTS)
 *	 16 48	zero
 *	then 2^log2 slots of 64 bytes:
 *	  0  8	st_dev		 8  8	st_ino
 *	 16  8	st_size		24  8	mtime, ns since the epoch (signed)
 *	 32  8	ctime, ns (signed)
 *	 40  4	st_mode (type and permission bits)
 *	 44  4	check: low 32 bits of XXH3-64 of bytes 0..43 and 48..63
 *	 48 16	XXH3-128 of the content (canonical, as struct pc_hash)
 *
 * A slot is valid only if its check matches, so an empty (all-zero) slot
 * and a torn write (two processes writing one slot at once; each write is
 * one pwrite() of 64 bytes) read as a miss. Slots are grouped in buckets
 * of 4, chosen by XXH3-64 of (dev, ino); a put replaces the slot of the
 * same (dev, ino), else an invalid slot, else one picked by the hash.
 * The file is a fixed-size sparse file, read and written one bucket or
 * slot at a time with pread()/pwrite(). (It used to be mapped: each probe
 * of a cold page then cost a page fault, several times a pread() here,
 * and unmapping 16 MiB cost each cache hit another 0.5 ms.) A file with
 * another magic, version or size is replaced by a fresh one (it is only a cache).
 *
 * The same-tick guard (ccache): a record is written only when the file's
 * mtime and ctime are at least 2 s older than the time hashing started.
 * A file rewritten within the timestamp granularity right after being
 * hashed could otherwise keep every stat field and be trusted with its
 * old hash. Files on pseudo file systems (/proc, /sys, ...) whose
 * timestamps say nothing about their content are never recorded.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "cache/internal.h"
#include "common/filestat.h"
#include "common/le.h"
#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/hash.h"
#include "common/xalloc.h"
#include "common/banned.h"

#define STATCACHE_MAGIC "PCSTATC\n"
#define STATCACHE_VERSION 1u
#define STATCACHE_LOG2_SLOTS 18u
#define SLOT_SIZE 64
#define HEADER_SIZE 64
#define BUCKET 4

#ifndef FUSE_SUPER_MAGIC
#define FUSE_SUPER_MAGIC 0x65735546
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif
#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif
#ifndef CONFIGFS_MAGIC
#define CONFIGFS_MAGIC 0x62656570
#endif

struct statcache {
	int fd;
	uint32_t nr_slots;
};

struct cache_statcache_counts statcache_counts;

static uint32_t slot_check(const unsigned char *slot)
{
	unsigned char tmp[SLOT_SIZE];

	memcpy(tmp, slot, SLOT_SIZE);
	memset(tmp + 44, 0, 4);
	return (uint32_t)XXH3_64bits(tmp, SLOT_SIZE);
}

static void slot_fill(unsigned char *slot, const struct stat *st,
		      const struct pc_hash *h)
{
	memset(slot, 0, SLOT_SIZE);
	le_put(slot, (uint64_t)st->st_dev, 8);
	le_put(slot + 8, (uint64_t)st->st_ino, 8);
	le_put(slot + 16, (uint64_t)st->st_size, 8);
	le_put(slot + 24, (uint64_t)timespec_ns(&st->st_mtim), 8);
	le_put(slot + 32, (uint64_t)timespec_ns(&st->st_ctim), 8);
	le_put(slot + 40, (uint64_t)st->st_mode, 4);
	if (h)
		memcpy(slot + 48, h->b, 16);
	le_put(slot + 44, slot_check(slot), 4);
}

static uint32_t bucket_of(const struct statcache *sc, const struct stat *st)
{
	uint64_t k[2] = { (uint64_t)st->st_dev, (uint64_t)st->st_ino };
	uint64_t h = XXH3_64bits(k, sizeof(k));

	return (uint32_t)(h & (sc->nr_slots - 1)) & ~(uint32_t)(BUCKET - 1);
}

static int create_file(int dirfd)
{
	unsigned char hdr[HEADER_SIZE] = { 0 };
	char tmp[64];
	off_t len = HEADER_SIZE + ((off_t)SLOT_SIZE << STATCACHE_LOG2_SLOTS);
	int fd, r = 0;

	memcpy(hdr, STATCACHE_MAGIC, 8);
	le_put(hdr + 8, STATCACHE_VERSION, 4);
	le_put(hdr + 12, STATCACHE_LOG2_SLOTS, 4);
	snprintf(tmp, sizeof(tmp), ".statcache.tmp.%ld", (long)getpid());
	fd = openat(dirfd, tmp,
		    O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (write_full(fd, hdr, sizeof(hdr)) < 0)
		r = -EIO;
	else if (ftruncate(fd, len) < 0)
		r = -errno;
	close(fd);
	/* Replaces a bad file; a concurrent creator's equal file is fine. */
	if (!r && renameat(dirfd, tmp, dirfd, "statcache") < 0)
		r = -errno;
	if (r)
		unlinkat(dirfd, tmp, 0);
	return r;
}

static int try_open(int dirfd, struct statcache *sc)
{
	unsigned char hdr[HEADER_SIZE];
	struct stat st;
	int fd;

	fd = openat(dirfd, "statcache", O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || pread_full(fd, hdr, sizeof(hdr), 0) !=
					  (ssize_t)sizeof(hdr)) {
		close(fd);
		return -EBADMSG;
	}
	if (memcmp(hdr, STATCACHE_MAGIC, 8) ||
	    le_get(hdr + 8, 4) != STATCACHE_VERSION ||
	    le_get(hdr + 12, 4) != STATCACHE_LOG2_SLOTS ||
	    !S_ISREG(st.st_mode) ||
	    st.st_size != HEADER_SIZE + ((off_t)SLOT_SIZE
					 << STATCACHE_LOG2_SLOTS)) {
		close(fd);
		return -EBADMSG;
	}
	sc->fd = fd;
	sc->nr_slots = 1u << STATCACHE_LOG2_SLOTS;
	return 0;
}

/* The BUCKET slots from @b on; false when they cannot be read. */
static bool read_bucket(const struct statcache *sc, uint32_t b,
			unsigned char buf[BUCKET * SLOT_SIZE])
{
	return pread_full(sc->fd, buf, BUCKET * SLOT_SIZE,
			  HEADER_SIZE + (off_t)b * SLOT_SIZE) == BUCKET * SLOT_SIZE;
}

int statcache_open(int cache_dirfd, struct statcache **out)
{
	struct statcache *sc = xcalloc(1, sizeof(*sc));
	int r = try_open(cache_dirfd, sc);

	if (r == -ENOENT || r == -EBADMSG) {
		r = create_file(cache_dirfd);
		if (!r)
			r = try_open(cache_dirfd, sc);
	}
	if (r < 0) {
		free(sc);
		*out = NULL;
		return r;
	}
	*out = sc;
	return 0;
}

void statcache_close(struct statcache *sc)
{
	if (!sc)
		return;
	close_preserve_errno(sc->fd);
	free(sc);
}

bool statcache_get(struct statcache *sc, const struct stat *st,
		   struct pc_hash *out)
{
	unsigned char want[SLOT_SIZE], bucket[BUCKET * SLOT_SIZE];
	uint32_t b, i;

	if (!sc)
		return false;
	slot_fill(want, st, NULL);
	b = bucket_of(sc, st);
	if (!read_bucket(sc, b, bucket))
		return false;
	for (i = 0; i < BUCKET; i++) {
		const unsigned char *slot = bucket + i * SLOT_SIZE;

		/* Key bytes 0..43 equal, and the slot whole. */
		if (memcmp(slot, want, 44) ||
		    (uint32_t)le_get(slot + 44, 4) != slot_check(slot))
			continue;
		memcpy(out->b, slot + 48, 16);
		return true;
	}
	return false;
}

bool statcache_put(struct statcache *sc, const struct stat *st,
		   const struct pc_hash *h, int64_t hashed_at_ns)
{
	unsigned char slot[SLOT_SIZE], bucket[BUCKET * SLOT_SIZE];
	uint32_t b, i, pick = BUCKET;

	if (!sc)
		return false;
	if (timespec_ns(&st->st_mtim) > hashed_at_ns - STATCACHE_MIN_AGE_NS ||
	    timespec_ns(&st->st_ctim) > hashed_at_ns - STATCACHE_MIN_AGE_NS)
		return false;
	slot_fill(slot, st, h);
	b = bucket_of(sc, st);
	if (!read_bucket(sc, b, bucket))
		return false;
	for (i = 0; i < BUCKET && pick == BUCKET; i++)
		if (!memcmp(bucket + i * SLOT_SIZE, slot, 16)) /* same dev, ino */
			pick = i;
	for (i = 0; i < BUCKET && pick == BUCKET; i++) {
		const unsigned char *cur = bucket + i * SLOT_SIZE;

		if ((uint32_t)le_get(cur + 44, 4) != slot_check(cur))
			pick = i;
	}
	if (pick == BUCKET)
		pick = (uint32_t)(XXH3_64bits(slot, 16) >> 40) % BUCKET;
	if (pwrite(sc->fd, slot, SLOT_SIZE,
		   HEADER_SIZE + (off_t)(b + pick) * SLOT_SIZE) != SLOT_SIZE)
		return false;
	statcache_counts.stored++;
	return true;
}

static bool pseudo_fs(int fd)
{
	struct statfs sfs;

	if (fstatfs(fd, &sfs) < 0)
		return true;
	switch ((unsigned long)sfs.f_type) {
	case PROC_SUPER_MAGIC:
	case SYSFS_MAGIC:
	case DEBUGFS_MAGIC:
	case TRACEFS_MAGIC:
	case CGROUP_SUPER_MAGIC:
	case CGROUP2_SUPER_MAGIC:
	case SECURITYFS_MAGIC:
	case BPF_FS_MAGIC:
	case CONFIGFS_MAGIC:
	case FUSE_SUPER_MAGIC:
		return true;
	default:
		return false;
	}
}

int statcache_hash_file(struct statcache *sc, int dirfd, const char *path,
			const struct stat *st, struct pc_hash *out, bool *vouched)
{
	_cleanup_close_ int fd = -1;
	struct timespec now;
	struct stat before, after;
	bool dummy;
	int r;

	if (!vouched)
		vouched = &dummy;
	*vouched = false;
	if (statcache_get(sc, st, out)) {
		statcache_counts.hits++;
		*vouched = true;
		return 0;
	}
	statcache_counts.misses++;
	clock_gettime(CLOCK_REALTIME, &now);
	do
		fd = openat(dirfd, path,
			    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY |
				    O_NONBLOCK);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &before) < 0)
		return -errno;
	/* The file opened must be the one lstat described. */
	if (!S_ISREG(before.st_mode))
		return -EINVAL;
	if (!stat_same_file(&before, st))
		return -ESTALE;
	r = pc_hash_fd(fd, out, NULL);
	if (r < 0)
		return r;
	if (fstat(fd, &after) < 0)
		return -errno;
	if (!stat_same_file(&before, &after))
		return -ESTALE;
	if (!pseudo_fs(fd))
		*vouched = statcache_put(sc, &after, out, timespec_ns(&now)) &&
			   stat_same_file(&after, st);
	return 0;
}

/*
 * Comparing stat results: one definition of "the same file, unchanged".
 */
#ifndef PROCACHE_COMMON_FILESTAT_H
#define PROCACHE_COMMON_FILESTAT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

/*
 * True when @a and @b describe the same inode with nothing changed that
 * a write, truncate, chmod, chown or rename onto it would change: device,
 * inode, size, mtime and ctime (to the nanosecond) are equal. (A write
 * that restores every one of them within one clock tick is not seen:
 * callers that trust this, as the stat cache does, only trust files whose
 * times are old enough.)
 */
static inline bool stat_same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* A timespec as nanoseconds since the epoch. */
static inline int64_t timespec_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

#endif

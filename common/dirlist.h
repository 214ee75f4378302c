/*
 * The canonical hash of a directory listing: the "listing" precondition.
 *
 * The tracer (sandbox/trace-observe.c) computes it when a job reads a host
 * directory, and the cache (cache/lookup.c) recomputes it on lookup; both
 * must call this one function so the two agree byte for byte.
 *
 * Encoding (on-disk relevant: entries store the resulting hash). The
 * entries other than "." and ".." are sorted by name, bytewise (memcmp),
 * and each is added to a struct keyenc (common/hash.h) as one field:
 *
 *	tag	"e"
 *	data	the name's bytes, then one byte: the entry's type as a
 *		d_type value (DT_REG 8, DT_DIR 4, DT_LNK 10, DT_CHR 2,
 *		DT_BLK 6, DT_FIFO 1, DT_SOCK 12)
 *
 * preceded by one field "dirlist" holding the string "procache-dirlist-1".
 * The listing hash is keyenc_hash() of that encoding. DT_UNKNOWN from the
 * file system is resolved with fstatat(AT_SYMLINK_NOFOLLOW); an entry that
 * vanished in between is left out (the directory changed while read).
 * Changing any of this changes every stored listing precondition: bump the
 * version string and the cache format together.
 */
#ifndef PROCACHE_COMMON_DIRLIST_H
#define PROCACHE_COMMON_DIRLIST_H

#include <stddef.h>

#include "common/hash.h"

/*
 * Hash the listing of the directory @path relative to @dirfd (AT_FDCWD
 * allowed; an empty @path is not allowed). The last component is not
 * followed if it is a symlink (O_NOFOLLOW|O_DIRECTORY: the kernel gives
 * -ENOTDIR) and must be a directory
 * (-ENOTDIR). Stores the hash in *@out and, when @nr_entries is not NULL,
 * the number of entries (without "." and "..") in *@nr_entries.
 * Returns 0 or -errno (from open, getdents64 or fstatat); *@out is
 * unspecified on error. Allocation failure dies (x-allocators).
 */
int dirlist_hash_at(int dirfd, const char *path, struct pc_hash *out,
		    size_t *nr_entries);

/*
 * The same for an already-open directory fd @fd (read from its start: the
 * offset is rewound with lseek). @fd is not closed.
 */
int dirlist_hash_fd(int fd, struct pc_hash *out, size_t *nr_entries);

/*
 * dirlist_hash_at() without the entries that @hidden names: the listing a
 * job sees of a directory some of whose entries were removed from its
 * view (its declared outputs, DESIGN.md §2). @dir is the directory's
 * absolute name as the caller's observation names it (@path, or what
 * @dirfd and @path resolve to beneath a root); of the @nr_hidden absolute
 * paths in @hidden, those whose parent is @dir name the entries left out,
 * the others are ignored. The other entries are encoded as above, so the
 * hash is dirlist_hash_at()'s when nothing is left out.
 */
int dirlist_hash_at_hiding(int dirfd, const char *path, const char *dir,
			   const char *const *hidden, size_t nr_hidden,
			   struct pc_hash *out, size_t *nr_entries);

#endif

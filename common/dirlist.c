/*
 * Listing hash; the encoding is specified in common/dirlist.h.
 */
#include "common/dirlist.h"

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "common/banned.h"

#define DIRLIST_VERSION "procache-dirlist-1"

struct dirlist_entry {
	char *name;
	unsigned char type;
};

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static int entry_cmp(const void *a, const void *b)
{
	const struct dirlist_entry *x = a, *y = b;

	return strcmp(x->name, y->name); /* bytewise: strcmp compares as unsigned char */
}

static unsigned char mode_to_dtype(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return DT_REG;
	case S_IFDIR: return DT_DIR;
	case S_IFLNK: return DT_LNK;
	case S_IFCHR: return DT_CHR;
	case S_IFBLK: return DT_BLK;
	case S_IFIFO: return DT_FIFO;
	case S_IFSOCK: return DT_SOCK;
	}
	return DT_UNKNOWN;
}

static bool is_skipped(const char *name, const char *const *skip, size_t nr_skip)
{
	for (size_t i = 0; i < nr_skip; i++)
		if (!strcmp(name, skip[i]))
			return true;
	return false;
}

static int hash_fd_skipping(int fd, const char *const *skip, size_t nr_skip,
			    struct pc_hash *out, size_t *nr_entries)
{
	struct dirlist_entry *ents = NULL;
	size_t nr = 0, alloc = 0, i;
	char buf[32768] __attribute__((aligned(8)));
	struct keyenc k;
	int ret = 0;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));
		long off;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		if (n == 0)
			break;
		for (off = 0; off < n;) {
			struct linux_dirent64 *d = (void *)(buf + off);
			unsigned char type = d->d_type;

			off += d->d_reclen;
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..") ||
			    is_skipped(d->d_name, skip, nr_skip))
				continue;
			if (type == DT_UNKNOWN) {
				struct stat st;

				if (fstatat(fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
					if (errno == ENOENT)
						continue;
					ret = -errno;
					goto out;
				}
				type = mode_to_dtype(st.st_mode);
			}
			ALLOC_GROW(ents, nr + 1, alloc);
			ents[nr].name = xstrdup(d->d_name);
			ents[nr].type = type;
			nr++;
		}
	}
	if (nr)
		qsort(ents, nr, sizeof(*ents), entry_cmp);
	keyenc_init(&k);
	keyenc_add_str(&k, "dirlist", DIRLIST_VERSION);
	for (i = 0; i < nr; i++) {
		size_t len = strlen(ents[i].name);
		_cleanup_free_ char *field = xmalloc(len + 1);

		memcpy(field, ents[i].name, len);
		field[len] = (char)ents[i].type;
		keyenc_add(&k, "e", field, len + 1);
	}
	keyenc_hash(&k, out);
	keyenc_release(&k);
	if (nr_entries)
		*nr_entries = nr;
out:
	for (i = 0; i < nr; i++)
		free(ents[i].name);
	free(ents);
	return ret;
}

int dirlist_hash_fd(int fd, struct pc_hash *out, size_t *nr_entries)
{
	return hash_fd_skipping(fd, NULL, 0, out, nr_entries);
}

int dirlist_hash_at_hiding(int dirfd, const char *path, const char *dir,
			   const char *const *hidden, size_t nr_hidden,
			   struct pc_hash *out, size_t *nr_entries)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ const char **skip = NULL;
	size_t nr_skip = 0, dlen = dir ? strlen(dir) : 0;

	if (!path || !*path)
		return -EINVAL;
	/* "/" is the parent of "/x": compare without a trailing slash */
	if (dlen && dir[dlen - 1] == '/')
		dlen--;
	for (size_t i = 0; i < nr_hidden; i++) {
		const char *h = hidden[i], *slash = strrchr(h, '/');

		if (!dir || !slash || (size_t)(slash - h) != dlen ||
		    strncmp(h, dir, dlen) || !slash[1])
			continue;
		if (!skip)
			skip = xcalloc(nr_hidden, sizeof(*skip));
		skip[nr_skip++] = slash + 1;
	}
	fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	return hash_fd_skipping(fd, skip, nr_skip, out, nr_entries);
}

int dirlist_hash_at(int dirfd, const char *path, struct pc_hash *out,
		    size_t *nr_entries)
{
	return dirlist_hash_at_hiding(dirfd, path, NULL, NULL, 0, out, nr_entries);
}

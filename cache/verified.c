/*
 * An entry's verified stats: the stats under which its content
 * preconditions last held, so that the next lookup of the same entry
 * checks each by its lstat alone, without a probe of the stat cache (one
 * pread() per content precondition; a gcc hit has some 80 of them).
 *
 * keys/ab/<key>/<id>.verified, beside the entry, local to this cache
 * (never uploaded: inode numbers are this machine's). All integers
 * little-endian:
 *
 *	header, 24 bytes:
 *	  0  8	magic "PCVERIF\n"
 *	  8  4	version (1)
 *	 12  4	number of records, n
 *	 16  4	the entry's number of preconditions
 *	 20  4	zero
 *	then n records of 48 bytes, by ascending index:
 *	  0  4	index of the precondition in the entry (a content one)
 *	  4  4	st_mode (type and permission bits)
 *	  8  8	st_dev		16  8	st_ino
 *	 24  8	st_size		32  8	mtime, ns since the epoch (signed)
 *	 40  8	ctime, ns (signed)
 *	then 8 bytes: XXH3-64 of everything before
 *
 * A record says what a stat-cache record says (cache/statcache.c: the
 * same key, the same two-second rule), narrowed to one entry: a file with
 * exactly this stat has the content hash that the entry's precondition
 * at that index expects. It is written only for files whose hash the
 * stat cache vouched for at a hit (a record found, or one it took), so a
 * record is trusted exactly as far as the stat cache is. A file whose
 * stat differs is checked the usual way. Anything else in the file (a
 * torn write, another version, another entry's precondition count, an
 * index out of order or of another kind) makes the whole file unused.
 * Written by write_file_atomic_at() (temp file + rename) after a hit
 * that checked a content precondition without it; removed with the entry.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "cache/cache.h"
#include "cache/internal.h"
#include "common/cleanup.h"
#include "common/die.h"
#include "common/fdio.h"
#include "common/filestat.h"
#include "common/le.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

#define VERIFIED_MAGIC "PCVERIF\n"
#define VERIFIED_VERSION 1u
#define HEAD_SIZE 24
#define REC_SIZE 48
#define TAIL_SIZE 8
/* more records than an entry can have preconditions is corrupt anyway;
 * this bounds the read */
#define VERIFIED_MAX_RECORDS (1u << 20)

struct verified_rec {
	uint32_t mode;
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
};

struct verified {
	size_t nr_pre;
	/* by precondition index; NULL for one without a record */
	struct verified_rec **at;
	struct verified_rec *recs;
};

static void rec_of_stat(struct verified_rec *r, const struct stat *st)
{
	r->mode = (uint32_t)st->st_mode;
	r->dev = (uint64_t)st->st_dev;
	r->ino = (uint64_t)st->st_ino;
	r->size = (uint64_t)st->st_size;
	r->mtime_ns = timespec_ns(&st->st_mtim);
	r->ctime_ns = timespec_ns(&st->st_ctim);
}

static void rec_encode(unsigned char *p, uint32_t index,
		       const struct verified_rec *r)
{
	le_put(p, index, 4);
	le_put(p + 4, r->mode, 4);
	le_put(p + 8, r->dev, 8);
	le_put(p + 16, r->ino, 8);
	le_put(p + 24, r->size, 8);
	le_put(p + 32, (uint64_t)r->mtime_ns, 8);
	le_put(p + 40, (uint64_t)r->ctime_ns, 8);
}

/* "ab/<key>/<id>.verified" of the entry file @entry_rel */
static void verified_rel(const char *entry_rel, struct strbuf *out)
{
	strbuf_reset(out);
	strbuf_add(out, entry_rel, strlen(entry_rel) - ENTRY_SUFFIX_LEN);
	strbuf_addstr(out, VERIFIED_SUFFIX);
}

static int parse(struct verified *v, const unsigned char *buf, size_t len,
		 const struct cache_entry *e)
{
	uint32_t n, last = 0;

	if (len < HEAD_SIZE + TAIL_SIZE || memcmp(buf, VERIFIED_MAGIC, 8) ||
	    le_get(buf + 8, 4) != VERIFIED_VERSION ||
	    le_get(buf + 16, 4) != e->nr_pre || le_get(buf + 20, 4))
		return -EBADMSG;
	n = (uint32_t)le_get(buf + 12, 4);
	if (n > VERIFIED_MAX_RECORDS ||
	    len != HEAD_SIZE + (size_t)n * REC_SIZE + TAIL_SIZE ||
	    le_get(buf + len - TAIL_SIZE, 8) != XXH3_64bits(buf, len - TAIL_SIZE))
		return -EBADMSG;
	v->recs = xcalloc(n ? n : 1, sizeof(*v->recs));
	for (uint32_t i = 0; i < n; i++) {
		const unsigned char *p = buf + HEAD_SIZE + (size_t)i * REC_SIZE;
		uint32_t index = (uint32_t)le_get(p, 4);
		struct verified_rec *r = &v->recs[i];

		if (index >= e->nr_pre || (i && index <= last) ||
		    e->pre[index].kind != PRE_CONTENT)
			return -EBADMSG;
		last = index;
		r->mode = (uint32_t)le_get(p + 4, 4);
		r->dev = le_get(p + 8, 8);
		r->ino = le_get(p + 16, 8);
		r->size = le_get(p + 24, 8);
		r->mtime_ns = (int64_t)le_get(p + 32, 8);
		r->ctime_ns = (int64_t)le_get(p + 40, 8);
		v->at[index] = r;
	}
	return 0;
}

struct verified *verified_load(struct cache *c, const char *entry_rel,
			       const struct cache_entry *e)
{
	_cleanup_strbuf_ struct strbuf rel = STRBUF_INIT;
	_cleanup_free_ unsigned char *buf = NULL;
	_cleanup_close_ int fd = -1;
	struct verified *v;
	struct stat st;
	size_t len;

	verified_rel(entry_rel, &rel);
	do
		fd = openat(c->keys_fd, rel.buf, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > HEAD_SIZE + TAIL_SIZE +
					   (uint64_t)VERIFIED_MAX_RECORDS * REC_SIZE)
		return NULL;
	len = (size_t)st.st_size;
	buf = xmalloc(len ? len : 1);
	if (read_full(fd, buf, len) != (ssize_t)len)
		return NULL;
	v = xcalloc(1, sizeof(*v));
	v->nr_pre = e->nr_pre;
	v->at = xcalloc(e->nr_pre ? e->nr_pre : 1, sizeof(*v->at));
	if (parse(v, buf, len, e) < 0) {
		debug("ignoring the verified stats '%s': not of this entry",
		      rel.buf);
		verified_free(v);
		return NULL;
	}
	return v;
}

bool verified_holds(const struct verified *v, size_t index,
		    const struct stat *st)
{
	struct verified_rec now;
	const struct verified_rec *r;

	if (!v || index >= v->nr_pre || !(r = v->at[index]))
		return false;
	rec_of_stat(&now, st);
	return r->mode == now.mode && r->dev == now.dev && r->ino == now.ino &&
	       r->size == now.size && r->mtime_ns == now.mtime_ns &&
	       r->ctime_ns == now.ctime_ns;
}

int verified_save(struct cache *c, const char *entry_rel,
		  const struct cache_entry *e, const struct stat *const *stats)
{
	_cleanup_strbuf_ struct strbuf rel = STRBUF_INIT;
	_cleanup_free_ unsigned char *buf = NULL;
	_cleanup_close_ int dfd = -1;
	const char *slash;
	size_t n = 0, len;
	unsigned char *p;

	for (size_t i = 0; i < e->nr_pre; i++)
		n += stats[i] != NULL;
	len = HEAD_SIZE + n * REC_SIZE + TAIL_SIZE;
	buf = xcalloc(1, len);
	memcpy(buf, VERIFIED_MAGIC, 8);
	le_put(buf + 8, VERIFIED_VERSION, 4);
	le_put(buf + 12, n, 4);
	le_put(buf + 16, e->nr_pre, 4);
	p = buf + HEAD_SIZE;
	for (size_t i = 0; i < e->nr_pre; i++) {
		struct verified_rec r;

		if (!stats[i])
			continue;
		rec_of_stat(&r, stats[i]);
		rec_encode(p, (uint32_t)i, &r);
		p += REC_SIZE;
	}
	le_put(p, XXH3_64bits(buf, len - TAIL_SIZE), 8);

	verified_rel(entry_rel, &rel);
	slash = strrchr(rel.buf, '/');
	if (!slash)
		return -EINVAL;
	rel.buf[slash - rel.buf] = '\0';
	do
		dfd = openat(c->keys_fd, rel.buf,
			     O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	while (dfd < 0 && errno == EINTR);
	if (dfd < 0)
		return -errno;
	return write_file_atomic_at(dfd, slash + 1, buf, len, 0600, 0);
}

void verified_remove(struct cache *c, const char *entry_rel)
{
	_cleanup_strbuf_ struct strbuf rel = STRBUF_INIT;

	verified_rel(entry_rel, &rel);
	unlinkat(c->keys_fd, rel.buf, 0);
}

void verified_free(struct verified *v)
{
	if (!v)
		return;
	free(v->at);
	free(v->recs);
	free(v);
}

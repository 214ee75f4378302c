/*
 * Entry files: keys/ab/<32 hex key>/<16 hex id>.entry (the format is
 * cache/entry.c's) and their hit counts, <id>.hits beside them (one byte
 * appended per hit, so the size is the count; O_APPEND, no lock): reading
 * one (checked against its name), removing one, counting a hit. Their
 * names come from cache/layout.c; entries are written by cache/store.c
 * (temp file + rename).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/cache.h"
#include "cache/internal.h"
#include "common/cleanup.h"
#include "common/die.h"
#include "common/fdio.h"
#include "common/hash.h"
#include "common/strbuf.h"
#include "common/banned.h"

int entryfile_read(struct cache *c, const char *relpath, unsigned flags,
		   struct cache_entry **out, struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf buf = STRBUF_INIT;
	_cleanup_close_ int fd = -1;
	char key[PC_HASH_HEX_LEN + 1], id[ENTRY_ID_LEN + 1];
	struct cache_entry *e;
	struct stat st;
	ssize_t n;
	int r;

	*out = NULL;
	if (!layout_parse_entry_rel(relpath, key, id)) {
		strbuf_addf(err, "bad entry name '%s'", relpath);
		return -EINVAL;
	}
	do
		fd = openat(c->keys_fd, relpath,
			    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY |
				    O_NONBLOCK);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		r = -errno;
		if (r != -ENOENT)
			strbuf_addf(err, "cannot open entry '%s': %s", relpath,
				    strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode)) {
		strbuf_addstr(err, "not a regular file");
		return -EBADMSG;
	}
	if ((uint64_t)st.st_size > ENTRY_MAX_LEN) {
		strbuf_addstr(err, "too large");
		return -EBADMSG;
	}
	n = strbuf_read_fd(&buf, fd, (size_t)st.st_size);
	if (n < 0) {
		strbuf_addf(err, "cannot read entry '%s': %s", relpath,
			    strerror((int)-n));
		return (int)n;
	}
	r = entry_decode_flags(buf.buf, buf.len, flags, &e, err);
	if (r < 0)
		return r;
	if (strcmp(e->key_hex, key)) {
		cache_entry_free(e);
		strbuf_addstr(err, "entry stored under another key");
		return -EBADMSG;
	}
	memcpy(e->id_hex, id, sizeof(e->id_hex));
	snprintf(e->name, sizeof(e->name), "%s/%s", key, id);
	e->mtime = st.st_mtim.tv_sec;
	e->file_size = (uint64_t)st.st_size;
	*out = e;
	return 0;
}

int entryfile_write(struct cache *c, const char *key_hex,
		    const char *id_hex, const struct strbuf *data,
		    struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf dir = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf name = STRBUF_INIT;
	int tries, r = 0;

	layout_key_dir(key_hex, &dir);
	strbuf_addf(&name, "%s" ENTRY_SUFFIX, id_hex);
	/* A concurrent gc may remove the key directory once it is empty. */
	for (tries = 0; tries < 3; tries++) {
		_cleanup_close_ int dfd = -1;

		r = mkdir_p_at(c->keys_fd, dir.buf, 0700);
		if (r < 0 && r != -EEXIST)
			break;
		dfd = cache_open_dir_at(c->keys_fd, dir.buf);
		if (dfd < 0) {
			r = dfd;
			continue;
		}
		r = write_file_atomic_at(dfd, name.buf, data->buf, data->len,
					 0444, 0);
		if (r != -ENOENT)
			break;
	}
	if (r < 0)
		strbuf_addf(err, "cannot write cache entry '%s/keys/%s/%s': %s",
			    c->path, dir.buf, name.buf, strerror(-r));
	return r;
}

bool entry_rebase(struct cache *c, struct cache_entry *e)
{
	if (!e->base_relative || e->rebased)
		return true;
	if (!c->base_dir)
		return false;
	entry_paths_rebase(e, c->base_dir);
	return true;
}

int entryfile_remove(struct cache *c, const char *relpath)
{
	_cleanup_strbuf_ struct strbuf hits = STRBUF_INIT;
	int r = 0;

	if (unlinkat(c->keys_fd, relpath, 0) < 0) {
		r = -errno;
		if (r != -ENOENT)
			return r;
	}
	layout_hits_rel(relpath, &hits);
	unlinkat(c->keys_fd, hits.buf, 0);
	verified_remove(c, relpath);
	return r;
}

void entryfile_drop(struct cache *c, const char *relpath, const char *why)
{
	struct stat st;

	warn("removing corrupt cache entry '%s': %s", relpath, why);
	if (fstatat(c->keys_fd, relpath, &st, AT_SYMLINK_NOFOLLOW) == 0)
		stats_add_bytes(c, -(int64_t)st.st_size);
	entryfile_remove(c, relpath);
}

void entryfile_count_hit(struct cache *c, const char *relpath)
{
	_cleanup_strbuf_ struct strbuf hits = STRBUF_INIT;
	_cleanup_close_ int fd = -1;

	layout_hits_rel(relpath, &hits);
	fd = openat(c->keys_fd, hits.buf,
		    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0 && write_full(fd, "h", 1) < 0)
		debug("cannot count a hit in '%s'", hits.buf);
}

uint64_t entryfile_hits(struct cache *c, const char *relpath)
{
	_cleanup_strbuf_ struct strbuf hits = STRBUF_INIT;
	struct stat st;

	layout_hits_rel(relpath, &hits);
	if (fstatat(c->keys_fd, hits.buf, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	return (uint64_t)st.st_size;
}

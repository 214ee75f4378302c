/*
 * The one walk over the store: every entry file keys/ab/<key>/<id>.entry
 * and every blob blobs/ab/<hash>, with the names of cache/internal.h
 * checked on the way (a fan-out directory's name is the first digits of
 * the keys or hashes in it). gc, ls, `cache show`, verify, stats and the
 * explain scan use it; lookup lists one key's directory with it.
 *
 * Side files of an entry (<id>.hits, <id>.verified) are neither entries
 * nor strays. Temporary files (CACHE_TMP_PREFIX) are never reported; with
 * CACHE_WALK_CLEAN those older than CACHE_GC_GRACE_S are removed, a writer
 * that left them having died, and so are key directories left empty.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache/cache.h"
#include "cache/internal.h"
#include "common/cleanup.h"
#include "common/hash.h"
#include "common/strbuf.h"
#include "common/banned.h"

struct walk {
	struct cache *c;
	unsigned flags;
	cache_walk_fn fn;
	void *data;
	time_t now;
	unsigned fanouts;
	struct strbuf rel; /* of the directory being walked */
};

static bool is_dot(const char *name)
{
	return !strcmp(name, ".") || !strcmp(name, "..");
}

/* Call the callback for @name in @dirfd (below w->rel). */
static int walk_emit(struct walk *w, enum cache_walk_kind kind, int dirfd,
		     const char *name, const char *id, const struct stat *st)
{
	size_t len = w->rel.len;
	struct cache_walk_item it = {
		.kind = kind, .dirfd = dirfd, .id = id, .st = st,
		.fanouts = w->fanouts,
	};
	int r;

	if (len)
		strbuf_addch(&w->rel, '/');
	strbuf_addstr(&w->rel, name);
	it.rel = w->rel.buf;
	it.name = w->rel.buf + (len ? len + 1 : 0);
	r = w->fn(w->c, &it, w->data);
	strbuf_setlen(&w->rel, len);
	return r;
}

static int walk_stray(struct walk *w, int dirfd, const char *name)
{
	if (!(w->flags & CACHE_WALK_STRAYS))
		return 0;
	return walk_emit(w, CACHE_WALK_STRAY, dirfd, name, NULL, NULL);
}

/*
 * Is @name a temporary file? With CACHE_WALK_CLEAN, one older than the
 * grace period is removed.
 */
static bool walk_tmp(struct walk *w, int dirfd, const char *name)
{
	struct stat st;

	if (!layout_is_tmp(name))
		return false;
	if ((w->flags & CACHE_WALK_CLEAN) &&
	    fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_mtime + CACHE_GC_GRACE_S < w->now)
		unlinkat(dirfd, name, 0);
	return true;
}

/* The entries of the key directory @kd, named @key (w->rel: "ab/<key>"). */
static int walk_key_dir(struct walk *w, DIR *kd, const char *key)
{
	struct dirent *de;
	int r = 0;

	while (!r && (de = readdir(kd))) {
		char id[ENTRY_NAME_LEN + 1];
		struct stat st;

		if (is_dot(de->d_name) || walk_tmp(w, dirfd(kd), de->d_name))
			continue;
		if (!layout_is_entry_file(de->d_name)) {
			if (!layout_is_side_file(de->d_name))
				r = walk_stray(w, dirfd(kd), de->d_name);
			continue;
		}
		if (fstatat(dirfd(kd), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		snprintf(id, sizeof(id), "%s/%.*s", key, ENTRY_ID_LEN, de->d_name);
		r = walk_emit(w, CACHE_WALK_ENTRY, dirfd(kd), de->d_name, id, &st);
	}
	return r;
}

/* The key directories of the fan-out directory @d, named @ab. */
static int walk_keys_fanout(struct walk *w, DIR *d, const char *ab)
{
	struct dirent *de;
	int r = 0;

	while (!r && (de = readdir(d))) {
		_cleanup_closedir_ DIR *kd = NULL;
		const char *key = de->d_name;
		size_t len = w->rel.len;
		struct stat st;

		if (is_dot(key))
			continue;
		if (!cache_is_hex(key, PC_HASH_HEX_LEN) ||
		    strncmp(key, ab, CACHE_FANOUT_LEN) ||
		    !(kd = cache_opendir_at(dirfd(d), key))) {
			r = walk_stray(w, dirfd(d), key);
			continue;
		}
		if ((w->flags & CACHE_WALK_KEYS) && fstat(dirfd(kd), &st) == 0) {
			r = walk_emit(w, CACHE_WALK_KEY, dirfd(d), key, key, &st);
			if (r == CACHE_WALK_SKIP) {
				r = 0;
				continue;
			}
			if (r)
				break;
		}
		strbuf_addf(&w->rel, "/%s", key);
		r = walk_key_dir(w, kd, key);
		strbuf_setlen(&w->rel, len);
		if (!r && (w->flags & CACHE_WALK_CLEAN))
			unlinkat(dirfd(d), key, AT_REMOVEDIR); /* if empty */
	}
	return r;
}

/* The blobs of the fan-out directory @d, named @ab. */
static int walk_blobs_fanout(struct walk *w, DIR *d, const char *ab)
{
	struct dirent *de;
	int r = 0;

	while (!r && (de = readdir(d))) {
		struct stat st;

		if (is_dot(de->d_name) || walk_tmp(w, dirfd(d), de->d_name))
			continue;
		if (!cache_is_hex(de->d_name, PC_HASH_HEX_LEN) ||
		    strncmp(de->d_name, ab, CACHE_FANOUT_LEN)) {
			r = walk_stray(w, dirfd(d), de->d_name);
			continue;
		}
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		r = walk_emit(w, CACHE_WALK_BLOB, dirfd(d), de->d_name,
			      de->d_name, &st);
	}
	return r;
}

/* The fan-out directories of @topfd (keys/ or blobs/). */
static int walk_top(struct walk *w, int topfd,
		    int (*fanout)(struct walk *, DIR *, const char *))
{
	_cleanup_closedir_ DIR *top = cache_opendir_at(topfd, ".");
	struct dirent *de;
	int r = 0;

	if (!top)
		return -errno;
	while (!r && (de = readdir(top))) {
		_cleanup_closedir_ DIR *d = NULL;

		if (de->d_name[0] == '.')
			continue;
		if (!cache_is_hex(de->d_name, CACHE_FANOUT_LEN) ||
		    !(d = cache_opendir_at(topfd, de->d_name))) {
			r = walk_stray(w, topfd, de->d_name);
			continue;
		}
		w->fanouts++;
		strbuf_addstr(&w->rel, de->d_name);
		r = fanout(w, d, de->d_name);
		strbuf_reset(&w->rel);
	}
	return r;
}

static void walk_init(struct walk *w, struct cache *c, unsigned flags,
		      cache_walk_fn fn, void *data)
{
	w->c = c;
	w->flags = flags;
	w->fn = fn;
	w->data = data;
	w->now = time(NULL);
	w->fanouts = 0;
	strbuf_init(&w->rel, ENTRY_REL_LEN + 1);
}

/* keys/ or blobs/, whose fan-out directories @fanout walks. */
static int walk_tree(struct cache *c, unsigned flags, cache_walk_fn fn,
		     void *data, int topfd,
		     int (*fanout)(struct walk *, DIR *, const char *))
{
	struct walk w;
	int r;

	walk_init(&w, c, flags, fn, data);
	r = walk_top(&w, topfd, fanout);
	strbuf_release(&w.rel);
	return r;
}

int cache_walk_entries(struct cache *c, unsigned flags, cache_walk_fn fn,
		       void *data)
{
	return walk_tree(c, flags, fn, data, c->keys_fd, walk_keys_fanout);
}

int cache_walk_blobs(struct cache *c, unsigned flags, cache_walk_fn fn,
		     void *data)
{
	return walk_tree(c, flags, fn, data, c->blobs_fd, walk_blobs_fanout);
}

int cache_walk_key(struct cache *c, const char *key_hex, unsigned flags,
		   cache_walk_fn fn, void *data)
{
	_cleanup_closedir_ DIR *kd = NULL;
	struct walk w;
	int r;

	walk_init(&w, c, flags, fn, data);
	layout_key_dir(key_hex, &w.rel);
	kd = cache_opendir_at(c->keys_fd, w.rel.buf);
	if (!kd) {
		r = errno == ENOENT ? 0 : -errno;
	} else {
		w.fanouts = 1;
		r = walk_key_dir(&w, kd, key_hex);
	}
	strbuf_release(&w.rel);
	return r;
}

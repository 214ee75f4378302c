/*
 * Records: the builder a miss fills (preconditions as the tracer reports
 * them, the result, the diff) before cache_store() turns it into an entry,
 * and the check of everything cache_store() refuses to write.
 *
 * A record is a struct cache_entry still being built (cache/entry.c turns
 * it into the entry format) plus what only building needs: which (kind,
 * path) pairs were recorded already (the first observation counts) and
 * the captured files (src) that cache_store() moves into the blob store.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cache/cache.h"
#include "cache/internal.h"
#include "common/die.h"
#include "common/filestat.h"
#include "common/hash.h"
#include "common/strbuf.h"
#include "common/strmap.h"
#include "common/xalloc.h"
#include "common/banned.h"

#ifndef PROCACHE_VERSION
#define PROCACHE_VERSION "unknown"
#endif

void cache_record_set_relocatable(struct cache_record *r)
{
	r->relocatable = true;
}

void cache_record_set_copy_files(struct cache_record *r)
{
	r->copy_files = true;
}

void cache_record_set_no_gc(struct cache_record *r)
{
	r->no_gc = true;
}

struct cache_record *cache_record_new(const struct cache_key *k)
{
	struct cache_record *r = xcalloc(1, sizeof(*r));

	key_finalize(k);
	memcpy(r->e.key_hex, k->hex, sizeof(r->e.key_hex));
	r->e.fields = key_fields_copy(k->fields, k->nr);
	r->e.nr_fields = k->nr;
	r->e.version = xstrdup(PROCACHE_VERSION);
	r->seen = strmap_new();
	return r;
}

void cache_record_free(struct cache_record *r)
{
	if (!r)
		return;
	entry_release(&r->e);
	strmap_free(r->seen);
	free(r);
}

/* A new precondition, or NULL when (kind, path) was already recorded. */
static struct precondition *pre_add(struct cache_record *r, enum pre_kind kind,
				    const char *path)
{
	struct strbuf key = STRBUF_INIT;
	struct precondition *p;
	long dup;

	strbuf_addch(&key, 'a' + (int)kind);
	strbuf_addstr(&key, path);
	dup = strmap_put(r->seen, key.buf, key.len, (long)r->e.nr_pre);
	strbuf_release(&key);
	if (dup >= 0)
		return NULL;
	ALLOC_GROW(r->e.pre, r->e.nr_pre + 1, r->e.alloc_pre);
	p = &r->e.pre[r->e.nr_pre++];
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->path = xstrdup(path);
	return p;
}

void cache_record_add_content(struct cache_record *r, const char *path,
			      const struct pc_hash *h, mode_t mode)
{
	struct precondition *p = pre_add(r, PRE_CONTENT, path);

	if (!p)
		return;
	p->hash = *h;
	p->mode = mode;
}

void cache_record_add_absent(struct cache_record *r, const char *path)
{
	pre_add(r, PRE_ABSENT, path);
}

/*
 * The content of a regular file the job only stat-ed, if it is still what
 * the job saw (same dev, ino, size, mtime and ctime before and after
 * hashing) and not larger than STAT_HASH_MAX. With --mtime=content the
 * mtime a stat showed may change as long as the bytes stay: a stat does
 * not show them, but the mtime is how tools decide whether to read them
 * (make's targets, python's .pyc next to its source), so an edit of the
 * same size must still miss, and only the bytes tell it from a touch.
 * Without a hash, any mtime change misses.
 */
#define STAT_HASH_MAX (16u << 20)

static bool stat_content_hash(const char *path, const struct stat *seen,
			      struct pc_hash *out)
{
	struct stat before, after;

	if (seen->st_size > STAT_HASH_MAX || lstat(path, &before) < 0 ||
	    !S_ISREG(before.st_mode) || !stat_same_file(&before, seen) ||
	    pc_hash_file_at(AT_FDCWD, path, out, NULL) < 0 ||
	    lstat(path, &after) < 0 || !stat_same_file(&after, seen))
		return false;
	return true;
}

static struct precondition *add_stat(struct cache_record *r, const char *path,
				     const struct stat *st, unsigned how,
				     const struct pc_hash *h);

void cache_record_add_stat(struct cache_record *r, const char *path,
			   const struct stat *st, unsigned how)
{
	add_stat(r, path, st, how, NULL);
}

void cache_record_add_stat_hash(struct cache_record *r, const char *path,
				const struct stat *st, unsigned how,
				const struct pc_hash *h)
{
	add_stat(r, path, st, how | CACHE_STAT_CONTENT, h);
}

/* With CACHE_STAT_CONTENT: @h, or NULL to hash the file at @path now. */
static struct precondition *add_stat(struct cache_record *r, const char *path,
				     const struct stat *st, unsigned how,
				     const struct pc_hash *h)
{
	struct precondition *p = pre_add(r, PRE_STAT, path);
	bool strict = how & CACHE_STAT_STRICT;

	if (!p)
		return NULL;
	p->mode = st->st_mode;
	p->uid = st->st_uid;
	p->gid = st->st_gid;
	p->size = S_ISREG(st->st_mode) ? (uint64_t)st->st_size : 0;
	/* A stat shows it (stat -c %h); a directory's is left out: it counts
	 * subdirectories, which a job's own outputs change. */
	p->nlink = S_ISREG(st->st_mode) ? (uint64_t)st->st_nlink : 0;
	p->strict = strict;
	if (strict) {
		p->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000LL +
			      st->st_mtim.tv_nsec;
		p->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000LL +
			      st->st_ctim.tv_nsec;
	} else if ((how & CACHE_STAT_MTIME) &&
		   (!(how & CACHE_STAT_CONTENT) || S_ISREG(st->st_mode))) {
		p->has_mtime = true;
		p->mtime_ns = timespec_ns(&st->st_mtim);
		if ((how & CACHE_STAT_CONTENT) && h) {
			p->hash = *h;
			p->has_hash = true;
		} else if (how & CACHE_STAT_CONTENT) {
			p->has_hash = stat_content_hash(path, st, &p->hash);
		}
		/* (p may move: pre_add() grows the array) */
		if ((how & CACHE_STAT_BYTES) && p->has_hash) {
			struct pc_hash bytes = p->hash;

			/* the bytes by the content precondition, the
			 * mtime by this one alone */
			if (how & CACHE_STAT_PIN)
				p->has_hash = false;

			cache_record_add_content(r, path, &bytes, st->st_mode);
			return NULL;
		}
	}
	return p;
}

void cache_record_add_output(struct cache_record *r, const char *path,
			     const struct cache_output_pre *o)
{
	struct precondition *p = pre_add(r, PRE_OUTPUT, path);

	if (!p)
		return;
	p->mode = S_IFREG | (o->mode & 07777);
	p->uid = o->uid;
	p->gid = o->gid;
	p->create = o->create;
	if (o->create) {
		p->create_mode = o->create_mode & 07777;
		p->create_uid = o->create_uid;
		p->create_gid = o->create_gid;
		p->parent_mode = o->parent_mode & (S_IFMT | 07777);
		p->parent_uid = o->parent_uid;
		p->parent_gid = o->parent_gid;
	}
}

void cache_record_add_xattrs(struct cache_record *r, const char *path,
			     const struct pc_hash *h, bool absent_ok)
{
	struct precondition *p = pre_add(r, PRE_XATTRS, path);

	if (p) {
		p->hash = *h;
		p->absent_ok = absent_ok;
	}
}

void cache_record_add_listing(struct cache_record *r, const char *path,
			      const struct pc_hash *h)
{
	struct precondition *p = pre_add(r, PRE_LISTING, path);

	if (p)
		p->hash = *h;
}

void cache_record_add_symlink(struct cache_record *r, const char *path,
			      const char *target)
{
	struct precondition *p = pre_add(r, PRE_SYMLINK, path);

	if (p)
		p->value = xstrdup(target ? target : "");
}

void cache_record_add_hostfact(struct cache_record *r, const char *name,
			       const char *value)
{
	struct precondition *p = pre_add(r, PRE_HOSTFACT, name);

	if (p)
		p->value = xstrdup(value ? value : "");
}

void cache_record_set_exit(struct cache_record *r, int code, int signal)
{
	r->e.exit_code = signal ? 0 : code;
	r->e.signal = signal;
}

void cache_record_set_duration(struct cache_record *r, double seconds)
{
	r->e.duration = seconds;
}

void cache_record_set_output(struct cache_record *r, int which,
			     const char *file)
{
	if (which != 1 && which != 2)
		BUG("cache_record_set_output: bad stream %d", which);
	free(r->e.out[which - 1].src);
	r->e.out[which - 1].src = xstrdup(file);
}

void cache_record_add_change(struct cache_record *r,
			     enum change_kind kind, const char *path,
			     mode_t mode, const char *src_file,
			     const char *target)
{
	struct change *c;

	ALLOC_GROW(r->e.ch, r->e.nr_ch + 1, r->e.alloc_ch);
	c = &r->e.ch[r->e.nr_ch++];
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->path = xstrdup(path);
	c->mode = mode & 07777;
	c->target = target ? xstrdup(target) : NULL;
	c->src = src_file ? xstrdup(src_file) : NULL;
}

void cache_record_change_times(struct cache_record *r, int64_t mtime_ns,
			       int64_t atime_ns, bool exact)
{
	struct change *c;

	if (!r->e.nr_ch)
		BUG("cache_record_change_times() before any change");
	c = &r->e.ch[r->e.nr_ch - 1];
	if (c->kind != CHANGE_FILE && c->kind != CHANGE_DIR &&
	    c->kind != CHANGE_DIR_REPLACED && c->kind != CHANGE_SYMLINK)
		return;
	c->has_times = true;
	c->exact_times = exact;
	c->mtime_ns = mtime_ns;
	c->atime_ns = atime_ns;
}

void cache_record_change_xattrs(struct cache_record *r,
				const struct xattr_set *xattrs)
{
	struct change *c;

	if (!r->e.nr_ch)
		BUG("cache_record_change_xattrs() before any change");
	c = &r->e.ch[r->e.nr_ch - 1];
	if (c->kind == CHANGE_DELETE || c->kind == CHANGE_SPECIAL)
		return;
	xattr_set_release(&c->xattrs);
	xattr_set_copy(&c->xattrs, xattrs);
}

/* ---- checks before a store ------------------------------------------- */

int record_check(const struct cache_record *r, struct strbuf *err)
{
	const struct cache_entry *e = &r->e;
	size_t i;

	for (i = 0; i < e->nr_pre; i++) {
		const struct precondition *p = &e->pre[i];

		if (p->kind == PRE_HOSTFACT) {
			if (!entry_hostfact_known(p->path)) {
				strbuf_addf(err, "unknown host fact '%s'", p->path);
				return -EINVAL;
			}
			continue;
		}
		if (!entry_path_is_safe(p->path, true)) {
			strbuf_addf(err, "precondition path '%s' is not a clean absolute path",
				    p->path);
			return -EINVAL;
		}
		if (p->kind == PRE_CONTENT && !S_ISREG(p->mode)) {
			strbuf_addf(err, "content precondition on '%s', which is not a regular file",
				    p->path);
			return -EINVAL;
		}
		if (p->kind == PRE_SYMLINK && !*p->value) {
			strbuf_addf(err, "empty symlink target for '%s'", p->path);
			return -EINVAL;
		}
	}
	for (i = 0; i < e->nr_ch; i++) {
		const struct change *ch = &e->ch[i];

		if (!entry_path_is_safe(ch->path, false)) {
			strbuf_addf(err, "changed path '%s' is not a clean absolute path",
				    ch->path);
			return -EINVAL;
		}
		if (ch->kind == CHANGE_FILE && !ch->src) {
			strbuf_addf(err, "changed file '%s' has no captured file",
				    ch->path);
			return -EINVAL;
		}
		if (ch->kind == CHANGE_SYMLINK &&
		    (!ch->target || !*ch->target)) {
			strbuf_addf(err, "symlink '%s' has no target", ch->path);
			return -EINVAL;
		}
	}
	if (e->signal < 0 || e->signal > 64 || e->exit_code < 0 ||
	    e->exit_code > 255) {
		strbuf_addf(err, "exit status out of range (code %d, signal %d)",
			    e->exit_code, e->signal);
		return -EINVAL;
	}
	if (!(e->duration >= 0))
		return strbuf_addstr(err, "negative duration"), -EINVAL;
	return 0;
}

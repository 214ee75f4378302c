/*
 * Entry files' bytes: the envelope, and the binary payload of format
 * version 4, read on every hit and so made to be decoded in one pass over
 * the bytes of one read(), without a tree of allocations nor any JSON.
 * Version 3 entries (a JSON payload, cache/entry.c) are still read; every
 * entry written is version 4. No I/O here (cache/entryfile.c reads the
 * files, cache/store.c writes them).
 *
 * Envelope, 40 bytes, integers little-endian:
 *
 *	 0  8	magic "PCENTRY\n"
 *	 8  4	format version: 4 (3: the payload is JSON, cache/entry.c;
 *		2: before extended attributes, 1: before times; not read
 *		any more: their keys are of an older key format, never
 *		looked up)
 *	12  4	flags, 0 (any other value: rejected)
 *	16  8	payload length; must be exactly the rest of the file
 *	24 16	XXH3-128 of the payload (canonical, as struct pc_hash)
 *
 * The payload of version 4, described field by field in order below.
 * Integers are little-endian of the width said; STR is a u32 length then
 * that many bytes, no NUL among them; HASH is 16 bytes (struct pc_hash,
 * canonical); MODE a u32 (st_mode: type bits and permission bits; only
 * those). Every value is checked as the JSON form's is (cache/entry.c):
 * unknown kinds, flags, types and trailing bytes are rejected.
 *
 *	u32  flags: 1 base_relative (the entry's paths may be relative:
 *	     DESIGN.md section 12); any other bit: rejected
 *	HASH the key
 *	u32  number of key fields, then each: STR tag, u8 type ('s', 'u',
 *	     'x'), STR value: 's' valid UTF-8; 'u' 8 bytes (a u64); 'x' any
 *	     bytes. Re-encoding the fields with keyenc must give the key.
 *	u32  number of preconditions (sorted by path, then kind), each:
 *	     u8 kind, u8 flags, STR path (hostfact: the fact's name), then
 *	  1 content   HASH, MODE (a regular file)
 *	  2 absent    -
 *	  3 stat      MODE, u32 uid, u32 gid, [regular file: u64 size,
 *		      u64 nlink], [flag 1 strict: i64 mtime ns, i64 ctime
 *		      ns | flag 2 mtime: i64 mtime ns, [flag 4 hash: HASH,
 *		      regular file only]]
 *	  4 listing   HASH
 *	  5 symlink   STR target (non-empty)
 *	  6 hostfact  STR value
 *	  7 output    MODE (a regular file), u32 uid, u32 gid, [flag 16
 *		      create: MODE create_mode (permission bits only), u32
 *		      uid, u32 gid, MODE parent (a directory), u32 uid,
 *		      u32 gid]
 *	  8 xattrs    HASH (flag 8: absent_ok)
 *	     (the meaning of each is the JSON form's, cache/entry.c)
 *	u8   signal (0: the job exited), u8 exit code (0 with a signal)
 *	HASH, u64 size: the stdout blob; then the same for stderr
 *	u32  number of changes (in recorded order), each: u8 kind, u8 flags
 *	     (1: times, 2: exact times, with 1), STR path, then
 *	  1 file        HASH blob, u64 size, MODE (permission bits)
 *	  2 dir, 3 dir_replaced, 6 mode   MODE (permission bits)
 *	  4 symlink     STR target (non-empty)
 *	  5 delete      - (no flags, no xattrs)
 *	     then [flag 1: i64 mtime ns, i64 atime ns], u32 number of
 *	     extended attributes, each STR name, STR value (sorted by name
 *	     without repeats; no private name; mode: no times)
 *	u64  the job's duration in seconds (an IEEE double's bits)
 *	i64  creation time (seconds), STR the procache version that wrote it
 *
 * The entry id (the file name) of a version 4 entry is the first 64 bits,
 * in hex, of the XXH3-128 of the preconditions part (its count and
 * records) as encoded: two runs that observed the same things converge on
 * one name.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cache/cache.h"
#include "cache/internal.h"
#include "common/change.h"
#include "common/cleanup.h"
#include "common/die.h"
#include "common/hash.h"
#include "common/le.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/xattr.h"
#include "common/banned.h"

enum {
	EB_BASE_RELATIVE = 1,
};

enum {
	PF_STRICT = 1,
	PF_MTIME = 2,
	PF_HASH = 4,
	PF_ABSENT_OK = 8,
	PF_CREATE = 16,
};

enum {
	CF_TIMES = 1,
	CF_EXACT = 2,
};

/* ---- the kinds' codes (fixed by the format, not the enums' order) ---- */

static unsigned pre_code(enum pre_kind k)
{
	switch (k) {
	case PRE_CONTENT:
		return 1;
	case PRE_ABSENT:
		return 2;
	case PRE_STAT:
		return 3;
	case PRE_LISTING:
		return 4;
	case PRE_SYMLINK:
		return 5;
	case PRE_HOSTFACT:
		return 6;
	case PRE_OUTPUT:
		return 7;
	case PRE_XATTRS:
		return 8;
	}
	BUG("precondition kind %d", (int)k);
}

static int pre_from_code(unsigned code, enum pre_kind *k)
{
	static const enum pre_kind kinds[] = {
		PRE_CONTENT, PRE_ABSENT, PRE_STAT, PRE_LISTING, PRE_SYMLINK,
		PRE_HOSTFACT, PRE_OUTPUT, PRE_XATTRS,
	};

	if (code < 1 || code > ARRAY_SIZE(kinds))
		return -1;
	*k = kinds[code - 1];
	return 0;
}

static unsigned change_code(enum change_kind k)
{
	switch (k) {
	case CHANGE_FILE:
		return 1;
	case CHANGE_DIR:
		return 2;
	case CHANGE_DIR_REPLACED:
		return 3;
	case CHANGE_SYMLINK:
		return 4;
	case CHANGE_DELETE:
		return 5;
	case CHANGE_MODE:
		return 6;
	case CHANGE_SPECIAL:
		break;
	}
	BUG("a change of kind %d in a stored entry", (int)k);
}

static int change_from_code(unsigned code, enum change_kind *k)
{
	static const enum change_kind kinds[] = {
		CHANGE_FILE, CHANGE_DIR, CHANGE_DIR_REPLACED, CHANGE_SYMLINK,
		CHANGE_DELETE, CHANGE_MODE,
	};

	if (code < 1 || code > ARRAY_SIZE(kinds))
		return -1;
	*k = kinds[code - 1];
	return 0;
}

/* ---- encoding --------------------------------------------------------- */

static void put_u(struct strbuf *sb, uint64_t v, int n)
{
	unsigned char b[8];

	le_put(b, v, n);
	strbuf_add(sb, b, (size_t)n);
}

static void put_str(struct strbuf *sb, const void *s, size_t len)
{
	put_u(sb, len, 4);
	strbuf_add(sb, s, len);
}

static void put_hash(struct strbuf *sb, const struct pc_hash *h)
{
	strbuf_add(sb, h->b, sizeof(h->b));
}

static void put_pre(struct strbuf *sb, const struct precondition *p)
{
	unsigned flags = 0;

	switch (p->kind) {
	case PRE_STAT:
		if (p->strict)
			flags = PF_STRICT;
		else if (p->has_mtime)
			flags = PF_MTIME | (p->has_hash ? PF_HASH : 0);
		break;
	case PRE_XATTRS:
		flags = p->absent_ok ? PF_ABSENT_OK : 0;
		break;
	case PRE_OUTPUT:
		flags = p->create ? PF_CREATE : 0;
		break;
	case PRE_CONTENT:
	case PRE_ABSENT:
	case PRE_LISTING:
	case PRE_SYMLINK:
	case PRE_HOSTFACT:
		break;
	}
	put_u(sb, pre_code(p->kind), 1);
	put_u(sb, flags, 1);
	put_str(sb, p->path, strlen(p->path));
	switch (p->kind) {
	case PRE_CONTENT:
		put_hash(sb, &p->hash);
		put_u(sb, S_IFREG | (p->mode & 07777), 4);
		break;
	case PRE_ABSENT:
		break;
	case PRE_STAT:
		put_u(sb, p->mode & (S_IFMT | 07777), 4);
		put_u(sb, p->uid, 4);
		put_u(sb, p->gid, 4);
		if (S_ISREG(p->mode)) {
			put_u(sb, p->size, 8);
			put_u(sb, p->nlink, 8);
		}
		if (flags & (PF_STRICT | PF_MTIME))
			put_u(sb, (uint64_t)p->mtime_ns, 8);
		if (flags & PF_STRICT)
			put_u(sb, (uint64_t)p->ctime_ns, 8);
		if (flags & PF_HASH)
			put_hash(sb, &p->hash);
		break;
	case PRE_LISTING:
	case PRE_XATTRS:
		put_hash(sb, &p->hash);
		break;
	case PRE_SYMLINK:
	case PRE_HOSTFACT:
		put_str(sb, p->value, strlen(p->value));
		break;
	case PRE_OUTPUT:
		put_u(sb, S_IFREG | (p->mode & 07777), 4);
		put_u(sb, p->uid, 4);
		put_u(sb, p->gid, 4);
		if (p->create) {
			put_u(sb, p->create_mode & 07777, 4);
			put_u(sb, p->create_uid, 4);
			put_u(sb, p->create_gid, 4);
			put_u(sb, S_IFDIR | (p->parent_mode & 07777), 4);
			put_u(sb, p->parent_uid, 4);
			put_u(sb, p->parent_gid, 4);
		}
		break;
	}
}

void entrybin_encode_pres(const struct cache_entry *e, struct strbuf *out)
{
	put_u(out, e->nr_pre, 4);
	for (size_t i = 0; i < e->nr_pre; i++)
		put_pre(out, &e->pre[i]);
}

static void put_change(struct strbuf *sb, const struct change *c)
{
	unsigned flags = c->has_times ? CF_TIMES | (c->exact_times ? CF_EXACT : 0) : 0;

	put_u(sb, change_code(c->kind), 1);
	put_u(sb, flags, 1);
	put_str(sb, c->path, strlen(c->path));
	switch (c->kind) {
	case CHANGE_FILE:
		put_hash(sb, &c->blob);
		put_u(sb, c->size, 8);
		put_u(sb, c->mode & 07777, 4);
		break;
	case CHANGE_DIR:
	case CHANGE_DIR_REPLACED:
	case CHANGE_MODE:
		put_u(sb, c->mode & 07777, 4);
		break;
	case CHANGE_SYMLINK:
		put_str(sb, c->target ? c->target : "", c->target ? strlen(c->target) : 0);
		break;
	case CHANGE_DELETE:
	case CHANGE_SPECIAL:
		break;
	}
	if (flags & CF_TIMES) {
		put_u(sb, (uint64_t)c->mtime_ns, 8);
		put_u(sb, (uint64_t)c->atime_ns, 8);
	}
	put_u(sb, c->xattrs.nr, 4);
	for (size_t i = 0; i < c->xattrs.nr; i++) {
		const struct xattr *x = &c->xattrs.v[i];

		put_str(sb, x->name, strlen(x->name));
		put_str(sb, x->value, x->len);
	}
}

void entrybin_encode(const struct cache_entry *e, struct strbuf *out)
{
	struct pc_hash kh;
	uint64_t bits;

	put_u(out, e->base_relative ? EB_BASE_RELATIVE : 0, 4);
	if (pc_hash_from_hex(e->key_hex, &kh) < 0)
		BUG("entry key '%s' is not a hash", e->key_hex);
	put_hash(out, &kh);
	put_u(out, e->nr_fields, 4);
	for (size_t i = 0; i < e->nr_fields; i++) {
		const struct key_field *f = &e->fields[i];

		put_str(out, f->tag, strlen(f->tag));
		put_u(out, (unsigned char)f->type, 1);
		put_str(out, f->data, f->len);
	}
	entrybin_encode_pres(e, out);
	put_u(out, (unsigned)e->signal, 1);
	put_u(out, e->signal ? 0 : (unsigned)e->exit_code, 1);
	for (int k = 0; k < 2; k++) {
		put_hash(out, &e->out[k].hash);
		put_u(out, e->out[k].size, 8);
	}
	put_u(out, e->nr_ch, 4);
	for (size_t i = 0; i < e->nr_ch; i++)
		put_change(out, &e->ch[i]);
	memcpy(&bits, &e->duration, sizeof(bits));
	put_u(out, bits, 8);
	put_u(out, (uint64_t)e->created, 8);
	put_str(out, e->version ? e->version : "", e->version ? strlen(e->version) : 0);
}

/* ---- decoding --------------------------------------------------------- */

/* A cursor over the payload; the first failure is kept in @why. */
struct rd {
	const unsigned char *p, *end;
	const char *why;
};

static bool rd_fail(struct rd *r, const char *why)
{
	if (!r->why)
		r->why = why;
	r->p = r->end;
	return false;
}

static uint64_t rd_u(struct rd *r, int n)
{
	uint64_t v;

	if (r->end - r->p < n) {
		rd_fail(r, "truncated payload");
		return 0;
	}
	v = le_get(r->p, n);
	r->p += n;
	return v;
}

static void rd_hash(struct rd *r, struct pc_hash *h)
{
	if (r->end - r->p < (ptrdiff_t)sizeof(h->b)) {
		rd_fail(r, "truncated payload");
		memset(h, 0, sizeof(*h));
		return;
	}
	memcpy(h->b, r->p, sizeof(h->b));
	r->p += sizeof(h->b);
}

/* A STR's bytes, NUL-terminated in a new allocation (NULL after a
 * failure); @text: refuse a NUL among them. */
static char *rd_bytes(struct rd *r, size_t *lenp, bool text)
{
	uint64_t len = rd_u(r, 4);
	char *s;

	if (r->why)
		return NULL;
	if (len > (uint64_t)(r->end - r->p)) {
		rd_fail(r, "truncated payload");
		return NULL;
	}
	if (text && memchr(r->p, '\0', (size_t)len)) {
		rd_fail(r, "a NUL in a string");
		return NULL;
	}
	s = xmalloc((size_t)len + 1);
	memcpy(s, r->p, (size_t)len);
	s[len] = '\0';
	r->p += len;
	if (lenp)
		*lenp = (size_t)len;
	return s;
}

static char *rd_str(struct rd *r)
{
	return rd_bytes(r, NULL, true);
}

/* A count of records of at least @min bytes each that fit what is left. */
static size_t rd_count(struct rd *r, size_t min)
{
	uint64_t n = rd_u(r, 4);

	if (n > (uint64_t)(r->end - r->p) / min)
		return rd_fail(r, "count larger than the payload"), 0;
	return (size_t)n;
}

static bool mode_type_known(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG:
	case S_IFDIR:
	case S_IFLNK:
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
	case S_IFSOCK:
		return true;
	}
	return false;
}

/* A MODE of type @type (0: any known type; -1: permission bits only). */
static mode_t rd_mode(struct rd *r, int type)
{
	uint64_t v = rd_u(r, 4);

	if (r->why)
		return 0;
	if (v & ~(uint64_t)(S_IFMT | 07777))
		return rd_fail(r, "mode out of range"), 0;
	if (type < 0 ? (v & S_IFMT) != 0 :
	    type ? (v & S_IFMT) != (uint64_t)type : !mode_type_known((mode_t)v))
		return rd_fail(r, "mode of an unexpected file type"), 0;
	return (mode_t)v;
}

static char *rd_path(struct rd *r, bool allow_root, bool rel)
{
	char *s = rd_str(r);

	if (s && !entry_path_valid(s, allow_root, rel)) {
		free(s);
		rd_fail(r, "unsafe path");
		return NULL;
	}
	return s;
}

static void rd_pre(struct rd *r, struct precondition *p, bool rel)
{
	unsigned code = (unsigned)rd_u(r, 1), flags = (unsigned)rd_u(r, 1);
	unsigned allowed = 0;

	if (r->why)
		return;
	if (pre_from_code(code, &p->kind) < 0) {
		rd_fail(r, "unknown precondition kind");
		return;
	}
	if (p->kind == PRE_HOSTFACT) {
		p->path = rd_str(r);
		if (p->path && !entry_hostfact_known(p->path))
			rd_fail(r, "unknown host fact");
	} else {
		p->path = rd_path(r, true, rel);
	}
	switch (p->kind) {
	case PRE_CONTENT:
		rd_hash(r, &p->hash);
		p->mode = rd_mode(r, S_IFREG);
		break;
	case PRE_ABSENT:
		break;
	case PRE_STAT:
		allowed = PF_STRICT | PF_MTIME | PF_HASH;
		p->mode = rd_mode(r, 0);
		p->uid = (uint32_t)rd_u(r, 4);
		p->gid = (uint32_t)rd_u(r, 4);
		if (S_ISREG(p->mode)) {
			p->size = rd_u(r, 8);
			p->nlink = rd_u(r, 8);
		}
		if ((flags & PF_STRICT) && (flags & (PF_MTIME | PF_HASH)))
			rd_fail(r, "a strict stat with a hash or a lone mtime");
		if ((flags & PF_HASH) && (!(flags & PF_MTIME) || !S_ISREG(p->mode)))
			rd_fail(r, "hash on a stat without mtime or of a non-file");
		p->strict = flags & PF_STRICT;
		p->has_mtime = flags & PF_MTIME;
		p->has_hash = flags & PF_HASH;
		if (p->strict || p->has_mtime)
			p->mtime_ns = (int64_t)rd_u(r, 8);
		if (p->strict)
			p->ctime_ns = (int64_t)rd_u(r, 8);
		if (p->has_hash)
			rd_hash(r, &p->hash);
		break;
	case PRE_XATTRS:
		allowed = PF_ABSENT_OK;
		p->absent_ok = flags & PF_ABSENT_OK;
		/* fall through */
	case PRE_LISTING:
		rd_hash(r, &p->hash);
		break;
	case PRE_SYMLINK:
	case PRE_HOSTFACT:
		p->value = rd_str(r);
		if (p->kind == PRE_SYMLINK && p->value && !*p->value)
			rd_fail(r, "empty symlink target");
		break;
	case PRE_OUTPUT:
		allowed = PF_CREATE;
		p->mode = rd_mode(r, S_IFREG);
		p->uid = (uint32_t)rd_u(r, 4);
		p->gid = (uint32_t)rd_u(r, 4);
		p->create = flags & PF_CREATE;
		if (p->create) {
			p->create_mode = rd_mode(r, -1);
			p->create_uid = (uint32_t)rd_u(r, 4);
			p->create_gid = (uint32_t)rd_u(r, 4);
			p->parent_mode = rd_mode(r, S_IFDIR);
			p->parent_uid = (uint32_t)rd_u(r, 4);
			p->parent_gid = (uint32_t)rd_u(r, 4);
		}
		break;
	}
	if (flags & ~allowed)
		rd_fail(r, "unknown precondition flags");
}

static void rd_change(struct rd *r, struct change *c, bool rel)
{
	unsigned code = (unsigned)rd_u(r, 1), flags = (unsigned)rd_u(r, 1);
	size_t n;

	if (r->why)
		return;
	if (change_from_code(code, &c->kind) < 0) {
		rd_fail(r, "unknown change kind");
		return;
	}
	if ((flags & ~(unsigned)(CF_TIMES | CF_EXACT)) ||
	    (flags & CF_EXACT && !(flags & CF_TIMES)) ||
	    (flags && (c->kind == CHANGE_MODE || c->kind == CHANGE_DELETE))) {
		rd_fail(r, "unknown change flags");
		return;
	}
	c->path = rd_path(r, false, rel);
	switch (c->kind) {
	case CHANGE_FILE:
		rd_hash(r, &c->blob);
		c->size = rd_u(r, 8);
		c->mode = rd_mode(r, -1);
		c->has_blob = true;
		break;
	case CHANGE_DIR:
	case CHANGE_DIR_REPLACED:
	case CHANGE_MODE:
		c->mode = rd_mode(r, -1);
		break;
	case CHANGE_SYMLINK:
		c->target = rd_str(r);
		if (c->target && !*c->target)
			rd_fail(r, "empty symlink target");
		break;
	case CHANGE_DELETE:
	case CHANGE_SPECIAL:
		break;
	}
	if (flags & CF_TIMES) {
		c->has_times = true;
		c->exact_times = flags & CF_EXACT;
		c->mtime_ns = (int64_t)rd_u(r, 8);
		c->atime_ns = (int64_t)rd_u(r, 8);
	}
	n = rd_count(r, 8);
	if (n && c->kind == CHANGE_DELETE)
		rd_fail(r, "xattrs on a deletion");
	for (size_t i = 0; i < n && !r->why; i++) {
		size_t len;
		_cleanup_free_ char *name = rd_str(r);
		_cleanup_free_ char *value = rd_bytes(r, &len, false);

		if (r->why)
			break;
		if (!*name || strlen(name) > 255 || !strchr(name, '.') ||
		    xattr_name_private(name) || len > 65536)
			rd_fail(r, "xattrs: bad name or value");
		else if (c->xattrs.nr &&
			 strcmp(c->xattrs.v[c->xattrs.nr - 1].name, name) >= 0)
			rd_fail(r, "xattrs: names not sorted or repeated");
		else
			xattr_set_add(&c->xattrs, name, value, len);
	}
}

/* Past the key fields without decoding them (ENTRY_DECODE_LOOKUP). */
static void rd_skip_key_fields(struct rd *r)
{
	size_t n = rd_count(r, 9);

	for (size_t i = 0; i < n && !r->why; i++) {
		for (int k = 0; k < 2 && !r->why; k++) {
			uint64_t len = rd_u(r, 4);

			if (len > (uint64_t)(r->end - r->p))
				rd_fail(r, "truncated payload");
			else
				r->p += len;
			if (!k)
				rd_u(r, 1); /* the type, between tag and value */
		}
	}
}

static void rd_key_fields(struct rd *r, struct cache_entry *e)
{
	size_t n = rd_count(r, 9);

	e->fields = xcalloc(n ? n : 1, sizeof(*e->fields));
	for (size_t i = 0; i < n && !r->why; i++) {
		struct key_field *f = &e->fields[i];
		size_t len;

		e->nr_fields = i + 1;
		f->tag = rd_str(r);
		f->type = (char)rd_u(r, 1);
		f->data = rd_bytes(r, &len, false);
		if (r->why)
			break;
		f->len = len;
		if (!key_tag_valid(f->tag) || key_field_check_data(f))
			rd_fail(r, "bad key field");
	}
}

int entrybin_decode(const unsigned char *buf, size_t len, unsigned flags,
		    struct cache_entry *e, struct strbuf *err)
{
	struct rd r = { buf, buf + len, NULL };
	struct pc_hash kh, kh2;
	uint64_t pflags, bits;
	size_t n;

	pflags = rd_u(&r, 4);
	if (pflags & ~(uint64_t)EB_BASE_RELATIVE)
		rd_fail(&r, "unknown payload flags");
	e->base_relative = pflags & EB_BASE_RELATIVE;
	rd_hash(&r, &kh);
	pc_hash_to_hex(&kh, e->key_hex);
	if (flags & ENTRY_DECODE_LOOKUP) {
		rd_skip_key_fields(&r);
		e->fields_skipped = true;
	} else {
		rd_key_fields(&r, e);
		if (r.why)
			goto bad;
		key_fields_hash(e->fields, e->nr_fields, &kh2);
		if (!pc_hash_equal(&kh, &kh2))
			return strbuf_error(err, -EBADMSG,
					    "key fields do not hash to the key");
	}

	n = rd_count(&r, 6);
	e->pre = xcalloc(n ? n : 1, sizeof(*e->pre));
	e->alloc_pre = n ? n : 1;
	for (size_t i = 0; i < n && !r.why; i++) {
		e->nr_pre = i + 1;
		rd_pre(&r, &e->pre[i], e->base_relative);
	}

	e->signal = (int)rd_u(&r, 1);
	e->exit_code = (int)rd_u(&r, 1);
	if (e->signal > 64 || (e->signal && e->exit_code))
		rd_fail(&r, "bad exit status");
	for (int k = 0; k < 2; k++) {
		rd_hash(&r, &e->out[k].hash);
		e->out[k].size = rd_u(&r, 8);
	}

	n = rd_count(&r, 10);
	e->ch = xcalloc(n ? n : 1, sizeof(*e->ch));
	e->alloc_ch = n ? n : 1;
	for (size_t i = 0; i < n && !r.why; i++) {
		e->nr_ch = i + 1;
		rd_change(&r, &e->ch[i], e->base_relative);
	}

	bits = rd_u(&r, 8);
	memcpy(&e->duration, &bits, sizeof(bits));
	if (!(e->duration >= 0) || e->duration > 1e12)
		rd_fail(&r, "bad duration");
	e->created = (int64_t)rd_u(&r, 8);
	e->version = rd_str(&r);
	if (!r.why && r.p != r.end)
		rd_fail(&r, "bytes after the payload");
	if (!r.why)
		return 0;
bad:
	return strbuf_error(err, -EBADMSG, "%s", r.why);
}

/* ---- the envelope ----------------------------------------------------- */

static int pre_cmp(const void *a, const void *b)
{
	const struct precondition *x = a, *y = b;
	int r = strcmp(x->path, y->path);

	if (r)
		return r;
	return (int)x->kind - (int)y->kind;
}

void entry_compute_id(const struct cache_entry *e, char id[ENTRY_ID_LEN + 1])
{
	_cleanup_strbuf_ struct strbuf pres = STRBUF_INIT;
	char hex[PC_HASH_HEX_LEN + 1];
	struct pc_hash h;

	if (e->format == ENTRY_VERSION_JSON) {
		entry_json_id(e, id);
		return;
	}
	entrybin_encode_pres(e, &pres);
	pc_hash_buffer(pres.buf, pres.len, &h);
	pc_hash_to_hex(&h, hex);
	memcpy(id, hex, ENTRY_ID_LEN);
	id[ENTRY_ID_LEN] = '\0';
}

void entry_encode(struct cache_entry *e, struct strbuf *out)
{
	unsigned char hdr[ENTRY_HEADER_LEN];
	struct pc_hash h;
	size_t len;

	if (e->fields_skipped)
		BUG("entry_encode() of an entry read without its key fields");
	if (e->nr_pre)
		qsort(e->pre, e->nr_pre, sizeof(*e->pre), pre_cmp);
	e->format = ENTRY_VERSION;
	entry_compute_id(e, e->id_hex);
	snprintf(e->name, sizeof(e->name), "%s/%s", e->key_hex, e->id_hex);

	strbuf_reset(out);
	strbuf_add(out, hdr, sizeof(hdr));	/* filled below */
	entrybin_encode(e, out);
	len = out->len - ENTRY_HEADER_LEN;
	pc_hash_buffer(out->buf + ENTRY_HEADER_LEN, len, &h);
	memcpy(hdr, ENTRY_MAGIC, 8);
	le_put(hdr + 8, ENTRY_VERSION, 4);
	le_put(hdr + 12, 0, 4);
	le_put(hdr + 16, len, 8);
	memcpy(hdr + 24, h.b, 16);
	memcpy(out->buf, hdr, sizeof(hdr));
}

int entry_decode(const void *buf, size_t len, struct cache_entry **out,
		 struct strbuf *err)
{
	return entry_decode_flags(buf, len, 0, out, err);
}

int entry_decode_flags(const void *buf, size_t len, unsigned flags,
		       struct cache_entry **out, struct strbuf *err)
{
	const unsigned char *p = buf;
	struct cache_entry *e;
	struct pc_hash h;
	uint64_t plen, version;
	int r;

	*out = NULL;
	if (len < ENTRY_HEADER_LEN)
		return strbuf_error(err, -EBADMSG, "truncated (%zu bytes)", len);
	if (memcmp(p, ENTRY_MAGIC, 8))
		return strbuf_error(err, -EBADMSG, "bad magic");
	version = le_get(p + 8, 4);
	if (version != ENTRY_VERSION && version != ENTRY_VERSION_JSON)
		return strbuf_error(err, -EBADMSG,
				    "unsupported entry version %" PRIu64, version);
	if (le_get(p + 12, 4) != 0)
		return strbuf_error(err, -EBADMSG, "unknown flags");
	plen = le_get(p + 16, 8);
	if (plen != len - ENTRY_HEADER_LEN)
		return strbuf_error(err, -EBADMSG,
				    "truncated or overlong (payload %" PRIu64
				    " bytes, file has %zu)",
				    plen, len - ENTRY_HEADER_LEN);
	pc_hash_buffer(p + ENTRY_HEADER_LEN, (size_t)plen, &h);
	if (memcmp(h.b, p + 24, 16))
		return strbuf_error(err, -EBADMSG, "checksum mismatch");
	e = xcalloc(1, sizeof(*e));
	e->format = (unsigned)version;
	if (version == ENTRY_VERSION_JSON)
		r = entry_json_decode((const char *)p + ENTRY_HEADER_LEN,
				      (size_t)plen, e, err);
	else
		r = entrybin_decode(p + ENTRY_HEADER_LEN, (size_t)plen, flags,
				    e, err);
	if (r < 0) {
		cache_entry_free(e);
		return -EBADMSG;
	}
	*out = e;
	return 0;
}

/*
 * Job keys (struct cache_key): tagged fields, hashed with keyenc
 * (common/hash.h) into the key that names keys/ab/<key>/, and the text
 * form of one field's value that entries store (cache/entry.c) and
 * --explain shows.
 *
 * A field's type says how its bytes are written as text: 's' the bytes
 * themselves (valid UTF-8 without NUL), 'u' a u64 (8 bytes little-endian)
 * in decimal, 'x' any other bytes in lowercase hex.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "cache/internal.h"
#include "common/die.h"
#include "common/hash.h"
#include "common/le.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

static bool utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n, k;
		uint32_t cp;

		if (!c)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			n = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + n >= len) /* needs bytes i+1 .. i+n */
			return false;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

bool key_tag_valid(const char *tag)
{
	const char *t;

	if (!tag || !*tag)
		return false;
	for (t = tag; *t; t++)
		if ((unsigned char)*t < 0x20 || (unsigned char)*t >= 0x7f)
			return false;
	return true;
}

/* ---- keys ------------------------------------------------------------- */

struct cache_key *cache_key_new(void)
{
	return xcalloc(1, sizeof(struct cache_key));
}

static void key_push(struct cache_key *k, const char *tag, const void *data,
		     size_t len, char type)
{
	struct key_field *f;

	if (!tag || !*tag)
		BUG("empty key field tag");
	if (!key_tag_valid(tag))
		BUG("key field tag '%s' is not printable ASCII", tag);
	ALLOC_GROW(k->fields, k->nr + 1, k->alloc);
	f = &k->fields[k->nr++];
	f->tag = xstrdup(tag);
	f->data = xmalloc(st_add(len, 1));
	if (len)
		memcpy(f->data, data, len);
	f->data[len] = '\0';
	f->len = len;
	f->type = type;
	k->hashed = false;
}

void cache_key_add(struct cache_key *k, const char *tag, const void *data,
		   size_t len)
{
	key_push(k, tag, data, len,
		 utf8_valid(data, len) ? 's' : 'x');
}

void cache_key_add_str(struct cache_key *k, const char *tag, const char *s)
{
	cache_key_add(k, tag, s, strlen(s));
}

void cache_key_add_u64(struct cache_key *k, const char *tag, uint64_t v)
{
	unsigned char le[8];

	le_put(le, v, 8);
	key_push(k, tag, le, 8, 'u');
}

void key_fields_hash(const struct key_field *f, size_t nr,
		     struct pc_hash *out)
{
	struct keyenc enc;
	size_t i;

	keyenc_init(&enc);
	for (i = 0; i < nr; i++)
		keyenc_add(&enc, f[i].tag, f[i].data, f[i].len);
	keyenc_hash(&enc, out);
	keyenc_release(&enc);
}

void key_finalize(const struct cache_key *ck)
{
	/* The hash is a cache inside the key: computing it is not a change. */
	struct cache_key *k = (struct cache_key *)ck;

	if (k->hashed)
		return;
	key_fields_hash(k->fields, k->nr, &k->hash);
	pc_hash_to_hex(&k->hash, k->hex);
	k->hashed = true;
}

const char *cache_key_hex(struct cache_key *k)
{
	key_finalize(k);
	return k->hex;
}

void cache_key_hash(struct cache_key *k, struct pc_hash *out)
{
	key_finalize(k);
	*out = k->hash;
}

void cache_key_free(struct cache_key *k)
{
	if (!k)
		return;
	key_fields_free(k->fields, k->nr);
	free(k);
}

/* ---- fields ----------------------------------------------------------- */

struct key_field *key_fields_copy(const struct key_field *f, size_t nr)
{
	struct key_field *out = xcalloc(nr ? nr : 1, sizeof(*out));
	size_t i;

	for (i = 0; i < nr; i++) {
		out[i].tag = xstrdup(f[i].tag);
		out[i].data = xmalloc(st_add(f[i].len, 1));
		memcpy(out[i].data, f[i].data, f[i].len + 1);
		out[i].len = f[i].len;
		out[i].type = f[i].type;
	}
	return out;
}

void key_fields_free(struct key_field *f, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		free(f[i].tag);
		free(f[i].data);
	}
	free(f);
}

void key_field_value(const struct key_field *f, struct strbuf *out)
{
	switch (f->type) {
	case 'u':
		strbuf_addf(out, "%" PRIu64,
			    le_get((const unsigned char *)f->data, 8));
		break;
	case 'x':
		strbuf_addhex(out, f->data, f->len);
		break;
	default:
		strbuf_add(out, f->data, f->len);
		break;
	}
}

char *key_field_display(const struct key_field *f)
{
	struct strbuf sb = STRBUF_INIT;

	if (f->type == 'x')
		strbuf_addstr(&sb, "hex:");
	key_field_value(f, &sb);
	return strbuf_detach(&sb, NULL);
}

const char *key_field_check_data(const struct key_field *f)
{
	switch (f->type) {
	case 's':
		return utf8_valid((const unsigned char *)f->data, f->len) ?
			NULL : "not UTF-8";
	case 'u':
		return f->len == 8 ? NULL : "bad number";
	case 'x':
		return NULL;
	}
	return "unknown type";
}

const char *key_field_set_value(struct key_field *f, const char *v)
{
	size_t len = strlen(v), k;

	switch (f->type) {
	case 's':
		if (!utf8_valid((const unsigned char *)v, len))
			return "not UTF-8";
		f->data = xstrdup(v);
		f->len = len;
		return NULL;
	case 'u': {
		uint64_t x = 0;

		if (!len || len > 20 || (len > 1 && v[0] == '0'))
			return "bad number";
		for (k = 0; k < len; k++) {
			if (v[k] < '0' || v[k] > '9' ||
			    x > (UINT64_MAX - (uint64_t)(v[k] - '0')) / 10)
				return "bad number";
			x = x * 10 + (uint64_t)(v[k] - '0');
		}
		f->data = xmalloc(9);
		le_put((unsigned char *)f->data, x, 8);
		f->data[8] = '\0';
		f->len = 8;
		return NULL;
	}
	case 'x':
		if (len % 2)
			return "bad hex";
		f->data = xmalloc(len / 2 + 1);
		if (hex_decode(v, len, (unsigned char *)f->data) < 0)
			return "bad hex";
		f->data[len / 2] = '\0';
		f->len = len / 2;
		return NULL;
	}
	return "unknown type";
}

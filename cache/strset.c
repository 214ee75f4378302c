/*
 * A small open-addressing hash map from byte strings to longs, for the
 * cache's per-record and per-lookup sets (a precondition recorded once per
 * (kind, path); a host path examined once per lookup). Keys are copied.
 */
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "cache/internal.h"
#include "common/xalloc.h"
#include "common/banned.h"

struct strset_slot {
	char *key; /* NULL: empty */
	size_t len;
	uint64_t hash;
	long val;
};

struct strset {
	struct strset_slot *slots;
	size_t nr, cap; /* cap is a power of two */
};

struct strset *strset_new(void)
{
	struct strset *s = xcalloc(1, sizeof(*s));

	s->cap = 64;
	s->slots = xcalloc(s->cap, sizeof(*s->slots));
	return s;
}

void strset_free(struct strset *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->cap; i++)
		free(s->slots[i].key);
	free(s->slots);
	free(s);
}

static struct strset_slot *find(struct strset *s, const char *key, size_t len,
				uint64_t h)
{
	size_t i = (size_t)h & (s->cap - 1);

	for (;;) {
		struct strset_slot *sl = &s->slots[i];

		if (!sl->key ||
		    (sl->hash == h && sl->len == len && !memcmp(sl->key, key, len)))
			return sl;
		i = (i + 1) & (s->cap - 1);
	}
}

static void grow(struct strset *s)
{
	struct strset_slot *old = s->slots;
	size_t i, old_cap = s->cap;

	s->cap *= 2;
	s->slots = xcalloc(s->cap, sizeof(*s->slots));
	for (i = 0; i < old_cap; i++) {
		if (old[i].key)
			*find(s, old[i].key, old[i].len, old[i].hash) = old[i];
	}
	free(old);
}

long strset_get(struct strset *s, const char *key, size_t len)
{
	struct strset_slot *sl = find(s, key, len, XXH3_64bits(key, len));

	return sl->key ? sl->val : -1;
}

long strset_put(struct strset *s, const char *key, size_t len, long val)
{
	uint64_t h = XXH3_64bits(key, len);
	struct strset_slot *sl = find(s, key, len, h);

	if (sl->key)
		return sl->val;
	if ((s->nr + 1) * 4 > s->cap * 3) {
		grow(s);
		sl = find(s, key, len, h);
	}
	sl->key = xmalloc(st_add(len, 1));
	memcpy(sl->key, key, len);
	sl->key[len] = '\0';
	sl->len = len;
	sl->hash = h;
	sl->val = val;
	s->nr++;
	return -1;
}

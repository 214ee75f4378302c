#include "common/strmap.h"

#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "common/xalloc.h"
#include "common/banned.h"

struct strmap_slot {
	char *key; /* NULL: empty */
	size_t len;
	uint64_t hash;
	long val;
};

#define STRMAP_MIN_CAP 64

void strmap_init(struct strmap *m)
{
	m->slots = NULL;
	m->nr = m->cap = 0;
}

struct strmap *strmap_new(void)
{
	return xcalloc(1, sizeof(struct strmap));
}

void strmap_free(struct strmap *m)
{
	if (!m)
		return;
	strmap_release(m);
	free(m);
}

void strmap_clear(struct strmap *m)
{
	size_t i;

	if (!m->nr)
		return;
	for (i = 0; i < m->cap; i++) {
		free(m->slots[i].key);
		m->slots[i].key = NULL;
	}
	m->nr = 0;
}

void strmap_release(struct strmap *m)
{
	strmap_clear(m);
	free(m->slots);
	strmap_init(m);
}

static struct strmap_slot *find(const struct strmap *m, const void *key,
				size_t len, uint64_t h)
{
	size_t i = (size_t)h & (m->cap - 1);

	for (;;) {
		struct strmap_slot *sl = &m->slots[i];

		if (!sl->key ||
		    (sl->hash == h && sl->len == len && !memcmp(sl->key, key, len)))
			return sl;
		i = (i + 1) & (m->cap - 1);
	}
}

static void grow(struct strmap *m)
{
	struct strmap_slot *old = m->slots;
	size_t i, old_cap = m->cap;

	m->cap = old_cap ? old_cap * 2 : STRMAP_MIN_CAP;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	for (i = 0; i < old_cap; i++) {
		if (old[i].key)
			*find(m, old[i].key, old[i].len, old[i].hash) = old[i];
	}
	free(old);
}

long strmap_get(const struct strmap *m, const void *key, size_t len)
{
	const struct strmap_slot *sl;

	if (!m->nr)
		return -1;
	sl = find(m, key, len, XXH3_64bits(key, len));
	return sl->key ? sl->val : -1;
}

long strmap_put(struct strmap *m, const void *key, size_t len, long val)
{
	uint64_t h = XXH3_64bits(key, len);
	struct strmap_slot *sl;

	/* Keep the load at most 3/4 so a probe always ends. */
	if ((m->nr + 1) * 4 > m->cap * 3)
		grow(m);
	sl = find(m, key, len, h);
	if (sl->key)
		return sl->val;
	sl->key = xmalloc(st_add(len, 1));
	memcpy(sl->key, key, len);
	sl->key[len] = '\0';
	sl->len = len;
	sl->hash = h;
	sl->val = val;
	m->nr++;
	return -1;
}

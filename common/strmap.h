/*
 * A hash map from byte strings to longs (open addressing, linear probing,
 * XXH3-64): the one string set of procache. The tracer uses it as a set
 * (lookups already recorded, host directories), the cache as a map
 * (a precondition recorded once per (kind, path), blob indexes).
 *
 * Calling sequence:
 *
 *	struct strmap m = STRMAP_INIT;		// or strmap_init(&m)
 *	strmap_put(&m, key, len, 7);		// keys are copied
 *	v = strmap_get(&m, key, len);		// 7, or -1 when absent
 *	strmap_clear(&m);			// empty, keeps its table
 *	strmap_release(&m);			// frees everything
 *
 * Memory comes from the x-allocators (dies on out-of-memory). Not
 * thread-safe.
 */
#ifndef PROCACHE_COMMON_STRMAP_H
#define PROCACHE_COMMON_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct strmap_slot;

struct strmap {
	struct strmap_slot *slots;
	size_t nr, cap; /* cap is 0 or a power of two */
};

#define STRMAP_INIT { NULL, 0, 0 }

void strmap_init(struct strmap *m);
/* A new empty map on the heap, and freeing one (NULL allowed). */
struct strmap *strmap_new(void);
void strmap_free(struct strmap *m);
/* Free every key and the table; @m is then as after strmap_init(). */
void strmap_release(struct strmap *m);
/* Remove every key (the table's size is kept). */
void strmap_clear(struct strmap *m);

/* The value stored for @key (@len bytes, NULs allowed), or -1. */
long strmap_get(const struct strmap *m, const void *key, size_t len);
/*
 * Insert @key with @val unless present. Returns the value already
 * stored when @key was present (nothing changes then), else -1.
 */
long strmap_put(struct strmap *m, const void *key, size_t len, long val);

/* Set use with C strings. */
static inline bool strmap_has(const struct strmap *m, const char *key)
{
	return strmap_get(m, key, strlen(key)) != -1;
}
static inline void strmap_add(struct strmap *m, const char *key)
{
	strmap_put(m, key, strlen(key), 0);
}

static inline size_t strmap_count(const struct strmap *m)
{
	return m->nr;
}

#endif

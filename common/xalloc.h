/*
 * Allocators that never return NULL: on out-of-memory they print
 * "procache: out of memory ..." and exit with die_exit_code.
 *
 * Library code (cache/, sandbox/, common/) may use them too, although it
 * otherwise never exits: procache allocates only small, bounded amounts
 * (paths, keys, manifests), so an allocation failure means the machine is
 * in no state to continue, and threading -ENOMEM through every caller
 * would add error paths that are never tested. Code that allocates an
 * amount chosen by untrusted input must bound it first.
 *
 * Sizes are checked for overflow (xcalloc, ALLOC_GROW, st_add/st_mult):
 * an overflowing size is a BUG() rather than a short allocation.
 */
#ifndef PROCACHE_COMMON_XALLOC_H
#define PROCACHE_COMMON_XALLOC_H

#include <stddef.h>

/* Number of elements of a true array (not a pointer). */
#define ARRAY_SIZE(x) (sizeof(x) / sizeof((x)[0]))

/* malloc(); xmalloc(0) returns a unique, freeable pointer. */
void *xmalloc(size_t size);
/* calloc(); dies (BUG) if nmemb * size overflows. */
void *xcalloc(size_t nmemb, size_t size);
/* realloc(); xrealloc(p, 0) returns a unique pointer, never frees-to-NULL. */
void *xrealloc(void *ptr, size_t size);
/* strdup() */
char *xstrdup(const char *s);
/* strndup(): at most @n bytes of @s, always NUL-terminated. */
char *xstrndup(const char *s, size_t n);
/* A copy of @len bytes at @data (which may be NULL when @len is 0). */
void *xmemdup(const void *data, size_t len);
/* asprintf() into a newly allocated string; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Free a NULL-terminated array of malloc'd strings and the array itself.
 * NULL is allowed.
 */
void strv_free(char **v);
/* A deep copy of the NULL-terminated @v (NULL gives an empty array). */
char **strv_dup(char *const *v);

/* a + b and a * b on sizes; BUG() on overflow. */
size_t st_add(size_t a, size_t b);
size_t st_mult(size_t a, size_t b);

/*
 * Make room for at least @nr elements in the array @arr, whose current
 * capacity (in elements) is @alloc, growing it by about 1.5x (git's
 * ALLOC_GROW). @arr and @alloc are lvalues and are updated; @nr is not.
 * Typical use, with "size_t nr, alloc" beside the array:
 *
 *	ALLOC_GROW(list->items, list->nr + 1, list->alloc);
 *	list->items[list->nr++] = item;
 */
#define alloc_nr(x) (((x) + 16) * 3 / 2)
#define ALLOC_GROW(arr, nr, alloc)                                          \
	do {                                                                \
		if ((size_t)(nr) > (size_t)(alloc)) {                       \
			if (alloc_nr(alloc) < (size_t)(nr))                 \
				(alloc) = (nr);                             \
			else                                                \
				(alloc) = alloc_nr(alloc);                  \
			(arr) = xrealloc((arr),                             \
					 st_mult(sizeof(*(arr)), (alloc))); \
		}                                                           \
	} while (0)

#endif

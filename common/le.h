/*
 * Little-endian integers in on-disk formats (cache entry envelopes, the
 * stat cache): @n bytes, least significant first, independent of the
 * host's byte order and alignment.
 */
#ifndef PROCACHE_COMMON_LE_H
#define PROCACHE_COMMON_LE_H

#include <stdint.h>

static inline void le_put(unsigned char *p, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint64_t le_get(const unsigned char *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

#endif

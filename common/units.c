#include "common/units.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <strings.h>

#include "common/xalloc.h"
#include "common/banned.h"

struct unit {
	const char *suffix;
	uint64_t scale;
};

/* A whole number followed by exactly one of @units' suffixes. */
static int parse_scaled(const char *s, uint64_t *out, const struct unit *units,
			size_t nr)
{
	char *end;
	unsigned long long v;
	size_t i;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	for (i = 0; i < nr; i++) {
		if (strcasecmp(end, units[i].suffix))
			continue;
		if (v > UINT64_MAX / units[i].scale)
			return -EINVAL;
		*out = (uint64_t)v * units[i].scale;
		return 0;
	}
	return -EINVAL;
}

int parse_size(const char *s, uint64_t *out)
{
	static const struct unit units[] = {
		{ "", 1 },		 { "b", 1 },
		{ "k", 1ull << 10 },	 { "kb", 1ull << 10 },	{ "kib", 1ull << 10 },
		{ "m", 1ull << 20 },	 { "mb", 1ull << 20 },	{ "mib", 1ull << 20 },
		{ "g", 1ull << 30 },	 { "gb", 1ull << 30 },	{ "gib", 1ull << 30 },
		{ "t", 1ull << 40 },	 { "tb", 1ull << 40 },	{ "tib", 1ull << 40 },
	};

	return parse_scaled(s, out, units, ARRAY_SIZE(units));
}

int parse_age(const char *s, uint64_t *out)
{
	static const struct unit units[] = {
		{ "", 1 },     { "s", 1 },	{ "m", 60 },
		{ "h", 3600 }, { "d", 86400 }, { "w", 604800 },
	};

	return parse_scaled(s, out, units, ARRAY_SIZE(units));
}

int parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !((*s >= '0' && *s <= '9') || *s == '.'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	switch (*end) {
	case 's': end++; break;
	case 'm': v *= 60; end++; break;
	case 'h': v *= 3600; end++; break;
	case 'd': v *= 86400; end++; break;
	default: break;
	}
	if (*end || v > 1e9)
		return -EINVAL;
	*out = v;
	return 0;
}

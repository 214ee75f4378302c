/*
 * The one grammar for sizes, ages and durations, wherever they come from
 * (command-line options, the config file, PROCACHE_* variables). Each
 * parser returns 0 and sets *@out, or -EINVAL for anything malformed:
 * empty, a sign or leading blank, an unknown suffix, trailing junk,
 * overflow, not finite.
 */
#ifndef PROCACHE_COMMON_UNITS_H
#define PROCACHE_COMMON_UNITS_H

#include <stdint.h>

/*
 * Bytes: a whole number with an optional binary-unit suffix K, M, G or T
 * (case-insensitive), optionally followed by "B" or "iB":
 * "4096", "512k", "64M", "64mb", "2GiB", "1T", "10b".
 */
int parse_size(const char *s, uint64_t *out);

/*
 * Whole seconds: a whole number with an optional suffix s, m, h, d or w
 * (case-insensitive): "90", "90s", "30m", "12h", "7d", "2w".
 */
int parse_age(const char *s, uint64_t *out);

/* Seconds, fractional allowed: "1.5", "30s", "5m", "2h", "1d" (at most 1e9). */
int parse_seconds(const char *s, double *out);

#endif

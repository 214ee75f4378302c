/*
 * Option value parsers: 0 on success, -EINVAL on anything malformed
 * (empty, signed, trailing junk, overflow, not finite).
 */
#ifndef PROCACHE_RUNNER_PARSE_H
#define PROCACHE_RUNNER_PARSE_H

#include <stdint.h>

/* Bytes: "4096", "64M", "1G", "2KiB" (binary units). */
int parse_size(const char *s, uint64_t *out);
/* Seconds: "1.5", "30s", "5m", "2h", "1d". */
int parse_seconds(const char *s, double *out);

#endif

/*
 * Lowercase hexadecimal, the text form of hashes, keys and key fields.
 */
#ifndef PROCACHE_COMMON_HEX_H
#define PROCACHE_COMMON_HEX_H

#include <stddef.h>

/*
 * Lowercase hex: @len bytes at @data as 2 * @len digits into @out, which
 * gets a NUL after them (room for 2 * @len + 1). hex_decode() reads
 * exactly @hexlen digits (lowercase only, @hexlen even) into @hexlen / 2
 * bytes at @out; -EINVAL for anything else (@out may then be partly
 * written).
 */
void hex_encode(const void *data, size_t len, char *out);
int hex_decode(const char *hex, size_t hexlen, unsigned char *out);

#endif

/*
 * Content hashes (XXH3-128) and the canonical encoding of cache keys.
 *
 * XXH3-128 is fast and has a negligible accidental-collision rate, but it
 * is NOT cryptographic: someone who controls inputs can construct
 * collisions. procache's cache trusts its own writers; do not use these
 * hashes where an adversary picks inputs and a collision would grant
 * something.
 *
 * A struct pc_hash holds XXH128's canonical form (XXH128_canonical_t:
 * high 64 bits first, each big-endian), so its hex form matches the
 * output of the xxh128sum tool and is stable across hosts.
 */
#ifndef PROCACHE_COMMON_HASH_H
#define PROCACHE_COMMON_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <xxhash.h>

#include "common/hex.h"
#include "common/strbuf.h"

struct pc_hash {
	unsigned char b[16];
};

/* Length of the hex form, without the NUL. */
#define PC_HASH_HEX_LEN 32

/* Hash @len bytes at @data (NULL allowed when @len is 0) into *@out. */
void pc_hash_buffer(const void *data, size_t len, struct pc_hash *out);

/*
 * Streaming hasher. Calling sequence:
 *
 *	struct pc_hasher h;
 *	pc_hasher_init(&h);
 *	pc_hasher_update(&h, data, len);	// any number of times
 *	pc_hasher_final(&h, &hash);		// may be called again, or
 *						// followed by more updates
 *	pc_hasher_release(&h);
 *
 * Allocation failure dies (x-allocator semantics).
 */
struct pc_hasher {
	XXH3_state_t *state;
};

void pc_hasher_init(struct pc_hasher *h);
void pc_hasher_update(struct pc_hasher *h, const void *data, size_t len);
void pc_hasher_final(const struct pc_hasher *h, struct pc_hash *out);
void pc_hasher_release(struct pc_hasher *h);

/*
 * Hash everything read from @fd (from its current offset to end of
 * file) into *@out, retrying EINTR. Stores the number of bytes hashed in
 * *@size when @size is not NULL. Returns 0 or -errno from read(); *@out
 * is unspecified on error.
 */
int pc_hash_fd(int fd, struct pc_hash *out, uint64_t *size);

/*
 * Open @path relative to @dirfd with O_RDONLY|O_CLOEXEC|O_NOFOLLOW|
 * O_NOCTTY and hash its content as pc_hash_fd(). A symlink as last
 * component gives -ELOOP; anything but a regular file (checked with
 * fstat() on the opened fd) gives -EINVAL. Returns 0 or -errno.
 */
int pc_hash_file_at(int dirfd, const char *path, struct pc_hash *out,
		    uint64_t *size);

/* Write the 32 lowercase hex digits of @h and a NUL into @out. */
void pc_hash_to_hex(const struct pc_hash *h, char out[PC_HASH_HEX_LEN + 1]);

/*
 * Parse exactly 32 lowercase hex digits followed by the end of @str.
 * Returns 0, or -EINVAL (anything else, including uppercase) leaving
 * *@out untouched.
 */
int pc_hash_from_hex(const char *str, struct pc_hash *out);


bool pc_hash_equal(const struct pc_hash *a, const struct pc_hash *b);
bool pc_hash_is_zero(const struct pc_hash *h);

/*
 * Canonical key encoding.
 *
 * A cache key is the hash of a sequence of tagged fields. keyenc_add()
 * appends one field to the encoding as:
 *
 *	tag	the bytes of the tag string, then one NUL byte
 *		(tags are ASCII and contain no NUL)
 *	length	the number of data bytes, 8 bytes, unsigned little-endian
 *	data	exactly that many bytes, unchanged
 *
 * Each field is thus self-delimiting, so two different sequences of
 * (tag, data) fields never encode to the same bytes: ("a", "bc") then
 * nothing differs from ("ab", "c"), and tags cannot be confused with
 * data. keyenc_add_str() adds the bytes of the string (without its NUL);
 * keyenc_add_u64() adds 8 bytes, the value unsigned little-endian. The
 * key is pc_hash_buffer() of the whole encoding (XXH3-128, canonical).
 *
 * This is an on-disk format: cache keys depend on it byte for byte.
 * Changing it, or the order or tags of the fields a caller adds,
 * changes every key; do so only together with a cache version bump.
 *
 *	struct keyenc k;
 *	keyenc_init(&k);
 *	keyenc_add_str(&k, "argv", argv0);
 *	keyenc_add_u64(&k, "uid", uid);
 *	keyenc_hash(&k, &key);
 *	keyenc_release(&k);
 */
struct keyenc {
	struct strbuf buf;
};

void keyenc_init(struct keyenc *k);
void keyenc_release(struct keyenc *k);
/* @tag must be non-NULL; @data may be NULL when @len is 0. */
void keyenc_add(struct keyenc *k, const char *tag, const void *data,
		size_t len);
void keyenc_add_str(struct keyenc *k, const char *tag, const char *s);
void keyenc_add_u64(struct keyenc *k, const char *tag, uint64_t v);
/* Hash the encoding so far; more fields may be added afterwards. */
void keyenc_hash(const struct keyenc *k, struct pc_hash *out);

#endif

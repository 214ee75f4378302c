#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/die.h"
#include "common/hash.h"
#include "common/xalloc.h"

#include "common/banned.h"

#define HASH_READ_SIZE ((size_t)128 * 1024)

static void from_xxh128(XXH128_hash_t hv, struct pc_hash *out)
{
	XXH128_canonical_t c;

	XXH128_canonicalFromHash(&c, hv);
	memcpy(out->b, c.digest, sizeof(out->b));
}

void pc_hash_buffer(const void *data, size_t len, struct pc_hash *out)
{
	from_xxh128(XXH3_128bits(len ? data : "", len), out);
}

void pc_hasher_init(struct pc_hasher *h)
{
	h->state = XXH3_createState();
	if (!h->state)
		die("out of memory, cannot allocate hash state");
	if (XXH3_128bits_reset(h->state) != XXH_OK)
		BUG("XXH3_128bits_reset failed");
}

void pc_hasher_update(struct pc_hasher *h, const void *data, size_t len)
{
	if (!len)
		return;
	if (XXH3_128bits_update(h->state, data, len) != XXH_OK)
		BUG("XXH3_128bits_update failed");
}

void pc_hasher_final(const struct pc_hasher *h, struct pc_hash *out)
{
	from_xxh128(XXH3_128bits_digest(h->state), out);
}

void pc_hasher_release(struct pc_hasher *h)
{
	XXH3_freeState(h->state);
	h->state = NULL;
}

int pc_hash_fd(int fd, struct pc_hash *out, uint64_t *size)
{
	char *buf = xmalloc(HASH_READ_SIZE);
	struct pc_hasher h;
	uint64_t total = 0;
	int ret = 0;

	pc_hasher_init(&h);
	for (;;) {
		ssize_t n = read(fd, buf, HASH_READ_SIZE);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (n == 0)
			break;
		pc_hasher_update(&h, buf, (size_t)n);
		total += (uint64_t)n;
	}
	if (!ret) {
		pc_hasher_final(&h, out);
		if (size)
			*size = total;
	}
	pc_hasher_release(&h);
	free(buf);
	return ret;
}

int pc_hash_file_at(int dirfd, const char *path, struct pc_hash *out,
		    uint64_t *size)
{
	struct stat st;
	int fd, ret;

	/*
	 * O_NOFOLLOW so a symlink is never hashed as its target; the
	 * regular-file check is on the opened fd, so no race with a swap.
	 * A FIFO would block in open() without O_NONBLOCK, which is why we
	 * add it and clear it again once we know the file is regular.
	 */
	fd = openat(dirfd, path,
		    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		goto out;
	}
	ret = fcntl(fd, F_GETFL);
	if (ret < 0 || fcntl(fd, F_SETFL, ret & ~O_NONBLOCK) < 0) {
		ret = -errno;
		goto out;
	}
	ret = pc_hash_fd(fd, out, size);
out:
	close(fd);
	return ret;
}

void pc_hash_to_hex(const struct pc_hash *h, char out[PC_HASH_HEX_LEN + 1])
{
	hex_encode(h->b, sizeof(h->b), out);
}

int pc_hash_from_hex(const char *str, struct pc_hash *out)
{
	struct pc_hash h;

	/* strnlen: a short string ends before the digits do. */
	if (strnlen(str, PC_HASH_HEX_LEN + 1) != PC_HASH_HEX_LEN ||
	    hex_decode(str, PC_HASH_HEX_LEN, h.b) < 0)
		return -EINVAL;
	*out = h;
	return 0;
}

bool pc_hash_equal(const struct pc_hash *a, const struct pc_hash *b)
{
	return !memcmp(a->b, b->b, sizeof(a->b));
}

bool pc_hash_is_zero(const struct pc_hash *h)
{
	static const struct pc_hash zero;

	return pc_hash_equal(h, &zero);
}

void keyenc_init(struct keyenc *k)
{
	strbuf_init(&k->buf, 0);
}

void keyenc_release(struct keyenc *k)
{
	strbuf_release(&k->buf);
}

static void put_u64_le(unsigned char out[8], uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		out[i] = (unsigned char)(v >> (8 * i));
}

void keyenc_add(struct keyenc *k, const char *tag, const void *data,
		size_t len)
{
	unsigned char lenbuf[8];

	strbuf_add(&k->buf, tag, strlen(tag) + 1);	/* with its NUL */
	put_u64_le(lenbuf, (uint64_t)len);
	strbuf_add(&k->buf, lenbuf, sizeof(lenbuf));
	strbuf_add(&k->buf, data, len);
}

void keyenc_add_str(struct keyenc *k, const char *tag, const char *s)
{
	keyenc_add(k, tag, s, strlen(s));
}

void keyenc_add_u64(struct keyenc *k, const char *tag, uint64_t v)
{
	unsigned char vbuf[8];

	put_u64_le(vbuf, v);
	keyenc_add(k, tag, vbuf, sizeof(vbuf));
}

void keyenc_hash(const struct keyenc *k, struct pc_hash *out)
{
	pc_hash_buffer(k->buf.buf, k->buf.len, out);
}

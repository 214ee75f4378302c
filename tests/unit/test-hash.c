#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/hash.h"

#include "tests/unit/unit.h"

/* Expected values computed with xxh128sum (xxhash 0.8.1). */
#define XXH128_EMPTY "99aa06d3014798d86001c324468d497f"
#define XXH128_ABC "06b05ab6733a618578af5f94892f3950"
/* printf 'a\0\2\0\0\0\0\0\0\0bc' | xxh128sum */
#define XXH128_KEYENC_A_BC "125603438c0b8be27a9e05032e80e7a5"
/* 300000 bytes of 'q' (more than one 128 KiB read) */
#define XXH128_300K_Q "e797f3bc0e708aacffbc10a4d5da2358"

TEST(test_known_answers)
{
	struct pc_hash h;
	char hex[PC_HASH_HEX_LEN + 1];

	pc_hash_buffer("", 0, &h);
	pc_hash_to_hex(&h, hex);
	CHECK_EQ_STR(hex, XXH128_EMPTY);
	pc_hash_buffer(NULL, 0, &h);
	pc_hash_to_hex(&h, hex);
	CHECK_EQ_STR(hex, XXH128_EMPTY);
	pc_hash_buffer("abc", 3, &h);
	pc_hash_to_hex(&h, hex);
	CHECK_EQ_STR(hex, XXH128_ABC);
	CHECK(!pc_hash_is_zero(&h));
}

TEST(test_streaming_matches_oneshot)
{
	struct pc_hasher hr;
	struct pc_hash a, b;

	pc_hasher_init(&hr);
	pc_hasher_update(&hr, "a", 1);
	pc_hasher_update(&hr, NULL, 0);
	pc_hasher_update(&hr, "bc", 2);
	pc_hasher_final(&hr, &a);
	pc_hasher_release(&hr);
	pc_hash_buffer("abc", 3, &b);
	CHECK(pc_hash_equal(&a, &b));
}

TEST(test_hex_round_trip)
{
	struct pc_hash h, back, zero;
	char hex[PC_HASH_HEX_LEN + 1];

	memset(&zero, 0, sizeof(zero));
	CHECK(pc_hash_is_zero(&zero));
	pc_hash_buffer("abc", 3, &h);
	pc_hash_to_hex(&h, hex);
	CHECK_EQ_INT(strlen(hex), PC_HASH_HEX_LEN);
	CHECK_EQ_INT(pc_hash_from_hex(hex, &back), 0);
	CHECK(pc_hash_equal(&h, &back));

	back = zero;
	CHECK_EQ_INT(pc_hash_from_hex("", &back), -EINVAL);
	CHECK_EQ_INT(pc_hash_from_hex("06b05ab6733a618578af5f94892f395",
				      &back),
		     -EINVAL);
	CHECK_EQ_INT(pc_hash_from_hex("06b05ab6733a618578af5f94892f39500",
				      &back),
		     -EINVAL);
	CHECK_EQ_INT(pc_hash_from_hex("06B05AB6733A618578AF5F94892F3950",
				      &back),
		     -EINVAL);
	CHECK_EQ_INT(pc_hash_from_hex("06b05ab6733a618578af5f94892f395g",
				      &back),
		     -EINVAL);
	CHECK_EQ_INT(pc_hash_from_hex(" 6b05ab6733a618578af5f94892f3950",
				      &back),
		     -EINVAL);
	CHECK_EQ_INT(pc_hash_from_hex("06b05ab6733a618578af5f94892f3950\n",
				      &back),
		     -EINVAL);
	/* Failed parses leave the output alone. */
	CHECK(pc_hash_is_zero(&back));
}

static void key_of(struct pc_hash *out, const char *t1, const char *d1,
		   const char *t2, const char *d2)
{
	struct keyenc k;

	keyenc_init(&k);
	keyenc_add_str(&k, t1, d1);
	if (t2)
		keyenc_add_str(&k, t2, d2);
	keyenc_hash(&k, out);
	keyenc_release(&k);
}

TEST(test_keyenc_format)
{
	static const char want[] = "a\0\2\0\0\0\0\0\0\0bc"
				   "n\0\x08\0\0\0\0\0\0\0\x01\x02\0\0\0\0\0\x80";
	struct keyenc k;
	struct pc_hash h;
	char hex[PC_HASH_HEX_LEN + 1];

	keyenc_init(&k);
	keyenc_add_str(&k, "a", "bc");
	keyenc_hash(&k, &h);
	pc_hash_to_hex(&h, hex);
	CHECK_EQ_STR(hex, XXH128_KEYENC_A_BC);
	keyenc_add_u64(&k, "n", 0x8000000000000201ULL);
	CHECK_EQ_MEM(k.buf.buf, k.buf.len, want, sizeof(want) - 1);
	keyenc_release(&k);
}

TEST(test_keyenc_no_ambiguity)
{
	struct pc_hash a, b;
	struct keyenc k;

	/* Tag/data split. */
	key_of(&a, "a", "bc", NULL, NULL);
	key_of(&b, "ab", "c", NULL, NULL);
	CHECK(!pc_hash_equal(&a, &b));
	/* Data split across fields. */
	key_of(&a, "t", "ab", "t", "c");
	key_of(&b, "t", "a", "t", "bc");
	CHECK(!pc_hash_equal(&a, &b));
	/* Empty field vs no field. */
	key_of(&a, "t", "x", NULL, NULL);
	key_of(&b, "t", "x", "t", "");
	CHECK(!pc_hash_equal(&a, &b));
	/* Same fields, same key. */
	key_of(&a, "t", "ab", "u", "c");
	key_of(&b, "t", "ab", "u", "c");
	CHECK(pc_hash_equal(&a, &b));

	/* keyenc_add_u64() is keyenc_add() of the 8 little-endian bytes. */
	keyenc_init(&k);
	keyenc_add_u64(&k, "n", 1);
	keyenc_hash(&k, &a);
	keyenc_release(&k);
	keyenc_init(&k);
	keyenc_add(&k, "n", "\1\0\0\0\0\0\0\0", 8);
	keyenc_hash(&k, &b);
	keyenc_release(&k);
	CHECK(pc_hash_equal(&a, &b));
}

TEST(test_hash_files)
{
	_cleanup_close_ int dfd = -1;
	_cleanup_free_ char *big = NULL;
	struct pc_hash h;
	char hex[PC_HASH_HEX_LEN + 1];
	uint64_t size = 0;

	dfd = open(unit_tmpdir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!CHECK(dfd >= 0))
		return;
	big = xmalloc(300000);
	memset(big, 'q', 300000);
	CHECK_EQ_INT(write_file_atomic_at(dfd, "big", big, 300000, 0644, 0),
		     0);
	CHECK_EQ_INT(write_file_atomic_at(dfd, "empty", "", 0, 0644, 0), 0);
	CHECK_EQ_INT(pc_hash_file_at(dfd, "big", &h, &size), 0);
	pc_hash_to_hex(&h, hex);
	CHECK_EQ_STR(hex, XXH128_300K_Q);
	CHECK_EQ_INT(size, 300000);
	CHECK_EQ_INT(pc_hash_file_at(dfd, "empty", &h, &size), 0);
	pc_hash_to_hex(&h, hex);
	CHECK_EQ_STR(hex, XXH128_EMPTY);
	CHECK_EQ_INT(size, 0);

	CHECK_EQ_INT(symlinkat("big", dfd, "link"), 0);
	CHECK_EQ_INT(pc_hash_file_at(dfd, "link", &h, NULL), -ELOOP);
	CHECK_EQ_INT(mkdirat(dfd, "dir", 0755), 0);
	CHECK_EQ_INT(pc_hash_file_at(dfd, "dir", &h, NULL), -EINVAL);
	CHECK_EQ_INT(mkfifoat(dfd, "fifo", 0644), 0);
	CHECK_EQ_INT(pc_hash_file_at(dfd, "fifo", &h, NULL), -EINVAL);
	CHECK_EQ_INT(pc_hash_file_at(dfd, "missing", &h, NULL), -ENOENT);
}

int main(void)
{
	RUN(test_known_answers);
	RUN(test_streaming_matches_oneshot);
	RUN(test_hex_round_trip);
	RUN(test_keyenc_format);
	RUN(test_keyenc_no_ambiguity);
	RUN(test_hash_files);
	return unit_done();
}

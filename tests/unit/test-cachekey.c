/*
 * Job keys: the canonical encoding (common/hash.h keyenc) through
 * cache_key_*, field boundaries, u64 and binary fields.
 */
#include <string.h>

#include "cache/cache.h"
#include "common/hash.h"

#include "tests/unit/unit.h"

static char *hex_of(struct cache_key *k)
{
	return xstrdup(cache_key_hex(k));
}

TEST(test_matches_keyenc)
{
	struct cache_key *k = cache_key_new();
	struct keyenc enc;
	struct pc_hash h, h2;
	char hex[PC_HASH_HEX_LEN + 1];

	cache_key_add_str(k, "format", "procache-key-1");
	cache_key_add_u64(k, "argc", 2);
	cache_key_add(k, "stdin", "\0\1\2", 3);
	keyenc_init(&enc);
	keyenc_add_str(&enc, "format", "procache-key-1");
	keyenc_add_u64(&enc, "argc", 2);
	keyenc_add(&enc, "stdin", "\0\1\2", 3);
	keyenc_hash(&enc, &h);
	keyenc_release(&enc);
	pc_hash_to_hex(&h, hex);
	CHECK_EQ_STR(cache_key_hex(k), hex);
	cache_key_hash(k, &h2);
	CHECK(pc_hash_equal(&h, &h2));
	cache_key_free(k);
}

TEST(test_boundaries_matter)
{
	struct cache_key *a = cache_key_new(), *b = cache_key_new();
	char *ha, *hb;

	cache_key_add_str(a, "argv", "a");
	cache_key_add_str(a, "argv", "bc");
	cache_key_add_str(b, "argv", "ab");
	cache_key_add_str(b, "argv", "c");
	ha = hex_of(a);
	hb = hex_of(b);
	CHECK(strcmp(ha, hb) != 0);
	free(ha);
	free(hb);
	cache_key_free(a);
	cache_key_free(b);
}

TEST(test_tag_and_order_matter)
{
	struct cache_key *a = cache_key_new(), *b = cache_key_new();
	struct cache_key *c = cache_key_new();
	char *ha, *hb, *hc;

	cache_key_add_str(a, "env", "X=1");
	cache_key_add_str(a, "cwd", "/");
	cache_key_add_str(b, "cwd", "/");
	cache_key_add_str(b, "env", "X=1");
	cache_key_add_str(c, "envx", "X=1");
	cache_key_add_str(c, "cwd", "/");
	ha = hex_of(a);
	hb = hex_of(b);
	hc = hex_of(c);
	CHECK(strcmp(ha, hb) != 0);
	CHECK(strcmp(ha, hc) != 0);
	free(ha);
	free(hb);
	free(hc);
	cache_key_free(a);
	cache_key_free(b);
	cache_key_free(c);
}

TEST(test_hex_recomputed_after_add)
{
	struct cache_key *k = cache_key_new();
	char *h1, *h2, *h3;

	cache_key_add_str(k, "argv", "true");
	h1 = hex_of(k);
	h2 = hex_of(k);
	CHECK_EQ_STR(h1, h2);
	cache_key_add_u64(k, "uid", 0);
	h3 = hex_of(k);
	CHECK(strcmp(h1, h3) != 0);
	CHECK_EQ_INT(strlen(h3), 32);
	free(h1);
	free(h2);
	free(h3);
	cache_key_free(k);
}

TEST(test_u64_differs_from_string)
{
	struct cache_key *a = cache_key_new(), *b = cache_key_new();
	char *ha, *hb;

	cache_key_add_u64(a, "uid", 1000);
	cache_key_add_str(b, "uid", "1000");
	ha = hex_of(a);
	hb = hex_of(b);
	CHECK(strcmp(ha, hb) != 0);
	free(ha);
	free(hb);
	cache_key_free(a);
	cache_key_free(b);
}

TEST(test_empty_key_is_stable)
{
	struct cache_key *a = cache_key_new(), *b = cache_key_new();

	CHECK_EQ_STR(cache_key_hex(a), cache_key_hex(b));
	cache_key_free(a);
	cache_key_free(b);
}

int main(void)
{
	RUN(test_matches_keyenc);
	RUN(test_boundaries_matter);
	RUN(test_tag_and_order_matter);
	RUN(test_hex_recomputed_after_add);
	RUN(test_u64_differs_from_string);
	RUN(test_empty_key_is_stable);
	return unit_done();
}

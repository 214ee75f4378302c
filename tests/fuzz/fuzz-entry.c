/*
 * libFuzzer target for the cache entry parsers (cache/entrybin.c, and
 * cache/entry.c for version 3's JSON payload).
 *
 * The first input byte chooses the mode: even, the rest is a whole entry
 * file (envelope checks); odd, the rest is a payload that gets a valid
 * envelope, so the fuzzer reaches the checks behind the checksum: of
 * version 4's binary payload, or with bit 1 set too, of version 3's JSON.
 * Bit 2 set: decoded as a lookup does (ENTRY_DECODE_LOOKUP, the key
 * fields walked, not read), and not re-encoded.
 *
 * Any input must be rejected with -EBADMSG or decoded, never crash, leak
 * or read out of bounds (built with AddressSanitizer). A decoded entry
 * must satisfy what the rest of procache relies on: every path safe,
 * re-encoding it gives an envelope that decodes to the same entry, and it
 * prints as JSON.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "cache/internal.h"
#include "common/die.h"
#include "common/hash.h"
#include "common/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf err = STRBUF_INIT, again = STRBUF_INIT, third = STRBUF_INIT;
	struct cache_entry *e = NULL, *e2 = NULL;
	size_t i;
	cJSON *j;

	struct strbuf wrapped = STRBUF_INIT;
	unsigned flags;
	int r;

	if (!size)
		return 0;
	flags = data[0] & 4 ? ENTRY_DECODE_LOOKUP : 0;
	if (data[0] & 1) {
		unsigned char hdr[ENTRY_HEADER_LEN] = "PCENTRY\n";
		struct pc_hash h;
		uint64_t len = size - 1;

		hdr[8] = data[0] & 2 ? ENTRY_VERSION_JSON : ENTRY_VERSION;
		for (i = 0; i < 8; i++)
			hdr[16 + i] = (unsigned char)(len >> (8 * i));
		pc_hash_buffer(data + 1, size - 1, &h);
		memcpy(hdr + 24, h.b, 16);
		strbuf_add(&wrapped, hdr, sizeof(hdr));
		strbuf_add(&wrapped, data + 1, size - 1);
		r = entry_decode_flags(wrapped.buf, wrapped.len, flags, &e, &err);
	} else {
		r = entry_decode_flags(data + 1, size - 1, flags, &e, &err);
	}
	strbuf_release(&wrapped);
	if (r < 0) {
		if (e)
			abort(); /* failure must not hand out an entry */
		strbuf_release(&err);
		return 0;
	}
	for (i = 0; i < e->nr_ch; i++)
		if (!entry_path_valid(e->ch[i].path, false, e->base_relative))
			abort();
	for (i = 0; i < e->nr_pre; i++)
		if (e->pre[i].kind != PRE_HOSTFACT &&
		    !entry_path_valid(e->pre[i].path, true, e->base_relative))
			abort();
	j = cache_entry_json(e);
	if (!j)
		abort();
	cJSON_Delete(j);
	if (e->fields_skipped) {
		cache_entry_free(e);
		strbuf_release(&err);
		return 0;
	}

	/* encode(decode(x)) decodes, and is a fixed point. */
	entry_encode(e, &again);
	if (entry_decode(again.buf, again.len, &e2, &err) < 0) {
		fprintf(stderr, "re-encoded entry does not decode: %s\n", err.buf);
		abort();
	}
	e2->created = e->created;
	entry_encode(e2, &third);
	if (again.len != third.len || memcmp(again.buf, third.buf, again.len))
		abort();
	cache_entry_free(e);
	cache_entry_free(e2);
	strbuf_release(&err);
	strbuf_release(&again);
	strbuf_release(&third);
	return 0;
}

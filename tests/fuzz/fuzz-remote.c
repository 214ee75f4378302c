/*
 * libFuzzer target for the remote cache's read path (cache/remote.c):
 * what a server returns for a key's index, for an entry and for a blob,
 * through cache_remote_lookup() with a backend that answers from the
 * input (remote_set_backend()), into a real local cache directory.
 *
 * Input: byte 0 chooses which answers come from the input (bit 0: the
 * index, bit 1: the entry, bit 2: the stdout blob; bit 3: the server
 * fails the blob request; bit 4: instead, the rest of the input is the
 * raw bytes of an HTTP answer, read by the plain-http client through a
 * socketpair, HEAD with bit 5; bits 4 and 6: the rest is a WebDAV
 * PROPFIND answer for `cache gc --remote`'s listing); then u16 LE length + the index, u16 LE length
 * + the entry, and the rest is the blob. Answers not taken from the input
 * are the right ones for an entry the harness builds (no preconditions,
 * stdout "hello\n"), so the fuzzer reaches each check with the others
 * passing.
 *
 * Never a crash, a leak or a read out of bounds; and never a wrong file:
 * on a hit, every blob of the entry is in the local store and hashes to
 * its name, and the entry is the harness's (the only one whose key and id
 * can match).
 *
 * The cache lives in $FUZZ_SCRATCH (default /var/tmp), made once.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cache/cache.h"
#include "cache/internal.h"
#include "cache/remote-internal.h"
#include "cache/remote.h"
#include "common/die.h"
#include "common/hash.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char expected_blob[] = "hello\n";

struct remote_backend {
	unsigned mode;
	const uint8_t *index, *entry, *blob;
	size_t index_len, entry_len, blob_len;
	const struct strbuf *good_entry;
	const char *good_id, *blob_hex;
};

static int fz_get(struct remote_backend *b, enum remote_obj kind,
		  const char *name, struct remote_sink *sink, struct strbuf *err)
{
	if (kind == REMOTE_ENTRY) {
		if (b->mode & 2)
			return remote_sink_write(sink, b->entry, b->entry_len);
		return remote_sink_write(sink, b->good_entry->buf, b->good_entry->len);
	}
	if (!strcmp(name, b->blob_hex)) {
		if (b->mode & 8)
			return strbuf_error(err, -EIO, "fuzz: server failed");
		if (b->mode & 4)
			return remote_sink_write(sink, b->blob, b->blob_len);
		return remote_sink_write(sink, expected_blob, strlen(expected_blob));
	}
	return remote_sink_write(sink, "", 0);	/* the empty stderr blob */
}

static int fz_exists(struct remote_backend *b, enum remote_obj kind,
		     const char *name, struct strbuf *err)
{
	(void)b, (void)kind, (void)name, (void)err;
	abort();	/* the read path never asks */
}

static int fz_put(struct remote_backend *b, enum remote_obj kind,
		  const char *name, const void *d, size_t len, struct strbuf *err)
{
	(void)b, (void)kind, (void)name, (void)d, (void)len, (void)err;
	abort();	/* the read path never writes */
}

static int fz_index_get(struct remote_backend *b, const char *key_hex,
			char ***ids, size_t *nr, struct strbuf *err)
{
	(void)key_hex, (void)err;
	if (b->mode & 1) {
		remote_index_parse((const char *)b->index, b->index_len, ids, nr);
		for (size_t i = 0; i < *nr; i++)
			if (!remote_id_valid((*ids)[i], strlen((*ids)[i])))
				abort();
		return 0;
	}
	*ids = xcalloc(1, sizeof(**ids));
	(*ids)[0] = xstrdup(b->good_id);
	*nr = 1;
	return 0;
}

static int fz_index_add(struct remote_backend *b, const char *key_hex,
			const char *id, struct strbuf *err)
{
	(void)b, (void)key_hex, (void)id, (void)err;
	abort();
}

static void fz_close(struct remote_backend *b)
{
	(void)b;
}

static const struct remote_ops fz_ops = {
	.scheme_name = "fuzz",
	.get = fz_get,
	.exists = fz_exists,
	.put = fz_put,
	.index_get = fz_index_get,
	.index_add = fz_index_add,
	.close = fz_close,
};

static struct cache *cache;
static struct cache_key *key;
static struct strbuf good_entry = STRBUF_INIT;
static char good_id[ENTRY_ID_LEN + 1], blob_hex[PC_HASH_HEX_LEN + 1];

static void setup(void)
{
	struct strbuf err = STRBUF_INIT, dir = STRBUF_INIT;
	const char *scratch = getenv("FUZZ_SCRATCH");
	struct cache_record *r;
	struct pc_hash h;

	strbuf_addf(&dir, "%s/fuzz-remote-cache.%ld", scratch ? scratch : "/var/tmp",
		    (long)getpid());
	if (cache_open(dir.buf, 0, &cache, &err) < 0) {
		fprintf(stderr, "fuzz-remote: %s\n", err.buf);
		abort();
	}
	key = cache_key_new();
	cache_key_add_str(key, "argv", "fuzz");
	r = cache_record_new(key);
	pc_hash_buffer(expected_blob, strlen(expected_blob), &h);
	r->e.out[0].hash = h;
	r->e.out[0].size = strlen(expected_blob);
	pc_hash_buffer(NULL, 0, &r->e.out[1].hash);
	entry_encode(&r->e, &good_entry);
	memcpy(good_id, r->e.id_hex, sizeof(good_id));
	pc_hash_to_hex(&h, blob_hex);
	cache_record_free(r);
	strbuf_release(&dir);
	strbuf_release(&err);
}

static size_t take(const uint8_t **p, size_t *left, const uint8_t **out)
{
	size_t n;

	if (*left < 2) {
		*out = *p;
		return 0;
	}
	n = (size_t)(*p)[0] | (size_t)(*p)[1] << 8;
	*p += 2;
	*left -= 2;
	if (n > *left)
		n = *left;
	*out = *p;
	*p += n;
	*left -= n;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cache_remote_config cfg = { .url = "http://fuzz.invalid/" };
	struct strbuf err = STRBUF_INIT;
	struct remote_backend b = { 0 };
	struct cache_remote *rm;
	struct cache_entry *hit = NULL;
	const uint8_t *p = data;
	size_t left = size;

	if (!cache)
		setup();
	if (!size)
		return 0;
	if ((data[0] & 80) == 80) {
		struct remote_listing l = { 0 };

		remote_propfind_parse((const char *)data + 1, size - 1, "/cache/k", &l);
		for (size_t i = 0; i < l.nr; i++)
			if (!l.v[i].name || strchr(l.v[i].name, '/'))
				abort();	/* a name is one segment */
		remote_listing_release(&l);
		return 0;
	}
	if (data[0] & 16) {
		struct strbuf body = STRBUF_INIT;
		struct remote_sink sink = { .buf = &body, .fd = -1, .max = 4096 };
		int sv[2];
		long st;

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
			abort();
		if (size > 1 && write(sv[1], data + 1, size - 1) != (ssize_t)(size - 1))
			abort();	/* max_len keeps it under the socket buffer */
		shutdown(sv[1], SHUT_WR);
		st = remote_http_answer(sv[0], data[0] & 32, &sink);
		/* Only a 200's or a 207's (PROPFIND) body reaches the sink (a
		 * failure may leave part of one there: the caller drops it). */
		if (sink.got > sink.max || body.len != sink.got ||
		    (st > 0 && st != 200 && st != 207 && body.len))
			abort();
		close(sv[0]);
		close(sv[1]);
		strbuf_release(&body);
		return 0;
	}
	b.mode = data[0];
	p++;
	left--;
	b.index_len = take(&p, &left, &b.index);
	b.entry_len = take(&p, &left, &b.entry);
	b.blob = p;
	b.blob_len = left;
	b.good_entry = &good_entry;
	b.good_id = good_id;
	b.blob_hex = blob_hex;

	if (cache_clear(cache, &err) < 0)
		abort();
	if (cache_remote_open(&cfg, &rm, &err) < 0)
		abort();
	remote_set_backend(rm, &b, &fz_ops);
	if (cache_remote_lookup(cache, rm, key, &hit) == 1) {
		const struct pc_hash *h;
		uint64_t sz;
		size_t i = 0;

		if (!hit || strcmp(cache_entry_id(hit) + PC_HASH_HEX_LEN + 1, good_id))
			abort();
		while (entry_next_blob(hit, &i, &h, &sz))
			if (blob_check(cache, h, sz, true) < 0)
				abort();	/* a wrong file */
		cache_entry_free(hit);
	} else if (hit) {
		abort();
	}
	cache_remote_close(rm);
	strbuf_release(&err);
	return 0;
}

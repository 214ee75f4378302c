/*
 * The entry format (cache/entrybin.c, and version 3's JSON payload in
 * cache/entry.c): round trip, envelope checks, and the payload checks that
 * make a damaged or foreign entry a miss, in both payload forms.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cache/cache.h"
#include "cache/internal.h"
#include "common/hash.h"
#include "common/json.h"
#include "common/le.h"

#include "tests/unit/unit.h"

static struct cache_record *sample_record(void)
{
	struct cache_key *k = cache_key_new();
	struct cache_record *r;
	struct pc_hash h;
	struct stat st;

	cache_key_add_str(k, "format", "procache-key-1");
	cache_key_add_u64(k, "argc", 1);
	cache_key_add_str(k, "argv", "cc");
	cache_key_add(k, "stdin", "\xff\x00\x01", 3);
	r = cache_record_new(k);
	cache_key_free(k);
	pc_hash_buffer("x", 1, &h);
	cache_record_add_content(r, "/usr/include/stdio.h", &h, S_IFREG | 0644);
	cache_record_add_content(r, "/usr/include/stdio.h", &h, S_IFREG | 0600); /* dup: ignored */
	cache_record_add_absent(r, "/usr/local/include/stdio.h");
	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG | 0755;
	st.st_uid = 1000;
	st.st_gid = 100;
	st.st_size = 1234;
	st.st_mtim.tv_sec = 1790000000;
	st.st_mtim.tv_nsec = 123456789;
	st.st_ctim.tv_sec = 1790000001;
	cache_record_add_stat(r, "/bin/sh", &st, true);
	st.st_mode = S_IFDIR | 0755;
	cache_record_add_stat(r, "/", &st, false);
	cache_record_add_listing(r, "/src", &h);
	cache_record_add_symlink(r, "/lib64", "usr/lib64");
	cache_record_add_hostfact(r, "uname.release", "6.18.0");
	cache_record_add_symlink(r, "/odd\x01path\xc3", "t\n");
	pc_hash_buffer("attrs", 5, &h);
	cache_record_add_xattrs(r, "/src/in.c", &h, false);
	cache_record_add_xattrs(r, "/out/b.o", &h, true);
	cache_record_set_exit(r, 0, 9);
	cache_record_set_duration(r, 2.25);
	return r;
}

/* Give the record's changes blobs, as cache_store() would. */
static void add_changes(struct cache_record *r)
{
	struct pc_hash h;

	struct xattr_set xs = XATTR_SET_INIT;

	cache_record_add_change(r, CHANGE_FILE, "/out/a.o", 0644, "/upper/a.o", NULL);
	/* sorted by name; a value may hold any bytes, an empty one too */
	xattr_set_add(&xs, "system.posix_acl_access", "\x02\x00\x00\x00", 4);
	xattr_set_add(&xs, "user.empty", "", 0);
	xattr_set_add(&xs, "user.mime_type", "text/x-c\n\xff", 10);
	cache_record_change_xattrs(r, &xs);
	xattr_set_release(&xs);
	cache_record_add_change(r, CHANGE_DIR, "/out/d", 0755, NULL, NULL);
	cache_record_add_change(r, CHANGE_DIR_REPLACED, "/out/r", 0700, NULL, NULL);
	cache_record_add_change(r, CHANGE_SYMLINK, "/out/l", 0, NULL, "../x");
	cache_record_add_change(r, CHANGE_DELETE, "/out/gone", 0, NULL, NULL);
	cache_record_add_change(r, CHANGE_MODE, "/out/m", 04755, NULL, NULL);
	pc_hash_buffer("abc", 3, &h);
	r->e.ch[0].blob = h;
	r->e.ch[0].has_blob = true;
	r->e.ch[0].size = 3;
	pc_hash_buffer("", 0, &r->e.out[0].hash);
	pc_hash_buffer("", 0, &r->e.out[1].hash);
}

static void encode(struct cache_record *r, struct strbuf *out)
{
	entry_encode(&r->e, out);
}

TEST(test_round_trip)
{
	struct cache_record *r = sample_record();
	struct strbuf buf = STRBUF_INIT, buf2 = STRBUF_INIT, err = STRBUF_INIT;
	struct cache_entry *e = NULL;
	struct cache_change_view v;
	size_t i;

	add_changes(r);
	encode(r, &buf);
	CHECK(entry_decode(buf.buf, buf.len, &e, &err) == 0);
	if (!e) {
		unit_fail(__FILE__, __LINE__, "%s", err.buf);
		return;
	}
	CHECK_EQ_STR(e->key_hex, r->e.key_hex);
	CHECK_EQ_INT(e->nr_pre, 10);
	CHECK_EQ_INT(e->nr_fields, 4);
	CHECK_EQ_INT(e->fields[3].len, 3);
	CHECK(!memcmp(e->fields[3].data, "\xff\x00\x01", 3));
	CHECK_EQ_INT(cache_entry_signal(e), 9);
	CHECK(cache_entry_duration(e) == 2.25);
	CHECK_EQ_INT(cache_entry_nr_changes(e), 6);
	cache_entry_change(e, 5, &v);
	CHECK_EQ_INT(v.kind, CHANGE_MODE);
	CHECK_EQ_INT(v.mode, 04755);
	cache_entry_change(e, 3, &v);
	CHECK_EQ_STR(v.target, "../x");
	CHECK_EQ_INT(v.xattrs->nr, 0);
	cache_entry_change(e, 0, &v);
	CHECK(v.has_blob);
	CHECK_EQ_INT(v.size, 3);
	CHECK_EQ_INT(v.xattrs->nr, 3);
	if (v.xattrs->nr == 3) {
		CHECK_EQ_STR(v.xattrs->v[0].name, "system.posix_acl_access");
		CHECK_EQ_MEM(v.xattrs->v[0].value, v.xattrs->v[0].len, "\x02\x00\x00\x00", 4);
		CHECK_EQ_INT(v.xattrs->v[1].len, 0);
		CHECK_EQ_MEM(v.xattrs->v[2].value, v.xattrs->v[2].len, "text/x-c\n\xff", 10);
	}
	for (i = 0; i < e->nr_pre; i++) {
		const struct precondition *p = &e->pre[i];

		if (p->kind == PRE_STAT && !strcmp(p->path, "/bin/sh")) {
			CHECK(p->strict);
			CHECK_EQ_INT(p->mtime_ns, 1790000000123456789LL);
			CHECK_EQ_INT(p->uid, 1000);
			CHECK_EQ_INT(p->size, 1234);
		}
		if (p->kind == PRE_SYMLINK && p->path[1] == 'o')
			CHECK_EQ_STR(p->path, "/odd\x01path\xc3");
		if (p->kind == PRE_XATTRS) {
			struct pc_hash h;

			pc_hash_buffer("attrs", 5, &h);
			CHECK(pc_hash_equal(&p->hash, &h));
			CHECK_EQ_INT(p->absent_ok, !strcmp(p->path, "/out/b.o"));
		}
	}
	/* Encoding the decoded entry gives the same bytes (canonical). */
	e->created = r->e.created;
	memcpy(e->name, r->e.name, sizeof(e->name));
	entry_encode(e, &buf2);
	CHECK_EQ_MEM(buf.buf, buf.len, buf2.buf, buf2.len);
	CHECK_EQ_STR(e->id_hex, r->e.id_hex);
	cache_entry_free(e);
	cache_record_free(r);
	strbuf_release(&buf);
	strbuf_release(&buf2);
	strbuf_release(&err);
}

TEST(test_id_depends_on_preconditions_only)
{
	struct cache_record *a = sample_record(), *b = sample_record();
	struct strbuf x = STRBUF_INIT, y = STRBUF_INIT;

	cache_record_set_exit(b, 1, 0);
	encode(a, &x);
	encode(b, &y);
	CHECK_EQ_STR(a->e.id_hex, b->e.id_hex);
	cache_record_add_absent(b, "/another");
	encode(b, &y);
	CHECK(strcmp(a->e.id_hex, b->e.id_hex) != 0);
	cache_record_free(a);
	cache_record_free(b);
	strbuf_release(&x);
	strbuf_release(&y);
}

static int decode_err(const struct strbuf *buf, struct strbuf *err)
{
	struct cache_entry *e = NULL;
	int r;

	strbuf_reset(err);
	r = entry_decode(buf->buf, buf->len, &e, err);
	cache_entry_free(e);
	return r;
}

TEST(test_envelope_checks)
{
	struct cache_record *r = sample_record();
	struct strbuf buf = STRBUF_INIT, bad = STRBUF_INIT, err = STRBUF_INIT;
	size_t i;

	encode(r, &buf);
	/* Every truncation fails. */
	for (i = 0; i < buf.len; i += (i < 64 ? 1 : 97)) {
		strbuf_reset(&bad);
		strbuf_add(&bad, buf.buf, i);
		CHECK_EQ_INT(decode_err(&bad, &err), -EBADMSG);
	}
	/* Every flipped byte fails (magic, version, flags, length, sum, payload). */
	for (i = 0; i < buf.len; i += (i < 64 ? 1 : 13)) {
		strbuf_reset(&bad);
		strbuf_addbuf(&bad, &buf);
		bad.buf[i] ^= 0x01;
		CHECK_EQ_INT(decode_err(&bad, &err), -EBADMSG);
	}
	strbuf_reset(&bad);
	strbuf_addbuf(&bad, &buf);
	bad.buf[8] = 5;
	CHECK_EQ_INT(decode_err(&bad, &err), -EBADMSG);
	CHECK(strstr(err.buf, "version 5") != NULL);
	bad.buf[8] = 2; /* before extended attributes: not read any more */
	CHECK_EQ_INT(decode_err(&bad, &err), -EBADMSG);
	CHECK(strstr(err.buf, "version 2") != NULL);
	bad.buf[8] = 1; /* before times: not read any more */
	CHECK_EQ_INT(decode_err(&bad, &err), -EBADMSG);
	strbuf_reset(&bad);
	strbuf_addbuf(&bad, &buf);
	strbuf_addch(&bad, ' ');
	CHECK_EQ_INT(decode_err(&bad, &err), -EBADMSG);
	CHECK(strstr(err.buf, "truncated or overlong") != NULL);
	cache_record_free(r);
	strbuf_release(&buf);
	strbuf_release(&bad);
	strbuf_release(&err);
}

/* Wrap the payload @p of version @version in a valid envelope. */
static void envelope(const void *p, size_t len, unsigned version,
		     struct strbuf *out)
{
	unsigned char hdr[ENTRY_HEADER_LEN] = "PCENTRY\n";
	struct pc_hash h;
	int i;

	hdr[8] = (unsigned char)version;
	for (i = 0; i < 8; i++)
		hdr[16 + i] = (unsigned char)(len >> (8 * i));
	pc_hash_buffer(p, len, &h);
	memcpy(hdr + 24, h.b, 16);
	strbuf_reset(out);
	strbuf_add(out, hdr, sizeof(hdr));
	strbuf_add(out, p, len);
}

/* @r as a version 3 entry (a JSON payload), as procache wrote it before
 * version 4. */
static void encode_v3(struct cache_record *r, struct strbuf *out)
{
	struct strbuf tmp = STRBUF_INIT;
	cJSON *j;
	char *text;

	entry_encode(&r->e, &tmp);	/* sorts, names */
	j = entry_to_json(&r->e, false);
	text = json_print_compact(j);
	envelope(text, strlen(text), 3, out);
	free(text);
	cJSON_Delete(j);
	strbuf_release(&tmp);
}

/* The sample entry's JSON payload with @from replaced by @to, in a
 * version 3 envelope. */
static int decode_edited(const char *from, const char *to, struct strbuf *err)
{
	struct cache_record *r = sample_record();
	struct strbuf buf = STRBUF_INIT, json = STRBUF_INIT;
	char *at;
	int ret;

	add_changes(r);
	encode_v3(r, &buf);
	strbuf_add(&json, buf.buf + ENTRY_HEADER_LEN, buf.len - ENTRY_HEADER_LEN);
	at = strstr(json.buf, from);
	if (!at) {
		cache_record_free(r);
		strbuf_release(&buf);
		strbuf_release(&json);
		return 1000;
	}
	strbuf_reset(&buf);
	strbuf_add(&buf, json.buf, (size_t)(at - json.buf));
	strbuf_addstr(&buf, to);
	strbuf_addstr(&buf, at + strlen(from));
	envelope(buf.buf, buf.len, 3, &json);
	ret = decode_err(&json, err);
	cache_record_free(r);
	strbuf_release(&buf);
	strbuf_release(&json);
	return ret;
}

TEST(test_payload_checks)
{
	struct strbuf err = STRBUF_INIT;

	/* The harness itself: no edit decodes. */
	CHECK_EQ_INT(decode_edited("\"duration_s\"", "\"duration_s\"", &err), 0);
	CHECK_EQ_INT(decode_edited("\"/out/a.o\"", "\"/out/../a.o\"", &err), -EBADMSG);
	CHECK(strstr(err.buf, "unsafe path") != NULL);
	CHECK_EQ_INT(decode_edited("\"/out/a.o\"", "\"out/a.o\"", &err), -EBADMSG);
	CHECK_EQ_INT(decode_edited("\"/out/a.o\"", "\"/out//a.o\"", &err), -EBADMSG);
	CHECK_EQ_INT(decode_edited("\"/out/a.o\"", "\"/out/a.o/\"", &err), -EBADMSG);
	CHECK_EQ_INT(decode_edited("\"/out/a.o\"", "\"/\"", &err), -EBADMSG);
	CHECK_EQ_INT(decode_edited("\"/out/a.o\"", "\"\"", &err), -EBADMSG);
	CHECK_EQ_INT(decode_edited("\"kind\":\"delete\"", "\"kind\":\"remove\"", &err), -EBADMSG);
	CHECK(strstr(err.buf, "unknown change kind") != NULL);
	CHECK_EQ_INT(decode_edited("\"kind\":\"absent\"", "\"kind\":\"maybe\"", &err), -EBADMSG);
	CHECK_EQ_INT(decode_edited("\"duration_s\"", "\"extra\":1,\"duration_s\"", &err), -EBADMSG);
	CHECK(strstr(err.buf, "unknown key") != NULL);
	CHECK_EQ_INT(decode_edited("\"argv\",\"s\",\"cc\"", "\"argv\",\"s\",\"gcc\"", &err), -EBADMSG);
	CHECK(strstr(err.buf, "do not hash to the key") != NULL);
	CHECK_EQ_INT(decode_edited("\"mode\":2541", "\"mode\":70000", &err), -EBADMSG);
	CHECK_EQ_INT(decode_edited("\"signal\":9", "\"signal\":99", &err), -EBADMSG);
	CHECK_EQ_INT(decode_edited("\"uname.release\"", "\"uname.nodename\"", &err), -EBADMSG);
	CHECK_EQ_INT(decode_edited("\"target\":\"../x\"", "\"target\":\"\"", &err), -EBADMSG);
	/* extended attributes: well formed, sorted, never a private name */
	CHECK_EQ_INT(decode_edited("[\"user.empty\",\"\"]", "[\"user.empty\",\"0\"]", &err), -EBADMSG);
	CHECK_EQ_INT(decode_edited("[\"user.empty\",\"\"]", "[\"user.empty\",\"ZZ\"]", &err), -EBADMSG);
	CHECK_EQ_INT(decode_edited("[\"user.empty\",\"\"]", "[\"user.empty\"]", &err), -EBADMSG);
	CHECK_EQ_INT(decode_edited("\"user.empty\"", "\"user.zzz\"", &err), -EBADMSG);
	CHECK(strstr(err.buf, "not sorted") != NULL);
	CHECK_EQ_INT(decode_edited("\"user.empty\"", "\"user.mime_type\"", &err), -EBADMSG);
	CHECK_EQ_INT(decode_edited("\"user.empty\"", "\"trusted.overlay.opaque\"", &err), -EBADMSG);
	CHECK_EQ_INT(decode_edited("\"user.empty\"", "\"user.overlay.x\"", &err), -EBADMSG);
	CHECK(strstr(err.buf, "bad name") != NULL);
	CHECK_EQ_INT(decode_edited("\"kind\":\"delete\",\"path\":\"/out/gone\"",
				   "\"kind\":\"delete\",\"path\":\"/out/gone\",\"xattrs\":[[\"user.a\",\"\"]]",
				   &err), -EBADMSG);
	CHECK_EQ_INT(decode_edited("\"kind\":\"xattrs\"", "\"kind\":\"xattr\"", &err), -EBADMSG);
	CHECK_EQ_INT(decode_edited("\"absent_ok\":true", "\"absent_ok\":false", &err), -EBADMSG);
	CHECK_EQ_INT(decode_edited("\"xattrs\":[[", "\"xattrs\":[],\"x\":[[", &err), -EBADMSG);
	strbuf_release(&err);
}

/* Version 3 entries are still read, and keep the id they were named by. */
TEST(test_json_entries_read)
{
	struct cache_record *r = sample_record();
	struct strbuf v3 = STRBUF_INIT, v4 = STRBUF_INIT, again = STRBUF_INIT;
	struct strbuf err = STRBUF_INIT;
	struct cache_entry *e3 = NULL, *e4 = NULL;
	char id[ENTRY_ID_LEN + 1], json_id[ENTRY_ID_LEN + 1];

	add_changes(r);
	encode_v3(r, &v3);
	entry_json_id(&r->e, json_id);
	entry_encode(&r->e, &v4);
	CHECK(strcmp(json_id, r->e.id_hex) != 0);
	if (CHECK_EQ_INT(entry_decode(v3.buf, v3.len, &e3, &err), 0) &&
	    CHECK_EQ_INT(entry_decode(v4.buf, v4.len, &e4, &err), 0)) {
		entry_compute_id(e3, id);
		CHECK_EQ_STR(id, json_id);
		entry_compute_id(e4, id);
		CHECK_EQ_STR(id, r->e.id_hex);
		/* the same entry either way: re-encoded, the same bytes */
		e3->created = e4->created;
		entry_encode(e3, &again);
		CHECK_EQ_MEM(again.buf, again.len, v4.buf, v4.len);
		CHECK_EQ_STR(e3->id_hex, r->e.id_hex);
	}
	cache_entry_free(e3);
	cache_entry_free(e4);
	cache_record_free(r);
	strbuf_release(&v3);
	strbuf_release(&v4);
	strbuf_release(&again);
	strbuf_release(&err);
}

/*
 * The sample entry's binary payload with the string @from (its length
 * and bytes) replaced by @to (@to_len bytes), re-enveloped.
 */
static int decode_bin_edited_flags(const char *from, const void *to,
				   size_t to_len, unsigned flags,
				   struct strbuf *err);

static int decode_bin_edited(const char *from, const void *to, size_t to_len,
			     struct strbuf *err)
{
	return decode_bin_edited_flags(from, to, to_len, 0, err);
}

static int decode_bin_edited_flags(const char *from, const void *to,
				   size_t to_len, unsigned flags,
				   struct strbuf *err)
{
	struct cache_record *r = sample_record();
	struct strbuf buf = STRBUF_INIT, pat = STRBUF_INIT, out = STRBUF_INIT;
	unsigned char len[4];
	char *at;
	int ret = 1000;

	add_changes(r);
	encode(r, &buf);
	le_put(len, strlen(from), 4);
	strbuf_add(&pat, len, 4);
	strbuf_addstr(&pat, from);
	at = memmem(buf.buf + ENTRY_HEADER_LEN, buf.len - ENTRY_HEADER_LEN,
		    pat.buf, pat.len);
	if (at) {
		le_put(len, to_len, 4);
		strbuf_add(&out, buf.buf + ENTRY_HEADER_LEN,
			   (size_t)(at - buf.buf) - ENTRY_HEADER_LEN);
		strbuf_add(&out, len, 4);
		strbuf_add(&out, to, to_len);
		strbuf_add(&out, at + pat.len, (size_t)(buf.buf + buf.len - at) - pat.len);
		struct cache_entry *e = NULL;

		envelope(out.buf, out.len, 4, &buf);
		strbuf_reset(err);
		ret = entry_decode_flags(buf.buf, buf.len, flags, &e, err);
		if (e && flags & ENTRY_DECODE_LOOKUP)
			CHECK(e->fields_skipped && !e->nr_fields && e->nr_pre == 10);
		cache_entry_free(e);
	}
	cache_record_free(r);
	strbuf_release(&buf);
	strbuf_release(&pat);
	strbuf_release(&out);
	return ret;
}

#define BIN_EDIT(from, to) decode_bin_edited(from, to, sizeof(to) - 1, &err)

TEST(test_binary_payload_checks)
{
	struct cache_record *r = sample_record();
	struct strbuf buf = STRBUF_INIT, bad = STRBUF_INIT, err = STRBUF_INIT;
	struct strbuf whole = STRBUF_INIT;
	struct cache_entry *e = NULL;
	struct cache_output_pre o = { .mode = S_IFREG | 0644, .uid = 1, .gid = 2,
		.create = true, .create_mode = 0644, .create_uid = 1, .create_gid = 2,
		.parent_mode = S_IFDIR | 01777, .parent_uid = 0, .parent_gid = 0 };
	struct stat st = { .st_mode = S_IFREG | 0644, .st_size = 7, .st_nlink = 2 };

	/* The harness itself: no edit decodes. */
	CHECK_EQ_INT(BIN_EDIT("/out/a.o", "/out/a.o"), 0);
	CHECK_EQ_INT(BIN_EDIT("/out/a.o", "/out/../a.o"), -EBADMSG);
	CHECK(strstr(err.buf, "unsafe path") != NULL);
	CHECK_EQ_INT(BIN_EDIT("/out/a.o", "out/a.o"), -EBADMSG);
	CHECK_EQ_INT(BIN_EDIT("/out/a.o", "/out//a.o"), -EBADMSG);
	CHECK_EQ_INT(BIN_EDIT("/out/a.o", "/"), -EBADMSG);
	CHECK_EQ_INT(BIN_EDIT("/out/a.o", ""), -EBADMSG);
	CHECK_EQ_INT(BIN_EDIT("/out/a.o", "/out/a\0.o"), -EBADMSG);
	CHECK_EQ_INT(BIN_EDIT("/src", "/src/."), -EBADMSG);
	CHECK_EQ_INT(BIN_EDIT("cc", "gcc"), -EBADMSG);
	CHECK(strstr(err.buf, "do not hash to the key") != NULL);
	/* a lookup reads no key field (the key is checked against the
	 * file's name), but still walks them within bounds */
	CHECK_EQ_INT(decode_bin_edited_flags("cc", "gcc", 3, ENTRY_DECODE_LOOKUP, &err), 0);
	CHECK_EQ_INT(decode_bin_edited_flags("cc", "gc", 2, ENTRY_DECODE_LOOKUP, &err), 0);

	CHECK_EQ_INT(BIN_EDIT("uname.release", "uname.nodename"), -EBADMSG);
	CHECK_EQ_INT(BIN_EDIT("../x", ""), -EBADMSG);
	CHECK_EQ_INT(BIN_EDIT("user.empty", "user.zzz"), -EBADMSG);
	CHECK(strstr(err.buf, "not sorted") != NULL);
	CHECK_EQ_INT(BIN_EDIT("user.empty", "trusted.overlay.opaque"), -EBADMSG);
	CHECK_EQ_INT(BIN_EDIT("user.empty", "user.overlay.x"), -EBADMSG);
	CHECK_EQ_INT(BIN_EDIT("user.empty", "noprefix"), -EBADMSG);

	/* every kind and flag round-trips; trailing bytes are refused */
	cache_record_add_stat(r, "/etc/f", &st, CACHE_STAT_MTIME);
	cache_record_add_output(r, "/out/o", &o);
	encode(r, &buf);
	for (size_t i = 0; i < r->e.nr_pre; i++)
		if (!strcmp(r->e.pre[i].path, "/etc/f")) {
			CHECK(r->e.pre[i].has_mtime && !r->e.pre[i].strict);
			r->e.pre[i].has_hash = true;
			pc_hash_buffer("f", 1, &r->e.pre[i].hash);
		}
	encode(r, &buf);
	if (CHECK_EQ_INT(entry_decode(buf.buf, buf.len, &e, &err), 0)) {
		e->created = r->e.created;
		entry_encode(e, &bad);
		CHECK_EQ_MEM(bad.buf, bad.len, buf.buf, buf.len);
		for (size_t i = 0; i < e->nr_pre; i++) {
			const struct precondition *p = &e->pre[i];

			if (!strcmp(p->path, "/etc/f") && p->kind == PRE_STAT)
				CHECK(p->has_mtime && p->has_hash && p->size == 7 &&
				      p->nlink == 2);
			if (p->kind == PRE_OUTPUT)
				CHECK(p->create && p->parent_mode == (S_IFDIR | 01777) &&
				      p->create_gid == 2 && p->mode == (S_IFREG | 0644));
		}
	}
	cache_entry_free(e);
	e = NULL;
	/* the number of key fields (after the flags and the key): too many */
	strbuf_reset(&bad);
	strbuf_add(&bad, buf.buf + ENTRY_HEADER_LEN, buf.len - ENTRY_HEADER_LEN);
	le_put((unsigned char *)bad.buf + 20, 0x7fffffff, 4);
	envelope(bad.buf, bad.len, 4, &whole);
	CHECK_EQ_INT(entry_decode_flags(whole.buf, whole.len, ENTRY_DECODE_LOOKUP, &e, &err), -EBADMSG);
	CHECK(strstr(err.buf, "count larger") != NULL);
	CHECK(e == NULL);
	strbuf_addch(&buf, 0);
	envelope(buf.buf + ENTRY_HEADER_LEN, buf.len - ENTRY_HEADER_LEN, 4, &bad);
	CHECK_EQ_INT(decode_err(&bad, &err), -EBADMSG);
	CHECK(strstr(err.buf, "bytes after") != NULL);
	cache_record_free(r);
	strbuf_release(&buf);
	strbuf_release(&whole);
	strbuf_release(&bad);
	strbuf_release(&err);
}

TEST(test_path_safety)
{
	CHECK(entry_path_is_safe("/a/b", false));
	CHECK(entry_path_is_safe("/", true));
	CHECK(!entry_path_is_safe("/", false));
	CHECK(!entry_path_is_safe("a", true));
	CHECK(!entry_path_is_safe("/a/..", true));
	CHECK(!entry_path_is_safe("/a/./b", true));
	CHECK(!entry_path_is_safe("//a", true));
	CHECK(!entry_path_is_safe("", true));
	CHECK(!entry_path_is_safe(NULL, true));
}

int main(void)
{
	RUN(test_round_trip);
	RUN(test_id_depends_on_preconditions_only);
	RUN(test_envelope_checks);
	RUN(test_payload_checks);
	RUN(test_json_entries_read);
	RUN(test_binary_payload_checks);
	RUN(test_path_safety);
	return unit_done();
}

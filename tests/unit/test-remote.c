/*
 * The remote cache's pure parts (cache/remote.c): URLs (what is accepted,
 * the display form without credentials), the HTTP index format, the read
 * path's checks of an entry (key and id), and base-relative entries
 * (cache/entry.c). The wire is tested against real servers in
 * tests/remote/.
 */
#include <errno.h>
#include <string.h>

#include "cache/cache.h"
#include "cache/internal.h"
#include "cache/remote-internal.h"
#include "cache/remote.h"
#include "common/hash.h"
#include "common/le.h"

#include "tests/unit/unit.h"

/* The display form of @url, or the error's return value as text. */
static char *open_url(const char *url)
{
	struct cache_remote_config cfg = { .url = url };
	struct strbuf err = STRBUF_INIT;
	struct cache_remote *rm;
	char *out;
	int r = cache_remote_open(&cfg, &rm, &err);

	if (r < 0) {
		out = xasprintf("error %d", r);
	} else {
		out = xstrdup(cache_remote_display(rm));
		cache_remote_close(rm);
	}
	strbuf_release(&err);
	return out;
}

#define CHECK_URL(url, want)                    \
	do {                                    \
		char *got_ = open_url(url);     \
		CHECK_EQ_STR(got_, want);       \
		free(got_);                     \
	} while (0)

TEST(test_urls)
{
	CHECK_URL("http://host/", "http://host/");
	CHECK_URL("http://host", "http://host/");
	CHECK_URL("https://h.example:8443/a/b", "https://h.example:8443/a/b/");
	CHECK_URL("HTTP://ci:secret@host/p/", "http://host/p/");
	CHECK_URL("http://[::1]:80/x/", "http://[::1]:80/x/");
	CHECK_URL("redis://127.0.0.1", "redis://127.0.0.1");
	CHECK_URL("redis://:pw@127.0.0.1:6380/3", "redis://127.0.0.1:6380/3");
	CHECK_URL("ftp://host/", "error -22");
	CHECK_URL("host/path", "error -22");
	CHECK_URL("http://host:0/", "error -22");
	CHECK_URL("http://host:99999/", "error -22");
	CHECK_URL("http:///x", "error -22");
	CHECK_URL("http://ho st/", "error -22");
	CHECK_URL("http://host/a/../b", "error -22");
	CHECK_URL("http://host/?q=1", "error -22");
	CHECK_URL("http://u%zz@host/", "error -22");
	CHECK_URL("redis://host/x", "error -22");
	CHECK_URL("rediss://host/", "rediss://host");
	CHECK_URL("rediss://:pw@host:6380/2", "rediss://host:6380/2");
}

TEST(test_index_parse)
{
	char **ids;
	size_t nr;
	const char good[] = REMOTE_INDEX_HEADER "0123456789abcdef\nfedcba9876543210\n";
	const char *bad[] = {
		"",
		"procache remote index 2\n0123456789abcdef\n",
		REMOTE_INDEX_HEADER "0123456789abcdef",		/* no newline */
		REMOTE_INDEX_HEADER "0123456789ABCDEF\n",	/* uppercase */
		REMOTE_INDEX_HEADER "0123456789abcde\n",	/* short */
		REMOTE_INDEX_HEADER "\n",
	};

	remote_index_parse(good, strlen(good), &ids, &nr);
	if (CHECK_EQ_INT(nr, 2)) {
		CHECK_EQ_STR(ids[0], "0123456789abcdef");
		CHECK_EQ_STR(ids[1], "fedcba9876543210");
	}
	for (size_t i = 0; i < nr; i++)
		free(ids[i]);
	free(ids);
	remote_index_parse(REMOTE_INDEX_HEADER, strlen(REMOTE_INDEX_HEADER), &ids, &nr);
	CHECK_EQ_INT(nr, 0);
	free(ids);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		remote_index_parse(bad[i], strlen(bad[i]), &ids, &nr);
		CHECK_EQ_INT(nr, 0);
		CHECK(ids == NULL);
	}
}

/* An encoded entry with one content precondition on @path. */
static struct cache_record *make_record(struct cache_key *k, const char *path,
					struct strbuf *out)
{
	struct cache_record *r = cache_record_new(k);
	struct pc_hash h;

	pc_hash_buffer("x", 1, &h);
	cache_record_add_content(r, path, &h, S_IFREG | 0644);
	pc_hash_buffer(NULL, 0, &r->e.out[0].hash);
	pc_hash_buffer(NULL, 0, &r->e.out[1].hash);
	entry_encode(&r->e, out);
	return r;
}

TEST(test_entry_check)
{
	struct cache_key *k = cache_key_new(), *other = cache_key_new();
	struct strbuf data = STRBUF_INIT, why = STRBUF_INIT;
	struct cache_entry *e;
	struct cache_record *r;
	char id[ENTRY_ID_LEN + 1];

	cache_key_add_str(k, "argv", "cc");
	cache_key_add_str(other, "argv", "ld");
	r = make_record(k, "/src/a.c", &data);
	memcpy(id, r->e.id_hex, sizeof(id));
	CHECK_EQ_INT(remote_entry_check(data.buf, data.len, cache_key_hex(k), id, &e, &why), 0);
	if (e)
		CHECK_EQ_STR(cache_entry_id(e) + PC_HASH_HEX_LEN + 1, id);
	cache_entry_free(e);
	CHECK_EQ_INT(remote_entry_check(data.buf, data.len, cache_key_hex(other), id, &e, &why),
		     -EBADMSG);
	CHECK(e == NULL);
	CHECK_EQ_INT(remote_entry_check(data.buf, data.len, cache_key_hex(k),
					"0000000000000000", &e, &why), -EBADMSG);
	data.buf[data.len - 3] ^= 1;	/* the checksum catches it */
	CHECK_EQ_INT(remote_entry_check(data.buf, data.len, cache_key_hex(k), id, &e, &why),
		     -EBADMSG);
	cache_record_free(r);
	strbuf_release(&data);
	strbuf_release(&why);
	cache_key_free(k);
	cache_key_free(other);
}

TEST(test_base_relative)
{
	struct cache_key *k = cache_key_new();
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, err = STRBUF_INIT;
	struct cache_record *ra, *rb;
	struct cache_entry *e = NULL;

	cache_key_add_str(k, "cwd_in_base", ".");
	/* The same run in two checkouts: one entry, one id. */
	ra = cache_record_new(k);
	rb = cache_record_new(k);
	{
		struct pc_hash h;

		pc_hash_buffer("x", 1, &h);
		cache_record_add_content(ra, "/home/a/p/src/x.c", &h, S_IFREG | 0644);
		cache_record_add_content(ra, "/usr/include/stdio.h", &h, S_IFREG | 0644);
		cache_record_add_stat(ra, "/home/a/p", &(struct stat){ .st_mode = S_IFDIR | 0755 }, false);
		cache_record_add_content(rb, "/srv/b/p/src/x.c", &h, S_IFREG | 0644);
		cache_record_add_content(rb, "/usr/include/stdio.h", &h, S_IFREG | 0644);
		cache_record_add_stat(rb, "/srv/b/p", &(struct stat){ .st_mode = S_IFDIR | 0755 }, false);
	}
	entry_paths_relativize(&ra->e, "/home/a/p");
	entry_paths_relativize(&rb->e, "/srv/b/p");
	entry_encode(&ra->e, &a);
	entry_encode(&rb->e, &b);
	CHECK_EQ_STR(ra->e.id_hex, rb->e.id_hex);
	CHECK(a.len == b.len);
	if (CHECK_EQ_INT(entry_decode(a.buf, a.len, &e, &err), 0)) {
		CHECK(e->base_relative);
		entry_paths_rebase(e, "/var/c/p");
		for (size_t i = 0; i < e->nr_pre; i++)
			CHECK(e->pre[i].path[0] == '/');
		CHECK(!strcmp(e->pre[0].path, "/var/c/p") || !strcmp(e->pre[1].path, "/var/c/p") ||
		      !strcmp(e->pre[2].path, "/var/c/p"));
	}
	cache_entry_free(e);
	/* Relative paths are refused in an entry that is not base-relative. */
	{
		struct strbuf bad = STRBUF_INIT;
		/* the payload's first field: its flags, 1 for base-relative */
		const char *p = a.buf + ENTRY_HEADER_LEN;

		if (CHECK(a.len > ENTRY_HEADER_LEN + 4 && le_get((const unsigned char *)p, 4) == 1)) {
			strbuf_add(&bad, "\0\0\0\0", 4);
			strbuf_add(&bad, p + 4, a.len - ENTRY_HEADER_LEN - 4);
			/* re-wrapped with a valid envelope */
			unsigned char hdr[ENTRY_HEADER_LEN];
			struct pc_hash h;
			struct strbuf whole = STRBUF_INIT;

			memcpy(hdr, a.buf, ENTRY_HEADER_LEN);
			for (int i = 0; i < 8; i++)
				hdr[16 + i] = (unsigned char)(bad.len >> (8 * i));
			pc_hash_buffer(bad.buf, bad.len, &h);
			memcpy(hdr + 24, h.b, 16);
			strbuf_add(&whole, hdr, sizeof(hdr));
			strbuf_addbuf(&whole, &bad);
			CHECK_EQ_INT(entry_decode(whole.buf, whole.len, &e, &err), -EBADMSG);
			strbuf_release(&whole);
		}
		strbuf_release(&bad);
	}
	cache_record_free(ra);
	cache_record_free(rb);
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&err);
	cache_key_free(k);
}

/* nginx's and Apache's PROPFIND answers: names, kinds, times. */
TEST(test_propfind_parse)
{
	static const char nginx[] =
		"<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
		"<D:multistatus xmlns:D=\"DAV:\">\n"
		"<D:response><D:href>/c/k/ab/</D:href><D:propstat><D:prop>"
		"<D:getlastmodified>Mon, 07 Dec 2026 06:28:50 GMT</D:getlastmodified>"
		"<D:resourcetype><D:collection/></D:resourcetype></D:prop></D:propstat></D:response>\n"
		"<D:response><D:href>/c/k/ab/index</D:href><D:propstat><D:prop>"
		"<D:getlastmodified>Thu, 01 Jan 1970 00:00:10 GMT</D:getlastmodified>"
		"<D:resourcetype></D:resourcetype></D:prop></D:propstat></D:response>\n"
		"<D:response><D:href>/c/k/ab/sub/</D:href><D:propstat><D:prop>"
		"<D:resourcetype><D:collection/></D:resourcetype></D:prop></D:propstat></D:response>\n"
		"</D:multistatus>\n";
	static const char apache[] =
		"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		"<D:multistatus xmlns:D=\"DAV:\" xmlns:ns0=\"DAV:\">\n"
		"<D:response xmlns:lp1=\"DAV:\">\n"
		"<D:href>http://h:8080/c/k/ab/0123456789abcdef</D:href>\n"
		"<D:propstat>\n<D:prop>\n<lp1:resourcetype/>\n"
		"<lp1:getlastmodified>Thu, 01 Jan 1970 00:01:40 GMT</lp1:getlastmodified>\n"
		"</D:prop>\n</D:propstat>\n</D:response>\n"
		"</D:multistatus>\n";
	struct remote_listing l = { 0 };

	remote_propfind_parse(nginx, sizeof(nginx) - 1, "/c/k/ab/", &l);
	CHECK_EQ_INT(l.nr, 2);
	CHECK_EQ_STR(l.v[0].name, "index");
	CHECK(!l.v[0].dir);
	CHECK_EQ_INT(l.v[0].mtime, 10);
	CHECK_EQ_STR(l.v[1].name, "sub");
	CHECK(l.v[1].dir);
	CHECK_EQ_INT(l.v[1].mtime, 0);
	remote_listing_release(&l);
	remote_propfind_parse(apache, sizeof(apache) - 1, "/c/k/ab", &l);
	CHECK_EQ_INT(l.nr, 1);
	CHECK_EQ_STR(l.v[0].name, "0123456789abcdef");
	CHECK(!l.v[0].dir);
	CHECK_EQ_INT(l.v[0].mtime, 100);
	remote_listing_release(&l);
	remote_propfind_parse("<D:response><D:href>", 20, "/", &l);
	remote_propfind_parse("<response", 9, "/", &l);
	CHECK_EQ_INT(l.nr, 0);
	remote_listing_release(&l);
}

int main(void)
{
	RUN(test_urls);
	RUN(test_index_parse);
	RUN(test_entry_check);
	RUN(test_base_relative);
	RUN(test_propfind_parse);
	return unit_done();
}

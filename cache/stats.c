/*
 * Counters, sharded so that concurrent runners rarely contend, and the
 * summary of `cache stats` (the counters summed, the store scanned with
 * cache/walk.c).
 *
 * Format of $CACHE/stats/<n> (n = 0..15, chosen as pid % 16), version 2,
 * integers little-endian: read and written on every run, so binary (no
 * JSON parser nor printer in a hit's process):
 *
 *	 0  8	magic "PCSTATS\n"
 *	 8  4	version, 2
 *	12  4	R, the number of reason categories (at most 256)
 *	16 96	u64 hits, misses, uncacheable, errors, stores; saved_s (an
 *		IEEE double's bits); i64 bytes; u64 remote_hits,
 *		remote_misses, remote_errors, remote_bytes_up,
 *		remote_bytes_down
 *     112	R times: u8 length (1..127), the category's bytes, u64 count
 *	then 16 bytes: XXH3-128 of all the bytes before
 *
 * Version 1 (before issue 18) was one compact JSON object,
 *
 *	{"version": 1, "hits": N, "misses": N, "uncacheable": N,
 *	 "errors": N, "stores": N, "saved_s": X, "bytes": B,
 *	 "reasons": {"<category>": N, ...},
 *	 "remote_hits": N, ... (optional: as zero when absent)}
 *
 * still read (its counts carry over when the shard is next written).
 * N are counts, X seconds of job time saved by hits, B a signed byte
 * count: the change of the store's size made by the stores and removals
 * counted in this shard (gc resets the shards to the size it measured).
 * An update takes flock(LOCK_EX) on stats/<n>.lock, reads the shard,
 * writes the new bytes over it in place (one pwrite from offset 0, then a
 * truncate when it got shorter) and unlocks; readers take LOCK_SH on the
 * same lock, so they see a whole shard. In place, not temp + rename: a
 * rename is a journalled metadata update that cost a hit a quarter of its
 * time here (0.4-0.8 ms of about 2 ms), and every run updates a shard. A
 * writer killed inside its pwrite can leave a torn shard (a shard longer
 * than a page, with many reason categories): its checksum then fails. A
 * shard that cannot be parsed (other version, damage) counts as zero and
 * is rewritten: counters are advisory, never a reason to fail a run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/cache.h"
#include "cache/internal.h"
#include "common/cleanup.h"
#include "common/die.h"
#include "common/fdio.h"
#include "common/hash.h"
#include "common/json.h"
#include "common/le.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

#define STATS_MAGIC "PCSTATS\n"
#define STATS_VERSION 2
#define STATS_HEADER_LEN 112
#define STATS_MAX_REASONS 256
#define STATS_REASON_MAX 127

struct shard {
	uint64_t hits, misses, uncacheable, errors, stores;
	double saved_s;
	int64_t bytes;
	struct reason_count {
		char name[STATS_REASON_MAX + 1];
		uint64_t n;
	} *reasons;
	size_t nr_reasons, alloc_reasons;
	struct cache_remote_counts remote;
};

static void shard_release(struct shard *s)
{
	free(s->reasons);
	memset(s, 0, sizeof(*s));
}

/* Add @n to category @name (cut to STATS_REASON_MAX bytes). */
static void shard_add_reason(struct shard *s, const char *name, size_t len,
			     uint64_t n)
{
	size_t i;

	if (len > STATS_REASON_MAX)
		len = STATS_REASON_MAX;
	for (i = 0; i < s->nr_reasons; i++)
		if (!strncmp(s->reasons[i].name, name, len) &&
		    !s->reasons[i].name[len]) {
			s->reasons[i].n += n;
			return;
		}
	if (s->nr_reasons == STATS_MAX_REASONS)
		return;
	ALLOC_GROW(s->reasons, s->nr_reasons + 1, s->alloc_reasons);
	memcpy(s->reasons[i].name, name, len);
	s->reasons[i].name[len] = '\0';
	s->reasons[i].n = n;
	s->nr_reasons++;
}

/* Version 1, JSON: 0, or -1 if it is not a valid one. */
static int shard_parse_json(const struct strbuf *sb, struct shard *s)
{
	static const char *const keys[] = { "version", "hits", "misses", "uncacheable", "errors", "stores", "saved_s", "bytes", "reasons", "remote_hits", "remote_misses", "remote_errors", "remote_bytes_up", "remote_bytes_down", NULL };
	_cleanup_cjson_ cJSON *root = NULL;
	const cJSON *reasons, *saved, *it;
	uint64_t version = 0;

	if (json_parse(sb->buf, sb->len, &root, NULL) < 0 ||
	    json_check_keys(root, keys, NULL) < 0 ||
	    json_get_u64(root, "version", &version, true, NULL) < 0 ||
	    version != 1)
		return -1;
	if (json_get_u64(root, "hits", &s->hits, true, NULL) < 0 ||
	    json_get_u64(root, "misses", &s->misses, true, NULL) < 0 ||
	    json_get_u64(root, "uncacheable", &s->uncacheable, true, NULL) < 0 ||
	    json_get_u64(root, "errors", &s->errors, true, NULL) < 0 ||
	    json_get_u64(root, "stores", &s->stores, true, NULL) < 0 ||
	    json_get_i64(root, "bytes", &s->bytes, true, NULL) < 0 ||
	    json_get_object(root, "reasons", &reasons, true, NULL) < 0 ||
	    json_get_u64(root, "remote_hits", &s->remote.hits, false, NULL) == -EINVAL ||
	    json_get_u64(root, "remote_misses", &s->remote.misses, false, NULL) == -EINVAL ||
	    json_get_u64(root, "remote_errors", &s->remote.errors, false, NULL) == -EINVAL ||
	    json_get_u64(root, "remote_bytes_up", &s->remote.bytes_up, false, NULL) == -EINVAL ||
	    json_get_u64(root, "remote_bytes_down", &s->remote.bytes_down, false, NULL) == -EINVAL)
		return -1;
	saved = cJSON_GetObjectItemCaseSensitive(root, "saved_s");
	if (!cJSON_IsNumber(saved) || !(saved->valuedouble >= 0))
		return -1;
	s->saved_s = saved->valuedouble;
	cJSON_ArrayForEach(it, reasons)
		if (cJSON_IsNumber(it) && it->valuedouble >= 1 && *it->string)
			shard_add_reason(s, it->string, strlen(it->string),
					 (uint64_t)it->valuedouble);
	return 0;
}

/* Version 2, binary: 0, or -1 if it is not a valid one. */
static int shard_parse(const struct strbuf *sb, struct shard *s)
{
	const unsigned char *p = (const unsigned char *)sb->buf;
	const unsigned char *end = p + sb->len;
	uint64_t *fields[] = { &s->hits, &s->misses, &s->uncacheable,
		&s->errors, &s->stores, NULL, NULL, &s->remote.hits,
		&s->remote.misses, &s->remote.errors, &s->remote.bytes_up,
		&s->remote.bytes_down };
	struct pc_hash h;
	uint64_t nr, bits;
	size_t i;

	if (sb->len < STATS_HEADER_LEN + 16 || memcmp(p, STATS_MAGIC, 8) ||
	    le_get(p + 8, 4) != STATS_VERSION)
		return -1;
	pc_hash_buffer(p, sb->len - 16, &h);
	if (memcmp(h.b, end - 16, 16))
		return -1;
	end -= 16;
	nr = le_get(p + 12, 4);
	if (nr > STATS_MAX_REASONS)
		return -1;
	for (i = 0; i < ARRAY_SIZE(fields); i++)
		if (fields[i])
			*fields[i] = le_get(p + 16 + 8 * i, 8);
	bits = le_get(p + 16 + 8 * 5, 8);
	memcpy(&s->saved_s, &bits, sizeof(bits));
	s->bytes = (int64_t)le_get(p + 16 + 8 * 6, 8);
	if (!(s->saved_s >= 0))
		return -1;
	p += STATS_HEADER_LEN;
	for (i = 0; i < nr; i++) {
		size_t len;

		if (p == end || !(len = *p) || len > STATS_REASON_MAX ||
		    (size_t)(end - p) < 1 + len + 8 || memchr(p + 1, '\0', len))
			return -1;
		shard_add_reason(s, (const char *)p + 1, len, le_get(p + 1 + len, 8));
		p += 1 + len + 8;
	}
	return p == end ? 0 : -1;
}

/* Parse @sb (shard @n's bytes) into @s, zeroed first. */
static void shard_parse_any(struct cache *c, unsigned n,
			    const struct strbuf *sb, struct shard *s)
{
	int r;

	memset(s, 0, sizeof(*s));
	if (!sb->len)
		return;
	r = sb->buf[0] == '{' ? shard_parse_json(sb, s) : shard_parse(sb, s);
	if (r < 0) {
		debug("ignoring damaged counter file '%s/stats/%u'", c->path, n);
		shard_release(s);
	}
}

static int shard_lock(struct cache *c, unsigned n, int how);

/*
 * Shard @n as readers see it: under a shared lock, since writers write in
 * place. A cache a reader cannot create the lock file in (read-only) has
 * no writer either: read it without.
 */
static void shard_read(struct cache *c, unsigned n, struct shard *s)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	char name[16];
	int lock = shard_lock(c, n, LOCK_SH);

	snprintf(name, sizeof(name), "%u", n);
	if (strbuf_read_file_at(&sb, c->stats_fd, name, 256) < 0)
		strbuf_reset(&sb);
	if (lock >= 0)
		close(lock); /* unlocks */
	shard_parse_any(c, n, &sb, s);
}

/* Write @s over the shard open on @fd (its lock held), in place. */
static int shard_write(int fd, const struct shard *s)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	const uint64_t fields[] = { s->hits, s->misses, s->uncacheable,
		s->errors, s->stores, 0, (uint64_t)s->bytes, s->remote.hits,
		s->remote.misses, s->remote.errors, s->remote.bytes_up,
		s->remote.bytes_down };
	unsigned char b[STATS_HEADER_LEN];
	struct pc_hash h;
	struct stat st;
	uint64_t bits;
	size_t i;

	memcpy(b, STATS_MAGIC, 8);
	le_put(b + 8, STATS_VERSION, 4);
	le_put(b + 12, s->nr_reasons, 4);
	for (i = 0; i < ARRAY_SIZE(fields); i++)
		le_put(b + 16 + 8 * i, fields[i], 8);
	memcpy(&bits, &s->saved_s, sizeof(bits));
	le_put(b + 16 + 8 * 5, bits, 8);
	strbuf_add(&sb, b, sizeof(b));
	for (i = 0; i < s->nr_reasons; i++) {
		size_t len = strlen(s->reasons[i].name);

		strbuf_addch(&sb, (int)len);
		strbuf_add(&sb, s->reasons[i].name, len);
		le_put(b, s->reasons[i].n, 8);
		strbuf_add(&sb, b, 8);
	}
	pc_hash_buffer(sb.buf, sb.len, &h);
	strbuf_add(&sb, h.b, sizeof(h.b));
	ssize_t w = pwrite_full(fd, sb.buf, sb.len, 0);
	if (w < 0)
		return (int)w;
	if (fstat(fd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size > sb.len && ftruncate(fd, (off_t)sb.len) < 0)
		return -errno;
	return 0;
}

/* The lock of shard @n taken (@how: LOCK_EX or LOCK_SH): its fd, or -errno. */
static int shard_lock(struct cache *c, unsigned n, int how)
{
	char name[24];
	int fd;

	snprintf(name, sizeof(name), "%u.lock", n);
	fd = openat(c->stats_fd, name,
		    O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	while (flock(fd, how) < 0) {
		if (errno != EINTR) {
			int r = -errno;

			close(fd);
			return r;
		}
	}
	return fd;
}

/* Read-modify-write shard @n under its lock. */
static void shard_update(struct cache *c, unsigned n,
			 void (*fn)(struct shard *, const void *), const void *arg)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	struct shard s;
	char name[16];
	int lock = shard_lock(c, n, LOCK_EX), fd, r;

	if (lock < 0) {
		debug("cannot lock counters in '%s': %s", c->path,
		      strerror(-lock));
		return;
	}
	snprintf(name, sizeof(name), "%u", n);
	fd = openat(c->stats_fd, name,
		    O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
	r = fd < 0 ? -errno : 0;
	if (!r) {
		ssize_t got = strbuf_read_fd(&sb, fd, 256);

		r = got < 0 ? (int)got : 0;
	}
	if (!r) {
		shard_parse_any(c, n, &sb, &s);
		fn(&s, arg);
		r = shard_write(fd, &s);
		shard_release(&s);
	}
	if (r < 0)
		debug("cannot write counters in '%s/stats/%s': %s", c->path,
		      name, strerror(-r));
	if (fd >= 0)
		close(fd);
	close(lock); /* unlocks */
}

static unsigned my_shard(void)
{
	return (unsigned)getpid() % CACHE_NR_SHARDS;
}

struct outcome_arg {
	enum cache_outcome o;
	const char *reason;
	double saved;
};

static void apply_outcome(struct shard *s, const void *p)
{
	const struct outcome_arg *a = p;
	size_t len;

	switch (a->o) {
	case CACHE_HIT:
		s->hits++;
		if (a->saved > 0)
			s->saved_s += a->saved;
		break;
	case CACHE_MISS:
		s->misses++;
		break;
	case CACHE_ERROR:
		s->errors++;
		break;
	case CACHE_UNCACHEABLE:
		s->uncacheable++;
		len = a->reason ? strcspn(a->reason, ":") : 0;
		if (len)
			shard_add_reason(s, a->reason, len, 1);
		else
			shard_add_reason(s, "unknown", 7, 1);
		break;
	}
}

void cache_stats_record(struct cache *c, enum cache_outcome o,
			const char *reason, double saved_s)
{
	struct outcome_arg a = { o, reason, saved_s };

	shard_update(c, my_shard(), apply_outcome, &a);
}

static void apply_bytes(struct shard *s, const void *p)
{
	s->bytes += *(const int64_t *)p;
}

void stats_add_bytes(struct cache *c, int64_t bytes)
{
	if (bytes)
		shard_update(c, my_shard(), apply_bytes, &bytes);
}

static void apply_store(struct shard *s, const void *p)
{
	s->stores++;
	s->bytes += *(const int64_t *)p;
}

void stats_count_store(struct cache *c, int64_t bytes)
{
	shard_update(c, my_shard(), apply_store, &bytes);
}

static void apply_remote(struct shard *s, const void *p)
{
	const struct cache_remote_counts *r = p;

	s->remote.hits += r->hits;
	s->remote.misses += r->misses;
	s->remote.errors += r->errors;
	s->remote.bytes_up += r->bytes_up;
	s->remote.bytes_down += r->bytes_down;
}

void stats_count_remote(struct cache *c, const struct cache_remote_counts *r)
{
	if (r->hits || r->misses || r->errors || r->bytes_up || r->bytes_down)
		shard_update(c, my_shard(), apply_remote, r);
}

int64_t stats_counted_bytes(struct cache *c)
{
	int64_t total = 0;
	unsigned n;

	for (n = 0; n < CACHE_NR_SHARDS; n++) {
		struct shard s;

		shard_read(c, n, &s);
		total += s.bytes;
		shard_release(&s);
	}
	return total;
}

static void apply_set_bytes(struct shard *s, const void *p)
{
	s->bytes = *(const int64_t *)p;
}

void stats_set_bytes(struct cache *c, uint64_t bytes)
{
	int64_t zero = 0, b = (int64_t)bytes;
	unsigned n;

	for (n = 0; n < CACHE_NR_SHARDS; n++)
		shard_update(c, n, apply_set_bytes, n ? &zero : &b);
}

static void apply_zero(struct shard *s, const void *p)
{
	int64_t bytes = s->bytes;

	(void)p;
	shard_release(s);
	s->bytes = bytes;
}

int cache_stats_zero(struct cache *c, struct strbuf *err)
{
	unsigned n;

	(void)err;
	for (n = 0; n < CACHE_NR_SHARDS; n++)
		shard_update(c, n, apply_zero, NULL);
	return 0;
}

/* ---- summary ---------------------------------------------------------- */

static int count_entry(struct cache *c, const struct cache_walk_item *it,
		       void *data)
{
	struct cache_stats_summary *out = data;

	(void)c;
	if (it->kind == CACHE_WALK_KEY) {
		out->keys++;
	} else if (S_ISREG(it->st->st_mode)) {
		out->entries++;
		out->bytes += (uint64_t)it->st->st_size;
	}
	return 0;
}

static int count_blob(struct cache *c, const struct cache_walk_item *it,
		      void *data)
{
	struct cache_stats_summary *out = data;

	(void)c;
	if (S_ISREG(it->st->st_mode)) {
		out->blobs++;
		out->bytes += (uint64_t)it->st->st_size;
	}
	return 0;
}

/*
 * What the directory @fd (consumed) and everything below take on disk,
 * as du(1) counts it (allocated blocks; each inode once per walk is not
 * tracked: the cache has no hard links of its own).
 */
static uint64_t disk_usage(int fd, unsigned depth)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	uint64_t total = 0;

	if (!d) {
		close(fd);
		return 0;
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		total += (uint64_t)st.st_blocks * 512;
		if (S_ISDIR(st.st_mode) && depth < 64) {
			int sub = openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				total += disk_usage(sub, depth + 1);
		}
	}
	closedir(d);
	return total;
}

int cache_stats_get(struct cache *c, struct cache_stats_summary *out,
		    struct strbuf *err)
{
	unsigned n;

	(void)err;
	memset(out, 0, sizeof(*out));
	out->uncacheable_reasons = cJSON_CreateObject();
	for (n = 0; n < CACHE_NR_SHARDS; n++) {
		struct shard s;

		shard_read(c, n, &s);
		out->hits += s.hits;
		out->misses += s.misses;
		out->uncacheable += s.uncacheable;
		out->errors += s.errors;
		out->stores += s.stores;
		out->saved_s += s.saved_s;
		out->counted_bytes += (uint64_t)s.bytes;
		out->remote.hits += s.remote.hits;
		out->remote.misses += s.remote.misses;
		out->remote.errors += s.remote.errors;
		out->remote.bytes_up += s.remote.bytes_up;
		out->remote.bytes_down += s.remote.bytes_down;
		for (size_t i = 0; i < s.nr_reasons; i++) {
			const struct reason_count *rc = &s.reasons[i];
			cJSON *have = cJSON_GetObjectItemCaseSensitive(
				out->uncacheable_reasons, rc->name);

			if (have)
				cJSON_SetNumberValue(have, have->valuedouble +
								   (double)rc->n);
			else
				cJSON_AddNumberToObject(out->uncacheable_reasons,
							rc->name, (double)rc->n);
		}
		shard_release(&s);
	}
	if ((int64_t)out->counted_bytes < 0)
		out->counted_bytes = 0;
	cache_walk_entries(c, CACHE_WALK_KEYS, count_entry, out);
	cache_walk_blobs(c, 0, count_blob, out);
	int fd = openat(c->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		struct stat st;

		out->disk_bytes = fstat(fd, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
		out->disk_bytes += disk_usage(fd, 0);
	}
	int run = openat(c->dirfd, "run", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (run >= 0) {
		DIR *d = fdopendir(run);
		struct dirent *de;

		if (!d)
			close(run);
		while (d && (de = readdir(d)))
			if (de->d_name[0] != '.' || !strncmp(de->d_name, ".trash-", 7))
				out->run_dirs++;
		if (d)
			closedir(d);
	}
	return 0;
}

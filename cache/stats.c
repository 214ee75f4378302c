/*
 * Counters, sharded so that concurrent runners rarely contend, and the
 * summary of `cache stats` (the counters summed, the store scanned with
 * cache/walk.c).
 *
 * Format of $CACHE/stats/<n> (n = 0..15, chosen as pid % 16): one JSON
 * object, compact,
 *
 *	{"version": 1, "hits": N, "misses": N, "uncacheable": N,
 *	 "errors": N, "stores": N, "saved_s": X, "bytes": B,
 *	 "reasons": {"<category>": N, ...},
 *	 "remote_hits": N, "remote_misses": N, "remote_errors": N,
 *	 "remote_bytes_up": N, "remote_bytes_down": N}
 *
 * The remote_* keys (DESIGN.md section 11) are optional: a shard
 * written before they existed reads as zero for them.
 * N are counts, X seconds of job time saved by hits, B a signed byte
 * count: the change of the store's size made by the stores and removals
 * counted in this shard (gc resets the shards to the size it measured).
 * An update takes flock(LOCK_EX) on stats/<n>.lock, reads the shard,
 * writes it anew with temp + rename and unlocks, so readers (which take
 * no lock) always see a whole file. A shard that cannot be parsed (other
 * version, damage) counts as zero and is rewritten: counters are
 * advisory, never a reason to fail a run.
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
#include "common/json.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

#define STATS_VERSION 1

struct shard {
	uint64_t hits, misses, uncacheable, errors, stores;
	double saved_s;
	int64_t bytes;
	cJSON *reasons; /* object */
	struct cache_remote_counts remote;
};

static void shard_release(struct shard *s)
{
	cJSON_Delete(s->reasons);
	memset(s, 0, sizeof(*s));
}

static void shard_read(struct cache *c, unsigned n, struct shard *s)
{
	static const char *const keys[] = { "version", "hits", "misses", "uncacheable", "errors", "stores", "saved_s", "bytes", "reasons", "remote_hits", "remote_misses", "remote_errors", "remote_bytes_up", "remote_bytes_down", NULL };
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	_cleanup_cjson_ cJSON *root = NULL;
	char name[16];
	const cJSON *reasons, *saved;
	uint64_t version = 0;

	memset(s, 0, sizeof(*s));
	s->reasons = cJSON_CreateObject();
	snprintf(name, sizeof(name), "%u", n);
	if (strbuf_read_file_at(&sb, c->stats_fd, name, 256) <= 0)
		return;
	if (json_parse(sb.buf, sb.len, &root, NULL) < 0 ||
	    json_check_keys(root, keys, NULL) < 0 ||
	    json_get_u64(root, "version", &version, true, NULL) < 0 ||
	    version != STATS_VERSION)
		goto bad;
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
		goto bad;
	saved = cJSON_GetObjectItemCaseSensitive(root, "saved_s");
	if (!cJSON_IsNumber(saved) || !(saved->valuedouble >= 0))
		goto bad;
	s->saved_s = saved->valuedouble;
	cJSON_Delete(s->reasons);
	s->reasons = cJSON_Duplicate(reasons, true);
	return;
bad:
	debug("ignoring damaged counter file '%s/stats/%s'", c->path, name);
	shard_release(s);
	s->reasons = cJSON_CreateObject();
}

static int shard_write(struct cache *c, unsigned n, const struct shard *s)
{
	_cleanup_cjson_ cJSON *o = cJSON_CreateObject();
	_cleanup_free_ char *text = NULL;
	char name[16];

	cJSON_AddNumberToObject(o, "version", STATS_VERSION);
	cJSON_AddNumberToObject(o, "hits", (double)s->hits);
	cJSON_AddNumberToObject(o, "misses", (double)s->misses);
	cJSON_AddNumberToObject(o, "uncacheable", (double)s->uncacheable);
	cJSON_AddNumberToObject(o, "errors", (double)s->errors);
	cJSON_AddNumberToObject(o, "stores", (double)s->stores);
	cJSON_AddNumberToObject(o, "saved_s", s->saved_s);
	cJSON_AddNumberToObject(o, "bytes", (double)s->bytes);
	cJSON_AddItemToObject(o, "reasons", cJSON_Duplicate(s->reasons, true));
	cJSON_AddNumberToObject(o, "remote_hits", (double)s->remote.hits);
	cJSON_AddNumberToObject(o, "remote_misses", (double)s->remote.misses);
	cJSON_AddNumberToObject(o, "remote_errors", (double)s->remote.errors);
	cJSON_AddNumberToObject(o, "remote_bytes_up", (double)s->remote.bytes_up);
	cJSON_AddNumberToObject(o, "remote_bytes_down", (double)s->remote.bytes_down);
	text = json_print_compact(o);
	snprintf(name, sizeof(name), "%u", n);
	return write_file_atomic_at(c->stats_fd, name, text, strlen(text), 0644,
				    0);
}

static int shard_lock(struct cache *c, unsigned n)
{
	char name[24];
	int fd;

	snprintf(name, sizeof(name), "%u.lock", n);
	fd = openat(c->stats_fd, name,
		    O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0) {
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
	struct shard s;
	int lock = shard_lock(c, n);

	if (lock < 0) {
		debug("cannot lock counters in '%s': %s", c->path,
		      strerror(-lock));
		return;
	}
	shard_read(c, n, &s);
	fn(&s, arg);
	if (shard_write(c, n, &s) < 0)
		debug("cannot write counters in '%s'", c->path);
	shard_release(&s);
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
	cJSON *item;
	char cat[128];
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
		snprintf(cat, sizeof(cat), "%.*s", (int)len,
			 a->reason ? a->reason : "");
		if (!*cat)
			snprintf(cat, sizeof(cat), "unknown");
		item = cJSON_GetObjectItemCaseSensitive(s->reasons, cat);
		if (cJSON_IsNumber(item))
			cJSON_SetNumberValue(item, item->valuedouble + 1);
		else {
			cJSON_DeleteItemFromObjectCaseSensitive(s->reasons, cat);
			cJSON_AddNumberToObject(s->reasons, cat, 1);
		}
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
	s->reasons = cJSON_CreateObject();
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
		cJSON *it;

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
		cJSON_ArrayForEach(it, s.reasons)
		{
			cJSON *have;

			if (!cJSON_IsNumber(it))
				continue;
			have = cJSON_GetObjectItemCaseSensitive(
				out->uncacheable_reasons, it->string);
			if (have)
				cJSON_SetNumberValue(have, have->valuedouble +
								   it->valuedouble);
			else
				cJSON_AddNumberToObject(out->uncacheable_reasons,
							it->string,
							it->valuedouble);
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

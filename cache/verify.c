/*
 * `procache cache verify [--fix]`: every entry is read and decoded
 * (envelope, checksum, format, paths, key), every blob it references is
 * checked present and of the right size, and every blob in the store is
 * rehashed (its name is its hash). Problems are reported one per line; with
 * fix, bad entries and bad blobs are removed (a bad blob's entries then
 * fail their next lookup and are removed too, which is a miss, never a
 * wrong result).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/cache.h"
#include "cache/internal.h"
#include "common/strmap.h"
#include "common/progress.h"
#include "common/cleanup.h"
#include "common/hash.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

static void remove_entry(struct cache *c, const char *rel)
{
	_cleanup_strbuf_ struct strbuf hits = STRBUF_INIT;

	unlinkat(c->keys_fd, rel, 0);
	strbuf_add(&hits, rel, strlen(rel) - 6);
	strbuf_addstr(&hits, ".hits");
	unlinkat(c->keys_fd, hits.buf, 0);
}

static void verify_blobs(struct cache *c, bool fix, FILE *report,
			 struct cache_verify_result *res, struct strmap *bad)
{
	_cleanup_closedir_ DIR *top = cache_opendir_at(c->blobs_fd, ".");
	struct dirent *a;
	struct progress prog;
	uint64_t dirs = 0;

	/* Blobs are fanned out in 256 directories: progress counts those. */
	progress_start(&prog, "verifying blobs", 256, PROGRESS_COUNT);
	while (top && (a = readdir(top))) {
		progress_update(&prog, ++dirs < 256 ? dirs : 256);
		_cleanup_closedir_ DIR *d = NULL;
		struct dirent *b;

		if (a->d_name[0] == '.')
			continue;
		if (!cache_is_hex(a->d_name, 2) || !(d = cache_opendir_at(c->blobs_fd, a->d_name))) {
			fprintf(report, "stray file in blobs/: '%s'\n", a->d_name);
			continue;
		}
		while ((b = readdir(d))) {
			struct pc_hash want;
			struct stat st;
			int r;

			if (!strcmp(b->d_name, ".") || !strcmp(b->d_name, "..") ||
			    !strncmp(b->d_name, ".tmp.", 5)) /* gc's business */
				continue;
			if (!cache_is_hex(b->d_name, PC_HASH_HEX_LEN) ||
			    strncmp(b->d_name, a->d_name, 2) ||
			    pc_hash_from_hex(b->d_name, &want) < 0) {
				fprintf(report, "stray file in blobs/%s: '%s'\n",
					a->d_name, b->d_name);
				continue;
			}
			if (fstatat(dirfd(d), b->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			r = S_ISREG(st.st_mode)
				    ? blob_check(c, &want, (uint64_t)st.st_size, true)
				    : -EBADMSG;
			if (r == -ENOENT)
				continue;
			if (r == 0) {
				res->blobs_ok++;
				continue;
			}
			res->blobs_bad++;
			strmap_put(bad, b->d_name, PC_HASH_HEX_LEN, 1);
			fprintf(report, "bad blob '%s': %s\n", b->d_name,
				r == -EBADMSG ? "content does not match its name"
					      : strerror(-r));
			if (fix && unlinkat(dirfd(d), b->d_name, 0) == 0)
				res->fixed++;
		}
	}
	progress_done(&prog);
}

static void verify_entries(struct cache *c, bool fix, FILE *report,
			   struct cache_verify_result *res, struct strmap *bad)
{
	_cleanup_closedir_ DIR *top = cache_opendir_at(c->keys_fd, ".");
	struct dirent *a;
	struct progress prog;
	uint64_t dirs = 0;

	progress_start(&prog, "verifying entries", 256, PROGRESS_COUNT);
	while (top && (a = readdir(top))) {
		_cleanup_closedir_ DIR *mid = NULL;

		progress_update(&prog, ++dirs < 256 ? dirs : 256);
		struct dirent *k;

		if (!cache_is_hex(a->d_name, 2) || !(mid = cache_opendir_at(c->keys_fd, a->d_name)))
			continue;
		while ((k = readdir(mid))) {
			_cleanup_closedir_ DIR *kd = NULL;
			struct dirent *f;

			if (!cache_is_hex(k->d_name, PC_HASH_HEX_LEN) ||
			    !(kd = cache_opendir_at(dirfd(mid), k->d_name)))
				continue;
			while ((f = readdir(kd))) {
				_cleanup_strbuf_ struct strbuf rel = STRBUF_INIT;
				_cleanup_strbuf_ struct strbuf why = STRBUF_INIT;
				struct cache_entry *e;
				size_t len = strlen(f->d_name), i;
				int r;

				if (len != 22 || strcmp(f->d_name + 16, ".entry"))
					continue;
				strbuf_addf(&rel, "%s/%s/%s", a->d_name,
					    k->d_name, f->d_name);
				r = entryfile_read(c, rel.buf, &e, &why);
				if (r == -ENOENT)
					continue;
				if (r == 0) {
					for (i = 0; i < 2 + e->nr_ch && !why.len; i++) {
						const struct pc_hash *h;
						uint64_t size;
						char hex[PC_HASH_HEX_LEN + 1];
						int q;

						if (i < 2) {
							h = &e->out[i].hash;
							size = e->out[i].size;
						} else if (e->ch[i - 2].has_blob) {
							h = &e->ch[i - 2].blob;
							size = e->ch[i - 2].size;
						} else {
							continue;
						}
						pc_hash_to_hex(h, hex);
						q = blob_check(c, h, size, false);
						if (q == 0 && strmap_get(bad, hex, PC_HASH_HEX_LEN) >= 0)
							q = -EBADMSG;
						if (q == 0)
							continue;
						strbuf_addf(&why, "%s blob %s",
							    q == -ENOENT ? "missing" : "bad", hex);
					}
					cache_entry_free(e);
				}
				if (!why.len) {
					res->entries_ok++;
					continue;
				}
				res->entries_bad++;
				fprintf(report, "bad entry '%.*s': %s\n",
					(int)(rel.len - 9), rel.buf + 3, why.buf);
				if (fix) {
					remove_entry(c, rel.buf);
					res->fixed++;
				}
			}
		}
	}
	progress_done(&prog);
}

int cache_verify(struct cache *c, bool fix, FILE *report,
		 struct cache_verify_result *res, struct strbuf *err)
{
	struct strmap *bad = strmap_new();

	(void)err;
	memset(res, 0, sizeof(*res));
	/* Blobs first, so that the entries of a bad blob are bad too. */
	verify_blobs(c, fix, report, res, bad);
	verify_entries(c, fix, report, res, bad);
	strmap_free(bad);
	return 0;
}

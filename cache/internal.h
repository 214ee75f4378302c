/*
 * Internal structures and functions shared by the files of cache/. Not
 * for runner/ (which sees only cache/cache.h); the unit tests and the
 * fuzz target include it to reach the parser, the walk and the stat
 * cache directly.
 *
 * Which file defines what. Calls between them go one way: a file calls
 * only files below it in this list (the sections below are in the
 * opposite order, each file's before its callers').
 *
 *	remote.c	the remote cache (cache/remote.h), over its backends
 *			remote-http.c and remote-redis.c (remote-internal.h)
 *	store.c		cache_store(): a record into blobs and an entry file
 *	lookup.c	cache_lookup(), the explanation of a miss; the
 *			precondition checker remote.c uses
 *	verify.c	cache_verify()
 *	ls.c		cache_ls(), cache_entry_load()
 *	gc.c		cache_gc(), cache_clear(), gc_after_store()
 *	apply.c		cache_entry_apply(): an entry's changes to mat_apply()
 *	materialize.c	mat_apply() (cache/materialize.h)
 *	entryfile.c	entry files under keys/: read, write, remove, hit
 *			counts; rebasing a base-relative entry
 *	blob.c		the blob store: put, check, drop, replay to an fd
 *	cachedir.c	cache_open(), cache_close(), FORMAT, accessors
 *	stats.c		the sharded counters, cache_stats_*()
 *	batch.c		batches: one appended record per run, cache_batch_*()
 *	walk.c		the walk over entry files and blobs
 *	statcache.c	the stat cache
 *	record.c	cache_record_*(): what a miss records
 *	entrybin.c	entry files' bytes: the envelope, the binary
 *			payload (version 4); entry_encode(), entry_decode()
 *	entry.c		the JSON form of entries (version 3's payload,
 *			cache show); cache_entry_*() accessors
 *	key.c		cache_key_*() and key fields
 *	layout.c	the names in the cache directory
 */
#ifndef PROCACHE_CACHE_INTERNAL_H
#define PROCACHE_CACHE_INTERNAL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "cache/cache.h"
#include "common/hash.h"
#include "common/strbuf.h"
#include "common/strmap.h"

/*
 * ---- names in the cache directory (the layout: top of layout.c) ----
 *
 *	blobs/ab/<32 hex hash>
 *	keys/ab/<32 hex key>/<16 hex id>.entry
 *	keys/ab/<32 hex key>/<16 hex id>.hits
 *	keys/ab/<32 hex key>/<16 hex id>.verified
 *
 * "ab" is the fan-out: the first CACHE_FANOUT_LEN hex digits of the hash
 * or key. Every name below is built and checked with these.
 */
#define CACHE_FANOUT_LEN 2
#define CACHE_NR_FANOUTS (1u << (4 * CACHE_FANOUT_LEN))
#define ENTRY_ID_LEN 16
#define ENTRY_SUFFIX ".entry"
#define ENTRY_SUFFIX_LEN (sizeof(ENTRY_SUFFIX) - 1)
#define HITS_SUFFIX ".hits"
#define VERIFIED_SUFFIX ".verified"
/* "<id>.entry", an entry file's name in its key directory */
#define ENTRY_FILE_LEN (ENTRY_ID_LEN + ENTRY_SUFFIX_LEN)
/* "<key>/<id>", an entry's name (cache_entry_id()) */
#define ENTRY_NAME_LEN (PC_HASH_HEX_LEN + 1 + ENTRY_ID_LEN)
/* "ab/<key>" and "ab/<key>/<id>.entry", relative to keys/ */
#define KEY_DIR_REL_LEN (CACHE_FANOUT_LEN + 1 + PC_HASH_HEX_LEN)
#define ENTRY_REL_LEN (KEY_DIR_REL_LEN + 1 + ENTRY_FILE_LEN)
/* "ab/<hash>", relative to blobs/ */
#define BLOB_REL_LEN (CACHE_FANOUT_LEN + 1 + PC_HASH_HEX_LEN)
/* The temporary files of write_file_atomic_at() (common/fdio.h). */
#define CACHE_TMP_PREFIX ".tmp."

#define CACHE_NR_SHARDS 16
/* Unreferenced blobs and temp files younger than this are left to a
 * concurrent store that may be about to reference or rename them. */
#define CACHE_GC_GRACE_S 600

struct statcache;

struct cache {
	char *path;
	char *run_root;
	int dirfd, blobs_fd, keys_fd, tmp_fd, stats_fd;
	uint64_t max_size;
	struct statcache *sc; /* opened on first use; NULL if unusable */
	char *base_dir;       /* cache_set_base_dir(), or NULL */
	char **hidden;        /* cache_set_hidden(): NULL-terminated, or NULL */
	size_t nr_hidden;
	unsigned char fanout_made[CACHE_NR_FANOUTS / 8]; /* blobs/ab/ known to exist */
	bool sc_tried;
	struct cache_lookup_times lookup_times; /* cache_lookup()'s, summed */
};

/* One key field: type 's' (text), 'u' (u64), 'x' (bytes shown as hex). */
struct key_field {
	char *tag;
	char *data;
	size_t len;
	char type;
};

struct cache_key {
	struct key_field *fields;
	size_t nr, alloc;
	bool hashed;
	struct pc_hash hash;
	char hex[PC_HASH_HEX_LEN + 1];
};

enum pre_kind {
	PRE_CONTENT,
	PRE_ABSENT,
	PRE_STAT,
	PRE_LISTING,
	PRE_SYMLINK,
	PRE_HOSTFACT,
	PRE_OUTPUT,
	PRE_XATTRS,
};

struct precondition {
	enum pre_kind kind;
	char *path;  /* HOSTFACT: the fact's name */
	char *value; /* SYMLINK: target; HOSTFACT: value */
	struct pc_hash hash; /* CONTENT, LISTING, XATTRS */
	mode_t mode;         /* CONTENT, STAT: type and permission bits */
	uint32_t uid, gid;   /* STAT */
	uint64_t size;       /* STAT of a regular file */
	uint64_t nlink;      /* STAT of a regular file: its hard link count */
	bool strict;         /* STAT: mtime/ctime too */
	int64_t mtime_ns, ctime_ns;
	/*
	 * STAT, not strict: the mtime the job was shown (any type), and for
	 * a regular file under --mtime=content the content's hash in @hash
	 * when @has_hash: a changed mtime then holds if the content is the
	 * same (see cache_record_add_stat()).
	 */
	bool has_mtime, has_hash;
	/* XATTRS: an absent path in a directory without a default ACL holds
	 * too (cache_record_add_xattrs()) */
	bool absent_ok;
	/* OUTPUT: mode/uid/gid above are the result; creation, if allowed: */
	bool create;
	mode_t create_mode, parent_mode;   /* permission bits; parent: type too */
	uint32_t create_uid, create_gid, parent_uid, parent_gid;
};

struct change {
	enum change_kind kind;
	char *path;
	mode_t mode;
	char *target;
	bool has_blob;
	struct pc_hash blob;
	uint64_t size;
	char *src; /* record only: the captured file to move into blobs */
	/* FILE, DIR, DIR_REPLACED, SYMLINK: the times recorded and the
	 * rule that replays them (DESIGN.md §7) */
	bool has_times, exact_times;
	int64_t mtime_ns, atime_ns;
	/* FILE, DIR, DIR_REPLACED, SYMLINK, MODE: the extended attributes
	 * the path ends with (restorable ones applied exactly, §7) */
	struct xattr_set xattrs;
};

struct output {
	struct pc_hash hash;
	uint64_t size;
	char *src; /* record only */
};

struct cache_entry {
	char name[ENTRY_NAME_LEN + 1]; /* "<key>/<id>" */
	char key_hex[PC_HASH_HEX_LEN + 1];
	char id_hex[ENTRY_ID_LEN + 1];
	struct key_field *fields;
	size_t nr_fields;
	struct precondition *pre;
	size_t nr_pre, alloc_pre;
	int exit_code, signal;
	double duration;
	int64_t created;
	char *version;
	struct output out[2];
	struct change *ch;
	size_t nr_ch, alloc_ch;
	/* from the file, when loaded */
	int64_t mtime;
	uint64_t file_size;
	/* relative paths under a base directory (DESIGN.md section 12) */
	bool base_relative, rebased;
	/* the entry format it was read from (0: not read; encoded as the
	 * current one), which says how its id is computed */
	unsigned format;
	bool fields_skipped; /* ENTRY_DECODE_LOOKUP */
};

struct cache_record {
	struct cache_entry e;
	struct strmap *seen; /* "<kind>\0<path>" already recorded */
	bool stdout_set, stderr_set;
	bool relocatable; /* cache_record_set_relocatable() */
	bool copy_files; /* cache_record_set_copy_files() */
	bool no_gc; /* cache_record_set_no_gc() */
};

/* ---- layout.c: names in the cache directory ---------------------------- */
/* Into @out (reset first): "ab/<hex>", the blob named @hex relative to
 * blobs/ (cache_blob_relpath() from the hash); relative to keys/, a key's
 * directory "ab/<key>", an entry file "ab/<key>/<id>.entry", and the hits
 * file "ab/<key>/<id>.hits" of the entry file @entry_rel. */
void layout_blob_rel(const char *hex, struct strbuf *out);
void layout_key_dir(const char *key_hex, struct strbuf *out);
void layout_entry_rel(const char *key_hex, const char *id_hex,
		      struct strbuf *out);
void layout_hits_rel(const char *entry_rel, struct strbuf *out);
/* Names in a key directory: "<id>.entry"; an entry's side files,
 * "<id>.hits" and "<id>.verified"; anywhere, a temporary file of
 * write_file_atomic_at(). */
bool layout_is_entry_file(const char *name);
bool layout_is_side_file(const char *name);
bool layout_is_tmp(const char *name);
/* Split "ab/<key>/<id>.entry" into @key and @id; false if it is not
 * such a name (the fan-out must be the key's). */
bool layout_parse_entry_rel(const char *rel, char key[PC_HASH_HEX_LEN + 1],
			    char id[ENTRY_ID_LEN + 1]);

/* ---- key.c: job keys and key fields ------------------------------------ */
/* A tag is non-empty printable ASCII. */
bool key_tag_valid(const char *tag);
/* Compute the key's hash and hex if not done yet (a cache inside @k). */
void key_finalize(const struct cache_key *k);
/* keyenc (common/hash.h) of the fields: what names the key. */
void key_fields_hash(const struct key_field *f, size_t nr,
		     struct pc_hash *out);
struct key_field *key_fields_copy(const struct key_field *f, size_t nr);
void key_fields_free(struct key_field *f, size_t nr);
/* Append the field's value as the entry format writes it (by its type:
 * the text, the u64 in decimal, or the bytes in hex). */
void key_field_value(const struct key_field *f, struct strbuf *out);
/* Set f->data/len from that text, by f->type. NULL, or why it is bad
 * ("not UTF-8", "bad number", "bad hex", "unknown type"); f->data may
 * then hold a partial value, freed with the fields. */
const char *key_field_set_value(struct key_field *f, const char *text);
/* Is f->data/len (f->type's raw bytes, as a binary entry holds them) a
 * valid value? NULL, or why not (as key_field_set_value()). */
const char *key_field_check_data(const struct key_field *f);
/* Describe a key field's value for people ("PATH=/usr/bin", "1000"). */
char *key_field_display(const struct key_field *f);

/* ---- entry.c, entrybin.c: the entry format ----------------------------- */
#define ENTRY_MAGIC "PCENTRY\n"
/* Written: 4 (a binary payload, cache/entrybin.c); also read: 3 (JSON). */
#define ENTRY_VERSION 4u
#define ENTRY_VERSION_JSON 3u
#define ENTRY_HEADER_LEN 40
/* Entries larger than this are refused (corrupt, or not ours). */
#define ENTRY_MAX_LEN ((uint64_t)1 << 30)

/* Serialise @e (envelope + payload) into @out (reset first). Also fills
 * e->id_hex and e->name from the canonical preconditions. */
void entry_encode(struct cache_entry *e, struct strbuf *out);
/*
 * Base-relative paths (DESIGN.md section 12; @base absolute, canonical):
 * entry_paths_relativize() makes every precondition and change path
 * under @base relative to it ("." for @base) and marks @e base-relative;
 * entry_paths_rebase() joins a base-relative entry's relative paths to
 * @base and marks it rebased.
 */
void entry_paths_relativize(struct cache_entry *e, const char *base);
void entry_paths_rebase(struct cache_entry *e, const char *base);
/* The id of @e: the first 64 bits, in hex, of the XXH3-128 of its
 * preconditions as its format encodes them (version 4: their binary
 * encoding; an entry read from a version 3 file: their compact JSON), in
 * the order they are (sorted, as entry_encode() leaves them and as a
 * parsed entry has them). */
void entry_compute_id(const struct cache_entry *e, char id[ENTRY_ID_LEN + 1]);
/*
 * Parse @len bytes as an entry. Returns 0 and *@out, or -EBADMSG with the
 * reason in @err (bad magic, version, flags, length, checksum, JSON,
 * unknown key or kind, unsafe path, key fields not hashing to the key).
 * Never crashes on any input (fuzzed).
 */
int entry_decode(const void *buf, size_t len, struct cache_entry **out,
		 struct strbuf *err);
/*
 * ENTRY_DECODE_LOOKUP: what a lookup needs. A version 4 entry's key
 * fields are walked (bounds-checked) but not decoded nor rehashed: the
 * key alone says which job an entry is for, and it is checked against
 * the entry's file name (entryfile_read()). The entry then has no fields
 * (nr_fields 0, fields_skipped) and entry_encode() refuses it.
 */
#define ENTRY_DECODE_LOOKUP 1u
int entry_decode_flags(const void *buf, size_t len, unsigned flags,
		       struct cache_entry **out, struct strbuf *err);
/* The payload as JSON (used by encode and cache_entry_json). */
struct cJSON *entry_to_json(const struct cache_entry *e, bool for_show);
void entry_release(struct cache_entry *e);
/* Safe absolute path: "/" then path_is_safe_relative(); "/" alone only
 * with @allow_root. */
bool entry_path_is_safe(const char *path, bool allow_root);
/* A path an entry may hold: entry_path_is_safe(), or, in a base-relative
 * entry (@rel), "." or path_is_safe_relative(). */
bool entry_path_valid(const char *path, bool allow_root, bool rel);

/* JSON, version 3 (entry.c): parse the payload @text into @e (zeroed;
 * entry_release() it on failure too), 0 or -EBADMSG with why in @err;
 * the id such an entry has (entry_compute_id() of a version 3 entry). */
int entry_json_decode(const char *text, size_t len, struct cache_entry *e,
		      struct strbuf *err);
void entry_json_id(const struct cache_entry *e, char id[ENTRY_ID_LEN + 1]);

/* ---- entrybin.c: the binary payload (format version 4) ----------------- */
/* Append @e's payload / its preconditions part (what names it) to @out. */
void entrybin_encode(const struct cache_entry *e, struct strbuf *out);
void entrybin_encode_pres(const struct cache_entry *e, struct strbuf *out);
/* Parse a payload into @e (zeroed; entry_release() it on failure too).
 * 0, or -EBADMSG with the reason in @err. Never crashes (fuzzed). */
int entrybin_decode(const unsigned char *buf, size_t len, unsigned flags,
		    struct cache_entry *e, struct strbuf *err);
/*
 * The blobs @e references, stdout's and stderr's first, then each FILE
 * change's, with their sizes: start with *@i = 0; false after the last.
 */
bool entry_next_blob(const struct cache_entry *e, size_t *i,
		     const struct pc_hash **h, uint64_t *size);
/* One of the host facts a hostfact precondition may name. */
bool entry_hostfact_known(const char *name);
const char *pre_kind_name(enum pre_kind k);

/* ---- record.c: building a record --------------------------------------- */
/* Check what cache_store() must refuse (unsafe paths, unknown host
 * facts, a FILE change without its captured file...): 0 or -EINVAL. */
int record_check(const struct cache_record *r, struct strbuf *err);

/* ---- verified.c: the verified stats of an entry (format at its top) --- */
struct verified;
/* The verified stats of the entry @e, read from beside its file
 * @entry_rel; NULL when there are none usable (absent, torn, another
 * entry's). */
struct verified *verified_load(struct cache *c, const char *entry_rel,
			       const struct cache_entry *e);
/* Does @st (an lstat) match the record of precondition @index, so that
 * its content is the one that precondition expects? False without one. */
bool verified_holds(const struct verified *v, size_t index,
		    const struct stat *st);
/* Replace @e's verified stats with @stats: by precondition index, the
 * stat under which that content precondition held, vouched for by the
 * stat cache, or NULL. 0 or -errno. */
int verified_save(struct cache *c, const char *entry_rel,
		  const struct cache_entry *e, const struct stat *const *stats);
/* Remove them (with the entry). */
void verified_remove(struct cache *c, const char *entry_rel);
void verified_free(struct verified *v);

/* ---- statcache.c: the stat cache --------------------------------------- */
/* Records are trusted only for files whose mtime and ctime are at least
 * this much older than the time of hashing. */
#define STATCACHE_MIN_AGE_NS (2LL * 1000000000LL)
int statcache_open(int cache_dirfd, struct statcache **out);
void statcache_close(struct statcache *sc);
/* The hash recorded for exactly this (dev, ino, mode, size, mtime,
 * ctime), if any. */
bool statcache_get(struct statcache *sc, const struct stat *st,
		   struct pc_hash *out);
/* Record a hash computed at @hashed_at_ns (CLOCK_REALTIME); ignored when
 * the file is too young (same-tick guard). Returns true if recorded. */
bool statcache_put(struct statcache *sc, const struct stat *st,
		   const struct pc_hash *h, int64_t hashed_at_ns);
/*
 * The content hash of the regular file @path (relative to @dirfd, not
 * followed), whose lstat is @st: from the stat cache when possible, else
 * hashed (and recorded when old enough). The file is checked to be the
 * one @st describes and unchanged while hashed; otherwise -ESTALE.
 * @sc may be NULL (no cache). Returns 0 or -errno; *@vouched (when not
 * NULL) says whether the stat cache holds @out for exactly @st now (a
 * record found, or one taken).
 */
int statcache_hash_file(struct statcache *sc, int dirfd, const char *path,
			const struct stat *st, struct pc_hash *out, bool *vouched);
struct cache_statcache_counts {
	uint64_t hits, misses, stored;
};
extern struct cache_statcache_counts statcache_counts;

/* ---- walk.c: the walk over entries and blobs --------------------------- */
enum cache_walk_kind {
	CACHE_WALK_KEY,   /* keys/ab/<key>/, before its entries */
	CACHE_WALK_ENTRY, /* keys/ab/<key>/<id>.entry */
	CACHE_WALK_BLOB,  /* blobs/ab/<hash> */
	CACHE_WALK_STRAY, /* a name that is not of the layout */
};

/* What the callback gets; valid during the call only. */
struct cache_walk_item {
	enum cache_walk_kind kind;
	/* Relative to keys/ or blobs/: "ab/<key>", "ab/<key>/<id>.entry",
	 * "ab/<hash>", or the stray's path ("x", "ab/x"...). */
	const char *rel;
	const char *name;      /* its last component (points into @rel) */
	int dirfd;             /* the directory that holds @name */
	/* ENTRY: "<key>/<id>", the entry's name (cache_entry_id()); KEY:
	 * the key; BLOB: the hash (in hex); STRAY: NULL */
	const char *id;
	const struct stat *st; /* lstat of @name (KEY: fstat); STRAY: NULL */
	unsigned fanouts;      /* fan-out directories entered so far, of
				* CACHE_NR_FANOUTS (for progress) */
};

/* Remove temporary files older than CACHE_GC_GRACE_S and key directories
 * left empty on the way (gc). */
#define CACHE_WALK_CLEAN 1u
/* Report each key directory (CACHE_WALK_KEY) before its entries. */
#define CACHE_WALK_KEYS 2u
/* Report names that are not of the layout (CACHE_WALK_STRAY). */
#define CACHE_WALK_STRAYS 4u

/* A KEY callback returning this skips the key's entries. */
#define CACHE_WALK_SKIP 1
/* Returns 0 to go on; any other value (but CACHE_WALK_SKIP for a KEY)
 * stops the walk, which returns it. */
typedef int (*cache_walk_fn)(struct cache *c,
			     const struct cache_walk_item *it, void *data);

/*
 * Call @fn for every entry file under keys/ (and with @flags for key
 * directories and strays), in directory order. Returns 0, what @fn
 * stopped with, or -errno when keys/ cannot be listed (a fan-out or key
 * directory that cannot be opened is a stray).
 */
int cache_walk_entries(struct cache *c, unsigned flags, cache_walk_fn fn,
		       void *data);
/* The same for the entries of one key (0 when it has no directory). */
int cache_walk_key(struct cache *c, const char *key_hex, unsigned flags,
		   cache_walk_fn fn, void *data);
/* The same for every blob under blobs/. */
int cache_walk_blobs(struct cache *c, unsigned flags, cache_walk_fn fn,
		     void *data);

/* ---- stats.c: the counters --------------------------------------------- */
/* Add @bytes (may be negative) to the approximate size counter. */
void stats_add_bytes(struct cache *c, int64_t bytes);
/* Count one store that added @bytes to the store. */
void stats_count_store(struct cache *c, int64_t bytes);
/* Add the remote's counters of one lookup or upload. */
void stats_count_remote(struct cache *c, const struct cache_remote_counts *r);
/* Sum of the size counters of all shards. */
int64_t stats_counted_bytes(struct cache *c);
/* Set the size counter to @bytes (gc, after a full scan). */
void stats_set_bytes(struct cache *c, uint64_t bytes);

/* ---- cachedir.c: the cache directory ----------------------------------- */
/* cache_open(), cache_close() and the accessors of cache.h only. */

/* ---- blob.c: the blob store -------------------------------------------- */
/*
 * Put the regular file @src into the blob store: moved there when it can
 * be (made 0444 and fresh first), else copied; with @copy always copied
 * (cloned when the file system can), @src left as it was, and when @src
 * ends with @path (the change's path; NULL for an output stream) that
 * part is opened beneath the rest following no symlink (-ELOOP). Sets
 * *@h and *@size; *@added is the number of new bytes in the store (0
 * when the blob was there).
 */
int blob_put_file(struct cache *c, const char *src, const char *path,
		  bool copy, struct pc_hash *h, uint64_t *size,
		  uint64_t *added, struct strbuf *err);
/* The empty blob, for a stream that was not captured. */
int blob_put_empty(struct cache *c, struct pc_hash *h, struct strbuf *err);
/*
 * The empty blob (@size 0, @h the hash of no bytes): its content is known
 * without the file, so a hit neither checks nor reads it (an empty stdout
 * or stderr, the common case, was 8 system calls each).
 */
bool blob_is_empty(const struct pc_hash *h, uint64_t size);
/* Check a blob: present, @size bytes, and with @full hashing to @h.
 * 0, -ENOENT or -EBADMSG. */
int blob_check(struct cache *c, const struct pc_hash *h, uint64_t size,
	       bool full);
/*
 * A blob that arrives in pieces (the remote's, cache/remote.c): a new
 * file in tmp/ (mode 0444), its name into @name (reset first); the fd or
 * -errno. Once written and checked against its hash by the caller,
 * blob_tmp_commit() renames it into blobs/ under @h (0 or -errno; the
 * temporary file is removed on failure). A temporary file that is not
 * committed is the caller's to unlink.
 */
int blob_tmp_open(struct cache *c, struct strbuf *name);
int blob_tmp_commit(struct cache *c, const char *name, const struct pc_hash *h);
/* Remove a blob found damaged, so that the next store writes it anew. */
void blob_drop(struct cache *c, const struct pc_hash *h);

/* ---- entryfile.c: entry files under keys/ ------------------------------ */
/* Read and decode the entry file @relpath ("ab/<key>/<id>.entry") under
 * keys/, with entry_decode_flags()' @flags. -ENOENT when it is gone,
 * -EBADMSG when corrupt. Fills mtime and file_size. */
int entryfile_read(struct cache *c, const char *relpath, unsigned flags,
		   struct cache_entry **out, struct strbuf *err);
/*
 * Make a base-relative entry's paths absolute under the cache's base
 * directory (cache_set_base_dir(); DESIGN.md section 12). True when @e
 * may be looked at as an entry with absolute paths: it is not
 * base-relative, or it was rebased; false for a base-relative entry and
 * no base directory (lookup must not use it).
 */
bool entry_rebase(struct cache *c, struct cache_entry *e);
/* Write @data as the entry file keys/ab/<key>/<id>.entry (temp file +
 * rename; the key directory made, again if a concurrent gc removed it):
 * 0 or -errno with a message. */
int entryfile_write(struct cache *c, const char *key_hex, const char *id_hex,
		    const struct strbuf *data, struct strbuf *err);
/* Remove the entry @relpath, then its hits file: 0, or -errno of the
 * entry's unlink (-ENOENT: already gone; other errors keep the hits). */
int entryfile_remove(struct cache *c, const char *relpath);
/* Remove a corrupt entry (and its hits file), with one warning line; the
 * size counter is corrected. */
void entryfile_drop(struct cache *c, const char *relpath, const char *why);
/* Count one hit of the entry @relpath (one byte appended to its .hits
 * file), and read the count. */
void entryfile_count_hit(struct cache *c, const char *relpath);
uint64_t entryfile_hits(struct cache *c, const char *relpath);

/* ---- lookup.c: checking preconditions --------------------------------- */
/*
 * A precondition checker with its per-lookup memo, for entries that do
 * not come from keys/ (the remote's candidates, cache/remote.c): does
 * every precondition of @e hold on the host, by the code cache_lookup()
 * uses? @e's paths must be absolute (a base-relative entry rebased).
 */
struct lookup;
struct lookup *lookup_new(struct cache *c);
bool lookup_entry_holds(struct lookup *l, const struct cache_entry *e);
void lookup_free(struct lookup *l);

/* ---- gc.c: gc, clear, the automatic gc --------------------------------- */
/* After a store: gc down to 90% of the size limit if the counters say it
 * is exceeded. A failure is one warning line. */
void gc_after_store(struct cache *c);

/* ---- small helpers for every file -------------------------------------- */
/* @s is exactly @len lowercase hex digits (a fan-out or hash name). */
static inline bool cache_is_hex(const char *s, size_t len)
{
	return strlen(s) == len && strspn(s, "0123456789abcdef") == len;
}

/* The directory @name below @dirfd, never following a symlink: an
 * O_RDONLY fd, or -errno. */
static inline int cache_open_dir_at(int dirfd, const char *name)
{
	int fd;

	do
		fd = openat(dirfd, name,
			    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : fd;
}

/*
 * opendir() of @name below @dirfd, never following a symlink; NULL with
 * errno set on failure.
 */
static inline DIR *cache_opendir_at(int dirfd, const char *name)
{
	int fd = cache_open_dir_at(dirfd, name);
	DIR *d;

	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	d = fdopendir(fd);
	if (!d) {
		int e = errno;

		close(fd);
		errno = e;
	}
	return d;
}

#endif

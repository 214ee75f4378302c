/*
 * The procache cache: a content-addressed blob store, entries (one or
 * more per job key, each with the preconditions a run observed and its
 * result), lookup by preconditions, explain, integrity checks and
 * maintenance. Layout and formats: docs/DESIGN.md section 6; the layout
 * is specified at the top of cache/layout.c, the entry format at the top
 * of cache/entry.c, the stat cache's at the top of cache/statcache.c, the
 * counters' at the top of cache/stats.c. cache/internal.h says which file
 * of cache/ defines what.
 *
 * Calling sequence for one job (runner/):
 *
 *	cache_open(dir, max_size, &c, &err);
 *	k = cache_key_new(); cache_key_add_str(k, "format", ...); ...
 *	r = cache_lookup(c, k, flags, &hit, &ex, &err);
 *	hit:  cache_entry_apply(c, hit, roots, ...);
 *	      cache_entry_write_output(c, hit, 1, 1); ... (2, 2);
 *	      cache_stats_record(c, CACHE_HIT, NULL, cache_entry_duration(hit));
 *	miss: run the job; rec = cache_record_new(k); cache_record_add_*(...);
 *	      cache_store(c, rec, &stored, &err);   // blobs, then the entry
 *	      cache_entry_apply(c, stored, roots, ...);  // same code as a hit
 *	cache_entry_free(hit); cache_key_free(k); cache_close(c);
 *
 * Errors: functions returning int return 0 (or a count / 1 for a hit) on
 * success and -errno on failure, with a one-line message for the user in
 * @err (lowercase, no full stop, the failing path quoted) when @err is
 * not NULL. Nothing here exits; memory comes from the x-allocators (which
 * die on out-of-memory, see common/xalloc.h). Every struct is opaque:
 * data crosses as arguments and through the accessors below.
 *
 * Concurrency: any number of processes may use one cache directory at
 * once (store, lookup, gc, verify); no lock is held while a job runs.
 * Readers never see a half-written entry or blob (temp file + rename).
 * A struct cache is not thread-safe; use one per thread.
 */
#ifndef PROCACHE_CACHE_CACHE_H
#define PROCACHE_CACHE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "common/change.h"
#include "common/hash.h"
#include "common/strbuf.h"
#include "common/xattr.h"

struct cache;
struct cache_key;
struct cache_record;
struct cache_entry;
struct cache_explain;

/* ---- the cache directory --------------------------------------------- */

/* Content of the FORMAT file of the format this code reads and writes. */
#define CACHE_FORMAT_LINE "procache cache format 1\n"

/*
 * Open the cache at @dir, creating it (mode 0700 for a new top directory)
 * with CACHEDIR.TAG, FORMAT and its subdirectories when it does not exist
 * or is empty. A directory whose FORMAT file says something else (another
 * version, or not a procache cache) is refused with -EPROTO and a message
 * naming the format found; a non-empty directory without FORMAT is
 * refused with -ENOTEMPTY (so procache never takes over a directory that
 * is not its own). @max_size is the size kept automatically after stores
 * (0: no limit; see cache_set_max_size()). The caller finds @dir and
 * @max_size (the runner: --cache-dir, $PROCACHE_DIR, the config file...);
 * nothing here reads the environment. On success *@out is the new
 * handle, freed with cache_close().
 */
int cache_open(const char *dir, uint64_t max_size, struct cache **out,
	       struct strbuf *err);

/* Close the handle and free it. NULL is allowed. */
void cache_close(struct cache *c);

/* The cache's top directory, as passed to cache_open(). */
const char *cache_path(const struct cache *c);

/*
 * "$CACHE/run": the directory for per-run state directories (DESIGN.md
 * section 2), on the cache's file system so captured files can be renamed
 * into the blob store. Created by cache_open().
 */
const char *cache_run_root(const struct cache *c);

/*
 * The automatic size limit in bytes (0: none). cache_store() runs an
 * LRU gc down to 90% of it when the approximate byte counter (kept in the
 * sharded counters, updated by stores and gc) exceeds it.
 */
void cache_set_max_size(struct cache *c, uint64_t bytes);
uint64_t cache_max_size(const struct cache *c);

/*
 * The base directory of this process's runs (--base-dir, canonical;
 * DESIGN.md section 12), or NULL. Base-relative entries are read with
 * their relative paths joined to it; without one, lookup never uses them.
 * A record marked relocatable is stored with its paths under it relative.
 */
void cache_set_base_dir(struct cache *c, const char *dir);

/*
 * The absolute paths (@nr of them, copied) removed from the view of this
 * process's jobs before they start: their declared outputs (DESIGN.md
 * §2), a key field, so every candidate under a key had the same hidden.
 * A listing precondition of their parent directory is checked without
 * them, as the tracer recorded it (dirlist_hash_at_hiding()). Replaces
 * the previous set; none by default.
 */
void cache_set_hidden(struct cache *c, const char *const *paths, size_t nr);

/* ---- keys ------------------------------------------------------------- */

/*
 * A job key: the canonical keyenc encoding of tagged fields
 * (common/hash.h), hashed with XXH3-128. The fields are also kept, so
 * that the entry can store them and --explain can say which differ.
 * Field order matters (it is part of the encoding); the runner adds them
 * in the order of DESIGN.md section 4. Tags must be non-empty ASCII
 * without NUL (else BUG()). The hash is computed lazily and cached inside
 * the key, which is why functions taking a const key may still finalize
 * it.
 */
struct cache_key *cache_key_new(void);
void cache_key_add(struct cache_key *k, const char *tag, const void *data,
		   size_t len);
void cache_key_add_str(struct cache_key *k, const char *tag, const char *s);
void cache_key_add_u64(struct cache_key *k, const char *tag, uint64_t v);
/*
 * The key's 32 lowercase hex digits; the string lives as long as @k (and
 * until the next cache_key_add*(), which is allowed but changes the key).
 */
const char *cache_key_hex(struct cache_key *k);
/* The key hash itself. */
void cache_key_hash(struct cache_key *k, struct pc_hash *out);
void cache_key_free(struct cache_key *k);

/*
 * A record is built after a miss and handed to cache_store(). It copies
 * every string it is given. Paths are absolute host paths; they are
 * checked by cache_store() (absolute, no "." / ".." / empty component,
 * no trailing slash), which refuses the record otherwise. The key @k is
 * copied; @k may be freed afterwards.
 */
struct cache_record *cache_record_new(const struct cache_key *k);
void cache_record_free(struct cache_record *r);

/*
 * Preconditions (DESIGN.md section 3). A path is recorded at most once
 * per kind; a second call for the same (path, kind) is ignored (the first
 * observation counts). @mode includes the S_IFMT type bits.
 *  content:  the file at @path (not followed if a symlink) is of @mode's
 *            type with @mode's permission bits, and its bytes hash to @h.
 *            Only regular files may carry a content precondition;
 *            cache_store() refuses others with -EINVAL.
 *  absent:   lstat(@path) fails with ENOENT.
 *  stat:     lstat(@path) gives the same type, mode, uid, gid, and size
 *            and link count for a regular file; and by @how (flags):
 *            CACHE_STAT_STRICT	mtime and ctime too (ns), any type;
 *            CACHE_STAT_MTIME	the job was shown the times: the same
 *				mtime (ns), any type;
 *            CACHE_STAT_MTIME | CACHE_STAT_CONTENT
 *				a regular file's mtime, which may differ
 *				when its bytes (hashed now, up to 16 MiB)
 *				are the same (--mtime=content); nothing
 *				for other types.
 *            CACHE_STAT_BYTES	with CACHE_STAT_CONTENT, a regular file
 *				the job was shown no times of (chmod,
 *				link, rename...: it goes into the result
 *				as it is): a content precondition of its
 *				bytes beside the stat, so they must be the
 *				same even with the same mtime (an edit
 *				that kept it, `touch -r`), when they could
 *				be hashed.
 *            CACHE_STAT_PIN	with CACHE_STAT_BYTES: the mtime must be
 *				the same too, not only the bytes (the
 *				result holds a file with times taken from
 *				this one: a link, a rename, a copy-up).
 *  listing:  dirlist_hash_at(@path) (common/dirlist.h) gives @h, without
 *            the entries hidden from the job (cache_set_hidden()).
 *  symlink:  @path is a symlink whose target is @target.
 *  hostfact: a fact about the host: @name is one of "uname.sysname",
 *            "uname.release", "uname.version", "uname.machine",
 *            "uname.domainname" (@value the field as uname(2) gives
 *            it), "cpuinfo" (common/cpus.h), "loginuid", "sessionid"
 *            (common/loginuid.h), "binfmt_misc" (common/binfmt.h);
 *            other names are refused by cache_store() with -EINVAL.
 */
void cache_record_add_content(struct cache_record *r, const char *path,
			      const struct pc_hash *h, mode_t mode);
void cache_record_add_absent(struct cache_record *r, const char *path);
#define CACHE_STAT_STRICT 1u
#define CACHE_STAT_MTIME 2u
#define CACHE_STAT_CONTENT 4u
#define CACHE_STAT_BYTES 8u
#define CACHE_STAT_PIN 16u
void cache_record_add_stat(struct cache_record *r, const char *path,
			   const struct stat *st, unsigned how);
/*
 * The same with CACHE_STAT_CONTENT, the bytes' hash given (@h: the file
 * @st describes, hashed when it was observed) instead of read from @path
 * in the host: a unit's view file (DESIGN.md §13.3).
 */
void cache_record_add_stat_hash(struct cache_record *r, const char *path,
				const struct stat *st, unsigned how,
				const struct pc_hash *h);
void cache_record_add_listing(struct cache_record *r, const char *path,
			      const struct pc_hash *h);
void cache_record_add_symlink(struct cache_record *r, const char *path,
			      const char *target);
void cache_record_add_hostfact(struct cache_record *r, const char *name,
			       const char *value);
/*
 * xattrs: the extended attributes of @path hash to @h (xattr_hash_path(),
 * common/xattr.h: every name and value, or the error reading them gave).
 * @absent_ok (an output file the job truncated, which had none): an
 * absent @path whose directory has no default ACL holds too, since the
 * file the job would create there has none either (the output
 * precondition decides the rest), so that a rerun after its outputs
 * were removed (make clean) is not a miss for them.
 */
void cache_record_add_xattrs(struct cache_record *r, const char *path,
			     const struct pc_hash *h, bool absent_ok);

/*
 * output: @path was opened for writing with O_TRUNC, so its prior content
 * does not matter, only what the open could tell: whether it is a regular
 * file (and which), or absent in a directory where it can be created. The
 * precondition holds when the file the job would end up writing is the
 * same: @path is a regular file with permission bits @mode, owner @uid and
 * group @gid (the result recorded); or, when @create (O_CREAT), @path is
 * absent, its parent directory has exactly @parent_mode (type and
 * permission bits), @parent_uid and @parent_gid, and creating it gives
 * @create_mode/@create_uid/@create_gid equal to that same result.
 */
struct cache_output_pre {
	mode_t mode;
	uint32_t uid, gid;
	bool create;
	mode_t create_mode;
	uint32_t create_uid, create_gid;
	mode_t parent_mode;
	uint32_t parent_uid, parent_gid;
};
void cache_record_add_output(struct cache_record *r, const char *path,
			     const struct cache_output_pre *o);

/*
 * Store the record base-relative: every precondition and change path
 * under the cache's base directory relative to it (the run could not
 * have observed where it is: the runner's decision). Without a base
 * directory, nothing changes.
 */
void cache_record_set_relocatable(struct cache_record *r);

/*
 * Copy the captured files (changes and output streams) into the blob
 * store instead of renaming them: an execution unit's files stay in the
 * view the job goes on using (DESIGN.md §13.4). Each is cloned (FICLONE)
 * when the file system can, else copied, and the copy is what is hashed
 * (the job may write the file meanwhile); never hard-linked (a later
 * append by the job would change the blob). A captured file whose name
 * ends with its change's path (<root><path>: /proc/self/fd/N/<view
 * path>) is opened with that part beneath the rest, following no
 * symlink: a directory the job swapped for one fails the store with
 * -ELOOP. A store that fails leaves the captured files untouched
 * (nothing to link back).
 */
void cache_record_set_copy_files(struct cache_record *r);

/*
 * Leave cache_store()'s automatic gc check (DESIGN.md §6, "Eviction") out
 * for this record, for a caller that stores many records in a row and
 * calls cache_gc_if_over() once after them: the check reads every counter
 * shard (17 opens, locks and reads), which cost a nested run's units more
 * than their own entries (§13.3, "Record").
 */
void cache_record_set_no_gc(struct cache_record *r);

/* The result. @code is the exit code when @signal is 0, else ignored. */
void cache_record_set_exit(struct cache_record *r, int code, int signal);
void cache_record_set_duration(struct cache_record *r, double seconds);
/*
 * The captured output stream @which (1 stdout, 2 stderr) is the regular
 * file @file (absolute path, normally $RUN/stdout), which cache_store()
 * renames into the blob store (copying only across file systems). Not
 * calling this records an empty stream.
 */
void cache_record_set_output(struct cache_record *r, int which,
			     const char *file);
/*
 * One change of the job's diff, in path order as sbx_diff_read() gives
 * them. FILE: @src_file is the captured file (the upper-dir path), renamed
 * into the blob store by cache_store(); @mode its permission bits (type
 * bits ignored). DIR, DIR_REPLACED, MODE: @mode. SYMLINK: @target.
 * DELETE: nothing else. Unused arguments may be 0/NULL.
 */
void cache_record_add_change(struct cache_record *r,
			     enum change_kind kind, const char *path,
			     mode_t mode, const char *src_file,
			     const char *target);
/*
 * The times of the change added last (FILE, DIR, DIR_REPLACED, SYMLINK;
 * ignored for the others): its mtime and atime (ns) and how a hit
 * replays them (DESIGN.md §7): @exact, those times; else the time of the
 * apply, in the order of the recorded mtimes. A change without times is
 * left with the times applying it gives.
 */
void cache_record_change_times(struct cache_record *r, int64_t mtime_ns,
			       int64_t atime_ns, bool exact);
/*
 * The extended attributes the path of the change added last ends with
 * (FILE, DIR, DIR_REPLACED, SYMLINK, MODE; ignored for DELETE): copied.
 * A hit makes the path's restorable attributes exactly these
 * (common/xattr.h; DESIGN.md §7). Without a call: none.
 */
void cache_record_change_xattrs(struct cache_record *r,
				const struct xattr_set *xattrs);

/*
 * Store @r: first every blob (captured files renamed into blobs/, or
 * copied with cache_record_set_copy_files(), each complete before it gets
 * its name; one that is already there is kept),
 * then the entry (temp file + rename into keys/ab/<key>/<id>.entry).
 * Another process storing the same key at the same time is fine. On
 * success *@stored (when @stored is not NULL) is the entry as stored, for
 * cache_entry_apply(); the caller frees it. On failure nothing is
 * referenced by a new entry, and the captured files already moved into
 * the blob store are linked back to their @src_file paths, so the run's
 * diff can still be applied from its upper directories (the runner does,
 * as for an uncacheable run); a file that cannot be put back is named in
 * @err. @r is not freed.
 * After a successful store the size limit is enforced (see
 * cache_set_max_size()); a failing automatic gc is only a warning.
 */
int cache_store(struct cache *c, struct cache_record *r,
		struct cache_entry **stored, struct strbuf *err);

/* ---- lookup ----------------------------------------------------------- */

/* Check every candidate fully and collect every reason for a miss. */
#define CACHE_LOOKUP_EXPLAIN 1u

/*
 * Look @k up. The candidates under the key are tried most recently used
 * first; the first whose preconditions all hold on the host is the hit:
 * it is touched (its mtime set to now, before any blob is read), its blobs
 * are checked (present, right size and hash), and *@hit is set (the
 * caller frees it with cache_entry_free()). An entry found corrupt
 * (checksum, format, unsafe path, missing or corrupt blob) is a miss:
 * one warning line on stderr, and the entry is removed.
 *
 * With CACHE_LOOKUP_EXPLAIN, every candidate is checked fully (but the
 * hit, if any, is the same) and *@ex receives the explanation (free with
 * cache_explain_free()); @ex may be NULL otherwise and is then left NULL.
 * Returns 1 on a hit, 0 on a miss, -errno when the cache itself could not
 * be read (the key directory exists but cannot be listed); @err then says
 * why. Flags other than CACHE_LOOKUP_EXPLAIN give -EINVAL.
 */
int cache_lookup(struct cache *c, const struct cache_key *k, unsigned flags,
		 struct cache_entry **hit, struct cache_explain **ex,
		 struct strbuf *err);

/*
 * cache_lookup() against a view instead of the host (an execution unit,
 * DESIGN.md §13.4): the same contract, but every precondition's path is
 * an absolute path as the view sees it, resolved beneath @root_fd (an
 * O_PATH|O_DIRECTORY fd of the view's root, /proc/PID/root of a job
 * process) with openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS): "..",
 * absolute symlinks and the leading components all stay in the view.
 * A parent absent for procache counts as absent only when its resolution
 * meets no procfs "self"/"thread-self" link (procache, outside the
 * job's PID namespace, finds nothing behind one; the job its /proc/PID).
 * absent/stat/output: the parent opened beneath, fstatat(NOFOLLOW) of the
 * last component; content: that component opened O_NOFOLLOW beneath the
 * parent and hashed through the stat cache keyed by its fstat (a view
 * file rewritten in place has a new ctime); listing: the directory opened
 * beneath; symlink: readlinkat() in the parent; xattrs: through
 * /proc/self/fd/<parent fd>/<name>; hostfacts as cache_lookup(). A
 * base-relative entry (--base-dir) is never a unit's: skipped (a miss).
 * Hit bookkeeping (touch, blob check, hit count) as cache_lookup().
 * @root_fd is not closed; < 0 gives -EBADF. Not thread-safe on one @c.
 */
int cache_lookup_at(struct cache *c, int root_fd, const struct cache_key *k,
		    unsigned flags, struct cache_entry **hit,
		    struct cache_explain **ex, struct strbuf *err);

/*
 * Where the cache_lookup() calls on @c spent their wall-clock time, in
 * seconds, summed (procache run -vv): listing the key's candidates and
 * reading and parsing their entries, checking their preconditions,
 * checking the hit's blobs.
 */
struct cache_lookup_times {
	double read_s, check_s, blobs_s;
};
const struct cache_lookup_times *cache_lookup_times(const struct cache *c);

/*
 * The content hash of the regular file at @path (absolute; the last
 * component not followed), which must be the file @st describes (its
 * lstat: -ESTALE otherwise, or when it changes while hashed), through
 * the stat cache: a file it knows unchanged is not read. 0 or -errno.
 */
int cache_hash_file(struct cache *c, const char *path, const struct stat *st,
		    struct pc_hash *out);

/* ---- entries ---------------------------------------------------------- */

/*
 * The entry's name, "<32 hex key>/<16 hex id>": unique in the cache, what
 * `procache cache ls` prints and `cache show` accepts.
 */
const char *cache_entry_id(const struct cache_entry *e);
/* The job key, 32 hex digits. */
const char *cache_entry_key_hex(const struct cache_entry *e);
/* Exit code (meaningful when the signal is 0) and terminating signal. */
int cache_entry_exit_code(const struct cache_entry *e);
int cache_entry_signal(const struct cache_entry *e);
/* Duration of the recorded run, seconds. */
double cache_entry_duration(const struct cache_entry *e);
/* Creation time (seconds since the epoch). */
int64_t cache_entry_created(const struct cache_entry *e);
/*
 * Is it an execution unit's entry (DESIGN.md §13.3: its key has a field
 * named "unit")? Entries read for a lookup do not keep their key fields
 * (ENTRY_DECODE_LOOKUP): false for those.
 */
bool cache_entry_is_unit(const struct cache_entry *e);

/*
 * The blob of output stream @which (1 stdout, 2 stderr) and its size.
 * Returns 0 or -EINVAL for another @which.
 */
int cache_entry_output(const struct cache_entry *e, int which,
		       struct pc_hash *hash, uint64_t *size);

/*
 * Write output stream @which (1 stdout, 2 stderr) to @fd, byte for byte,
 * verifying the blob's hash on the way. Returns 0, -ENOENT when the blob
 * is missing, -EBADMSG when its size or hash is wrong (detected at the
 * latest at the end: bytes already written stay written — lookup has
 * already verified the blob, so this only happens if it was damaged in
 * between), -EINVAL for another @which, or -errno from read/write: -EPIPE
 * when @fd is a pipe whose reader is gone (with SIGPIPE ignored), which
 * the caller can tell from the value alone. @err gets the message.
 */
int cache_entry_write_output(struct cache *c, const struct cache_entry *e,
			     int which, int fd, struct strbuf *err);
/*
 * Append output stream @which (1 stdout, 2 stderr) to @out, whole and
 * verified (size and hash) before it is appended; nothing is appended on
 * failure. -EFBIG (nothing read) when the stream is larger than @limit
 * bytes, -ENOENT when the blob is missing, -EBADMSG when it is corrupt
 * (removed), -EINVAL for another @which, -errno from read; @err says why.
 */
int cache_entry_read_output(struct cache *c, const struct cache_entry *e,
			    int which, uint64_t limit, struct strbuf *out,
			    struct strbuf *err);

/* One change, as plain data pointing into the entry (valid while it is). */
struct cache_change_view {
	enum change_kind kind;
	const char *path;   /* absolute, checked safe */
	mode_t mode;        /* permission bits (FILE, DIR, DIR_REPLACED, MODE) */
	const char *target; /* SYMLINK, else NULL */
	bool has_blob;      /* FILE */
	struct pc_hash blob;
	uint64_t size;      /* FILE: the blob's size */
	bool has_times;     /* cache_record_change_times() */
	bool exact_times;
	int64_t mtime_ns, atime_ns;
	const struct xattr_set *xattrs; /* cache_record_change_xattrs(); never
					   NULL, empty for none */
};

/*
 * Precondition @i (< cache_entry_nr_pre()) of @e, as its JSON names it:
 * its kind ("content", "stat"...), its path (a host fact's name), and
 * whether it holds an mtime. Pointers into the entry.
 */
size_t cache_entry_nr_pre(const struct cache_entry *e);
void cache_entry_pre(const struct cache_entry *e, size_t i, const char **kind,
		     const char **path, bool *mtime);

size_t cache_entry_nr_changes(const struct cache_entry *e);
/* Change @i (< cache_entry_nr_changes()), in path order. */
void cache_entry_change(const struct cache_entry *e, size_t i,
			struct cache_change_view *out);

/*
 * The blob store's directory fd (owned by @c) and a blob's name relative
 * to it ("ab/<32 hex>") into @out (reset first), e.g. to open it with
 * openat(cache_blobs_dirfd(c), out->buf, O_RDONLY|O_CLOEXEC|O_NOFOLLOW).
 */
int cache_blobs_dirfd(const struct cache *c);
void cache_blob_relpath(const struct pc_hash *h, struct strbuf *out);

/*
 * Apply the entry's changes beneath @roots through mat_apply()
 * (cache/materialize.h; @flags and @rep as there): the same code for a
 * hit and, with the entry cache_store() returned, for a miss. Regular
 * files come from the blob store (verified by the lookup or written by
 * the store just before). Returns mat_apply()'s result.
 */
struct mat_report;
int cache_entry_apply(struct cache *c, const struct cache_entry *e,
		      const char *const *roots, unsigned flags,
		      struct mat_report *rep, struct strbuf *err);

/*
 * Apply the entry's changes into a view (a unit's hit, DESIGN.md §13.4):
 * each change's path is a path of the tree @root_fd is an fd of
 * (/proc/PID/root of a job process; not closed), applied by
 * mat_apply_at() on the calling thread only (MAT_SERIAL is added): its
 * parent opened beneath @root_fd without following any symlink, so
 * nothing lands outside the view. What results: owners are whatever
 * creating gives the calling thread (its fsuid/fsgid, or a setgid
 * directory's group): nothing is chowned, as for a job's own apply;
 * modes exactly the recorded ones without setuid/setgid; times by the
 * entry's rule (exact, or the time of the apply). A change at "/" is
 * refused. A base-relative entry gives -EINVAL. The blobs are opened
 * with the calling thread's credentials too: its fsuid must be able to
 * read the cache (procache's own user, as a job's usually is). Returns
 * mat_apply()'s result, or -EPERM (@err names the first such path) when
 * any change was refused (a parent that is a symlink in the view, ...):
 * the others are applied, but the view is not the unit's result.
 */
int cache_entry_apply_at(struct cache *c, const struct cache_entry *e,
			 int root_fd, unsigned flags, struct mat_report *rep,
			 struct strbuf *err);

/*
 * The entry as JSON for `cache show --json` and reports: id, key, key
 * fields, preconditions, result, duration, created, last use, size.
 * The caller frees it with cJSON_Delete().
 */
cJSON *cache_entry_json(const struct cache_entry *e);

void cache_entry_free(struct cache_entry *e);

/* ---- explain ---------------------------------------------------------- */

/*
 * The explanation of a lookup, as a JSON array the caller frees with
 * cJSON_Delete(). Each element is one reason, with a one-line "message":
 *  - a failing precondition:
 *	{"candidate": "<entry id>", "kind": "content"|"absent"|"stat"|
 *	 "listing"|"symlink"|"hostfact", "path": "/p",
 *	 "expected": "...", "found": "...", "message": "..."}
 *  - a corrupt candidate (removed):
 *	{"candidate": "<entry id>", "kind": "corrupt", "message": "..."}
 *  - with no candidate under the key, the differences with the nearest
 *    stored key of the same argv (fewest differing fields):
 *	{"kind": "key", "nearest": "<key hex>", "field": "env PATH",
 *	 "expected": "<stored value>" | null, "found": "<current>" | null,
 *	 "message": "env PATH differs"}
 *    or, when no key has the same argv:
 *	{"kind": "key", "field": "argv", "message": "no entry for this
 *	 command line"}
 * An empty array on a hit without EXPLAIN details to give.
 */
cJSON *cache_explain_json(const struct cache_explain *ex);
/*
 * A failing precondition on a path the candidate's own result writes also
 * has "written_by_job": true (a state file the job reads and rewrites).
 * The summary, as an object the caller frees:
 *	{"candidates": N (entries under the key whose preconditions were
 *	 checked), "nearest": "<entry>", "failing": F, "preconditions": P}
 * where nearest is the candidate with the fewest failing preconditions
 * (F of its P), present when N > 0.
 */
cJSON *cache_explain_summary_json(const struct cache_explain *ex);
/* The messages, one "procache: explain: ..." line each, to @f. */
void cache_explain_print(const struct cache_explain *ex, FILE *f);
/* Number of reasons collected. */
size_t cache_explain_count(const struct cache_explain *ex);
void cache_explain_free(struct cache_explain *ex);

/* ---- counters --------------------------------------------------------- */

enum cache_outcome { CACHE_HIT, CACHE_MISS, CACHE_UNCACHEABLE, CACHE_ERROR };

/*
 * Count one run's outcome in the sharded counters (stats/<pid % 16>).
 * @reason (UNCACHEABLE: why; may be NULL) is counted by its category:
 * the text before the first ':' ("syscall mount", "input changed during
 * the run"). @saved_s (HIT) is the recorded duration of the skipped run.
 * Failures are ignored (counters are advisory); with pc_verbose they are
 * logged.
 */
void cache_stats_record(struct cache *c, enum cache_outcome o,
			const char *reason, double saved_s);

/* ---- batches (cache/batch.c) ----------------------------------------- */

/*
 * A batch name: 1 to 64 of [A-Za-z0-9._-], not starting with '.'.
 * 0 or -EINVAL.
 */
int cache_batch_name_check(const char *name);

/*
 * Append one run's outcome to batch @name (checked): @o, @reason (why it
 * was not stored, or NULL), the run's wall-clock @duration_s and the job
 * time @saved_s a hit skipped. One O_APPEND write, no lock: concurrent
 * runners of a batch never interleave. Failures are ignored (logged
 * with -vv): the view is advisory.
 */
void cache_batch_record(struct cache *c, const char *name,
			enum cache_outcome o, const char *reason,
			double duration_s, double saved_s);

struct cache_batch_summary {
	char *name;
	uint64_t runs, hits, misses, uncacheable, errors;
	uint64_t damaged;	/* lines that did not parse, skipped */
	double duration_s;	/* summed wall-clock time of the runs */
	double saved_s;		/* summed job time the hits skipped */
	int64_t first, last;	/* unix times of the first and last record */
	cJSON *reasons;		/* object: reason category -> count */
};

/*
 * Sum batch @name, or the batch written last when @name is NULL. 0, or
 * -ENOENT (no such batch, or none at all) / -errno with a message.
 */
int cache_batch_summary(struct cache *c, const char *name,
			struct cache_batch_summary *s, struct strbuf *err);
void cache_batch_summary_release(struct cache_batch_summary *s);
/* Remove batch @name (NULL: the last) and its records. 0 or -errno. */
int cache_batch_clear(struct cache *c, const char *name, struct strbuf *err);

/* ---- maintenance (procache cache ...) --------------------------------- */

/* The remote's counters (DESIGN.md section 11). */
struct cache_remote_counts {
	uint64_t hits, misses, errors, bytes_up, bytes_down;
};

struct cache_stats_summary {
	struct cache_remote_counts remote;
	uint64_t entries, keys, blobs;
	uint64_t bytes;         /* entries + blobs, from a scan */
	uint64_t disk_bytes;    /* the whole cache directory on disk (du) */
	uint64_t run_dirs;      /* run directories present (running, or left) */
	uint64_t counted_bytes; /* the approximate counter kept by stores */
	uint64_t hits, misses, uncacheable, errors, stores;
	double saved_s;
	cJSON *uncacheable_reasons; /* object: category -> count; caller frees */
};

/* Sum the counters and scan the store. Returns 0 or -errno. */
int cache_stats_get(struct cache *c, struct cache_stats_summary *out,
		    struct strbuf *err);
/* Set every counter to zero (sizes are kept). Returns 0 or -errno. */
int cache_stats_zero(struct cache *c, struct strbuf *err);

/* One entry, for `cache ls`. */
struct cache_ls_item {
	char *id;          /* "<key>/<id>" */
	char *command;     /* argv joined with spaces, shell-quoted when needed */
	int64_t last_use;  /* entry mtime, seconds */
	int64_t created;
	uint64_t size;     /* entry file plus every blob it references */
	uint64_t hits;
	bool corrupt;      /* could not be read (command is then the reason) */
	bool unit;         /* an execution unit's (cache_entry_is_unit()) */
};

/*
 * Every entry, most recently used first. *@items is an array of *@nr
 * items, freed with cache_ls_free(). Returns 0 or -errno.
 */
int cache_ls(struct cache *c, struct cache_ls_item **items, size_t *nr,
	     struct strbuf *err);
void cache_ls_free(struct cache_ls_item *items, size_t nr);

/*
 * Load the entry @name: "last" (the entry last stored or hit: the newest
 * entry mtime), a full
 * "<key>/<id>", or an unambiguous prefix of one or of an id. Returns 0,
 * -ENOENT (no such entry), -EEXIST (ambiguous), or the entry's error
 * (-EBADMSG corrupt, ...).
 */
int cache_entry_load(struct cache *c, const char *name,
		     struct cache_entry **out, struct strbuf *err);

struct cache_gc_result {
	uint64_t entries_removed, blobs_removed, bytes_removed;
	uint64_t entries_kept, bytes_kept;
};

/*
 * Remove entries not used for more than @max_age seconds (0: no limit),
 * then least recently used entries until the cache holds at most
 * @max_size bytes (0: no limit), then blobs no entry references (except
 * those younger than 10 minutes, which a concurrent store may be about to
 * reference). Entries are removed before their blobs. Temporary files
 * older than 10 minutes are removed too. Only one gc runs at a time: a
 * second one returns -EBUSY at once. Returns 0 or -errno.
 */
int cache_gc(struct cache *c, uint64_t max_size, uint64_t max_age,
	     struct cache_gc_result *res, struct strbuf *err);

/*
 * cache_store()'s automatic gc check alone: with a size limit, a gc down
 * to 90% of it when the byte counter exceeds it (a failure is warned
 * about, not returned: the stores it follows went through).
 */
void cache_gc_if_over(struct cache *c);

struct cache_verify_result {
	uint64_t entries_ok, entries_bad, blobs_ok, blobs_bad, fixed;
};

/*
 * Check every entry (envelope, checksum, format, paths, referenced blobs)
 * and every blob (its hash is its name). Each problem is one line on
 * @report ("bad entry '<id>': <why>"). With @fix, bad entries and bad
 * blobs are removed (and counted in res->fixed). Returns 0 (the result
 * says whether anything was bad) or -errno when the cache could not be
 * read.
 */
int cache_verify(struct cache *c, bool fix, FILE *report,
		 struct cache_verify_result *res, struct strbuf *err);

/*
 * Remove every entry and blob (and the counters), keeping the cache
 * directory, its FORMAT and run/. Returns 0 or -errno.
 */
int cache_clear(struct cache *c, struct strbuf *err);

#endif

/*
 * Materialization: applying a diff (a stored one on a cache hit, a fresh
 * one on a miss) to the host, safely and atomically per file. One
 * function serves both cases, so a hit leaves exactly what a miss leaves.
 *
 * Calling sequence:
 *
 *	struct mat_report rep;
 *	struct strbuf err = STRBUF_INIT;
 *
 *	mat_report_init(&rep);
 *	r = mat_apply(changes, nr, roots, flags, &rep, &err);
 *	for (i = 0; i < rep.nr; i++)	// or mat_report_outcome/_reason()
 *		... rep.results[i].outcome, rep.results[i].reason ...
 *	mat_report_release(&rep);
 *
 * Safety (see DESIGN.md §7 "Materialization"): every path in a change is
 * untrusted. A path is applied only if it lies beneath one of @roots
 * (component-wise), and its parent directory is opened beneath that root
 * with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS): no symlink on the
 * host, pre-existing or created by an earlier change of the same diff,
 * is ever followed below a root. Everything is then done with *at()
 * calls on that parent fd, and modes are set on opened fds.
 *
 * Memory comes from the x-allocators (dies on out-of-memory).
 */
#ifndef PROCACHE_CACHE_MATERIALIZE_H
#define PROCACHE_CACHE_MATERIALIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/change.h"
#include "common/hash.h"
#include "common/strbuf.h"
#include "common/xattr.h"

struct mat_change {
	enum change_kind kind;
	/*
	 * Absolute host path, as recorded. Untrusted: a path that is not
	 * absolute, or has an empty, "." or ".." component or a trailing
	 * slash, is refused (MAT_REFUSED) and never touched.
	 */
	const char *path;
	/*
	 * FILE, DIR, DIR_REPLACED, MODE: permission bits only (at most
	 * 07777, else mat_apply() fails with -EINVAL). Applied exactly
	 * (not subject to the umask), with S_ISUID and S_ISGID dropped; the
	 * sticky bit is kept (it only restricts deletion). Ignored for
	 * SYMLINK and DELETE.
	 */
	mode_t mode;
	/* SYMLINK: the link's target, any non-empty string. */
	const char *target;
	/*
	 * FILE: where the bytes are, relative to @src_dirfd (a blob in the
	 * store, or a file in a run's upper directory). Opened with
	 * O_NOFOLLOW; must be a regular file of exactly @size bytes, else
	 * -EIO. The caller vouches for its content (the blob store verifies
	 * blob hashes; this function does not rehash the source).
	 */
	int src_dirfd;
	const char *src_path;
	/*
	 * FILE: content hash of the source, when known. A host file of the
	 * same size is hashed and, when equal (and the mode too), left
	 * untouched. Without it the source is hashed instead.
	 */
	struct pc_hash hash;
	bool has_hash;
	off_t size; /* FILE: size in bytes */
	/*
	 * FILE, DIR, DIR_REPLACED, SYMLINK: the times to leave (DESIGN.md
	 * §7). MAT_TIMES_EXACT: @mtime_ns and @atime_ns (a directory's once
	 * its entries are made). MAT_TIMES_FRESH (FILE only; the others
	 * keep what creating them gives): the time the apply started
	 * (CLOCK_REALTIME) plus the file's rank, in ns, among the
	 * fresh files ordered by @mtime_ns. MAT_TIMES_NONE: what writing it
	 * gives (a file left unchanged keeps its times). Set on the file
	 * written and on one already there with the same bytes alike.
	 */
	enum mat_times { MAT_TIMES_NONE, MAT_TIMES_EXACT, MAT_TIMES_FRESH } times;
	int64_t mtime_ns, atime_ns;
	/*
	 * FILE, DIR, DIR_REPLACED, MODE: the extended attributes the path
	 * ends with (sorted, common/xattr.h), or NULL to leave them as they
	 * are. Its restorable attributes (xattr_name_restorable(), as this
	 * process is root or not) are made exactly these: set when missing
	 * or other, removed when not listed; the others are neither set nor
	 * removed (a stored entry has none: the runner refuses to store
	 * them). Set after the mode (a POSIX ACL then gives the mode's
	 * group bits, as it did in the job) and, for a file, before its
	 * times and its rename into place. Ignored for SYMLINK (no
	 * restorable attribute can be on a symlink) and DELETE. A file or
	 * directory otherwise identical on the host but for these is
	 * MAT_APPLIED.
	 */
	const struct xattr_set *xattrs;
};

enum mat_outcome {
	MAT_APPLIED,   /* the host now has what the change says */
	MAT_UNCHANGED, /* the host already had it; nothing written (only its
			  times set, when the change has some) */
	MAT_KEPT,      /* outside every root: listed, not applied */
	MAT_REFUSED,   /* unsafe or impossible to apply safely: not touched */
	MAT_FAILED,    /* applying failed; mat_apply() returned -errno */
	MAT_SKIPPED,   /* not reached: mat_apply() stopped at a failure first */
};

struct mat_result {
	enum mat_outcome outcome;
	/*
	 * Why, in a few words ("outside the output roots", "path has a '..'
	 * component", "a parent directory is a symlink on the host", ...);
	 * NULL for MAT_APPLIED. Owned by the report.
	 */
	char *reason;
};

struct mat_report {
	/* One per change, in the order of the changes given to mat_apply(). */
	struct mat_result *results;
	size_t nr;
	/* How many changes ended with each outcome. */
	size_t applied, unchanged, kept, refused, failed, skipped;
	/* Regular files written, and their bytes (copied or cloned). */
	size_t files_written;
	uint64_t bytes_written;
	/* Copy workers that ran (0: every file on the calling thread). */
	size_t threads;
};

void mat_report_init(struct mat_report *rep);
/* Free the results and reasons; @rep may be reused after mat_report_init(). */
void mat_report_release(struct mat_report *rep);
/* Outcome and reason (NULL for MAT_APPLIED) of change @i; BUG() if i >= nr. */
enum mat_outcome mat_report_outcome(const struct mat_report *rep, size_t i);
const char *mat_report_reason(const struct mat_report *rep, size_t i);

/* "applied", "unchanged", "kept", "refused", "failed", "skipped". */
const char *mat_outcome_name(enum mat_outcome outcome);

/* Flags for mat_apply(). */
#define MAT_FSYNC 1 /* fsync each written file and each changed directory */
#define MAT_SERIAL 2 /* write every file on the calling thread (no workers) */

/*
 * Apply the @nr changes in @ch to the host, beneath @roots.
 *
 * @roots: NULL-terminated array of absolute, clean paths (path_clean()),
 * trusted: symlinks in a root's own path are followed when opening it,
 * so callers should pass canonical paths (realpath). A change is applied
 * if its path is beneath a root (the deepest matching root is used);
 * otherwise it is MAT_KEPT. A change AT a root: MODE applies; DIR makes
 * the root (and its missing parents, as mkdir -p, with the umask) or
 * applies its mode; FILE writes it (missing parents made likewise)
 * when the root is not an existing directory; DELETE, DIR_REPLACED and
 * SYMLINK (which would redirect every later change) are MAT_REFUSED, as
 * is any change at "/".
 *
 * Order: the changes may come in any order (a diff comes sorted by
 * path); they are applied parents before children, each directory's
 * entries together, so a deletion or replacement of a directory happens
 * before anything is created under it. Two changes of the same path are
 * applied in the order given. Directory modes without u+rwx are applied
 * last, deepest first, so that their children can still be created.
 *
 * Regular files are written to a temporary name in the target directory
 * (FICLONE, else copy_file_range, else read/write), given their mode and
 * renamed into place: each file is either old or new, never torn. An
 * existing entry of another type is removed first (type change). A
 * DIR_REPLACED whose path is a directory on the host is emptied in place
 * (the directory itself kept). With MAT_FSYNC, files are fsync()ed
 * before the rename and directories after.
 *
 * Directory times (DESIGN.md §7 "Directory times"): a host directory in
 * which the apply only replaced existing names (nothing created or
 * removed) gets the mtime and atime it had before the apply back at the
 * end, unless a change of its own gives it exact times; where they
 * cannot be set (not its owner) it keeps the apply's.
 *
 * Threads: when there are at least 64 regular files or 4 MiB of them to
 * write, and more than one CPU, worker threads (one per CPU, at most 8,
 * every signal blocked) write the files while the calling thread applies
 * everything else, waiting for them before each other kind of change;
 * they are joined before mat_apply() returns. Not with MAT_FSYNC or
 * MAT_SERIAL. The sources must stay readable from any thread.
 *
 * Returns 0 when every change ended APPLIED, UNCHANGED, KEPT or REFUSED
 * (see @rep). Returns -errno when applying one failed: mat_apply() stops
 * there and appends to @err "cannot apply 'PATH': <strerror>" (or
 * "cannot apply 'PATH': <what>: <strerror>"; no newline); that change is
 * MAT_FAILED and those not reached
 * MAT_SKIPPED; every file already applied is whole, and the temporary
 * file is removed. With workers, files queued after the failing one may
 * still be applied (whole), or several may fail (each MAT_FAILED); @err
 * names one. -EINVAL: bad arguments (unknown flag or kind, mode
 * above 07777, FILE without src_path, relative or unclean root). @rep
 * must have been initialised; its previous results are released.
 */
int mat_apply(const struct mat_change *ch, size_t nr,
	      const char *const *roots, unsigned flags,
	      struct mat_report *rep, struct strbuf *err);

/*
 * mat_apply() into a view (an execution unit's hit, DESIGN.md §13.4):
 * the one root is "/" of the tree @root_fd is an fd of (O_PATH or not;
 * duplicated, never closed; /proc/PID/root of a job process), so every
 * change's path is taken as a path of that tree and its parent opened
 * beneath @root_fd with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS: nothing
 * lands outside it, whatever symlinks the view holds (a parent that is
 * a symlink refuses the change, as below any root). A change at "/" is
 * refused. Owners are those creating gives the calling thread (its
 * fsuid/fsgid, the directory's setgid bit): nothing is chowned, as for
 * a job; modes and times as mat_apply(). Returns as mat_apply(); -EBADF
 * for a negative @root_fd.
 */
int mat_apply_at(const struct mat_change *ch, size_t nr, int root_fd,
		 unsigned flags, struct mat_report *rep, struct strbuf *err);

#endif

/*
 * The one vocabulary for kinds of change and file types, shared by the
 * sandbox's diff (sandbox/diff.c), cache entries (cache/entry.c),
 * materialization (cache/materialize.c) and every report. The names are
 * part of the entry format and of the JSON outputs: never rename one.
 */
#ifndef PROCACHE_COMMON_CHANGE_H
#define PROCACHE_COMMON_CHANGE_H

#include <sys/types.h>

/* Kinds of change a job makes to its view (DESIGN.md §2 table). */
enum change_kind {
	CHANGE_FILE,	     /* regular file the job wrote (even with the same bytes) */
	CHANGE_DIR,	     /* directory created */
	CHANGE_DIR_REPLACED, /* directory replaced (opaque): host content gone */
	CHANGE_SYMLINK,	     /* symlink the job created (even the same target) */
	CHANGE_DELETE,	     /* host path deleted */
	CHANGE_MODE,	     /* directory kept, other permission bits */
	CHANGE_SPECIAL,	     /* device, fifo or socket: never stored nor applied */
};
#define CHANGE_KIND_COUNT (CHANGE_SPECIAL + 1)

/* "file", "dir", "dir_replaced", "symlink", "delete", "mode", "special". */
const char *change_kind_name(enum change_kind kind);
/* The kind named @name (as above); -EINVAL for any other string. */
int change_kind_parse(const char *name, enum change_kind *out);

/*
 * The name of the file type in @mode's S_IFMT bits: "file", "dir",
 * "symlink", "chr", "blk", "fifo", "sock"; "unknown" for anything else.
 */
const char *file_type_name(mode_t mode);
/* The S_IFMT bits named @name (as above); -EINVAL for any other string. */
int file_type_parse(const char *name, mode_t *out);

#endif

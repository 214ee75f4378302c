/*
 * The one reading of a file's extended attributes, their canonical hash,
 * and the one rule for which attributes procache shows, stores and
 * restores (DESIGN.md §2, §3, §7). Used by the tracer (an xattr read of a
 * host path is an observation), the diff (a job's xattrs are part of its
 * changes), the cache (the "xattrs" precondition, checked on lookup) and
 * materialization (the changes' xattrs applied).
 *
 * Names, three classes:
 *	private		overlayfs' namespaces trusted.overlay.* and
 *			user.overlay.*, and security.selinux (an LSM label
 *			the host assigns): left out of the sets read (but
 *			see xattr_read_seen(), xattr_read_upper()), never
 *			stored, never applied or removed
 *	restorable	user.*, system.posix_acl_access,
 *			system.posix_acl_default, and security.capability
 *			when procache runs as root: a change may carry
 *			them; materialization makes a path's set of these
 *			exactly the recorded one
 *	other		(trusted.*, other security.*, system.*): read and
 *			hashed like any, but a change carrying one cannot be
 *			replayed faithfully, so the run is uncacheable
 *
 * What a job reading a host path's attributes sees is the same less
 * overlayfs' own names (xattr_read_seen()): security.selinux is kept
 * there, since a job that reads it (ls -Z) depends on it.
 *
 * Hash encoding (on-disk relevant: "xattrs" preconditions store it): a
 * keyenc (common/hash.h) of one field "xattrs" = "procache-xattrs-1",
 * then, per attribute sorted by name (bytewise), a field "n" with the
 * name and a field "v" with the value's bytes; a set that could not be
 * read is a field "e" with the errno's name (ENOTSUP, a file system
 * without xattrs, reads as the empty set). Changing it changes every
 * stored precondition: bump the version string and the entry format.
 *
 * Memory comes from the x-allocators (dies on out-of-memory).
 */
#ifndef PROCACHE_COMMON_XATTR_H
#define PROCACHE_COMMON_XATTR_H

#include <stdbool.h>
#include <stddef.h>

#include "common/hash.h"
#include "common/strbuf.h"

struct xattr {
	char *name;
	unsigned char *value;
	size_t len;
};

/* A set of attributes, sorted by name, without private ones. */
struct xattr_set {
	struct xattr *v;
	size_t nr, alloc;
};

#define XATTR_SET_INIT { 0 }

void xattr_set_release(struct xattr_set *s);
/* Append (name, value) (copied); the caller keeps the set sorted. */
void xattr_set_add(struct xattr_set *s, const char *name, const void *value,
		   size_t len);
void xattr_set_copy(struct xattr_set *dst, const struct xattr_set *src);
bool xattr_set_equal(const struct xattr_set *a, const struct xattr_set *b);
/* The attribute named @name, or NULL. */
const struct xattr *xattr_set_find(const struct xattr_set *s, const char *name);

bool xattr_name_private(const char *name);
/* Restorable by a process that is root (@as_root) or not (see the top). */
bool xattr_name_restorable(const char *name, bool as_root);

/*
 * Read the attributes of @path, never following a final symlink
 * (llistxattr/lgetxattr), into @out (released first; sorted, private
 * names left out). ENOTSUP gives the empty set. Returns 0 or -errno
 * (ENOENT, EACCES, ...; an attribute removed between the listing and
 * its read is left out).
 */
int xattr_read_path(const char *path, struct xattr_set *out);
/*
 * The same for an entry of an overlay's upper directory (@userxattr: the
 * overlay's own names are user.overlay.*, else trusted.overlay.*): only
 * the overlay's own markers and security.selinux are left out. A job may
 * set names of overlayfs' namespaces (6.7+ stores those of the mount's
 * own escaped, "user.overlay.overlay.x" for "user.overlay.x"): they are
 * kept, and, not being restorable, make the run uncacheable.
 */
int xattr_read_upper(const char *path, bool userxattr, struct xattr_set *out);
/*
 * The same for the inode an fd refers to (any fd, O_PATH included:
 * read through /proc/self/fd/N).
 */
int xattr_read_fd(int fd, struct xattr_set *out);
/* As xattr_read_path(), keeping security.selinux: what a job reads. */
int xattr_read_seen(const char *path, struct xattr_set *out);

/* The hash of @s (see the top); of an unreadable set when @err < 0. */
void xattr_set_hash(const struct xattr_set *s, int err, struct pc_hash *out);
/* xattr_read_seen() of @path, hashed; the error, if any, is hashed as said. */
void xattr_hash_path(const char *path, struct pc_hash *out);
/* Does the directory @path have a default ACL (what new entries inherit)?
 * An unreadable one counts as having one. */
bool xattr_has_default_acl(const char *path);

/* "user.a=<hex>, user.b=<hex>" for people (values cut at 32 bytes). */
void xattr_set_describe(const struct xattr_set *s, struct strbuf *out);

#endif

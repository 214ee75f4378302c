/*
 * A growable byte buffer, after git's strbuf.
 *
 * Invariants (hold after every call below, and for STRBUF_INIT):
 *  - buf is never NULL. While alloc == 0, buf points to a shared static
 *    empty string ("strbuf_slopbuf") that must not be written or freed;
 *    the first growth replaces it with a malloc'd buffer.
 *  - buf[len] == '\0': the contents are always NUL-terminated, so buf can
 *    be used as a C string when it holds no NUL byte of its own.
 *  - len excludes that NUL; alloc > len whenever alloc != 0.
 *
 * The buffer may hold arbitrary bytes, including NULs.
 *
 * Calling sequence:
 *
 *	struct strbuf sb = STRBUF_INIT;		// or strbuf_init(&sb, hint)
 *	strbuf_addf(&sb, "%s/%s", dir, name);
 *	...use sb.buf, sb.len...
 *	strbuf_release(&sb);			// or: s = strbuf_detach(&sb, NULL)
 *
 * Memory comes from the x-allocators (common/xalloc.h): growing a strbuf
 * never fails, it dies on out-of-memory. Functions that do I/O return
 * -errno on failure and leave the buffer valid; data read before the
 * error is kept.
 */
#ifndef PROCACHE_COMMON_STRBUF_H
#define PROCACHE_COMMON_STRBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

struct strbuf {
	size_t alloc;
	size_t len;
	char *buf;
};

extern char strbuf_slopbuf[];
#define STRBUF_INIT { .alloc = 0, .len = 0, .buf = strbuf_slopbuf }

/* Initialise @sb, reserving room for @hint bytes (0: allocate nothing). */
void strbuf_init(struct strbuf *sb, size_t hint);

/* Free the buffer and re-initialise @sb; it may be used again. */
void strbuf_release(struct strbuf *sb);

/*
 * Hand the buffer over to the caller, who must free() it, and
 * re-initialise @sb. The result is always a malloc'd NUL-terminated
 * string, also when @sb is empty. Stores the length in *@len when @len
 * is not NULL.
 */
char *strbuf_detach(struct strbuf *sb, size_t *len);

/* Ensure room for @extra more bytes (plus the NUL) without reallocation. */
void strbuf_grow(struct strbuf *sb, size_t extra);

/* Set the length to @len, which must be <= the allocated size (BUG()). */
void strbuf_setlen(struct strbuf *sb, size_t len);

/* Empty the buffer, keeping its allocation. */
#define strbuf_reset(sb) strbuf_setlen(sb, 0)

/* Append @len bytes at @data (NULL allowed when @len is 0). */
void strbuf_add(struct strbuf *sb, const void *data, size_t len);

/* Append the C string @s. */
void strbuf_addstr(struct strbuf *sb, const char *s);

/* Append one byte. */
void strbuf_addch(struct strbuf *sb, int c);

/* Append the contents of @other (which may be @sb itself). */
void strbuf_addbuf(struct strbuf *sb, const struct strbuf *other);

/* Append printf-style formatted text. */
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Append @len bytes at @data as lowercase hex (2 * @len digits). */
void strbuf_addhex(struct strbuf *sb, const void *data, size_t len);

/*
 * For library functions that return -errno with a message: replace the
 * content of @err (when not NULL) with the formatted message and return
 * @ret, so that "return strbuf_error(err, -EINVAL, "bad '%s'", x);" is
 * one line.
 */
int strbuf_error(struct strbuf *err, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Append everything that can be read from @fd until end of file,
 * retrying EINTR. @hint is the expected size (0 if unknown). Returns the
 * number of bytes appended, or -errno from read(); on error, bytes read
 * so far stay appended.
 */
ssize_t strbuf_read_fd(struct strbuf *sb, int fd, size_t hint);

/*
 * Open @path relative to @dirfd (AT_FDCWD allowed) with
 * O_RDONLY|O_CLOEXEC|O_NOCTTY and append its whole content. Symlinks in
 * @path are followed; use an fd from a safe open and strbuf_read_fd()
 * for untrusted paths. Returns bytes appended or -errno (from openat()
 * or read()).
 */
ssize_t strbuf_read_file_at(struct strbuf *sb, int dirfd, const char *path,
			    size_t hint);

/* Remove one trailing "\n" or "\r\n", if present. */
void strbuf_trim_trailing_newline(struct strbuf *sb);

#endif

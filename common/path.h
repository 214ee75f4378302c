/*
 * Lexical path helpers: they look at strings only, never at the file
 * system, and so never resolve symlinks.
 *
 * In particular nothing here resolves "..": "a/b/.." is not "a" when b
 * is a symlink to another directory, and only the kernel knows. Paths
 * that come from a job or a cache entry must be checked with
 * path_is_safe_relative() and opened component by component with
 * O_NOFOLLOW or with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS).
 *
 * Functions returning char * return a malloc'd string that the caller
 * frees; they never return NULL (x-allocators, see common/xalloc.h).
 * No function modifies its input.
 */
#ifndef PROCACHE_COMMON_PATH_H
#define PROCACHE_COMMON_PATH_H

#include <stdbool.h>
#include <stddef.h>

/*
 * @a and @b joined with exactly one slash between them: trailing slashes
 * of @a and leading slashes of @b are dropped. @b is always placed
 * beneath @a, even when absolute (path_join("/x", "/y") is "/x/y"). If
 * either is empty the result is a copy of the other (with its slashes as
 * they are). path_join("/", "y") is "/y". No other cleaning is done.
 */
char *path_join(const char *a, const char *b);

/*
 * Lexically clean @path: collapse runs of slashes, remove "."
 * components and strip trailing slashes. ".." components are kept (see
 * above). An absolute path stays absolute ("/" for nothing left); a
 * relative one becomes "." when nothing is left (also for "").
 * Examples: "a//./b/" -> "a/b", "/./" -> "/", "./a/../b" -> "a/../b".
 */
char *path_clean(const char *path);

/*
 * True iff @path is safe to use relative to a directory we control, as
 * written in a cache entry: non-empty, not absolute, no empty, "." or
 * ".." components (so no "//" and no trailing slash), no NUL byte.
 * Symlinks met while opening it are still the caller's business.
 */
bool path_is_safe_relative(const char *path);

/* As path_is_safe_relative() for @len bytes that may contain a NUL. */
bool path_is_safe_relative_len(const char *path, size_t len);

/*
 * The one path-safety check for paths from a job or a cache entry: why
 * @path cannot be used safely, lexically, or NULL when it can. With
 * PATH_ABSOLUTE it must start with '/' ("/" itself passes: callers refuse
 * a root on their own terms); with PATH_RELATIVE it must not. Either way:
 * no empty component (so no "//" nor trailing slash), no "." or ".."
 * component, no component longer than NAME_MAX, shorter than PATH_MAX.
 * The reason is a static string such as "path has a '..' component".
 */
enum path_form { PATH_ABSOLUTE, PATH_RELATIVE };
const char *path_unsafe_reason(const char *path, enum path_form form);

/*
 * True iff @path equals @prefix or starts with @prefix followed by a
 * slash: a prefix of whole components, so "a/bc" does not have the
 * prefix "a/b". Trailing slashes of @prefix are ignored ("/" is a prefix
 * of every absolute path). An empty @prefix matches nothing. Purely
 * textual: no cleaning, "." and ".." are ordinary names.
 */
bool path_has_prefix_component(const char *path, const char *prefix);

/*
 * True iff the absolute path @path is @root itself or lies beneath it,
 * comparing whole components ("/a/bc" is not beneath "/a/b"). Both must
 * be clean (see path_clean()); false if either is not absolute or @path
 * has a ".." component, since its meaning depends on symlinks.
 */
bool path_is_beneath(const char *path, const char *root);

/*
 * A copy of @path with '\\', ',', ':' and whitespace (space, \t, \n,
 * \v, \f, \r) each preceded by a backslash, for use as a value in an
 * overlayfs option string ("lowerdir=A:B,upperdir=C,workdir=D") passed
 * to mount(2) or fsconfig(). overlayfs splits options at unescaped ','
 * and lowerdir at unescaped ':', then drops the escaping backslashes;
 * whitespace is escaped so that the string stays one token for tools
 * that split options at blanks and in /proc/self/mountinfo output.
 */
char *path_escape_mount_opt(const char *path);

/*
 * The directory part of @path, as POSIX dirname(3) but without touching
 * @path: "/a/b" -> "/a", "a/b/" -> "a", "a" -> ".", "/" -> "/",
 * "/a" -> "/", "" -> ".".
 */
char *path_dirname(const char *path);

/*
 * The last component of @path, as POSIX basename(3) but without touching
 * @path: "/a/b" -> "b", "a/b/" -> "b", "/" -> "/", "" -> ".".
 */
char *path_basename(const char *path);

#endif

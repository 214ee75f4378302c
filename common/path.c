#include <stdbool.h>
#include <limits.h>
#include <string.h>

#include "common/path.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

#include "common/banned.h"

char *path_join(const char *a, const char *b)
{
	struct strbuf sb = STRBUF_INIT;
	size_t alen = strlen(a);

	if (!*a)
		return xstrdup(b);
	if (!*b)
		return xstrdup(a);
	while (alen > 1 && a[alen - 1] == '/')
		alen--;
	while (*b == '/')
		b++;
	strbuf_add(&sb, a, alen);
	if (a[alen - 1] != '/')
		strbuf_addch(&sb, '/');
	strbuf_addstr(&sb, b);
	return strbuf_detach(&sb, NULL);
}

char *path_clean(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	bool absolute = *path == '/';
	const char *p = path;

	if (absolute)
		strbuf_addch(&sb, '/');
	for (;;) {
		size_t n;

		p += strspn(p, "/");
		if (!*p)
			break;
		n = strcspn(p, "/");
		if (!(n == 1 && p[0] == '.')) {
			if (sb.len && sb.buf[sb.len - 1] != '/')
				strbuf_addch(&sb, '/');
			strbuf_add(&sb, p, n);
		}
		p += n;
	}
	if (!sb.len)
		strbuf_addch(&sb, '.');
	return strbuf_detach(&sb, NULL);
}

bool path_is_safe_relative_len(const char *path, size_t len)
{
	size_t i = 0;

	if (!len || path[0] == '/' || memchr(path, '\0', len))
		return false;
	while (i <= len) {
		size_t start = i;

		while (i < len && path[i] != '/')
			i++;
		/* Component is path[start, i). */
		if (i == start)
			return false;
		if (path[start] == '.' &&
		    (i - start == 1 || (i - start == 2 && path[start + 1] == '.')))
			return false;
		i++;	/* skip the slash, or step past the end */
	}
	return true;
}

bool path_is_safe_relative(const char *path)
{
	return path_is_safe_relative_len(path, strlen(path));
}

const char *path_unsafe_reason(const char *p, enum path_form form)
{
	const char *s;

	if (form == PATH_ABSOLUTE && p[0] != '/')
		return "path is not absolute";
	if (form == PATH_RELATIVE && p[0] == '/')
		return "path is absolute";
	if (strlen(p) >= PATH_MAX)
		return "path is too long";
	if (form == PATH_ABSOLUTE && !p[1])
		return NULL;
	for (s = form == PATH_ABSOLUTE ? p + 1 : p;;) {
		size_t n = strcspn(s, "/");

		if (n == 0)
			return "path has an empty component";
		if (n == 1 && s[0] == '.')
			return "path has a '.' component";
		if (n == 2 && s[0] == '.' && s[1] == '.')
			return "path has a '..' component";
		if (n > NAME_MAX)
			return "path has a component that is too long";
		if (!s[n])
			return NULL;
		s += n + 1;
	}
}

bool path_has_prefix_component(const char *path, const char *prefix)
{
	size_t plen = strlen(prefix);

	if (!plen)
		return false;
	while (plen && prefix[plen - 1] == '/')
		plen--;
	if (!plen)	/* prefix was "/" (or "//"): any absolute path */
		return path[0] == '/';
	if (strncmp(path, prefix, plen))
		return false;
	return path[plen] == '\0' || path[plen] == '/';
}

static bool has_dotdot_component(const char *path)
{
	const char *p = path;

	for (;;) {
		size_t n;

		p += strspn(p, "/");
		if (!*p)
			return false;
		n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return true;
		p += n;
	}
}

bool path_is_beneath(const char *path, const char *root)
{
	if (path[0] != '/' || root[0] != '/' || has_dotdot_component(path))
		return false;
	return path_has_prefix_component(path, root);
}

char *path_escape_mount_opt(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p;

	for (p = path; *p; p++) {
		if (strchr("\\,: \t\n\v\f\r", *p))
			strbuf_addch(&sb, '\\');
		strbuf_addch(&sb, *p);
	}
	return strbuf_detach(&sb, NULL);
}

/* Length of @path without trailing slashes, keeping a lone "/". */
static size_t strip_trailing_slashes(const char *path, size_t len)
{
	while (len > 1 && path[len - 1] == '/')
		len--;
	return len;
}

char *path_dirname(const char *path)
{
	size_t len = strip_trailing_slashes(path, strlen(path));

	/* Drop the last component... */
	while (len && path[len - 1] != '/')
		len--;
	if (!len)
		return xstrdup(".");
	/* ...and the slashes before it, keeping a lone "/". */
	len = strip_trailing_slashes(path, len);
	return xstrndup(path, len);
}

char *path_basename(const char *path)
{
	size_t end = strip_trailing_slashes(path, strlen(path));
	size_t start = end;

	if (!end)
		return xstrdup(".");
	if (end == 1 && path[0] == '/')
		return xstrdup("/");
	while (start && path[start - 1] != '/')
		start--;
	return xstrndup(path + start, end - start);
}

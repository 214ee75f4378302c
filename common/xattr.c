/*
 * Extended attributes: read, hashed, classified (contract and hash
 * encoding in common/xattr.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "common/hex.h"
#include "common/xalloc.h"
#include "common/xattr.h"

#include "common/banned.h"

void xattr_set_release(struct xattr_set *s)
{
	for (size_t i = 0; i < s->nr; i++) {
		free(s->v[i].name);
		free(s->v[i].value);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

void xattr_set_add(struct xattr_set *s, const char *name, const void *value,
		   size_t len)
{
	struct xattr *x;

	ALLOC_GROW(s->v, s->nr + 1, s->alloc);
	x = &s->v[s->nr++];
	x->name = xstrdup(name);
	x->value = xmalloc(len ? len : 1);
	if (len)
		memcpy(x->value, value, len);
	x->len = len;
}

void xattr_set_copy(struct xattr_set *dst, const struct xattr_set *src)
{
	memset(dst, 0, sizeof(*dst));
	for (size_t i = 0; i < src->nr; i++)
		xattr_set_add(dst, src->v[i].name, src->v[i].value, src->v[i].len);
}

bool xattr_set_equal(const struct xattr_set *a, const struct xattr_set *b)
{
	if (a->nr != b->nr)
		return false;
	for (size_t i = 0; i < a->nr; i++)
		if (strcmp(a->v[i].name, b->v[i].name) || a->v[i].len != b->v[i].len ||
		    (a->v[i].len && memcmp(a->v[i].value, b->v[i].value, a->v[i].len)))
			return false;
	return true;
}

const struct xattr *xattr_set_find(const struct xattr_set *s, const char *name)
{
	for (size_t i = 0; i < s->nr; i++)
		if (!strcmp(s->v[i].name, name))
			return &s->v[i];
	return NULL;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

bool xattr_name_private(const char *name)
{
	return has_prefix(name, "trusted.overlay.") ||
	       has_prefix(name, "user.overlay.") ||
	       !strcmp(name, "security.selinux");
}

bool xattr_name_restorable(const char *name, bool as_root)
{
	if (xattr_name_private(name))
		return false;
	return has_prefix(name, "user.") ||
	       !strcmp(name, "system.posix_acl_access") ||
	       !strcmp(name, "system.posix_acl_default") ||
	       (as_root && !strcmp(name, "security.capability"));
}

static int cmp_xattr(const void *a, const void *b)
{
	return strcmp(((const struct xattr *)a)->name,
		      ((const struct xattr *)b)->name);
}

/* How a read filters names (read_set()). */
enum filter {
	F_PRIVATE,     /* every private name out */
	F_SEEN,        /* security.selinux kept */
	F_UPPER_USER,  /* an upper directory: the overlay's own markers out */
	F_UPPER_TRUSTED,
};

static bool skipped(const char *name, enum filter f)
{
	const char *own;

	switch (f) {
	case F_PRIVATE:
		return xattr_name_private(name);
	case F_SEEN:
		return strcmp(name, "security.selinux") && xattr_name_private(name);
	case F_UPPER_USER:
	case F_UPPER_TRUSTED:
		own = f == F_UPPER_USER ? "user.overlay." : "trusted.overlay.";
		if (!strcmp(name, "security.selinux"))
			return true;
		/* the job's own, escaped by overlayfs: kept */
		return has_prefix(name, own) &&
		       strncmp(name + strlen(own), "overlay.", 8);
	}
	return true;
}

/*
 * llistxattr/lgetxattr of @path; @follow: listxattr/getxattr (a magic
 * link); @label: which names are left out.
 */
static int read_set(const char *path, bool follow, enum filter label,
		    struct xattr_set *out)
{
	char *names = NULL;
	ssize_t n;
	int r = 0;

	xattr_set_release(out);
	/* The list may grow between the size query and the read: retry. */
	for (;;) {
		n = follow ? listxattr(path, NULL, 0) : llistxattr(path, NULL, 0);
		if (n < 0) {
			r = errno == ENOTSUP ? 0 : -errno;
			goto out;
		}
		if (!n)
			goto out;
		free(names);
		names = xmalloc((size_t)n + 1);
		ssize_t m = follow ? listxattr(path, names, (size_t)n)
				   : llistxattr(path, names, (size_t)n);
		if (m >= 0) {
			n = m;
			break;
		}
		if (errno != ERANGE) {
			r = -errno;
			goto out;
		}
	}
	for (const char *p = names; p < names + n; p += strlen(p) + 1) {
		unsigned char *v = NULL;
		ssize_t len;

		if (!*p || skipped(p, label))
			continue;
		for (;;) {
			len = follow ? getxattr(path, p, NULL, 0) : lgetxattr(path, p, NULL, 0);
			if (len < 0)
				break;
			free(v);
			v = xmalloc(len ? (size_t)len : 1);
			ssize_t m = follow ? getxattr(path, p, v, (size_t)len)
					   : lgetxattr(path, p, v, (size_t)len);
			if (m >= 0) {
				len = m;
				break;
			}
			if (errno != ERANGE)
				break;
		}
		if (len < 0) {
			free(v);
			if (errno == ENODATA)
				continue; /* removed since the listing */
			r = -errno;
			goto out;
		}
		xattr_set_add(out, p, v, (size_t)len);
		free(v);
	}
	if (out->nr > 1)
		qsort(out->v, out->nr, sizeof(*out->v), cmp_xattr);
out:
	free(names);
	if (r < 0)
		xattr_set_release(out);
	return r;
}

int xattr_read_path(const char *path, struct xattr_set *out)
{
	return read_set(path, false, F_PRIVATE, out);
}

int xattr_read_seen(const char *path, struct xattr_set *out)
{
	return read_set(path, false, F_SEEN, out);
}

int xattr_read_upper(const char *path, bool userxattr, struct xattr_set *out)
{
	return read_set(path, false, userxattr ? F_UPPER_USER : F_UPPER_TRUSTED, out);
}

bool xattr_has_default_acl(const char *path)
{
	ssize_t n = lgetxattr(path, "system.posix_acl_default", NULL, 0);

	return n >= 0 || (errno != ENODATA && errno != ENOTSUP);
}

int xattr_read_fd(int fd, struct xattr_set *out)
{
	char link[64];

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	return read_set(link, true, F_PRIVATE, out);
}

void xattr_set_hash(const struct xattr_set *s, int err, struct pc_hash *out)
{
	struct keyenc k;

	keyenc_init(&k);
	keyenc_add_str(&k, "xattrs", "procache-xattrs-1");
	if (err < 0) {
		const char *name = strerrorname_np(-err);
		char num[32];

		if (!name) {
			snprintf(num, sizeof(num), "%d", -err);
			name = num;
		}
		keyenc_add_str(&k, "e", name);
	} else {
		for (size_t i = 0; i < s->nr; i++) {
			keyenc_add_str(&k, "n", s->v[i].name);
			keyenc_add(&k, "v", s->v[i].value, s->v[i].len);
		}
	}
	keyenc_hash(&k, out);
	keyenc_release(&k);
}

void xattr_hash_path(const char *path, struct pc_hash *out)
{
	struct xattr_set s = XATTR_SET_INIT;
	int r = xattr_read_seen(path, &s);

	xattr_set_hash(&s, r, out);
	xattr_set_release(&s);
}

void xattr_set_describe(const struct xattr_set *s, struct strbuf *out)
{
	for (size_t i = 0; i < s->nr; i++) {
		size_t n = s->v[i].len < 32 ? s->v[i].len : 32;
		char *hex = xmalloc(2 * n + 1);

		hex_encode(s->v[i].value, n, hex);
		strbuf_addf(out, "%s%s=%s%s", i ? ", " : "", s->v[i].name, hex,
			    n < s->v[i].len ? "..." : "");
		free(hex);
	}
}

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/die.h"
#include "common/xalloc.h"

#include "common/banned.h"

/*
 * Not die(): die() formats into a stack buffer and needs no memory, but
 * say clearly that this is an allocation failure of a given size.
 */
static noreturn void oom(size_t size)
{
	die("out of memory, cannot allocate %zu bytes", size);
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		oom(size);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p;

	if (!nmemb || !size)
		nmemb = size = 1;
	p = calloc(nmemb, size);
	if (!p)
		oom(st_mult(nmemb, size));
	return p;
}

void *xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (!p)
		oom(size);
	return p;
}

char *xstrdup(const char *s)
{
	return xmemdup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	const char *end = memchr(s, '\0', n);

	return xmemdup(s, end ? (size_t)(end - s) : n);
}

/* Always allocates one more byte and NUL-terminates, for xstr*dup. */
void *xmemdup(const void *data, size_t len)
{
	char *p = xmalloc(st_add(len, 1));

	if (len)
		memcpy(p, data, len);
	p[len] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom(strlen(fmt));
	return s;
}

size_t st_add(size_t a, size_t b)
{
	if (a > SIZE_MAX - b)
		BUG("size overflow: %zu + %zu", a, b);
	return a + b;
}

size_t st_mult(size_t a, size_t b)
{
	if (a && b > SIZE_MAX / a)
		BUG("size overflow: %zu * %zu", a, b);
	return a * b;
}

void strv_free(char **v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

char **strv_dup(char *const *v)
{
	size_t n = 0, i;
	char **r;

	while (v && v[n])
		n++;
	r = xcalloc(n + 1, sizeof(*r));
	for (i = 0; i < n; i++)
		r[i] = xstrdup(v[i]);
	return r;
}

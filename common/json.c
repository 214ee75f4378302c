#include <errno.h>
#include <math.h> /* isfinite(), a macro */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/die.h"
#include "common/json.h"
#include "common/xalloc.h"

#include "common/banned.h"

#define json_error(err, ...) strbuf_error((err), -EINVAL, __VA_ARGS__)

/*
 * Find "\u0000" in a string literal of syntactically valid JSON @text.
 * Returns its offset, or -1.
 */
static long find_escaped_nul(const char *text, size_t len)
{
	bool in_string = false;
	size_t i;

	for (i = 0; i < len; i++) {
		char c = text[i];

		if (!in_string) {
			in_string = c == '"';
			continue;
		}
		if (c == '"') {
			in_string = false;
		} else if (c == '\\') {
			if (i + 5 < len && text[i + 1] == 'u' &&
			    !memcmp(text + i + 2, "0000", 4))
				return (long)i;
			i++;	/* skip the escaped character */
		}
	}
	return -1;
}

static int cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Reject objects with a repeated key anywhere in @item. */
static int check_duplicate_keys(const cJSON *item, struct strbuf *err)
{
	const cJSON *child;
	const char **keys;
	size_t n = 0, i;
	int ret = 0;

	for (child = item->child; child; child = child->next) {
		ret = check_duplicate_keys(child, err);
		if (ret)
			return ret;
		n++;
	}
	if (!cJSON_IsObject(item) || n < 2)
		return 0;

	/* Sort a copy of the key pointers: n log n, for large maps too. */
	keys = xcalloc(n, sizeof(*keys));
	n = 0;
	for (child = item->child; child; child = child->next)
		keys[n++] = child->string;
	qsort(keys, n, sizeof(*keys), cmp_str_ptr);
	for (i = 1; i < n; i++) {
		if (!strcmp(keys[i - 1], keys[i])) {
			ret = json_error(err, "duplicate key '%s'", keys[i]);
			break;
		}
	}
	free(keys);
	return ret;
}

int json_parse(const char *text, size_t len, cJSON **out, struct strbuf *err)
{
	const char *end = NULL, *nul;
	cJSON *root;
	long off;
	int ret;

	*out = NULL;
	nul = memchr(text, '\0', len);
	if (nul)
		return json_error(err, "invalid JSON: NUL byte at offset %zu",
				  (size_t)(nul - text));

	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!root) {
		size_t at = end && end >= text && end <= text + len
				    ? (size_t)(end - text)
				    : 0;

		if (at >= len)
			return json_error(err, "invalid JSON: unexpected end "
					       "of input at offset %zu", at);
		return json_error(err, "invalid JSON at offset %zu", at);
	}
	/* cJSON stops after the first value: only whitespace may follow. */
	while (end < text + len && strchr(" \t\n\r", *end))
		end++;
	if (end != text + len) {
		ret = json_error(err, "invalid JSON: trailing data at offset "
				      "%zu", (size_t)(end - text));
		goto fail;
	}
	off = find_escaped_nul(text, len);
	if (off >= 0) {
		ret = json_error(err, "invalid JSON: \\u0000 in string at "
				      "offset %ld", off);
		goto fail;
	}
	ret = check_duplicate_keys(root, err);
	if (ret)
		goto fail;
	*out = root;
	return 0;

fail:
	cJSON_Delete(root);
	return ret;
}

int json_check_keys(const cJSON *obj, const char *const *allowed,
		    struct strbuf *err)
{
	const cJSON *child;

	if (!cJSON_IsObject(obj))
		return json_error(err, "expected object");
	for (child = obj->child; child; child = child->next) {
		const char *const *a;

		for (a = allowed; *a; a++)
			if (!strcmp(*a, child->string))
				break;
		if (!*a)
			return json_error(err, "unknown key '%s'",
					  child->string);
	}
	return 0;
}

/*
 * Look @key up; returns 0 with *item set, -ENOENT (not required) or
 * -EINVAL (not an object, or missing and required).
 */
static int lookup(const cJSON *obj, const char *key, const cJSON **item,
		  bool required, struct strbuf *err)
{
	if (!cJSON_IsObject(obj))
		return json_error(err, "key '%s': parent is not an object",
				  key);
	*item = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (*item)
		return 0;
	if (required)
		return json_error(err, "missing required key '%s'", key);
	return -ENOENT;
}

int json_get_str(const cJSON *obj, const char *key, const char **out,
		 bool required, struct strbuf *err)
{
	const cJSON *item;
	int ret = lookup(obj, key, &item, required, err);

	if (ret)
		return ret;
	if (!cJSON_IsString(item) || !item->valuestring)
		return json_error(err, "key '%s': expected string", key);
	*out = item->valuestring;
	return 0;
}

/* Read an integral number with |value| <= JSON_INT_MAX into *@v. */
static int get_integer(const cJSON *obj, const char *key, double *v,
		       bool required, struct strbuf *err)
{
	const cJSON *item;
	int ret = lookup(obj, key, &item, required, err);

	if (ret)
		return ret;
	if (!cJSON_IsNumber(item))
		return json_error(err, "key '%s': expected integer", key);
	*v = item->valuedouble;
	/* No floor()/fabs(): common/ does not link libm. */
	if (!isfinite(*v))
		return json_error(err, "key '%s': expected integer", key);
	if (*v > (double)JSON_INT_MAX || *v < -(double)JSON_INT_MAX)
		return json_error(err, "key '%s': integer out of range", key);
	if (*v != (double)(int64_t)*v)
		return json_error(err, "key '%s': expected integer", key);
	return 0;
}

int json_get_u64(const cJSON *obj, const char *key, uint64_t *out,
		 bool required, struct strbuf *err)
{
	double v;
	int ret = get_integer(obj, key, &v, required, err);

	if (ret)
		return ret;
	if (v < 0)
		return json_error(err, "key '%s': expected non-negative "
				       "integer", key);
	*out = (uint64_t)v;
	return 0;
}

int json_get_i64(const cJSON *obj, const char *key, int64_t *out,
		 bool required, struct strbuf *err)
{
	double v;
	int ret = get_integer(obj, key, &v, required, err);

	if (ret)
		return ret;
	*out = (int64_t)v;
	return 0;
}

int json_get_bool(const cJSON *obj, const char *key, bool *out,
		  bool required, struct strbuf *err)
{
	const cJSON *item;
	int ret = lookup(obj, key, &item, required, err);

	if (ret)
		return ret;
	if (!cJSON_IsBool(item))
		return json_error(err, "key '%s': expected boolean", key);
	*out = cJSON_IsTrue(item);
	return 0;
}

int json_get_array(const cJSON *obj, const char *key, const cJSON **out,
		   bool required, struct strbuf *err)
{
	const cJSON *item;
	int ret = lookup(obj, key, &item, required, err);

	if (ret)
		return ret;
	if (!cJSON_IsArray(item))
		return json_error(err, "key '%s': expected array", key);
	*out = item;
	return 0;
}

int json_get_object(const cJSON *obj, const char *key, const cJSON **out,
		    bool required, struct strbuf *err)
{
	const cJSON *item;
	int ret = lookup(obj, key, &item, required, err);

	if (ret)
		return ret;
	if (!cJSON_IsObject(item))
		return json_error(err, "key '%s': expected object", key);
	*out = item;
	return 0;
}

char *json_print_compact(const cJSON *item)
{
	char *s = cJSON_PrintUnformatted(item);

	if (!s)
		die("out of memory, cannot print JSON");
	return s;
}

size_t utf8_sequence_len(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	size_t n, i;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;	/* continuation byte, 0xc0/0xc1, 0xf5.. */
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

char *json_print_output(const cJSON *item, bool pretty)
{
	_cleanup_free_ char *raw = pretty ? cJSON_Print(item)
					  : cJSON_PrintUnformatted(item);
	struct strbuf out = STRBUF_INIT;
	const unsigned char *p;
	size_t len, i = 0;

	if (!raw)
		die("out of memory, cannot print JSON");
	/*
	 * cJSON escapes only '"', '\\' and control characters: every byte
	 * >= 0x80 of its text lies inside a string (JSON's own syntax is
	 * ASCII), where a six-character escape may stand for it.
	 */
	p = (const unsigned char *)raw;
	len = strlen(raw);
	while (i < len) {
		size_t n = utf8_sequence_len(p + i, len - i);

		if (n) {
			strbuf_add(&out, p + i, n);
			i += n;
		} else {
			strbuf_addf(&out, "\\udc%02x", p[i]);
			i++;
		}
	}
	return strbuf_detach(&out, NULL);
}

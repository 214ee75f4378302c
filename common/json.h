/*
 * A strict layer over cJSON for reading procache's own JSON files (job
 * specs, cache entries): it rejects what it does not know instead of
 * guessing.
 *
 * Errors: functions return 0, -ENOENT or -EINVAL. On -EINVAL a message
 * for the user replaces the content of @err (when @err is not NULL),
 * lowercase without a full stop, e.g. "key 'mode': expected integer";
 * callers add context ("cannot load '%s': %s"). -ENOENT never writes
 * @err. errno is not meaningful.
 *
 * Getters look up @key case-sensitively in @obj (cJSON's plain
 * cJSON_GetObjectItem() is case-insensitive; don't use it on our files).
 * They return:
 *	0	found, right type: *@out is set
 *	-ENOENT	missing and @required is false: *@out untouched, so it can
 *		hold a default set beforehand
 *	-EINVAL	missing and @required is true ("missing required key 'k'"),
 *		present with the wrong type or value ("key 'k': expected
 *		string"), or @obj is not an object
 * JSON null counts as present with the wrong type, not as missing.
 * Pointers stored in *@out point into @obj and live as long as it does.
 */
#ifndef PROCACHE_COMMON_JSON_H
#define PROCACHE_COMMON_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/strbuf.h"

/*
 * Largest integer magnitude json_get_u64()/json_get_i64() accept:
 * 2^53 - 1. cJSON stores numbers as doubles, which are exact only up to
 * there; 2^53 + 1 in the text would silently read back as 2^53.
 */
#define JSON_INT_MAX ((uint64_t)9007199254740991ULL)

/*
 * Parse @len bytes of @text (which need not be NUL-terminated) as one
 * JSON value; only whitespace may follow it. Also rejected, though cJSON
 * would accept them: NUL bytes in the text, "\u0000" in strings (cJSON
 * strings are C strings and would be cut short) and an object with the
 * same key twice. On success *@out is the new tree, which the caller
 * frees with cJSON_Delete() (or _cleanup_cjson_). On failure *@out is
 * NULL and the return is -EINVAL with a message such as
 * "invalid JSON at offset 17". Out-of-memory inside cJSON is reported as
 * invalid JSON at some offset, since cJSON does not tell them apart.
 */
int json_parse(const char *text, size_t len, cJSON **out, struct strbuf *err);

/*
 * Check that every key of the object @obj is in @allowed, a
 * NULL-terminated array of names (compared case-sensitively). Returns 0,
 * or -EINVAL naming the first unknown key ("unknown key 'modee'") or
 * saying that @obj is not an object.
 */
int json_check_keys(const cJSON *obj, const char *const *allowed,
		    struct strbuf *err);

/* A string. */
int json_get_str(const cJSON *obj, const char *key, const char **out,
		 bool required, struct strbuf *err);
/*
 * An integer in [0, JSON_INT_MAX]. Any number with an integral value is
 * accepted ("1e3", "2.0"); fractions, negatives and larger values are
 * -EINVAL.
 */
int json_get_u64(const cJSON *obj, const char *key, uint64_t *out,
		 bool required, struct strbuf *err);
/* An integer in [-JSON_INT_MAX, JSON_INT_MAX], as json_get_u64(). */
int json_get_i64(const cJSON *obj, const char *key, int64_t *out,
		 bool required, struct strbuf *err);
/* true or false. */
int json_get_bool(const cJSON *obj, const char *key, bool *out,
		  bool required, struct strbuf *err);
/* An array (any element types; iterate with cJSON_ArrayForEach). */
int json_get_array(const cJSON *obj, const char *key, const cJSON **out,
		   bool required, struct strbuf *err);
/* An object. */
int json_get_object(const cJSON *obj, const char *key, const cJSON **out,
		    bool required, struct strbuf *err);

/*
 * @item printed as compact JSON, in a malloc'd string the caller frees
 * with free() (procache does not install cJSON hooks). Dies on
 * out-of-memory, like the x-allocators. Bytes of strings are printed as
 * they are, valid UTF-8 or not: for procache's own files (entries,
 * counters), which only procache reads back.
 */
char *json_print_compact(const cJSON *item);

/*
 * @item printed for a reader other than procache (--report, --diff-json,
 * cache ls/show/stats --json, trace --json): indented when @pretty, else
 * compact, in a malloc'd string the caller frees. The text is always
 * valid UTF-8, and no byte of a string is lost (DESIGN.md section 7,
 * "JSON outputs"): a string's valid UTF-8 is printed as it is, and each
 * byte that is not part of a valid UTF-8 sequence (overlong forms and
 * encoded surrogates included) as the escape \udcXX, XX its value in
 * lowercase hex, as Python's "surrogateescape" error handler does.
 * Valid UTF-8 never encodes U+DC80..U+DCFF, so the escape is unambiguous:
 * json.loads(text) and then s.encode("utf-8", "surrogateescape") (or
 * os.fsencode(s)) give back the bytes. Dies on out-of-memory.
 */
char *json_print_output(const cJSON *item, bool pretty);

/*
 * The length of the valid UTF-8 sequence at the start of @s (@len bytes
 * available; 1..4), or 0 when it does not start one: a stray
 * continuation byte, an overlong form, an encoded surrogate
 * (U+D800..U+DFFF), a code point above U+10FFFF or a truncated sequence.
 */
size_t utf8_sequence_len(const unsigned char *s, size_t len);

#endif

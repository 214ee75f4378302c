#include <errno.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/json.h"

#include "tests/unit/unit.h"

static cJSON *parse_ok(const char *text)
{
	struct strbuf err = STRBUF_INIT;
	cJSON *j = NULL;

	if (!CHECK_EQ_INT(json_parse(text, strlen(text), &j, &err), 0))
		unit_fail(__FILE__, __LINE__, "parse error: %s", err.buf);
	strbuf_release(&err);
	return j;
}

/* Expect json_parse() to fail with a message containing @msg. */
static void parse_fails(const char *text, size_t len, const char *msg)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	cJSON *j = (cJSON *)&j;	/* must be reset to NULL */

	CHECK_EQ_INT(json_parse(text, len, &j, &err), -EINVAL);
	CHECK(j == NULL);
	if (!CHECK(strstr(err.buf, msg)))
		unit_fail(__FILE__, __LINE__, "got '%s', want '%s'", err.buf,
			  msg);
}

TEST(test_parse)
{
	_cleanup_cjson_ cJSON *j = parse_ok(" {\"a\": [1, 2], \"b\": \"x\"}\n ");
	const char *not_terminated = "{}garbage";

	CHECK(cJSON_IsObject(j));
	/* @len bounds the text: no NUL needed after it. */
	cJSON_Delete(j);
	j = NULL;
	CHECK_EQ_INT(json_parse(not_terminated, 2, &j, NULL), 0);
	CHECK(cJSON_IsObject(j));

	parse_fails("", 0, "unexpected end of input at offset 0");
	parse_fails("{\"a\": 1", 7, "invalid JSON");
	parse_fails("{} {}", 5, "trailing data at offset 3");
	parse_fails("[1,]", 4, "invalid JSON at offset");
	parse_fails("{\"a\":1}\0", 8, "NUL byte at offset 7");
	parse_fails("[\"a\\u0000b\"]", 12, "\\u0000 in string");
	parse_fails("{\"a\":1,\"b\":{\"c\":1,\"c\":2}}", 25,
		    "duplicate key 'c'");
}

TEST(test_parse_escaped_backslash_is_not_nul)
{
	/* "\\u0000" is a backslash followed by "u0000", not a NUL. */
	_cleanup_cjson_ cJSON *j = parse_ok("[\"\\\\u0000\"]");

	if (!CHECK(j))
		return;
	CHECK_EQ_STR(cJSON_GetArrayItem(j, 0)->valuestring, "\\u0000");
}

TEST(test_check_keys)
{
	static const char *const allowed[] = { "mode", "path", NULL };
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	_cleanup_cjson_ cJSON *ok = parse_ok("{\"mode\": 1}");
	_cleanup_cjson_ cJSON *bad = parse_ok("{\"path\": \"a\", \"Mode\": 1}");
	_cleanup_cjson_ cJSON *arr = parse_ok("[]");

	CHECK_EQ_INT(json_check_keys(ok, allowed, &err), 0);
	CHECK_EQ_INT(json_check_keys(bad, allowed, &err), -EINVAL);
	CHECK_EQ_STR(err.buf, "unknown key 'Mode'");
	CHECK_EQ_INT(json_check_keys(arr, allowed, &err), -EINVAL);
	CHECK_EQ_STR(err.buf, "expected object");
}

TEST(test_getters)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	_cleanup_cjson_ cJSON *j = parse_ok(
		"{\"s\": \"str\", \"n\": 42, \"neg\": -7, \"f\": 1.5,"
		" \"b\": true, \"a\": [], \"o\": {}, \"z\": null}");
	const cJSON *sub = NULL;
	const char *s = "default";
	uint64_t u = 5;
	int64_t i = 0;
	bool b = false;

	CHECK_EQ_INT(json_get_str(j, "s", &s, true, &err), 0);
	CHECK_EQ_STR(s, "str");
	CHECK_EQ_INT(json_get_u64(j, "n", &u, true, &err), 0);
	CHECK_EQ_INT(u, 42);
	CHECK_EQ_INT(json_get_i64(j, "neg", &i, true, &err), 0);
	CHECK_EQ_INT(i, -7);
	CHECK_EQ_INT(json_get_bool(j, "b", &b, true, &err), 0);
	CHECK(b);
	CHECK_EQ_INT(json_get_array(j, "a", &sub, true, &err), 0);
	CHECK(cJSON_IsArray(sub));
	CHECK_EQ_INT(json_get_object(j, "o", &sub, true, &err), 0);
	CHECK(cJSON_IsObject(sub));

	/* Missing, not required: -ENOENT, output and err untouched. */
	strbuf_reset(&err);
	s = "default";
	CHECK_EQ_INT(json_get_str(j, "nope", &s, false, &err), -ENOENT);
	CHECK_EQ_STR(s, "default");
	CHECK_EQ_STR(err.buf, "");
	/* Lookups are case-sensitive. */
	CHECK_EQ_INT(json_get_str(j, "S", &s, false, &err), -ENOENT);

	/* Missing and required. */
	CHECK_EQ_INT(json_get_u64(j, "mode", &u, true, &err), -EINVAL);
	CHECK_EQ_STR(err.buf, "missing required key 'mode'");

	/* Wrong types, null included. */
	CHECK_EQ_INT(json_get_u64(j, "s", &u, true, &err), -EINVAL);
	CHECK_EQ_STR(err.buf, "key 's': expected integer");
	CHECK_EQ_INT(json_get_u64(j, "f", &u, false, &err), -EINVAL);
	CHECK_EQ_STR(err.buf, "key 'f': expected integer");
	CHECK_EQ_INT(json_get_str(j, "n", &s, true, &err), -EINVAL);
	CHECK_EQ_STR(err.buf, "key 'n': expected string");
	CHECK_EQ_INT(json_get_bool(j, "z", &b, false, &err), -EINVAL);
	CHECK_EQ_STR(err.buf, "key 'z': expected boolean");
	CHECK_EQ_INT(json_get_array(j, "o", &sub, true, &err), -EINVAL);
	CHECK_EQ_STR(err.buf, "key 'o': expected array");
	CHECK_EQ_INT(json_get_object(j, "a", &sub, true, &err), -EINVAL);
	CHECK_EQ_STR(err.buf, "key 'a': expected object");
	CHECK_EQ_INT(json_get_u64(j, "neg", &u, true, &err), -EINVAL);
	CHECK_EQ_STR(err.buf, "key 'neg': expected non-negative integer");

	/* Not an object. */
	CHECK_EQ_INT(json_get_str(sub, "x", &s, true, &err), -EINVAL);
	/* err may be NULL. */
	CHECK_EQ_INT(json_get_str(j, "n", &s, true, NULL), -EINVAL);
}

TEST(test_u64_bounds)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	_cleanup_cjson_ cJSON *j = parse_ok(
		"{\"zero\": 0, \"max\": 9007199254740991,"
		" \"over\": 9007199254740992, \"huge\": 1e300,"
		" \"exp\": 1e3, \"negzero\": -0, \"nmax\": -9007199254740991}");
	uint64_t u = 1;
	int64_t i = 0;

	CHECK_EQ_INT(json_get_u64(j, "zero", &u, true, &err), 0);
	CHECK_EQ_INT(u, 0);
	CHECK_EQ_INT(json_get_u64(j, "max", &u, true, &err), 0);
	CHECK(u == JSON_INT_MAX);
	CHECK_EQ_INT(json_get_u64(j, "over", &u, true, &err), -EINVAL);
	CHECK_EQ_STR(err.buf, "key 'over': integer out of range");
	CHECK_EQ_INT(json_get_u64(j, "huge", &u, true, &err), -EINVAL);
	CHECK_EQ_INT(json_get_u64(j, "exp", &u, true, &err), 0);
	CHECK_EQ_INT(u, 1000);
	CHECK_EQ_INT(json_get_u64(j, "negzero", &u, true, &err), 0);
	CHECK_EQ_INT(u, 0);
	CHECK_EQ_INT(json_get_i64(j, "nmax", &i, true, &err), 0);
	CHECK(i == -(int64_t)JSON_INT_MAX);
	CHECK_EQ_INT(json_get_i64(j, "huge", &i, true, &err), -EINVAL);
}

TEST(test_print_compact)
{
	_cleanup_cjson_ cJSON *j = parse_ok("{ \"a\" : [ 1, true, \"x\" ] }");
	_cleanup_free_ char *s = json_print_compact(j);

	CHECK_EQ_STR(s, "{\"a\":[1,true,\"x\"]}");
}

TEST(test_print_output)
{
	_cleanup_cjson_ cJSON *j = cJSON_CreateObject();
	_cleanup_free_ char *s = NULL;

	/* valid UTF-8 (2, 3 and 4 bytes) as is; everything else escaped */
	cJSON_AddStringToObject(j, "ok", "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	cJSON_AddStringToObject(j, "bad", "f\xff\xfe");
	cJSON_AddStringToObject(j, "overlong", "\xc0\xaf");
	cJSON_AddStringToObject(j, "surrogate", "\xed\xb3\xbf");
	cJSON_AddStringToObject(j, "cut", "x\xe2\x82");
	cJSON_AddStringToObject(j, "big", "\xf4\x90\x80\x80");
	cJSON_AddStringToObject(j, "lit", "\\udcff");
	s = json_print_output(j, false);
	CHECK_EQ_STR(s, "{\"ok\":\"a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\","
			"\"bad\":\"f\\udcff\\udcfe\","
			"\"overlong\":\"\\udcc0\\udcaf\","
			"\"surrogate\":\"\\udced\\udcb3\\udcbf\","
			"\"cut\":\"x\\udce2\\udc82\","
			"\"big\":\"\\udcf4\\udc90\\udc80\\udc80\","
			"\"lit\":\"\\\\udcff\"}");
	CHECK_EQ_INT(utf8_sequence_len((const unsigned char *)"\xe2\x82\xac", 3), 3);
	CHECK_EQ_INT(utf8_sequence_len((const unsigned char *)"\xe2\x82\xac", 2), 0);
	CHECK_EQ_INT(utf8_sequence_len((const unsigned char *)"\x80", 1), 0);
	CHECK_EQ_INT(utf8_sequence_len((const unsigned char *)"\xe0\x80\x80", 3), 0);
	CHECK_EQ_INT(utf8_sequence_len((const unsigned char *)"\xf0\x80\x80\x80", 4), 0);
}

int main(void)
{
	RUN(test_parse);
	RUN(test_parse_escaped_backslash_is_not_nul);
	RUN(test_check_keys);
	RUN(test_getters);
	RUN(test_u64_bounds);
	RUN(test_print_compact);
	RUN(test_print_output);
	return unit_done();
}

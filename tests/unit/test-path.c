#include <stdlib.h>

#include "common/path.h"

#include "tests/unit/unit.h"

/* Check a function returning a malloc'd string, and free it. */
#define CHECK_PATH(expr, want)                                               \
	do {                                                                 \
		char *got_ = (expr);                                         \
		CHECK_EQ_STR(got_, want);                                    \
		free(got_);                                                  \
	} while (0)

TEST(test_join)
{
	CHECK_PATH(path_join("a", "b"), "a/b");
	CHECK_PATH(path_join("a/", "b"), "a/b");
	CHECK_PATH(path_join("a//", "//b"), "a/b");
	CHECK_PATH(path_join("/", "b"), "/b");
	CHECK_PATH(path_join("/", "/b"), "/b");
	CHECK_PATH(path_join("/x", "/y"), "/x/y");
	CHECK_PATH(path_join("", "b"), "b");
	CHECK_PATH(path_join("a", ""), "a");
	CHECK_PATH(path_join("a", "b/"), "a/b/");
}

TEST(test_clean)
{
	CHECK_PATH(path_clean("a//./b/"), "a/b");
	CHECK_PATH(path_clean("/./"), "/");
	CHECK_PATH(path_clean("/"), "/");
	CHECK_PATH(path_clean("//"), "/");
	CHECK_PATH(path_clean(""), ".");
	CHECK_PATH(path_clean("."), ".");
	CHECK_PATH(path_clean("./"), ".");
	CHECK_PATH(path_clean("./a/../b"), "a/../b");
	CHECK_PATH(path_clean("/a/./b/./"), "/a/b");
	CHECK_PATH(path_clean(".."), "..");
	CHECK_PATH(path_clean("a/.b/..c"), "a/.b/..c");
}

TEST(test_safe_relative)
{
	CHECK(path_is_safe_relative("a"));
	CHECK(path_is_safe_relative("a/b/c"));
	CHECK(path_is_safe_relative(".hidden/..x/x.."));
	CHECK(path_is_safe_relative("..."));
	CHECK(!path_is_safe_relative(""));
	CHECK(!path_is_safe_relative("/a"));
	CHECK(!path_is_safe_relative("a/"));
	CHECK(!path_is_safe_relative("a//b"));
	CHECK(!path_is_safe_relative("."));
	CHECK(!path_is_safe_relative("./a"));
	CHECK(!path_is_safe_relative("a/."));
	CHECK(!path_is_safe_relative(".."));
	CHECK(!path_is_safe_relative("a/../b"));
	CHECK(!path_is_safe_relative("a/.."));
	CHECK(path_is_safe_relative_len("ab", 2));
	CHECK(path_is_safe_relative_len("abc", 2));
	CHECK(!path_is_safe_relative_len("a\0b", 3));
	CHECK(!path_is_safe_relative_len("a", 0));
}

TEST(test_prefix_and_beneath)
{
	CHECK(path_has_prefix_component("a/b/c", "a/b"));
	CHECK(path_has_prefix_component("a/b", "a/b"));
	CHECK(path_has_prefix_component("a/b", "a/b/"));
	CHECK(!path_has_prefix_component("a/bc", "a/b"));
	CHECK(!path_has_prefix_component("a", "a/b"));
	CHECK(!path_has_prefix_component("a", ""));

	CHECK(path_is_beneath("/a/b/c", "/a/b"));
	CHECK(path_is_beneath("/a/b", "/a/b"));
	CHECK(!path_is_beneath("/a/bc", "/a/b"));
	CHECK(!path_is_beneath("/a", "/a/b"));
	CHECK(path_is_beneath("/x", "/"));
	CHECK(path_is_beneath("/", "/"));
	CHECK(!path_is_beneath("a/b", "a"));
	CHECK(!path_is_beneath("/a/b", "a"));
	CHECK(!path_is_beneath("/a/../etc", "/a"));
	CHECK(path_is_beneath("/a/..b", "/a"));
}

TEST(test_escape_mount_opt)
{
	CHECK_PATH(path_escape_mount_opt("/plain/path"), "/plain/path");
	CHECK_PATH(path_escape_mount_opt("/a,b:c\\d"), "/a\\,b\\:c\\\\d");
	CHECK_PATH(path_escape_mount_opt("a b\tc\nd"), "a\\ b\\\tc\\\nd");
	CHECK_PATH(path_escape_mount_opt(""), "");
}

TEST(test_dirname_basename)
{
	CHECK_PATH(path_dirname("/a/b"), "/a");
	CHECK_PATH(path_dirname("a/b/"), "a");
	CHECK_PATH(path_dirname("a//b"), "a");
	CHECK_PATH(path_dirname("a"), ".");
	CHECK_PATH(path_dirname("/"), "/");
	CHECK_PATH(path_dirname("/a"), "/");
	CHECK_PATH(path_dirname("//a"), "/");
	CHECK_PATH(path_dirname(""), ".");

	CHECK_PATH(path_basename("/a/b"), "b");
	CHECK_PATH(path_basename("a/b/"), "b");
	CHECK_PATH(path_basename("a"), "a");
	CHECK_PATH(path_basename("/"), "/");
	CHECK_PATH(path_basename("//"), "/");
	CHECK_PATH(path_basename(""), ".");
}

int main(void)
{
	RUN(test_join);
	RUN(test_clean);
	RUN(test_safe_relative);
	RUN(test_prefix_and_beneath);
	RUN(test_escape_mount_opt);
	RUN(test_dirname_basename);
	return unit_done();
}

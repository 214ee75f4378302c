/* Unit tests for runner/explain.c: the remedies --explain and -v name. */
#include <stdio.h>
#include <string.h>

#include "runner/explain.h"
#include "tests/unit/unit.h"

TEST(state_remedy_by_tool)
{
	CHECK(strstr(explain_state_remedy("/p/.pytest_cache/v/cache/lastfailed"),
		     "-p no:cacheprovider"));
	CHECK(strstr(explain_state_remedy("/p/.hypothesis/examples/x"),
		     "database=None"));
	CHECK(strstr(explain_state_remedy("/p/build/.ninja_log"), "ninja"));
	CHECK(strstr(explain_state_remedy("/p/.pytest_cache"), "pytest"));
	/* a component, not a substring of one */
	CHECK(!strstr(explain_state_remedy("/p/my.pytest_cache.txt"), "pytest"));
	CHECK(strstr(explain_state_remedy("/p/state.json"), "outside the tree"));
}

TEST(uncacheable_remedy)
{
	CHECK(strstr(explain_uncacheable_remedy("stdin is a terminal"), "</dev/null"));
	CHECK(strstr(explain_uncacheable_remedy("timed out after 1 s"), "--timeout"));
	CHECK(strstr(explain_uncacheable_remedy("syscall connect: host unix socket /run/x"),
		     "--mask"));
	CHECK(strstr(explain_uncacheable_remedy("shares the host network (--net)"), "drop --net"));
	CHECK(strstr(explain_uncacheable_remedy("killed by the OOM killer"), "--memory"));
	CHECK(strstr(explain_uncacheable_remedy("syscall foo: something new"), "procache trace"));
	CHECK(explain_uncacheable_remedy("exited with status 1 and --no-cache-failures "
					 "stores only successes") == NULL);
}

TEST(print_nothing_without_reasons)
{
	char buf[256] = "";
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	CHECK(f != NULL);
	explain_print(NULL, f, false);
	fclose(f);
	CHECK_EQ_STR(buf, "");
}

int main(void)
{
	RUN(state_remedy_by_tool);
	RUN(uncacheable_remedy);
	RUN(print_nothing_without_reasons);
	return unit_done();
}

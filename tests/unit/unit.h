/*
 * A single-header harness for the C unit tests in tests/unit/.
 *
 * A test file looks like:
 *
 *	#include "tests/unit/unit.h"
 *
 *	TEST(test_addch)
 *	{
 *		CHECK(1 + 1 == 2);
 *		CHECK_EQ_STR(s, "abc");
 *	}
 *
 *	int main(void)
 *	{
 *		RUN(test_addch);
 *		return unit_done();
 *	}
 *
 * Output protocol (TAP-like; the test runner counts these lines across
 * unit and shell tests), one line per test, numbered from 1 per binary:
 *
 *	ok 1 - test-strbuf.c: test_addch
 *	not ok 2 - test-strbuf.c: test_grow
 *	#   tests/unit/test-strbuf.c:42: CHECK(sb.len == 3) failed
 *
 * A failing check does not stop its test; every CHECK* macro is an
 * expression that is true when the check passed, so a test can bail
 * out with "if (!CHECK(fd >= 0)) return;". The binary exits 1 if any
 * test failed, else 0 (unit_done()). No plan line ("1..N") is printed.
 *
 * unit_tmpdir() gives a fresh directory under $TMPDIR (or /tmp) per
 * call; all of them are removed with rm_rf_at() at exit.
 */
#ifndef PROCACHE_TESTS_UNIT_H
#define PROCACHE_TESTS_UNIT_H

#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/die.h"
#include "common/fdio.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

#define UNIT_UNUSED __attribute__((unused))

#define TEST(name) static void name(void)
#define RUN(fn) unit_run(__FILE__, #fn, fn)

#define CHECK(cond) unit_check(!!(cond), __FILE__, __LINE__, "CHECK(" #cond ")")

#define CHECK_EQ_INT(a, b)                                                   \
	unit_check_int((intmax_t)(a), (intmax_t)(b), __FILE__, __LINE__,     \
		       "CHECK_EQ_INT(" #a ", " #b ")")

#define CHECK_EQ_STR(a, b)                                                   \
	unit_check_str((a), (b), __FILE__, __LINE__,                         \
		       "CHECK_EQ_STR(" #a ", " #b ")")

/* Compare @alen bytes at @a with @blen bytes at @b. */
#define CHECK_EQ_MEM(a, alen, b, blen)                                       \
	unit_check_mem((a), (alen), (b), (blen), __FILE__, __LINE__,         \
		       "CHECK_EQ_MEM(" #a ", " #b ")")

static int unit_count;
static int unit_failed_tests;
static bool unit_current_failed;
static struct strbuf unit_report = STRBUF_INIT;
static char **unit_tmpdirs;
static size_t unit_tmpdirs_nr, unit_tmpdirs_alloc;

UNIT_UNUSED __attribute__((format(printf, 3, 4))) static void
unit_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	unit_current_failed = true;
	strbuf_addf(&unit_report, "#   %s:%d: ", file, line);
	va_start(ap, fmt);
	strbuf_vaddf(&unit_report, fmt, ap);
	va_end(ap);
	strbuf_addch(&unit_report, '\n');
}

UNIT_UNUSED static bool unit_check(bool ok, const char *file, int line,
				   const char *expr)
{
	if (!ok)
		unit_fail(file, line, "%s failed", expr);
	return ok;
}

UNIT_UNUSED static bool unit_check_int(intmax_t a, intmax_t b,
				       const char *file, int line,
				       const char *expr)
{
	if (a != b)
		unit_fail(file, line, "%s failed: %jd != %jd", expr, a, b);
	return a == b;
}

UNIT_UNUSED static bool unit_check_str(const char *a, const char *b,
				       const char *file, int line,
				       const char *expr)
{
	bool ok = a && b ? !strcmp(a, b) : a == b;

	if (!ok)
		unit_fail(file, line, "%s failed: \"%s\" != \"%s\"", expr,
			  a ? a : "(null)", b ? b : "(null)");
	return ok;
}

UNIT_UNUSED static bool unit_check_mem(const void *a, size_t alen,
				       const void *b, size_t blen,
				       const char *file, int line,
				       const char *expr)
{
	bool ok = alen == blen && (!alen || !memcmp(a, b, alen));

	if (!ok)
		unit_fail(file, line, "%s failed (lengths %zu and %zu)", expr,
			  alen, blen);
	return ok;
}

UNIT_UNUSED static void unit_run(const char *file, const char *name,
				 void (*fn)(void))
{
	const char *base = strrchr(file, '/');

	if (!unit_count)
		setvbuf(stdout, NULL, _IOLBF, 0);
	unit_current_failed = false;
	strbuf_reset(&unit_report);
	fn();
	unit_count++;
	printf("%s %d - %s: %s\n", unit_current_failed ? "not ok" : "ok",
	       unit_count, base ? base + 1 : file, name);
	if (unit_current_failed) {
		unit_failed_tests++;
		fputs(unit_report.buf, stdout);
	}
	fflush(stdout);
}

UNIT_UNUSED static void unit_remove_tmpdirs(void)
{
	size_t i;

	for (i = 0; i < unit_tmpdirs_nr; i++) {
		int r = rm_rf_at(AT_FDCWD, unit_tmpdirs[i]);

		if (r < 0)
			fprintf(stderr, "# cannot remove '%s': %s\n",
				unit_tmpdirs[i], strerror(-r));
		free(unit_tmpdirs[i]);
	}
	free(unit_tmpdirs);
	unit_tmpdirs = NULL;
	unit_tmpdirs_nr = 0;
}

/*
 * A new empty directory; the path is owned by the harness and valid until
 * exit. Dies if it cannot be created.
 */
UNIT_UNUSED static const char *unit_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *path;

	if (!base || !*base)
		base = "/tmp";
	path = xasprintf("%s/procache-unit.XXXXXX", base);
	if (!mkdtemp(path))
		die_errno("cannot create temporary directory '%s'", path);
	if (!unit_tmpdirs_alloc)
		atexit(unit_remove_tmpdirs);
	ALLOC_GROW(unit_tmpdirs, unit_tmpdirs_nr + 1, unit_tmpdirs_alloc);
	unit_tmpdirs[unit_tmpdirs_nr++] = path;
	return path;
}

/* Print nothing more; return the exit status for main(). */
UNIT_UNUSED static int unit_done(void)
{
	strbuf_release(&unit_report);
	return unit_failed_tests ? 1 : 0;
}

#endif

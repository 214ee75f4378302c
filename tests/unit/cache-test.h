/*
 * Helpers the cache's unit tests share (test-lookup.c, test-lookup-at.c):
 * a fresh cache under unit_tmpdir(), a small file written whole.
 * Include after tests/unit/unit.h.
 */
#ifndef PROCACHE_TESTS_UNIT_CACHE_TEST_H
#define PROCACHE_TESTS_UNIT_CACHE_TEST_H

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cache/cache.h"
#include "common/die.h"
#include "common/fdio.h"
#include "common/path.h"
#include "common/strbuf.h"

UNIT_UNUSED static struct cache *open_tmp_cache(void)
{
	struct strbuf err = STRBUF_INIT;
	char *dir = path_join(unit_tmpdir(), "cache");
	struct cache *c = NULL;

	if (cache_open(dir, 0, &c, &err) < 0)
		die("cache_open: %s", err.buf);
	free(dir);
	strbuf_release(&err);
	return c;
}

UNIT_UNUSED static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write_full(fd, text, strlen(text)) < 0)
		die_errno("cannot write '%s'", path);
	close(fd);
}

#endif

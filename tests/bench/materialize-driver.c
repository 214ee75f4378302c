/*
 * Driver for tests/bench/materialize.sh (built by `make bench-bins`, run by
 * `make bench`): materializes a tree with mat_apply(), as a cache hit
 * would, and prints how long mat_apply() took.
 *
 *	materialize-driver [--serial] SRC DEST
 *
 * Every directory, regular file and symlink under SRC becomes a change
 * at the same place under DEST (DEST itself is the output root; its
 * parent must exist). File contents are hashed before the clock starts,
 * as the blob store already knows them. --serial: MAT_SERIAL, no copy
 * workers (the one-thread figure). Prints one line:
 *
 *	<seconds> <changes> <applied> <unchanged> <files written> <bytes written>
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache/materialize.h"
#include "common/die.h"
#include "common/hash.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

static struct mat_change *changes;
static size_t changes_nr, changes_alloc;
static char **strings;
static size_t strings_nr, strings_alloc;
static const char *src_top, *dest_top;
static unsigned mat_flags;

static char *keep(char *s)
{
	ALLOC_GROW(strings, strings_nr + 1, strings_alloc);
	strings[strings_nr++] = s;
	return s;
}

static void release_all(void)
{
	size_t i;

	for (i = 0; i < strings_nr; i++)
		free(strings[i]);
	free(strings);
	free(changes);
	strings = NULL;
	changes = NULL;
	strings_nr = strings_alloc = changes_nr = changes_alloc = 0;
}

static int add_one(const char *path, const struct stat *st, int flag,
		   struct FTW *ftw)
{
	const char *rel = path + strlen(src_top);
	struct mat_change c = { .src_dirfd = AT_FDCWD };

	(void)flag;
	(void)ftw;
	c.path = keep(xasprintf("%s%s", dest_top, rel));
	c.mode = st->st_mode & 07777;
	if (S_ISDIR(st->st_mode)) {
		c.kind = CHANGE_DIR;
	} else if (S_ISREG(st->st_mode)) {
		c.kind = CHANGE_FILE;
		c.src_path = keep(xstrdup(path));
		c.size = st->st_size;
		c.has_hash = true;
		if (pc_hash_file_at(AT_FDCWD, path, &c.hash, NULL) < 0)
			die_errno("cannot hash '%s'", path);
	} else if (S_ISLNK(st->st_mode)) {
		char t[PATH_MAX];
		ssize_t n = readlink(path, t, sizeof(t) - 1);

		if (n < 0)
			die_errno("readlink '%s'", path);
		c.kind = CHANGE_SYMLINK;
		c.target = keep(xstrndup(t, (size_t)n));
	} else {
		die("'%s': unsupported file type", path);
	}
	ALLOC_GROW(changes, changes_nr + 1, changes_alloc);
	changes[changes_nr++] = c;
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Build the changes for SRC -> DEST and apply them; returns mat_apply(). */
static int materialize(const char *src, const char *dest,
		       struct mat_report *rep, struct strbuf *err,
		       double *secs)
{
	const char *roots[] = { dest, NULL };
	double t0;
	int r;

	src_top = src;
	dest_top = dest;
	if (nftw(src, add_one, 64, FTW_PHYS) < 0)
		die_errno("cannot walk '%s'", src);
	t0 = now();
	r = mat_apply(changes, changes_nr, roots, mat_flags, rep, err);
	*secs = now() - t0;
	return r;
}

int main(int argc, char **argv)
{
	struct mat_report rep;
	struct strbuf err = STRBUF_INIT;
	double secs;
	int r;

	if (argc == 4 && !strcmp(argv[1], "--serial")) {
		mat_flags = MAT_SERIAL;
		argv++;
		argc--;
	}
	if (argc != 3 || argv[1][0] != '/' || argv[2][0] != '/')
		die("usage: materialize-driver [--serial] /abs/SRC /abs/DEST");
	mat_report_init(&rep);
	r = materialize(argv[1], argv[2], &rep, &err, &secs);
	if (r < 0)
		die("%s", err.buf);
	printf("%.6f %zu %zu %zu %zu %llu\n", secs, rep.nr, rep.applied,
	       rep.unchanged, rep.files_written,
	       (unsigned long long)rep.bytes_written);
	mat_report_release(&rep);
	strbuf_release(&err);
	release_all();
	return 0;
}

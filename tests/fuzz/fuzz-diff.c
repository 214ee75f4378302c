/*
 * libFuzzer target for the diff reader (sbx_diff_read_layers() in
 * sandbox/diff.c): the upper directory is written by the job, so what the
 * reader walks is untrusted.
 *
 * Each input is a program of 4-byte operations that builds an upper and
 * a lower directory in a scratch directory ($FUZZ_SCRATCH, else /tmp):
 * directories, files of any size, symlinks to any target (`..`, absolute,
 * long), whiteouts (0/0 character devices), opaque markers with right and
 * wrong values, fifos, modes, hard links, names with spaces, newlines and
 * non-UTF-8 bytes, up to 8 levels deep. The reader's change list is then
 * compared with one computed here, independently, from the table at the
 * top of sandbox/diff.c: the same paths (mount point + relative path, no
 * `.`/`..`/empty component), sorted bytewise, no duplicates, the same
 * kinds, sizes, modes and targets, and each FILE's upper path the file.
 *
 * Needs root (whiteouts are character devices, trusted.* xattrs).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/strbuf.h"
#include "sandbox/sandbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char scratch[PATH_MAX];

static const char *const names[] = {
	"a", "b", "a b", "x\ny", "\xff\xfe", ".h", "a-c",
	"LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL",
};
#define NR_NAMES (sizeof(names) / sizeof(names[0]))

/* Relative directories made so far in the upper (index 0: the root). */
static char *dirs[64];
static size_t nr_dirs;

struct want {
	enum change_kind kind;
	char *path;
	mode_t mode;
	off_t size;
	char *target;
};
static struct want wants[4096];
static size_t nr_wants;

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(p);
}

static void rm_tree(const char *p)
{
	nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void rm_scratch(void)
{
	rm_tree(scratch);
}

static char *join(const char *a, const char *b)
{
	char *s;

	if (asprintf(&s, "%s%s%s", a, *a && *b ? "/" : "", b) < 0)
		abort();
	return s;
}

/* mkdir -p of @rel below @top (lower trees need parents). */
static void mkdirs(const char *top, const char *rel)
{
	char *p = join(top, rel);

	for (char *s = p + strlen(top); *s; s++) {
		if (*s == '/' && s > p + strlen(top)) {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	}
	mkdir(p, 0755);
	free(p);
}

static void build(const uint8_t *d, size_t n, const char *up, const char *low,
		  const char *marker)
{
	nr_dirs = 0;
	dirs[nr_dirs++] = strdup("");
	for (size_t i = 0; i + 4 <= n && i < 4 * 48; i += 4) {
		const char *dir = dirs[d[i + 2] % nr_dirs];
		char *rel = join(dir, names[d[i + 1] % NR_NAMES]);
		char *u = join(up, rel), *l = join(low, rel);
		unsigned arg = d[i + 3];
		int fd;

		switch (d[i] % 12) {
		case 0: { /* a directory in the upper, at most 8 deep */
			size_t depth = 0;

			for (const char *s = rel; *s; s++)
				depth += *s == '/';
			if ((mkdir(u, 0755) == 0 || errno == EEXIST) &&
			    nr_dirs < 64 && depth < 8)
				dirs[nr_dirs++] = strdup(rel);
			break;
		}
		case 1: /* a file of arg * 37 bytes */
			fd = open(u, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK, 0644);
			if (fd >= 0) {
				for (unsigned k = 0; k < arg * 37; k++)
					if (write(fd, "z", 1) != 1)
						break;
				close(fd);
			}
			break;
		case 2: { /* a symlink to a target taken from the input */
			char t[64];
			size_t len = arg % 48;

			if (i + 4 + len > n)
				len = n - i - 4;
			memcpy(t, d + i + 4, len);
			t[len] = '\0';
			if (!t[0])
				strcpy(t, "../../etc/passwd");
			symlink(t, u);
			break;
		}
		case 3: /* a whiteout */
			mknod(u, S_IFCHR | 0, makedev(0, 0));
			break;
		case 4: /* an opaque marker, right or wrong */
			lsetxattr(u, marker, arg & 1 ? "y" : arg & 2 ? "n" : "yy",
				 arg & 1 ? 1 : arg & 2 ? 1 : 2, 0);
			break;
		case 5: /* the other marker (userxattr or not) */
			lsetxattr(u, strcmp(marker, "user.overlay.opaque") ?
					    "user.overlay.opaque" : "trusted.overlay.opaque",
				 "y", 1, 0);
			break;
		case 6: /* a fifo */
			mkfifo(u, 0644);
			break;
		case 7: /* a lower directory */
			mkdirs(low, rel);
			break;
		case 8: /* a lower file */
			mkdirs(low, dir);
			fd = open(l, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK, 0644);
			if (fd >= 0)
				close(fd);
			break;
		case 9: /* a mode */
			/* never through a symlink the input made (one to
			 * "/" chmod'ed the host's root) */
			fchmodat(AT_FDCWD, u, (arg * 7) & 07777, AT_SYMLINK_NOFOLLOW);
			break;
		case 10: /* a lower mode */
			fchmodat(AT_FDCWD, l, (arg * 5) & 07777, AT_SYMLINK_NOFOLLOW);
			break;
		case 11: { /* a hard link to a file made earlier */
			char *r2 = join(dirs[arg % nr_dirs], "hl");
			char *u2 = join(up, r2);

			link(u, u2);
			free(r2);
			free(u2);
			break;
		}
		}
		free(rel);
		free(u);
		free(l);
	}
}

/* The table at the top of sandbox/diff.c, applied from here. */
static void expect_walk(const char *up, const char *low, const char *mnt,
			const char *rel, bool hidden, const char *marker)
{
	char *ud = join(up, rel);
	DIR *dd = opendir(ud);
	struct dirent *de;

	if (!dd)
		abort();
	while ((de = readdir(dd))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *r = join(rel, de->d_name);
		char *u = join(up, r), *l = join(low, r);
		struct stat st, lst;
		bool has_lower = !hidden && lstat(l, &lst) == 0;
		struct want *w = &wants[nr_wants];
		bool walk = false, children_hidden = hidden;
		char v[8];

		if (nr_wants >= 4096 || lstat(u, &st) < 0)
			abort();
		memset(w, 0, sizeof(*w));
		if (asprintf(&w->path, "%s%s%s", mnt, strcmp(mnt, "/") ? "/" : "", r) < 0)
			abort();
		w->mode = st.st_mode & 07777;
		if (S_ISREG(st.st_mode)) {
			w->kind = CHANGE_FILE;
			w->size = st.st_size;
		} else if (S_ISDIR(st.st_mode)) {
			ssize_t vl = getxattr(u, marker, v, sizeof(v));

			walk = true;
			if (vl == 1 && v[0] == 'y') {
				w->kind = CHANGE_DIR_REPLACED;
				children_hidden = true;
			} else if (!has_lower || !S_ISDIR(lst.st_mode)) {
				w->kind = CHANGE_DIR;
				children_hidden = true;
			} else if ((lst.st_mode & 07777) == (st.st_mode & 07777) &&
				   /*
				    * the other marker (case 5) is an ordinary
				    * attribute the lower lacks: a MODE change
				    */
				   getxattr(u, strcmp(marker, "user.overlay.opaque") ?
						       "user.overlay.opaque" :
						       "trusted.overlay.opaque",
					    v, sizeof(v)) < 0) {
				free(w->path);
				w = NULL;
			} else {
				w->kind = CHANGE_MODE;
			}
		} else if (S_ISLNK(st.st_mode)) {
			char t[PATH_MAX];
			ssize_t tl = readlink(u, t, sizeof(t) - 1);

			if (tl < 0)
				abort();
			t[tl] = '\0';
			w->kind = CHANGE_SYMLINK;
			w->target = strdup(t);
		} else if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
			w->kind = CHANGE_DELETE;
		} else {
			w->kind = CHANGE_SPECIAL;
		}
		if (w)
			nr_wants++;
		if (walk)
			expect_walk(up, low, mnt, r, children_hidden, marker);
		free(r);
		free(u);
		free(l);
	}
	closedir(dd);
	free(ud);
}

static int cmp_want(const void *a, const void *b)
{
	return strcmp(((const struct want *)a)->path, ((const struct want *)b)->path);
}

static void path_is_clean(const char *p)
{
	if (p[0] != '/' || strstr(p, "//") || strstr(p, "/./") ||
	    strstr(p, "/../") || (strlen(p) > 1 && p[strlen(p) - 1] == '/'))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned long n;
	struct sbx_change *ch = NULL;
	struct strbuf err = STRBUF_INIT;
	size_t nr = 0, i;
	char top[PATH_MAX + 64], up[PATH_MAX + 80], low[PATH_MAX + 80];
	bool userxattr;
	const char *mnt, *marker;
	struct sbx_layer layer;

	if (size < 1)
		return 0;
	if (!scratch[0]) {
		const char *s = getenv("FUZZ_SCRATCH");

		snprintf(scratch, sizeof(scratch), "%s/fuzz-diff.%ld",
			 s && *s ? s : "/tmp", (long)getpid());
		mkdir(scratch, 0700);
		atexit(rm_scratch);
	}
	userxattr = data[0] & 1;
	mnt = data[0] & 2 ? "/" : "/m n/t";
	marker = userxattr ? "user.overlay.opaque" : "trusted.overlay.opaque";
	snprintf(top, sizeof(top), "%s/%lu", scratch, n++);
	snprintf(up, sizeof(up), "%s/upper", top);
	snprintf(low, sizeof(low), "%s/lower", top);
	mkdir(top, 0700);
	mkdir(up, 0755);
	mkdir(low, 0755);
	umask(0);
	build(data + 1, size - 1, up, low, marker);

	layer.mountpoint = (char *)mnt;
	layer.lower = low;
	layer.upper = up;
	layer.work = NULL;
	if (sbx_diff_read_layers(&layer, 1, userxattr, &ch, &nr, &err) < 0) {
		/* Everything here is readable by root: an error is a bug. */
		fprintf(stderr, "diff failed: %s\n", err.buf);
		abort();
	}
	nr_wants = 0;
	expect_walk(up, low, mnt, "", false, marker);
	qsort(wants, nr_wants, sizeof(*wants), cmp_want);

	if (nr != nr_wants) {
		fprintf(stderr, "%zu changes, %zu expected\n", nr, nr_wants);
		abort();
	}
	for (i = 0; i < nr; i++) {
		const struct sbx_change *c = &ch[i];
		const struct want *w = &wants[i];

		path_is_clean(c->path);
		if (i && strcmp(ch[i - 1].path, c->path) >= 0)
			abort(); /* sorted, no duplicate */
		if (strcmp(c->path, w->path) || c->kind != w->kind) {
			fprintf(stderr, "change %zu: kind %d '%s', expected kind %d '%s'\n",
				i, c->kind, c->path, w->kind, w->path);
			abort();
		}
		if (c->kind == CHANGE_FILE) {
			struct stat st;

			if (c->size != w->size || (c->mode & 07777) != w->mode ||
			    !c->upper_path || lstat(c->upper_path, &st) < 0 ||
			    !S_ISREG(st.st_mode) || st.st_size != c->size)
				abort();
		}
		if (c->kind == CHANGE_MODE && (c->mode & 07777) != w->mode)
			abort();
		if (c->kind == CHANGE_SYMLINK &&
		    (!c->target || strcmp(c->target, w->target)))
			abort();
	}
	sbx_changes_free(ch, nr);
	for (i = 0; i < nr_wants; i++) {
		free(wants[i].path);
		free(wants[i].target);
	}
	for (i = 0; i < nr_dirs; i++)
		free(dirs[i]);
	strbuf_release(&err);
	rm_tree(top);
	return 0;
}

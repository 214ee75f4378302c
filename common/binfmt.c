/*
 * The host's binfmt_misc registrations (contract in common/binfmt.h).
 * A registration file reads (Documentation/admin-guide/binfmt-misc.rst):
 *	enabled|disabled
 *	interpreter PATH
 *	flags: F...
 *	offset N          (magic)
 *	magic HEX         (magic)
 *	mask HEX          (magic, optional)
 *	extension .EXT    (instead of offset and magic)
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/binfmt.h"
#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/hash.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/banned.h"

#define BINFMT_DIR "/proc/sys/fs/binfmt_misc"

/* The hexadecimal string @hex as bytes into @out (@max), or -1. */
static ssize_t unhex(const char *hex, unsigned char *out, size_t max)
{
	size_t n = 0;

	for (; hex[0] && hex[0] != '\n'; hex += 2) {
		unsigned v;

		if (n == max || !isxdigit((unsigned char)hex[0]) ||
		    !isxdigit((unsigned char)hex[1]) || sscanf(hex, "%2x", &v) != 1)
			return -1;
		out[n++] = (unsigned char)v;
	}
	return (ssize_t)n;
}

/* Does the enabled registration @text (one /proc/sys/fs/binfmt_misc file)
 * take the file @path that starts with @buf (@n bytes)? */
static bool binfmt_entry_takes(const char *text, const char *path,
			       const unsigned char *buf, ssize_t n)
{
	unsigned char magic[128], mask[128];
	const char *p, *base = strrchr(path, '/');
	ssize_t mlen, klen = -1;
	unsigned long off = 0;

	if (strncmp(text, "enabled\n", 8))
		return false;
	if ((p = strstr(text, "\nextension ."))) {
		const char *dot = strrchr(base ? base + 1 : path, '.');
		size_t len = strcspn(p + 12, "\n");

		return dot && strlen(dot) == len && !strncmp(dot, p + 12, len);
	}
	if (!(p = strstr(text, "\nmagic ")) ||
	    (mlen = unhex(p + 7, magic, sizeof(magic))) <= 0)
		return true;	/* not understood: it may */
	if ((p = strstr(text, "\nmask ")) &&
	    (klen = unhex(p + 6, mask, sizeof(mask))) != mlen)
		return true;
	if ((p = strstr(text, "\noffset ")))
		off = strtoul(p + 8, NULL, 10);
	if (off + (size_t)mlen > (size_t)n)
		return false;	/* the kernel compares the first 256 bytes too */
	for (ssize_t i = 0; i < mlen; i++)
		if ((buf[off + i] & (klen > 0 ? mask[i] : 0xff)) != magic[i])
			return false;
	return true;
}

/*
 * Could a binfmt_misc handler visible to procache take the file @path
 * that starts with @buf (@n bytes)? The registrations are read from
 * /proc/sys/fs/binfmt_misc (where it is mounted: systemd does); none
 * when it is not, or is disabled. Only for files that are neither ELF
 * nor #! (rare), so the cost does not matter.
 */
bool binfmt_may_take(const char *path, const unsigned char *buf, ssize_t n)
{
	_cleanup_closedir_ DIR *d = opendir(BINFMT_DIR);
	struct dirent *de;
	char text[4096];

	if (!d)
		return false;
	while ((de = readdir(d))) {
		int fd;
		ssize_t len;

		if (de->d_name[0] == '.' || !strcmp(de->d_name, "register"))
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			return true;	/* cannot tell: it may */
		len = read_full(fd, text, sizeof(text) - 1);
		close(fd);
		if (len < 0)
			return true;
		text[len] = '\0';
		if (!strcmp(de->d_name, "status")) {
			if (!strncmp(text, "disabled", 8))
				return false;
			continue;
		}
		if (binfmt_entry_takes(text, path, buf, n))
			return true;
	}
	return false;
}


static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int binfmt_fact_value(struct strbuf *out)
{
	_cleanup_closedir_ DIR *d = opendir(BINFMT_DIR);
	struct strbuf all = STRBUF_INIT;
	char **names = NULL;
	size_t nr = 0, alloc = 0, i;
	struct dirent *de;
	struct pc_hash h;
	char hex[PC_HASH_HEX_LEN + 1];
	int r = 0;

	if (!d || faccessat(dirfd(d), "register", F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
		strbuf_addstr(out, "none");	/* not mounted: nothing to see */
		return 0;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "register"))
			continue;
		ALLOC_GROW(names, nr + 1, alloc);
		names[nr++] = xstrdup(de->d_name);
	}
	qsort(names, nr, sizeof(*names), cmp_name);
	for (i = 0; i < nr && !r; i++) {
		char text[4096];
		ssize_t len;
		int fd = openat(dirfd(d), names[i], O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

		if (fd < 0) {
			r = -errno;
			break;
		}
		len = read_full(fd, text, sizeof(text));
		close(fd);
		if (len < 0) {
			r = (int)len;
			break;
		}
		if (!strcmp(names[i], "status") && !strncmp(text, "disabled", 8)) {
			strbuf_reset(&all);
			strbuf_addstr(&all, "disabled");
			break;
		}
		strbuf_addf(&all, "%s%c", names[i], 0);
		strbuf_add(&all, text, (size_t)len);
		strbuf_addch(&all, 0);
	}
	for (i = 0; i < nr; i++)
		free(names[i]);
	free(names);
	if (!r) {
		if (!strcmp(all.buf, "disabled")) {
			strbuf_addstr(out, "disabled");
		} else {
			pc_hash_buffer(all.buf, all.len, &h);
			pc_hash_to_hex(&h, hex);
			strbuf_addstr(out, hex);
		}
	}
	strbuf_release(&all);
	return r;
}

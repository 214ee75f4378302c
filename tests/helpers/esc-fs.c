/*
 * esc-fs OP ARG...: file-system tricks a hostile job plays on the overlay
 * and on procache's diff. Prints "OP: ok" or "OP: ERRNAME" and exits 0 when
 * refused, 1 when done, 2 on usage errors.
 *
 *	setxattr NAME VALUE PATH	setxattr() (forging overlay markers:
 *					trusted.overlay.opaque, user.overlay.opaque)
 *	whiteout PATH			mknod(PATH, S_IFCHR, makedev(0, 0)): the
 *					overlay's deletion marker
 *	open-write PATH			open(PATH, O_WRONLY) without truncating
 *					(/proc/1/exe: the sandbox init's binary)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

static int report(const char *op, int r)
{
	if (r >= 0) {
		printf("%s: ok\n", op);
		return 1;
	}
	printf("%s: %s\n", op, strerrorname_np(errno) ? strerrorname_np(errno) : "E?");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "setxattr"))
		return report(argv[1], setxattr(argv[4], argv[2], argv[3],
						strlen(argv[3]), 0));
	if (argc == 3 && !strcmp(argv[1], "whiteout"))
		return report(argv[1], mknod(argv[2], S_IFCHR | 0600, makedev(0, 0)));
	if (argc == 3 && !strcmp(argv[1], "open-write"))
		return report(argv[1], open(argv[2], O_WRONLY | O_CLOEXEC));
	fprintf(stderr, "usage: esc-fs setxattr NAME VALUE PATH | whiteout PATH | open-write PATH\n");
	return 2;
}

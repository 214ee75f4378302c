/*
 * Scope-exit cleanup helpers built on __attribute__((cleanup)), as in
 * bubblewrap and systemd:
 *
 *	_cleanup_free_ char *path = path_join(a, b);
 *	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
 *	...
 *	return steal_fd(&fd);	// ownership handed to the caller
 *
 * Each cleanup function accepts the "empty" value (NULL, or a negative
 * fd) and does nothing then, so a variable may be declared before it is
 * first assigned as long as it is initialised to that empty value. None
 * of them changes errno, so they can run on an error path between the
 * failing call and the "return -errno".
 */
#ifndef PROCACHE_COMMON_CLEANUP_H
#define PROCACHE_COMMON_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/strbuf.h"

static inline void cleanup_freep(void *p)
{
	int saved_errno = errno;

	free(*(void **)p);
	errno = saved_errno;
}

static inline void cleanup_closep(int *fdp)
{
	int saved_errno = errno;

	if (*fdp >= 0)
		close(*fdp);
	errno = saved_errno;
}

static inline void cleanup_fclosep(FILE **fp)
{
	int saved_errno = errno;

	if (*fp)
		fclose(*fp);
	errno = saved_errno;
}

static inline void cleanup_closedirp(DIR **dp)
{
	int saved_errno = errno;

	if (*dp)
		closedir(*dp);
	errno = saved_errno;
}

static inline void cleanup_strbufp(struct strbuf *sb)
{
	int saved_errno = errno;

	strbuf_release(sb);
	errno = saved_errno;
}

static inline void cleanup_cjsonp(cJSON **jp)
{
	int saved_errno = errno;

	if (*jp)
		cJSON_Delete(*jp);
	errno = saved_errno;
}

/* Any pointer from malloc() and friends; free()d at scope exit. */
#define _cleanup_free_ __attribute__((cleanup(cleanup_freep)))
/* An int fd; close()d at scope exit when >= 0. */
#define _cleanup_close_ __attribute__((cleanup(cleanup_closep)))
/* A FILE *; fclose()d at scope exit when not NULL. */
#define _cleanup_fclose_ __attribute__((cleanup(cleanup_fclosep)))
/* A DIR *; closedir()d at scope exit when not NULL. */
#define _cleanup_closedir_ __attribute__((cleanup(cleanup_closedirp)))
/* A struct strbuf (not a pointer); strbuf_release()d at scope exit. */
#define _cleanup_strbuf_ __attribute__((cleanup(cleanup_strbufp)))
/* A cJSON *; cJSON_Delete()d at scope exit when not NULL. */
#define _cleanup_cjson_ __attribute__((cleanup(cleanup_cjsonp)))

/*
 * Take the pointer out of *pp and leave NULL behind, so the cleanup
 * attribute on *pp no longer frees it: the hand-over is visible.
 */
static inline void *steal_pointer_impl(void *pp)
{
	void **p = pp;
	void *ret = *p;

	*p = NULL;
	return ret;
}
#define steal_pointer(pp) ((__typeof__(*(pp)))steal_pointer_impl(pp))

/* Take the fd out of *fdp and leave -1 behind. */
static inline int steal_fd(int *fdp)
{
	int fd = *fdp;

	*fdp = -1;
	return fd;
}

#endif

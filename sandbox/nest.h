/*
 * Nested caching's supervisor side (DESIGN.md §13): the replay payload a
 * skipped execution unit's replayer reads, and the redirect of the unit's
 * execve to that replayer.
 *
 * Calling sequence, at the execve notification @req of a unit that hits,
 * with the unit's changes already applied to the view:
 *
 *	fd = nest_replay_memfd(&replay, err);        the replayer + payload
 *	r = nest_exec_redirect(listener, req, fd, "/dev/fd", err);
 *	close(fd);
 *	r == 0: answer CONTINUE: the kernel executes the replayer
 *	r == -ENAMETOOLONG or -EBUSY: nothing was done; run the program
 *	        (answer CONTINUE as for any exec), the unit refused
 *	other: the caller is gone, or the redirect failed after the fd was
 *	        installed (close-on-exec: the caller's own exec closes it);
 *	        the run is uncacheable
 *
 * Not thread-safe against other writers of the same process's memory:
 * the caller must be blocked in the notification, its address space and
 * fd table shared with no live process (nest_exec_sharers(), §13.1).
 */
#ifndef PROCACHE_SANDBOX_NEST_H
#define PROCACHE_SANDBOX_NEST_H

#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/strbuf.h"
#include "sandbox/nest-payload.h"

/* Bytes a unit wrote to its stdout (1) or stderr (2), in order. */
struct nest_chunk {
	int fd;
	const void *buf;
	size_t len;
};

/* How a unit ended and what it wrote: what its replay reproduces. */
struct nest_replay {
	bool signaled;		/* died of @code, else exited with @code */
	int code;		/* 0-255, or a signal 1-64 */
	const struct nest_chunk *chunks;
	size_t nr_chunks;
};

/* The replayer's own bytes (sandbox/replay/, embedded by blob.S). */
const unsigned char *nest_replayer(size_t *len);

/*
 * A sealed, close-on-exec memfd holding the replayer then @replay's
 * payload (format: sandbox/nest-payload.h). The fd, or -errno with a
 * message in @err (-EINVAL: @replay out of range; -EACCES: the kernel
 * refuses executable memfds, vm.memfd_noexec).
 */
int nest_replay_memfd(const struct nest_replay *replay, struct strbuf *err);

/*
 * Make the execve or execveat of @req (a notification received on
 * @listener, its caller still blocked) execute @memfd instead: install a
 * copy of @memfd in the caller (O_CLOEXEC, lowest free number N), then
 * write "@fd_dir/N" over the path string the call names (@fd_dir is
 * "/dev/fd" or "/proc/self/fd": a directory of the caller's view whose
 * entries are its fds), then check @req is still valid. Does not answer
 * the notification. execveat is redirected only with AT_FDCWD or an
 * absolute path, and without AT_EMPTY_PATH.
 *
 * 0 on success; -ENAMETOOLONG when the path string is too short for the
 * new one, -EBUSY for an execveat it cannot redirect (nothing done in
 * either case); -ENOENT when the caller is gone; other -errno with a
 * message in @err.
 */
int nest_exec_redirect(int listener, const struct seccomp_notif *req, int memfd,
		       const char *fd_dir, struct strbuf *err);

/*
 * Whether processes @a and @b share their address space (kcmp KCMP_VM):
 * 1 yes, 0 no, -errno when it cannot be told (treat as "yes").
 */
int nest_shares_vm(pid_t a, pid_t b);

/*
 * Whether any other process of the tree under @tree_root (the job's init,
 * itself included) shares @pid's address space or fd table: the
 * redirect writes into both (§13.1). Walks /proc/PID/task/TID/children
 * and compares with kcmp. 0 with @reason empty when none does, 0 with
 * @reason set ("shares its memory with process N", "shares its fd table
 * with process N"), or -errno with a message in @err when the tree
 * cannot be walked (refuse then too).
 */
int nest_exec_sharers(pid_t pid, pid_t tree_root, struct strbuf *reason,
		      struct strbuf *err);

#endif

/*
 * Nested caching's supervisor side (DESIGN.md §13): the replay payload a
 * skipped execution unit's replayer reads, and the redirect of the unit's
 * execve to that replayer.
 *
 * Calling sequence, at the execve notification @req of a unit that hits,
 * with the unit's changes already applied to the view:
 *
 *	fd = nest_replay_memfd(&replay, err);        the replayer + payload
 *	r = nest_exec_redirect(listener, req, fd, 0, err);   answers @req
 *	close(fd);
 *	r == 0: the caller runs the replayer (its execveat, notified next,
 *	        is nest_redirect_is_own(): answer CONTINUE)
 *	r == -EAGAIN: nothing was done; answer CONTINUE, the unit refused
 *	other: the run is uncacheable (see nest_exec_redirect())
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
 * Make the caller of @req (an execve or execveat notification received
 * on @listener, the caller still blocked in it) run the replayer in
 * @memfd instead of the program, without touching its memory before the
 * exec (after vfork or posix_spawn that memory is also its parent's):
 * hold the caller with ptrace (PTRACE_SEIZE, PTRACE_O_TRACEEXEC,
 * PTRACE_O_EXITKILL), install a copy of @memfd in it at the lowest free
 * number N without close-on-exec, answer CONTINUE, and at the exec's stop
 * (the new, private image, before its first instruction) make its first
 * instructions execveat(N, "", argv, envp, AT_EMPTY_PATH) with its own
 * argv and environment; then detach. DESIGN.md §13.1.
 *
 * Blocks the calling thread until the exec is past (about 0.5 ms plus
 * the program's exec). The caller's ptrace stops are shown to every
 * thread of the calling process: none may wait for any child meanwhile
 * (wait(), waitpid(-1)), and the caller must not be a child of the
 * calling process. The caller must be its process's main thread (else
 * -EAGAIN). With the filter's wait not killable once received (no
 * NEST_REDIRECT_KILLABLE_RECV), the tracer must call
 * nest_redirect_is_own() first at every exec notification.
 *
 *   0        answered: the caller runs the replayer; its execveat is
 *            nest_redirect_is_own()
 *   -EAGAIN  nothing done, not answered (the caller cannot be held): run
 *            the program (answer CONTINUE), the unit refused with @err
 *   -ESRCH   @req is no longer valid (the caller died, or a signal
 *            withdrew the call: it will be notified anew), or the caller
 *            died during the redirect: nothing to answer; make the run
 *            uncacheable (a death the job did not cause, or a redirect
 *            that may have begun)
 *   other    answered, not redirected: the program runs or its exec
 *            failed (-ECANCELED) or its new image is a 32-bit program
 *            (-ENOEXEC), perhaps with fd N left open in it; the
 *            outer run must be made uncacheable, @err says why
 */
int nest_exec_redirect(int listener, const struct seccomp_notif *req, int memfd,
		       unsigned flags, struct strbuf *err);

/*
 * nest_exec_redirect(), calling @w->begin(@w->arg) once the caller is
 * answered and @w->end(@w->arg) once its exec is past, in this thread
 * (either may be NULL): the wait for the program's exec between (the
 * bulk of the time, spent in the caller) needs no lock of the tracer's,
 * whose other threads can answer other processes meanwhile. @w NULL:
 * nest_exec_redirect().
 *
 * @memfd -1 (with @w): a unit with no output, whose replay is its exit
 * status alone. No fd is installed; at the exec stop the new image's
 * first instructions become exit_group(@w->exit_code), and nothing of
 * it runs: no replayer's exec, no execveat for nest_redirect_is_own().
 * The outcomes are the same.
 */
struct nest_redirect_wait {
	void (*begin)(void *arg);
	void (*end)(void *arg);
	void *arg;
	int exit_code;		/* with @memfd -1 */
};
int nest_exec_redirect_wait(int listener, const struct seccomp_notif *req, int memfd,
			    unsigned flags, const struct nest_redirect_wait *w,
			    struct strbuf *err);

/*
 * @flags of nest_exec_redirect(): the filter was installed with
 * SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (Linux 5.19). The caller is then
 * interrupted before the answer, so a failed exec stops before the
 * program runs an instruction; without it the interrupt follows the
 * answer, and a failed exec may run a little first (§13.1).
 */
#define NEST_REDIRECT_KILLABLE_RECV 1u

/*
 * Whether @req is the execveat of the replayer a redirect set up (answer
 * it CONTINUE; it starts no unit). Call it at every exec notification,
 * before anything else: an exec of a process that a redirect holds is
 * marked, so that the redirect does not mistake its image for the
 * program's. Thread-safe.
 */
bool nest_redirect_is_own(const struct seccomp_notif *req);

/* Forget any redirect of @pid (at its exit: its pid may be reused). */
void nest_redirect_forget(pid_t pid);

/*
 * Whether any other process of the tree under @tree_root (the job's init,
 * itself included) shares @pid's fd table (CLONE_FILES without CLONE_VM:
 * a raw clone): the replayer's fd N, installed before the exec unshares
 * the caller's table, would stay open in that process (§13.1). vfork and
 * posix_spawn share memory, not the fd table. Walks
 * /proc/PID/task/TID/children and compares with kcmp(KCMP_FILES). 0 with
 * @reason empty when none does, 0 with @reason set ("shares its fd table
 * with process N"), or -errno with a message in @err when the tree cannot
 * be walked (refuse then too).
 */
int nest_exec_files_sharers(pid_t pid, pid_t tree_root, struct strbuf *reason,
			    struct strbuf *err);

#endif

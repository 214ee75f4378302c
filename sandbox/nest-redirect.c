/*
 * An exec redirected to the replayer (DESIGN.md §13.1): the memfd a
 * skipped unit executes (the replayer and its payload, format in
 * sandbox/nest-payload.h), its installation in the caller with
 * SECCOMP_IOCTL_NOTIF_ADDFD, and the turn of the caller's new image, held
 * in a ptrace stop before its first instruction, into an execveat of that
 * memfd. The contract is sandbox/nest.h.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/kcmp.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/le.h"
#include "common/xalloc.h"
#include "sandbox/nest.h"

#include "common/banned.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

extern const unsigned char nest_replayer_bytes[], nest_replayer_end[];

const unsigned char *nest_replayer(size_t *len)
{
	*len = (size_t)(nest_replayer_end - nest_replayer_bytes);
	return nest_replayer_bytes;
}

static void put32(struct strbuf *sb, uint64_t v)
{
	unsigned char b[4];

	le_put(b, v, 4);
	strbuf_add(sb, b, 4);
}

int nest_replay_memfd(const struct nest_replay *replay, struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf payload = STRBUF_INIT;
	unsigned char footer[NEST_FOOTER_SIZE];
	const unsigned char *elf;
	size_t elf_len, i;
	ssize_t r;
	int fd;

	if (replay->signaled ? replay->code < 1 || replay->code > 64 :
			       replay->code < 0 || replay->code > 255)
		return strbuf_error(err, -EINVAL, "replay: bad %s %d",
				    replay->signaled ? "signal" : "exit code",
				    replay->code);
	if (replay->nr_chunks > UINT32_MAX)
		return strbuf_error(err, -EINVAL, "replay: too many chunks");
	put32(&payload, NEST_PAYLOAD_VERSION);
	put32(&payload, 0);
	put32(&payload, replay->signaled ? NEST_END_SIGNAL : NEST_END_EXIT);
	put32(&payload, (uint32_t)replay->code);
	put32(&payload, replay->nr_chunks);
	for (i = 0; i < replay->nr_chunks; i++) {
		const struct nest_chunk *c = &replay->chunks[i];

		if ((c->fd != 1 && c->fd != 2) || c->len > UINT32_MAX)
			return strbuf_error(err, -EINVAL, "replay: bad chunk %zu", i);
		put32(&payload, (uint32_t)c->fd);
		put32(&payload, c->len);
		strbuf_add(&payload, c->buf, c->len);
	}

	elf = nest_replayer(&elf_len);
	le_put(footer, elf_len, 8);
	memcpy(footer + 8, NEST_PAYLOAD_MAGIC, 8);

	/* MFD_EXEC: the kernel's default may become noexec (vm.memfd_noexec) */
	fd = memfd_create("procache-replay", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (fd < 0 && errno == EINVAL)	/* before Linux 6.3: no MFD_EXEC */
		fd = memfd_create("procache-replay", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return strbuf_error(err, -errno, "cannot create the replayer's memfd: %s",
				    strerror(errno));
	if ((r = write_full(fd, elf, elf_len)) < 0 ||
	    (r = write_full(fd, payload.buf, payload.len)) < 0 ||
	    (r = write_full(fd, footer, sizeof(footer))) < 0 ||
	    (r = fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK |
					F_SEAL_SEAL) < 0 ? -errno : 0) < 0) {
		close(fd);
		return strbuf_error(err, (int)r, "cannot fill the replayer's memfd: %s",
				    strerror((int)-r));
	}
	return fd;
}


/*
 * The redirects under way or set up, so that the tracer's threads can
 * tell the replayer's execveat from a program's (nest_redirect_is_own()),
 * and a redirect can tell another exec of its caller, answered by another
 * thread while it held the caller, from the one it was given.
 */
#define OWN_MAX 64

struct own {
	pid_t pid;		/* 0: free */
	bool held;		/* the redirect is still at work on @pid */
	bool other_exec;	/* another exec of @pid was notified meanwhile */
	int fd;			/* the replayer's number in @pid */
	uint64_t path;		/* the "" its execveat names */
};

static pthread_mutex_t own_lock = PTHREAD_MUTEX_INITIALIZER;
static struct own own_table[OWN_MAX];

static struct own *own_find(pid_t pid)
{
	size_t i;

	for (i = 0; i < OWN_MAX; i++)
		if (own_table[i].pid == pid)
			return &own_table[i];
	return NULL;
}

/* Register @pid as held; false when the table is full. */
static bool own_hold(pid_t pid)
{
	struct own *o;

	pthread_mutex_lock(&own_lock);
	o = own_find(pid);	/* a stale entry of a pid reused */
	if (!o)
		o = own_find(0);
	if (o)
		*o = (struct own){ .pid = pid, .held = true, .fd = -1 };
	pthread_mutex_unlock(&own_lock);
	return o != NULL;
}

void nest_redirect_forget(pid_t pid)
{
	struct own *o;

	pthread_mutex_lock(&own_lock);
	o = own_find(pid);
	if (o)
		o->pid = 0;
	pthread_mutex_unlock(&own_lock);
}

/*
 * Hand the held @pid over to its execveat of the replayer: false when
 * another exec of @pid was notified while it was held (the exec whose
 * stop the redirect saw may be that one).
 */
static bool own_release(pid_t pid, int fd, uint64_t path)
{
	struct own *o;
	bool ok;

	pthread_mutex_lock(&own_lock);
	o = own_find(pid);
	ok = o && !o->other_exec;
	if (ok) {
		o->held = false;
		o->fd = fd;
		o->path = path;
	} else if (o) {
		o->pid = 0;
	}
	pthread_mutex_unlock(&own_lock);
	return ok;
}

bool nest_redirect_is_own(const struct seccomp_notif *req)
{
	struct own *o;
	bool mine = false;

	pthread_mutex_lock(&own_lock);
	o = own_find((pid_t)req->pid);
	if (o && o->held) {
		o->other_exec = true;
	} else if (o) {
		mine = req->data.arch == AUDIT_ARCH_X86_64 &&
		       req->data.nr == __NR_execveat &&
		       (int)req->data.args[0] == o->fd &&
		       req->data.args[1] == o->path &&
		       req->data.args[4] == AT_EMPTY_PATH;
		o->pid = 0;	/* matched, or not the call it set up: gone */
	}
	pthread_mutex_unlock(&own_lock);
	return mine;
}

static int wait_traced(pid_t pid, int *status)
{
	pid_t r;

	while ((r = waitpid(pid, status, __WALL)) < 0 && errno == EINTR)
		;
	return r == pid ? 0 : -errno;
}

/*
 * Let go of @pid, seized but not stopped: stop it (PTRACE_INTERRUPT: a
 * system call it is in restarts unseen) and detach. -ESRCH when it died
 * (its death reaped as its tracer: its parent is told then).
 */
static int let_go_running(pid_t pid)
{
	int status;

	if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) < 0 && errno != ESRCH)
		return -errno;
	for (;;) {
		if (wait_traced(pid, &status) < 0)
			return -ESRCH;
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return -ESRCH;
		if (status >> 16 == PTRACE_EVENT_STOP)
			break;
		/* a signal on its way: let it continue to its stop */
		if (ptrace(PTRACE_CONT, pid, 0, (void *)(long)(status >> 16 ? 0 :
							       WSTOPSIG(status))) < 0)
			return -ESRCH;
	}
	return ptrace(PTRACE_DETACH, pid, 0, 0) < 0 ? -ESRCH : 0;
}

/* Detach @pid, stopped; when it died meanwhile, reap its death. */
static int let_go_stopped(pid_t pid)
{
	int status;

	if (ptrace(PTRACE_DETACH, pid, 0, 0) == 0)
		return 0;
	wait_traced(pid, &status);
	return -ESRCH;
}

/*
 * The instructions the held new image runs first: execveat(rdi, rsi,
 * rdx, r10, r8), whose arguments the registers hold, and exit(125) if it
 * returns (the exit of a replay that failed, §13.1).
 */
static const unsigned char trampoline[] = {
	0xb8, 0x42, 0x01, 0x00, 0x00,	/* mov $322 (execveat), %eax */
	0x0f, 0x05,			/* syscall */
	0xbf, 0x7d, 0x00, 0x00, 0x00,	/* mov $125, %edi */
	0xb8, 0xe7, 0x00, 0x00, 0x00,	/* mov $231 (exit_group), %eax */
	0x0f, 0x05,			/* syscall */
};

/* %cs of a 64-bit process (__USER_CS); 0x23 in compatibility mode */
#define USER64_CS 0x33

#define TRAMPOLINE_WORDS ((sizeof(trampoline) + 7) / 8)

/*
 * Where each word goes: the last one ends with the trampoline's last byte
 * (overlapping the one before), so nothing past those 19 bytes is read or
 * written: an entry 19 to 23 bytes before the end of its mapping, with
 * nothing mapped after, is redirected too.
 */
_Static_assert(sizeof(trampoline) > 16 && sizeof(trampoline) <= 24,
	       "three words, the last one overlapping");

/* The same for the @size bytes of any of the trampolines (>= 8). */
static size_t word_offset_of(size_t i, size_t size)
{
	return i + 1 < (size + 7) / 8 ? 8 * i : size - 8;
}

static size_t word_offset(size_t i)
{
	return word_offset_of(i, sizeof(trampoline));
}

static int peek(pid_t pid, uint64_t addr, long *word)
{
	errno = 0;
	*word = ptrace(PTRACE_PEEKDATA, pid, (void *)addr, 0);
	return errno ? -errno : 0;
}

/*
 * At the exec stop of @pid (its new image, no instruction run): make its
 * first instructions an execveat of @fd with its own argv and environment.
 * Writes through ptrace, which makes a private copy of a read-only page:
 * the image is the process's own after the exec, nothing on disk changes.
 */
static int turn_to_replayer(pid_t pid, int fd, uint64_t *empty, struct strbuf *err)
{
	struct user_regs_struct regs;
	long saved[TRAMPOLINE_WORDS], word;
	size_t i, done = 0;
	uint64_t argc;
	int r;

	if (ptrace(PTRACE_GETREGS, pid, 0, &regs) < 0)
		return strbuf_error(err, -errno, "cannot read the registers of %d: %s",
				    (int)pid, strerror(errno));
	/*
	 * A 32-bit image runs in compatibility mode, where the trampoline's
	 * "syscall" traps or takes the ia32 numbers and its stack holds
	 * 4-byte words: it would run something, not the replayer.
	 */
	if (regs.cs != USER64_CS)
		return strbuf_error(err, -ENOEXEC,
				    "cannot redirect the exec of %d: its new image is not "
				    "a 64-bit program", (int)pid);
	r = peek(pid, regs.rsp, &word);
	if (r < 0)
		return strbuf_error(err, r, "cannot read the stack of %d: %s", (int)pid,
				    strerror(-r));
	argc = (uint64_t)word;
	for (i = 0; i < TRAMPOLINE_WORDS; i++) {
		r = peek(pid, regs.rip + word_offset(i), &saved[i]);
		if (r < 0)
			return strbuf_error(err, r, "cannot read the entry of %d: %s",
					    (int)pid, strerror(-r));
	}
	for (; done < TRAMPOLINE_WORDS; done++) {
		memcpy(&word, trampoline + word_offset(done), 8);
		if (ptrace(PTRACE_POKEDATA, pid, (void *)(regs.rip + word_offset(done)),
			   (void *)word) < 0)
			break;
	}
	/* the entry state the kernel gave (rsp: argc, argv[], NULL, envp[]) */
	*empty = regs.rsp + 8 + 8 * argc;	/* argv's NULL: 8 zero bytes */
	regs.rdi = (unsigned long long)fd;
	regs.rsi = *empty;
	regs.rdx = regs.rsp + 8;
	regs.r10 = *empty + 8;
	regs.r8 = AT_EMPTY_PATH;
	if (done == TRAMPOLINE_WORDS && ptrace(PTRACE_SETREGS, pid, 0, &regs) == 0)
		return 0;
	r = -errno;
	while (done--)		/* put the program back as it was */
		ptrace(PTRACE_POKEDATA, pid, (void *)(regs.rip + word_offset(done)),
		       (void *)saved[done]);
	return strbuf_error(err, r, "cannot set up the replayer's exec in %d: %s",
			    (int)pid, strerror(-r));
}

/*
 * The instructions the held new image of a unit with no output runs
 * first: exit_group(code). Nothing to replay but the status: no replayer
 * to exec (§13.1, "No output").
 */
static const unsigned char exit_trampoline[] = {
	0xbf, 0x00, 0x00, 0x00, 0x00,	/* mov $code, %edi (bytes 1-4) */
	0xb8, 0xe7, 0x00, 0x00, 0x00,	/* mov $231 (exit_group), %eax */
	0x0f, 0x05,			/* syscall */
};

#define EXIT_WORDS ((sizeof(exit_trampoline) + 7) / 8)

/* At the exec stop of @pid: make its first instructions exit_group(@code). */
static int turn_to_exit(pid_t pid, int code, struct strbuf *err)
{
	unsigned char tramp[sizeof(exit_trampoline)];
	struct user_regs_struct regs;
	long saved[EXIT_WORDS], word;
	size_t i, done = 0;
	uint32_t c = (uint32_t)code;
	int r;

	memcpy(tramp, exit_trampoline, sizeof(tramp));
	memcpy(tramp + 1, &c, 4);	/* little-endian, as the CPU reads it */
	if (ptrace(PTRACE_GETREGS, pid, 0, &regs) < 0)
		return strbuf_error(err, -errno, "cannot read the registers of %d: %s",
				    (int)pid, strerror(errno));
	if (regs.cs != USER64_CS)	/* as turn_to_replayer() */
		return strbuf_error(err, -ENOEXEC,
				    "cannot redirect the exec of %d: its new image is not "
				    "a 64-bit program", (int)pid);
	for (i = 0; i < EXIT_WORDS; i++) {
		r = peek(pid, regs.rip + word_offset_of(i, sizeof(tramp)), &saved[i]);
		if (r < 0)
			return strbuf_error(err, r, "cannot read the entry of %d: %s",
					    (int)pid, strerror(-r));
	}
	for (; done < EXIT_WORDS; done++) {
		memcpy(&word, tramp + word_offset_of(done, sizeof(tramp)), 8);
		if (ptrace(PTRACE_POKEDATA, pid,
			   (void *)(regs.rip + word_offset_of(done, sizeof(tramp))),
			   (void *)word) < 0)
			break;
	}
	if (done == EXIT_WORDS)
		return 0;
	r = -errno;
	while (done--)		/* put the program back as it was */
		ptrace(PTRACE_POKEDATA, pid,
		       (void *)(regs.rip + word_offset_of(done, sizeof(tramp))),
		       (void *)saved[done]);
	return strbuf_error(err, r, "cannot set up the exit of %d: %s", (int)pid,
			    strerror(-r));
}

static void interrupt(pid_t pid, struct strbuf *err)
{
	if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) < 0 && errno != ESRCH)
		strbuf_addf(err, "%scannot interrupt %d: %s", err->len ? "; " : "",
			    (int)pid, strerror(errno));
}

/*
 * Wait for @pid's exec stop, with fd @fd installed: 0 at the stop, or
 * the outcome of nest_exec_redirect() when there is none (the process
 * let go, its hold forgotten).
 */
static int await_exec(pid_t pid, int fd, struct strbuf *err)
{
	int status, r;

	for (;;) {
		int event;

		if (wait_traced(pid, &status) < 0 || WIFSIGNALED(status)) {
			nest_redirect_forget(pid);
			return strbuf_error(err, -ESRCH, "process %d died in its exec",
					    (int)pid);
		}
		if (WIFEXITED(status)) {
			/* its exec failed, and it exited before the interrupt */
			nest_redirect_forget(pid);
			return strbuf_error(err, -ECANCELED,
					    "the exec of %d failed, then it exited %d",
					    (int)pid, WEXITSTATUS(status));
		}
		event = status >> 16;
		if (event == PTRACE_EVENT_EXEC)
			return 0;
		if (event == PTRACE_EVENT_STOP) {
			/*
			 * Back in the program without a new image: the interrupt,
			 * or a group stop (detached, it stays stopped as it
			 * would have; either comes after the exec's return).
			 */
			r = let_go_stopped(pid);
			nest_redirect_forget(pid);
			if (r < 0)
				return strbuf_error(err, r, "process %d died in its exec",
						    (int)pid);
			if (fd < 0)
				return -ECANCELED;
			return strbuf_error(err, -ECANCELED,
					    "the exec of %d failed; the replayer's fd %d "
					    "is left open in it", (int)pid, fd);
		}
		/* a signal to deliver (its stop comes before the interrupt's) */
		if (ptrace(PTRACE_CONT, pid, 0,
			   (void *)(long)(event ? 0 : WSTOPSIG(status))) < 0) {
			wait_traced(pid, &status);
			nest_redirect_forget(pid);
			return strbuf_error(err, -ESRCH, "process %d died in its exec",
					    (int)pid);
		}
	}
}

int nest_exec_redirect(int listener, const struct seccomp_notif *req, int memfd,
		       unsigned flags, struct strbuf *err)
{
	return nest_exec_redirect_wait(listener, req, memfd, flags, NULL, err);
}

int nest_exec_redirect_wait(int listener, const struct seccomp_notif *req, int memfd,
			    unsigned flags, const struct nest_redirect_wait *w,
			    struct strbuf *err)
{
	struct seccomp_notif_addfd addfd = { 0 };
	struct seccomp_notif_resp resp = { 0 };
	pid_t pid = (pid_t)req->pid;
	uint64_t empty = 0;
	int pidfd, fd, r;
	bool exit_only = memfd < 0;

	if (exit_only && !w)
		return strbuf_error(err, -EAGAIN, "no replayer and no exit code");

	if (req->data.arch != AUDIT_ARCH_X86_64 ||
	    (req->data.nr != __NR_execve && req->data.nr != __NR_execveat))
		return strbuf_error(err, -EAGAIN, "not an x86-64 exec: system call %d",
				    req->data.nr);
	/* a thread that is not its process's first changes pid at exec */
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return errno == ESRCH ? -ESRCH :
		       strbuf_error(err, -EAGAIN, "cannot hold process %d: %s", (int)pid,
				    errno == EINVAL ? "not its process's main thread" :
						      strerror(errno));
	close(pidfd);
	if (!own_hold(pid))
		return strbuf_error(err, -EAGAIN, "too many exec redirects at once");
	if (ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL) < 0) {
		r = errno;
		nest_redirect_forget(pid);
		return r == ESRCH ? -ESRCH :
		       strbuf_error(err, -EAGAIN, "cannot trace process %d: %s", (int)pid,
				    strerror(r));
	}
	/* the pid was the caller's at the seize only if @req is still valid */
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0) {
		let_go_running(pid);
		nest_redirect_forget(pid);
		return -ESRCH;
	}

	/* without close-on-exec: it must survive the program's exec */
	addfd.id = req->id;
	addfd.srcfd = (uint32_t)memfd;
	addfd.newfd_flags = 0;
	fd = exit_only ? INT_MAX : ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);
	if (fd < 0 && errno == ENOENT) {
		let_go_running(pid);
		nest_redirect_forget(pid);
		return -ESRCH;
	}
	if (fd < 0)
		strbuf_addf(err, "cannot install the replayer in %d: %s", (int)pid,
			    strerror(errno));

	/*
	 * From here on the caller is answered, whatever happens: letting it
	 * go before would need a stop, which would interrupt its exec and
	 * have it notified again.
	 *
	 * The interrupt makes a failed exec stop on its way back to the
	 * program (PTRACE_EVENT_STOP), and a successful one's stop clears it.
	 * Sent before the answer, it would break the notification's wait,
	 * unless the wait is killable once received: with that flag the
	 * caller cannot run an instruction unseen; without, a failed exec may
	 * return and run a little before the stop (an exec it makes then is
	 * marked by nest_redirect_is_own()).
	 */
	if (flags & NEST_REDIRECT_KILLABLE_RECV)
		interrupt(pid, err);
	resp.id = req->id;
	resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0) {
		r = errno;
		let_go_running(pid);
		nest_redirect_forget(pid);
		return r == ENOENT ? -ESRCH :
		       strbuf_error(err, -r, "cannot answer the exec of %d: %s", (int)pid,
				    strerror(r));
	}
	if (!(flags & NEST_REDIRECT_KILLABLE_RECV))
		interrupt(pid, err);

	if (w && w->begin)
		w->begin(w->arg);
	r = await_exec(pid, exit_only ? -1 : fd, err);
	if (w && w->end)
		w->end(w->arg);
	if (r < 0)
		return r;

	/*
	 * The new image, private, before its first instruction. Another exec
	 * of the caller can only have been notified while it ran, before this
	 * stop: its mark, if any, is already there.
	 */
	if (fd < 0)
		r = -EIO;	/* the message says why */
	else if (!own_release(pid, fd, 0))
		r = strbuf_error(err, -EBUSY,
				 "another exec of %d was answered while it was held", (int)pid);
	else if (exit_only)
		r = turn_to_exit(pid, w->exit_code, err);
	else if ((r = turn_to_replayer(pid, fd, &empty, err)) == 0)
		own_release(pid, fd, empty);
	if (r < 0 || exit_only)	/* no execveat of a replayer to come */
		nest_redirect_forget(pid);
	if (let_go_stopped(pid) < 0) {
		nest_redirect_forget(pid);
		return strbuf_error(err, -ESRCH, "process %d died in its exec", (int)pid);
	}
	return r;
}

/* The children of every thread of @pid, appended to @out. */
static int add_children(pid_t pid, pid_t **out, size_t *nr, size_t *alloc)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	char path[96];

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;	/* gone: no children */
	while ((de = readdir(d))) {
		_cleanup_close_ int fd = -1;
		char buf[4096], *p, *end, cpath[320];
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(cpath, sizeof(cpath), "/proc/%d/task/%s/children", (int)pid,
			 de->d_name);
		fd = open(cpath, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;	/* the thread exited */
			return -errno;
		}
		n = read_full(fd, buf, sizeof(buf) - 1);
		if (n < 0)
			return (int)n;
		if (n == (ssize_t)sizeof(buf) - 1)
			return -E2BIG;	/* NEEDSWORK: read in pieces */
		buf[n] = 0;
		for (p = buf; *p; p = end) {
			long child = strtol(p, &end, 10);

			if (end == p)
				break;
			ALLOC_GROW(*out, *nr + 1, *alloc);
			(*out)[(*nr)++] = (pid_t)child;
		}
	}
	return 0;
}

int nest_exec_files_sharers(pid_t pid, pid_t tree_root, struct strbuf *reason,
		      struct strbuf *err)
{
	pid_t *procs = NULL;
	size_t nr = 0, alloc = 0, i;
	int r = 0;

	strbuf_reset(reason);
	ALLOC_GROW(procs, 1, alloc);
	procs[nr++] = tree_root;
	for (i = 0; i < nr && !reason->len; i++) {
		pid_t other = procs[i];

		r = add_children(other, &procs, &nr, &alloc);
		if (r < 0)
			break;
		if (other == pid)
			continue;
		if (syscall(SYS_kcmp, pid, other, KCMP_FILES, 0, 0) == 0)
			strbuf_addf(reason, "shares its fd table with process %d", (int)other);
		/* kcmp fails for a process gone meanwhile: it shares nothing */
	}
	free(procs);
	if (r < 0)
		return strbuf_error(err, r, "cannot list the processes under %d: %s",
				    (int)tree_root, strerror(-r));
	return 0;
}

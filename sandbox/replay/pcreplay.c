/*
 * The replayer (DESIGN.md §13.1): what a skipped execution unit runs
 * instead of its program. The supervisor redirects the unit's execve to a
 * sealed memfd holding these bytes followed by a replay payload; this
 * program writes the payload's output chunks to their fds, in order, and
 * ends as the unit ended: exit with its code, or death by its signal.
 *
 * Static, no libc, raw system calls only, so that what it does is exactly
 * its system-call list (§13.1) and the exec is cheap: no loader, no
 * relocation, no libc start-up. Built alone by the GNUmakefile and embedded
 * in procache by blob.S. The payload format is specified in sandbox/nest.h.
 */
#include <stddef.h>
#include <stdint.h>
#include <asm/unistd.h>
#include <linux/errno.h>
#include <linux/fcntl.h>
#include <linux/mman.h>
#include <linux/signal.h>

#include "sandbox/nest-payload.h"
#include "sandbox/raw-syscall.h"

/* A malformed payload or a failed write other than EPIPE. */
#define REPLAY_FAILED 125

#define sys6 raw_syscall6

#define sys3(nr, a, b, c) sys6(nr, (long)(a), (long)(b), (long)(c), 0, 0, 0)

static __attribute__((noreturn)) void die_with(int code)
{
	for (;;)
		sys3(__NR_exit_group, code, 0, 0);
}

/* The kernel's struct sigaction for rt_sigaction (not libc's). */
struct k_sigaction {
	unsigned long handler;
	unsigned long flags;
	unsigned long restorer;
	unsigned long mask;
};

static __attribute__((noreturn)) void die_of(int sig)
{
	struct k_sigaction sa = { 0, 0, 0, 0 }; /* SIG_DFL */
	unsigned long set = 1UL << (sig - 1);

	if (sig != SIGKILL && sig != SIGSTOP)
		sys6(__NR_rt_sigaction, sig, (long)&sa, 0, sizeof(unsigned long), 0, 0);
	sys6(__NR_rt_sigprocmask, SIG_UNBLOCK, (long)&set, 0, sizeof(set), 0, 0);
	sys3(__NR_kill, sys3(__NR_getpid, 0, 0, 0), sig, 0);
	/* A signal whose default action is not to terminate: not a result. */
	die_with(REPLAY_FAILED);
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void write_all(int fd, const unsigned char *p, size_t n)
{
	while (n) {
		long r = sys3(__NR_write, fd, p, n);

		if (r == -EINTR)
			continue;
		if (r == -EPIPE)
			die_of(SIGPIPE);
		if (r <= 0)
			die_with(REPLAY_FAILED);
		p += r;
		n -= (size_t)r;
	}
}

/* Called from _start with nothing: the payload comes from our own file. */
__attribute__((used, noreturn)) void replay_main(void);
__attribute__((used, noreturn)) void replay_main(void)
{
	static const char magic[] = NEST_PAYLOAD_MAGIC;
	const unsigned char *m, *p, *end;
	uint32_t kind, code, nr, i;
	uint64_t off;
	long fd, size;

	fd = sys3(__NR_open, "/proc/self/exe", O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		die_with(REPLAY_FAILED);
	size = sys3(__NR_lseek, fd, 0, 2 /* SEEK_END */);
	if (size < NEST_FOOTER_SIZE)
		die_with(REPLAY_FAILED);
	m = (const unsigned char *)sys6(__NR_mmap, 0, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if ((unsigned long)m > -4096UL)
		die_with(REPLAY_FAILED);
	sys3(__NR_close, fd, 0, 0);

	end = m + size;
	for (i = 0; i < 8; i++)
		if (end[-8 + (long)i] != (unsigned char)magic[i])
			die_with(REPLAY_FAILED);
	off = get64(end - NEST_FOOTER_SIZE);
	if (off > (uint64_t)size - NEST_FOOTER_SIZE ||
	    (uint64_t)size - NEST_FOOTER_SIZE - off < NEST_HEADER_SIZE)
		die_with(REPLAY_FAILED);
	p = m + off;
	end -= NEST_FOOTER_SIZE;
	if (get32(p) != NEST_PAYLOAD_VERSION || get32(p + 4) != 0)
		die_with(REPLAY_FAILED);
	kind = get32(p + 8);
	code = get32(p + 12);
	nr = get32(p + 16);
	if (kind > NEST_END_SIGNAL || (kind == NEST_END_EXIT && code > 255) ||
	    (kind == NEST_END_SIGNAL && (code < 1 || code > 64)))
		die_with(REPLAY_FAILED);
	p += NEST_HEADER_SIZE;
	/* Check every chunk before writing any: never half a replay. */
	{
		const unsigned char *q = p;

		for (i = 0; i < nr; i++) {
			uint32_t cfd, len;

			if (end - q < 8)
				die_with(REPLAY_FAILED);
			cfd = get32(q);
			len = get32(q + 4);
			if ((cfd != 1 && cfd != 2) || (uint64_t)(end - q - 8) < len)
				die_with(REPLAY_FAILED);
			q += 8 + len;
		}
		if (q != end)
			die_with(REPLAY_FAILED);
	}
	for (i = 0; i < nr; i++) {
		uint32_t len = get32(p + 4);

		write_all((int)get32(p), p + 8, len);
		p += 8 + len;
	}
	if (kind == NEST_END_SIGNAL)
		die_of((int)code);
	die_with((int)code);
}

/* The process starts with the stack aligned to 16; a call expects 8 off. */
__asm__(".text\n"
	".globl _start\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	and $-16, %rsp\n"
	"	call replay_main\n"
	"	hlt\n");

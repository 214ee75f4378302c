#ifndef PROCACHE_SANDBOX_RAW_SYSCALL_H
#define PROCACHE_SANDBOX_RAW_SYSCALL_H

/*
 * A system call made by our own instruction, for the two programs procache
 * puts into jobs that cannot go through libc for it: the preload library
 * (sandbox/preload/pcfast.c: its own calls must not enter the libc entries
 * it patches) and the replayer (sandbox/replay/pcreplay.c: no libc at
 * all). x86_64 only, like the rest of procache. Returns what the kernel
 * returns: a value, or -errno.
 */
static inline long raw_syscall6(long nr, long a1, long a2, long a3, long a4,
				long a5, long a6)
{
	long ret;
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#endif

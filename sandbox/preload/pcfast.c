/*
 * The fast path's preload library (DESIGN.md §3.1; the ABI it shares with
 * the tracer is sandbox/fastpath.h). Loaded into every job process with
 * LD_PRELOAD, it maps the page at FP_PAGE_ADDR and the channel, then
 * overwrites the entry of the libc functions of funcs[] with a jump to
 * its own wrappers. A wrapper makes the system call itself from the page
 * (which the seccomp filter lets through without a notification) and
 * appends a record of it to the channel; whatever it does not record goes
 * through the library's own syscall instruction, which the filter
 * notifies as it would libc's.
 *
 * Rules for this file, which runs inside arbitrary programs:
 *   - no call to a function it patches (open, stat, readlink, access...
 *     of libc): system calls are made with fp_page() or sys_raw();
 *   - wrappers keep no state of their own beyond their stack: they run in
 *     threads, in vfork children (which share the parent's memory) and in
 *     signal handlers;
 *   - nothing may make a call fail that would have succeeded: any doubt
 *     takes the notified path; any failure during set-up leaves the
 *     process entirely on it.
 * Built alone (no procache code), with libc only.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <linux/futex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/fastpath.h"
#include "sandbox/raw-syscall.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif
#ifndef SYS_faccessat2
#define SYS_faccessat2 439
#endif

/* The page's stub (fastpath.h): the C arguments into the syscall registers. */
static const unsigned char stub[] = {
	0x48, 0x89, 0xf8,	/* mov %rdi,%rax */
	0x48, 0x89, 0xf7,	/* mov %rsi,%rdi */
	0x48, 0x89, 0xd6,	/* mov %rdx,%rsi */
	0x48, 0x89, 0xca,	/* mov %rcx,%rdx */
	0x4d, 0x89, 0xc2,	/* mov %r8,%r10 */
	0x4d, 0x89, 0xc8,	/* mov %r9,%r8 */
	0x0f, 0x05,		/* syscall */
	0xc3,			/* ret */
};
_Static_assert(sizeof(stub) == FP_STUB_SYSCALL_END + 1, "stub layout");
_Static_assert(sizeof(stub) <= FP_PAGE_MEM_PATH &&
	       FP_PAGE_MEM_PATH + sizeof("/proc/self/mem") <= FP_PAGE_CHAN_PATH, "page layout");

typedef long (*fp_call_fn)(long nr, long a1, long a2, long a3, long a4, long a5);

/* Set once by the constructor, read-only afterwards. */
static fp_call_fn fp_page;
static struct fp_header *hdr;
static char *slots;

/* A system call from this library's own code: notified like libc's. */
static long sys_raw(long nr, long a1, long a2, long a3, long a4, long a5)
{
	return raw_syscall6(nr, a1, a2, a3, a4, a5, 0);
}

/* libc's convention: -1 and errno for a failure. */
static long sys_ret(long r)
{
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

/* ---------------------------------------------------------------------- */
/* records */

/* A call being recorded: capacity claimed, base read, generation taken. */
struct pending {
	uint64_t gen, epoch;
	size_t base_len, path_len;
	const char *path;
	char base[4096];
};

static int has_prefix_component(const char *p, const char *prefix)
{
	size_t n = strlen(prefix);

	return !strncmp(p, prefix, n) && (p[n] == '/' || p[n] == 0);
}

/*
 * Paths whose meaning depends on the calling process (/proc/self, the
 * /dev links into it): the tracer resolves those through /proc/PID, which
 * a record outlives, so they stay notified.
 */
static int process_relative(const char *p)
{
	return has_prefix_component(p, "/proc") || has_prefix_component(p, "/dev/fd") ||
	       has_prefix_component(p, "/dev/stdin") ||
	       has_prefix_component(p, "/dev/stdout") ||
	       has_prefix_component(p, "/dev/stderr");
}

static void give_back(void)
{
	__atomic_fetch_add(&hdr->free, 1, __ATOMIC_RELEASE);
}

/*
 * Whether (dirfd, path) can be recorded; if so a slot's capacity is
 * claimed (fp_commit() or give_back() must follow) and @pd holds the
 * base and the write generation, read before the call.
 */
static int fp_begin(struct pending *pd, int dirfd, const char *path)
{
	long n;

	if (!hdr || !path)
		return 0;
	if (__atomic_fetch_sub(&hdr->free, 1, __ATOMIC_ACQUIRE) <= 0) {
		give_back();
		__atomic_fetch_add(&hdr->fallbacks, 1, __ATOMIC_RELAXED);
		return 0;
	}
	pd->path = path;
	pd->path_len = strlen(path);
	pd->base_len = 0;
	pd->base[0] = 0;
	if (path[0] != '/') {
		if (dirfd == AT_FDCWD) {
			n = fp_page(SYS_getcwd, (long)pd->base, sizeof(pd->base), 0, 0, 0);
			if (n <= 1 || pd->base[0] != '/')
				goto no;
			pd->base_len = (size_t)n - 1;
		} else {
			char link[32] = "/proc/self/fd/";
			char *q = link + 14;
			char digits[12];
			int i = 0;
			unsigned v = (unsigned)dirfd;

			if (dirfd < 0)
				goto no;
			do
				digits[i++] = (char)('0' + v % 10);
			while ((v /= 10));
			while (i)
				*q++ = digits[--i];
			*q = 0;
			n = fp_page(SYS_readlink, (long)link, (long)pd->base,
				    sizeof(pd->base) - 1, 0, 0);
			if (n <= 0 || pd->base[0] != '/')
				goto no;
			pd->base[n] = 0;
			pd->base_len = (size_t)n;
			/* an fd of a deleted directory, or not a path at all */
			if (n >= 10 && !strcmp(pd->base + n - 10, " (deleted)"))
				goto no;
		}
		if (process_relative(pd->base))
			goto no;
	} else if (process_relative(path)) {
		goto no;
	}
	if (pd->base_len + pd->path_len + 3 > FP_DATA_MAX)
		goto no;
	pd->gen = __atomic_load_n(&hdr->gen, __ATOMIC_ACQUIRE);
	pd->epoch = __atomic_load_n(&hdr->seen_epoch, __ATOMIC_ACQUIRE);
	return 1;
no:
	give_back();
	return 0;
}

/*
 * Whether the tracer already has this lookup (fastpath.h, the seen
 * table), with the seen epoch and the write generation unchanged since
 * before the call.
 */
static int already_seen(const struct pending *pd, uint32_t nr, const uint64_t args[4])
{
	const uint64_t *seen = (const uint64_t *)((const char *)hdr + FP_SEEN_OFFSET);
	uint64_t h = fp_key_hash(pd->epoch, nr, fp_call_flags(nr, args), pd->base, pd->path);
	uint64_t i, n, e;

	for (i = h % FP_SEEN_SLOTS, n = 0;; i = (i + 1) % FP_SEEN_SLOTS) {
		e = __atomic_load_n(&seen[i], __ATOMIC_ACQUIRE);
		if (!e || ++n == FP_SEEN_SLOTS)
			return 0;
		if (e == h)
			break;
	}
	/* no forgetting, and no write, since before the call (fastpath.h) */
	return __atomic_load_n(&hdr->seen_epoch, __ATOMIC_ACQUIRE) == pd->epoch &&
	       __atomic_load_n(&hdr->gen, __ATOMIC_ACQUIRE) == pd->gen;
}

/*
 * Publish the record of a call made after fp_begin(), unless the tracer
 * already has the same lookup.
 */
static void fp_commit(struct pending *pd, uint32_t nr, uint64_t a0, uint64_t a2,
		      uint64_t a3, long ret, const struct fp_stat *st,
		      const char *value, size_t value_len)
{
	const uint64_t args[4] = { a0, 0, a2, a3 };
	uint64_t pos;
	struct fp_slot *s;
	struct fp_rec *r;
	size_t room;
	char *d;
	int spins = 0;

	if (already_seen(pd, nr, args)) {
		give_back();
		return;
	}
	pos = __atomic_fetch_add(&hdr->head, 1, __ATOMIC_RELAXED);
	s = (struct fp_slot *)(slots + (pos % FP_NR_SLOTS) * FP_SLOT_SIZE);
	r = &s->rec;

	/* free by construction (fastpath.h); spin in case of a slow consumer */
	while (__atomic_load_n(&s->seq, __ATOMIC_ACQUIRE) != FP_SEQ_FREE(pos)) {
		if (++spins > 1000000)
			return; /* a corrupt channel: the record is lost, and
				   the supervisor will see the hole */
		__builtin_ia32_pause();
	}
	r->nr = nr;
	memcpy(r->args, args, sizeof(args));
	r->gen = pd->gen;
	r->ret = ret;
	if (st)
		r->st = *st;
	else
		memset(&r->st, 0, sizeof(r->st));
	d = r->data;
	memcpy(d, pd->base, pd->base_len + 1);
	d += pd->base_len + 1;
	memcpy(d, pd->path, pd->path_len + 1);
	d += pd->path_len + 1;
	room = FP_DATA_MAX - pd->base_len - pd->path_len - 3;
	if (value_len > room)
		value_len = room;
	if (value_len)
		memcpy(d, value, value_len);
	d[value_len] = 0;
	r->base_len = (uint16_t)pd->base_len;
	r->path_len = (uint16_t)pd->path_len;
	r->value_len = (uint16_t)value_len;
	__atomic_store_n(&s->seq, FP_SEQ_PUBLISHED(pos), __ATOMIC_RELEASE);
	if (pos + 1 - __atomic_load_n(&hdr->tail, __ATOMIC_RELAXED) > FP_WAKE_USED &&
	    __atomic_load_n(&hdr->sleeping, __ATOMIC_RELAXED))
		sys_raw(SYS_futex, (long)&hdr->sleeping, FUTEX_WAKE, 1, 0, 0);
}

static void from_stat(struct fp_stat *o, const struct stat *st)
{
	o->mode = st->st_mode;
	o->nlink = (uint32_t)st->st_nlink;
	o->size = (uint64_t)st->st_size;
	o->mtime_sec = st->st_mtim.tv_sec;
	o->mtime_nsec = st->st_mtim.tv_nsec;
	o->ctime_sec = st->st_ctim.tv_sec;
	o->ctime_nsec = st->st_ctim.tv_nsec;
}

/* ---------------------------------------------------------------------- */
/* the wrappers */

static int w_openat_mode(int dirfd, const char *path, int flags, mode_t mode)
{
	struct pending pd;
	struct fp_stat fst;
	struct stat st;
	long r;

	if ((flags & FP_OPEN_WRITE_FLAGS) || !fp_begin(&pd, dirfd, path))
		return (int)sys_ret(sys_raw(SYS_openat, dirfd, (long)path, flags, mode, 0));
	r = fp_page(SYS_openat, dirfd, (long)path, flags, mode, 0);
	memset(&fst, 0, sizeof(fst));
	/* what the open found, for the tracer's check of hazard (b) */
	/* (fstat itself is notified: the page lets newfstatat through) */
	if (r >= 0 && !fp_page(SYS_newfstatat, r, (long)"", (long)&st, AT_EMPTY_PATH, 0))
		from_stat(&fst, &st);
	fp_commit(&pd, SYS_openat, (uint64_t)(int64_t)dirfd, (uint64_t)(unsigned)flags,
		  mode, r, &fst, NULL, 0);
	return (int)sys_ret(r);
}

/* open's mode argument, there only with O_CREAT or O_TMPFILE (as glibc reads it). */
#define OPEN_MODE(flags, mode)                                                 \
	do {                                                                   \
		if (((flags) & O_CREAT) || ((flags) & __O_TMPFILE) == __O_TMPFILE) { \
			va_list ap;                                            \
			va_start(ap, flags);                                   \
			(mode) = va_arg(ap, mode_t);                           \
			va_end(ap);                                            \
		}                                                              \
	} while (0)

static int w_openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	OPEN_MODE(flags, mode);
	return w_openat_mode(dirfd, path, flags, mode);
}

static int w_open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	OPEN_MODE(flags, mode);
	return w_openat_mode(AT_FDCWD, path, flags, mode);
}

/*
 * An lstat by path of a directory shows the job times that are an
 * observation (DESIGN §3), which a record read later cannot check
 * against the host (a merged directory shows its upper directory's
 * times): such a call is made again, notified, and recorded as it
 * happens.
 */
static int dir_times_shown(const char *path, int flags, unsigned mode)
{
	return *path && (flags & AT_SYMLINK_NOFOLLOW) && S_ISDIR(mode);
}

static int w_fstatat(int dirfd, const char *path, struct stat *buf, int flags)
{
	struct pending pd;
	struct fp_stat fst;
	long r;

	/*
	 * fstat() of an fd is (fd, "") with AT_EMPTY_PATH: recorded with the
	 * fd's path (/proc/self/fd/N) as the base and an empty path, as the
	 * tracer resolves the notified call (DESIGN §3.1).
	 */
	if (!fp_begin(&pd, dirfd, path))
		return (int)sys_ret(sys_raw(SYS_newfstatat, dirfd, (long)path, (long)buf,
					    flags, 0));
	r = fp_page(SYS_newfstatat, dirfd, (long)path, (long)buf, flags, 0);
	if (!r && dir_times_shown(path, flags, buf->st_mode)) {
		give_back();
		return (int)sys_ret(sys_raw(SYS_newfstatat, dirfd, (long)path, (long)buf,
					    flags, 0));
	}
	memset(&fst, 0, sizeof(fst));
	if (!r)
		from_stat(&fst, buf);
	fp_commit(&pd, SYS_newfstatat, (uint64_t)(int64_t)dirfd, 0, (uint64_t)(unsigned)flags,
		  r, &fst, NULL, 0);
	return (int)sys_ret(r);
}

static int w_stat(const char *path, struct stat *buf)
{
	return w_fstatat(AT_FDCWD, path, buf, 0);
}

static int w_lstat(const char *path, struct stat *buf)
{
	return w_fstatat(AT_FDCWD, path, buf, AT_SYMLINK_NOFOLLOW);
}

/* glibc's compatibility entries: version 0 (kernel) or 1 (_STAT_VER_LINUX). */
static int w_xstat(int ver, const char *path, struct stat *buf)
{
	if (ver != 0 && ver != 1)
		return (int)sys_ret(-EINVAL);
	return w_fstatat(AT_FDCWD, path, buf, 0);
}

static int w_lxstat(int ver, const char *path, struct stat *buf)
{
	if (ver != 0 && ver != 1)
		return (int)sys_ret(-EINVAL);
	return w_fstatat(AT_FDCWD, path, buf, AT_SYMLINK_NOFOLLOW);
}

static int w_fxstatat(int ver, int dirfd, const char *path, struct stat *buf, int flags)
{
	if (ver != 0 && ver != 1)
		return (int)sys_ret(-EINVAL);
	return w_fstatat(dirfd, path, buf, flags);
}

/*
 * Only programs and libraries built against a glibc older than 2.33 call
 * these (glibc itself no longer does), through their PLT: exported here,
 * the library's definitions come first in the lookup order (LD_PRELOAD)
 * and take those calls without a patch of libc's text, which would copy
 * one more page of it in every process (an unversioned definition
 * satisfies the versioned reference, __xstat@GLIBC_2.2.5).
 */
#define EXPORT(name, wrapper) \
	__typeof__(wrapper) name __attribute__((alias(#wrapper), visibility("default")))
EXPORT(__xstat, w_xstat);
EXPORT(__xstat64, w_xstat);
EXPORT(__lxstat, w_lxstat);
EXPORT(__lxstat64, w_lxstat);
EXPORT(__fxstatat, w_fxstatat);
EXPORT(__fxstatat64, w_fxstatat);
#undef EXPORT

static int w_statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *buf)
{
	const unsigned want = STATX_TYPE | STATX_MODE | STATX_NLINK | STATX_SIZE |
			      STATX_MTIME | STATX_CTIME;
	struct pending pd;
	struct fp_stat fst;
	long r;

	if (!fp_begin(&pd, dirfd, path)) /* (fd, "") as in w_fstatat() */
		return (int)sys_ret(sys_raw(SYS_statx, dirfd, (long)path, flags, mask,
					    (long)buf));
	r = fp_page(SYS_statx, dirfd, (long)path, flags, mask, (long)buf);
	memset(&fst, 0, sizeof(fst));
	if (!r && (buf->stx_mask & want) == want) {
		fst.mode = buf->stx_mode;
		fst.nlink = buf->stx_nlink;
		fst.size = buf->stx_size;
		fst.mtime_sec = buf->stx_mtime.tv_sec;
		fst.mtime_nsec = buf->stx_mtime.tv_nsec;
		fst.ctime_sec = buf->stx_ctime.tv_sec;
		fst.ctime_nsec = buf->stx_ctime.tv_nsec;
	} else if (!r) {
		/*
		 * The kernel returns only what was asked for, times included:
		 * the record needs all of it to compare with the host (the
		 * tracer's first look at the path may come after a change).
		 * A second look right after the call stands for it.
		 */
		struct stat st;

		if (!fp_page(SYS_newfstatat, dirfd, (long)path, (long)&st,
			     flags & (AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH), 0))
			from_stat(&fst, &st);
	}
	if (!r && dir_times_shown(path, flags, fst.mode)) {
		give_back();
		return (int)sys_ret(sys_raw(SYS_statx, dirfd, (long)path, flags, mask,
					    (long)buf));
	}
	fp_commit(&pd, SYS_statx, (uint64_t)(int64_t)dirfd, (uint64_t)(unsigned)flags, mask,
		  r, &fst, NULL, 0);
	return (int)sys_ret(r);
}

static ssize_t readlink_common(long nr, int dirfd, const char *path, char *buf, size_t len)
{
	struct pending pd;
	long r;

	if (!fp_begin(&pd, dirfd, path))
		return nr == SYS_readlink
			       ? sys_ret(sys_raw(nr, (long)path, (long)buf, (long)len, 0, 0))
			       : sys_ret(sys_raw(nr, dirfd, (long)path, (long)buf, (long)len, 0));
	if (nr == SYS_readlink)
		r = fp_page(nr, (long)path, (long)buf, (long)len, 0, 0);
	else
		r = fp_page(nr, dirfd, (long)path, (long)buf, (long)len, 0);
	fp_commit(&pd, (uint32_t)nr, nr == SYS_readlink ? 0 : (uint64_t)(int64_t)dirfd,
		  (uint64_t)len, 0, r, NULL, buf, r > 0 ? (size_t)r : 0);
	return sys_ret(r);
}

static ssize_t w_readlink(const char *path, char *buf, size_t len)
{
	return readlink_common(SYS_readlink, AT_FDCWD, path, buf, len);
}

static ssize_t w_readlinkat(int dirfd, const char *path, char *buf, size_t len)
{
	return readlink_common(SYS_readlinkat, dirfd, path, buf, len);
}

static int w_access(const char *path, int mode)
{
	struct pending pd;
	long r;

	if (!fp_begin(&pd, AT_FDCWD, path))
		return (int)sys_ret(sys_raw(SYS_access, (long)path, mode, 0, 0, 0));
	r = fp_page(SYS_access, (long)path, mode, 0, 0, 0);
	fp_commit(&pd, SYS_access, 0, 0, 0, r, NULL, NULL, 0);
	return (int)sys_ret(r);
}

/* Only patched when the kernel has faccessat2 (glibc's first choice). */
static int w_faccessat(int dirfd, const char *path, int mode, int flags)
{
	struct pending pd;
	long r;

	if (!fp_begin(&pd, dirfd, path))
		return (int)sys_ret(sys_raw(SYS_faccessat2, dirfd, (long)path, mode, flags, 0));
	r = fp_page(SYS_faccessat2, dirfd, (long)path, mode, flags, 0);
	fp_commit(&pd, SYS_faccessat2, (uint64_t)(int64_t)dirfd, (uint64_t)(unsigned)mode,
		  (uint64_t)(unsigned)flags, r, NULL, NULL, 0);
	return (int)sys_ret(r);
}

/*
 * execve of a path that is not there: a PATH search (execvp, posix_spawnp,
 * gcc's search for `as`) tries each directory in turn, and most tries
 * fail. Such a try is a stat from the page, recorded as the stat it is,
 * and answered ENOENT without the notified round trip (DESIGN §3.1
 * "Failed execs"): execve's lookup is stat's (following symlinks), so
 * when the stat finds ENOENT the exec at that moment would have failed
 * with ENOENT too, having done nothing. Anything else (found, another
 * error, not recordable) is the notified execve.
 */
static int w_execve(const char *path, char *const argv[], char *const envp[])
{
	struct pending pd;
	struct stat st;
	struct fp_stat fst;
	long r;

	if (fp_begin(&pd, AT_FDCWD, path)) {
		r = fp_page(SYS_newfstatat, AT_FDCWD, (long)path, (long)&st, 0, 0);
		if (r == -ENOENT) {
			memset(&fst, 0, sizeof(fst));
			fp_commit(&pd, SYS_newfstatat, (uint64_t)(int64_t)AT_FDCWD, 0, 0, r,
				  &fst, NULL, 0);
			return (int)sys_ret(r);
		}
		give_back();
	}
	return (int)sys_ret(sys_raw(SYS_execve, (long)path, (long)argv, (long)envp, 0, 0));
}

/* ---------------------------------------------------------------------- */
/* set-up */

enum patch_when {
	ALWAYS,
	IF_FACCESSAT2,	/* the kernel has faccessat2 */
};

/* One row per libc function (aliases at one address are patched once). */
static const struct {
	const char *name;
	void *wrapper;
	enum patch_when when;
} funcs[] = {
	{ "open", (void *)w_open, ALWAYS },
	{ "open64", (void *)w_open, ALWAYS },
	{ "__open_nocancel", (void *)w_open, ALWAYS },
	{ "__open64_nocancel", (void *)w_open, ALWAYS },
	{ "openat", (void *)w_openat, ALWAYS },
	{ "openat64", (void *)w_openat, ALWAYS },
	{ "fstatat", (void *)w_fstatat, ALWAYS },
	{ "fstatat64", (void *)w_fstatat, ALWAYS },
	{ "stat", (void *)w_stat, ALWAYS },
	{ "stat64", (void *)w_stat, ALWAYS },
	{ "lstat", (void *)w_lstat, ALWAYS },
	{ "lstat64", (void *)w_lstat, ALWAYS },
	{ "statx", (void *)w_statx, ALWAYS },
	{ "readlink", (void *)w_readlink, ALWAYS },
	{ "readlinkat", (void *)w_readlinkat, ALWAYS },
	{ "access", (void *)w_access, ALWAYS },
	{ "faccessat", (void *)w_faccessat, IF_FACCESSAT2 },
	{ "execve", (void *)w_execve, ALWAYS },
};

#define PAGE_OF(a) ((uintptr_t)(a) & ~(uintptr_t)4095)
#define NR_FUNCS (sizeof(funcs) / sizeof(funcs[0]))

/* A jump to write over a function's entry. */
struct patch {
	unsigned char *at;
	unsigned char code[14];
	size_t len;
};

/*
 * The jump from @fn (@size bytes long) to @to: 5 bytes if in reach, else
 * 14; after an endbr64 (kept for indirect calls under IBT). 0, or -1 when
 * the function is too short.
 */
static int plan_patch(unsigned char *fn, size_t size, void *to, struct patch *p)
{
	size_t off = 0;
	intptr_t rel;

	if (size >= 4 && fn[0] == 0xf3 && fn[1] == 0x0f && fn[2] == 0x1e && fn[3] == 0xfa)
		off = 4;
	rel = (intptr_t)to - (intptr_t)(fn + off + 5);
	if (rel >= INT32_MIN && rel <= INT32_MAX) {
		int32_t r32 = (int32_t)rel;

		p->code[0] = 0xe9; /* jmp rel32 */
		memcpy(p->code + 1, &r32, 4);
		p->len = 5;
	} else {
		uint64_t abs = (uint64_t)(uintptr_t)to;

		p->code[0] = 0xff; /* jmp *0(%rip) */
		p->code[1] = 0x25;
		memset(p->code + 2, 0, 4);
		memcpy(p->code + 6, &abs, 8);
		p->len = 14;
	}
	if (off + p->len > size)
		return -1;
	p->at = fn + off;
	return 0;
}

/* The longest stretch of libc's text written at once (patch_runs()). */
#define RUN_MAX (4 * 4096)

/*
 * Write every planned jump. Through /proc/self/mem, which writes a
 * read-only private mapping as a debugger does: each page written is
 * copied once and keeps its protection, with no mprotect (which changes
 * every mapped page's entry, dear on a virtual machine). The jumps are
 * written in runs, one write per stretch of adjacent pages (the bytes
 * between two jumps written back as they are): a write costs a system
 * call and a walk of the page tables each, and most jumps share a page.
 * When that is refused, libc's text is made writable over the span of
 * the patched functions, written, and made executable again, with only
 * our own code and system calls running meanwhile.
 */
static void apply_patches(struct patch *p, size_t n)
{
	const char *mem = (const char *)(FP_PAGE_ADDR + FP_PAGE_MEM_PATH);
	uintptr_t first = UINTPTR_MAX, last = 0;
	unsigned char run[RUN_MAX];
	size_t i, j, k;
	long fd;
	int ok = 1;

	if (!n)
		return;
	/* by address (insertion sort: a few dozen at most) */
	for (i = 1; i < n; i++) {
		struct patch tmp = p[i];

		for (j = i; j > 0 && p[j - 1].at > tmp.at; j--)
			p[j] = p[j - 1];
		p[j] = tmp;
	}
	fd = fp_page(SYS_openat, AT_FDCWD, (long)mem, O_RDWR | O_CLOEXEC, 0, 0);
	for (i = 0; fd >= 0 && ok && i < n; i = j) {
		unsigned char *start = p[i].at, *end = p[i].at + p[i].len;

		for (j = i + 1; j < n; j++) {
			unsigned char *e = p[j].at + p[j].len;

			if (PAGE_OF(p[j].at) > PAGE_OF(end - 1) + 4096 ||
			    (size_t)(e - start) > RUN_MAX)
				break;
			if (e > end)
				end = e;
		}
		memcpy(run, start, (size_t)(end - start));
		for (k = i; k < j; k++)
			memcpy(run + (p[k].at - start), p[k].code, p[k].len);
		ok = sys_raw(SYS_pwrite64, fd, (long)run, (long)(end - start), (long)start, 0) ==
		     (long)(end - start);
	}
	if (fd >= 0)
		sys_raw(SYS_close, fd, 0, 0, 0, 0);
	if (fd >= 0 && ok)
		return;
	/* the rest through mprotect (rewriting any is harmless) */
	for (i = 0; i < n; i++) {
		if (PAGE_OF(p[i].at) < first)
			first = PAGE_OF(p[i].at);
		if (PAGE_OF(p[i].at + p[i].len - 1) > last)
			last = PAGE_OF(p[i].at + p[i].len - 1);
	}
	/* more than 4 MiB apart: not one libc's text; leave it alone */
	if (last - first >= (4u << 20) ||
	    sys_raw(SYS_mprotect, (long)first, (long)(last - first + 4096),
		    PROT_READ | PROT_WRITE, 0, 0))
		return;
	for (i = 0; i < n; i++)
		for (k = 0; k < p[i].len; k++)
			((volatile unsigned char *)p[i].at)[k] = p[i].code[k];
	while (sys_raw(SYS_mprotect, (long)first, (long)(last - first + 4096),
		       PROT_READ | PROT_EXEC, 0, 0))
		; /* nothing of libc can run until this succeeds */
}

/* libc's dynamic symbol table, for the size of a function. */
struct symtab {
	uintptr_t base;
	const ElfW(Sym) *sym;
	const char *str;
	const uint32_t *gnu_hash;
};

static int symtab_init(void *handle, struct symtab *st)
{
	struct link_map *lm = NULL;
	const ElfW(Dyn) *d;

	memset(st, 0, sizeof(*st));
	if (dlinfo(handle, RTLD_DI_LINKMAP, &lm) || !lm || !lm->l_ld)
		return -1;
	st->base = lm->l_addr;
	for (d = lm->l_ld; d->d_tag != DT_NULL; d++) {
		/* ld.so may have relocated these in place, or not */
		uintptr_t p = d->d_un.d_ptr < st->base ? d->d_un.d_ptr + st->base : d->d_un.d_ptr;

		if (d->d_tag == DT_SYMTAB)
			st->sym = (const ElfW(Sym) *)p;
		else if (d->d_tag == DT_STRTAB)
			st->str = (const char *)p;
		else if (d->d_tag == DT_GNU_HASH)
			st->gnu_hash = (const uint32_t *)p;
	}
	return st->sym && st->str && st->gnu_hash ? 0 : -1;
}

/*
 * The symbol of @name at address @fn (a default or older version), by
 * the GNU hash table (dladdr1() scans every symbol: most of the cost of
 * starting, when called for each function), or NULL.
 */
static const ElfW(Sym) *symtab_find(const struct symtab *st, const char *name, const void *fn)
{
	const uint32_t nbuckets = st->gnu_hash[0], symoffset = st->gnu_hash[1];
	const uint32_t bloom_size = st->gnu_hash[2];
	const uint32_t *buckets = st->gnu_hash + 4 + bloom_size * (sizeof(ElfW(Addr)) / 4);
	const uint32_t *chain = buckets + nbuckets;
	uint32_t h = 5381, i;
	const unsigned char *c;

	for (c = (const unsigned char *)name; *c; c++)
		h = h * 33 + *c;
	if (!nbuckets)
		return NULL;
	i = buckets[h % nbuckets];
	if (i < symoffset)
		return NULL;
	for (;; i++) {
		uint32_t ch = chain[i - symoffset];
		const ElfW(Sym) *sym = &st->sym[i];

		if ((ch | 1) == (h | 1) && !strcmp(st->str + sym->st_name, name) &&
		    (const void *)(st->base + sym->st_value) == fn)
			return sym;
		if (ch & 1)
			return NULL;
	}
}

static void patch_all(void *libc)
{
	struct patch plan[NR_FUNCS];
	struct symtab st;
	size_t n = 0, i, k;
	int have_faccessat2;

	if (symtab_init(libc, &st) < 0)
		return;
	/* an empty path: ENOENT where the call exists */
	have_faccessat2 = fp_page(SYS_faccessat2, AT_FDCWD, (long)"", 0, 0, 0) != -ENOSYS;
	for (i = 0; i < NR_FUNCS; i++) {
		unsigned char *fn = dlsym(libc, funcs[i].name);
		const ElfW(Sym) *sym;

		if (!fn || (funcs[i].when == IF_FACCESSAT2 && !have_faccessat2))
			continue;
		for (k = 0; k < n; k++)
			if (plan[k].at == fn || plan[k].at == fn + 4)
				break;
		if (k < n)
			continue; /* an alias of a function already planned */
		sym = symtab_find(&st, funcs[i].name, fn);
		if (!sym || ELF64_ST_TYPE(sym->st_info) != STT_FUNC)
			continue;
		if (!plan_patch(fn, sym->st_size, funcs[i].wrapper, &plan[n]))
			n++;
	}
	apply_patches(plan, n);
}

/*
 * Map the channel and check its header; 0 or -1. Its path is opened from
 * the page where it is written (the filter's exception, fastpath.h).
 */
static int map_channel(void)
{
	const char *chan = (const char *)(FP_PAGE_ADDR + FP_PAGE_CHAN_PATH);
	long fd, p;
	struct fp_header *h;

	fd = fp_page(SYS_openat, AT_FDCWD, (long)chan, O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0, 0);
	if (fd < 0)
		return -1;
	/*
	 * Not populated: a process touches a few pages of it, each fault
	 * maps its neighbours too (fault-around), writable (tmpfs keeps no
	 * dirty state), and prefaulting all of it costs more than that
	 * where page tables are dear (a virtual machine).
	 */
	p = raw_syscall6(SYS_mmap, 0, (long)FP_CHAN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	sys_raw(SYS_close, fd, 0, 0, 0, 0);
	if (p < 0 && p > -4096)
		return -1;
	h = (struct fp_header *)p;
	if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != FP_MAGIC ||
	    h->version != FP_ABI_VERSION ||
	    h->nr_slots != FP_NR_SLOTS || h->slot_size != FP_SLOT_SIZE) {
		sys_raw(SYS_munmap, p, (long)FP_CHAN_SIZE, 0, 0, 0);
		return -1;
	}
	slots = (char *)p + FP_HEADER_SIZE;
	hdr = h;
	return 0;
}

/*
 * Map the page at its fixed address with the stub and the channel's path;
 * 0 or -1.
 */
static int map_page(void)
{
	const char *chan = getenv(FP_CHAN_ENV);
	long p;
	size_t n;

	if (!chan || !*chan)
		chan = FP_CHAN_PATH;
	n = strlen(chan);
	if (n >= FP_PAGE_SIZE - FP_PAGE_CHAN_PATH)
		return -1;
	p = raw_syscall6(SYS_mmap, (long)FP_PAGE_ADDR, FP_PAGE_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p != (long)FP_PAGE_ADDR) {
		/* taken, or a kernel that took the address as a hint */
		if (p >= 0 || p < -4095)
			sys_raw(SYS_munmap, p, FP_PAGE_SIZE, 0, 0, 0);
		return -1;
	}
	memcpy((void *)p, stub, sizeof(stub));
	memcpy((char *)p + FP_PAGE_MEM_PATH, "/proc/self/mem", sizeof("/proc/self/mem"));
	memcpy((char *)p + FP_PAGE_CHAN_PATH, chan, n + 1);
	if (sys_raw(SYS_mprotect, p, FP_PAGE_SIZE, PROT_READ | PROT_EXEC, 0, 0)) {
		sys_raw(SYS_munmap, p, FP_PAGE_SIZE, 0, 0, 0);
		return -1;
	}
	fp_page = (fp_call_fn)p;
	return 0;
}

__attribute__((constructor)) static void fp_init(void)
{
	void *libc;

	libc = dlopen("libc.so.6", RTLD_NOLOAD | RTLD_LAZY);
	if (!libc || !dlsym(libc, "gnu_get_libc_version"))
		return; /* not glibc: everything stays notified */
	if (map_page() < 0)
		return;
	if (map_channel() < 0)
		return;
	patch_all(libc);
}

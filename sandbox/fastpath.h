/*
 * The fast path's ABI (DESIGN.md §3.1): what the preload library
 * (sandbox/preload/pcfast.c, in the job's processes) and the tracer
 * (sandbox/trace-fast.c, in the supervisor) share. Plain C11 with no
 * procache header, so that the library builds alone.
 *
 * The channel file, mapped shared by both:
 *
 *	offset 0		struct fp_header (one page)
 *	FP_HEADER_SIZE + i * FP_SLOT_SIZE, i < FP_NR_SLOTS
 *				struct fp_slot: a sequence number, a record
 *	FP_SEEN_OFFSET		uint64_t seen[FP_SEEN_SLOTS]: lookups already
 *				recorded (below)
 *
 * A bounded multi-producer, single-consumer queue with a sequence number
 * per slot (D. Vyukov's), stored relative to the slot's index so that a
 * zero-filled file is a valid empty queue (no page is touched to set it
 * up): position pos lives in slot pos % N, whose word is pos - pos % N
 * when free for that position and pos - pos % N + 1 once published. A
 * producer first claims capacity (free > 0, decremented), makes its
 * system call, then takes pos = head++, waits for the slot to be free for
 * pos, writes the record and publishes it (release). The consumer reads
 * position tail once published (acquire), then frees the slot for
 * tail + N, moves tail on and gives the capacity back (free++). A
 * position taken and not yet published (its producer preempted between
 * head++ and publishing) does not hold back the ones behind it: the
 * consumer reads those ahead of it and frees their slots only when the
 * tail gets there, so a slot always holds one position.
 *
 * The seen table is the tracer's set of lookups whose observations are
 * complete (trace-internal.h, struct trace: seen) as the library can test
 * it: fp_key_hash() of the seen epoch and of what a record holds (the
 * call, its flag argument, base and path), open addressing, 0 = empty,
 * FP_SEEN_TOMB = an entry the tracer forgot (a write touched a path its
 * lookup went through). Only the tracer writes it. A call whose hash is
 * there, with the same seen epoch and write generation before and after
 * the call, is not published: the tracer would have found it in its set
 * and recorded nothing (the tracer forgets entries before it moves the
 * generation on and answers the write, so a call that still finds its
 * entry after a write that forgot it sees a new generation). The epoch
 * moves on when the tracer forgets its whole set or clears a full
 * table, so no older entry matches.
 *
 * Every integer is native-endian: both sides run on one machine.
 * FP_ABI_VERSION changes with any change of this file's layouts.
 */
#ifndef PROCACHE_SANDBOX_FASTPATH_H
#define PROCACHE_SANDBOX_FASTPATH_H

#include <stdint.h>

#define FP_MAGIC 0x6e61686366637070ull /* "ppcfchan" */
#define FP_ABI_VERSION 3

/*
 * The page with the system-call stub, mapped by the library at this
 * fixed address (below 2 GiB: under the shadow ranges of the sanitizers'
 * runtimes), and the offset of the instruction right after its syscall
 * instruction: the instruction pointer the filter allows (DESIGN §3.1).
 * The stub (x86_64): mov %rdi,%rax; mov %rsi,%rdi; mov %rdx,%rsi;
 * mov %rcx,%rdx; mov %r8,%r10; mov %r9,%r8; syscall; ret — a C call
 * fp_syscall(nr, a1..a5) with at most five arguments.
 */
#define FP_PAGE_ADDR 0x5ff00000ul
#define FP_PAGE_SIZE 4096
#define FP_STUB_SYSCALL_END 20
/*
 * Paths the library writes in the page before making it read-only: the
 * channel's, and /proc/self/mem (its own libc is patched through it). An
 * openat from the page whose path argument points into the page is the
 * library's own, not the job's: the filter lets it through whatever its
 * flags, and nothing records it.
 */
#define FP_PAGE_CHAN_PATH 64
#define FP_PAGE_MEM_PATH 32

/* Where the job finds the library and the channel (binds into /dev). */
#define FP_VIEW_DIR "/dev/.procache"
#define FP_LIB_NAME "fastpath.so"
#define FP_CHAN_NAME "fastpath.chan"
#define FP_LIB_PATH FP_VIEW_DIR "/" FP_LIB_NAME
#define FP_CHAN_PATH FP_VIEW_DIR "/" FP_CHAN_NAME
/* Tests without a sandbox: the channel's path instead of FP_CHAN_PATH. */
#define FP_CHAN_ENV "PROCACHE_FAST_CHANNEL"

#define FP_HEADER_SIZE 4096
#define FP_SLOT_SIZE 1024
#define FP_NR_SLOTS 1024
#define FP_SEEN_OFFSET (FP_HEADER_SIZE + (uint64_t)FP_SLOT_SIZE * FP_NR_SLOTS)
#define FP_SEEN_SLOTS 16384
#define FP_SEEN_TOMB UINT64_MAX
#define FP_CHAN_SIZE (FP_SEEN_OFFSET + sizeof(uint64_t) * FP_SEEN_SLOTS)
/* A producer wakes the supervisor when more slots than this are used. */
#define FP_WAKE_USED (FP_NR_SLOTS / 4)

/* What the call learned of its object, for the hazard check (b). */
struct fp_stat {
	uint32_t mode;		/* st_mode; 0 = not known */
	uint32_t nlink;
	uint64_t size;
	int64_t mtime_sec, mtime_nsec;
	int64_t ctime_sec, ctime_nsec;
};

/*
 * One call: the system call the library made and its arguments, as the
 * tracer would have read them from a notification, with the path
 * argument and the directory it is relative to given as strings (a
 * record outlives the process's cwd and fds). The tracer handles it as
 * that call's notification (trace-notify.c).
 */
struct fp_rec {
	uint32_t nr;		/* x86_64 system call number */
	uint16_t base_len;	/* bytes of the base (0: the path is absolute) */
	uint16_t path_len;	/* bytes of the path */
	uint16_t value_len;	/* bytes of the value (readlink's target) */
	uint16_t pad;
	uint32_t pad2;
	uint64_t args[4];	/* the call's arguments (pointers: meaningless) */
	uint64_t gen;		/* write generation read before the call */
	int64_t ret;		/* the result, or -errno */
	struct fp_stat st;	/* what the call saw of its object */
	/* base NUL path NUL value NUL, within the slot */
	char data[];
};

struct fp_slot {
	_Alignas(64) uint64_t seq;	/* atomic; relative (above) */
	struct fp_rec rec;
};

/* The word of the slot of @pos when it is free for @pos, and published. */
#define FP_SEQ_FREE(pos) ((pos) - (pos) % FP_NR_SLOTS)
#define FP_SEQ_PUBLISHED(pos) (FP_SEQ_FREE(pos) + 1)

/* Room for base, path and value with their three NULs. */
#define FP_DATA_MAX (FP_SLOT_SIZE - sizeof(struct fp_slot))

struct fp_header {
	uint64_t magic;
	uint32_t version;
	uint32_t nr_slots, slot_size, pad0;
	/* producers; atomic */
	_Alignas(64) uint64_t head;	/* next position */
	int64_t free;			/* slots not claimed */
	uint64_t fallbacks;		/* calls notified for want of a slot */
	_Alignas(64) uint64_t gen;	/* write generation (supervisor) */
	uint64_t seen_epoch;		/* of the seen table (supervisor) */
	_Alignas(64) uint64_t tail;	/* consumer position (supervisor) */
	uint32_t sleeping;		/* futex word: 1 while the drainer waits */
};

/*
 * The seen table's key of a call: a 64-bit hash (collisions between the
 * few thousand lookups of a run are out of reach) of the epoch, the
 * system call, its flag argument and its two strings. 0 is never
 * returned (it marks an empty entry).
 */
static inline uint64_t fp_mix(uint64_t h, uint64_t v)
{
	h ^= v * 0x9e3779b97f4a7c15ull;
	h = (h ^ (h >> 32)) * 0xd6e8feb86659fd93ull;
	return h ^ (h >> 29);
}

static inline uint64_t fp_hash_str(uint64_t h, const char *s)
{
	uint64_t v;
	const unsigned char *p = (const unsigned char *)s;
	int i;

	for (;;) {
		v = 0;
		for (i = 0; i < 8 && p[i]; i++)
			v |= (uint64_t)p[i] << (8 * i);
		h = fp_mix(h, v ^ (uint64_t)i << 56);
		if (i < 8)
			return h;
		p += 8;
	}
}

static inline uint64_t fp_key_hash(uint64_t epoch, uint32_t nr, uint64_t flags,
				   const char *base, const char *path)
{
	uint64_t h = fp_mix(fp_mix(fp_mix(0x2545f4914f6cdd1dull, epoch), nr), flags);

	h = fp_hash_str(fp_hash_str(h, base), path);
	return h && h != FP_SEEN_TOMB ? h : 1;
}

/* The argument of call @nr that the tracer's handling depends on: flags. */
static inline uint64_t fp_call_flags(uint32_t nr, const uint64_t args[4])
{
	switch (nr) {
	case 257:	/* openat */
	case 332:	/* statx */
		return args[2];
	case 262:	/* newfstatat */
	case 439:	/* faccessat2 */
		return args[3];
	default:	/* readlink, readlinkat, access */
		return 0;
	}
}

/*
 * The calls the filter lets through from the page (anything else from it
 * goes to the rules of DESIGN §5 as from anywhere): x86_64 numbers.
 */
#define FP_ALLOWED_NRS	{ 257 /* openat */, 262 /* newfstatat */, 332 /* statx */, \
			  89 /* readlink */, 267 /* readlinkat */, 21 /* access */, \
			  269 /* faccessat */, 439 /* faccessat2 */ }
/* openat's flags that make it a write: such an open from the page is
 * notified all the same (O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, __O_TMPFILE). */
#define FP_OPEN_WRITE_FLAGS (01 | 02 | 0100 | 01000 | 020000000)

#endif

/*
 * The fast path's channel, in the supervisor (DESIGN.md §3.1; the ABI is
 * sandbox/fastpath.h, the library sandbox/preload/pcfast.c): the files a
 * run shows the job (the library, embedded in procache, and the channel),
 * taking records off the channel and checking them, the write generation
 * with its log of the paths each notified write touched, the futex the
 * drainer sleeps on, and the filter's instruction-pointer rule.
 *
 * What a record means is decided by trace-notify.c, which handles it as
 * the notification of the same call.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/hash.h"
#include "common/hex.h"
#include "common/path.h"
#include "common/xalloc.h"
#include "sandbox/fastpath.h"
#include "sandbox/trace-internal.h"

#include "common/banned.h"

/* How many notified writes the log remembers (DESIGN §3.1 "Ordering"). */
#define FAST_LOG_SIZE 4096

struct touched {
	uint64_t gen;
	char *path;	/* job view; "/" for "everything" */
	bool job;	/* job state before the write, which left it so
			   (trace-internal.h, trace_fast_wrote()) */
};

struct trace_fast {
	struct fp_header *hdr;
	char *slots;
	char *chan_path;		/* host path, in the run directory */
	uint64_t tail;			/* oldest position not freed */
	/*
	 * Slots handled ahead of a position not yet published: left
	 * published (not freed, their capacity not given back) until the
	 * tail reaches them, so a slot's flag names one position.
	 */
	bool ahead[FP_NR_SLOTS];
	uint64_t gen;			/* == hdr->gen, written by us only */
	uint64_t seen_epoch;		/* == hdr->seen_epoch, likewise */
	size_t nr_seen;			/* entries in the seen table */
	long owner[FP_SEEN_SLOTS];	/* the seen set's entry id of each */
	struct touched log[FAST_LOG_SIZE];
	uint64_t log_next;		/* entries written so far */
	int root_fd, mntns_fd;		/* the job's root and mount namespace */
	uint64_t malformed;
};

static char version[17];

const char *trace_fast_version(void)
{
	if (!version[0]) {
		struct pc_hash h;

		pc_hash_buffer(fp_lib_bytes, (size_t)(fp_lib_end - fp_lib_bytes), &h);
		hex_encode(h.b, 8, version);
		version[16] = 0;
	}
	return version;
}

/* Map the channel file @fd and write its header; 0 or -errno. */
static int map_channel(struct trace *t, int fd)
{
	struct trace_fast *f = t->fast;
	struct fp_header *h;
	void *p;

	p = mmap(NULL, FP_CHAN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	h = p;
	f->slots = (char *)p + FP_HEADER_SIZE;
	h->version = FP_ABI_VERSION;
	h->nr_slots = FP_NR_SLOTS;
	h->slot_size = FP_SLOT_SIZE;
	atomic_store_explicit((_Atomic int64_t *)&h->free,
			      t->cfg.fast_slots && t->cfg.fast_slots < FP_NR_SLOTS ?
			      t->cfg.fast_slots : FP_NR_SLOTS,
			      memory_order_relaxed);
	/* the magic last: a library that sees it sees the rest */
	atomic_store_explicit((_Atomic uint64_t *)&h->magic, FP_MAGIC, memory_order_release);
	f->hdr = h;
	return 0;
}

int trace_fast_setup(struct trace *t, const char *dir, struct strbuf *err)
{
	_cleanup_close_ int dfd = -1, fd = -1;
	int r;

	t->fast = xcalloc(1, sizeof(*t->fast));
	t->fast->root_fd = t->fast->mntns_fd = -1;
	if (!dir)
		return 0; /* the sandbox makes it: mapped by trace_fast_hold_view() */
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		r = strbuf_error(err, -errno, "cannot open '%s': %s", dir, strerror(errno));
		goto fail;
	}
	fd = openat(dfd, FP_CHAN_NAME, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)FP_CHAN_SIZE) < 0 || (r = map_channel(t, fd)) < 0) {
		r = strbuf_error(err, -errno, "cannot make '%s/%s': %s", dir, FP_CHAN_NAME,
				 strerror(errno));
		goto fail;
	}
	t->fast->chan_path = path_join(dir, FP_CHAN_NAME);
	return 0;
fail:
	free(t->fast);
	t->fast = NULL;
	return r;
}

void trace_fast_release(struct trace *t)
{
	struct trace_fast *f = t->fast;
	size_t i;

	if (!f)
		return;
	if (f->hdr)
		munmap(f->hdr, FP_CHAN_SIZE);
	/* the entries written only: the rest are pages never touched */
	for (i = 0; i < FAST_LOG_SIZE && i < f->log_next; i++)
		free(f->log[i].path);
	if (f->root_fd >= 0)
		close(f->root_fd);
	if (f->mntns_fd >= 0)
		close(f->mntns_fd);
	free(f->chan_path);
	free(f);
	t->fast = NULL;
}

void trace_fast_keep_view(struct trace *t, int fds[2])
{
	struct trace_fast *f = t->fast;

	fds[0] = f ? f->root_fd : -1;
	fds[1] = f ? f->mntns_fd : -1;
	if (f)
		f->root_fd = f->mntns_fd = -1;
}

const char *trace_fast_channel(const struct trace *t)
{
	return t->fast ? t->fast->chan_path : NULL;
}

int trace_fast_hold_view(struct trace *t, pid_t pid)
{
	struct trace_fast *f = t->fast;
	_cleanup_close_ int fd = -1;
	char p[64];

	if (!f || f->root_fd >= 0)
		return 0;
	snprintf(p, sizeof(p), "/proc/%d/ns/mnt", (int)pid);
	f->mntns_fd = open(p, O_RDONLY | O_CLOEXEC);
	snprintf(p, sizeof(p), "/proc/%d/root", (int)pid);
	f->root_fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (f->hdr)
		return 0;
	/* the channel the sandbox made, in its tmpfs (trace_hooks' binds) */
	if (f->root_fd < 0)
		return -errno;
	fd = openat(f->root_fd, FP_CHAN_PATH + 1, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	return map_channel(t, fd);
}

int trace_fast_root(const struct trace *t)
{
	return t->fast ? t->fast->root_fd : -1;
}

/* ---------------------------------------------------------------------- */
/* records */

static struct fp_slot *slot_at(const struct trace_fast *f, uint64_t pos)
{
	return (struct fp_slot *)(f->slots + (pos % FP_NR_SLOTS) * FP_SLOT_SIZE);
}

static bool published(const struct fp_slot *s, uint64_t pos)
{
	return atomic_load_explicit((_Atomic uint64_t *)&s->seq, memory_order_acquire) ==
	       FP_SEQ_PUBLISHED(pos);
}

/* Free the slot of the tail position (handled) for the next lap. */
static void free_tail(struct trace_fast *f, struct fp_slot *s)
{
	f->ahead[f->tail % FP_NR_SLOTS] = false;
	atomic_store_explicit((_Atomic uint64_t *)&s->seq, FP_SEQ_FREE(f->tail + FP_NR_SLOTS),
			      memory_order_release);
	f->tail++;
	atomic_store_explicit((_Atomic uint64_t *)&f->hdr->tail, f->tail, memory_order_relaxed);
	atomic_fetch_add_explicit((_Atomic int64_t *)&f->hdr->free, 1, memory_order_release);
}

int trace_fast_pop(struct trace *t, struct trace_fast_rec *out, bool final)
{
	struct trace_fast *f = t->fast;
	struct fp_slot *s;
	uint64_t pos, head;
	const char *d;
	size_t used;

	if (!f || !f->hdr)
		return 0;
	head = atomic_load_explicit((_Atomic uint64_t *)&f->hdr->head, memory_order_acquire);
	/*
	 * Past the tail: what was handled ahead is freed; a position never
	 * published is skipped once no producer is left (@final).
	 */
	for (;;) {
		s = slot_at(f, f->tail);
		if (published(s, f->tail) && f->ahead[f->tail % FP_NR_SLOTS])
			free_tail(f, s);
		else if (final && f->tail < head && !published(s, f->tail))
			f->tail++; /* a hole left by a dead producer */
		else
			break;
	}
	/*
	 * The first record published and not handled yet, beyond any
	 * position taken but not published: a producer preempted between
	 * the two must not hold back the records of calls made after its
	 * own, which a notified write would otherwise overtake (DESIGN
	 * §3.1 "Ordering").
	 */
	for (pos = f->tail;; pos++) {
		if (pos >= head)
			return 0;
		s = slot_at(f, pos);
		if (published(s, pos) && !f->ahead[pos % FP_NR_SLOTS])
			break;
	}
	/* a copy (the job may write the slot while we read it), of what the
	 * header says is used */
	out->rec = (struct fp_rec *)out->buf;
	memcpy(out->rec, &s->rec, sizeof(struct fp_rec));
	used = (size_t)out->rec->base_len + out->rec->path_len + out->rec->value_len + 3;
	if (used <= FP_DATA_MAX)
		memcpy(out->rec->data, s->rec.data, used);
	if (pos == f->tail)
		free_tail(f, s);
	else
		f->ahead[pos % FP_NR_SLOTS] = true;

	d = out->rec->data;
	if (used > FP_DATA_MAX || d[out->rec->base_len] ||
	    d[out->rec->base_len + 1 + out->rec->path_len] ||
	    d[used - 1] || (out->rec->base_len && d[0] != '/') ||
	    (!out->rec->base_len && d[1] != '/')) {
		f->malformed++;
		return -EINVAL;
	}
	out->base = d;
	out->path = d + out->rec->base_len + 1;
	out->value = out->path + out->rec->path_len + 1;
	return 1;
}

void trace_fast_wait(struct trace *t, int ms)
{
	struct fp_header *h = t->fast->hdr;
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	if (!h) {
		nanosleep(&ts, NULL);
		return;
	}
	atomic_store_explicit((_Atomic uint32_t *)&h->sleeping, 1, memory_order_seq_cst);
	if (atomic_load_explicit((_Atomic uint64_t *)&h->head, memory_order_seq_cst) -
		    t->fast->tail <= FP_WAKE_USED)
		syscall(SYS_futex, &h->sleeping, FUTEX_WAIT, 1, &ts, NULL, 0);
	atomic_store_explicit((_Atomic uint32_t *)&h->sleeping, 0, memory_order_relaxed);
}

void trace_fast_wake(struct trace *t)
{
	struct fp_header *h = t->fast->hdr;

	if (!h)
		return;
	atomic_store_explicit((_Atomic uint32_t *)&h->sleeping, 0, memory_order_relaxed);
	syscall(SYS_futex, &h->sleeping, FUTEX_WAKE, 1, NULL, NULL, 0);
}

uint64_t trace_fast_fallbacks(const struct trace *t)
{
	return t->fast && t->fast->hdr ?
		       atomic_load_explicit((_Atomic uint64_t *)&t->fast->hdr->fallbacks,
					    memory_order_relaxed) : 0;
}

/* ---------------------------------------------------------------------- */
/* the write generation */

uint64_t trace_fast_gen(const struct trace *t)
{
	return t->fast ? t->fast->gen : 0;
}

void trace_fast_wrote(struct trace *t, const char *const *paths, const bool *job, size_t n)
{
	struct trace_fast *f = t->fast;
	size_t i;

	if (!f)
		return;
	f->gen++;
	for (i = 0; i < (n ? n : 1); i++) {
		struct touched *e = &f->log[f->log_next++ % FAST_LOG_SIZE];

		free(e->path);
		e->gen = f->gen;
		e->path = xstrdup(n ? paths[i] : "/");
		e->job = n && job[i];
	}
	/* after the log: a record that reads this generation finds it */
	if (f->hdr)
		atomic_store_explicit((_Atomic uint64_t *)&f->hdr->gen, f->gen,
				      memory_order_release);
}

enum fast_touch trace_fast_touched(const struct trace *t, const char *path, uint64_t since)
{
	const struct trace_fast *f = t->fast;
	enum fast_touch ret = FAST_UNTOUCHED;
	uint64_t i;

	if (!f || since >= f->gen)
		return FAST_UNTOUCHED;
	for (i = f->log_next; i > 0; i--) {
		const struct touched *e = &f->log[(i - 1) % FAST_LOG_SIZE];

		if (i + FAST_LOG_SIZE <= f->log_next)
			return FAST_TOUCHED; /* forgotten: it may have been this */
		if (e->gen <= since)
			break;
		if (!path_has_prefix_component(path, e->path))
			continue;
		/*
		 * Every write that could change what @path names must have
		 * found job state and left it so: then, whenever the call
		 * came among them, it saw the job's own state there.
		 */
		if (!e->job)
			return FAST_TOUCHED;
		ret = FAST_TOUCHED_JOB;
	}
	return ret;
}

/* ---------------------------------------------------------------------- */
/* the seen table */

static uint64_t *seen_table(const struct trace_fast *f)
{
	return (uint64_t *)((char *)f->hdr + FP_SEEN_OFFSET);
}

/* A new epoch: no entry of the table matches any more. */
static void new_epoch(struct trace_fast *f)
{
	f->seen_epoch++;
	atomic_store_explicit((_Atomic uint64_t *)&f->hdr->seen_epoch, f->seen_epoch,
			      memory_order_release);
}

void trace_fast_seen_add(struct trace *t, const struct trace_fast_rec *fr, long id)
{
	struct trace_fast *f = t->fast;
	const struct fp_rec *r = fr->rec;
	uint64_t *seen, h, i;

	if (!f || !f->hdr)
		return;
	seen = seen_table(f);
	if (f->nr_seen >= FP_SEEN_SLOTS / 2) {
		/* full enough to make probes long: start again */
		new_epoch(f);
		memset(seen, 0, sizeof(*seen) * FP_SEEN_SLOTS);
		f->nr_seen = 0;
	}
	h = fp_key_hash(f->seen_epoch, r->nr, fp_call_flags(r->nr, r->args), fr->base, fr->path);
	for (i = h % FP_SEEN_SLOTS;; i = (i + 1) % FP_SEEN_SLOTS) {
		uint64_t e = atomic_load_explicit((_Atomic uint64_t *)&seen[i],
						  memory_order_relaxed);

		if (e == h) {
			f->owner[i] = id;
			return;
		}
		if (!e)
			break;
	}
	f->owner[i] = id;
	atomic_store_explicit((_Atomic uint64_t *)&seen[i], h, memory_order_release);
	f->nr_seen++;
}

void trace_fast_seen_drop(struct trace *t)
{
	struct trace_fast *f = t->fast;
	uint64_t *seen;
	size_t i;

	if (!f || !f->hdr)
		return;
	/*
	 * A scan (16 Ki words) per write that forgot anything: a write is
	 * notified anyway, and writes are few. Before the write generation
	 * moves on (trace_fast_wrote()), so a library that still finds an
	 * entry after its call sees the generation of before its call only
	 * if the call came before the write (fastpath.h).
	 */
	seen = seen_table(f);
	for (i = 0; i < FP_SEEN_SLOTS; i++) {
		uint64_t e = atomic_load_explicit((_Atomic uint64_t *)&seen[i],
						  memory_order_relaxed);

		if (e && e != FP_SEEN_TOMB && !trace_seen_valid(t, f->owner[i]))
			atomic_store_explicit((_Atomic uint64_t *)&seen[i], FP_SEEN_TOMB,
					      memory_order_release);
	}
}

void trace_fast_forget(struct trace *t)
{
	if (t->fast && t->fast->hdr)
		new_epoch(t->fast);
}

/* ---------------------------------------------------------------------- */
/* the filter's rule */

size_t trace_fast_filter(struct sock_filter *out, size_t max)
{
	static const uint32_t nrs[] = FP_ALLOWED_NRS;
	const uint64_t ip = FP_PAGE_ADDR + FP_STUB_SYSCALL_END;
	const uint64_t page = FP_PAGE_ADDR;
	const size_t n = ARRAY_SIZE(nrs);
	/*
	 * ld arch, jeq, ld ip_hi, jeq, ld ip_lo, jeq, ld nr, n x jeq, ja;
	 * openat: ld args[1]_hi, jeq, ld args[1]_lo, jge, jge, ld args[2],
	 * jset; ret allow
	 */
	const size_t len = 7 + n + 1 + 7 + 1;
	const size_t openchk = 8 + n, flagchk = openchk + 5, allow = len - 1;
	size_t i, k = 0;

	if (max < len)
		return 0;
	/* a jump from instruction @at to @to, relative to the next one */
#define REL(at, to) ((uint8_t)((to) - (at) - 1))
#define LD(field) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
#define LD_HI(field) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field) + 4)
#define JEQ(v, t, f) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (v), REL(k, t), REL(k, f))
	out[k++] = (struct sock_filter)LD(arch);
	out[k] = (struct sock_filter)JEQ(AUDIT_ARCH_X86_64, k + 1, len);
	k++;
	out[k++] = (struct sock_filter)LD_HI(instruction_pointer);
	out[k] = (struct sock_filter)JEQ((uint32_t)(ip >> 32), k + 1, len);
	k++;
	out[k++] = (struct sock_filter)LD(instruction_pointer);
	out[k] = (struct sock_filter)JEQ((uint32_t)ip, k + 1, len);
	k++;
	out[k++] = (struct sock_filter)LD(nr);
	for (i = 0; i < n; i++, k++)
		out[k] = (struct sock_filter)JEQ(nrs[i], nrs[i] == SYS_openat ? openchk : allow,
						 k + 1);
	/* any other number from the page: the rules, as from anywhere */
	out[k] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, (uint32_t)(len - k - 1));
	k++;
	/* openat of a path in the page (the library's own), whatever its
	 * flags: the page is below 4 GiB */
	out[k++] = (struct sock_filter)LD_HI(args[1]);
	out[k] = (struct sock_filter)JEQ(0, k + 1, flagchk);
	k++;
	out[k++] = (struct sock_filter)LD(args[1]);
	out[k] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (uint32_t)page,
					      REL(k, k + 1), REL(k, flagchk));
	k++;
	out[k] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K,
					      (uint32_t)(page + FP_PAGE_SIZE), REL(k, flagchk),
					      REL(k, allow));
	k++;
	/* any other openat: only without a write flag (args[2]'s low word) */
	out[k++] = (struct sock_filter)LD(args[2]);
	out[k] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, FP_OPEN_WRITE_FLAGS,
					      REL(k, len), REL(k, allow));
	k++;
	out[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
#undef JEQ
#undef LD_HI
#undef LD
#undef REL
	return k;
}

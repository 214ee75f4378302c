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
};

struct trace_fast {
	struct fp_header *hdr;
	char *slots;
	char *chan_path;		/* host path, in the run directory */
	uint64_t tail;			/* next position to read */
	uint64_t gen;			/* == hdr->gen, written by us only */
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

int trace_fast_setup(struct trace *t, const char *dir, struct strbuf *err)
{
	_cleanup_close_ int dfd = -1, fd = -1;
	struct trace_fast *f;
	struct fp_header *h;
	void *p;

	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return strbuf_error(err, -errno, "cannot open '%s': %s", dir, strerror(errno));
	fd = openat(dfd, FP_CHAN_NAME, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return strbuf_error(err, -errno, "cannot create '%s/%s': %s", dir, FP_CHAN_NAME,
				    strerror(errno));
	if (ftruncate(fd, (off_t)FP_CHAN_SIZE) < 0)
		return strbuf_error(err, -errno, "cannot size '%s/%s': %s", dir, FP_CHAN_NAME,
				    strerror(errno));
	p = mmap(NULL, FP_CHAN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return strbuf_error(err, -errno, "cannot map '%s/%s': %s", dir, FP_CHAN_NAME,
				    strerror(errno));
	f = xcalloc(1, sizeof(*f));
	f->hdr = h = p;
	f->slots = (char *)p + FP_HEADER_SIZE;
	f->root_fd = f->mntns_fd = -1;
	h->magic = FP_MAGIC;
	h->version = FP_ABI_VERSION;
	h->nr_slots = FP_NR_SLOTS;
	h->slot_size = FP_SLOT_SIZE;
	atomic_store_explicit((_Atomic int64_t *)&h->free,
			      t->cfg.fast_slots && t->cfg.fast_slots < FP_NR_SLOTS ?
			      t->cfg.fast_slots : FP_NR_SLOTS,
			      memory_order_release);
	f->chan_path = path_join(dir, FP_CHAN_NAME);
	t->fast = f;
	return 0;
}

void trace_fast_release(struct trace *t)
{
	struct trace_fast *f = t->fast;
	size_t i;

	if (!f)
		return;
	munmap(f->hdr, FP_CHAN_SIZE);
	for (i = 0; i < FAST_LOG_SIZE; i++)
		free(f->log[i].path);
	if (f->root_fd >= 0)
		close(f->root_fd);
	if (f->mntns_fd >= 0)
		close(f->mntns_fd);
	free(f->chan_path);
	free(f);
	t->fast = NULL;
}

const char *trace_fast_channel(const struct trace *t)
{
	return t->fast ? t->fast->chan_path : NULL;
}

void trace_fast_hold_view(struct trace *t, pid_t pid)
{
	struct trace_fast *f = t->fast;
	char p[64];

	if (!f || f->root_fd >= 0)
		return;
	snprintf(p, sizeof(p), "/proc/%d/ns/mnt", (int)pid);
	f->mntns_fd = open(p, O_RDONLY | O_CLOEXEC);
	snprintf(p, sizeof(p), "/proc/%d/root", (int)pid);
	f->root_fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

int trace_fast_root(const struct trace *t)
{
	return t->fast ? t->fast->root_fd : -1;
}

/* ---------------------------------------------------------------------- */
/* records */

int trace_fast_pop(struct trace *t, struct trace_fast_rec *out, bool final)
{
	struct trace_fast *f = t->fast;
	struct fp_slot *s;
	uint64_t pos;
	const char *d;
	size_t used;

	if (!f)
		return 0;
	for (;;) {
		pos = f->tail;
		s = (struct fp_slot *)(f->slots + (pos % FP_NR_SLOTS) * FP_SLOT_SIZE);
		if (atomic_load_explicit((_Atomic uint64_t *)&s->seq, memory_order_acquire) ==
		    FP_SEQ_PUBLISHED(pos))
			break;
		if (!final || pos >= atomic_load_explicit((_Atomic uint64_t *)&f->hdr->head,
							  memory_order_acquire))
			return 0;
		f->tail = pos + 1; /* a hole left by a dead producer */
	}
	/* a copy (the job may write the slot while we read it), of what the
	 * header says is used */
	memcpy(&out->rec, &s->rec, sizeof(struct fp_rec));
	used = (size_t)out->rec.rec.base_len + out->rec.rec.path_len + out->rec.rec.value_len + 3;
	if (used <= FP_DATA_MAX)
		memcpy(out->rec.rec.data, s->rec.data, used);
	atomic_store_explicit((_Atomic uint64_t *)&s->seq, FP_SEQ_FREE(pos + FP_NR_SLOTS),
			      memory_order_release);
	f->tail = pos + 1;
	atomic_store_explicit((_Atomic uint64_t *)&f->hdr->tail, f->tail, memory_order_relaxed);
	atomic_fetch_add_explicit((_Atomic int64_t *)&f->hdr->free, 1, memory_order_release);

	d = out->rec.rec.data;
	if (used > FP_DATA_MAX || d[out->rec.rec.base_len] ||
	    d[out->rec.rec.base_len + 1 + out->rec.rec.path_len] ||
	    d[used - 1] || (out->rec.rec.base_len && d[0] != '/') ||
	    (!out->rec.rec.base_len && d[1] != '/')) {
		f->malformed++;
		return -EINVAL;
	}
	out->base = d;
	out->path = d + out->rec.rec.base_len + 1;
	out->value = out->path + out->rec.rec.path_len + 1;
	return 1;
}

void trace_fast_wait(struct trace *t, int ms)
{
	struct fp_header *h = t->fast->hdr;
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	atomic_store_explicit((_Atomic uint32_t *)&h->sleeping, 1, memory_order_seq_cst);
	if (atomic_load_explicit((_Atomic uint64_t *)&h->head, memory_order_seq_cst) -
		    t->fast->tail <= FP_WAKE_USED)
		syscall(SYS_futex, &h->sleeping, FUTEX_WAIT, 1, &ts, NULL, 0);
	atomic_store_explicit((_Atomic uint32_t *)&h->sleeping, 0, memory_order_relaxed);
}

void trace_fast_wake(struct trace *t)
{
	struct fp_header *h = t->fast->hdr;

	atomic_store_explicit((_Atomic uint32_t *)&h->sleeping, 0, memory_order_relaxed);
	syscall(SYS_futex, &h->sleeping, FUTEX_WAKE, 1, NULL, NULL, 0);
}

uint64_t trace_fast_fallbacks(const struct trace *t)
{
	return t->fast ? atomic_load_explicit((_Atomic uint64_t *)&t->fast->hdr->fallbacks,
					      memory_order_relaxed) : 0;
}

/* ---------------------------------------------------------------------- */
/* the write generation */

uint64_t trace_fast_gen(const struct trace *t)
{
	return t->fast ? t->fast->gen : 0;
}

void trace_fast_wrote(struct trace *t, const char *const *paths, size_t n)
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
	}
	/* after the log: a record that reads this generation finds it */
	atomic_store_explicit((_Atomic uint64_t *)&f->hdr->gen, f->gen, memory_order_release);
}

bool trace_fast_touched(const struct trace *t, const char *path, uint64_t since)
{
	const struct trace_fast *f = t->fast;
	uint64_t i;

	if (!f || since >= f->gen)
		return false;
	for (i = f->log_next; i > 0; i--) {
		const struct touched *e = &f->log[(i - 1) % FAST_LOG_SIZE];

		if (i + FAST_LOG_SIZE <= f->log_next)
			return true; /* forgotten: whatever it was, it may have been this */
		if (e->gen <= since)
			return false;
		if (path_has_prefix_component(path, e->path))
			return true;
	}
	return false;
}

/* ---------------------------------------------------------------------- */
/* the filter's rule */

size_t trace_fast_filter(struct sock_filter *out, size_t max)
{
	static const uint32_t nrs[] = FP_ALLOWED_NRS;
	const uint64_t ip = FP_PAGE_ADDR + FP_STUB_SYSCALL_END;
	const size_t n = ARRAY_SIZE(nrs);
	/* ld arch, jeq, ld ip_hi, jeq, ld ip_lo, jeq, ld nr, n x jeq, ja,
	 * ld args[2], jset, ret allow */
	const size_t len = 7 + n + 1 + 2 + 1;
	size_t i, k = 0, allow = len - 1, openchk = len - 3;

	if (max < len)
		return 0;
	/* a jump from instruction @at to @to, relative to the next one */
#define REL(at, to) ((uint8_t)((to) - (at) - 1))
	out[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						offsetof(struct seccomp_data, arch));
	out[k] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0,
					      REL(k, len));
	k++;
	out[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						offsetof(struct seccomp_data, instruction_pointer) + 4);
	out[k] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(ip >> 32), 0,
					      REL(k, len));
	k++;
	out[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						offsetof(struct seccomp_data, instruction_pointer));
	out[k] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)ip, 0,
					      REL(k, len));
	k++;
	out[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						offsetof(struct seccomp_data, nr));
	for (i = 0; i < n; i++, k++)
		out[k] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nrs[i],
						      REL(k, nrs[i] == SYS_openat ? openchk : allow), 0);
	/* any other number from the page: the rules, as from anywhere */
	out[k] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, (uint32_t)(len - k - 1));
	k++;
	/* openat: only without a write flag (the low word of args[2]) */
	out[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						offsetof(struct seccomp_data, args[2]));
	out[k] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, FP_OPEN_WRITE_FLAGS,
					      REL(k, len), 0);
	k++;
	out[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
#undef REL
	return k;
}

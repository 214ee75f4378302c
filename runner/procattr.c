/*
 * The process attributes a job inherits (contract in runner/procattr.h,
 * the table in DESIGN.md §4): read from procache's own process, which the
 * sandbox's init and the job are forks of, so what is read here is what
 * the job gets (the sandbox passes the ignored and blocked signals on
 * explicitly; see sbx_config).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cache/cache.h"
#include "common/die.h"
#include "common/fdio.h"
#include "common/procstatus.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "runner/procattr.h"
#include "common/banned.h"

#ifndef PR_GET_MDWE
#define PR_GET_MDWE 66
#endif
#define IOPRIO_WHO_PROCESS 1

static bool stdin_closed;
static sigset_t start_ignore, start_block;
/* /proc/self/status at start-up, "" without /proc: its signal masks,
 * CapBnd and Mems_allowed_list, none of which procache changes before
 * it asks (one read, where three cost 14 us each) */
static char start_status[8192];

/*
 * The signals this process ignores: the SigIgn mask of /proc/self/status
 * (bit N-1 for signal N, the kernel's own view of the dispositions), one
 * read where asking sigaction() is one call per signal (64 on every run,
 * hit or miss). Without /proc, sigaction() it is. sigaddset() refuses
 * glibc's own real-time signals either way: they are not the job's.
 */
static void read_ignored(sigset_t *set)
{
	uint64_t mask;

	sigemptyset(set);
	if (proc_status_mask(start_status, "SigIgn", &mask) == 0) {
		for (int sig = 1; sig < NSIG && sig <= 64; sig++)
			if (mask & (1ULL << (sig - 1)))
				sigaddset(set, sig);
		return;
	}
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa;

		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
			sigaddset(set, sig);
	}
}

void procattr_at_start(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		int n = open("/dev/null", fd ? O_WRONLY : O_RDONLY);
		if (n < 0)
			die_errno("cannot open '/dev/null'");
		if (n != fd)
			die("cannot open '/dev/null' as fd %d", fd);
		if (fd == 0)
			stdin_closed = true;
	}
	if (proc_status_read(start_status, sizeof(start_status)) < 0)
		start_status[0] = '\0';
	read_ignored(&start_ignore);
	sigprocmask(SIG_BLOCK, NULL, &start_block);
}

const char *procattr_status(void)
{
	return start_status[0] ? start_status : NULL;
}

bool procattr_stdin_closed(void)
{
	return stdin_closed;
}

/* The CPUs of our affinity mask as a sorted list of ranges: "0-3,6". */
static char *read_affinity(void)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t ncpu = 1024;; ncpu *= 2) {
		cpu_set_t *set = CPU_ALLOC(ncpu);
		size_t size = CPU_ALLOC_SIZE(ncpu);

		if (!set)
			die("out of memory");
		if (sched_getaffinity(0, size, set) < 0) {
			int e = errno;

			CPU_FREE(set);
			if (e == EINVAL && ncpu < (1u << 20))
				continue; /* a mask larger than ours */
			errno = e;
			die_errno("cannot read the CPU affinity");
		}
		for (size_t c = 0; c < ncpu; c++) {
			size_t end = c;

			if (!CPU_ISSET_S(c, size, set))
				continue;
			while (end + 1 < ncpu && CPU_ISSET_S(end + 1, size, set))
				end++;
			strbuf_addf(&sb, "%s%zu", sb.len ? "," : "", c);
			if (end > c)
				strbuf_addf(&sb, "-%zu", end);
			c = end;
		}
		CPU_FREE(set);
		return strbuf_detach(&sb, NULL);
	}
}

/*
 * The NUMA memory policy (numactl --interleave, Slurm --mem-bind): mode
 * and node mask as the kernel gives them; "none" without NUMA support.
 */
static char *read_mempolicy(void)
{
	unsigned long mask[1024 / (8 * sizeof(unsigned long))];
	struct strbuf sb = STRBUF_INIT;
	int mode = 0;

	memset(mask, 0, sizeof(mask));
	if (syscall(SYS_get_mempolicy, &mode, mask, 8 * sizeof(mask), NULL, 0UL) < 0) {
		if (errno == ENOSYS)
			return xstrdup("none");
		/*
		 * Refused (Docker's default seccomp profile allows it only
		 * with CAP_SYS_NICE): a run must not fail for it. The job
		 * is refused it as well; the value is keyed as unknown.
		 */
		return xasprintf("unreadable: %s", strerror(errno));
	}
	strbuf_addf(&sb, "%d:", mode);
	for (size_t i = 0; i < ARRAY_SIZE(mask); i++)
		strbuf_addf(&sb, "%lx%s", mask[i], i + 1 < ARRAY_SIZE(mask) ? "," : "");
	return strbuf_detach(&sb, NULL);
}

/* A small text file of /proc, its trailing newline dropped. */
static char *read_small(const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	if (strbuf_read_file_at(&sb, AT_FDCWD, path, 4096) < 0)
		die_errno("cannot read '%s'", path);
	strbuf_trim_trailing_newline(&sb);
	return strbuf_detach(&sb, NULL);
}

static char *read_mems(void)
{
	char mems[1024];

	if (proc_status_text(start_status, "Mems_allowed_list", mems, sizeof(mems)) < 0)
		return xstrdup("?");
	return xstrdup(mems);
}

/*
 * Where a core dump of the job goes (a file in its cwd, that a hit would
 * restore, or a helper program): only when its RLIMIT_CORE allows one,
 * or lets the job raise its soft limit to allow one (`ulimit -c
 * unlimited` in the job: the usual soft 0, hard unlimited).
 */
static char *read_core_pattern(const struct rlimit *core)
{
	char *pattern, *pid, *v;

	if (!core->rlim_cur && !core->rlim_max)
		return NULL;
	pattern = read_small("/proc/sys/kernel/core_pattern");
	pid = read_small("/proc/sys/kernel/core_uses_pid");
	v = xasprintf("%s|%s", pattern, pid);
	free(pattern);
	free(pid);
	return v;
}

static int read_oom_score_adj(void)
{
	struct strbuf sb = STRBUF_INIT;
	int v;

	if (strbuf_read_file_at(&sb, AT_FDCWD, "/proc/self/oom_score_adj", 32) < 0)
		die_errno("cannot read '/proc/self/oom_score_adj'");
	v = atoi(sb.buf);
	strbuf_release(&sb);
	return v;
}

void procattr_read(struct procattr *pa)
{
	struct sched_param sp;

	memset(pa, 0, sizeof(*pa));
	for (int i = 0; i < RLIM_NLIMITS; i++)
		if (getrlimit(i, &pa->rlimits[i]) < 0)
			die_errno("cannot read resource limit %d", i);
	pa->affinity = read_affinity();
	pa->sched_policy = sched_getscheduler(0);
	if (pa->sched_policy < 0 || sched_getparam(0, &sp) < 0)
		die_errno("cannot read the scheduling policy");
	pa->sched_priority = sp.sched_priority;
	errno = 0;
	pa->nice = getpriority(PRIO_PROCESS, 0);
	if (pa->nice == -1 && errno)
		die_errno("cannot read the nice value");
	pa->ioprio = (int)syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0);
	if (pa->ioprio < 0)
		die_errno("cannot read the I/O priority");
	pa->personality = personality(0xffffffff);
	pa->oom_score_adj = read_oom_score_adj();
	pa->timerslack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	pa->securebits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	pa->thp_disable = prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0);
	pa->mdwe = prctl(PR_GET_MDWE, 0, 0, 0, 0);
	if (pa->mdwe < 0)
		pa->mdwe = -1; /* EINVAL: a kernel before 6.3 */
	pa->mempolicy = read_mempolicy();
	pa->mems = read_mems();
	pa->coredump_filter = read_small("/proc/self/coredump_filter");
	pa->core_pattern = read_core_pattern(&pa->rlimits[RLIMIT_CORE]);
	pa->sig_ignore = start_ignore;
	pa->sig_block = start_block;
}

void procattr_release(struct procattr *pa)
{
	free(pa->affinity);
	free(pa->mempolicy);
	free(pa->mems);
	free(pa->coredump_filter);
	free(pa->core_pattern);
	memset(pa, 0, sizeof(*pa));
}

/* The names of the limits, for the key (getrlimit(2)). */
static const char *const rlimit_names[RLIM_NLIMITS] = {
	[RLIMIT_CPU] = "cpu",		[RLIMIT_FSIZE] = "fsize",
	[RLIMIT_DATA] = "data",		[RLIMIT_STACK] = "stack",
	[RLIMIT_CORE] = "core",		[RLIMIT_RSS] = "rss",
	[RLIMIT_NPROC] = "nproc",	[RLIMIT_NOFILE] = "nofile",
	[RLIMIT_MEMLOCK] = "memlock",	[RLIMIT_AS] = "as",
	[RLIMIT_LOCKS] = "locks",	[RLIMIT_SIGPENDING] = "sigpending",
	[RLIMIT_MSGQUEUE] = "msgqueue",	[RLIMIT_NICE] = "nice",
	[RLIMIT_RTPRIO] = "rtprio",	[RLIMIT_RTTIME] = "rttime",
};

static void add_limit(struct strbuf *sb, rlim_t v)
{
	if (v == RLIM_INFINITY)
		strbuf_addstr(sb, "inf");
	else
		strbuf_addf(sb, "%llu", (unsigned long long)v);
}

static void add_sigset(struct cache_key *k, const char *tag, const sigset_t *set)
{
	struct strbuf sb = STRBUF_INIT;

	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(set, sig) == 1)
			strbuf_addf(&sb, "%s%d", sb.len ? "," : "", sig);
	cache_key_add_str(k, tag, sb.buf);
	strbuf_release(&sb);
}

static void add_long(struct cache_key *k, const char *tag, long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", v);
	cache_key_add_str(k, tag, buf);
}

void procattr_add_key(const struct procattr *pa, struct cache_key *k)
{
	struct strbuf sb = STRBUF_INIT;
	char tag[32];

	for (int i = 0; i < RLIM_NLIMITS; i++) {
		strbuf_reset(&sb);
		add_limit(&sb, pa->rlimits[i].rlim_cur);
		strbuf_addch(&sb, ':');
		add_limit(&sb, pa->rlimits[i].rlim_max);
		snprintf(tag, sizeof(tag), "rlimit.%s",
			 rlimit_names[i] ? rlimit_names[i] : "?");
		cache_key_add_str(k, tag, sb.buf);
	}
	cache_key_add_str(k, "affinity", pa->affinity);
	strbuf_reset(&sb);
	strbuf_addf(&sb, "%d/%d", pa->sched_policy, pa->sched_priority);
	cache_key_add_str(k, "sched", sb.buf);
	add_long(k, "nice", pa->nice);
	add_long(k, "ioprio", pa->ioprio);
	add_sigset(k, "sigignore", &pa->sig_ignore);
	add_sigset(k, "sigblock", &pa->sig_block);
	add_long(k, "personality", pa->personality);
	add_long(k, "oom_score_adj", pa->oom_score_adj);
	add_long(k, "timerslack", pa->timerslack);
	add_long(k, "securebits", pa->securebits);
	add_long(k, "thp_disable", pa->thp_disable);
	if (pa->mdwe < 0)
		cache_key_add_str(k, "mdwe", "none");
	else
		add_long(k, "mdwe", pa->mdwe);
	cache_key_add_str(k, "mempolicy", pa->mempolicy);
	cache_key_add_str(k, "mems", pa->mems);
	cache_key_add_str(k, "coredump_filter", pa->coredump_filter);
	if (pa->core_pattern)
		cache_key_add_str(k, "core_pattern", pa->core_pattern);
	strbuf_release(&sb);
}

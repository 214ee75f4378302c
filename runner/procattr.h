/*
 * The process attributes a job inherits from procache (DESIGN.md §4,
 * "Process attributes"): each one either passes through to the job and is
 * keyed (resource limits, CPU affinity, scheduling, nice, I/O priority,
 * ignored and blocked signals, personality, oom_score_adj, timer slack,
 * securebits, THP and MDWE flags, NUMA memory policy and nodes, the
 * core dump filter, and where core dumps go when the job may dump core),
 * or is fixed by the sandbox.
 *
 * Calling sequence:
 *	main():         procattr_at_start();      // first thing: fds 0-2, signals
 *	job_prepare():  procattr_read(&j->attrs);  // the rest
 *	job_add_key():  procattr_add_key(&j->attrs, k);
 *	job_execute():  j->attrs.sig_ignore, sig_block -> the sandbox
 *	job_release():  procattr_release(&j->attrs);
 *
 * This is runner/ code: a failure to read an attribute dies (125).
 */
#ifndef PROCACHE_RUNNER_PROCATTR_H
#define PROCACHE_RUNNER_PROCATTR_H

#include <signal.h>
#include <stdbool.h>
#include <sys/resource.h>

struct cache_key;

/*
 * At the very start of main(): make fds 0, 1 and 2 open (/dev/null on any
 * that is closed, so that none of procache's own files takes one of those
 * numbers) and remember which were closed; remember the signals ignored
 * and blocked, before procache changes any.
 */
void procattr_at_start(void);

/* Was fd 0 closed when procache started? */
bool procattr_stdin_closed(void);
/* /proc/self/status as read by procattr_at_start(); NULL without /proc. */
const char *procattr_status(void);

struct procattr {
	struct rlimit rlimits[RLIM_NLIMITS];
	char *affinity;		/* sorted CPU list, "0-3,6" */
	int sched_policy;	/* with SCHED_RESET_ON_FORK */
	int sched_priority;
	int nice;
	int ioprio;
	int personality;
	int oom_score_adj;
	long timerslack;
	long securebits;
	long thp_disable;
	long mdwe;		/* -1: not supported by this kernel */
	char *mempolicy;	/* set_mempolicy(2): "MODE:NODES" or "none" */
	char *mems;		/* the cpuset's memory nodes: "0-1" */
	char *coredump_filter;	/* /proc/self/coredump_filter */
	char *core_pattern;	/* kernel.core_pattern, core_uses_pid: where
				   a core dump goes; NULL when RLIMIT_CORE is 0 */
	sigset_t sig_ignore;	/* at start-up (procattr_at_start()) */
	sigset_t sig_block;
};

/* Read every attribute of procache's own process into @pa. */
void procattr_read(struct procattr *pa);
/* The key fields of @pa, in a fixed order (DESIGN.md §4). */
void procattr_add_key(const struct procattr *pa, struct cache_key *k);
void procattr_release(struct procattr *pa);

#endif

/*
 * The job key (DESIGN.md section 4; contract in runner/key.h): every
 * field of what the job is given and every option that changes what it
 * sees, in a fixed order.
 */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "cache/cache.h"
#include "common/cpuid.h"
#include "common/hash.h"
#include "common/strbuf.h"
#include "runner/key.h"
#include "sandbox/trace.h"
#include "common/banned.h"

/* Bumped whenever the meaning of a key field or a precondition changes. */
#define KEY_FORMAT "procache-key-5"

static void add_fields(const struct job *j, struct cache_key *k,
		       const char *cwd_tag, const char *cwd);
static void add_sandbox_fields(const struct job *j, struct cache_key *k);

void job_add_unit_key(const struct job *j, struct cache_key *k)
{
	/* first, so that no unit key equals a job key (DESIGN.md §13.3) */
	cache_key_add_str(k, "unit", "1");
	cache_key_add_str(k, "format", KEY_FORMAT);
	cache_key_add_str(k, "arch", "x86_64");
	add_sandbox_fields(j, k);
}

void job_add_key(const struct job *j, struct cache_key *k)
{
	add_fields(j, k, "cwd", j->cwd);
}

bool job_add_relocatable_key(const struct job *j, struct cache_key *k)
{
	size_t len;

	if (!j->relocatable)
		return false;
	len = strlen(j->base_dir);
	add_fields(j, k, "cwd_in_base", j->cwd[len] ? j->cwd + len + 1 : ".");
	return true;
}

static void add_fields(const struct job *j, struct cache_key *k,
		       const char *cwd_tag, const char *cwd)
{
	const struct job_opts *o = j->opts;
	char buf[64];
	size_t argc = 0;

	cache_key_add_str(k, "format", KEY_FORMAT);
	cache_key_add_str(k, "arch", "x86_64");
	while (j->argv[argc])
		argc++;
	cache_key_add_u64(k, "argc", argc);
	for (size_t i = 0; i < argc; i++)
		cache_key_add_str(k, "argv", j->argv[i]);
	for (char **e = j->env; *e; e++)
		cache_key_add_str(k, "env", *e);
	cache_key_add_str(k, cwd_tag, cwd);
	cache_key_add_u64(k, "uid", j->uid);
	cache_key_add_u64(k, "gid", j->gid);
	if (o->untrusted) {
		cache_key_add_str(k, "groups", "userns");
	} else {
		struct strbuf g = STRBUF_INIT;
		for (size_t i = 0; i < j->nr_groups; i++)
			strbuf_addf(&g, "%s%u", i ? "," : "",
				    (unsigned)j->groups[i]);
		cache_key_add_str(k, "groups", g.buf);
		strbuf_release(&g);
	}
	snprintf(buf, sizeof(buf), "%04o", (unsigned)j->umask);
	cache_key_add_str(k, "umask", buf);
	switch (j->stdin_kind) {
	case JOB_STDIN_CLOSED:
		cache_key_add_str(k, "stdin", "closed");
		break;
	case JOB_STDIN_EMPTY:
		cache_key_add_str(k, "stdin", "empty");
		break;
	case JOB_STDIN_TTY:
		/* Uncacheable anyway; keyed so that it never matches a file. */
		cache_key_add_str(k, "stdin", "tty");
		break;
	case JOB_STDIN_PIPE:
	case JOB_STDIN_FILE: {
		char hex[PC_HASH_HEX_LEN + 1], field[PC_HASH_HEX_LEN + 8];
		pc_hash_to_hex(&j->stdin_hash, hex);
		snprintf(field, sizeof(field), "%s:%s",
			 j->stdin_kind == JOB_STDIN_PIPE ? "pipe" : "file", hex);
		cache_key_add_str(k, "stdin", field);
		break;
	}
	}
	/* which the job sees (fstat of its fds 1 and 2), and the order kept */
	cache_key_add_str(k, "stdio", j->one_stream ? "one" : "two");
	procattr_add_key(&j->attrs, k);
	add_sandbox_fields(j, k);
}

/* Every option that changes what the job, and each unit in it, sees. */
static void add_sandbox_fields(const struct job *j, struct cache_key *k)
{
	const struct job_opts *o = j->opts;
	char buf[64];

	cache_key_add_str(k, "sandbox", o->share_net ? "net=host" : "net=none");
	cache_key_add_str(k, "sandbox", o->share_tmp ? "tmp=shared" : "tmp=private");
	cache_key_add_str(k, "sandbox", o->untrusted ? "untrusted=1" : "untrusted=0");
	cache_key_add_str(k, "sandbox", o->strict_stat ? "strict-stat=1" : "strict-stat=0");
	cache_key_add_str(k, "sandbox", o->mtime_content ? "mtime=content" : "mtime=exact");
	snprintf(buf, sizeof(buf), "timeout=%.3f", o->timeout_s);
	cache_key_add_str(k, "sandbox", buf);
	snprintf(buf, sizeof(buf), "memory=%llu", (unsigned long long)o->memory_bytes);
	cache_key_add_str(k, "sandbox", buf);
	snprintf(buf, sizeof(buf), "pids=%llu", (unsigned long long)o->pids_max);
	cache_key_add_str(k, "sandbox", buf);
	if (o->best_effort_limits)
		cache_key_add_str(k, "sandbox", "best-effort-limits=1");
	snprintf(buf, sizeof(buf), "disk=%llu", (unsigned long long)j->disk);
	cache_key_add_str(k, "sandbox", buf);
	struct strbuf caps = STRBUF_INIT;
	strbuf_addstr(&caps, "caps=");
	sbx_caps_names(j->caps, &caps);
	cache_key_add_str(k, "sandbox", caps.buf);
	strbuf_release(&caps);
	/* the fast path's library, its page and LD_PRELOAD (DESIGN §3.1) */
	snprintf(buf, sizeof(buf), "fastpath=%s", j->fast_path ? trace_fast_version() : "off");
	cache_key_add_str(k, "sandbox", buf);
	/*
	 * Nested caching changes what the tracer notifies and what a run
	 * leaves in the cache; a nested run's entry never equals a plain
	 * one (DESIGN.md §13). Absent without it: plain keys are unchanged.
	 */
	if (o->nested)
		cache_key_add_str(k, "sandbox", "nested");
	/* What the job is shown of the machine: the defaults too. */
	snprintf(buf, sizeof(buf), "memory=%llu",
		 (unsigned long long)j->hostfacts.memory_bytes);
	cache_key_add_str(k, "hostfacts", buf);
	snprintf(buf, sizeof(buf), "cpus=%u", j->hostfacts.cpus);
	cache_key_add_str(k, "hostfacts", buf);
	cache_key_add_str(k, "hostfacts", j->cgroup_layout);
	/*
	 * What CPUID tells the job (-march=native, BLAS kernels, ifuncs):
	 * read without a system call, so keyed, not observed (DESIGN §3).
	 */
	cache_key_add_str(k, "cpu", cpuid_key());
	/*
	 * The kernel every process of the job sees without asking: the
	 * auxiliary vector (AT_HWCAP2, AT_MINSIGSTKSZ), the fields of
	 * /proc/self files, which system calls fail with ENOSYS. A job that
	 * calls uname() records it as well (a host fact); this keys the rest,
	 * so an entry is shared only between machines on the same kernel.
	 */
	struct utsname u;
	if (uname(&u) == 0) {
		struct strbuf kv = STRBUF_INIT;
		strbuf_addf(&kv, "%s %s", u.release, u.version);
		cache_key_add_str(k, "kernel", kv.buf);
		strbuf_release(&kv);
	} else {
		cache_key_add_str(k, "kernel", "?");
	}
	/*
	 * The masks and declared outputs as resolved (runner/job.c): through
	 * a symlinked directory, the spelling given names another file once
	 * the link moves (the cache directory, the last mask, is left out).
	 */
	for (size_t i = 0; i < o->nr_masks && i < j->nr_masks; i++) {
		struct strbuf m = STRBUF_INIT;
		strbuf_addf(&m, "mask=%s", j->masks[i]);
		cache_key_add_str(k, "sandbox", m.buf);
		strbuf_release(&m);
	}
	for (size_t i = 0; i < j->nr_declared; i++) {
		struct strbuf m = STRBUF_INIT;
		strbuf_addf(&m, "declared-output=%s", j->declared[i]);
		cache_key_add_str(k, "sandbox", m.buf);
		strbuf_release(&m);
	}
}

/*
 * A job's lifecycle (runner/job.c): from the command line to what it is
 * given (argv, environment after the policy, cwd, ids, umask, stdin, the
 * paths hidden from it), then one sandboxed, traced execution of it.
 *
 * Calling sequence (runner/run.c, runner/cmd-trace.c):
 *	struct job_opts o;  job_opts_init(&o);
 *	struct job j;
 *	c = job_start(&o, argc, argv, JOB_CMD_RUN, &j);    // options, config, cache, job_prepare()
 *	job_add_key(&j, key);                              // 'run' only: runner/key.h
 *	struct job_run r;
 *	job_execute(&j, cache_run_root(c), &r);            // the sandbox + tracer
 *	... r.trace, r.changes, r.reasons, r.exit_status ...
 *	job_run_release(&r);
 *	job_release(&j);  cache_close(c);  job_opts_release(&o);
 *
 * This is runner/ code: failures die() with exit status 125.
 */
#ifndef PROCACHE_RUNNER_JOB_H
#define PROCACHE_RUNNER_JOB_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/hash.h"
#include "runner/options.h"
#include "runner/procattr.h"
#include "sandbox/sandbox.h"
#include "sandbox/sandbox.h"
#include "sandbox/trace.h"

struct cache;

/* What the job's stdin is (DESIGN.md §4, "stdin"). */
enum job_stdin_kind {
	JOB_STDIN_CLOSED,	/* closed when procache started: closed */
	JOB_STDIN_EMPTY,	/* /dev/null, or a pipe that gave no bytes: /dev/null */
	JOB_STDIN_TTY,		/* a terminal, or another character device but
				 * /dev/null: passed through, uncacheable */
	JOB_STDIN_PIPE,		/* a pipe, fifo or socket with bytes: read fully
				 * into a private file, hashed, fed through a pipe */
	JOB_STDIN_FILE,		/* a regular file: read fully into a private
				 * file, hashed, given as that file */
};

struct job {
	const struct job_opts *opts;
	char **argv;		/* borrowed from main's argv */
	char **env;		/* after the policy, sorted (envpolicy_apply) */
	char *cwd;		/* absolute, from getcwd() */
	char *cache_dir;	/* absolute, as resolved */
	struct cache *cache;	/* job_start()'s, for the tracer's hashes */
	char **masks;		/* hidden from the job: each --mask absolute and
				 * clean, then cache_dir; NULL-terminated */
	size_t nr_masks;
	char **declared;	/* --declare-output: absolute, canonical
				 * parent, NULL-terminated */
	size_t nr_declared;
	char **roots;		/* --output roots: absolute, canonical, NULL-terminated */
	size_t nr_roots;
	mode_t umask;
	uid_t uid;		/* as the job will see them */
	gid_t gid;
	gid_t *groups;
	size_t nr_groups;
	uint64_t caps;		/* the capabilities the job keeps (keyed) */
	uint64_t disk;		/* the disk limit enforced, 0: none (keyed) */
	bool access;		/* the job may be refused by permissions
				 * where procache's walk is not (all but a
				 * root job with CAP_DAC_OVERRIDE and
				 * CAP_FOWNER): the tracer records what
				 * decides its access (trace.h, cfg.access) */
	bool disk_default;	/* procache's default, not asked for */
	enum job_stdin_kind stdin_kind;
	/* procache's fds 1 and 2 are one open file (2>&1): so are the job's */
	bool one_stream;
	int stdin_fd;		/* PIPE, FILE: the private copy; else -1 */
	struct pc_hash stdin_hash;
	uint64_t stdin_size;
	int stdout_fd;		/* where the job's stdout streams live (1) */
	struct cache_remote *remote;	/* the remote cache, or NULL (DESIGN §11) */
	char *base_dir;		/* --base-dir, canonical, or NULL (DESIGN §12) */
	bool relocatable;	/* cwd under base_dir, which no argument,
				 * variable or mask contains */
	bool fast_path;		/* the tracer's fast path (DESIGN §3.1): on
				 * unless forced off, never untraced or
				 * untrusted; keyed */
	struct procattr attrs;	/* what the job inherits and is keyed */
	/*
	 * What the job is shown of the machine (DESIGN.md §2, "Host
	 * facts"), keyed: its strings are cgroup_layout and attrs.affinity
	 * (the CPUs given: the first --cpus of procache's own).
	 */
	struct sbx_hostfacts hostfacts;
	char *cgroup_layout;
};

/*
 * Gather what the job will be given. @cache_dir is the resolved cache
 * directory (absolute). Reads stdin fully when it is neither a terminal
 * nor /dev/null (into an unlinked file in @tmp_dir). With a @base_dir
 * (canonical), the job gets no PWD (DESIGN.md section 12).
 */
void job_prepare(struct job *j, const struct job_opts *o, char **argv,
		 const char *cache_dir, const char *tmp_dir,
		 const char *base_dir);
void job_release(struct job *j);

/*
 * The shared start of 'procache run' and 'procache trace': parse the
 * options (see job_opts_parse()), open the --log file, read the
 * configuration and apply it, open the cache (j->cache_dir is its
 * directory) and prepare @j. Returns the cache, which the caller closes
 * with cache_close(); dies (125) on any failure.
 */
struct cache *job_start(struct job_opts *o, int argc, char **argv,
			enum job_cmd cmd, struct job *j);

/* One sandboxed execution and what came of it. */
struct job_run {
	struct sbx *sbx;		/* owns the run directory */
	struct trace *trace;		/* NULL with --no-trace */
	struct sbx_result res;
	struct sbx_change *changes;
	size_t nr_changes;
	char **reasons;			/* why it is uncacheable; empty = cacheable */
	size_t nr_reasons, alloc_reasons;
	int exit_status;		/* procache's exit status for this run */
	/*
	 * CLOCK_REALTIME_COARSE before the job started, the clock file
	 * times are taken from: a file the job wrote has an mtime no older.
	 */
	struct timespec started;
};

/*
 * Run the job in the sandbox (traced unless --no-trace), wait for its end,
 * finish the trace and read the diff. Dies (125) when the sandbox cannot be
 * set up. The job's stdout/stderr stream to procache's fd 1 and 2 live and
 * are captured in the run directory.
 */
void job_execute(struct job *j, const char *run_root, struct job_run *r);
void job_run_add_reason(struct job_run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void job_run_release(struct job_run *r);
/*
 * job_run_release() for the run a command ends with: R is renamed out of
 * the way now (sbx_retire()), and what costs waiting on the kernel — the
 * sandbox's mount namespace and overlays torn down (three or four RCU
 * grace periods), the disk limit's tmpfs unmounted, R removed (a
 * synchronous discard per directory on a file system mounted with
 * `discard`), this process's own mount namespace — is left to
 * job_finish_later(), which the command calls last.
 */
void job_run_release_later(struct job_run *r);
/*
 * Last thing before the command returns its exit status @status: stdio
 * flushed, fds 0-2 made /dev/null (nothing is printed any more), a child
 * made that does the teardown job_run_release_later() left once this
 * process has exited, in a session of its own, and this process exits
 * with @status there and then (_exit): the caller has the exit status and
 * the end of its pipes at once. The child (a fork) does nothing before we
 * are gone. Without a pidfd or the child, the teardown is done here and it
 * returns. Returns at once when nothing was left.
 */
void job_finish_later(int status);

/* procache's exit status for a job that exited with @code or died of @sig. */
int job_exit_status(int code, int sig);

#endif

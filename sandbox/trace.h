/*
 * The tracer: a seccomp user-notification filter in the job, a handler in
 * the supervisor that records every observation the job makes of the host
 * (DESIGN.md §3), and the deny list of untrusted mode (§5).
 *
 * Calling sequence (runner/job.c, job_execute()):
 *
 *	struct trace *t = trace_new(&(struct trace_config){ ... });
 *	struct sbx_tracer hooks = trace_hooks(t);
 *	sbx_set_tracer(sbx, &hooks);
 *	sbx_run(...);		// hooks.install runs in the job before execve,
 *				// hooks.handle in the supervisor's tracer
 *				// threads
 *	trace_finish(t, &err);	// after the job: hashes, stat checks
 *	for (i = 0; i < trace_nr_obs(t); i++) ... trace_obs_at(t, i) ...
 *	for (i = 0; i < trace_nr_taints(t); i++) ... trace_taint_at(t, i) ...
 *	trace_free(t);
 *
 * A job with at least one taint is uncacheable; the taint strings say why
 * ("syscall connect: host unix socket /run/x.sock"). The tracer never makes
 * the job fail: whatever it cannot decode or model becomes a taint and the
 * call goes on.
 *
 * Memory comes from the x-allocators (dies on out-of-memory).
 */
#ifndef PROCACHE_SANDBOX_TRACE_H
#define PROCACHE_SANDBOX_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "common/hash.h"
#include "common/strbuf.h"

#include "sandbox/sandbox.h"

struct trace_unit;

struct trace_unit_hit;

struct trace_config {
	/*
	 * The overlay layers, paths absolute in the host (mountpoint is where
	 * the job sees it, which is the same host path). A job path belongs
	 * to the layer with the longest mountpoint prefix; its host state is
	 * read under lower, the job's writes under upper. With no layers,
	 * every path is host state as is.
	 */
	const struct sbx_layer *layers;
	size_t nr_layers;
	/*
	 * Job-view paths whose whole subtree is private to the job and never
	 * host state (the private /tmp tmpfs, /dev, --mask'ed paths). May be
	 * NULL/0. /proc and /sys are handled by the tracer itself (§3).
	 */
	const char *const *private_paths;
	size_t nr_private_paths;
	/*
	 * Declared outputs (job-view paths, canonical parents): removed
	 * from the view before the job starts, so their subtrees are the
	 * job's own, like private paths; entering one from a host
	 * directory records that directory's stat (the job could create
	 * it only there). May be NULL/0.
	 */
	const char *const *declared;
	size_t nr_declared;
	bool untrusted;   /* deny list: DENY → EPERM, host sockets → EACCES */
	/*
	 * The job may be refused by permissions where the supervisor's walk
	 * is not (every job but a root one with CAP_DAC_OVERRIDE and
	 * CAP_FOWNER: untrusted, uid 65534 without capabilities; a root job
	 * kept without them; rootless, where an lstat never asks for the
	 * write permission a removal needs): whether a call reaches a host
	 * object then depends on the search permission of each directory on
	 * the way, the write permission of a parent, and the object's own
	 * bits, owner and ACLs, which the walk does not all check. Record
	 * them: each host directory a lookup searches and each host object a
	 * call looks at gets a stat observation marked access and an xattrs
	 * observation (DESIGN.md §3, "Access").
	 */
	bool access;
	bool strict_stat; /* not read by the tracer: whether stat observations
	                     also compare mtime/ctime is the runner's choice
	                     when it records them */
	/*
	 * With nested (--mtime=content): a unit's stat of a regular file
	 * that showed it the times is hashed too, from the view, when
	 * observed (trace_obs.hash, .hashed), so that its entry may hold
	 * when only the mtime moved (DESIGN.md §13.3).
	 */
	bool stat_content;
	bool trace;       /* false: deny-only filter, no listener */
	/*
	 * Do not notify readlink/readlinkat (a compiler makes tens of
	 * thousands, most failing with EINVAL). Symlinks met while resolving
	 * traced paths and symlinks lstat'ed are still recorded; a job that
	 * reads a host symlink's target *only* with readlink (readlink -f,
	 * realpath) and prints it is then NOT covered: a false hit is
	 * possible if that link changes. Default false (DESIGN.md §5).
	 */
	bool fast_readlink;
	bool host_net;    /* --net: the job shares the host network namespace,
	                     so network and abstract-socket use taints */
	/*
	 * A directory (absolute, canonical; copied) whose location the job
	 * must not learn for its run to be relocatable (--base-dir, DESIGN.md
	 * §12), or NULL. With it, getcwd and readlink are notified, and
	 * trace_location_observed() says whether and how the job could have
	 * learnt where it is: getcwd in it, an absolute path or an absolute
	 * symlink target leading into it, ".." leaving it, a magic link of
	 * /proc/PID read that points into it, /proc/PID/{maps,mountinfo,...}.
	 */
	const char *location_dir;
	/*
	 * The fast path (DESIGN.md §3.1); ignored without cfg.trace and with
	 * cfg.untrusted. The sandbox shows its files to the job (the hooks'
	 * binds) and the tracer maps the channel through the job's root at
	 * the first notification; or, with @fast_dir (tests without a
	 * sandbox), the tracer creates the channel there at once.
	 */
	bool fast;
	const char *fast_dir;
	/*
	 * Nested caching (DESIGN.md §13; needs cfg.trace, excludes
	 * cfg.untrusted and the fast path): exec, exit, writes to fds 1
	 * and 2, the dup family, fcntl's F_DUPFD/F_SETFL and prctl's
	 * PR_SET_CHILD_SUBREAPER are notified too, and the tracer keeps the
	 * execution units of the job (sandbox/nest-units.h).
	 */
	bool nested;
	/*
	 * With nested: called, under the tracer's lock, for each unit that
	 * ended and was not refused, to store it (the runner builds its key
	 * and record: sandbox/ never sees a key). Its return value is
	 * ignored; NULL: units are only counted.
	 */
	void (*unit_done)(void *unit_ctx, const struct trace_unit *u);
	/*
	 * With nested: called at a unit's exec (u: its key's fields only,
	 * root_fd: an O_PATH fd of the caller's /proc/PID/root) to look it up
	 * beneath the view and, on a hit, apply its changes there (the
	 * runner: cache_lookup_at(), cache_entry_apply_at()) and fill @hit.
	 * 1: a hit, applied: the tracer redirects the exec to the replayer;
	 * 0: a miss, nothing done: the program runs; -1: the apply failed
	 * part way (the program runs over it; the run is uncacheable).
	 * NULL: nothing is looked up.
	 */
	int (*unit_skip)(void *unit_ctx, const struct trace_unit *u, int root_fd,
			 struct trace_unit_hit *hit);
	void *unit_ctx;
	/* Tests: at most this many records in the channel at once (0: its
	 * size), so that it overflows. */
	unsigned fast_slots;
	/*
	 * The view shows generated host facts (sbx_hostfacts_bind(): /proc
	 * files, /sys/devices/system/cpu, /sys/fs/cgroup): those paths are
	 * not host state, and what the job read of them is listed by
	 * trace_synthetic_at(). With sysinfo_ram, sysinfo(2) is answered by
	 * the tracer from them: totalram = freeram = sysinfo_ram, no swap,
	 * loads 0, uptime 100 s, 1 process (the same as /proc/meminfo,
	 * /proc/loadavg and /proc/uptime show).
	 */
	bool hostfacts;
	uint64_t sysinfo_ram;
	/*
	 * With hostfacts: the "cpuinfo" host fact recorded when the job
	 * reads /proc/cpuinfo (cpuinfo_fact() of what the view shows,
	 * common/cpus.h); NULL records none.
	 */
	const char *cpuinfo_fact;
	/*
	 * A directory (absolute; made if missing) where compiled filter
	 * programs are kept across runs (trace-filter.c), or NULL: the job
	 * builds its filter on every run.
	 */
	const char *filter_dir;
	/*
	 * How trace_finish() hashes a content input, or NULL (it reads the
	 * file): hash_file(hash_ctx, path, st, out) puts in @out the hash of
	 * the regular file at @path (absolute), which must be the file @st
	 * describes (else -ESTALE), from a stat-keyed cache when it can;
	 * 0 or -errno. procache run gives the cache's stat cache, so that
	 * a miss does not read its compiler and libraries again.
	 */
	int (*hash_file)(void *hash_ctx, const char *path, const struct stat *st,
			 struct pc_hash *out);
	void *hash_ctx;
};

enum trace_obs_kind {
	TRACE_CONTENT,
	TRACE_ABSENT,
	TRACE_STAT,
	TRACE_LISTING,
	TRACE_SYMLINK,
	TRACE_HOSTFACT,
	TRACE_OUTPUT,
	TRACE_XATTRS,
};

/* What a unit's hit gives (trace_config.unit_skip). */
struct trace_unit_hit {
	int exit_code;
	struct strbuf out[3];	/* [1] stdout, [2] stderr: their bytes */
	double duration_s;	/* the recorded run's: the time saved */
	char **written;		/* the view paths the apply changed */
	size_t nr_written;
	char *entry;		/* its id, for the log */
	/* seconds spent by unit_skip in the lookup, reading the outputs,
	 * replaying the preconditions (pre), applying: for -vv */
	double lookup_s, output_s, compose_s, apply_s;
	/* The entry was found under the key naming fd 0 as it is (not
	 * "unseen"): it may have observed fd 0. */
	bool fd0_exact;
	/*
	 * Set by the tracer before the call: unit_skip calls it for each
	 * precondition of the entry that hit (@path: a hostfact's name for
	 * TRACE_HOSTFACT; @times: a stat's mtime is in it), after the lookup
	 * and before the apply, so that the outer job and the units around
	 * the skipped one observe what it would have (DESIGN.md §13.5).
	 */
	void (*pre)(void *pre_arg, enum trace_obs_kind kind, const char *path, bool times);
	void *pre_arg;
};

/* One observation; plain data owned by the struct trace. */
struct trace_obs {
	enum trace_obs_kind kind;
	char *path;          /* absolute host path, last component not followed;
	                        HOSTFACT: the fact's name ("uname.release") */
	const char *syscall; /* first system call that made the observation */
	struct stat st;      /* lstat at first observation (CONTENT, STAT,
	                        LISTING, SYMLINK; OUTPUT: see below); zeroed
	                        otherwise */
	char *value;         /* SYMLINK: target; HOSTFACT: the value; else NULL */
	size_t nr_entries;   /* LISTING: number of entries */
	struct pc_hash hash; /* CONTENT: XXH3-128 of the bytes (after
	                        trace_finish); LISTING: dirlist_hash_at_hiding(),
	                        the declared outputs left out;
	                        XATTRS: xattr_hash_path() (common/xattr.h)
	                        when first observed; a unit's STAT of a
	                        regular file that showed no times, or with
	                        stat_content: the bytes, when observed */
	bool hashed;         /* hash is valid */
	/*
	 * STAT: a call showed the job the object's times (stat, lstat,
	 * fstat, newfstatat, statx, by path or by fd), so its mtime is an
	 * observation (DESIGN.md §3); false for calls that show none
	 * (access, chmod, an O_TRUNC open...). For a directory, only when a
	 * stat by path that does not follow a final symlink (lstat,
	 * AT_SYMLINK_NOFOLLOW) showed them and the job read its entries
	 * or its parent's too (from trace_finish() on; before, the lstat
	 * alone): archivers, copiers, find and ls walk the directories
	 * whose times they act on, or list their parent (ls -l); shells, compilers and make stat directories following, rsync
	 * lstats the ancestors of its destination without reading them,
	 * and a directory's mtime moves with every entry made in it. Never
	 * under /proc and /sys, whose times mean nothing.
	 */
	bool times;
	/*
	 * STAT: recorded only for what decides the job's access to the
	 * object (cfg.access): its type, permission bits and owner, never
	 * its times, size or bytes (--strict-stat included). Any other
	 * recording of the path's stat clears it.
	 */
	bool access;
	/*
	 * OUTPUT: a host path opened for writing with O_TRUNC. Its prior
	 * bytes do not matter, only whether it was a regular file (st, of
	 * that file) or absent (st.st_mode == 0), and, for O_CREAT (create),
	 * what creating it gives: permission bits after the umask, the
	 * process's fsuid and fsgid (the directory's gid when it is
	 * set-group-id), and the parent directory's lstat.
	 */
	bool create;
	mode_t create_mode;
	/*
	 * XATTRS of a file the job truncated (an output) that had none but
	 * an LSM label: an absent path whose directory has no default ACL
	 * gives a file of none too (cache.h, cache_record_add_xattrs()).
	 */
	bool absent_ok;
	uid_t create_uid;
	gid_t create_gid;
	struct stat parent;
};

/*
 * An execution unit that ended and may be stored (DESIGN.md §13.3);
 * plain data owned by the tracer, valid during the unit_done call.
 */
struct trace_unit {
	unsigned id, parent;	/* parent: the enclosing unit, 0 for none */
	const char *argv0;
	/*
	 * Its key's fields after the outer job's, in order (name, value):
	 * "exe" (view path), "program" (path:content hash of the executable
	 * and each interpreter the kernel loads), "argv", "env", "cwd",
	 * then nest_exec_facts' (ids, umask, capabilities, signals,
	 * limits, fds 0-2...).
	 */
	const char *const *names, *const *values;
	size_t nr_fields;
	/*
	 * What its processes observed of the view, as for a job (trace_obs;
	 * paths are absolute view paths, host or job state), content and
	 * listings hashed when observed, before the call was answered.
	 */
	const struct trace_obs *obs;
	size_t nr_obs;
	/* What it wrote to its stdout ([1]) and stderr ([2]); when both were
	 * one open file description, everything is in [1]. */
	const char *out[3];
	size_t out_len[3];
	int exit_code;
	double duration_s;
	/* The view paths its processes wrote, created, removed or renamed,
	 * sorted: their state now is its result. */
	const char *const *written;
	size_t nr_written;
	/* An O_PATH fd of the view's root (the job's /proc/PID/root). */
	int root_fd;
	/*
	 * Its fd 0 was /dev/null or a pipe, open for reading only
	 * (DESIGN.md §13.3, "Stdin unseen"). At unit_skip: it may also be
	 * looked up under the key whose "fd0" field is "unseen"; at
	 * unit_done: none of its processes observed fd 0, so it is stored
	 * under that key.
	 */
	bool fd0_unseen;
};

/* A new tracer for one run. @cfg is copied (the layers are not: they must
 * outlive the tracer). Never NULL. */
struct trace *trace_new(const struct trace_config *cfg);
/* Free everything, observations included. NULL allowed. */
void trace_free(struct trace *t);

/*
 * The fast path's library as the job sees it, appended to its LD_PRELOAD
 * (the sandbox does it through the hooks' preload); a constant.
 */
#define TRACE_FAST_PRELOAD "/dev/.procache/fastpath.so"
/*
 * The fast path's version (16 hex digits of the library's hash), for the
 * key: what the job sees of it changes with it. Static storage.
 */
const char *trace_fast_version(void);
/*
 * The host path of the channel when the fast path is on (the test driver
 * runs jobs without a sandbox: it preloads the built library and names
 * the channel in PROCACHE_FAST_CHANNEL), else NULL.
 */
const char *trace_fast_channel(const struct trace *t);

/*
 * The hooks for sbx_set_tracer(): ctx = @t. With the fast path on, the
 * hooks also bind the library and the channel into the job's /dev and
 * preload the library (sandbox.h, struct sbx_tracer).
 * install(ctx): in the job (after no_new_privs, right before execve; the
 *   filter applies to the calling thread, and another, unfiltered thread
 *   may exist to send the listener up): installs the filter; returns the listener fd (> 0),
 *   0 when only a deny filter was installed (cfg.trace false), or -errno.
 * handle(ctx, fd): in one of the supervisor's tracer threads, several at
 *   once: waits for, receives and answers one notification; returns 0, 1
 *   when no job process is left, or -errno when the listener is dead or
 *   unusable (a taint is recorded then). Thread-safe.
 */
struct sbx_tracer trace_hooks(struct trace *t);

/*
 * After the job has ended: check that what the job observed still holds,
 * and hash what it read. A difference taints "input changed during the
 * run: PATH":
 *	CONTENT	hashed (XXH3-128); its stat (dev, ino, size, mtime, ctime)
 *		must equal the one at first observation, before and after
 *		hashing (/proc and /sys: the bytes alone); unreadable taints
 *	LISTING	the listing hashed again must be the same
 *	STAT, SYMLINK	dev, ino, mode, (regular file) size and (times
 *		shown) mtime unchanged (not checked under /proc and /sys)
 *	ABSENT	still absent
 *	OUTPUT	still absent, or the same file (dev, ino, mode, uid, gid)
 *	XATTRS	the same extended attributes (hashed again)
 * A tracer that gave up without a taint taints "tracer stopped". Returns 0
 * (whatever cannot be checked is a taint); -errno with a message in @err
 * (NULL allowed) is reserved for a tracer that cannot finish at all, and
 * the caller must then treat the run as uncacheable.
 */
int trace_finish(struct trace *t, struct strbuf *err);

/*
 * What the tracer handled: notifications, fast-path records, and calls the
 * library notified for want of a free slot in the channel. After
 * trace_finish().
 */
struct trace_counts {
	unsigned long long notifications, records, fallbacks;
	/* --nested: execution units that ran, were skipped, were refused
	 * (DESIGN.md §13.7), and the recorded run time of those skipped */
	unsigned long long units_run, units_skipped, units_refused;
	double saved_s;
};
void trace_counts(const struct trace *t, struct trace_counts *out);

/* Observations, in the order of first observation. */
size_t trace_nr_obs(const struct trace *t);
const struct trace_obs *trace_obs_at(const struct trace *t, size_t i);

/*
 * The generated host facts the job read (job paths, and "sysinfo(2)"),
 * in order of first read; no duplicates.
 */
size_t trace_nr_synthetic(const struct trace *t);
const char *trace_synthetic_at(const struct trace *t, size_t i);

/* Taint reasons, in order; no duplicates. */
/*
 * Whether a job process sent signal @sig (kill, tkill, tgkill,
 * rt_sigqueueinfo, rt_tgsigqueueinfo, pidfd_send_signal, all notified),
 * to whichever job process: a death by it is the job's own doing.
 */
bool trace_job_sent_signal(const struct trace *t, int sig);
size_t trace_nr_taints(const struct trace *t);
const char *trace_taint_at(const struct trace *t, size_t i);

/*
 * NULL when the job could not have observed where cfg.location_dir is
 * (always NULL without one), else the first way it could have
 * ("getcwd in /home/a/p").
 */
const char *trace_location_observed(const struct trace *t);

/*
 * What the job did with the times of a path of its own state (the
 * job-view path, which is the host path a diff change names), for the
 * replay of times (DESIGN.md §7):
 *	TRACE_TIMES_SET		it set them (utimensat, utimes, utime,
 *				futimesat, futimens on the path or an fd of
 *				it, with an explicit mtime: not to the time
 *				of the call, as `touch f` does; a rename
 *				carries the mark to the new name; a hard
 *				link's new name gets it when the source's
 *				times are the host's or marked)
 *	TRACE_TIMES_SEEN	it stat'ed the path (by path or fd) when the
 *				path was its own state, i.e. after writing it
 * 0 when neither. Valid after the job has ended.
 */
#define TRACE_TIMES_SET 1u
#define TRACE_TIMES_SEEN 2u
unsigned trace_job_times(const struct trace *t, const char *path);

/* "content", "absent", "stat", "listing", "symlink", "hostfact", "output",
 * "xattrs". */
const char *trace_obs_kind_name(enum trace_obs_kind k);

#endif

/*
 * What the files of the tracer share; private to them (the public contract
 * is trace.h). The files, each calling only the ones below it:
 *
 *	trace.c		the public API: trace_new/free/hooks, trace_finish
 *	trace-filter.c	the seccomp filters and their installation in the job
 *	trace-notify.c	one notification or fast-path record: decode the
 *			call, observe, answer; the drainer thread
 *	trace-observe.c	what a resolved path is recorded as; the execve chain
 *	trace-resolve.c	path resolution as the kernel does it for the job
 *	trace-fast.c	the fast path's channel, write generation and log
 *	trace-record.c	the records: observations, taints, lookup caches
 *
 * The records and caches of struct trace are used with t->lock held
 * (trace-notify.c takes it around each notification), except by
 * trace_new/free/finish, which run when no tracer thread does.
 * trace-filter.c runs in the job and reads only t->cfg.
 */
#ifndef PROCACHE_SANDBOX_TRACE_INTERNAL_H
#define PROCACHE_SANDBOX_TRACE_INTERNAL_H

#include <linux/types.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "common/strbuf.h"
#include "common/strmap.h"
#include "sandbox/fastpath.h"
#include "sandbox/trace.h"

struct sock_filter;
struct trace_fast;

/* Room for struct seccomp_notif(_resp) as this kernel sizes them. */
#define TRACE_NOTIF_BUF 512

/*
 * personality(0xffffffff) changes nothing and returns the current
 * persona: untrusted mode lets it through (trace-filter.c, trace-notify.c).
 */
#define TRACE_PERSONALITY_QUERY 0xffffffffu

struct trace {
	struct trace_config cfg;
	char **private_paths;
	char **declared;

	struct trace_obs *obs;
	size_t nr_obs, alloc_obs;
	/* open addressing: index + 1 into obs, 0 = empty; size power of 2 */
	uint32_t *map;
	size_t map_size;

	char **taints;
	size_t nr_taints, alloc_taints;
	/* bit N-1: a job process sent signal N (kill, tgkill, ...) */
	uint64_t signals_sent;

	/*
	 * Lookups already fully recorded (op, flags, dirfd path, name): a
	 * repeat records nothing new, so it is answered without a walk.
	 * Each maps to an entry id, valid until a write touches a job-view
	 * path its walk visited (a component, a symlink, the missing name)
	 * or a directory above one (trace_forget_seen_path(); DESIGN §3
	 * "When"): @visited indexes the entries by those paths, as a tree
	 * of nodes (a node's kids are the visited paths one level below).
	 */
	struct strmap seen;
	bool *seen_valid;	/* by entry id */
	size_t nr_seen_ids, alloc_seen_ids;
	struct strmap visited;	/* job-view path -> index into visit_nodes */
	struct visit_node {
		long *ids, *kids;
		size_t nr_ids, alloc_ids, nr_kids, alloc_kids;
	} *visit_nodes;
	size_t nr_visit_nodes, alloc_visit_nodes;
	long last_seen_id;	/* of the last trace_res_seen() or hit */
	/*
	 * Job-view directories known to be host directories (not in upper, or
	 * merged there, not opaque): a child's state is then decided by its
	 * own upper entry alone. Only a removal or rename can change that.
	 */
	struct strmap hostdirs;
	/*
	 * Host paths whose inode flags a write-side call looked at
	 * (trace_check_inode_flags()): each is read once.
	 */
	struct strmap flags_checked;
	/*
	 * With cfg.access: job-view directories a lookup has searched whose
	 * access was recorded (trace_record_access()), or that are internal
	 * to the sandbox; each once per run, never forgotten (the first
	 * observation is the one recorded, DESIGN §3 "When").
	 */
	struct strmap searched;

	/*
	 * Job-view paths whose times the job set or saw (trace.h,
	 * trace_job_times()): TRACE_TIMES_* flags, indexed by path.
	 */
	struct trace_jobtime {
		char *path;
		unsigned flags;
	} *jobtimes;
	size_t nr_jobtimes, alloc_jobtimes;
	struct strmap jobtime_index; /* path -> index in jobtimes */

	/*
	 * Taken by each tracer thread (trace_handle) from receiving a
	 * notification to answering it: everything above and below is
	 * shared. The ioctls that wait stay outside.
	 */
	pthread_mutex_t lock;
	/*
	 * The receiver's token (trace_handle): only its holder waits in
	 * SECCOMP_IOCTL_NOTIF_RECV, so that a notification wakes one
	 * thread, not every thread of the pool (the kernel's wait there is
	 * not exclusive). The holder keeps it from one notification to the
	 * next, and lets it go when more are pending than it is answering.
	 */
	pthread_mutex_t recv_lock;
	bool notif_sizes_bad; /* the kernel's structs exceed TRACE_NOTIF_BUF */
	bool dead;
	bool uname_done;
	char **synthetic;	/* trace_synthetic_at() */
	size_t nr_synthetic, alloc_synthetic;
	char *location_seen; /* trace_location_observed() */

	/*
	 * The fast path (DESIGN §3.1), NULL when off. Its channel is read
	 * with t->lock held, by the drainer thread (started by the first
	 * notification) and by a tracer thread before it answers a write.
	 */
	struct trace_fast *fast;
	char *fast_error;	/* set-up failure: a taint at trace_finish */
	int view_fds[2];	/* trace_fast_keep_view(), closed by trace_free() */
	/*
	 * The filter's program for a job whose listener another thread
	 * hands over, compiled before the fork (trace_filter_prepare()):
	 * NULL when not (the job builds it then).
	 */
	struct sock_filter *prog;
	size_t prog_len;
	struct sbx_bind binds[2];	/* the library, the channel (trace_hooks) */
	pthread_t drainer;
	bool drainer_started;
	_Atomic bool drainer_stop;

	/* resolve_arg()'s buffers, kept (under the lock) from call to call */
	struct strbuf scratch_name, scratch_base, scratch_key;

	/*
	 * Nested caching (cfg.nested; NULL otherwise): the execution units
	 * (trace-nest.c), and the process whose notification is being
	 * handled, whose units a taint refuses (0 for none).
	 */
	struct trace_nest *nest;
	pid_t nest_pid;
	/* that call's receipt and the lock taken (CLOCK_MONOTONIC, s): the
	 * phases of a skipped unit for -vv (trace-nest.c) */
	double nest_t_recv, nest_t_lock;

	/*
	 * The PATH candidates the job skipped before its filter (struct
	 * sbx_tracer, path_skipped), recorded at the first notification;
	 * path_skipped_unknown: it skipped some it could not name.
	 */
	char **path_skipped;
	bool path_skipped_unknown;

	/* counts, for -vv and the benchmarks */
	uint64_t nr_notifications, nr_records, nr_fallbacks;
	uint32_t nr_by_call[512];	/* notifications by call number */
};

/* The job read the generated host fact @path: remembered once. */
void trace_synthetic_read(struct trace *t, const char *path);

static inline bool trace_is_digits(const char *s, size_t len)
{
	size_t i;

	if (!len)
		return false;
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* ---------------------------------------------------------------------- */
/* trace-record.c */

/*
 * The observation of (@kind, @path), or NULL when there is none yet.
 */
struct trace_obs *trace_obs_find(struct trace *t, enum trace_obs_kind kind,
				 const char *path);
/*
 * Record a new observation made first by system call @sc (static string)
 * with lstat @st (NULL: zeroed). Returns the new record, or NULL when
 * (kind, path) was already recorded.
 */
struct trace_obs *trace_obs_add(struct trace *t, enum trace_obs_kind kind,
				const char *path, const char *sc,
				const struct stat *st);
/* Add a taint reason (a duplicate is dropped). */
__attribute__((format(printf, 2, 3)))
void trace_taint(struct trace *t, const char *fmt, ...);
/* A job process sends signal @sig (trace.c): remembered for the run's end. */
void trace_signal_sent(struct trace *t, int sig);
/*
 * The job could have learnt where cfg.location_dir is (the first reason
 * is kept; trace.h, trace_location_observed()).
 */
__attribute__((format(printf, 2, 3)))
void trace_location(struct trace *t, const char *fmt, ...);
/* cfg.location_dir is set and @path (job view, clean) is it or below it. */
bool trace_in_location(const struct trace *t, const char *path);
/*
 * The job removed or renamed the job-view @path (NULL: something it
 * cannot tell): how a path at or below it resolves may have changed, so
 * forget what the caches say of those (see struct trace; the host
 * directories all).
 */
void trace_forget_resolutions(struct trace *t, const char *path);
/*
 * A write makes a host path the job's own: forget the lookups recorded as
 * host state (the seen set), so that a later stat of it is looked at again
 * and marked TRACE_TIMES_SEEN: trace_forget_seen() all of them (a write
 * whose path is not known), trace_forget_seen_path() those whose walk
 * visited the job-view @path or a path below it, the only ones whose
 * outcome the write can change (DESIGN §3 "When"). Both forget the
 * channel's copies too (trace_fast_forget(), trace_fast_seen_drop()).
 */
void trace_forget_seen(struct trace *t);
void trace_forget_seen_path(struct trace *t, const char *path);
/* The valid entry id of the seen set's @key, or -1. */
long trace_seen_find(const struct trace *t, const char *key, size_t len);
struct res;
/*
 * Enter @r's lookup (r->key) into the seen set, valid, indexed by the
 * paths its walk visited (r->visited); returns its id.
 */
long trace_seen_enter(struct trace *t, const struct res *r);
bool trace_seen_valid(const struct trace *t, long id);
/* Add TRACE_TIMES_* @flags to the job-view @path, or take them off. */
void trace_jobtime_mark(struct trace *t, const char *path, unsigned flags);
void trace_jobtime_unmark(struct trace *t, const char *path, unsigned flags);
/* The job renamed @from to @to: the marks of @from and below move there. */
void trace_jobtime_rename(struct trace *t, const char *from, const char *to);
/*
 * The extended attributes of the resolved @r, a host object: recorded
 * (their hash, as they are now) when a call reads them, writes them, or
 * carries them into the job's result (a copy-up: a write to a host file,
 * a rename, a chmod; DESIGN.md §3). Nothing for the job's own state.
 */
struct res;
void trace_record_xattrs(struct trace *t, const struct res *r, const char *sc);
/* The same for a host path (absolute) known to exist. */
void trace_record_xattrs_path(struct trace *t, const char *hostpath,
			      const char *sc);
/* Free the observations, the taints and the caches. */
void trace_records_release(struct trace *t);

/*
 * Host files whose content changes by itself (/proc/meminfo, /proc/stat,
 * /sys/fs/cgroup...): reading one taints.
 */
bool trace_is_always_changing(const char *hostpath);
/*
 * Taint when @hostpath is always changing, naming system call @sc; returns
 * whether it did.
 */
bool trace_record_always_changing(struct trace *t, const char *hostpath,
				  const char *sc);

/* ---------------------------------------------------------------------- */
/* trace-fast.c */

/* The library's bytes (sandbox/preload/blob.S). */
extern const unsigned char fp_lib_bytes[], fp_lib_end[];

/* A record taken off the channel: a copy (rec points into buf), with its strings. */
struct trace_fast_rec {
	_Alignas(struct fp_rec) char buf[FP_SLOT_SIZE];
	struct fp_rec *rec;
	const char *base, *path, *value;
};

/*
 * The fast path's state, and with @dir (tests without a sandbox) the
 * channel made there and mapped; 0, or -errno with a message in @err
 * (the fast path is then off).
 */
int trace_fast_setup(struct trace *t, const char *dir, struct strbuf *err);
void trace_fast_release(struct trace *t);
/*
 * Move the fds holding the job's view (its root and mount namespace)
 * out to @fds, -1 where none: trace_finish() keeps them until
 * trace_free(), whose caller may free later than the run's end (the
 * last holder of a mount namespace pays its teardown).
 */
void trace_fast_keep_view(struct trace *t, int fds[2]);
/* The library's version: 16 hex digits of its hash. */
const char *trace_fast_version(void);
/*
 * At the first notification, of @pid: keep the job's root and mount
 * namespace open (records read after the job's end still find its
 * private mounts), and map the channel the sandbox made. 0, or -errno
 * when the channel cannot be mapped (then the library finds no header
 * and every call is notified).
 */
int trace_fast_hold_view(struct trace *t, pid_t pid);
/* The job's root (O_PATH), or -1 before the first notification. */
int trace_fast_root(const struct trace *t);
/*
 * Take the next published record: 1 and *@out, 0 when there is none
 * (yet), -EINVAL for a malformed one (taken all the same). In order of
 * position, except that a position taken and not yet published (its
 * producer preempted in between) holds back no record behind it: those
 * are taken ahead of it, and it is taken once published. @final: no job
 * process is left, so a position never published (its producer died
 * between taking it and publishing) is skipped instead of waited for.
 */
int trace_fast_pop(struct trace *t, struct trace_fast_rec *out, bool final);
/* The drainer: sleep up to @ms or until producers wake it; wake it. */
void trace_fast_wait(struct trace *t, int ms);
void trace_fast_wake(struct trace *t);
/* Calls the library notified for want of a free slot. */
uint64_t trace_fast_fallbacks(const struct trace *t);
/*
 * The write generation (0 without the fast path), and a notified write
 * about to be answered: the next generation, with the job-view @paths it
 * touched (n == 0: it cannot tell, "everything"). @job[i]: paths[i] was
 * the job's own state when the write was handled (trace-resolve.c, W_JOB
 * or W_INTERNAL: found and not a symlink, or missing), so a call made
 * before it saw the job's object, its removal, or nothing anywhere (a
 * host absence recorded when the job made it); what the write leaves
 * there is one of those too (what it creates, if anything, is made in
 * the upper directory at a path that was the job's).
 */
uint64_t trace_fast_gen(const struct trace *t);
void trace_fast_wrote(struct trace *t, const char *const *paths, const bool *job, size_t n);
/*
 * What writes of a generation after @since did to the job-view @path
 * (touched: equal to or above it): nothing; each kept it the job's own
 * state (@job above), so a call made among them saw the job's state
 * there; or anything else (the call may have seen host state or the
 * job's, and the upper directory no longer tells which).
 */
enum fast_touch { FAST_UNTOUCHED, FAST_TOUCHED_JOB, FAST_TOUCHED };
enum fast_touch trace_fast_touched(const struct trace *t, const char *path, uint64_t since);
/*
 * The seen table (fastpath.h): record @fr's lookup is in the seen set, so
 * the library need not publish it again; and the seen set was forgotten
 * (trace_forget_resolutions()), so no entry holds any more.
 */
void trace_fast_seen_add(struct trace *t, const struct trace_fast_rec *fr, long id);
void trace_fast_forget(struct trace *t);
/* Entries of the seen set were forgotten: drop their copies (@id's). */
void trace_fast_seen_drop(struct trace *t);
/*
 * The filter's prefix: calls from the page with a number of the fast
 * set are allowed, anything else falls through to the program that
 * follows. Returns the number of instructions written (0 if @max is too
 * small).
 */
size_t trace_fast_filter(struct sock_filter *out, size_t max);

/* ---------------------------------------------------------------------- */
/* trace-resolve.c */

/* Where a path of the job's view lives. */
enum where {
	W_HOST,     /* host state: host path in hostpath */
	W_JOB,      /* the job's own state (upper dir, whiteout, opaque, ...) */
	W_INTERNAL, /* private to the sandbox: /dev, /proc/PID, tmpfs /tmp */
};

enum res_status {
	RES_FOUND,   /* st is the object (lstat when the last is not followed) */
	RES_MISSING, /* ENOENT/ENOTDIR; the absent observation is recorded */
	RES_OPAQUE,  /* not a path (pipe, socket, anon inode), or internal
	                state we do not walk into; nothing to record */
	RES_FAILED,  /* could not be modelled; a taint is recorded */
};

/* The result of one resolution. */
struct res {
	enum res_status status;
	enum where where;
	struct strbuf path;     /* job-view path */
	struct strbuf hostpath; /* W_HOST: host path */
	struct stat st;
	struct strbuf key;      /* for the seen set (resolve_arg with an op) */
	struct strbuf visited;  /* with a key: the job-view paths the walk
	                           looked at, each NUL-terminated */
	bool forced;            /* a component was judged by the write log
	                           (walk.stale): nothing goes to the caches */
};

#define RES_INIT { .path = STRBUF_INIT, .hostpath = STRBUF_INIT, .key = STRBUF_INIT, \
		   .visited = STRBUF_INIT }

void trace_res_release(struct res *r);
/*
 * Remember a lookup whose records are complete (host state only); returns
 * whether it was remembered.
 */
bool trace_res_seen(struct trace *t, const struct res *r);

enum create_kind {
	CREATE_NONE,
	CREATE_NEW,   /* the call creates the last component if missing */
	CREATE_TRUNC, /* ... and its result does not depend on what was
	                 there before when it is a regular file */
};

/* How to resolve: the caller, and what the call does with the path. */
struct walk {
	struct trace *t;
	pid_t pid;        /* 0 for a fast-path record: no /proc/PID to read */
	const char *sc;
	bool follow_last;
	uint64_t resolve; /* openat2 RESOLVE_* */
	enum create_kind create;
	mode_t open_mode; /* CREATE_TRUNC: the mode argument of the open */
	/*
	 * A fast-path record read after notified writes of a later
	 * generation than @gen: components those writes touched are host
	 * state whatever the upper directory says now (DESIGN §3.1).
	 */
	bool stale;
	uint64_t gen;
};

/*
 * Resolve @name (relative to the job-view directory @base) as the kernel
 * does for the job, recording every host symlink met and a host component
 * found missing. The result is in @r (initialised with RES_INIT).
 */
void trace_walk_path(const struct walk *w, const char *base, const char *name,
		     struct res *r);
/*
 * As trace_walk_path() with @name relative to @w->pid's working directory.
 * Returns 0, or -errno when the working directory cannot be read (nothing
 * is resolved then).
 */
int trace_walk_from_cwd(const struct walk *w, const char *name, struct res *r);

/* The job's view of @p, through /proc/PID/root (for job and internal state). */
void trace_view_path(pid_t pid, const char *p, struct strbuf *out);
/* The directory a dirfd (or AT_FDCWD) of @pid names, in the job's view. */
int trace_dirfd_path(pid_t pid, int dirfd, struct strbuf *out);
/* readlink() into @out; 0 or -errno. */
int trace_readlink(const char *path, struct strbuf *out);
int trace_readlink_at(int dirfd, const char *path, struct strbuf *out);
/*
 * What creating a file gives, for an output observation (trace.h): the
 * open's mode less the process's umask, its fsuid, and its fsgid or the
 * directory's group when the directory is set-group-id. Read from
 * /proc/PID/status, whose ids are shown in the supervisor's (host) terms.
 * Returns false when the process is gone or the file unreadable.
 */
bool trace_output_creation(pid_t pid, const char *path, mode_t open_mode,
			   struct trace_obs *o);

/*
 * The ioctl name of a request that reads a file's inode flags or
 * attributes (FS_IOC_GETFLAGS: lsattr; FS_IOC_FSGETXATTR; the inode
 * generation, lsattr -v), or NULL: not observed, so notified (trace-filter.c)
 * and the run is uncacheable (DESIGN.md §5).
 */
const char *trace_fileattr_ioctl(unsigned long request);

/* ---------------------------------------------------------------------- */
/* trace-observe.c */

/*
 * A walk in the job's own /proc/<pid> (job-internal) that may reach a
 * process's loginuid or sessionid, copies of procache's own (DESIGN.md
 * §3, "hostfact"): @entry is the entry of /proc/<pid> it names (NULL:
 * the walk starts below one), @rest what it has left to walk. Records the
 * host fact of each one it may reach, for the job and the caller's units.
 */
void trace_proc_audit_facts(struct trace *t, pid_t pid, const char *sc,
			    const char *entry, const char *rest);

/*
 * With cfg.access (the job's credentials are not the supervisor's): what
 * decides whether the job may reach the host object @hostpath (lstat
 * @st): a stat observation marked access (type, permission bits, owner;
 * trace_obs.access) unless the path has a stat observation already or
 * @st is NULL (the caller records a full one), and
 * its extended attributes (its access ACL among them). Nothing under
 * /proc and /sys. Once per path.
 */
void trace_record_access(struct trace *t, const char *hostpath,
			 const struct stat *st, const char *sc);
/*
 * With cfg.access: the host symlink @hostpath (lstat @st), just recorded
 * as a symlink observation, in a sticky directory: its owner, as a stat
 * observation marked access (who may remove it, and follow it under
 * fs.protected_symlinks). Elsewhere a symlink's own access is nothing.
 */
void trace_record_link_access(struct trace *t, const char *hostpath,
			      const struct stat *st, const char *sc);
/*
 * A found host object named by a call that looks at it; with cfg.access,
 * its access too (trace_record_access()).
 */
void trace_record_found(struct trace *t, const struct res *r,
			enum trace_obs_kind kind, const char *sc);
/*
 * A stat that shows the job the times of the resolved @r (stat, lstat,
 * fstat, statx...): a host object becomes a stat observation with its
 * times (a symlink a symlink observation too; a directory only when
 * @by_path and @nofollow: lstat, AT_SYMLINK_NOFOLLOW); the job's own
 * object is marked TRACE_TIMES_SEEN when @by_path (trace.h).
 */
void trace_record_stat_times(struct trace *t, const struct res *r,
			     const char *sc, bool by_path, bool nofollow);
/*
 * A call that writes the host object at @hostpath, or adds or removes an
 * entry of the host directory @hostpath: when the object is immutable or
 * append-only (chattr +i, +a), which no precondition holds, the run is
 * tainted. Read once per path; anything but a regular file or a
 * directory is not opened (a device's open may act) and has no flags
 * that matter here.
 */
void trace_check_inode_flags(struct trace *t, const char *hostpath);
/*
 * execve of the resolved @r: record the interpreters the kernel will load
 * too (PT_INTERP of an ELF binary, the #! line of a script), recursively.
 * Returns whether a program of the chain needs its sanitizer runtime
 * first in the link map (no preloaded library before it).
 */
bool trace_record_exec(const struct walk *w, const struct res *r);

/* ---------------------------------------------------------------------- */
/* trace-notify.c */

/* The handle hook (trace.h, trace_hooks()). */
int trace_handle(void *ctx, int listener_fd);
/*
 * Handle the published fast-path records, with t->lock held: as the
 * notification of the same call. At most a lap of the channel, unless
 * @final (no job process left): then every record, past any hole.
 */
void trace_drain(struct trace *t, bool final);
/* The path_skipped hook (trace_hooks()); t->lock not held. */
void trace_path_skipped(void *ctx, const char *const *paths, size_t nr);
/* Stop the drainer thread, if it runs (t->lock not held). */
void trace_drainer_stop(struct trace *t);
/* The receiver's token, if this thread still holds it (trace_free()). */
void trace_recv_release(struct trace *t);
/* The name of x86_64 system call @nr ("openat"), static; under t->lock. */
const char *trace_sc_name(int nr);

/* ---------------------------------------------------------------------- */
/* trace-nest.c: nested caching's hooks (DESIGN §13.2), under t->lock */

#include "sandbox/nest-units.h"

/* trace_new(), trace_free(): the units' state with cfg.nested. */
void trace_nest_setup(struct trace *t);
void trace_nest_release(struct trace *t);
/* Every notification of @pid, first: its units, at its first one. */
void trace_nest_proc(struct trace *t, pid_t pid);
/* What an exec passes on, read from the caller (trace-notify.c). */
struct trace_nest_exec_args {
	const char *exe;	/* the view path executed */
	const char *cwd;	/* the caller's, view path */
	const char *argv0;
	const char *const *argv, *const *env;
	size_t nr_argv, nr_env;
	bool fexec;		/* execveat of an fd, no path */
	bool incomplete;	/* argv or env could not be read whole */
};
/*
 * @pid executes a program found in the view: a candidate unit begins,
 * keyed by @a and the files trace_nest_exec_file() gave since the last
 * exec, with the refusals found at the exec (nest_exec_facts_read(),
 * nest_exec_files_sharers()). The job's first process's execs are not units
 * (the job is the outer entry).
 */
void trace_nest_exec(struct trace *t, pid_t pid, const struct trace_nest_exec_args *a);
/*
 * After trace_nest_exec(), the caller still blocked in its notification
 * @req on @listener: look the unit up (cfg.unit_skip) and on a hit
 * redirect the exec to the replayer of its entry (sandbox/nest.h,
 * nest_exec_redirect()). 1: @req was answered (redirected, or a failure
 * that taints); 0: not answered (answer CONTINUE as for any exec); -1:
 * @req went away, nothing to answer.
 */
struct seccomp_notif;
int trace_nest_skip(struct trace *t, int listener, const struct seccomp_notif *req,
		    pid_t pid);
/* A file of the exec's chain (the executable, then each interpreter the
 * kernel loads), hashed through @pid's view; _reset() forgets them. */
void trace_nest_exec_file(struct trace *t, pid_t pid, const char *path);
void trace_nest_exec_reset(struct trace *t);
/* The end of @pid's notification (under the lock): its time is a skipped
 * unit's when @pid is one's replayer (-vv's phases). */
void trace_nest_call_done(struct trace *t, pid_t pid);
/*
 * @pid observed the job-view @path (@value: a symlink's target; @times:
 * a stat showed the times): an observation of every open unit enclosing
 * it, its value read now, before the call is answered. _output(): an
 * open with O_CREAT|O_TRUNC (trace.h, TRACE_OUTPUT) of mode @open_mode.
 */
void trace_nest_observe(struct trace *t, pid_t pid, enum trace_obs_kind kind,
			const char *path, const char *value, bool times);
void trace_nest_observe_output(struct trace *t, pid_t pid, const char *path,
			       mode_t open_mode);
/* @pid writes @len bytes to its fd @fd (1 or 2): output of the units whose
 * stdout or stderr description that is. */
void trace_nest_output(struct trace *t, pid_t pid, int fd, const void *buf, size_t len);
/* Refuse the units enclosing @pid whose stdin, stdout or stderr @fd is
 * (any unit enclosing it for @fd < 0). */
void trace_nest_refuse_output(struct trace *t, pid_t pid, int fd, const char *reason);
/*
 * Fd 0 unseen (DESIGN.md §13.3): _seen(): @pid observed its fd 0, or may
 * have; the units enclosing it are then stored under their exact key.
 * _call(): whether the call @nr (@a its arguments) names fd 0 (or may:
 * poll, select, io_submit, landlock_add_rule, whose sets are in memory;
 * ioctl FICLONE of fd 0, and trace_nest_fd_ioctls);
 * if so it is _seen(). _fd_args(): which arguments of @nr are fd numbers
 * (bit k: a[k]; mmap's only when not anonymous), which the filter
 * notifies when 0 (trace-filter.c).
 */
void trace_nest_fd0_seen(struct trace *t, pid_t pid);
/* The ioctl requests whose second fd is in memory (FICLONERANGE...):
 * notified under --nested, and counted as naming fd 0. */
extern const unsigned long trace_nest_fd_ioctls[3];
/*
 * The calls that name another process by pid (a[pid_arg]; for the
 * priorities also a[which_arg], one process when which_self): notified
 * under --nested unless both say the caller itself (0).
 */
struct trace_nest_pid_arg {
	int nr;
	unsigned pid_arg;
	int which_arg;		/* -1: none */
	unsigned long which_self;
};
extern const struct trace_nest_pid_arg trace_nest_other_pid[15];
/* @pid made such a call: the units around it are refused when it names
 * another process than its own. */
void trace_nest_other_process(struct trace *t, pid_t pid, int nr, const __u64 *a);
/* @pid connects, binds, listens or sends to an address: the units around
 * it are refused (its peer may be a process outside them). */
void trace_nest_socket(struct trace *t, pid_t pid);
bool trace_nest_fd0_call(struct trace *t, pid_t pid, int nr, const __u64 *a);
unsigned trace_nest_fd_args(int nr);
/* @pid reads its fd @fd: the units whose stdin pipe that is are refused. */
void trace_nest_refuse_stdin(struct trace *t, pid_t pid, int fd);
/*
 * @pid renames or hard-links @path (the source, a view path; NULL when
 * it cannot be told): the units around it for which @path is not their
 * own state are refused. Their
 * result would hold the file as it was when recorded, though they never
 * read it (rename and link show no bytes): a skip would write stale
 * bytes where a run moves the current ones.
 */
void trace_nest_moved(struct trace *t, pid_t pid, const char *path);
/*
 * Under --nested, writes to fds from this number up are notified as
 * those to fds 1 and 2 are (trace-filter.c): shells save fds 1 and 2
 * there around a redirection, and a copy of a unit's output there is
 * then captured, not refused (trace-nest.c).
 */
#define TRACE_NEST_SAVED_FD 10
/* @pid looked at (READ, LIST) or changed (WRITE) the job-view @path. */
void trace_nest_access(struct trace *t, pid_t pid, enum nest_access kind,
		       const char *path);
/* @pid changes the attributes of the directory @path: the units around it
 * that did not make it (nor a directory above) are refused. */
void trace_nest_attr_dir(struct trace *t, pid_t pid, const char *path);
/* Refuse the units enclosing @pid (a taint of its call). */
void trace_nest_refuse(struct trace *t, pid_t pid, const char *reason);
/*
 * @pid walks /proc/<@digits> (@len bytes, the job's PID namespace): when
 * that is not @pid's own process, the units around @pid are refused (the
 * other process's state is in no key, and pids repeat between runs).
 */
void trace_nest_proc_pid(struct trace *t, pid_t pid, const char *digits, size_t len);
/* exit (@group false) or exit_group of @pid with @code: the units rooted
 * there end, and are stored through cfg.unit_done unless refused. */
void trace_nest_exit(struct trace *t, pid_t pid, bool group, int code);
/* dup, dup2, dup3, fcntl, prctl, the kill family, reads of fd 0, seccomp
 * and landlock_restrict_self: their refusals. */
void trace_nest_call(struct trace *t, pid_t pid, int nr, const __u64 *args);
/*
 * A clone with CLONE_FILES and without CLONE_THREAD (notified under
 * --nested), before it is answered: from then on every exec looks for
 * processes sharing its fd table (nest_exec_files_sharers()). Only such
 * a clone makes one (clone3 fails with ENOSYS, unshare is denied).
 */
void trace_nest_files_shared(struct trace *t);
/*
 * An open with write access by @pid, before it is answered: its process
 * may hold a file open for writing from then on, which held_open() then
 * looks for in its fds and its descendants' (trace-nest.c).
 */
void trace_nest_writer(struct trace *t, pid_t pid);
/*
 * An fd may have gone to a process no mark of trace_nest_writer() follows
 * (SCM_RIGHTS, pidfd_getfd, a child subreaper): from then on every
 * process's fds are looked at.
 */
void trace_nest_writers_anywhere(struct trace *t);
/* After the job: units still open are refused; the counts with -v. */
void trace_nest_finish(struct trace *t);
void trace_nest_counts(const struct trace *t, struct trace_counts *out);

/* ---------------------------------------------------------------------- */
/* trace-filter.c */

struct sock_filter;

/* The install hook (trace.h, trace_hooks()). */
int trace_install(void *ctx);

/*
 * In the runner, from trace_new(): the filter's program read from
 * cfg.filter_dir, or built and written there, into t->prog. Failing
 * leaves t->prog NULL: the job builds the filter itself.
 */
void trace_filter_prepare(struct trace *t, const char *dir);

#endif

/*
 * The sandbox: runs one job in new PID, mount, UTS, IPC and network
 * namespaces (plus a user namespace when procache is not root or the job
 * is untrusted), with the host file system shown copy-on-write through
 * overlayfs, and reports what the job wrote (DESIGN.md sections 1, 2, 8).
 *
 * Calling sequence (the runner, DESIGN.md section 10):
 *
 *	struct sbx_config cfg = { .argv = ..., ... };
 *	struct sbx *s;
 *	if (sbx_new(&cfg, &s, &err) < 0)	// creates R, plans the layers
 *		die("%s", err.buf);
 *	layers = sbx_layers(s, &nr);		// for the tracer
 *	sbx_set_tracer(s, &tracer);		// optional
 *	if (sbx_run(s, &res, &err) < 0)		// runs the job to its end
 *		... set-up failure: exit 125 with err.buf ...
 *	sbx_diff_read(s, &changes, &nr, &err);	// what the job changed
 *	sbx_changes_free(changes, nr);
 *	sbx_free(s);				// removes R (through run_root/.trash-<id>),
 *						// unless keep_run_dir
 *
 * Before a run, sbx_clean_stale(run_root) removes what earlier runs left
 * there (a .trash-<id> of a runner killed while removing it, run
 * directories of runners that died).
 *
 * sbx_run() may be called once per struct sbx. sbx_diff_read() only after
 * sbx_run() returned (every sandbox process is gone by then).
 *
 * Errors: functions returning int return 0 or -errno; on failure a
 * message for the user (lowercase, naming the stage and path, e.g.
 * "cannot mount overlay on '/usr': Operation not permitted") replaces the
 * content of @err. Nothing here exits; memory allocation failure dies
 * (x-allocators). Not thread-safe; sbx_run() must be called from a
 * single-threaded process (it forks, and the sandbox's init gets
 * PR_SET_PDEATHSIG tied to the calling thread).
 */
#ifndef PROCACHE_SANDBOX_SANDBOX_H
#define PROCACHE_SANDBOX_SANDBOX_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/change.h"
#include "common/strbuf.h"
#include "common/xattr.h"

/* The uid and gid an untrusted job runs as (nobody, nogroup). */
#define SBX_UNTRUSTED_ID 65534

struct sbx;

/*
 * The uid and gid an untrusted job runs as (nobody/nogroup), inside the
 * sandbox and, when procache is root, in the host as well.
 */
#define SBX_UNTRUSTED_ID 65534

/*
 * One overlay of the job's view. All absolute host paths, owned by the
 * struct sbx (valid until sbx_free()).
 *	mountpoint	where the job sees it ("/", "/usr", "/home/u/src")
 *	lower		the host directory shown (equal to mountpoint: the
 *			view shows host paths unchanged)
 *	upper, work	overlay upper and work directories, R/layers/<n>/...
 * A path P the job sees under mountpoint (and under no deeper layer's
 * mountpoint) is job state iff upper + (P - mountpoint) exists or one
 * of its parents there is opaque/job-created; else it is host state.
 * A path under no layer is host state shown read-only (rootless: a
 * directory the job can write nothing below is a read-only bind; the
 * skeleton) or fresh (/proc, /dev, /sys, private /tmp).
 */
struct sbx_layer {
	char *mountpoint;
	char *lower;
	char *upper;
	char *work;
};

/*
 * A file shown in the job's view (struct sbx_tracer): a host file bound
 * there, a new file with the given bytes, or a new empty file of a size.
 * All of a tracer's files are in one directory under /dev, which the
 * sandbox makes for them (a tmpfs: memory, never written back).
 */
struct sbx_bind {
	const char *host;	/* absolute host path of a regular file, or */
	const void *data;	/* ... its bytes (@size), executable, or */
	size_t size;		/* ... (both NULL) @size zero bytes */
	const char *view;	/* absolute: /dev/DIR/NAME */
	bool writable;		/* else read-only; never setuid or devices */
};

/*
 * A tracer hooked into the job and the supervisor loop (the seccomp
 * tracer of sandbox/trace.h; sandbox.c does not know what it does).
 *	install(ctx)	called in the job after no_new_privs and the
 *			capability drop, right before execve. Returns a
 *			listener fd (> 0), which the sandbox passes to the
 *			supervisor and closes in the job; 0 if a filter was
 *			installed without a listener; -errno to fail the
 *			run (reported as a set-up failure, stage "tracer").
 *	handle(ctx, fd)	called in a loop by each of the supervisor's
 *			tracer threads (one per online CPU, at most 8),
 *			concurrently: waits for one
 *			notification and answers it. Returns 0 to be
 *			called again, 1 when no job process is left, or
 *			-errno when the tracer gave up (it recorded why).
 *			When every thread has stopped on an error the
 *			listener is closed, so the job's notified calls
 *			fail (ENOSYS) instead of waiting forever.
 * The threads start when the listener arrives and are joined once the
 * job's init has been reaped (no job process left to notify). The sandbox
 * closes the supervisor's copy of the listener fd when sbx_run() returns.
 * @ctx is the tracer's; the sandbox never frees it.
 */
struct sbx_tracer {
	void *ctx;
	int (*install)(void *ctx);
	int (*handle)(void *ctx, int listener_fd);
	/*
	 * Files the job sees at fixed paths under /dev (may be NULL/0), and
	 * a library appended to the job's LD_PRELOAD (NULL: none): the
	 * tracer's fast path (DESIGN §3.1). They must outlive the run.
	 */
	const struct sbx_bind *binds;
	size_t nr_binds;
	const char *preload;
	/*
	 * May be NULL. Set: the job begins its PATH search before the
	 * filter is installed, skipping the leading candidates a stat
	 * finds absent (execve would fail with ENOENT on them, having done
	 * nothing), and the supervisor calls this with those paths before
	 * the first notification is handled: the tracer must record each
	 * as the failed stat it stands for (DESIGN §1, "The PATH search").
	 * @paths NULL: the job skipped some the supervisor cannot name.
	 */
	void (*path_skipped)(void *ctx, const char *const *paths, size_t nr);
	/*
	 * The filter install() loads notifies execve: the job's execve
	 * waits for the listener to be served, so the job goes on to it
	 * without waiting for the hand-over to finish (init.c).
	 */
	bool exec_notified;
};

/*
 * What to run and how. Plain data filled by the runner; sbx_new() copies
 * what it keeps, so the caller may free it after sbx_new().
 */
struct sbx_config {
	/* argv[0] is searched on PATH taken from envp (execvpe). */
	char *const *argv;
	/* The job's exact environment (NULL-terminated). */
	char *const *envp;
	/* Absolute working directory of the job; must exist in the view. */
	const char *cwd;
	mode_t umask;
	/* Dup'ed to the job's fd 0; -1 gives /dev/null. */
	int stdin_fd;
	/* The job's fd 0 is closed instead (stdin_fd is ignored). */
	bool stdin_closed;
	/*
	 * stdin_fd is a regular file whose bytes, from its start, the job
	 * reads from a pipe (not seekable, as a pipe it was given would be):
	 * a supervisor thread writes them and closes the pipe; a job that
	 * stops reading ends it (EPIPE).
	 */
	bool stdin_as_pipe;
	/*
	 * The signals the job starts with ignored, and blocked (copied by
	 * sbx_new(); NULL: none). Every other signal starts with its default
	 * action, unblocked. A signal ignored by the caller when sbx_run()
	 * starts is not forwarded to the job either: it stays ignored.
	 */
	const sigset_t *sig_ignore, *sig_block;
	/*
	 * Where the job's stdout/stderr are streamed live (normally the
	 * runner's 1 and 2); -1: not streamed. The job always writes into
	 * pipes owned by the supervisor, never into these fds directly.
	 */
	int stdout_fd, stderr_fd;
	/*
	 * The job's fd 2 is the pipe of its fd 1: one stream, in the order
	 * written, streamed to stdout_fd and captured in R/stdout (R/stderr
	 * stays empty). For a caller whose fds 1 and 2 are one open file
	 * (`2>&1`), which the job sees as one too, as it would bare.
	 */
	bool one_stream;
	/* Also write stdout/stderr into R/stdout and R/stderr. */
	bool capture_output;
	/* Directory in which R = run_root/<16 hex> is created ($CACHE/run). */
	const char *run_root;
	/*
	 * NULL-terminated absolute paths hidden from the job (empty
	 * read-only tmpfs for a directory, /dev/null for a file); may be
	 * NULL. run_root is always masked in addition (the job must never
	 * look up its own upper directory: ELOOP). A mask that does not
	 * exist on the host is ignored (nothing to hide). */
	const char *const *masks;
	/*
	 * NULL-terminated absolute paths removed from the job's view before
	 * it starts (declared outputs, DESIGN.md section 2): each that
	 * exists is removed through its overlay (a whiteout in the upper
	 * directory), so the job finds it absent and the diff says what
	 * the job left there. A path whose parent holds a symlink is a
	 * set-up failure (the runner passes canonical parents). May be NULL.
	 */
	const char *const *hidden;
	/* Keep the host network namespace (else only a loopback, up). */
	bool share_net;
	/* Show the host /tmp copy-on-write (else a private tmpfs /tmp). */
	bool share_tmp;
	/*
	 * A hostile job: it runs as uid/gid SBX_UNTRUSTED_ID in a user
	 * namespace (mapped from the same host ids when procache is root,
	 * from the caller's ids otherwise) with no capabilities; the view is
	 * the rootless one unless procache is root.
	 */
	bool untrusted;
	/* Fall back to RLIMIT_AS/RLIMIT_NPROC when a cgroup is missing. */
	bool best_effort_limits;
	/* sbx_free() leaves R in place (debugging). */
	bool keep_run_dir;
	/* Wall-clock limit in seconds; 0 = none. */
	double timeout_s;
	/* cgroup limits; 0 = none. */
	uint64_t memory_bytes;
	uint64_t pids_max;
	/*
	 * The capabilities a job running as root in trusted mode keeps
	 * (bit 1 << CAP_x; its effective, permitted and bounding sets;
	 * inheritable and ambient are empty), e.g. SBX_CAPS_DEFAULT. Must
	 * be within sbx_caps_available(). Any other job keeps none.
	 * Without CAP_SYS_ADMIN the job can neither create user namespaces
	 * (EPERM; clone3 is ENOSYS) nor use the kernel keyrings (EPERM).
	 */
	uint64_t caps;
	/*
	 * The most the job may write (its upper directories, on a tmpfs of
	 * this size: ENOSPC past it); 0 = no limit, the upper directories
	 * on run_root's file system. Root only; a rootless run is refused
	 * unless best_effort_limits or disk_default (then: a note, no
	 * limit). Ignored with keep_run_dir (the uppers must outlive us).
	 */
	uint64_t disk_bytes;
	/* disk_bytes is procache's default (sbx_disk_default()), not asked for. */
	bool disk_default;
	/*
	 * The directory of generated host facts (sbx_hostfacts_prepare())
	 * bound over the view's /proc and /sys entries, or NULL: the host's
	 * own. The job also gets a cgroup namespace of its own either way.
	 */
	const char *hostfacts_dir;
	/* The CPUs init and the job are given ("0-1"); NULL: the caller's. */
	const char *cpu_list;
};

/*
 * How the job ended; filled by sbx_run(). Pointers are owned by the
 * struct sbx and valid until sbx_free().
 */
struct sbx_result {
	/*
	 * The job's raw wait status (WIFEXITED/WIFSIGNALED apply). On
	 * exec failure it is "exited 127" (ENOENT) or "exited 126".
	 * After a timeout, whatever the job died of (SIGTERM, SIGKILL).
	 */
	int wait_status;
	/* The wall-clock limit hit; the sandbox was killed. */
	bool timed_out;
	/*
	 * The first of SIGINT/SIGTERM/SIGHUP/SIGQUIT that the caller received
	 * and passed on to the job while it ran (0: none). Whatever the job
	 * did then depends on when the signal came: such a run is not one
	 * to remember.
	 */
	int forwarded_signal;
	/*
	 * Processes the OOM killer killed while the job ran, counted by the
	 * run's memory cgroup (--memory) or else by procache's own (which
	 * counts others' too); 0 when no counter could be read.
	 */
	uint64_t oom_kills;
	/* Forks refused at the run's --pids limit (pids.events max). */
	uint64_t pids_limit_hits;
	/* errno of the failed execve of argv[0]; 0 if it ran. */
	int exec_errno;
	/* Wall-clock seconds from clone to init's exit. */
	double duration_s;
	/*
	 * Wall-clock seconds from clone to the listener's arrival, which the
	 * job sends right before its execve: the sandbox's start-up as the
	 * supervisor sees it (-vv). 0 without a tracer.
	 */
	double setup_s;
	/* R/stdout and R/stderr when capture_output, else NULL. */
	const char *stdout_path, *stderr_path;
	/*
	 * Limits enforced other than asked for (best_effort_limits),
	 * one line each, e.g. "pids limit enforced with RLIMIT_NPROC
	 * (per user, not per sandbox): no pids cgroup". NULL-terminated;
	 * never NULL.
	 */
	char *const *limit_notes;
	/* The ids the job ran as, as seen inside the sandbox. */
	uid_t uid;
	gid_t gid;
	/* A user namespace was used (rootless or untrusted). */
	bool userns;
	/*
	 * The disk limit's tmpfs ran out of space or inodes at some point
	 * seen (the supervisor looks every 100 ms and at the end): the job
	 * got ENOSPC, or came within a page of it.
	 */
	bool disk_full;
	/*
	 * stdout and stderr together went past the disk limit: the captured
	 * files hold only their start (the streams were passed on whole).
	 */
	bool output_cut;
	/*
	 * The reader of procache's stdout or stderr went away (`| head`):
	 * the job's pipe was closed then, so its next write got EPIPE and
	 * SIGPIPE, as it would have run bare; 1: stdout, 2: stderr.
	 */
	unsigned reader_gone;
};

/*
 * Capabilities (sandbox/caps.c), as masks of bits 1 << CAP_x.
 * SBX_CAPS_DEFAULT is Docker's default set: CHOWN DAC_OVERRIDE FOWNER
 * FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT
 * MKNOD AUDIT_WRITE SETFCAP (DESIGN.md section 8).
 */
#define SBX_CAPS_DEFAULT                                                     \
	((1ULL << 0) | (1ULL << 1) | (1ULL << 3) | (1ULL << 4) | (1ULL << 5) | \
	 (1ULL << 6) | (1ULL << 7) | (1ULL << 8) | (1ULL << 10) |             \
	 (1ULL << 13) | (1ULL << 18) | (1ULL << 27) | (1ULL << 29) |          \
	 (1ULL << 31))
/*
 * The capability called @name: the kernel's name with or without
 * "CAP_", in any case ("chown", "CAP_SYS_ADMIN", "Net_Raw"). -1 when
 * there is none of that name ("ALL" is the caller's business).
 */
int sbx_cap_from_name(const char *name);
/* Capability @cap's name, lowercase without "cap_"; NULL if unknown. */
const char *sbx_cap_name(unsigned cap);
/* Every capability the running kernel knows. */
uint64_t sbx_caps_all(void);
/* What this process can give a job: its permitted and bounding sets.
 * @status: /proc/self/status as the caller read it, or NULL (read here). */
uint64_t sbx_caps_available(const char *status);
/* @set's names, comma-separated in the kernel's order, appended to @out. */
void sbx_caps_names(uint64_t set, struct strbuf *out);

/*
 * The default disk limit for runs under @dir (the cache directory): a
 * quarter of its file system's size, at most half the machine's memory
 * (the limit is a tmpfs). 0 if neither can be read.
 */
#define SBX_DISK_DEFAULT_FS_DIV 4
#define SBX_DISK_DEFAULT_RAM_DIV 2
uint64_t sbx_disk_default(const char *dir);

/*
 * Host facts (DESIGN.md §2, "Host facts"): what the job is shown of the
 * machine's memory, CPUs, load and cgroups, a function of this struct
 * (the caller keys every field but cpuinfo) and of the host's listing of
 * /sys/devices/system/cpu (the job's listing of it is recorded).
 */
struct sbx_hostfacts {
	uint64_t memory_bytes;	/* MemTotal, sysinfo's totalram */
	bool memory_limited;	/* memory.max shows memory_bytes, else "max" */
	uint64_t pids_max;	/* pids.max; 0: "max" */
	unsigned cpus;		/* --cpus: the CPU quota; 0: none ("max") */
	const char *cpu_list;	/* the CPUs given ("0-1"): online, cpuset, stat */
	const char *cgroup_layout; /* sbx_hostfacts_cgroup_layout() */
	/*
	 * /proc/cpuinfo as shown: cpuinfo_shown(cpu_list) (common/cpus.h),
	 * which the caller records when the job reads it (not keyed: the
	 * host's model lines are a precondition, "cpuinfo").
	 */
	const char *cpuinfo;
};

/*
 * The host's cgroup layout as the job's cgroup namespace shows it in
 * /proc/self/cgroup: "v2", or "v1:" and the hierarchies without their
 * paths ("v1:4:memory;3:cpu,cpuacct;0:"); "none" without cgroups.
 */
char *sbx_hostfacts_cgroup_layout(void);

/* The memory shown when no limit is given: the host's, rounded down. */
uint64_t sbx_hostfacts_default_memory(void);

/*
 * The directory of the files generated for @hf under @base (made once,
 * temp + rename, shared by every run with the same @hf): *@dir, to put
 * in sbx_config.hostfacts_dir (caller frees). 0 or -errno with @err.
 */
int sbx_hostfacts_prepare(const struct sbx_hostfacts *hf, const char *base,
			  char **dir, struct strbuf *err);

/* Whether the job's @path (absolute) is a generated host fact. */
bool sbx_hostfacts_is_synthetic(const char *path);

/* The first @n CPUs of @list ("0-3,6"), or NULL when it has fewer. */
char *sbx_cpu_list_first(const char *list, unsigned n);
/* How many CPUs @list names; 0 when it is malformed. */
unsigned sbx_cpu_list_count(const char *list);

/*
 * Check @cfg, create R = cfg->run_root/<16 random hex> (with R/lock,
 * flock'ed until sbx_free(); R/layers/<n>/{upper,work}) and plan the
 * layers from /proc/self/mountinfo. run_root is created if
 * missing. -EINVAL: bad config (message says which field).
 */
int sbx_new(const struct sbx_config *cfg, struct sbx **out, struct strbuf *err);

/*
 * The layers planned by sbx_new(), parents before their children (the
 * order in which they are mounted).
 */
const struct sbx_layer *sbx_layers(const struct sbx *s, size_t *nr);

/* Use @tracer for the job (copied); NULL removes it. Before sbx_run(). */
void sbx_set_tracer(struct sbx *s, const struct sbx_tracer *tracer);

/* The ids the job will run as (inside the sandbox), for the job key. */
void sbx_job_ids(const struct sbx *s, uid_t *uid, gid_t *gid);

/*
 * Run the job to its end: clone the sandbox, stream and capture output,
 * serve the tracer, enforce the limits, wait for init's exit. Returns 0
 * when the job ran (or failed to exec: see res->exec_errno), whatever
 * its status; -errno with a message in @err when the sandbox could not
 * be set up (the runner exits 125), including a limit that cannot be
 * enforced without best_effort_limits ("cannot enforce memory limit:
 * ..."). SIGINT, SIGTERM, SIGHUP and SIGQUIT received by the caller
 * while it runs are forwarded to the job (they are blocked and read
 * through a signalfd, then restored).
 */
int sbx_run(struct sbx *s, struct sbx_result *res, struct strbuf *err);

/*
 * One change, in host paths. Strings are malloc'd and owned by the
 * array (sbx_changes_free()).
 *	path		absolute host path the change applies to
 *	upper_path	the file in the upper directory (FILE, DIR,
 *			DIR_REPLACED, SYMLINK, MODE, SPECIAL); NULL for DELETE.
 *			The caller may rename it away (into the blob store).
 *	mode		st_mode of the upper entry (type and permission
 *			bits); 0 for DELETE
 *	size		size in bytes (FILE), else 0
 *	target		symlink target (SYMLINK), else NULL
 *	mtime, atime	of the upper entry (FILE, DIR, DIR_REPLACED,
 *			SYMLINK, MODE), else zero
 *	host_times	FILE, SYMLINK: the upper entry's mtime is still the
 *			lower's (a copy-up the job wrote nothing to: a chmod,
 *			a read-write open that wrote nothing)
 *	xattrs		FILE, DIR, DIR_REPLACED, SYMLINK, MODE: the upper
 *			entry's extended attributes, the overlay's own
 *			markers and security.selinux left out
 *			(xattr_read_upper()): what the path ends with, copied up
 *			from the host or set by the job. A directory the job
 *			kept with its mode but other attributes is a MODE
 *			change.
 *	xattr_err	0, or the -errno that kept them from being read (the
 *			run cannot be stored then)
 */
struct sbx_change {
	enum change_kind kind;
	char *path;
	char *upper_path;
	mode_t mode;
	off_t size;
	char *target;
	struct timespec mtime, atime;
	bool host_times;
	struct xattr_set xattrs;
	int xattr_err;
};

/*
 * Walk every layer's upper directory and return the changes, sorted by
 * path (bytewise; a directory comes before its children). *@changes is
 * a malloc'd array of *@nr entries (NULL when 0) freed with
 * sbx_changes_free(). Returns 0 or -errno naming the path that could not
 * be read.
 */
int sbx_diff_read(struct sbx *s, struct sbx_change **changes, size_t *nr,
		  struct strbuf *err);

/*
 * As sbx_diff_read() for any array of layers (unit tests, tools);
 * @userxattr: the opaque marker is user.overlay.opaque, else
 * trusted.overlay.opaque.
 */
int sbx_diff_read_layers(const struct sbx_layer *layers, size_t nr_layers,
			 bool userxattr, struct sbx_change **changes,
			 size_t *nr, struct strbuf *err);

void sbx_changes_free(struct sbx_change *changes, size_t nr);

/* R, the per-run state directory. */
const char *sbx_run_dir(const struct sbx *s);

/*
 * Release everything. Unless keep_run_dir, R is renamed out of the way
 * (run_root/.trash-<id>, which sbx_clean_stale() removes if this runner
 * dies now) and removed: a batch of runs leaves no run directories
 * behind (a few milliseconds a run). A caller that renamed captured
 * files out of R's upper directories (into the blob store) did so
 * before. NULL is a no-op.
 */
void sbx_free(struct sbx *s);

/*
 * sbx_free() for a process that exits right after it and shares the
 * supervisor's mount namespace with no other process (the teardown child
 * of runner/job.c): it first returns to the host's mount namespace
 * (setns), which unmounts the disk limit's tmpfs with the rest of the
 * supervisor's private namespace in one go. Its working directory is
 * then "/". Else as sbx_free().
 */
void sbx_free_last(struct sbx *s);

/*
 * Rename R out of the way now (run_root/.trash-<id>), for a caller that
 * leaves sbx_free() to a process of its own which outlives it (runner/
 * job.c, job_run_release_later()): no live run directory is left when
 * the caller exits, and sbx_clean_stale() removes the trash should that
 * process die. No-op with keep_run_dir or NULL.
 */
void sbx_retire(struct sbx *s);

/*
 * Remove what sbx_free() left in @run_root, the run directories whose
 * R/lock is not held (their runner died), and the half-made ones
 * (run_root/.tmp-<id>) an hour old. Does the scan at most once a
 * minute per run root (the mtime of run_root/.clean-stamp), returning 0
 * without looking otherwise, so calling it before every run is cheap.
 * Returns the number removed, or -errno if @run_root cannot be read
 * (-ENOENT when it does not exist).
 */
int sbx_clean_stale(const char *run_root);

#endif

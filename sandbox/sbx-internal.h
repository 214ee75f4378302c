/*
 * Internals shared by the files of sandbox/ that run a job (sandbox.c,
 * init.c, mounts.c, diff.c, limits.c, caps.c). Not part of the public
 * contract. The status pipe's records are in status.h.
 */
#ifndef PROCACHE_SANDBOX_SBX_INTERNAL_H
#define PROCACHE_SANDBOX_SBX_INTERNAL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "sandbox/sandbox.h"

/*
 * One step of building the job's view, executed by init in order, with
 * @path relative to the new root (no leading slash; "" is the root).
 * Planned in the supervisor by sbx_mounts_plan() (it reads the host's
 * mount table and directories), executed after clone by
 * sbx_mounts_build(), which only makes system calls.
 */
enum sbx_view_op {
	VIEW_OVERLAY,	/* overlay of layers[layer] at path */
	VIEW_DIR,	/* skeleton directory with @mode */
	VIEW_SYMLINK,	/* skeleton symlink to @target */
	VIEW_FILE,	/* skeleton file: host file bind-mounted read-only */
	VIEW_BIND_RO,	/* host directory bind-mounted read-only (rootless,
			   nothing below it writable by the job) */
	VIEW_FRESH,	/* skeleton directory for a fresh mount (proc, dev...) */
};

struct sbx_view_step {
	enum sbx_view_op op;
	char *path;	/* relative to the new root */
	char *host;	/* absolute host path (VIEW_FILE, VIEW_BIND_RO) */
	char *target;	/* VIEW_SYMLINK */
	mode_t mode;	/* VIEW_DIR */
	size_t layer;	/* VIEW_OVERLAY */
};

struct sbx_limits {
	/* cgroup directories created for this run (absolute), NULL if none. */
	char *cg_memory;
	char *cg_pids;
	/* rlimits for the job (best effort); 0 = not set. */
	unsigned long long rlimit_as;
	unsigned long long rlimit_nproc;
	char **notes;		/* NULL-terminated */
	size_t nr_notes;
	/* without a memory cgroup of the run's: our own (for OOM kills) */
	char *own_memory;
	bool own_memory_tried;
};

struct sbx {
	/* Deep copies of the config's strings. */
	struct sbx_config cfg;
	char **argv, **envp, **masks, **hidden;
	char *cwd, *run_root;
	char *hostfacts_dir, *cpu_list;

	char *run_dir;		/* R */
	int run_dir_fd;
	int lock_fd;		/* R/lock, flock'ed */
	char *root_dir;		/* R/root */

	struct sbx_layer *layers;
	size_t nr_layers, alloc_layers;
	struct sbx_view_step *steps;
	size_t nr_steps, alloc_steps;

	bool userns;		/* a user namespace is created (for init) */
	bool job_userns;	/* untrusted as root: the job alone becomes
				   SBX_UNTRUSTED_ID in a user namespace of
				   its own */
	bool skeleton;		/* rootless view (tmpfs skeleton) */
	uid_t host_uid;		/* of the runner */
	gid_t host_gid;
	uid_t job_uid;		/* inside (untrusted: SBX_UNTRUSTED_ID) */
	gid_t job_gid;
	uid_t map_uid;		/* host id mapped to job_uid (userns) */
	gid_t map_gid;

	bool has_tracer;
	struct sbx_tracer tracer;

	sigset_t sig_ignore, sig_block;	/* the job's (sbx_config) */

	struct sbx_limits limits;
	int disk_fd;		/* R/layers when it is the disk limit's tmpfs, else -1 */
	bool disk_full;		/* the tmpfs was found with no page or inode free */
	char *stdout_path, *stderr_path;
	bool ran;
	bool trashed;		/* sbx_retire() renamed R: run_dir is the trash */
	/*
	 * Root with host facts: /sys is bound without its submounts, then
	 * these (host paths, the outermost below /sys but outside
	 * /sys/fs/cgroup) each with theirs, so that init need not unmount
	 * the host's cgroup tree under the generated one (an RCU grace
	 * period, and a copy of every cgroup mount to throw away).
	 */
	bool sys_planned;
	char **sys_mounts;
	size_t nr_sys_mounts;
};

/*
 * The signals the supervisor passes on to init and init to the job
 * (DESIGN.md §1), unless ignored when sbx_run() starts.
 */
#define SBX_FORWARDED_SIGNALS { SIGINT, SIGTERM, SIGHUP, SIGQUIT }

/* mounts.c */
/*
 * Supervisor, in sbx_new(): plan s->layers (with their upper and work
 * directories under R/layers/) and s->steps from the host's mount table;
 * 0 or -errno with a message in @err.
 */
int sbx_mounts_plan(struct sbx *s, struct strbuf *err);
/*
 * In init: build the view on @hostroot_fd (R/root, opened O_PATH) and
 * pivot into it. A failure ends init (sbx_child_fail() on @status_fd).
 */
void sbx_mounts_build(struct sbx *s, int hostroot_fd, int status_fd);
/* In init after pivot_root: the masks (run_root included). */
void sbx_mounts_mask(struct sbx *s, int status_fd);
/* In init after the masks: remove cfg.hidden from the view. */
void sbx_mounts_hide(struct sbx *s, int status_fd);

/* init.c: the body of the cloned child; never returns. */
struct sbx_child_fds {
	int status_w;	/* status pipe, write end */
	int go_r;	/* supervisor says "go" (ids mapped, cgroups joined) */
	int stdin_fd;	/* -1: /dev/null */
	bool stdin_closed;	/* the job's fd 0 closed */
	int stdout_w, stderr_w;
	int listener_sock;	/* socketpair end for the seccomp listener */
};
__attribute__((__noreturn__))
void sbx_init_main(struct sbx *s, const struct sbx_child_fds *fds);
/*
 * Candidate @i of the job's PATH search for argv[0] as execvpe() tries
 * it ("dir/argv0", the job's PATH or glibc's default), into @buf: 0 when
 * there is one and its directory is absolute, 1 when there is one that
 * cannot be named so (relative, too long), -1 past the last.
 */
int sbx_path_candidate(const struct sbx *s, size_t i, char *buf, size_t len);

/* hostfacts.c */
/*
 * In init, before pivot_root: bind the files of @dir over the view's
 * /proc and /sys entries and its tree over /sys/fs/cgroup (@rootfd: the
 * new root). -1 with errno, *@what the step and *@where the path.
 */
int sbx_hostfacts_bind(const char *dir, int rootfd, const char **what,
		       const char **where);
/* Supervisor, after clone, before "go": give @pid the CPUs of cfg.cpu_list. */
int sbx_hostfacts_attach(const struct sbx *s, pid_t pid, struct strbuf *err);

/* limits.c */
/* Supervisor, before clone: create cgroups or plan rlimits. */
int sbx_limits_prepare(struct sbx *s, struct strbuf *err);
/* Supervisor, after clone, before "go": move @pid into the cgroups. */
int sbx_limits_attach(struct sbx *s, pid_t pid, struct strbuf *err);
/* Supervisor, after init's exit: remove the cgroups. */
void sbx_limits_cleanup(struct sbx *s);
/*
 * Supervisor: OOM kills counted so far in the run's memory cgroup, or in
 * our own when the run has none (others' kills count there too: a run
 * that sees one is not stored, a needless miss at worst); -errno when
 * no counter can be read.
 */
int64_t sbx_limits_oom_count(struct sbx *s);
/* Supervisor: forks refused at the run's pids limit, or -errno. */
int64_t sbx_limits_pids_max_hits(const struct sbx *s);
/* Job: apply rlimits; returns 0 or -errno. */
int sbx_limits_apply_rlimits(const struct sbx *s);
void sbx_limits_release(struct sbx_limits *l);
/* One more line for sbx_result.limit_notes (@note malloc'd, taken). */
void sbx_limits_add_note(struct sbx_limits *l, char *note);

/* disk.c: the disk limit, a tmpfs for the upper directories */
/*
 * Supervisor, in sbx_new() before the layers are planned: with
 * cfg.disk_bytes (and not keep_run_dir), mount a tmpfs of that size on
 * R/layers in a mount namespace of the supervisor's own. Rootless: a note
 * and no limit with best_effort_limits, else -EPERM. 0 or -errno with a
 * message in @err.
 */
int sbx_disk_prepare(struct sbx *s, struct strbuf *err);
/*
 * Whether sbx_disk_prepare() mounts the tmpfs (root, a limit, R not
 * kept): it then makes the view's mount point there, R/layers/root.
 */
bool sbx_disk_tmpfs(const struct sbx *s);
/* Supervisor, during and after the run: has the tmpfs run out? */
void sbx_disk_check(struct sbx *s);
/*
 * For a process that exits right after, alone in the mount namespace the
 * disk limit made (sbx_free_last()): back into the one it left, which
 * tears the private one down, the tmpfs with it, in one unmount (an RCU
 * grace period, where the tmpfs's unmount and then the namespace's end
 * took one each). 0, or -errno and nothing done.
 */
int sbx_disk_leave_ns(struct sbx *s);
/* Unmount the tmpfs (its memory is freed), before R is renamed. */
void sbx_disk_release(struct sbx *s);

/*
 * caps.c, in the job: drop what a job of this kind must not have. 0, or
 * -errno with *@what naming the step that failed.
 */
int sbx_caps_drop(const struct sbx *s, const char **what);
/*
 * caps.c, in the job after no_new_privs: a root job in trusted mode
 * without CAP_SYS_ADMIN gets a filter refusing what capabilities do not
 * cover: new user namespaces, in which it would have every capability
 * again (unshare and clone with CLONE_NEWUSER: EPERM; clone3: ENOSYS),
 * and the kernel keyrings, which are not namespaced (keyctl, add_key,
 * request_key: EPERM). 0, or -errno with *@what naming the failed step.
 */
int sbx_caps_filter(const struct sbx *s, const char **what);
/* Its program (static): tests/unit/test-sandbox compares it with libseccomp's. */
struct sock_filter;
const struct sock_filter *sbx_caps_filter_code(size_t *len);
/*
 * In init when it changes its ids inside a user namespace (untrusted as
 * root): keep the capabilities needed to build the view. The first before
 * setresuid() (the permitted set survives it), the second after (the
 * permitted set made effective again). 0 or -errno.
 */
int sbx_caps_keep_across_setuid(void);
int sbx_caps_restore_effective(void);

#endif

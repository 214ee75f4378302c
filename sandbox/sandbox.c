/*
 * The sandbox's public entry points and the supervisor (DESIGN.md
 * section 1): sbx_new() prepares the run directory and the plan of the
 * view, sbx_run() clones init into new namespaces and serves one poll()
 * loop until init is gone:
 *
 *	pidfd(init)	init exited: reap it
 *	signalfd	SIGINT/TERM/HUP/QUIT received by us: to init, which
 *			forwards them to the job
 *	timerfd		--timeout: SIGTERM, then SIGKILL 2 s later
 *	status pipe	records from init and the job (status.h)
 *	stdout/stderr	pipes owned here: streamed and captured
 *	socketpair	the job passes the seccomp listener fd up; it goes
 *			to a pool of tracer threads that call
 *			tracer->handle() (blocking) until no job process
 *			is left
 *
 * Run directory layout, R = run_root/<16 hex>:
 *	lock			flock'ed while a struct sbx owns R
 *	layers/<n>/upper	overlay upper directory of layer n
 *	layers/<n>/work		overlay work directory of layer n
 *	root/			mount point of the new root (layers/root
 *				when layers is the disk limit's tmpfs:
 *				one directory fewer to make and remove on
 *				the cache's disk)
 *	stdout, stderr		captured output (capture_output)
 * R is first created as run_root/.tmp-<16 hex> with its lock held, then
 * renamed, so that sbx_clean_stale() never sees an unlocked live R.
 * sbx_free() renames R to run_root/.trash-<16 hex> and removes it;
 * sbx_clean_stale() removes what a killed runner left.
 * run_root/.clean-stamp: its mtime is the last sbx_clean_stale() scan.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <linux/sched.h>

#include "common/fdpass.h"
#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/path.h"
#include "common/xalloc.h"
#include "sandbox/sbx-internal.h"
#include "sandbox/status.h"

#include "common/banned.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

/* sbx_clean_stale() runs at most every SBX_CLEAN_INTERVAL_S per run root. */
#define SBX_CLEAN_STAMP ".clean-stamp"
#define SBX_CLEAN_INTERVAL_S 60
/*
 * A run_root/.tmp-<id> directory (make_run_dir() before its rename) older
 * than this lost its creator: sbx_clean_stale() removes it, lock or not.
 */
#define SBX_STALE_TMP_AGE_S 3600

/* How often the disk limit's tmpfs is looked at while the job runs. */
#define SBX_DISK_CHECK_MS 100

/* Grace between SIGTERM and SIGKILL on --timeout. */
#define SBX_KILL_GRACE_S 2
/* After init's exit, how long output pipes may stay open (fds smuggled out). */
#define SBX_DRAIN_S 2
/*
 * Tracer threads: one per online CPU so that a notification is answered
 * on the CPU its caller sleeps on (SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP):
 * with a single thread, two compilers notifying at once waited for each
 * other and one CPU went idle.
 */
#define SBX_TRACER_THREADS 8


static int check_config(const struct sbx_config *cfg, struct strbuf *err)
{
	size_t i;

	if (!cfg->argv || !cfg->argv[0] || !cfg->argv[0][0])
		return strbuf_error(err, -EINVAL, "sandbox: no command to run");
	if (!cfg->envp)
		return strbuf_error(err, -EINVAL, "sandbox: no environment (envp is NULL)");
	if (!cfg->cwd || cfg->cwd[0] != '/')
		return strbuf_error(err, -EINVAL, "sandbox: working directory must be absolute");
	if (!cfg->run_root || cfg->run_root[0] != '/')
		return strbuf_error(err, -EINVAL, "sandbox: run root must be absolute");
	if (cfg->umask & ~0777)
		return strbuf_error(err, -EINVAL, "sandbox: invalid umask %o", cfg->umask);
	if (cfg->timeout_s < 0 || cfg->timeout_s != cfg->timeout_s)
		return strbuf_error(err, -EINVAL, "sandbox: invalid timeout");
	for (i = 0; cfg->masks && cfg->masks[i]; i++)
		if (cfg->masks[i][0] != '/')
			return strbuf_error(err, -EINVAL, "sandbox: mask '%s' is not absolute",
				    cfg->masks[i]);
	for (i = 0; cfg->hidden && cfg->hidden[i]; i++)
		if (cfg->hidden[i][0] != '/' || !strcmp(cfg->hidden[i], "/"))
			return strbuf_error(err, -EINVAL, "sandbox: hidden path '%s' is not absolute",
				    cfg->hidden[i]);
	return 0;
}

static void random_hex(char out[17])
{
	uint64_t r = 0;
	size_t got = 0;

	while (got < sizeof(r)) {
		ssize_t n = getrandom((char *)&r + got, sizeof(r) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* Entropy is not a secret here, uniqueness is. */
			r ^= (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL) ^
			     (uint64_t)clock();
			break;
		}
		got += n;
	}
	snprintf(out, 17, "%016" PRIx64, r);
}

/* Create R (see the layout above) and take its lock. */
static int make_run_dir(struct sbx *s, struct strbuf *err)
{
	_cleanup_close_ int rootfd = -1;
	char id[17], tmp[32];
	int ret, tries;
	/* untrusted as root: init runs as SBX_UNTRUSTED_ID and must reach R/layers. */
	mode_t mode = (s->userns && s->map_uid != s->host_uid) ? 0711 : 0700;

	ret = mkdir_p_at(AT_FDCWD, s->run_root, 0755);
	if (ret < 0)
		return strbuf_error(err, ret, "cannot create '%s': %s", s->run_root,
			    strerror(-ret));
	rootfd = open(s->run_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return strbuf_error(err, -errno, "cannot open '%s': %s", s->run_root,
			    strerror(errno));
	for (tries = 0;; tries++) {
		random_hex(id);
		snprintf(tmp, sizeof(tmp), ".tmp-%s", id);
		if (mkdirat(rootfd, tmp, mode) == 0)
			break;
		if (errno != EEXIST || tries > 10)
			return strbuf_error(err, -errno, "cannot create '%s/%s': %s",
				    s->run_root, tmp, strerror(errno));
	}
	/*
	 * mkdir's mode went through the umask; R must be exactly this (a
	 * chmod, a journalled write on the cache's disk, only when the umask
	 * took a bit of it).
	 */
	mode_t mask = umask(0);

	umask(mask);
	s->run_dir_fd = openat(rootfd, tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->run_dir_fd < 0 || ((mode & mask) && fchmodat(rootfd, tmp, mode, 0) < 0))
		goto fail_tmp;
	s->lock_fd = openat(s->run_dir_fd, "lock",
			    O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (s->lock_fd < 0 || flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0)
		goto fail_tmp;
	/* on the disk limit's tmpfs, root/ is made there (sbx_disk_prepare()) */
	if (mkdirat(s->run_dir_fd, "layers", mode) < 0 ||
	    (!sbx_disk_tmpfs(s) && mkdirat(s->run_dir_fd, "root", 0755) < 0))
		goto fail_tmp;
	if (renameat(rootfd, tmp, rootfd, id) < 0)
		goto fail_tmp;
	s->run_dir = path_join(s->run_root, id);
	s->root_dir = path_join(s->run_dir, "root");
	return 0;

fail_tmp:
	ret = -errno;
	strbuf_error(err, ret, "cannot set up run directory '%s/%s': %s", s->run_root,
	     tmp, strerror(errno));
	rm_rf_at(rootfd, tmp);
	return ret;
}

int sbx_new(const struct sbx_config *cfg, struct sbx **out, struct strbuf *err)
{
	struct sbx *s;
	int ret;
	size_t i, n = 0;

	*out = NULL;
	ret = check_config(cfg, err);
	if (ret < 0)
		return ret;

	s = xcalloc(1, sizeof(*s));
	s->run_dir_fd = -1;
	s->lock_fd = -1;
	s->disk_fd = -1;
	s->cfg = *cfg;
	s->argv = strv_dup(cfg->argv);
	s->envp = strv_dup(cfg->envp);
	s->cwd = path_clean(cfg->cwd);
	s->run_root = path_clean(cfg->run_root);
	while (cfg->masks && cfg->masks[n])
		n++;
	s->masks = xcalloc(n + 1, sizeof(*s->masks));
	for (i = 0; i < n; i++)
		s->masks[i] = path_clean(cfg->masks[i]);
	for (n = 0; cfg->hidden && cfg->hidden[n]; n++)
		;
	s->hidden = xcalloc(n + 1, sizeof(*s->hidden));
	for (i = 0; i < n; i++)
		s->hidden[i] = path_clean(cfg->hidden[i]);
	/* Pointers into the caller's memory must not outlive this call. */
	s->cfg.argv = s->argv;
	s->cfg.envp = s->envp;
	s->cfg.cwd = s->cwd;
	s->cfg.run_root = s->run_root;
	s->cfg.masks = (const char *const *)s->masks;
	s->cfg.hidden = (const char *const *)s->hidden;
	s->hostfacts_dir = cfg->hostfacts_dir ? xstrdup(cfg->hostfacts_dir) : NULL;
	s->cpu_list = cfg->cpu_list ? xstrdup(cfg->cpu_list) : NULL;
	s->cfg.hostfacts_dir = s->hostfacts_dir;
	s->cfg.cpu_list = s->cpu_list;
	sigemptyset(&s->sig_ignore);
	sigemptyset(&s->sig_block);
	if (cfg->sig_ignore)
		s->sig_ignore = *cfg->sig_ignore;
	if (cfg->sig_block)
		s->sig_block = *cfg->sig_block;
	s->cfg.sig_ignore = s->cfg.sig_block = NULL;
	s->limits.notes = xcalloc(1, sizeof(*s->limits.notes));

	s->host_uid = geteuid();
	s->host_gid = getegid();
	/*
	 * Untrusted as root: real root builds the view (every mount
	 * copy-on-write, as for a trusted root job) and the job alone then
	 * becomes SBX_UNTRUSTED_ID in a user namespace of its own (init.c).
	 * A user namespace around init as well would leave every root-owned
	 * host file unmapped: a copy-up of one fails, and the job could not
	 * even write into a world-writable output directory.
	 */
	s->userns = s->host_uid != 0;
	s->job_userns = cfg->untrusted && s->host_uid == 0;
	s->skeleton = s->userns;
	if (cfg->untrusted) {
		s->job_uid = SBX_UNTRUSTED_ID;
		s->job_gid = SBX_UNTRUSTED_ID;
		s->map_uid = s->host_uid ? s->host_uid : SBX_UNTRUSTED_ID;
		s->map_gid = s->host_uid ? s->host_gid : SBX_UNTRUSTED_ID;
	} else {
		s->job_uid = s->host_uid;
		s->job_gid = s->host_gid;
		s->map_uid = s->host_uid;
		s->map_gid = s->host_gid;
	}

	ret = make_run_dir(s, err);
	if (ret == 0)
		ret = sbx_disk_prepare(s, err);
	if (ret == 0) {
		strbuf_reset(err);
		ret = sbx_mounts_plan(s, err);
	}
	if (ret < 0) {
		struct strbuf keep = STRBUF_INIT;

		strbuf_addbuf(&keep, err);
		sbx_free(s);
		strbuf_reset(err);
		strbuf_addbuf(err, &keep);
		strbuf_release(&keep);
		return ret;
	}
	*out = s;
	return 0;
}

const struct sbx_layer *sbx_layers(const struct sbx *s, size_t *nr)
{
	*nr = s->nr_layers;
	return s->layers;
}

/* The job's environment with @lib appended to its LD_PRELOAD. */
static void add_preload(struct sbx *s, const char *lib)
{
	size_t n = 0, i;
	char **env;
	bool done = false;

	while (s->envp[n])
		n++;
	env = xcalloc(n + 2, sizeof(*env));
	for (i = 0; i < n; i++) {
		const char *e = s->envp[i];

		if (!done && !strncmp(e, "LD_PRELOAD=", 11)) {
			env[i] = e[11] ? xasprintf("%s:%s", e, lib) : xasprintf("%s%s", e, lib);
			done = true;
		} else {
			env[i] = xstrdup(e);
		}
	}
	if (!done)
		env[n] = xasprintf("LD_PRELOAD=%s", lib);
	strv_free(s->envp);
	s->envp = env;
	s->cfg.envp = env;
}

void sbx_set_tracer(struct sbx *s, const struct sbx_tracer *tracer)
{
	s->has_tracer = tracer != NULL;
	if (tracer) {
		s->tracer = *tracer;
		if (tracer->preload)
			add_preload(s, tracer->preload);
	}
}

void sbx_job_ids(const struct sbx *s, uid_t *uid, gid_t *gid)
{
	*uid = s->job_uid;
	*gid = s->job_gid;
}

const char *sbx_run_dir(const struct sbx *s)
{
	return s->run_dir;
}

static int write_proc_file(pid_t pid, const char *name, const char *data,
			   struct strbuf *err)
{
	char path[64];
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write_full(fd, data, strlen(data)) < 0)
		return strbuf_error(err, -errno, "cannot write '%s': %s", path,
			    strerror(errno));
	return 0;
}

static int map_ids(struct sbx *s, pid_t pid, struct strbuf *err)
{
	char line[64];
	int ret;

	/*
	 * An unprivileged writer must deny setgroups before writing
	 * gid_map. Root leaves it allowed so that init can drop root's
	 * supplementary groups.
	 */
	if (s->host_uid != 0) {
		ret = write_proc_file(pid, "setgroups", "deny", err);
		if (ret < 0)
			return ret;
	}
	snprintf(line, sizeof(line), "%u %u 1\n", (unsigned)s->job_uid,
		 (unsigned)s->map_uid);
	ret = write_proc_file(pid, "uid_map", line, err);
	if (ret < 0)
		return ret;
	snprintf(line, sizeof(line), "%u %u 1\n", (unsigned)s->job_gid,
		 (unsigned)s->map_gid);
	return write_proc_file(pid, "gid_map", line, err);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * The job skipped the first @nr candidates of its PATH search (init.c,
 * skip_absent_path()): the tracer records them before it handles the
 * first notification.
 */
static void tell_path_skipped(struct sbx *s, size_t nr)
{
	char **paths = xcalloc(nr + 1, sizeof(*paths));
	char buf[PATH_MAX];
	size_t i;
	bool ok = s->tracer.path_skipped != NULL;

	for (i = 0; ok && i < nr; i++) {
		ok = sbx_path_candidate(s, i, buf, sizeof(buf)) == 0;
		paths[i] = ok ? xstrdup(buf) : NULL;
	}
	if (s->tracer.path_skipped)
		s->tracer.path_skipped(s->tracer.ctx, ok ? (const char *const *)paths : NULL,
				       nr);
	strv_free(paths);
}

/* The threads serving the tracer's listener (see struct sbx_tracer). */
struct tracer_pool {
	const struct sbx_tracer *tracer;
	_Atomic int fd;		/* the listener; -1 once closed */
	pthread_t threads[SBX_TRACER_THREADS];
	atomic_int nr;		/* threads started */
	atomic_int failed;	/* threads that stopped on an error */
};

static void *tracer_thread(void *arg)
{
	struct tracer_pool *p = arg;
	int r;

	do {
		r = p->tracer->handle(p->tracer->ctx, p->fd);
	} while (r == 0);
	if (r < 0 && atomic_fetch_add(&p->failed, 1) + 1 == p->nr) {
		int fd = atomic_exchange(&p->fd, -1);

		/* nobody answers any more: let the job's calls fail */
		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

/* Start the pool on @fd, which it owns from now on. */
static void tracer_pool_start(struct tracer_pool *p, const struct sbx_tracer *tracer,
			      int fd)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int want = cpus < 1 ? 1 : cpus > SBX_TRACER_THREADS ? SBX_TRACER_THREADS : (int)cpus;
	pthread_attr_t attr;

	p->tracer = tracer;
	atomic_store(&p->fd, fd);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	/*
	 * A thread is counted before it starts, so that the last thread to
	 * fail sees every other one in p->nr; a thread that fails before the
	 * others start may close the fd early, and the later ones then fail
	 * on it too: the tracer gave up either way, and said why.
	 */
	while (atomic_load(&p->nr) < want) {
		int i = atomic_fetch_add(&p->nr, 1);

		if (pthread_create(&p->threads[i], &attr, tracer_thread, p)) {
			atomic_fetch_sub(&p->nr, 1);
			break;
		}
	}
	pthread_attr_destroy(&attr);
	if (atomic_load(&p->failed) == atomic_load(&p->nr)) {
		/* no thread at all, or all failed already: calls must fail */
		int old = atomic_exchange(&p->fd, -1);

		if (old >= 0)
			close(old);
	}
}

/* After init was reaped: every thread sees POLLHUP and returns. */
static void tracer_pool_join(struct tracer_pool *p)
{
	int i, fd;

	for (i = 0; i < p->nr; i++)
		pthread_join(p->threads[i], NULL);
	p->nr = 0;
	fd = atomic_exchange(&p->fd, -1);
	if (fd >= 0)
		close(fd);
}

/*
 * stdin_as_pipe (sbx_config): a thread writes the file's bytes into the
 * pipe the job reads, then closes it. Once the job and everything it
 * started are gone, no reader is left and a write fails (EPIPE: SIGPIPE
 * is blocked in sbx_run()), so the thread always ends.
 */
struct stdin_feed {
	int src, dst;
	pthread_t thread;
	bool running;
};

static void *stdin_feed_main(void *arg)
{
	struct stdin_feed *f = arg;
	char buf[65536];
	off_t off = 0;

	for (;;) {
		ssize_t n = pread(f->src, buf, sizeof(buf), off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || write_full(f->dst, buf, (size_t)n) < 0)
			break;
		off += n;
	}
	close(f->dst);
	f->dst = -1;
	return NULL;
}

/* Is @sig ignored by this process (then it is not forwarded: §1)? */
static bool sig_is_ignored(int sig)
{
	struct sigaction sa;

	return sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN;
}

/* State of one sbx_run(). */
struct run_state {
	struct sbx *s;
	int pidfd;
	int sigfd, timerfd;
	int status_r, out_r, err_r, sock;
	bool have_listener;
	double listener_at;		/* now_s() when it came; 0: never */
	struct tracer_pool pool;
	int cap_out, cap_err;		/* capture files, -1 if none */
	int stream_out, stream_err;	/* cfg fds, -1 when not (or no longer) streamed */
	struct strbuf status;		/* undecoded status records */
	bool init_done;
	siginfo_t init_si;
	bool term_sent;			/* timeout: SIGTERM sent */
	bool killed;			/* timeout: SIGKILL sent */
	int forwarded_signal;		/* first signal passed on to the job */
	int capture_errno;
	uint64_t captured;		/* bytes of stdout and stderr captured */
	bool capture_cut;		/* past the disk limit: no longer captured */
	unsigned reader_gone;		/* 1: stdout's reader went away, 2: stderr's */
	double drain_deadline;
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Read what is there from an output pipe; tee it. Returns false on EOF. */
static bool pump(struct run_state *st, int fd, int *stream, int cap)
{
	char buf[65536];
	ssize_t n;

	n = read(fd, buf, sizeof(buf));
	if (n < 0)
		return errno == EINTR || errno == EAGAIN;
	if (n == 0)
		return false;
	/*
	 * A reader of our output going away (`| head`): the job's pipe is
	 * closed too, so that its next write gets EPIPE and SIGPIPE as a
	 * bare run's would (a job writing without end ran on forever). Any
	 * other failure to pass it on (a full disk) does not stop the job.
	 */
	if (*stream >= 0 && write_full(*stream, buf, n) < 0) {
		bool gone = errno == EPIPE;

		st->reader_gone |= gone ? (stream == &st->stream_out ? 1u : 2u) : 0;
		*stream = -1;
		if (gone)
			return false;
	}
	/*
	 * The captured output lives on the cache's file system: past the
	 * disk limit it is no longer kept (the run cannot be stored), so a
	 * job printing without end cannot fill it either.
	 */
	if (cap >= 0 && st->s->cfg.disk_bytes &&
	    st->captured + (uint64_t)n > st->s->cfg.disk_bytes)
		st->capture_cut = true;
	if (cap >= 0 && !st->capture_errno && !st->capture_cut) {
		if (write_full(cap, buf, n) < 0)
			st->capture_errno = errno ? errno : EIO;
		st->captured += (uint64_t)n;
	}
	return true;
}

static void read_status(struct run_state *st)
{
	char buf[PIPE_BUF];
	ssize_t n = read(st->status_r, buf, sizeof(buf));

	if (n > 0)
		strbuf_add(&st->status, buf, n);
	else if (n == 0 || (errno != EINTR && errno != EAGAIN))
		close_fd(&st->status_r);
}

static void on_timer(struct run_state *st)
{
	uint64_t ticks;
	struct itimerspec its = { .it_value = { SBX_KILL_GRACE_S, 0 } };

	if (read(st->timerfd, &ticks, sizeof(ticks)) < 0)
		return;
	if (!st->term_sent) {
		/* First expiry: ask the job to stop. */
		st->term_sent = true;
		syscall(SYS_pidfd_send_signal, st->pidfd, SIGTERM, NULL, 0);
		timerfd_settime(st->timerfd, 0, &its, NULL);
	} else {
		/* Grace over: init's death takes the whole namespace. */
		st->killed = true;
		syscall(SYS_pidfd_send_signal, st->pidfd, SIGKILL, NULL, 0);
		close_fd(&st->timerfd);
	}
}

static void on_signal(struct run_state *st)
{
	struct signalfd_siginfo si;

	if (read(st->sigfd, &si, sizeof(si)) != sizeof(si))
		return;
	if (!st->init_done) {
		if (!st->forwarded_signal)
			st->forwarded_signal = (int)si.ssi_signo;
		syscall(SYS_pidfd_send_signal, st->pidfd, (int)si.ssi_signo,
			NULL, 0);
	}
}

static void loop(struct run_state *st)
{
	struct sbx *s = st->s;

	for (;;) {
		struct pollfd p[7];
		int timeout = -1, n;
		bool done;

		p[0] = (struct pollfd){ st->init_done ? -1 : st->pidfd, POLLIN, 0 };
		p[1] = (struct pollfd){ st->sigfd, POLLIN, 0 };
		p[2] = (struct pollfd){ st->init_done ? -1 : st->timerfd, POLLIN, 0 };
		p[3] = (struct pollfd){ st->status_r, POLLIN, 0 };
		p[4] = (struct pollfd){ st->out_r, POLLIN, 0 };
		p[5] = (struct pollfd){ st->err_r, POLLIN, 0 };
		p[6] = (struct pollfd){ st->sock, POLLIN, 0 };

		done = st->init_done && st->status_r < 0 && st->out_r < 0 &&
		       st->err_r < 0;
		if (done)
			break;
		if (st->init_done) {
			double left = st->drain_deadline - now_s();

			if (left <= 0)
				break;
			timeout = (int)(left * 1000) + 1;
		}
		/* the disk limit's tmpfs is looked at while the job runs */
		if (s->disk_fd >= 0 && !s->disk_full &&
		    (timeout < 0 || timeout > SBX_DISK_CHECK_MS))
			timeout = SBX_DISK_CHECK_MS;
		n = poll(p, 7, timeout);
		sbx_disk_check(s);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[6].revents) {
			unsigned char skipped = 0;
			int fd = fd_recv_byte(st->sock, &skipped);

			if (fd >= 0 && !st->have_listener) {
				st->have_listener = true;
				st->listener_at = now_s();
				if (skipped)
					tell_path_skipped(s, skipped);
				tracer_pool_start(&st->pool, &s->tracer, fd);
			} else if (fd >= 0)
				close(fd);	/* one listener per run */
			else
				close_fd(&st->sock);
		}
		if (p[4].revents && !pump(st, st->out_r, &st->stream_out, st->cap_out))
			close_fd(&st->out_r);
		if (p[5].revents && !pump(st, st->err_r, &st->stream_err, st->cap_err))
			close_fd(&st->err_r);
		if (p[3].revents)
			read_status(st);
		if (p[1].revents)
			on_signal(st);
		if (p[2].revents)
			on_timer(st);
		if (p[0].revents) {
			memset(&st->init_si, 0, sizeof(st->init_si));
			if (waitid(P_PIDFD, st->pidfd, &st->init_si, WEXITED) == 0) {
				st->init_done = true;
				st->drain_deadline = now_s() + SBX_DRAIN_S;
			}
		}
	}
	/* Whatever is still in the pipes was written before everyone died. */
	while (st->out_r >= 0 && pump(st, st->out_r, &st->stream_out, st->cap_out))
		;
	while (st->err_r >= 0 && pump(st, st->err_r, &st->stream_err, st->cap_err))
		;
	while (st->status_r >= 0)
		read_status(st);
}

/*
 * Decode the status records. Returns 0 with res filled, or -errno with a
 * message for a set-up failure.
 */
static int decode_status(struct run_state *st, struct sbx_result *res,
			 struct strbuf *err)
{
	struct sbx_status rec;

	sbx_status_decode(st->status.buf, st->status.len, &rec, err);
	res->exec_errno = rec.exec_errno;
	res->wait_status = rec.wait_status;
	if (rec.setup_errno)
		return -rec.setup_errno;
	if (rec.have_wait_status)
		return 0;
	if (st->init_si.si_code == CLD_KILLED || st->init_si.si_code == CLD_DUMPED) {
		/*
		 * init killed (timeout, OOM in the sandbox's cgroup): the
		 * job died of the same signal with it.
		 */
		res->wait_status = st->init_si.si_status & 0x7f;
		return 0;
	}
	return strbuf_error(err, -EPROTO, "sandbox init exited (status %d) without reporting the job's status",
		    st->init_si.si_status);
}

int sbx_run(struct sbx *s, struct sbx_result *res, struct strbuf *err)
{
	struct run_state st = {
		.s = s, .pidfd = -1, .sigfd = -1, .timerfd = -1, .status_r = -1,
		.out_r = -1, .err_r = -1, .sock = -1, .pool = { .fd = -1 },
		.cap_out = -1, .cap_err = -1,
		.stream_out = s->cfg.stdout_fd, .stream_err = s->cfg.stderr_fd,
		.status = STRBUF_INIT,
	};
	int status_p[2] = { -1, -1 }, go_p[2] = { -1, -1 }, out_p[2] = { -1, -1 },
	    err_p[2] = { -1, -1 }, sock_p[2] = { -1, -1 }, in_p[2] = { -1, -1 };
	struct stdin_feed feed = { .src = -1, .dst = -1 };
	struct clone_args args = { 0 };
	struct sbx_child_fds fds;
	sigset_t sigs, old_mask, pending;
	bool pipe_was_pending;
	double start;
	pid_t pid;
	int ret = 0;

	memset(res, 0, sizeof(*res));
	res->limit_notes = s->limits.notes;
	res->uid = s->job_uid;
	res->gid = s->job_gid;
	res->userns = s->userns || s->job_userns;
	strbuf_reset(err);
	if (s->ran)
		return strbuf_error(err, -EINVAL, "sandbox: sbx_run() called twice");
	s->ran = true;

	ret = sbx_limits_prepare(s, err);
	if (ret < 0)
		goto out;	/* removes a cgroup made for another limit */
	res->limit_notes = s->limits.notes;

	if (s->cfg.capture_output) {
		st.cap_out = openat(s->run_dir_fd, "stdout",
				    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		st.cap_err = openat(s->run_dir_fd, "stderr",
				    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (st.cap_out < 0 || st.cap_err < 0) {
			ret = strbuf_error(err, -errno, "cannot create '%s/stdout': %s",
				   s->run_dir, strerror(errno));
			goto out;
		}
		s->stdout_path = path_join(s->run_dir, "stdout");
		s->stderr_path = path_join(s->run_dir, "stderr");
	}
	if (pipe2(status_p, O_CLOEXEC) < 0 || pipe2(go_p, O_CLOEXEC) < 0 ||
	    pipe2(out_p, O_CLOEXEC) < 0 ||
	    (!s->cfg.one_stream && pipe2(err_p, O_CLOEXEC) < 0) ||
	    (s->cfg.stdin_as_pipe && !s->cfg.stdin_closed && pipe2(in_p, O_CLOEXEC) < 0) ||
	    (s->has_tracer &&
	     socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sock_p) < 0)) {
		ret = strbuf_error(err, -errno, "cannot create pipes: %s", strerror(errno));
		goto out;
	}
	if (s->cfg.timeout_s > 0) {
		struct itimerspec its = { 0 };
		double t = s->cfg.timeout_s;

		its.it_value.tv_sec = (time_t)t;
		its.it_value.tv_nsec = (long)((t - (time_t)t) * 1e9);
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
		st.timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
		if (st.timerfd < 0 || timerfd_settime(st.timerfd, 0, &its, NULL) < 0) {
			ret = strbuf_error(err, -errno, "cannot create timer: %s",
				   strerror(errno));
			goto out;
		}
	}

	/*
	 * Forwarded to the job: those we do not ignore. A blocked signal is
	 * queued even when ignored, so an ignored one must not be blocked
	 * either: it stays ignored, for us and for the job (a background
	 * `procache run ... &` of a script starts with SIGINT ignored).
	 */
	static const int forwarded_signals[] = SBX_FORWARDED_SIGNALS;

	sigemptyset(&sigs);
	for (size_t i = 0; i < ARRAY_SIZE(forwarded_signals); i++)
		if (!sig_is_ignored(forwarded_signals[i]))
			sigaddset(&sigs, forwarded_signals[i]);
	st.sigfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	/*
	 * SIGPIPE too, but not through the signalfd: a reader of our
	 * stdout going away gives EPIPE, and the job's output is still
	 * captured; the pending signal is discarded before returning.
	 */
	sigaddset(&sigs, SIGPIPE);
	pipe_was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
	sigprocmask(SIG_BLOCK, &sigs, &old_mask);
	if (st.sigfd < 0) {
		ret = strbuf_error(err, -errno, "cannot create signalfd: %s", strerror(errno));
		goto out_mask;
	}

	args.flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC |
		     CLONE_PIDFD | (s->cfg.share_net ? 0 : CLONE_NEWNET) |
		     (s->userns ? CLONE_NEWUSER : 0);
	args.pidfd = (uint64_t)(uintptr_t)&st.pidfd;
	/* OOM kills before the job, told from the job's after (DESIGN §7) */
	int64_t oom_before = s->limits.cg_memory ? 0 : sbx_limits_oom_count(s);
	args.exit_signal = SIGCHLD;
	start = now_s();
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0) {
		ret = strbuf_error(err, -errno, "cannot create the sandbox (clone3): %s",
			   strerror(errno));
		goto out_mask;
	}
	if (pid == 0) {
		close(go_p[1]);
		close(status_p[0]);
		close(out_p[0]);
		close(err_p[0]);
		if (sock_p[0] >= 0)
			close(sock_p[0]);
		if (in_p[1] >= 0)
			close(in_p[1]);
		fds = (struct sbx_child_fds){
			.status_w = status_p[1], .go_r = go_p[0],
			.stdin_fd = in_p[0] >= 0 ? in_p[0]
				    : s->cfg.stdin_closed ? -1 : s->cfg.stdin_fd,
			.stdin_closed = s->cfg.stdin_closed,
			.stdout_w = out_p[1],
			.stderr_w = s->cfg.one_stream ? out_p[1] : err_p[1],
			.listener_sock = sock_p[1],
		};
		sbx_init_main(s, &fds);
	}
	close_fd(&status_p[1]);
	close_fd(&go_p[0]);
	close_fd(&out_p[1]);
	close_fd(&err_p[1]);
	close_fd(&sock_p[1]);
	close_fd(&in_p[0]);
	if (in_p[1] >= 0) {
		int e;

		feed.src = s->cfg.stdin_fd;
		feed.dst = in_p[1];
		in_p[1] = -1;
		e = pthread_create(&feed.thread, NULL, stdin_feed_main, &feed);
		if (e) {
			close_fd(&feed.dst);
			ret = strbuf_error(err, -e, "cannot start feeding stdin: %s",
					   strerror(e));
			syscall(SYS_pidfd_send_signal, st.pidfd, SIGKILL, NULL, 0);
			close_fd(&go_p[1]);
			waitid(P_PIDFD, st.pidfd, &st.init_si, WEXITED);
			goto out_mask;
		}
		feed.running = true;
	}
	st.status_r = status_p[0];
	st.out_r = out_p[0];
	st.err_r = err_p[0];
	st.sock = sock_p[0];
	status_p[0] = out_p[0] = err_p[0] = sock_p[0] = -1;

	if ((s->userns && (ret = map_ids(s, pid, err)) < 0) ||
	    (ret = sbx_limits_attach(s, pid, err)) < 0 ||
	    (ret = sbx_hostfacts_attach(s, pid, err)) < 0) {
		/* init reads EOF on "go" and exits; reap it below. */
		close_fd(&go_p[1]);
		syscall(SYS_pidfd_send_signal, st.pidfd, SIGKILL, NULL, 0);
		waitid(P_PIDFD, st.pidfd, &st.init_si, WEXITED);
		goto out_mask;
	}
	if (write_full(go_p[1], "g", 1) < 0) {
		ret = strbuf_error(err, -errno, "cannot start the sandbox: %s",
			   strerror(errno));
		close_fd(&go_p[1]);
		waitid(P_PIDFD, st.pidfd, &st.init_si, WEXITED);
		goto out_mask;
	}
	close_fd(&go_p[1]);

	loop(&st);
	sbx_disk_check(s);
	res->disk_full = s->disk_full;
	res->output_cut = st.capture_cut;
	res->reader_gone = st.reader_gone;
	res->duration_s = now_s() - start;
	res->setup_s = st.listener_at ? st.listener_at - start : 0;
	int64_t oom_after = sbx_limits_oom_count(s);
	res->oom_kills = oom_before < 0 || oom_after < 0 ? 0
			 : (uint64_t)(oom_after - oom_before);
	int64_t pids_hits = sbx_limits_pids_max_hits(s);
	res->pids_limit_hits = pids_hits > 0 ? (uint64_t)pids_hits : 0;
	res->timed_out = st.term_sent;
	res->forwarded_signal = st.forwarded_signal;
	ret = decode_status(&st, res, err);
	if (ret == 0 && st.capture_errno)
		ret = strbuf_error(err, -st.capture_errno, "cannot write captured output in '%s': %s",
			   s->run_dir, strerror(st.capture_errno));
	if (ret == 0) {
		res->stdout_path = s->stdout_path;
		res->stderr_path = s->stderr_path;
	}
	if (!st.init_done) {
		/* The loop gave up (poll failed): make sure nothing survives. */
		syscall(SYS_pidfd_send_signal, st.pidfd, SIGKILL, NULL, 0);
		waitid(P_PIDFD, st.pidfd, &st.init_si, WEXITED);
	}
	tracer_pool_join(&st.pool);

out_mask:
	if (feed.running)
		pthread_join(feed.thread, NULL);
	if (!pipe_was_pending && !sigismember(&old_mask, SIGPIPE)) {
		sigset_t pipe_set;
		struct timespec zero = { 0, 0 };

		sigemptyset(&pipe_set);
		sigaddset(&pipe_set, SIGPIPE);
		while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE)
			;
	}
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
out:
	sbx_limits_cleanup(s);
	close_fd(&st.pidfd);
	close_fd(&st.sigfd);
	close_fd(&st.timerfd);
	close_fd(&st.status_r);
	close_fd(&st.out_r);
	close_fd(&st.err_r);
	close_fd(&st.sock);
	close_fd(&st.cap_out);
	close_fd(&st.cap_err);
	close_fd(&status_p[0]);
	close_fd(&status_p[1]);
	close_fd(&go_p[0]);
	close_fd(&go_p[1]);
	close_fd(&out_p[0]);
	close_fd(&out_p[1]);
	close_fd(&err_p[0]);
	close_fd(&err_p[1]);
	close_fd(&sock_p[0]);
	close_fd(&sock_p[1]);
	close_fd(&in_p[0]);
	close_fd(&in_p[1]);
	strbuf_release(&st.status);
	return ret;
}

void sbx_free(struct sbx *s)
{
	size_t i;

	if (!s)
		return;
	sbx_disk_release(s);
	if (s->run_dir && !s->cfg.keep_run_dir && s->trashed) {
		_cleanup_free_ char *name = path_basename(s->run_dir);
		_cleanup_close_ int rootfd = open(s->run_root,
						  O_PATH | O_DIRECTORY | O_CLOEXEC);

		if (rootfd >= 0)
			rm_rf_at(rootfd, name);
	} else if (s->run_dir && !s->cfg.keep_run_dir) {
		_cleanup_free_ char *name = path_basename(s->run_dir);
		_cleanup_free_ char *trash = xasprintf(".trash-%s", name);
		_cleanup_close_ int rootfd = open(s->run_root,
						  O_PATH | O_DIRECTORY | O_CLOEXEC);

		/*
		 * R is renamed to trash first, so that a runner killed while
		 * removing it leaves nothing sbx_clean_stale() would take for
		 * a live run, then removed: a batch of runs must not leave
		 * hundreds of run directories on the cache's disk until the
		 * next scan (removing one costs a few milliseconds here, every
		 * overlay leaves a work/work).
		 */
		if (rootfd >= 0 && renameat(rootfd, name, rootfd, trash) < 0)
			rm_rf_at(rootfd, name);
		else if (rootfd >= 0)
			rm_rf_at(rootfd, trash);
	}
	if (s->run_dir_fd >= 0)
		close(s->run_dir_fd);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	for (i = 0; i < s->nr_layers; i++) {
		free(s->layers[i].mountpoint);
		free(s->layers[i].lower);
		free(s->layers[i].upper);
		free(s->layers[i].work);
	}
	free(s->layers);
	for (i = 0; i < s->nr_steps; i++) {
		free(s->steps[i].path);
		free(s->steps[i].host);
		free(s->steps[i].target);
	}
	free(s->steps);
	for (i = 0; i < s->nr_sys_mounts; i++)
		free(s->sys_mounts[i]);
	free(s->sys_mounts);
	sbx_limits_release(&s->limits);
	strv_free(s->argv);
	strv_free(s->envp);
	strv_free(s->masks);
	strv_free(s->hidden);
	free(s->cwd);
	free(s->run_root);
	free(s->hostfacts_dir);
	free(s->cpu_list);
	free(s->run_dir);
	free(s->root_dir);
	free(s->stdout_path);
	free(s->stderr_path);
	free(s);
}

void sbx_free_last(struct sbx *s)
{
	if (s)
		(void)sbx_disk_leave_ns(s);
	sbx_free(s);
}

void sbx_retire(struct sbx *s)
{
	if (!s || !s->run_dir || s->cfg.keep_run_dir || s->trashed)
		return;

	_cleanup_free_ char *name = path_basename(s->run_dir);
	_cleanup_free_ char *trash = xasprintf(".trash-%s", name);
	_cleanup_close_ int rootfd = open(s->run_root, O_PATH | O_DIRECTORY | O_CLOEXEC);

	/* a mount below R (the disk limit's tmpfs at R/layers) moves with it */
	if (rootfd >= 0 && renameat(rootfd, name, rootfd, trash) == 0) {
		free(s->run_dir);
		s->run_dir = path_join(s->run_root, trash);
		s->trashed = true;
	}
}

static bool is_run_id(const char *name)
{
	size_t i;

	for (i = 0; name[i]; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		      (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	return i == 16;
}

int sbx_clean_stale(const char *run_root)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	struct stat stamp;
	int fd, sfd, removed = 0;

	fd = open(run_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* At most once a minute per run root: the stamp's mtime says when. */
	if (fstatat(fd, SBX_CLEAN_STAMP, &stamp, 0) == 0 &&
	    stamp.st_mtime > time(NULL) - SBX_CLEAN_INTERVAL_S &&
	    stamp.st_mtime <= time(NULL)) {
		close(fd);
		return 0;
	}
	sfd = openat(fd, SBX_CLEAN_STAMP, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		     0644);
	if (sfd >= 0) {
		futimens(sfd, NULL);
		close(sfd);
	}
	d = fdopendir(fd);
	if (!d) {
		int e = errno;

		close(fd);
		return -e;
	}
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		_cleanup_free_ char *lock = NULL;
		_cleanup_close_ int lfd = -1;
		bool tmp = !strncmp(name, ".tmp-", 5) && is_run_id(name + 5);

		if (!strncmp(name, ".trash-", 7) && is_run_id(name + 7)) {
			/* Renamed there by sbx_free(): nobody uses it. */
			if (rm_rf_at(fd, name) == 0)
				removed++;
			continue;
		}
		if (!tmp && !is_run_id(name))
			continue;
		if (tmp) {
			struct stat sb;

			/*
			 * make_run_dir() creates the lock, then flocks it: a
			 * young .tmp- directory with a free lock may be a
			 * concurrent runner in between (and flocking it here
			 * would make that runner's LOCK_NB fail). Only an
			 * hour-old one is stale, lock or not.
			 */
			if (fstatat(fd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
			    sb.st_mtime >= time(NULL) - SBX_STALE_TMP_AGE_S)
				continue;
		}
		lock = xasprintf("%s/lock", name);
		lfd = openat(fd, lock, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (lfd < 0) {
			struct stat sb;

			/*
			 * A .tmp- directory is locked right after mkdir; one
			 * without a lock an hour later lost its creator.
			 */
			if (tmp && errno == ENOENT &&
			    fstatat(fd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
			    sb.st_mtime < time(NULL) - SBX_STALE_TMP_AGE_S &&
			    rm_rf_at(fd, name) == 0)
				removed++;
			continue;
		}
		if (flock(lfd, LOCK_EX | LOCK_NB) < 0)
			continue;	/* its runner is alive */
		if (rm_rf_at(fd, name) == 0)
			removed++;
	}
	return removed;
}

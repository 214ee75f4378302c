/*
 * Inside the sandbox: init (pid 1 of the new PID namespace) and the job
 * it forks (DESIGN.md section 1). Both run after clone3() in a copy of
 * the supervisor's memory; they report to the supervisor only through
 * the status pipe (status.h) and never return.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <grp.h>

#include "common/fdpass.h"
#include "common/fdio.h"
#include "common/procstatus.h"
#include "common/xalloc.h"
#include "sandbox/sbx-internal.h"
#include "sandbox/status.h"

#include "common/banned.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Bring "lo" up: the only interface of a new network namespace. */
static int loopback_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret = 0;

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, "lo", 3);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		ret = -1;
	else {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			ret = -1;
	}
	close_preserve_errno(fd);
	return ret;
}

static const int forwarded_signals[] = SBX_FORWARDED_SIGNALS;

static void noop_handler(int sig)
{
	(void)sig;
}

/*
 * The listener hand-over. The seccomp filter applies to the thread that
 * installs it, and the tracer notifies every sendmsg() of a process that
 * has another thread when it installs (trace_install()): so the job's
 * main thread installs the filter and a helper thread, created before,
 * unfiltered, sends the listener up and exits. Sending from the filtered
 * thread would need the filter to exempt the socket's fd number, and a
 * job could later reuse that number to sendmsg() a datagram to a host
 * Unix socket unseen (an escape in untrusted mode).
 *
 * When the filter notifies execve (struct sbx_tracer, exec_notified) the
 * main thread does not wait for the helper: its execve waits until the
 * supervisor has the listener, which the helper sent first, and then ends
 * the helper if it is still there. Otherwise it joins the helper.
 * The helper owns the listener, the socket and its end of the pipe from
 * then on and closes them (the listener is close-on-exec, like the
 * others: the program the job runs never has it), and a failure to send
 * ends the job with the set-up failure, as the main thread would have.
 */
struct handoff {
	int sock;		/* the socketpair end to the supervisor */
	int pipe[2];		/* main -> helper: the listener fd number */
	int status_fd;
	unsigned char skipped;	/* PATH candidates skipped (skip_absent_path()) */
};

static void *handoff_main(void *arg)
{
	struct handoff *h = arg;
	int lfd, r;

	if (read_full(h->pipe[0], &lfd, sizeof(lfd)) != (ssize_t)sizeof(lfd))
		return NULL; /* the main thread failed, and says why */
	if (lfd > 0 && (r = fd_send_byte(h->sock, lfd, h->skipped)) < 0) {
		errno = -r;
		sbx_child_fail(h->status_fd, "cannot pass the tracer's listener");
	}
	if (lfd > 0)
		close(lfd);
	close(h->sock);
	close(h->pipe[0]);
	return NULL;
}

/* The PATH execvpe() searches for the job (getenv's: the first). */
static const char *job_path(const struct sbx *s)
{
	size_t i;

	for (i = 0; s->envp[i]; i++)
		if (!strncmp(s->envp[i], "PATH=", 5))
			return s->envp[i] + 5;
	return "/bin:/usr/bin";	/* glibc's default (confstr _CS_PATH) */
}

int sbx_path_candidate(const struct sbx *s, size_t i, char *buf, size_t len)
{
	const char *p = job_path(s), *end;
	int n;

	for (;; i--) {
		end = strchrnul(p, ':');
		if (!i)
			break;
		if (!*end)
			return -1;
		p = end + 1;
	}
	if (end == p || *p != '/')
		return 1;
	n = snprintf(buf, len, "%.*s/%s", (int)(end - p), p, s->argv[0]);
	return n > 0 && (size_t)n < len ? 0 : 1;
}

/*
 * The start of the job's PATH search, made before the filter is
 * installed (DESIGN §1, "The PATH search"): the leading candidates whose
 * stat finds ENOENT, on which execve() would fail with ENOENT having
 * done nothing, are skipped, and environ gets a PATH of the directories
 * left (execvpe() searches environ's; the job's envp is untouched). At
 * most 255, never the last candidate (execvpe() then fails as it
 * would), only absolute ones. Returns how many; the supervisor has the
 * tracer record them (struct sbx_tracer, path_skipped).
 */
static unsigned skip_absent_path(const struct sbx *s)
{
	const char *file = s->argv[0], *rest;
	char buf[PATH_MAX], dummy[PATH_MAX];
	char **env;
	struct stat st;
	unsigned k = 0;
	size_t i, n;

	if (!s->has_tracer || !s->tracer.path_skipped || !*file || strchr(file, '/') ||
	    strlen(file) > NAME_MAX)
		return 0;
	while (k < 255 && sbx_path_candidate(s, k, buf, sizeof(buf)) == 0 &&
	       sbx_path_candidate(s, k + 1, dummy, sizeof(dummy)) >= 0 &&
	       stat(buf, &st) < 0 && errno == ENOENT)
		k++;
	if (!k)
		return 0;
	rest = job_path(s);
	for (i = 0; i < k; i++)
		rest = strchr(rest, ':') + 1;
	for (n = 0; s->envp[n]; n++)
		;
	env = xcalloc(n + 2, sizeof(*env));
	for (i = 0; i < n; i++)
		env[i] = s->envp[i];
	/* the first PATH= is getenv's; a job without one had the default */
	for (i = 0; i < n && strncmp(env[i], "PATH=", 5); i++)
		;
	env[i] = xasprintf("PATH=%s", rest);
	environ = env;
	return k;
}

/*
 * Whether argv[0] exists in some directory of the job's PATH. execvpe()
 * reports EACCES when a PATH directory cannot be searched (rootless, a
 * PATH naming /root/bin) even if the command exists nowhere; that is
 * "command not found" (127), not "cannot execute" (126).
 */
static bool on_path(const struct sbx *s)
{
	const char *p;

	for (p = job_path(s);; p++) {
		const char *end = strchrnul(p, ':');
		char buf[PATH_MAX];
		int n = snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(end - p), p,
				 end == p ? "" : "/", s->argv[0]);

		if (n > 0 && (size_t)n < sizeof(buf) && faccessat(AT_FDCWD, buf, F_OK, AT_EACCESS) == 0)
			return true;
		if (!*end)
			return false;
		p = end;
	}
}

/*
 * The job, pid 2: set up the process, then execvpe. Any failure before
 * execve is a set-up failure (125); execve's own failure is 126/127.
 */
static int write_proc_self(const char *name, const char *text)
{
	int fd = open(name, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	if (n < 0 || (size_t)n != strlen(text)) {
		int e = n < 0 ? errno : EIO;
		close(fd);
		return -e;
	}
	return close(fd) < 0 ? -errno : 0;
}

/*
 * Untrusted as root (s->job_userns): give up root for good. The ids go
 * first (host SBX_UNTRUSTED_ID, no supplementary groups), then a user
 * namespace of the job's own, mapping that id to itself: the capability
 * set it gets there is what lets sbx_caps_drop() clear the bounding set
 * right after. It owns none of the sandbox's namespaces, so those
 * capabilities reach nothing.
 */
static int become_untrusted(const struct sbx *s, const char **what)
{
	char map[64];
	int r;

	*what = "setgroups";
	if (setgroups(0, NULL) < 0)
		return -errno;
	*what = "setresgid";
	if (setresgid(s->job_gid, s->job_gid, s->job_gid) < 0)
		return -errno;
	*what = "setresuid";
	if (setresuid(s->job_uid, s->job_uid, s->job_uid) < 0)
		return -errno;
	/* The id change made the process non-dumpable: its uid_map and
	 * gid_map would be root's. An ordinary process of that id is
	 * dumpable. */
	*what = "PR_SET_DUMPABLE";
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		return -errno;
	*what = "unshare(CLONE_NEWUSER)";
	if (unshare(CLONE_NEWUSER) < 0)
		return -errno;
	*what = "/proc/self/setgroups";
	if ((r = write_proc_self("/proc/self/setgroups", "deny")) < 0)
		return r;
	*what = "/proc/self/uid_map";
	snprintf(map, sizeof(map), "%u %u 1", (unsigned)s->job_uid, (unsigned)s->job_uid);
	if ((r = write_proc_self("/proc/self/uid_map", map)) < 0)
		return r;
	*what = "/proc/self/gid_map";
	snprintf(map, sizeof(map), "%u %u 1", (unsigned)s->job_gid, (unsigned)s->job_gid);
	return write_proc_self("/proc/self/gid_map", map);
}

/*
 * Every signal to SIG_IGN if the job's (s->sig_ignore), else SIG_DFL.
 * Only those that differ are set: /proc/self/status says which signals
 * have a handler (SigCgt) or are ignored (SigIgn), one read where a
 * signal() per signal is 64 calls. Without it (a read that fails), all.
 * signal() refuses glibc's own real-time signals either way.
 */
static void reset_signals(const struct sbx *s)
{
	char status[4096];
	uint64_t ign = 0, cgt = 0;
	bool known = proc_status_read(status, sizeof(status)) == 0 &&
		     proc_status_mask(status, "SigIgn", &ign) == 0 &&
		     proc_status_mask(status, "SigCgt", &cgt) == 0;
	int sig;

	for (sig = 1; sig < _NSIG; sig++) {
		bool want_ign = sigismember(&s->sig_ignore, sig) == 1;
		uint64_t bit = sig <= 64 ? 1ULL << (sig - 1) : 0;

		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (known && bit && !(cgt & bit) &&
		    !!(ign & bit) == want_ign)
			continue;	/* already as wanted */
		signal(sig, want_ign ? SIG_IGN : SIG_DFL);
	}
}

__attribute__((__noreturn__))
static void job_main(struct sbx *s, const struct sbx_child_fds *fds)
{
	/* Fixed fds while setting up: 3 = status, 4 = listener socket. */
	int status_fd = fds->status_w;
	int sock = fds->listener_sock;
	int in_fd, out_fd = fds->stdout_w, err_fd = fds->stderr_w, e;
	const char *what = NULL;
	struct handoff ho = { .sock = -1, .pipe = { -1, -1 }, .status_fd = -1 };
	pthread_t ho_thread;
	bool handoff_join;

	/*
	 * Signals as the runner had them (DESIGN.md §4): those it ignored
	 * stay ignored, those it blocked blocked; no handler survives.
	 */
	reset_signals(s);
	sigprocmask(SIG_SETMASK, &s->sig_block, NULL);

	/* Own session, no controlling terminal: TIOCSTI cannot reach one. */
	if (setsid() < 0)
		sbx_child_fail(status_fd, "cannot create a session");

	in_fd = fds->stdin_fd;
	if (in_fd < 0) {
		in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (in_fd < 0)
			sbx_child_fail(status_fd, "cannot open '/dev/null'");
	}
	/*
	 * Everything above 10 first, so that no fd we still need sits on
	 * 0..4 while those are being filled.
	 */
	{
		int *v[] = { &status_fd, &sock, &in_fd, &out_fd, &err_fd };
		size_t i;

		for (i = 0; i < ARRAY_SIZE(v); i++) {
			if (*v[i] < 0)
				continue;
			*v[i] = fcntl(*v[i], F_DUPFD_CLOEXEC, 10);
			if (*v[i] < 0)
				sbx_child_fail(fds->status_w,
					       "cannot set up the job's fds");
		}
	}
	if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
		sbx_child_fail(status_fd, "cannot set up the job's fds");
	if (dup3(status_fd, 3, O_CLOEXEC) < 0)
		sbx_child_fail(status_fd, "cannot set up the status pipe");
	status_fd = 3;
	if (sock >= 0) {
		if (dup3(sock, 4, O_CLOEXEC) < 0)
			sbx_child_fail(status_fd, "cannot set up the listener socket");
		sock = 4;
	}
	/* Only 0, 1 and 2 reach the job (3 and 4 are close-on-exec). */
	if (close_range(sock >= 0 ? 5 : 4, ~0U, 0) < 0)
		sbx_child_fail(status_fd, "cannot close inherited fds");

	if (chdir(s->cwd) < 0)
		sbx_child_fail(status_fd, "cannot change directory to '%s'",
			       s->cwd);
	umask(s->cfg.umask);
	if (s->job_userns && become_untrusted(s, &what) < 0)
		sbx_child_fail(status_fd, "cannot become uid %u (%s)",
			       (unsigned)s->job_uid, what);
	if (sbx_caps_drop(s, &what) < 0)
		sbx_child_fail(status_fd, "cannot drop capabilities (%s)", what);
	/* with the job's own ids and capabilities: its lookups' */
	ho.skipped = sock >= 0 ? (unsigned char)skip_absent_path(s) : 0;
	/*
	 * After the capability drop (per thread) and unshare(CLONE_NEWUSER)
	 * (single-threaded processes only); a small stack for RLIMIT_AS.
	 */
	/*
	 * The job need not wait for the hand-over when its exec is notified
	 * (the tracer holds it until the listener arrives), but rlimits must
	 * not find the thread still running (see below).
	 */
	handoff_join = !s->tracer.exec_notified || s->limits.rlimit_as ||
		       s->limits.rlimit_nproc;
	if (s->has_tracer && sock >= 0) {
		pthread_attr_t attr;

		if (pipe2(ho.pipe, O_CLOEXEC) < 0)
			sbx_child_fail(status_fd, "cannot create the hand-over pipe");
		ho.sock = sock;
		ho.status_fd = status_fd;
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 256 * 1024);
		if (!handoff_join)
			pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		e = pthread_create(&ho_thread, &attr, handoff_main, &ho);
		pthread_attr_destroy(&attr);
		if (e) {
			errno = e;
			sbx_child_fail(status_fd, "cannot start the hand-over thread");
		}
	}
	/* setuid binaries and file capabilities gain nothing from here on. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		sbx_child_fail(status_fd, "cannot set no_new_privs");
	if ((e = sbx_caps_filter(s, &what)) < 0) {
		errno = -e;
		sbx_child_fail(status_fd, "cannot install the root job's filter (%s)", what);
	}

	if (s->has_tracer) {
		int lfd = s->tracer.install(s->tracer.ctx);

		if (lfd < 0) {
			errno = -lfd;
			sbx_child_fail(status_fd, "cannot install the tracer");
		}
		if (sock < 0 && lfd > 0) {
			errno = ENOTSOCK;
			sbx_child_fail(status_fd, "cannot pass the tracer's listener");
		}
		if (sock >= 0) {
			/*
			 * The helper thread sends it, then closes it and the
			 * socket (see struct handoff).
			 */
			if (write_full(ho.pipe[1], &lfd, sizeof(lfd)) < 0)
				sbx_child_fail(status_fd,
					       "cannot pass the tracer's listener");
			close(ho.pipe[1]);
			if (handoff_join)
				pthread_join(ho_thread, NULL);
			sock = -1;
		} else if (lfd > 0) {
			/* The job must never keep a copy of the listener. */
			close(lfd);
		}
	}
	if (sock >= 0)
		close(sock);

	/*
	 * rlimits last: they are meant for the job, and code of ours that
	 * would still run under them (a sanitizer's runtime above all, which
	 * reserves terabytes of address space) could fail in its place.
	 * setrlimit and prlimit64 are not traced.
	 */
	if (sbx_limits_apply_rlimits(s) < 0)
		sbx_child_fail(status_fd, "cannot set resource limits");
	/*
	 * glibc's execvpe() searches the PATH of environ, not of envp: point
	 * environ at the job's environment so its PATH (keyed) is the one
	 * searched, not the runner's (not keyed: a false hit otherwise).
	 */
	if (!ho.skipped)
		environ = s->envp;
	/* A job started with fd 0 closed finds it closed (DESIGN.md §4). */
	if (fds->stdin_closed)
		close(0);
	execvpe(s->argv[0], s->argv, s->envp);
	e = errno;
	if (e == EACCES && !strchr(s->argv[0], '/') && !on_path(s))
		e = ENOENT;	/* only unsearchable PATH entries: not found */
	sbx_status_send(status_fd, 'X', e, NULL);
	_exit(e == ENOENT ? 127 : 126);
}

/*
 * The job's pid 1 is this process, a fork of the runner: its
 * /proc/1/cmdline (readable by every process, `ps` in the job) would show
 * procache's whole command line, options the key leaves out (-v,
 * --report FILE, --cache-dir) and the path procache was started by; its
 * comm the name of procache's binary. Both become fixed: the argument
 * area is overwritten with "procache-init" and its last byte made
 * non-NUL, which makes the kernel show the string up to its first NUL
 * (as for setproctitle(3)), whatever the area's length. (An area too
 * short for it, a binary of one or two letters run with a one-letter
 * command, shows "init".) Best effort: without /proc there is no
 * /proc/1 to read either.
 */
static void hide_cmdline(void)
{
	static const char *const names[] = { "procache-init", "init" };
	char stat[1024], *p, *end;
	unsigned long start = 0, stop = 0;
	int fd, field;
	ssize_t n;

	prctl(PR_SET_NAME, "procache-init", 0, 0, 0);
	fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read_full(fd, stat, sizeof(stat) - 1);
	close(fd);
	if (n <= 0)
		return;
	stat[n] = '\0';
	p = strrchr(stat, ')');
	if (!p)
		return;
	/* fields 48 and 49 (arg_start, arg_end); field 3 follows ") " */
	for (field = 2; p && field < 49; field++) {
		p = strchr(p + 1, ' ');
		if (p && field + 1 == 48)
			start = strtoul(p + 1, &end, 10);
		if (p && field + 1 == 49)
			stop = strtoul(p + 1, &end, 10);
	}
	if (!start || stop <= start)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		size_t len = strlen(names[i]);

		if (stop - start < len + 2)
			continue;
		memset((void *)start, 0, stop - start);
		memcpy((void *)start, names[i], len);
		*(char *)(stop - 1) = ' ';
		return;
	}
}

void sbx_init_main(struct sbx *s, const struct sbx_child_fds *fds)
{
	int status_fd = fds->status_w;
	int hostroot_fd;
	sigset_t set;
	char go;
	ssize_t n;
	pid_t job;
	size_t i;

	/*
	 * Die with the supervisor. The supervisor may already be gone
	 * before the prctl: then the "go" pipe reads EOF below.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		sbx_child_fail(status_fd, "cannot set the parent-death signal");
	hide_cmdline();

	/* Signals to forward are read synchronously (blocked, sigwaitinfo). */
	sigemptyset(&set);
	for (i = 0; i < ARRAY_SIZE(forwarded_signals); i++) {
		struct sigaction sa;

		/* an ignored one stays so (the supervisor does not forward it) */
		if (sigaction(forwarded_signals[i], NULL, &sa) == 0 &&
		    sa.sa_handler == SIG_IGN)
			continue;
		signal(forwarded_signals[i], noop_handler);
		sigaddset(&set, forwarded_signals[i]);
	}
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);

	do
		n = read(fds->go_r, &go, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(125);	/* the supervisor died or gave up */
	close(fds->go_r);

	/*
	 * A cgroup namespace rooted at the cgroups init is in now (the
	 * run's own, when limits made one): /proc/self/cgroup shows "/"
	 * in every hierarchy, never a host path (DESIGN.md §2, "Host
	 * facts").
	 */
	if (unshare(CLONE_NEWCGROUP) < 0)
		sbx_child_fail(status_fd, "cannot create a cgroup namespace");

	hostroot_fd = open(s->root_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (hostroot_fd < 0)
		sbx_child_fail(status_fd, "cannot open '%s'", s->root_dir);

	{
		/*
		 * The layers' upper and work directories are opened now and
		 * named to overlayfs through /proc/self/fd magic links: the
		 * job's /proc/self/mountinfo then shows the same option
		 * strings on every run, not R's random name (DESIGN.md §2,
		 * "Host facts"). The job's ids may also not be able to look
		 * up R (a cache directory of mode 0700): when init changes
		 * its ids below, the lower directories are opened too.
		 */
		bool lower_too = s->userns && s->job_uid != s->host_uid &&
				 s->map_uid != s->host_uid;

		for (i = 0; i < s->nr_layers; i++) {
			char **paths[] = { &s->layers[i].upper, &s->layers[i].work,
					   &s->layers[i].lower };
			size_t k;

			for (k = 0; k < (lower_too ? 3u : 2u); k++) {
				int fd = open(*paths[k], O_PATH | O_DIRECTORY | O_CLOEXEC);

				if (fd < 0)
					sbx_child_fail(status_fd, "cannot open '%s'",
						       *paths[k]);
				/* init's private copy of the plan; not freed. */
				*paths[k] = xasprintf("/proc/self/fd/%d", fd);
			}
		}
		/* the host facts, too: in the cache directory, like R */
		if (s->cfg.hostfacts_dir) {
			int fd = open(s->cfg.hostfacts_dir,
				      O_PATH | O_DIRECTORY | O_CLOEXEC);

			if (fd < 0)
				sbx_child_fail(status_fd, "cannot open '%s'",
					       s->cfg.hostfacts_dir);
			s->cfg.hostfacts_dir = xasprintf("/proc/self/fd/%d", fd);
		}
	}
	if (s->userns && s->job_uid != s->host_uid && s->map_uid != s->host_uid) {
		/*
		 * Untrusted as root: become SBX_UNTRUSTED_ID (mapped from
		 * the same host id) now, so the overlays are mounted with
		 * ids that own their upper directories; keep the
		 * capabilities of the namespace to finish building it.
		 * Supplementary groups of the host (root's) must go:
		 * unmapped, they would still grant access.
		 */
		if (setgroups(0, NULL) < 0)
			sbx_child_fail(status_fd, "cannot clear supplementary groups");
		if (sbx_caps_keep_across_setuid() < 0 ||
		    setresgid(s->job_gid, s->job_gid, s->job_gid) < 0 ||
		    setresuid(s->job_uid, s->job_uid, s->job_uid) < 0 ||
		    sbx_caps_restore_effective() < 0)
			sbx_child_fail(status_fd, "cannot switch to uid %u",
				       (unsigned)s->job_uid);
	}

	umask(022);
	sbx_mounts_build(s, hostroot_fd, status_fd);
	close(hostroot_fd);
	sbx_mounts_mask(s, status_fd);
	sbx_mounts_hide(s, status_fd);
	/*
	 * "localhost": what the host's /etc/hosts resolves, as jobs expect
	 * of their own name (Java's InetAddress.getLocalHost(), Python's
	 * gethostbyname(gethostname()), log4j); Bazel's sandbox does the
	 * same. A name of our own resolved nowhere, with no DNS.
	 */
	if (sethostname("localhost", 9) < 0)
		sbx_child_fail(status_fd, "cannot set the hostname");
	if (!s->cfg.share_net && loopback_up() < 0)
		sbx_child_fail(status_fd, "cannot bring up the loopback interface");

	job = fork();
	if (job < 0)
		sbx_child_fail(status_fd, "cannot fork the job");
	if (job == 0)
		job_main(s, fds);

	/* Init keeps only the status pipe. */
	if (fds->stdin_fd >= 0)
		close(fds->stdin_fd);
	close(fds->stdout_w);
	if (fds->stderr_w != fds->stdout_w)	/* one stream */
		close(fds->stderr_w);
	if (fds->listener_sock >= 0)
		close(fds->listener_sock);

	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&set, &si);

		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			/* To the job's process group (it is a session leader). */
			kill(-job, sig);
			continue;
		}
		for (;;) {
			int status;
			pid_t p = waitpid(-1, &status, WNOHANG);

			if (p <= 0)
				break;
			if (p == job) {
				sbx_status_send(status_fd, 'W', status, NULL);
				/* Our exit kills what is left in the namespace. */
				_exit(0);
			}
		}
	}
}

/*
 * The tracer with a real seccomp filter and real notifications, without
 * the sandbox: a driver forks, installs the filter in the child (as the
 * sandbox's job does), passes the listener over a socketpair, execs
 * tests/helpers/tr-calls (raw system calls) or tr-fast (the libc
 * functions the fast path interposes), and serves the notifications with
 * the handle hook. With zero layers every path is host state.
 *
 * Every test runs twice: with the fast path forced off, and with it on
 * (the built library preloaded, the channel named by
 * PROCACHE_FAST_CHANNEL): the observations must be the same.
 */
#include "tests/unit/unit.h"

#include <errno.h>
#include <linux/openat2.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/dirlist.h"
#include "common/path.h"
#include "sandbox/trace.h"

static char helper[4096], fast_helper[4096], fast_static[4096], fast_lib[4096];
/* The mode of the test at hand (RUN_BOTH). */
static bool fast_mode;

static int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	char byte = 'f';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/*
 * Run tr-calls ARGS under a new tracer; returns it after trace_finish.
 * *@status gets the wait status, *@out (when not NULL) the helper's stdout.
 */
static struct trace *run_prog(const char *prog, const struct trace_config *cfg0,
			      int *status, struct strbuf *out, const char *const *args)
{
	struct trace_config cfg = *cfg0;
	const char *priv[16];
	struct trace *t;
	struct sbx_tracer h;
	int sp[2], op[2], lfd;
	pid_t pid;
	struct strbuf err = STRBUF_INIT;

	if (fast_mode && cfg.trace && !cfg.untrusted) {
		/* ld.so's open of the built library is not the job's input */
		size_t i;

		for (i = 0; i < cfg.nr_private_paths && i < 15; i++)
			priv[i] = cfg.private_paths[i];
		priv[i++] = fast_lib;
		cfg.private_paths = priv;
		cfg.nr_private_paths = i;
		cfg.fast = true;
		cfg.fast_dir = unit_tmpdir();
	}
	t = trace_new(&cfg);
	h = trace_hooks(t);

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0 ||
	    pipe2(op, O_CLOEXEC) < 0)
		die_errno("socketpair");
	pid = fork();
	if (pid < 0)
		die_errno("fork");
	if (!pid) {
		const char *argv[32];
		size_t i;

		if (trace_fast_channel(t)) {
			setenv("LD_PRELOAD", fast_lib, 1);
			setenv("PROCACHE_FAST_CHANNEL", trace_fast_channel(t), 1);
		}
		argv[0] = prog;
		for (i = 0; args[i] && i < 30; i++)
			argv[i + 1] = args[i];
		argv[i + 1] = NULL;
		dup2(op[1], 1);
		/* as the sandbox: only the hand-over socket stays above 2 */
		for (int fd = 3; fd < 1024; fd++)
			if (fd != sp[1])
				close(fd);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			_exit(120);
		lfd = h.install(h.ctx);
		if (lfd < 0) {
			fprintf(stderr, "install: %s\n", strerror(-lfd));
			_exit(121);
		}
		if (lfd > 0) {
			if (send_fd(sp[1], lfd) < 0)
				_exit(122);
			close(lfd);
		}
		execv(prog, (char *const *)argv);
		_exit(127);
	}
	close(sp[1]);
	close(op[1]);
	lfd = cfg.trace ? recv_fd(sp[0]) : -1;
	close(sp[0]);
	if (lfd >= 0) {
		for (;;) {
			struct pollfd p = { .fd = lfd, .events = POLLIN };

			if (poll(&p, 1, -1) < 0) {
				if (errno == EINTR)
					continue;
				die_errno("poll");
			}
			if (p.revents & POLLIN) {
				if (h.handle(h.ctx, lfd) < 0)
					break;
				continue;
			}
			if (p.revents & (POLLHUP | POLLERR))
				break;
		}
		close(lfd);
	}
	if (out)
		strbuf_read_fd(out, op[0], 0);
	close(op[0]);
	if (waitpid(pid, status, 0) < 0)
		die_errno("waitpid");
	if (trace_finish(t, &err) < 0)
		die("trace_finish: %s", err.buf);
	strbuf_release(&err);
	return t;
}

static struct trace *run_traced(const struct trace_config *cfg, int *status,
				struct strbuf *out, const char *const *args)
{
	return run_prog(helper, cfg, status, out, args);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const struct trace_obs *find_obs(const struct trace *t,
					enum trace_obs_kind k, const char *path)
{
	size_t i;

	for (i = 0; i < trace_nr_obs(t); i++) {
		const struct trace_obs *o = trace_obs_at(t, i);

		if (o->kind == k && !strcmp(o->path, path))
			return o;
	}
	return NULL;
}

/* Observations of paths under @dir (the helper's own exec is recorded too). */
static size_t nr_obs_under(const struct trace *t, const char *dir)
{
	size_t i, n = 0;

	for (i = 0; i < trace_nr_obs(t); i++)
		if (path_has_prefix_component(trace_obs_at(t, i)->path, dir))
			n++;
	return n;
}

static bool has_taint(const struct trace *t, const char *needle)
{
	size_t i;

	for (i = 0; i < trace_nr_taints(t); i++)
		if (strstr(trace_taint_at(t, i), needle))
			return true;
	return false;
}

static void dump(const struct trace *t)
{
	size_t i;

	for (i = 0; i < trace_nr_obs(t); i++) {
		const struct trace_obs *o = trace_obs_at(t, i);

		printf("#   %s %s (%s)%s%s\n", trace_obs_kind_name(o->kind), o->path,
		       o->syscall, o->value ? " -> " : "", o->value ? o->value : "");
	}
	for (i = 0; i < trace_nr_taints(t); i++)
		printf("#   taint: %s\n", trace_taint_at(t, i));
}

#define HAS(t, k, p) CHECK(find_obs((t), (k), (p)) != NULL)
#define HASNT(t, k, p) CHECK(find_obs((t), (k), (p)) == NULL)

static const struct trace_config plain = { .trace = true };

static char *fixture(const char *dir, const char *name, const char *content)
{
	char *p = path_join(dir, name);

	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write_full(fd, content, strlen(content)) < 0)
		die_errno("cannot write %s", p);
	close(fd);
	return p;
}

#define RUN_T(out, ...) run_traced(&plain, &status, (out), (const char *const[]){ __VA_ARGS__, NULL })
#define RUN_F(out, ...) run_prog(fast_helper, &plain, &status, (out), \
				 (const char *const[]){ __VA_ARGS__, NULL })

/* Each test with the fast path off, then on. */
#define RUN_BOTH(fn)                                                         \
	do {                                                                 \
		fast_mode = false;                                           \
		unit_run(__FILE__, #fn, fn);                                 \
		fast_mode = true;                                            \
		unit_run(__FILE__, #fn " (fast path)", fn);                  \
	} while (0)

TEST(test_open_content)
{
	const char *d = unit_tmpdir();
	_cleanup_free_ char *f = fixture(d, "in", "hello\n");
	_cleanup_free_ char *missing = path_join(d, "missing");
	int status;
	struct trace *t = RUN_T(NULL, "open", f);
	const struct trace_obs *o = find_obs(t, TRACE_CONTENT, f);
	struct pc_hash h;

	CHECK_EQ_INT(WEXITSTATUS(status), 0);
	if (CHECK(o)) {
		CHECK_EQ_STR(o->syscall, "open");
		CHECK(o->hashed);
		pc_hash_buffer("hello\n", 6, &h);
		CHECK(pc_hash_equal(&h, &o->hash));
	}
	CHECK_EQ_INT(trace_nr_taints(t), 0);
	trace_free(t);
	t = RUN_T(NULL, "open", missing);
	HAS(t, TRACE_ABSENT, missing);
	trace_free(t);
}

TEST(test_openat_dirfd_and_flags)
{
	const char *d = unit_tmpdir();
	_cleanup_free_ char *f = fixture(d, "in", "x");
	_cleanup_free_ char *nf = path_join(d, "new");
	int status;
	struct trace *t;

	t = RUN_T(NULL, "openat-dirfd", d, "in");
	HAS(t, TRACE_CONTENT, f);
	trace_free(t);
	/* creat: O_CREAT|O_TRUNC: an output: absent, with what creating it
	 * gives (mode after the umask, owner) and its directory */
	t = RUN_T(NULL, "creat", nf);
	HASNT(t, TRACE_ABSENT, nf);
	HAS(t, TRACE_OUTPUT, nf);
	{
		const struct trace_obs *o = find_obs(t, TRACE_OUTPUT, nf);
		struct stat dst;
		CHECK(o && o->st.st_mode == 0 && o->create);
		CHECK(o && o->create_uid == getuid());
		CHECK(lstat(d, &dst) == 0 && o && o->parent.st_ino == dst.st_ino);
	}
	trace_free(t);
	unlink(nf);
	/* O_CREAT without O_TRUNC: the prior bytes would survive: absent */
	t = RUN_T(NULL, "create-append", nf);
	HAS(t, TRACE_ABSENT, nf);
	HAS(t, TRACE_STAT, d);
	trace_free(t);
	unlink(nf);
	t = RUN_T(NULL, "creat", f); /* existing: an output, regular file */
	HAS(t, TRACE_OUTPUT, f);
	CHECK(find_obs(t, TRACE_OUTPUT, f) && S_ISREG(find_obs(t, TRACE_OUTPUT, f)->st.st_mode));
	trace_free(t);
	t = RUN_T(NULL, "trunc", f);
	HAS(t, TRACE_OUTPUT, f);
	HASNT(t, TRACE_CONTENT, f);
	HASNT(t, TRACE_STAT, f);
	trace_free(t);
	t = RUN_T(NULL, "append", f); /* prior bytes survive: content */
	HAS(t, TRACE_CONTENT, f);
	trace_free(t);
	t = RUN_T(NULL, "opath", f);
	HAS(t, TRACE_STAT, f);
	HASNT(t, TRACE_CONTENT, f);
	trace_free(t);
	t = RUN_T(NULL, "excl", f);
	HAS(t, TRACE_STAT, f);
	trace_free(t);
	t = RUN_T(NULL, "tmpfile", d);
	HAS(t, TRACE_STAT, d);
	trace_free(t);
	t = RUN_T(NULL, "fstat-empty", f);
	HAS(t, TRACE_STAT, f);
	trace_free(t);
}

TEST(test_symlink_chain)
{
	const char *d = unit_tmpdir();
	_cleanup_free_ char *f = fixture(d, "target", "t");
	_cleanup_free_ char *l1 = path_join(d, "l1");
	_cleanup_free_ char *l2 = path_join(d, "l2");
	_cleanup_free_ char *sub = path_join(d, "sub");
	_cleanup_free_ char *lsub = path_join(d, "lsub");
	_cleanup_free_ char *viadir = path_join(d, "lsub/x");
	_cleanup_free_ char *realx = path_join(d, "sub/x");
	int status;
	struct trace *t;
	const struct trace_obs *o;

	CHECK(!symlink("target", l1));
	CHECK(!symlink(l1, l2));
	CHECK(!mkdir(sub, 0755));
	CHECK(!symlink("sub", lsub));
	free(fixture(d, "sub/x", "x"));
	t = RUN_T(NULL, "open", l2);
	o = find_obs(t, TRACE_SYMLINK, l2);
	if (CHECK(o))
		CHECK_EQ_STR(o->value, l1);
	o = find_obs(t, TRACE_SYMLINK, l1);
	if (CHECK(o))
		CHECK_EQ_STR(o->value, "target");
	HAS(t, TRACE_CONTENT, f);
	HASNT(t, TRACE_CONTENT, l2);
	trace_free(t);
	t = RUN_T(NULL, "open", viadir);
	HAS(t, TRACE_SYMLINK, lsub);
	HAS(t, TRACE_CONTENT, realx);
	trace_free(t);
	/* not followed: O_NOFOLLOW, lstat, readlinkat */
	t = RUN_T(NULL, "nofollow", l1);
	HAS(t, TRACE_SYMLINK, l1);
	HASNT(t, TRACE_CONTENT, f);
	trace_free(t);
	t = RUN_T(NULL, "lstat", l1);
	HAS(t, TRACE_SYMLINK, l1);
	HASNT(t, TRACE_STAT, f);
	trace_free(t);
	t = RUN_T(NULL, "readlinkat", l1);
	HAS(t, TRACE_SYMLINK, l1);
	trace_free(t);
	t = RUN_T(NULL, "readlinkat", f); /* EINVAL on a non-link: stat */
	HAS(t, TRACE_STAT, f);
	trace_free(t);
	t = RUN_T(NULL, "stat", l1);
	HAS(t, TRACE_SYMLINK, l1);
	HAS(t, TRACE_STAT, f);
	trace_free(t);
}

TEST(test_stat_family_and_probes)
{
	const char *d = unit_tmpdir();
	_cleanup_free_ char *f = fixture(d, "f", "x");
	_cleanup_free_ char *m = path_join(d, "nothing");
	_cleanup_free_ char *notdir = path_join(d, "f/sub");
	int status;
	struct trace *t;

	t = RUN_T(NULL, "statx", f);
	HAS(t, TRACE_STAT, f);
	trace_free(t);
	t = RUN_T(NULL, "faccessat2", m);
	HAS(t, TRACE_ABSENT, m);
	trace_free(t);
	/* ENOTDIR: the file's stat, not an absence (ENOENT is another answer) */
	t = RUN_T(NULL, "stat", notdir);
	HAS(t, TRACE_STAT, f);
	CHECK(find_obs(t, TRACE_ABSENT, notdir) == NULL);
	trace_free(t);
}

TEST(test_listing)
{
	const char *d = unit_tmpdir();
	int status;
	struct trace *t;
	const struct trace_obs *o;
	struct pc_hash h;
	size_t n;

	free(fixture(d, "a", "a"));
	free(fixture(d, "b", "b"));
	t = RUN_T(NULL, "getdents", d);
	o = find_obs(t, TRACE_LISTING, d);
	if (CHECK(o)) {
		CHECK_EQ_INT(o->nr_entries, 2);
		CHECK(o->hashed);
		CHECK(!dirlist_hash_at(AT_FDCWD, d, &h, &n));
		CHECK(pc_hash_equal(&h, &o->hash));
	}
	trace_free(t);
}

TEST(test_rename_link_cwd_procfd)
{
	const char *d = unit_tmpdir();
	_cleanup_free_ char *a = fixture(d, "a", "a");
	_cleanup_free_ char *b = path_join(d, "b");
	_cleanup_free_ char *c = path_join(d, "c");
	_cleanup_free_ char *sub = path_join(d, "sub");
	_cleanup_free_ char *subf = NULL;
	int status;
	struct trace *t;

	CHECK(!mkdir(sub, 0755));
	subf = fixture(sub, "in", "in");
	t = RUN_T(NULL, "linkat", a, c); /* c is created on the host here */
	HAS(t, TRACE_STAT, a);
	HAS(t, TRACE_ABSENT, c);
	trace_free(t);
	t = RUN_T(NULL, "renameat2", a, b);
	HAS(t, TRACE_STAT, a);
	HAS(t, TRACE_ABSENT, b);
	trace_free(t);
	t = RUN_T(NULL, "chdir-open", sub, "in");
	HAS(t, TRACE_CONTENT, subf);
	trace_free(t);
	t = RUN_T(NULL, "fchdir-open", sub, "../sub/in");
	HAS(t, TRACE_CONTENT, subf);
	if (unit_current_failed)
		dump(t);
	trace_free(t);
	t = RUN_T(NULL, "procfd", sub, "in");
	HAS(t, TRACE_CONTENT, subf);
	HASNT(t, TRACE_SYMLINK, "/proc/self");
	trace_free(t);
}

TEST(test_openat2_resolve)
{
	const char *d = unit_tmpdir();
	_cleanup_free_ char *f = fixture(d, "f", "x");
	_cleanup_free_ char *l = path_join(d, "l");
	int status;
	struct trace *t;
	char flags[32];

	CHECK(!symlink("f", l));
	t = RUN_T(NULL, "openat2", d, "l", "0");
	HAS(t, TRACE_SYMLINK, l);
	HAS(t, TRACE_CONTENT, f);
	trace_free(t);
	snprintf(flags, sizeof(flags), "%d", RESOLVE_NO_SYMLINKS);
	t = RUN_T(NULL, "openat2", d, "l", flags); /* ELOOP: no content */
	HASNT(t, TRACE_CONTENT, f);
	trace_free(t);
	snprintf(flags, sizeof(flags), "%d", RESOLVE_BENEATH);
	t = RUN_T(NULL, "openat2", d, "../x", flags); /* EXDEV: nothing */
	CHECK_EQ_INT(nr_obs_under(t, "/tmp") - nr_obs_under(t, d), 0);
	trace_free(t);
}

TEST(test_exec_chain)
{
	const char *d = unit_tmpdir();
	_cleanup_free_ char *script = fixture(d, "s.sh", "#!/usr/bin/env sh\ntrue\n");
	int status;
	struct trace *t;
	struct stat st;
	const char *interp = "/lib64/ld-linux-x86-64.so.2";
	char real[PATH_MAX];

	chmod(script, 0755);
	t = RUN_T(NULL, "exec", script);
	CHECK_EQ_INT(WEXITSTATUS(status), 0);
	HAS(t, TRACE_CONTENT, script);
	HAS(t, TRACE_CONTENT, "/usr/bin/env");
	/* env's PT_INTERP, opened by the kernel without a system call */
	if (!lstat(interp, &st) && S_ISLNK(st.st_mode) && realpath(interp, real))
		HAS(t, TRACE_CONTENT, real);
	/* env execs sh through PATH: probes, then sh's content */
	CHECK(find_obs(t, TRACE_CONTENT, "/usr/bin/sh") || find_obs(t, TRACE_CONTENT, "/bin/sh") ||
	      find_obs(t, TRACE_CONTENT, "/usr/bin/dash"));
	/* ld.so's library probes: content of libc */
	CHECK(find_obs(t, TRACE_CONTENT, "/usr/lib/x86_64-linux-gnu/libc.so.6") ||
	      find_obs(t, TRACE_CONTENT, "/lib/x86_64-linux-gnu/libc.so.6"));
	CHECK_EQ_INT(trace_nr_taints(t), 0);
	if (unit_current_failed)
		dump(t);
	trace_free(t);
	t = RUN_T(NULL, "execveat-empty", "/usr/bin/true");
	HAS(t, TRACE_CONTENT, "/usr/bin/true");
	trace_free(t);
}

TEST(test_processes_threads_uname)
{
	const char *d = unit_tmpdir();
	_cleanup_free_ char *a = fixture(d, "a", "a");
	_cleanup_free_ char *b = fixture(d, "b", "b");
	_cleanup_free_ char *c = fixture(d, "c", "c");
	int status;
	struct trace *t;
	const struct trace_obs *o;

	t = RUN_T(NULL, "fork-open", a, b);
	HAS(t, TRACE_CONTENT, a);
	HAS(t, TRACE_CONTENT, b);
	trace_free(t);
	t = RUN_T(NULL, "threads", a, b, c);
	HAS(t, TRACE_CONTENT, a);
	HAS(t, TRACE_CONTENT, b);
	HAS(t, TRACE_CONTENT, c);
	trace_free(t);
	t = RUN_T(NULL, "uname");
	o = find_obs(t, TRACE_HOSTFACT, "uname.release");
	CHECK(o && o->value && *o->value);
	HASNT(t, TRACE_HOSTFACT, "uname.nodename");
	trace_free(t);
}

TEST(test_overwrite_and_outside_change)
{
	const char *d = unit_tmpdir();
	_cleanup_free_ char *f = fixture(d, "in", "first\n");
	int status;
	struct trace *t;

	/* zero layers: the write reaches the host file, so the tracer sees
	 * the input change under it and must refuse to cache */
	t = RUN_T(NULL, "overwrite", f);
	HAS(t, TRACE_CONTENT, f);
	CHECK(has_taint(t, "input changed during the run"));
	trace_free(t);
}

TEST(test_taints)
{
	const char *d = unit_tmpdir();
	_cleanup_free_ char *sock = path_join(d, "s.sock");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct trace_config untr = { .trace = true, .untrusted = true };
	struct strbuf out = STRBUF_INIT;
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int status;
	struct trace *t;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);
	CHECK(!bind(s, (struct sockaddr *)&sun, sizeof(sun)) && !listen(s, 4));
	t = RUN_T(NULL, "connect", sock);
	CHECK(has_taint(t, "syscall connect: host unix socket"));
	trace_free(t);
	t = run_traced(&untr, &status, &out, (const char *const[]){ "connect", sock, NULL });
	CHECK(strstr(out.buf, "errno=13") != NULL); /* EACCES */
	trace_free(t);
	close(s);
	{
		/* a datagram to a host socket named in sendmsg's msg_name */
		_cleanup_free_ char *dsock = path_join(d, "d.sock");
		struct sockaddr_un dsun = { .sun_family = AF_UNIX };
		int ds = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		snprintf(dsun.sun_path, sizeof(dsun.sun_path), "%s", dsock);
		CHECK(!bind(ds, (struct sockaddr *)&dsun, sizeof(dsun)));
		t = RUN_T(NULL, "sendmsg-dgram", dsock);
		CHECK(has_taint(t, "syscall sendmsg: host unix socket"));
		trace_free(t);
		strbuf_reset(&out);
		t = run_traced(&untr, &status, &out,
			       (const char *const[]){ "sendmsg-dgram", dsock, NULL });
		CHECK(strstr(out.buf, "errno=13") != NULL);
		trace_free(t);
		close(ds);
	}
	t = RUN_T(NULL, "open", "/proc/meminfo");
	CHECK(has_taint(t, "/proc/meminfo"));
	trace_free(t);
	t = RUN_T(NULL, "open", "/proc/cpuinfo");
	HAS(t, TRACE_CONTENT, "/proc/cpuinfo");
	trace_free(t);
	t = RUN_T(NULL, "open", "/proc/self/status"); /* job-internal */
	CHECK_EQ_INT(trace_nr_obs(t) > 0 ? (int)!!find_obs(t, TRACE_CONTENT, "/proc/self/status") : 0, 0);
	trace_free(t);
	t = RUN_T(NULL, "keyctl"); /* DENY class, trusted: taint */
	CHECK(has_taint(t, "syscall keyctl"));
	trace_free(t);
	strbuf_reset(&out);
	t = run_traced(&untr, &status, &out, (const char *const[]){ "keyctl", NULL });
	CHECK(strstr(out.buf, "errno=1\n") != NULL); /* EPERM */
	trace_free(t);
	strbuf_reset(&out);
	t = run_traced(&untr, &status, &out, (const char *const[]){ "personality", "0x0008", NULL });
	CHECK(strstr(out.buf, "errno=1\n") != NULL);
	trace_free(t);
	strbuf_release(&out);
}

TEST(test_foreign_abi_killed)
{
	struct trace_config untr = { .trace = true, .untrusted = true };
	struct strbuf out = STRBUF_INIT;
	int status;
	struct trace *t;

	/* SIGSEGV on a kernel without IA32 emulation: int 0x80 never runs */
	t = run_traced(&plain, &status, &out, (const char *const[]){ "i386", NULL });
	CHECK(WIFSIGNALED(status) &&
	      (WTERMSIG(status) == SIGSYS || WTERMSIG(status) == SIGSEGV));
	CHECK(!strstr(out.buf, "i386="));
	trace_free(t);
	strbuf_reset(&out);
	t = run_traced(&untr, &status, &out, (const char *const[]){ "x32", NULL });
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS);
	CHECK(!strstr(out.buf, "x32="));
	trace_free(t);
	strbuf_release(&out);
}

TEST(test_layers_job_state)
{
	/* a fake layer: mountpoint/lower = L, upper = U; what U holds is job state */
	const char *low = unit_tmpdir(), *up = unit_tmpdir();
	_cleanup_free_ char *host = fixture(low, "host", "h");
	_cleanup_free_ char *mine = fixture(low, "mine", "lower");
	_cleanup_free_ char *mine_up = fixture(up, "mine", "upper");
	_cleanup_free_ char *newdir = path_join(up, "newdir");
	_cleanup_free_ char *injob = path_join(low, "newdir/x");
	struct sbx_layer l = { .mountpoint = (char *)low, .lower = (char *)low,
			       .upper = (char *)up, .work = NULL };
	struct trace_config cfg = { .trace = true, .layers = &l, .nr_layers = 1 };
	int status;
	struct trace *t;

	CHECK(!mkdir(newdir, 0755));
	t = run_traced(&cfg, &status, NULL, (const char *const[]){ "open", host, NULL });
	HAS(t, TRACE_CONTENT, host);
	trace_free(t);
	t = run_traced(&cfg, &status, NULL, (const char *const[]){ "open", mine, NULL });
	CHECK_EQ_INT(nr_obs_under(t, low), 0);
	trace_free(t);
	/* under a directory the job created (absent in lower): no absent probe */
	t = run_traced(&cfg, &status, NULL, (const char *const[]){ "stat", injob, NULL });
	HASNT(t, TRACE_ABSENT, injob);
	trace_free(t);
	/* a merged directory (in upper, not opaque, a directory in lower) is
	 * still host state: its host listing is recorded */
	{
		_cleanup_free_ char *merged_up = path_join(up, "m");
		_cleanup_free_ char *merged_low = path_join(low, "m");
		_cleanup_free_ char *opq_up = path_join(up, "o");
		_cleanup_free_ char *opq_low = path_join(low, "o");
		_cleanup_free_ char *opq_file = NULL;
		_cleanup_free_ char *wh = path_join(up, "host");
		_cleanup_free_ char *wh_low = path_join(low, "gone");
		_cleanup_free_ char *wh_up = path_join(up, "gone");

		CHECK(!mkdir(merged_up, 0755) && !mkdir(merged_low, 0755));
		CHECK(!mkdir(opq_up, 0755) && !mkdir(opq_low, 0755));
		CHECK(!setxattr(opq_up, "trusted.overlay.opaque", "y", 1, 0));
		opq_file = fixture(opq_low, "f", "f");
		free(fixture(low, "gone", "g"));
		CHECK(!mknod(wh_up, S_IFCHR | 0000, makedev(0, 0)));
		t = run_traced(&cfg, &status, NULL, (const char *const[]){ "getdents", merged_low, NULL });
		HAS(t, TRACE_LISTING, merged_low);
		trace_free(t);
		t = run_traced(&cfg, &status, NULL, (const char *const[]){ "stat", opq_file, NULL });
		HASNT(t, TRACE_STAT, opq_file); /* under an opaque dir: job state */
		HASNT(t, TRACE_ABSENT, opq_file);
		trace_free(t);
		t = run_traced(&cfg, &status, NULL, (const char *const[]){ "stat", wh_low, NULL });
		HASNT(t, TRACE_STAT, wh_low); /* whited out by the job */
		trace_free(t);
		(void)wh;
	}
	(void)mine_up;
}

/* ---------------------------------------------------------------------- */
/* the fast path: the interposed functions, records against notifications */

/*
 * The observations as sorted lines "kind path value", for comparing a
 * run with the fast path to one without. A stat of a file whose content
 * is recorded is implied by it (trace_record_found()): which came first
 * depends on when a record is read, so it is left out. The system call
 * that made an observation is left out too (the library's stat() is a
 * newfstatat, an old binary's a stat).
 */
static void obs_lines(const struct trace *t, struct strbuf *out)
{
	struct strbuf all = STRBUF_INIT;
	char **lines;
	size_t i, n = 0;

	strbuf_reset(out);
	lines = xcalloc(trace_nr_obs(t) + 1, sizeof(*lines));
	for (i = 0; i < trace_nr_obs(t); i++) {
		const struct trace_obs *o = trace_obs_at(t, i);

		if (o->kind == TRACE_STAT && find_obs(t, TRACE_CONTENT, o->path))
			continue;
		lines[n++] = xasprintf("%s %s %s", trace_obs_kind_name(o->kind), o->path,
				       o->value ? o->value : "");
	}
	qsort(lines, n, sizeof(*lines), cmp_str);
	for (i = 0; i < n; i++) {
		strbuf_addstr(out, lines[i]);
		strbuf_addch(out, '\n');
		free(lines[i]);
	}
	for (i = 0; i < trace_nr_taints(t); i++)
		strbuf_addf(out, "taint %s\n", trace_taint_at(t, i));
	free(lines);
	strbuf_release(&all);
}

/*
 * Run @prog ARGS with the fast path off and on; the observations must be
 * the same. Returns the counts of the run with the fast path.
 */
static struct trace_counts same_both_ways(const char *prog, const struct trace_config *cfg,
					  const char *const *args)
{
	struct strbuf off = STRBUF_INIT, on = STRBUF_INIT;
	struct trace_counts n;
	bool saved = fast_mode;
	int status;
	struct trace *t;

	fast_mode = false;
	t = run_prog(prog, cfg, &status, NULL, args);
	obs_lines(t, &off);
	trace_free(t);
	fast_mode = true;
	t = run_prog(prog, cfg, &status, NULL, args);
	obs_lines(t, &on);
	trace_counts(t, &n);
	fast_mode = saved;
	if (!CHECK_EQ_STR(on.buf, off.buf))
		dump(t);
	trace_free(t);
	strbuf_release(&off);
	strbuf_release(&on);
	return n;
}

/* A tree every lookup kind has something to find in. */
struct fixtures {
	char *dir, *file, *link, *chain, *sub, *subfile, *dirlink, *missing, *notdir;
};

static void fixtures_make(struct fixtures *fx)
{
	fx->dir = xstrdup(unit_tmpdir());
	fx->file = fixture(fx->dir, "f", "file\n");
	fx->link = path_join(fx->dir, "l");
	fx->chain = path_join(fx->dir, "l2");
	fx->sub = path_join(fx->dir, "sub");
	fx->dirlink = path_join(fx->dir, "lsub");
	fx->missing = path_join(fx->dir, "missing");
	fx->notdir = path_join(fx->dir, "f/x");
	CHECK(!symlink("f", fx->link));
	CHECK(!symlink(fx->link, fx->chain));
	CHECK(!mkdir(fx->sub, 0755));
	CHECK(!symlink("sub", fx->dirlink));
	fx->subfile = fixture(fx->sub, "in", "in\n");
}

static void fixtures_release(struct fixtures *fx)
{
	free(fx->dir);
	free(fx->file);
	free(fx->link);
	free(fx->chain);
	free(fx->sub);
	free(fx->subfile);
	free(fx->dirlink);
	free(fx->missing);
	free(fx->notdir);
}

/* Each interposed function, with what it must record, in this mode. */
TEST(test_fast_functions)
{
	struct fixtures fx;
	_cleanup_free_ char *viadir = NULL;
	int status;
	struct trace *t;
	const struct trace_obs *o;
	struct trace_counts n;

	fixtures_make(&fx);
	viadir = path_join(fx.dirlink, "in");
#define EXPECT_RECORDS(t)                                                    \
	do {                                                                 \
		trace_counts((t), &n);                                       \
		if (fast_mode)                                               \
			CHECK(n.records > 0);                                \
	} while (0)
	t = RUN_F(NULL, "open", fx.chain);
	HAS(t, TRACE_SYMLINK, fx.chain);
	HAS(t, TRACE_SYMLINK, fx.link);
	HAS(t, TRACE_CONTENT, fx.file);
	EXPECT_RECORDS(t);
	trace_free(t);
	t = RUN_F(NULL, "fopen", viadir);
	HAS(t, TRACE_SYMLINK, fx.dirlink);
	HAS(t, TRACE_CONTENT, fx.subfile);
	EXPECT_RECORDS(t);
	trace_free(t);
	t = RUN_F(NULL, "openat", fx.sub, "in");
	HAS(t, TRACE_CONTENT, fx.subfile);
	EXPECT_RECORDS(t);
	trace_free(t);
	t = RUN_F(NULL, "open-rel", fx.dir, "l");
	HAS(t, TRACE_SYMLINK, fx.link);
	HAS(t, TRACE_CONTENT, fx.file);
	EXPECT_RECORDS(t);
	trace_free(t);
	t = RUN_F(NULL, "opath", fx.link);
	HAS(t, TRACE_SYMLINK, fx.link);
	HASNT(t, TRACE_CONTENT, fx.file);
	trace_free(t);
	t = RUN_F(NULL, "opendir", fx.sub);
	HAS(t, TRACE_LISTING, fx.sub);
	trace_free(t);
	t = RUN_F(NULL, "opendir", fx.file); /* ENOTDIR: found, not a directory */
	HAS(t, TRACE_CONTENT, fx.file);
	CHECK_EQ_INT(trace_nr_taints(t), 0);
	trace_free(t);
	t = RUN_F(NULL, "stat", fx.link);
	HAS(t, TRACE_SYMLINK, fx.link);
	o = find_obs(t, TRACE_STAT, fx.file); /* the times it showed, too */
	CHECK(o && o->times);
	EXPECT_RECORDS(t);
	trace_free(t);
	t = RUN_F(NULL, "lstat", fx.link);
	HAS(t, TRACE_SYMLINK, fx.link);
	HASNT(t, TRACE_STAT, fx.file);
	EXPECT_RECORDS(t);
	trace_free(t);
	t = RUN_F(NULL, "fstatat", fx.dir, "l");
	HAS(t, TRACE_SYMLINK, fx.link);
	EXPECT_RECORDS(t);
	trace_free(t);
	t = RUN_F(NULL, "fstat", fx.file); /* the open its content, fstat the times */
	HAS(t, TRACE_CONTENT, fx.file);
	o = find_obs(t, TRACE_STAT, fx.file);
	CHECK(o && o->times);
	EXPECT_RECORDS(t);
	trace_free(t);
	t = RUN_F(NULL, "xstat", fx.chain); /* glibc < 2.33's __xstat, __lxstat */
	CHECK_EQ_INT(WEXITSTATUS(status), 0);
	HAS(t, TRACE_SYMLINK, fx.chain);
	HAS(t, TRACE_SYMLINK, fx.link);
	o = find_obs(t, TRACE_STAT, fx.file);
	CHECK(o && o->times);
	EXPECT_RECORDS(t);
	trace_free(t);
	t = RUN_F(NULL, "lstat", fx.sub); /* a directory: notified, found */
	HAS(t, TRACE_STAT, fx.sub);
	trace_free(t);
	t = RUN_F(NULL, "statx", fx.missing);
	HAS(t, TRACE_ABSENT, fx.missing);
	EXPECT_RECORDS(t);
	trace_free(t);
	t = RUN_F(NULL, "stat", fx.notdir); /* ENOTDIR: the file's stat */
	HAS(t, TRACE_STAT, fx.file);
	CHECK(find_obs(t, TRACE_ABSENT, fx.notdir) == NULL);
	trace_free(t);
	t = RUN_F(NULL, "access", fx.file);
	HAS(t, TRACE_STAT, fx.file);
	EXPECT_RECORDS(t);
	trace_free(t);
	t = RUN_F(NULL, "faccessat", fx.missing);
	HAS(t, TRACE_ABSENT, fx.missing);
	EXPECT_RECORDS(t);
	trace_free(t);
	t = RUN_F(NULL, "readlink", fx.chain);
	o = find_obs(t, TRACE_SYMLINK, fx.chain);
	if (CHECK(o))
		CHECK_EQ_STR(o->value, fx.link);
	EXPECT_RECORDS(t);
	trace_free(t);
	t = RUN_F(NULL, "readlinkat", fx.dir, "l");
	o = find_obs(t, TRACE_SYMLINK, fx.link);
	if (CHECK(o))
		CHECK_EQ_STR(o->value, "f");
	EXPECT_RECORDS(t);
	trace_free(t);
	t = RUN_F(NULL, "readlink", fx.file); /* EINVAL: a stat */
	HAS(t, TRACE_STAT, fx.file);
	trace_free(t);
	{
		/* a write made from the page itself is notified all the same */
		_cleanup_free_ char *out = path_join(fx.dir, "out");

		t = RUN_F(NULL, "page-creat", out);
		CHECK_EQ_INT(WEXITSTATUS(status), 0);
		HAS(t, TRACE_OUTPUT, out);
		trace_free(t);
		unlink(out);
	}
	t = RUN_F(NULL, "realpath", viadir); /* glibc: readlink of each prefix */
	HAS(t, TRACE_SYMLINK, fx.dirlink);
	HAS(t, TRACE_STAT, fx.subfile);
	EXPECT_RECORDS(t);
	if (unit_current_failed)
		dump(t);
	trace_free(t);
#undef EXPECT_RECORDS
	fixtures_release(&fx);
}

/* The same observations both ways, for every kind of lookup. */
TEST(test_fast_equivalence)
{
	struct fixtures fx;
	struct trace_counts n;

	if (fast_mode)
		return; /* one test makes both runs */
	fixtures_make(&fx);
	n = same_both_ways(fast_helper, &plain,
			   (const char *const[]){ "lookups", fx.file, fx.link, fx.chain,
						  fx.sub, fx.dirlink, fx.missing, fx.notdir,
						  NULL });
	CHECK(n.records > 0);
	fixtures_release(&fx);
}

/*
 * A write forgets only the lookups that went through the path it wrote
 * (DESIGN §3 "When"): a stat repeated after a write elsewhere is answered
 * from the seen table (no record), one repeated after a write of its own
 * path is published again. The observations are those of the notified
 * path all the same.
 */
TEST(test_fast_forget_per_path)
{
	struct fixtures fx;
	struct trace_counts none, other, own;

	if (fast_mode)
		return; /* one test makes both runs */
	fixtures_make(&fx);
	none = same_both_ways(fast_helper, &plain,
			      (const char *const[]){ "stat-write-stat", "-", fx.file,
						     fx.subfile, NULL });
	other = same_both_ways(fast_helper, &plain,
			       (const char *const[]){ "stat-write-stat", fx.subfile, fx.file,
						      fx.chain, NULL });
	CHECK(none.records >= 2);
	none = same_both_ways(fast_helper, &plain,
			      (const char *const[]){ "stat-write-stat", "-", fx.file,
						     fx.chain, NULL });
	CHECK_EQ_INT((int)other.records, (int)none.records);
	own = same_both_ways(fast_helper, &plain,
			     (const char *const[]){ "stat-write-stat", fx.file, fx.file,
						    fx.chain, NULL });
	/* fx.chain resolves through fx.file (l2 -> l -> f): both again */
	CHECK_EQ_INT((int)own.records, (int)none.records + 2);
	fixtures_release(&fx);
}

/*
 * Programs the library is not in: a static binary, and one exec'd with an
 * empty environment. Everything is notified; nothing is lost.
 */
TEST(test_fast_static_and_cleared_env)
{
	struct fixtures fx;
	int status;
	struct trace *t;
	struct trace_counts n;

	fixtures_make(&fx);
	t = run_prog(fast_static, &plain, &status, NULL,
		     (const char *const[]){ "lookups", fx.chain, fx.missing, NULL });
	CHECK_EQ_INT(WEXITSTATUS(status), 0);
	HAS(t, TRACE_SYMLINK, fx.chain);
	HAS(t, TRACE_CONTENT, fx.file);
	HAS(t, TRACE_ABSENT, fx.missing);
	trace_counts(t, &n);
	CHECK_EQ_INT(n.records, 0);
	trace_free(t);
	t = RUN_F(NULL, "exec-envi", fast_helper, "lookups", fx.chain, fx.missing);
	CHECK_EQ_INT(WEXITSTATUS(status), 0);
	HAS(t, TRACE_SYMLINK, fx.chain);
	HAS(t, TRACE_CONTENT, fx.file);
	HAS(t, TRACE_ABSENT, fx.missing);
	trace_counts(t, &n);
	CHECK_EQ_INT(n.records, 0);
	trace_free(t);
	fixtures_release(&fx);
}

/*
 * A PATH search: each directory's candidate that is not there is a stat
 * from the page and fails there, with no notified execve (DESIGN §3.1
 * "Failed execs"); a candidate found, or in a directory that is a file
 * (ENOTDIR), is the notified execve. The same observations and the same
 * results both ways.
 */
TEST(test_fast_exec_probes)
{
	struct fixtures fx;
	_cleanup_free_ char *path = NULL, *none = NULL, *sub_true = NULL, *sub_nope = NULL;
	struct strbuf out = STRBUF_INIT;
	int status;
	struct trace *t;
	struct trace_counts n;
	const char *const verbs[] = { "execvp", "spawnp" };
	size_t i;

	fixtures_make(&fx);
	path = xasprintf("%s:%s:%s:/usr/bin:/bin", fx.missing, fx.file, fx.sub);
	none = xasprintf("%s:%s", fx.missing, fx.sub);
	sub_true = path_join(fx.sub, "true");
	sub_nope = path_join(fx.sub, "no-such-program");
	for (i = 0; i < ARRAY_SIZE(verbs); i++) {
		t = RUN_F(&out, verbs[i], path, "true");
		CHECK_EQ_INT(WEXITSTATUS(status), 0);
		HAS(t, TRACE_ABSENT, fx.missing);
		HAS(t, TRACE_ABSENT, sub_true);
		CHECK(find_obs(t, TRACE_CONTENT, "/usr/bin/true") ||
		      find_obs(t, TRACE_CONTENT, "/bin/true"));
		CHECK_EQ_INT(trace_nr_taints(t), 0);
		if (i == 1)
			CHECK(strstr(out.buf, "spawnp: Success, status 0") != NULL);
		trace_free(t);
		strbuf_reset(&out);
		/* nothing found: ENOENT, from the page in fast mode */
		t = RUN_F(&out, verbs[i], none, "no-such-program");
		CHECK(strstr(out.buf, ": No such file or directory") != NULL);
		HAS(t, TRACE_ABSENT, fx.missing);
		HAS(t, TRACE_ABSENT, sub_nope);
		trace_counts(t, &n);
		if (fast_mode)
			CHECK(n.records > 0);
		CHECK_EQ_INT(trace_nr_taints(t), 0);
		if (unit_current_failed)
			dump(t);
		trace_free(t);
		strbuf_reset(&out);
	}
	if (!fast_mode) {
		/* one test makes both runs */
		same_both_ways(fast_helper, &plain,
			       (const char *const[]){ "execvp", path, "true", NULL });
		same_both_ways(fast_helper, &plain,
			       (const char *const[]){ "spawnp", none, "no-such-program", NULL });
	}
	strbuf_release(&out);
	fixtures_release(&fx);
}

/* Children that share the parent's memory, and a spawned program. */
TEST(test_fast_vfork_spawn)
{
	struct fixtures fx;
	int status;
	struct trace *t;

	fixtures_make(&fx);
	t = RUN_F(NULL, "vfork-stat", fx.link);
	HAS(t, TRACE_SYMLINK, fx.link);
	HAS(t, TRACE_STAT, fx.file);
	trace_free(t);
	t = RUN_F(NULL, "spawn", fast_helper, "stat", fx.chain);
	HAS(t, TRACE_SYMLINK, fx.chain);
	HAS(t, TRACE_STAT, fx.file);
	trace_free(t);
	fixtures_release(&fx);
}

/* Many threads writing the channel at once, and a channel that overflows. */
TEST(test_fast_threads_overflow)
{
	struct fixtures fx;
	struct trace_config small = { .trace = true, .fast_slots = 2 };
	struct trace_counts n;

	if (fast_mode)
		return; /* both runs here */
	fixtures_make(&fx);
	n = same_both_ways(fast_helper, &plain,
			   (const char *const[]){ "threads", "8", "20", fx.file, fx.chain,
						  fx.missing, fx.notdir, fx.dirlink, NULL });
	CHECK(n.records > 0);
	/* two slots for eight threads: calls go notified, none is lost */
	n = same_both_ways(fast_helper, &small,
			   (const char *const[]){ "threads", "8", "20", fx.file, fx.chain,
						  fx.missing, fx.notdir, fx.dirlink, NULL });
	CHECK(n.fallbacks > 0);
	fixtures_release(&fx);
}

/*
 * A fake layer for the ordering tests: what the upper directory U holds
 * is job state, the rest of the lower directory L host state; U itself is
 * private, as the real upper directory is out of the job's view. Used in
 * place (cfg points into it).
 */
struct fake_layer {
	const char *low, *up;
	struct sbx_layer l;
	const char *priv[1];
	struct trace_config cfg;
};

static void fake_layer_init(struct fake_layer *fl)
{
	fl->low = unit_tmpdir();
	fl->up = unit_tmpdir();
	fl->l = (struct sbx_layer){ .mountpoint = (char *)fl->low, .lower = (char *)fl->low,
				    .upper = (char *)fl->up, .work = NULL };
	fl->priv[0] = fl->up;
	fl->cfg = (struct trace_config){ .trace = true, .layers = &fl->l, .nr_layers = 1,
					 .private_paths = fl->priv, .nr_private_paths = 1 };
}

/*
 * Run the fast helper's ordering case @cmd on @p and @p_up in @fl; check
 * that the job's own @p is neither tainted over nor recorded.
 */
static void job_state_case(struct fake_layer *fl, const char *cmd, const char *p,
			   const char *p_up)
{
	int status;
	struct trace *t = run_prog(fast_helper, &fl->cfg, &status, NULL,
				   (const char *const[]){ cmd, p, p_up, NULL });

	CHECK_EQ_INT(WEXITSTATUS(status), 0);
	CHECK(!has_taint(t, "input changed"));
	HASNT(t, TRACE_ABSENT, p);
	HASNT(t, TRACE_STAT, p);
	if (unit_current_failed)
		dump(t);
	trace_free(t);
}

/* The same for a lying record of the host file @f: it must taint. */
static void host_change_case(struct fake_layer *fl, const char *cmd, const char *f,
			     const char *other)
{
	int status;
	struct trace *t = run_prog(fast_helper, &fl->cfg, &status, NULL,
				   (const char *const[]){ cmd, f, other, NULL });

	CHECK(has_taint(t, "input changed during the run"));
	trace_free(t);
}

/*
 * Ordering (DESIGN §3.1): a record of a call made before a notified
 * write, read after it, is judged by the host state even where the
 * upper directory now has the job's file.
 */
TEST(test_fast_stale_record)
{
	struct fake_layer fl;
	int status;
	struct trace *t;

	if (!fast_mode)
		return; /* it writes the channel itself */
	fake_layer_init(&fl);
	_cleanup_free_ char *p = path_join(fl.low, "later");
	_cleanup_free_ char *p_up = path_join(fl.up, "later");
	_cleanup_free_ char *f = fixture(fl.low, "f", "file\n");

	/* the job stats a missing path, then makes it: the absence stays */
	t = run_prog(fast_helper, &fl.cfg, &status, NULL,
		     (const char *const[]){ "stale-stat", p, p_up, NULL });
	CHECK_EQ_INT(WEXITSTATUS(status), 0);
	HAS(t, TRACE_ABSENT, p); /* not dropped as the job's own state */
	CHECK(!has_taint(t, "input changed"));
	if (unit_current_failed)
		dump(t);
	trace_free(t);
	/* hazard (b): the record saw other data than the host has */
	host_change_case(&fl, "lying-stat", f, NULL);
}

/*
 * Two orders a loaded machine gives, each with the job's own temporary
 * file (in the fake upper directory) and with a host file that changed:
 * - "hole-": a record published behind a position another producer
 *   holds (preempted between taking it and publishing: t5040's rsync
 *   under load) is still judged before the next notified write; here a
 *   stat of the job's temporary file, which the job then renames away.
 *   Judged after, the file would be missing from the host where the
 *   call found it: "input changed during the run".
 * - "inflight-": a record in flight across a write (its generation
 *   older): a path the write found and left the job's own is the job's
 *   state, whichever came first (the job removing its temporary file
 *   while another process stats it).
 * - "inflight-mkdir": the same across a creating write that found the
 *   job's directory there (`cargo test`: each rustc makes
 *   target/debug/deps, EEXIST, while the other looks through it). Judged
 *   as host state, the directory missing from the host where the call
 *   found it made the run "input changed during the run" (t5060, CI's
 *   sanitizer half). The fake lower directory has a file at the path, so
 *   that the job's view (the lower here) finds an object and the fake
 *   upper's directory is the job's (the lower's is no directory).
 * A host change still taints in all of them.
 */
TEST(test_fast_job_state_orders)
{
	static const char *const cases[][3] = {
		{ "hole-stat", ".b.txt.Fbs21x", "hole-lying" },
		{ "inflight-unlink", ".a.txt.hEKHod", "inflight-lying" },
	};
	struct fake_layer fl;
	size_t i;

	if (!fast_mode)
		return;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		fake_layer_init(&fl);
		_cleanup_free_ char *p = path_join(fl.low, cases[i][1]);
		_cleanup_free_ char *p_up = fixture(fl.up, cases[i][1], "x\n");
		_cleanup_free_ char *f = fixture(fl.low, "f", "file\n");
		_cleanup_free_ char *none = path_join(fl.low, "none");

		job_state_case(&fl, cases[i][0], p, p_up);
		host_change_case(&fl, cases[i][2], f, i ? NULL : none);
	}
	fake_layer_init(&fl);
	_cleanup_free_ char *deps = fixture(fl.low, "deps", "a file in the lower\n");
	_cleanup_free_ char *deps_up = path_join(fl.up, "deps");
	_cleanup_free_ char *f = fixture(fl.low, "f", "file\n");

	CHECK_EQ_INT(mkdir(deps_up, 0755), 0);
	job_state_case(&fl, "inflight-mkdir", deps, deps_up);
	/* a failing mkdir of a host file: still forced to host state */
	host_change_case(&fl, "inflight-lying", f, NULL);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Cost of one notified call: N stat() calls of one path, traced vs a filter
 * without notification (deny-only). Prints the numbers as a TAP comment.
 * A benchmark (tests/bench/trace-cost.sh), run only when TRACE_BENCH_N
 * sets N: make check does not time things.
 */
TEST(test_cost_per_call)
{
	const char *n = getenv("TRACE_BENCH_N");
	const char *path = "/usr/include/stdio.h";
	struct trace_config deny = { .trace = false, .untrusted = true };
	double t0, t1, t2;
	int status;
	struct trace *t;

	t0 = now_s();
	t = run_traced(&deny, &status, NULL, (const char *const[]){ "loop-stat", n, path, NULL });
	trace_free(t);
	t1 = now_s();
	t = run_traced(&plain, &status, NULL, (const char *const[]){ "loop-stat", n, path, NULL });
	t2 = now_s();
	CHECK(find_obs(t, TRACE_STAT, path) || find_obs(t, TRACE_ABSENT, path));
	trace_free(t);
	printf("# %s stat calls: untraced %.3f s, traced %.3f s: %.1f us per notified call\n",
	       n, t1 - t0, t2 - t1, ((t2 - t1) - (t1 - t0)) * 1e6 / atof(n));
}

int main(void)
{
	const char *b = getenv("PROCACHE_BUILD");

	b = b && *b ? b : "build";
	snprintf(helper, sizeof(helper), "%s/tests/helpers/tr-calls", b);
	snprintf(fast_helper, sizeof(fast_helper), "%s/tests/helpers/tr-fast", b);
	snprintf(fast_static, sizeof(fast_static), "%s/tests/helpers/tr-fast-static", b);
	snprintf(fast_lib, sizeof(fast_lib), "%s/sandbox/preload/pcfast.so", b);
	/* absolute: the children chdir */
	if (fast_lib[0] != '/') {
		char *abs = path_join(getcwd(NULL, 0), fast_lib);

		snprintf(fast_lib, sizeof(fast_lib), "%s", abs);
		free(abs);
	}
	if (access(helper, X_OK) || access(fast_helper, X_OK) || access(fast_static, X_OK) ||
	    access(fast_lib, R_OK)) {
		printf("not ok 1 - test-trace.c: helpers or %s missing (make test-bins)\n",
		       fast_lib);
		return 1;
	}
	RUN_BOTH(test_open_content);
	RUN_BOTH(test_openat_dirfd_and_flags);
	RUN_BOTH(test_symlink_chain);
	RUN_BOTH(test_stat_family_and_probes);
	RUN_BOTH(test_listing);
	RUN_BOTH(test_rename_link_cwd_procfd);
	RUN_BOTH(test_openat2_resolve);
	RUN_BOTH(test_exec_chain);
	RUN_BOTH(test_processes_threads_uname);
	RUN_BOTH(test_overwrite_and_outside_change);
	RUN_BOTH(test_taints);
	RUN_BOTH(test_foreign_abi_killed);
	RUN_BOTH(test_layers_job_state);
	RUN_BOTH(test_fast_functions);
	RUN(test_fast_equivalence);
	RUN(test_fast_forget_per_path);
	RUN_BOTH(test_fast_static_and_cleared_env);
	RUN_BOTH(test_fast_vfork_spawn);
	RUN_BOTH(test_fast_exec_probes);
	RUN(test_fast_threads_overflow);
	fast_mode = true;
	RUN(test_fast_stale_record);
	RUN(test_fast_job_state_orders);
	fast_mode = false;
	if (getenv("TRACE_BENCH_N") && *getenv("TRACE_BENCH_N"))
		RUN(test_cost_per_call);
	return unit_done();
}

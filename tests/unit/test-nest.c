/*
 * The mechanism of nested caching alone (DESIGN.md §13.1), without a
 * sandbox: a child installs a seccomp filter that notifies execve and
 * hands the listener up; the test, as the supervisor, redirects the
 * child's exec to the replayer with nest_exec_redirect() and answers
 * CONTINUE; the child's "parent" (the test) must then see the recorded
 * bytes on the child's stdout and stderr and the recorded status.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "sandbox/nest.h"
#include "sandbox/nest-exec.h"
#include "sandbox/nest-units.h"
#include "tests/unit/unit.h"

/* A path the child execs: absent, so an exec that is not redirected fails. */
static const char long_path[] = "/nonexistent/procache-test-nest/program";

enum child_setup {
	CHILD_PLAIN,
	CHILD_MERGED,		/* 2>&1 */
	CHILD_SIGTERM_IGNORED,	/* SIGTERM ignored and blocked before exec */
	CHILD_EXECVEAT,		/* execveat(AT_FDCWD, path, ..., 0) */
};

struct outcome {
	struct strbuf out, err;
	int status;
	int redirect;		/* nest_exec_redirect()'s result */
};

static int install_exec_listener(void)
{
	struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execve, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execveat, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(insns), .filter = insns };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			    SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
}

static __attribute__((__noreturn__)) void child(int sock, int out, int err,
					    enum child_setup setup, const char *path)
{
	char *const argv[] = { (char *)"program", (char *)"arg", NULL };
	char *const envp[] = { (char *)"A=1", NULL };
	struct rlimit no_core = { 0, 0 };
	int listener, free_fd;

	setrlimit(RLIMIT_CORE, &no_core);
	if (dup2(out, 1) < 0 || dup2(setup == CHILD_MERGED ? out : err, 2) < 0)
		_exit(90);
	if (setup == CHILD_SIGTERM_IGNORED) {
		sigset_t set;

		signal(SIGTERM, SIG_IGN);
		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigprocmask(SIG_BLOCK, &set, NULL);
	}
	listener = install_exec_listener();
	if (listener < 0 || fd_send(sock, listener) < 0)
		_exit(91);
	close(listener);
	close(sock);
	close(out);
	close(err);
	free_fd = fcntl(0, F_DUPFD_CLOEXEC, 0);
	close(free_fd);
	if (setup == CHILD_EXECVEAT)
		syscall(SYS_execveat, AT_FDCWD, path, argv, envp, 0);
	else
		execve(path, argv, envp);
	/* not redirected: the replayer's fd must not be left behind */
	_exit(fcntl(free_fd, F_GETFD) < 0 && errno == EBADF ? 127 : 92);
}

/* Read both pipes to their ends, so that no writer blocks on a full one. */
static void drain(int out, int err, struct outcome *o)
{
	struct pollfd p[2] = { { .fd = out, .events = POLLIN }, { .fd = err, .events = POLLIN } };
	int open_nr = 2;

	while (open_nr) {
		size_t i;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		for (i = 0; i < 2; i++) {
			char buf[8192];
			ssize_t n;

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n <= 0) {
				p[i].fd = -1;
				open_nr--;
				continue;
			}
			strbuf_add(i ? &o->err : &o->out, buf, (size_t)n);
		}
	}
}

/*
 * Run a child that execs @path, redirected to a replay of @replay when
 * @replay is not NULL (else the exec is answered CONTINUE untouched).
 */
static const char *fd_dir = "/dev/fd";

static void run_child(const struct nest_replay *replay, enum child_setup setup,
		      const char *path, struct outcome *o)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	struct strbuf err = STRBUF_INIT;
	int sv[2], out[2], errp[2], listener, memfd = -1;
	pid_t pid;

	strbuf_init(&o->out, 0);
	strbuf_init(&o->err, 0);
	o->status = -1;
	o->redirect = 1;
	if (!CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0) ||
	    !CHECK(pipe2(out, O_CLOEXEC) == 0) || !CHECK(pipe2(errp, O_CLOEXEC) == 0))
		return;
	pid = fork();
	if (pid == 0)
		child(sv[1], out[1], errp[1], setup, path);
	close(sv[1]);
	close(out[1]);
	close(errp[1]);
	listener = fd_recv(sv[0]);
	close(sv[0]);
	if (CHECK(listener >= 0)) {
		memset(&req, 0, sizeof(req));
		if (CHECK(ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) == 0)) {
			CHECK_EQ_INT(req.data.nr, setup == CHILD_EXECVEAT ? __NR_execveat :
								      __NR_execve);
			if (replay) {
				memfd = nest_replay_memfd(replay, &err);
				CHECK(memfd >= 0);
				o->redirect = nest_exec_redirect(listener, &req, memfd,
								 fd_dir, &err);
				if (memfd >= 0)
					close(memfd);
			}
			memset(&resp, 0, sizeof(resp));
			resp.id = req.id;
			resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
			CHECK(ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) == 0);
		}
		close(listener);
	}
	drain(out[0], errp[0], o);
	close(out[0]);
	close(errp[0]);
	CHECK(waitpid(pid, &o->status, 0) == pid);
	if (err.len)
		fprintf(stderr, "# %s\n", err.buf);
	strbuf_release(&err);
}

static void outcome_release(struct outcome *o)
{
	strbuf_release(&o->out);
	strbuf_release(&o->err);
}

TEST(test_replay_exit_and_streams)
{
	static const struct nest_chunk chunks[] = {
		{ 1, "hello\n", 6 }, { 2, "warning\n", 8 }, { 1, "bye\n", 4 },
	};
	struct nest_replay r = { false, 3, chunks, ARRAY_SIZE(chunks) };
	struct outcome o;

	run_child(&r, CHILD_PLAIN, long_path, &o);
	CHECK_EQ_INT(o.redirect, 0);
	CHECK_EQ_STR(o.out.buf, "hello\nbye\n");
	CHECK_EQ_STR(o.err.buf, "warning\n");
	CHECK(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 3);
	outcome_release(&o);
}

TEST(test_replay_interleaved_on_one_pipe)
{
	static const struct nest_chunk chunks[] = {
		{ 1, "a", 1 }, { 2, "b", 1 }, { 1, "c", 1 }, { 2, "d\n", 2 },
	};
	struct nest_replay r = { false, 0, chunks, ARRAY_SIZE(chunks) };
	struct outcome o;

	run_child(&r, CHILD_MERGED, long_path, &o);
	CHECK_EQ_INT(o.redirect, 0);
	CHECK_EQ_STR(o.out.buf, "abcd\n");
	CHECK_EQ_INT(o.err.len, 0);
	CHECK(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0);
	outcome_release(&o);
}

/* A signal the caller ignored and blocked: the replay still dies of it. */
TEST(test_replay_death_by_signal)
{
	static const struct nest_chunk chunks[] = { { 2, "dying\n", 6 } };
	struct nest_replay r = { true, SIGTERM, chunks, ARRAY_SIZE(chunks) };
	struct outcome o;

	run_child(&r, CHILD_SIGTERM_IGNORED, long_path, &o);
	CHECK_EQ_INT(o.redirect, 0);
	CHECK_EQ_STR(o.err.buf, "dying\n");
	CHECK(WIFSIGNALED(o.status) && WTERMSIG(o.status) == SIGTERM);
	outcome_release(&o);

	r.code = SIGSEGV;
	r.nr_chunks = 0;
	run_child(&r, CHILD_PLAIN, long_path, &o);
	CHECK(WIFSIGNALED(o.status) && WTERMSIG(o.status) == SIGSEGV);
	CHECK(!WCOREDUMP(o.status));
	outcome_release(&o);
}

/* execveat at the cwd, and /proc/self/fd when /dev/fd is not ours. */
TEST(test_replay_execveat_and_proc_fd)
{
	static const struct nest_chunk chunks[] = { { 1, "at\n", 3 } };
	struct nest_replay r = { false, 7, chunks, ARRAY_SIZE(chunks) };
	struct outcome o;

	run_child(&r, CHILD_EXECVEAT, long_path, &o);
	CHECK_EQ_INT(o.redirect, 0);
	CHECK_EQ_STR(o.out.buf, "at\n");
	CHECK(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 7);
	outcome_release(&o);

	fd_dir = "/proc/self/fd";
	run_child(&r, CHILD_PLAIN, long_path, &o);
	fd_dir = "/dev/fd";
	CHECK_EQ_INT(o.redirect, 0);
	CHECK_EQ_STR(o.out.buf, "at\n");
	CHECK(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 7);
	outcome_release(&o);

	/* "/proc/self/fd/N" does not fit where "/dev/fd/N" would */
	fd_dir = "/proc/self/fd";
	run_child(&r, CHILD_PLAIN, "/usr/bin/abcde", &o);
	fd_dir = "/dev/fd";
	CHECK_EQ_INT(o.redirect, -ENAMETOOLONG);
	CHECK(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 127);
	outcome_release(&o);
}

/* More than a pipe holds: the replayer's short writes are continued. */
TEST(test_replay_large_output)
{
	size_t len = 1 << 20, i;
	char *big = xmalloc(len);
	struct nest_chunk chunks[2];
	struct nest_replay r = { false, 0, chunks, 2 };
	struct outcome o;

	for (i = 0; i < len; i++)
		big[i] = (char)('a' + i % 26);
	chunks[0] = (struct nest_chunk){ 1, big, len };
	chunks[1] = (struct nest_chunk){ 2, big, 100 };
	run_child(&r, CHILD_PLAIN, long_path, &o);
	CHECK_EQ_INT(o.redirect, 0);
	CHECK_EQ_MEM(o.out.buf, o.out.len, big, len);
	CHECK_EQ_MEM(o.err.buf, o.err.len, big, 100);
	CHECK(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0);
	outcome_release(&o);
	free(big);
}

/*
 * A path with no room for "/dev/fd/N": nothing is done, the program
 * runs (here: its exec fails), and no fd is left in the caller.
 */
TEST(test_short_path_runs_the_program)
{
	struct nest_replay r = { false, 0, NULL, 0 };
	struct outcome o;

	run_child(&r, CHILD_PLAIN, "/nope", &o);
	CHECK_EQ_INT(o.redirect, -ENAMETOOLONG);
	CHECK(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 127);
	outcome_release(&o);

	/* control: unredirected, the long path fails the same way */
	run_child(NULL, CHILD_PLAIN, long_path, &o);
	CHECK(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 127);
	outcome_release(&o);
}

/* The replayer reads its payload from its own file: none, exit 125. */
TEST(test_replayer_without_payload)
{
	size_t len;
	const unsigned char *elf = nest_replayer(&len);
	int fd = memfd_create("replayer", MFD_CLOEXEC), status;
	pid_t pid;

	if (!CHECK(fd >= 0) || !CHECK(write_full(fd, elf, len) == (ssize_t)len))
		return;
	pid = fork();
	if (pid == 0) {
		char *const argv[] = { (char *)"r", NULL };

		fexecve(fd, argv, argv + 1);
		_exit(99);
	}
	close(fd);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 125);
}

TEST(test_bad_replays_refused)
{
	struct strbuf err = STRBUF_INIT;
	struct nest_chunk bad_fd = { 3, "x", 1 };
	struct nest_replay r = { false, 256, NULL, 0 };

	CHECK_EQ_INT(nest_replay_memfd(&r, &err), -EINVAL);
	r = (struct nest_replay){ true, 0, NULL, 0 };
	CHECK_EQ_INT(nest_replay_memfd(&r, &err), -EINVAL);
	r = (struct nest_replay){ false, 0, &bad_fd, 1 };
	CHECK_EQ_INT(nest_replay_memfd(&r, &err), -EINVAL);
	strbuf_release(&err);
}

static volatile int vfork_shares = -2;

static int vfork_child(void *arg)
{
	(void)arg;
	vfork_shares = nest_shares_vm(getppid(), getpid());
	return 0;
}

/*
 * A vfork child shares the address space (the refusal of §13.1); a fork
 * child does not. clone() on a stack of its own, not vfork(): a
 * sanitizer's runtime may turn vfork() into fork().
 */
TEST(test_shares_vm)
{
	static char stack[64 * 1024] __attribute__((aligned(16)));
	int status;
	pid_t pid;

	pid = clone(vfork_child, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD,
		    NULL);
	if (!CHECK(pid > 0))
		return;
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK_EQ_INT(vfork_shares, 1);

	pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	CHECK_EQ_INT(nest_shares_vm(getpid(), pid), 0);
	kill(pid, SIGKILL);
	CHECK(waitpid(pid, &status, 0) == pid);
}


static int pause_forever(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return 0;
}

/*
 * A child of ours that clones a grandchild with @flags (CLONE_VM,
 * CLONE_FILES or none) and waits; its pid, and the grandchild's on @gc.
 */
static pid_t child_with_clone(int flags, pid_t *gc)
{
	static char stack[64 * 1024] __attribute__((aligned(16)));
	int p[2];
	pid_t pid;

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		pid_t g = clone(pause_forever, stack + sizeof(stack), flags | SIGCHLD, NULL);

		if (write(p[1], &g, sizeof(g)) != sizeof(g))
			_exit(1);
		pause_forever(NULL);
	}
	close(p[1]);
	if (read(p[0], gc, sizeof(*gc)) != sizeof(*gc))
		*gc = -1;
	close(p[0]);
	return pid;
}

TEST(test_exec_sharers)
{
	static const int flags[] = { 0, CLONE_VM, CLONE_FILES };
	static const char *const want[] = {
		"", "shares its memory with process", "shares its fd table with process",
	};
	struct strbuf reason = STRBUF_INIT, err = STRBUF_INIT;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		char expect[96];
		pid_t gc, pid = child_with_clone(flags[i], &gc);
		int status;

		if (!CHECK(pid > 0 && gc > 0))
			return;
		CHECK_EQ_INT(nest_exec_sharers(pid, getpid(), &reason, &err), 0);
		snprintf(expect, sizeof(expect), "%s %d", want[i], (int)gc);
		CHECK_EQ_STR(reason.buf, i ? expect : "");
		/* and the other way round: the grandchild's exec */
		CHECK_EQ_INT(nest_exec_sharers(gc, getpid(), &reason, &err), 0);
		snprintf(expect, sizeof(expect), "%s %d", want[i], (int)pid);
		CHECK_EQ_STR(reason.buf, i ? expect : "");
		kill(gc, SIGKILL);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	strbuf_release(&reason);
	strbuf_release(&err);
}

/* ---------------------------------------------------------------------- */
/* units' bookkeeping (DESIGN §13.2), driven with made-up pids */

static const pid_t of_init[] = { 1 };

/* The next ended unit: its reason ("" when it may be stored), its id. */
static const char *next_end(struct nest_units *u, unsigned *id)
{
	struct nest_unit_end end;

	if (!nest_units_next_ended(u, &end))
		return NULL;
	*id = end.id;
	return end.refused ? end.refused : "";
}

static void child_of(struct nest_units *u, pid_t pid, pid_t parent)
{
	nest_units_proc(u, pid, &parent, 1);
}

/* The job (pid 2), and @n children 10, 11, ... each beginning a unit. */
static struct nest_units *job_with_children(size_t n)
{
	struct nest_units *u = nest_units_new();
	size_t i;

	nest_units_proc(u, 2, of_init, 1);
	for (i = 0; i < n; i++) {
		child_of(u, 10 + (pid_t)i, 2);
		nest_units_exec(u, 10 + (pid_t)i);
	}
	return u;
}

/* A job runner forking two children that touch their own files. */
TEST(test_units_siblings_apart)
{
	struct nest_units *u = nest_units_new();
	enum nest_access kind;
	unsigned a, b, id = 0;

	nest_units_proc(u, 2, of_init, 1);
	child_of(u, 10, 2);
	a = nest_units_exec(u, 10);
	child_of(u, 11, 2);
	b = nest_units_exec(u, 11);
	CHECK(a && b && a != b);
	nest_units_access(u, 10, NEST_READ, "/w/in/a");
	nest_units_access(u, 11, NEST_READ, "/w/in/b");
	nest_units_access(u, 10, NEST_WRITE, "/w/out/a");
	nest_units_access(u, 11, NEST_WRITE, "/w/out/b");
	nest_units_access(u, 10, NEST_READ, "/w/in/a");	/* deduplicated */
	nest_units_access(u, 2, NEST_READ, "/w/in/b");	/* the parent reads: fine */
	nest_units_exit(u, 11);
	nest_units_exit(u, 10);
	CHECK_EQ_STR(next_end(u, &id), "");
	CHECK_EQ_INT(id, b);
	CHECK_EQ_STR(next_end(u, &id), "");
	CHECK_EQ_INT(id, a);
	CHECK(next_end(u, &id) == NULL);
	CHECK_EQ_STR(nest_units_access_at(u, a, 0, &kind), "/w/in/a");
	CHECK_EQ_INT(kind, NEST_READ);
	CHECK_EQ_STR(nest_units_access_at(u, a, 1, &kind), "/w/out/a");
	CHECK_EQ_INT(kind, NEST_WRITE);
	nest_units_free(u);
}

/* A child lists a directory a sibling adds to while both run. */
TEST(test_units_sibling_conflict)
{
	struct nest_units *u = job_with_children(2);
	unsigned id;

	nest_units_access(u, 10, NEST_LIST, "/w/d");
	nest_units_access(u, 11, NEST_WRITE, "/w/d/new");
	nest_units_exit(u, 10);
	nest_units_exit(u, 11);
	CHECK_EQ_STR(next_end(u, &id), "shares state with a process running beside it: /w/d");
	CHECK_EQ_STR(next_end(u, &id),
		     "shares state with a process running beside it: /w/d/new");
	nest_units_free(u);

	/* the same, one after the other: no conflict */
	u = nest_units_new();
	nest_units_proc(u, 2, of_init, 1);
	child_of(u, 11, 2);
	nest_units_exec(u, 11);
	nest_units_access(u, 11, NEST_WRITE, "/w/d/new");
	nest_units_exit(u, 11);
	child_of(u, 10, 2);
	nest_units_exec(u, 10);
	nest_units_access(u, 10, NEST_LIST, "/w/d");
	nest_units_exit(u, 10);
	CHECK_EQ_STR(next_end(u, &id), "");
	CHECK_EQ_STR(next_end(u, &id), "");
	nest_units_free(u);
}

/* Siblings writing the same file; whole components only. */
TEST(test_units_write_write)
{
	struct nest_units *u = job_with_children(3);
	unsigned id;

	nest_units_access(u, 10, NEST_WRITE, "/w/log");
	nest_units_access(u, 11, NEST_WRITE, "/w/log");
	nest_units_access(u, 12, NEST_READ, "/w/logs/x");	/* not beneath /w/log */
	nest_units_exit(u, 10);
	nest_units_exit(u, 11);
	nest_units_exit(u, 12);
	CHECK_EQ_STR(next_end(u, &id), "shares state with a process running beside it: /w/log");
	CHECK_EQ_STR(next_end(u, &id), "shares state with a process running beside it: /w/log");
	CHECK_EQ_STR(next_end(u, &id), "");
	nest_units_free(u);

	/* a directory renamed away under a reader: its components changed */
	u = job_with_children(1);
	nest_units_access(u, 10, NEST_READ, "/w/a/b/c");
	nest_units_access(u, 2, NEST_WRITE, "/w/a");	/* the parent, meanwhile */
	nest_units_exit(u, 10);
	CHECK_EQ_STR(next_end(u, &id), "shares state with a process running beside it: /w/a/b/c");
	nest_units_free(u);
}

/* The parent writes a file before the child runs: the child's view. */
TEST(test_units_parent_wrote_before)
{
	struct nest_units *u = nest_units_new();
	unsigned id;

	nest_units_proc(u, 2, of_init, 1);
	nest_units_access(u, 2, NEST_WRITE, "/w/tmp");
	child_of(u, 10, 2);
	nest_units_exec(u, 10);
	nest_units_access(u, 10, NEST_READ, "/w/tmp");
	nest_units_exit(u, 10);
	CHECK_EQ_STR(next_end(u, &id), "");
	nest_units_free(u);
}

/* Nesting, attribution through silent ancestors, refusals. */
TEST(test_units_nested)
{
	struct nest_units *u = nest_units_new();
	const pid_t chain[] = { 29, 13 };	/* 29 never made a call */
	struct nest_unit_end end;
	unsigned a, c, b, id = 0;

	nest_units_proc(u, 2, of_init, 1);
	child_of(u, 10, 2);
	a = nest_units_exec(u, 10);		/* sh -c '...' */
	child_of(u, 13, 10);
	c = nest_units_exec(u, 13);		/* a command of that shell */
	nest_units_proc(u, 30, chain, 2);	/* its grandchild */
	CHECK(nest_units_known(u, 29));
	nest_units_access(u, 30, NEST_READ, "/w/x");
	child_of(u, 11, 2);
	b = nest_units_exec(u, 11);		/* a sibling of the shell */
	nest_units_refuse(u, 30, "uses a socket");
	nest_units_exit(u, 30);
	nest_units_exit(u, 29);
	nest_units_exit(u, 13);
	CHECK(nest_units_next_ended(u, &end));
	CHECK_EQ_INT(end.id, c);
	CHECK_EQ_INT(end.parent, a);
	CHECK_EQ_INT(end.nr_accesses, 1);
	CHECK_EQ_STR(end.refused, "uses a socket");
	nest_units_exit(u, 10);
	CHECK_EQ_STR(next_end(u, &id), "uses a socket");
	CHECK_EQ_INT(id, a);
	nest_units_exit(u, 11);
	CHECK_EQ_STR(next_end(u, &id), "");
	CHECK_EQ_INT(id, b);
	nest_units_free(u);
}

/* A process left behind, and one whose parent is not known. */
TEST(test_units_escapes)
{
	struct nest_units *u = job_with_children(1);
	unsigned id;

	child_of(u, 12, 10);
	nest_units_exit(u, 10);
	CHECK_EQ_STR(next_end(u, &id), "a process outlived its unit (pid 12)");
	nest_units_free(u);

	u = job_with_children(1);
	nest_units_proc(u, 40, of_init, 1);	/* reparented: whose? */
	nest_units_exit(u, 10);
	CHECK_EQ_STR(next_end(u, &id), "a process whose parent is unknown (pid 40)");
	nest_units_access(u, 99, NEST_READ, "/w/x");	/* no unit open: nothing */
	nest_units_free(u);
}

/* ---------------------------------------------------------------------- */
/* what an exec passes on (DESIGN §13.3, §13.6) */

enum facts_setup { FACTS_PLAIN, FACTS_THREAD, FACTS_SOCKET, FACTS_FILE_OUT };

static void *sleeper(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}

/*
 * A child set up as @setup that tells it is ready on @ready and waits;
 * its facts read into @f, then it is killed.
 */
static int facts_of_child(enum facts_setup setup, struct nest_exec_facts *f,
			  const char *dir)
{
	struct strbuf err = STRBUF_INIT;
	int ready[2], out[2], status, r;
	char c;
	pid_t pid;

	if (pipe2(ready, O_CLOEXEC) < 0 || pipe(out) < 0)
		return -errno;
	pid = fork();
	if (pid == 0) {
		sigset_t set;
		int sv[2], null = open("/dev/null", O_RDWR);

		umask(027);
		if (nice(3) < 0)
			_exit(90);
		signal(SIGUSR2, SIG_IGN);
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		dup2(null, 0);
		dup2(out[1], 1);
		dup2(null, 2);
		if (setup == FACTS_SOCKET && socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0)
			dup2(sv[0], 2);
		if (setup == FACTS_FILE_OUT) {
			int fd = openat(open(dir, O_PATH), "log",
					O_WRONLY | O_CREAT | O_APPEND, 0644);

			if (fd < 0 || write(fd, "abc", 3) != 3)
				_exit(91);
			dup2(fd, 2);
		}
		if (setup == FACTS_THREAD) {
			pthread_t t;

			pthread_create(&t, NULL, sleeper, NULL);
		}
		if (write(ready[1], "r", 1) != 1)
			_exit(92);
		for (;;)
			pause();
	}
	close(ready[1]);
	close(out[1]);
	r = read(ready[0], &c, 1) == 1 ? nest_exec_facts_read(pid, f, &err) : -EIO;
	if (err.len)
		fprintf(stderr, "# %s\n", err.buf);
	strbuf_release(&err);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(ready[0]);
	close(out[0]);
	return r;
}

/* A signal mask of our own, from /proc/self/status (the harness's ignored ones). */
static unsigned long long own_mask(const char *name)
{
	char line[256];
	unsigned long long v = ~0ULL;
	FILE *fp = fopen("/proc/self/status", "r");
	size_t n = strlen(name);

	while (fp && fgets(line, sizeof(line), fp))
		if (!strncmp(line, name, n) && line[n] == ':')
			v = strtoull(line + n + 1, NULL, 16);
	if (fp)
		fclose(fp);
	return v;
}

static const char *field(const struct nest_exec_facts *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->nr; i++)
		if (!strcmp(f->names[i], name))
			return f->values[i].buf;
	return "(none)";
}

TEST(test_exec_facts)
{
	struct nest_exec_facts f, g;
	const char *dir = unit_tmpdir();
	char nice_now[16];

	nest_exec_facts_init(&f);
	if (!CHECK_EQ_INT(facts_of_child(FACTS_PLAIN, &f, dir), 0))
		return;
	CHECK_EQ_INT(f.ppid, getpid());
	CHECK_EQ_INT(f.threads, 1);
	CHECK_EQ_STR(f.refused.buf, "");
	CHECK_EQ_STR(field(&f, "Umask"), "0027");
	/* SIGUSR1 (10) added to what we block, SIGUSR2 (12) to what we ignore */
	CHECK_EQ_INT(strtoull(field(&f, "SigBlk"), NULL, 16), own_mask("SigBlk") | 0x200);
	CHECK_EQ_INT(strtoull(field(&f, "SigIgn"), NULL, 16), own_mask("SigIgn") | 0x800);
	/* nice(3) stops at 19 when the tests run niced already */
	snprintf(nice_now, sizeof(nice_now), "%d",
		 getpriority(PRIO_PROCESS, 0) + 3 > 19 ? 19 : getpriority(PRIO_PROCESS, 0) + 3);
	CHECK_EQ_STR(field(&f, "nice"), nice_now);
	CHECK_EQ_STR(field(&f, "fd0"), "null flags=100002");
	CHECK_EQ_STR(field(&f, "fd1"), "pipe flags=1");
	CHECK_EQ_INT(f.fd[1].kind, NEST_FD_PIPE);
	CHECK(strstr(field(&f, "limits"), "Max open files") != NULL);

	/* the same child again: the same fields */
	nest_exec_facts_init(&g);
	CHECK_EQ_INT(facts_of_child(FACTS_PLAIN, &g, dir), 0);
	CHECK_EQ_INT(g.nr, f.nr);
	for (size_t i = 0; i < f.nr && i < g.nr; i++)
		CHECK_EQ_STR(g.values[i].buf, f.values[i].buf);
	nest_exec_facts_release(&g);
	nest_exec_facts_release(&f);

	nest_exec_facts_init(&f);
	CHECK_EQ_INT(facts_of_child(FACTS_THREAD, &f, dir), 0);
	CHECK_EQ_STR(f.refused.buf, "multi-threaded at exec");
	nest_exec_facts_release(&f);

	nest_exec_facts_init(&f);
	CHECK_EQ_INT(facts_of_child(FACTS_SOCKET, &f, dir), 0);
	CHECK_EQ_STR(f.refused.buf, "fd2 is a terminal, socket, device or directory");
	nest_exec_facts_release(&f);

	nest_exec_facts_init(&f);
	CHECK_EQ_INT(facts_of_child(FACTS_FILE_OUT, &f, dir), 0);
	CHECK_EQ_STR(f.refused.buf, "fd2 is a regular file");
	CHECK_EQ_STR(field(&f, "fd2"), "file flags=102001 pos=3");
	nest_exec_facts_release(&f);

	nest_exec_facts_init(&f);
	CHECK_EQ_INT(nest_exec_facts_read(999999999, &f, NULL), -ENOENT);
	nest_exec_facts_release(&f);
}

/*
 * test-nest --write-replay FILE exit:N|signal:N [FD TEXT]...: write the
 * replayer with that payload to FILE (mode 0755), for the shell tests
 * that run it in the sandbox (tests/t0450-nested.sh).
 */
static int write_replay(int argc, char **argv)
{
	struct nest_chunk chunks[16];
	struct nest_replay r = { false, 0, chunks, 0 };
	struct strbuf err = STRBUF_INIT;
	int memfd, out, i;
	off_t size;

	if (argc < 4 || (argc - 4) % 2 || (argc - 4) / 2 > 16)
		die("usage: test-nest --write-replay FILE exit:N|signal:N [FD TEXT]...");
	r.signaled = !strncmp(argv[3], "signal:", 7);
	r.code = atoi(strchr(argv[3], ':') ? strchr(argv[3], ':') + 1 : "x");
	for (i = 4; i + 1 < argc; i += 2) {
		chunks[r.nr_chunks].fd = atoi(argv[i]);
		chunks[r.nr_chunks].buf = argv[i + 1];
		chunks[r.nr_chunks].len = strlen(argv[i + 1]);
		r.nr_chunks++;
	}
	memfd = nest_replay_memfd(&r, &err);
	if (memfd < 0)
		die("%s", err.buf);
	size = lseek(memfd, 0, SEEK_END);
	out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (out < 0 || size < 0 || lseek(memfd, 0, SEEK_SET) < 0 ||
	    copy_fd_range(memfd, out, (size_t)size) != size || close(out) < 0)
		die_errno("cannot write '%s'", argv[2]);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--write-replay"))
		return write_replay(argc, argv);

	RUN(test_replay_exit_and_streams);
	RUN(test_replay_interleaved_on_one_pipe);
	RUN(test_replay_death_by_signal);
	RUN(test_replay_large_output);
	RUN(test_replay_execveat_and_proc_fd);
	RUN(test_short_path_runs_the_program);
	RUN(test_replayer_without_payload);
	RUN(test_bad_replays_refused);
	RUN(test_shares_vm);
	RUN(test_exec_sharers);
	RUN(test_units_siblings_apart);
	RUN(test_units_sibling_conflict);
	RUN(test_units_write_write);
	RUN(test_units_parent_wrote_before);
	RUN(test_units_nested);
	RUN(test_units_escapes);
	RUN(test_exec_facts);
	return unit_done();
}

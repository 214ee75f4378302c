/*
 * The sandbox through its API, with real namespaces and overlays.
 *
 * Without arguments: unit cases (TAP-like lines, tests/unit/unit.h).
 * With "--run [options] -- CMD...": a driver that runs CMD in the sandbox
 * the way "procache run --no-cache" does (no tracer, no cache), for
 * debugging and for measuring the sandbox alone (tests/bench):
 *	--run-root DIR   where R is created (default $PROCACHE_DIR/run, else
 *	                 /var/tmp/procache-sbx-run); $PROCACHE_DIR is masked
 *	--timeout S --memory BYTES --pids N --net --share-tmp --untrusted
 *	--best-effort-limits --mask PATH --keep -v (print the diff)
 *	--diff-json FILE (the diff as [{"kind","path","mode","size","target"}])
 * Exit status: the job's code, 128+N for signal N, 124 timeout, 125
 * set-up failure (message on stderr).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <seccomp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>

#include "sandbox/sandbox.h"
#include "sandbox/sbx-internal.h"
#include "common/path.h"
#include "tests/unit/unit.h"

extern char **environ;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int driver(int argc, char **argv)
{
	struct sbx_config cfg = {
		.envp = environ, .umask = 022, .stdin_fd = 0, .stdout_fd = 1,
		.stderr_fd = 2,
	};
	const char *masks[64] = { NULL };
	size_t nr_masks = 0;
	char cwd[4096];
	const char *run_root = NULL;
	struct strbuf err = STRBUF_INIT;
	struct sbx_result res;
	struct sbx *s;
	int i, verbose = 0, code;
	const char *diff_json = NULL;
	char *auto_root = NULL;
	double t0, t1, t2;

	for (i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			i++;
			break;
		} else if (!strcmp(a, "--run-root") && i + 1 < argc) {
			run_root = argv[++i];
		} else if (!strcmp(a, "--timeout") && i + 1 < argc) {
			cfg.timeout_s = atof(argv[++i]);
		} else if (!strcmp(a, "--memory") && i + 1 < argc) {
			char *end;

			cfg.memory_bytes = strtoull(argv[++i], &end, 10);
			if (*end == 'K' || *end == 'k')
				cfg.memory_bytes <<= 10;
			else if (*end == 'M' || *end == 'm')
				cfg.memory_bytes <<= 20;
			else if (*end == 'G' || *end == 'g')
				cfg.memory_bytes <<= 30;
		} else if (!strcmp(a, "--pids") && i + 1 < argc) {
			cfg.pids_max = strtoull(argv[++i], NULL, 10);
		} else if (!strcmp(a, "--mask") && i + 1 < argc && nr_masks < 63) {
			masks[nr_masks++] = argv[++i];
		} else if (!strcmp(a, "--net")) {
			cfg.share_net = true;
		} else if (!strcmp(a, "--share-tmp")) {
			cfg.share_tmp = true;
		} else if (!strcmp(a, "--untrusted")) {
			cfg.untrusted = true;
		} else if (!strcmp(a, "--best-effort-limits")) {
			cfg.best_effort_limits = true;
		} else if (!strcmp(a, "--keep")) {
			cfg.keep_run_dir = true;
		} else if (!strcmp(a, "--diff-json") && i + 1 < argc) {
			diff_json = argv[++i];
		} else if (!strcmp(a, "--output") && i + 1 < argc) {
			i++;	/* this driver never applies the diff */
		} else if (!strcmp(a, "--no-cache") || !strcmp(a, "--no-trace")) {
			;	/* what this driver always is */
		} else if (!strcmp(a, "-v")) {
			verbose = 1;
		} else {
			fprintf(stderr, "test-sandbox: unknown option '%s'\n", a);
			return 125;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "test-sandbox: no command\n");
		return 125;
	}
	if (!getcwd(cwd, sizeof(cwd)))
		return 125;
	cfg.argv = argv + i;
	cfg.cwd = cwd;
	cfg.masks = masks;
	if (getenv("PROCACHE_DIR") && nr_masks < 63) {
		/* As the runner does: the cache is hidden, R lives in it. */
		masks[nr_masks++] = getenv("PROCACHE_DIR");
		if (!run_root)
			run_root = auto_root = xasprintf("%s/run", getenv("PROCACHE_DIR"));
	}
	cfg.run_root = run_root ? run_root : "/var/tmp/procache-sbx-run";
	t0 = now_ms();
	sbx_clean_stale(cfg.run_root);	/* as the runner does before a run */
	if (sbx_new(&cfg, &s, &err) < 0) {
		fprintf(stderr, "procache: %s\n", err.buf);
		return 125;
	}
	t1 = now_ms();
	if (sbx_run(s, &res, &err) < 0) {
		fprintf(stderr, "procache: %s\n", err.buf);
		sbx_free(s);
		return 125;
	}
	if (verbose || diff_json) {
		struct sbx_change *ch;
		size_t nr, k;
		cJSON *arr = cJSON_CreateArray();

		for (k = 0; res.limit_notes[k]; k++)
			fprintf(stderr, "procache: note: %s\n", res.limit_notes[k]);
		if (sbx_diff_read(s, &ch, &nr, &err) < 0) {
			fprintf(stderr, "procache: %s\n", err.buf);
			sbx_free(s);
			return 125;
		}
		for (k = 0; k < nr; k++) {
			cJSON *o = cJSON_CreateObject();

			cJSON_AddStringToObject(o, "kind", change_kind_name(ch[k].kind));
			cJSON_AddStringToObject(o, "path", ch[k].path);
			cJSON_AddNumberToObject(o, "mode", ch[k].mode);
			cJSON_AddNumberToObject(o, "size", (double)ch[k].size);
			if (ch[k].target)
				cJSON_AddStringToObject(o, "target", ch[k].target);
			cJSON_AddItemToArray(arr, o);
			if (verbose)
				fprintf(stderr, "%s %s%s%s\n",
					change_kind_name(ch[k].kind), ch[k].path,
					ch[k].target ? " -> " : "",
					ch[k].target ? ch[k].target : "");
		}
		sbx_changes_free(ch, nr);
		if (diff_json) {
			char *txt = cJSON_PrintUnformatted(arr);
			FILE *f = fopen(diff_json, "we");

			if (!f || fputs(txt, f) < 0 || fclose(f) != 0) {
				fprintf(stderr, "procache: cannot write '%s'\n", diff_json);
				return 125;
			}
			free(txt);
		}
		cJSON_Delete(arr);
	}
	if (res.timed_out)
		code = 124;
	else if (WIFSIGNALED(res.wait_status))
		code = 128 + WTERMSIG(res.wait_status);
	else
		code = WEXITSTATUS(res.wait_status);
	if (res.exec_errno)
		fprintf(stderr, "procache: cannot run '%s': %s\n", cfg.argv[0],
			strerror(res.exec_errno));
	t2 = now_ms();
	sbx_free(s);
	if (getenv("SBX_TIMING"))
		fprintf(stderr, "new %.2f ms, run %.2f ms, free %.2f ms\n", t1 - t0,
			t2 - t1, now_ms() - t2);
	strbuf_release(&err);
	free(auto_root);
	return code;
}

/* ----- unit cases ----- */

static const char *run_root;

/* Run @argv in the sandbox; output captured; returns the wait status. */
static int run(char *const *argv, struct sbx **out, struct sbx_result *res,
	       const char *cwd)
{
	struct sbx_config cfg = {
		.argv = argv, .envp = environ, .umask = 022, .stdin_fd = -1,
		.stdout_fd = -1, .stderr_fd = -1, .capture_output = true,
		.run_root = run_root, .cwd = cwd ? cwd : "/",
	};
	struct strbuf err = STRBUF_INIT;
	struct sbx *s;
	int ret;

	ret = sbx_new(&cfg, &s, &err);
	if (!CHECK_EQ_INT(ret, 0)) {
		fprintf(stdout, "# %s\n", err.buf);
		strbuf_release(&err);
		return -1;
	}
	ret = sbx_run(s, res, &err);
	if (!CHECK_EQ_INT(ret, 0))
		fprintf(stdout, "# %s\n", err.buf);
	strbuf_release(&err);
	if (out)
		*out = s;
	else
		sbx_free(s);
	return ret < 0 ? -1 : res->wait_status;
}

static char *slurp(const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	if (strbuf_read_file_at(&sb, AT_FDCWD, path, 64) < 0)
		return xstrdup("<unreadable>");
	return strbuf_detach(&sb, NULL);
}

TEST(test_exit_codes)
{
	char *t[] = { "true", NULL }, *f[] = { "sh", "-c", "exit 3", NULL };
	char *k[] = { "sh", "-c", "kill -9 $$", NULL };
	char *nx[] = { "/nonexistent/cmd", NULL };
	struct sbx_result res;

	CHECK_EQ_INT(run(t, NULL, &res, NULL), 0);
	CHECK_EQ_INT(run(f, NULL, &res, NULL), 3 << 8);
	CHECK_EQ_INT(run(k, NULL, &res, NULL), SIGKILL);
	CHECK_EQ_INT(run(nx, NULL, &res, NULL), 127 << 8);
	CHECK_EQ_INT(res.exec_errno, ENOENT);
}

TEST(test_output_and_view)
{
	char *a[] = { "sh", "-c",
		      "echo pid=$$ host=$(hostname); echo err >&2; exec 1>&-; echo after >&2",
		      NULL };
	struct sbx_result res;
	struct sbx *s = NULL;
	char *o, *e;

	if (!CHECK_EQ_INT(run(a, &s, &res, NULL), 0))
		goto out;
	o = slurp(res.stdout_path);
	e = slurp(res.stderr_path);
	CHECK_EQ_STR(o, "pid=2 host=localhost\n");
	CHECK_EQ_STR(e, "err\nafter\n");
	free(o);
	free(e);
out:
	sbx_free(s);
}

TEST(test_diff_of_writes)
{
	const char *dir = unit_tmpdir();
	char *cwd = xasprintf("%s/w", dir);
	char *script = xasprintf(
		"set -e; echo new > new.txt; echo x >> keep.txt; "
		"chmod 600 mode.txt; rm gone.txt; mkdir sub; ln -s tgt link; "
		"cat keep.txt > /dev/null; : ");
	char *a[] = { "sh", "-c", script, NULL };
	struct sbx_result res;
	struct sbx_change *ch = NULL;
	struct strbuf err = STRBUF_INIT;
	struct sbx *s = NULL;
	size_t nr = 0;
	char *p;

	mkdir(cwd, 0755);
	{
		int dfd = open(cwd, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		CHECK(write_file_atomic_at(dfd, "keep.txt", "k\n", 2, 0644, 0) == 0);
		CHECK(write_file_atomic_at(dfd, "mode.txt", "m\n", 2, 0644, 0) == 0);
		CHECK(write_file_atomic_at(dfd, "gone.txt", "g\n", 2, 0644, 0) == 0);
		close(dfd);
	}

	if (!CHECK_EQ_INT(run(a, &s, &res, cwd), 0)) {
		p = s ? slurp(res.stderr_path) : NULL;
		printf("# stderr: %s\n", p ? p : "");
		free(p);
		goto out;
	}
	if (!CHECK_EQ_INT(sbx_diff_read(s, &ch, &nr, &err), 0))
		goto out;
	if (CHECK_EQ_INT(nr, 6)) {
		const char *want[][2] = {
			{ "delete", "gone.txt" }, { "file", "keep.txt" },
			{ "symlink", "link" }, { "file", "mode.txt" },
			{ "file", "new.txt" }, { "dir", "sub" },
		};
		size_t i;

		for (i = 0; i < nr; i++) {
			char *w = xasprintf("%s/%s", cwd, want[i][1]);

			CHECK_EQ_STR(change_kind_name(ch[i].kind), want[i][0]);
			CHECK_EQ_STR(ch[i].path, w);
			free(w);
		}
	}
	/* The host is untouched. */
	p = xasprintf("%s/gone.txt", cwd);
	CHECK(access(p, F_OK) == 0);
	free(p);
	p = xasprintf("%s/new.txt", cwd);
	CHECK(access(p, F_OK) < 0);
	free(p);
out:
	sbx_changes_free(ch, nr);
	strbuf_release(&err);
	sbx_free(s);
	free(script);
	free(cwd);
}

/* A stand-in tracer: its "listener" is the read end of a pipe. */
struct fake_tracer {
	int fail_with;
	int handled;
	char got;
};

static int fake_install(void *ctx)
{
	struct fake_tracer *t = ctx;
	int p[2];

	if (t->fail_with)
		return -t->fail_with;
	if (pipe2(p, O_CLOEXEC) < 0 || write(p[1], "L", 1) != 1)
		return -errno;
	close(p[1]);
	return p[0];
}

static int fake_handle(void *ctx, int fd)
{
	struct fake_tracer *t = ctx;

	t->handled++;
	if (read(fd, &t->got, 1) != 1)
		return -1;
	return 0;
}

TEST(test_tracer_hooks)
{
	char *a[] = { "sh", "-c", "ls /proc/self/fd | tr '\\n' ' '", NULL };
	struct fake_tracer t = { 0 };
	struct sbx_tracer hooks = { .ctx = &t, .install = fake_install, .handle = fake_handle };
	struct sbx_config cfg = {
		.argv = a, .envp = environ, .umask = 022, .stdin_fd = -1,
		.stdout_fd = -1, .stderr_fd = -1, .capture_output = true,
		.run_root = run_root, .cwd = "/",
	};
	struct strbuf err = STRBUF_INIT;
	struct sbx_result res;
	struct sbx *s;
	char *o;

	if (!CHECK_EQ_INT(sbx_new(&cfg, &s, &err), 0))
		return;
	sbx_set_tracer(s, &hooks);
	if (CHECK_EQ_INT(sbx_run(s, &res, &err), 0)) {
		CHECK_EQ_INT(res.wait_status, 0);
		CHECK(t.handled >= 1);
		CHECK_EQ_INT(t.got, 'L');
		/* The job never holds the listener: only 0, 1, 2 and ls's own. */
		o = slurp(res.stdout_path);
		CHECK_EQ_STR(o, "0 1 2 3 ");
		free(o);
	}
	sbx_free(s);

	t.fail_with = EPERM;
	if (!CHECK_EQ_INT(sbx_new(&cfg, &s, &err), 0))
		return;
	sbx_set_tracer(s, &hooks);
	CHECK_EQ_INT(sbx_run(s, &res, &err), -EPERM);
	CHECK_EQ_STR(err.buf, "cannot install the tracer: Operation not permitted");
	sbx_free(s);
	strbuf_release(&err);
}

/*
 * A tracer whose every thread gives up at once: the job's notified call
 * (uname) must then fail with ENOSYS, not wait forever for an answer
 * (the pool closes the listener when its last thread has failed).
 */
static int failing_install(void *ctx)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
	int fd = -EINVAL;

	(void)ctx;
	if (f && seccomp_rule_add(f, SCMP_ACT_NOTIFY, SCMP_SYS(uname), 0) == 0 &&
	    seccomp_load(f) == 0)
		fd = seccomp_notify_fd(f);
	if (f)
		seccomp_release(f);
	return fd;
}

static int failing_handle(void *ctx, int fd)
{
	int *calls = ctx;

	(void)fd;
	__atomic_add_fetch(calls, 1, __ATOMIC_SEQ_CST);
	return -EIO;
}

TEST(test_tracer_all_threads_fail)
{
	char *a[] = { "sh", "-c", "uname -s; echo uname=$?", NULL };
	int calls = 0;
	struct sbx_tracer hooks = {
		.ctx = &calls, .install = failing_install, .handle = failing_handle,
	};
	struct sbx_config cfg = {
		.argv = a, .envp = environ, .umask = 022, .stdin_fd = -1,
		.stdout_fd = -1, .stderr_fd = -1, .capture_output = true,
		.run_root = run_root, .cwd = "/", .timeout_s = 30,
	};
	struct strbuf err = STRBUF_INIT;
	struct sbx_result res;
	struct sbx *s;
	char *o, *e;

	if (!CHECK_EQ_INT(sbx_new(&cfg, &s, &err), 0))
		return;
	sbx_set_tracer(s, &hooks);
	if (CHECK_EQ_INT(sbx_run(s, &res, &err), 0)) {
		CHECK(!res.timed_out);
		CHECK_EQ_INT(res.wait_status, 0);
		CHECK(calls >= 1);
		o = slurp(res.stdout_path);
		e = slurp(res.stderr_path);
		CHECK_EQ_STR(o, "uname=1\n");
		CHECK(strstr(e, "Function not implemented") != NULL);
		free(o);
		free(e);
	}
	sbx_free(s);
	strbuf_release(&err);
}

TEST(test_clean_stale)
{
	const char *root = unit_tmpdir();
	char *dead = xasprintf("%s/0123456789abcdef", root);
	char *other = xasprintf("%s/not-a-run", root);
	char *lock = xasprintf("%s/lock", dead);
	char *young_tmp = xasprintf("%s/.tmp-0123456789abcdee", root);
	char *young_lock = xasprintf("%s/lock", young_tmp);
	char *alive_dir;
	struct sbx_config cfg = {
		.argv = (char *[]){ "true", NULL }, .envp = environ,
		.stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1,
		.run_root = root, .cwd = "/",
	};
	struct strbuf err = STRBUF_INIT;
	struct sbx *s;
	int fd;

	CHECK(mkdir(dead, 0700) == 0);
	CHECK(mkdir(other, 0700) == 0);
	fd = open(lock, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	close(fd);
	/* A fresh .tmp- dir whose lock is not flocked yet: a runner between
	 * creating its lock and taking it (a concurrent scan removed it). */
	CHECK(mkdir(young_tmp, 0700) == 0);
	fd = open(young_lock, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	close(fd);
	if (!CHECK_EQ_INT(sbx_new(&cfg, &s, &err), 0))
		goto out;
	alive_dir = xstrdup(sbx_run_dir(s));
	CHECK_EQ_INT(sbx_clean_stale(root), 1);
	CHECK(access(dead, F_OK) < 0);
	CHECK(access(other, F_OK) == 0);
	CHECK(access(alive_dir, F_OK) == 0);	/* locked: its owner lives */
	CHECK(access(young_tmp, F_OK) == 0);	/* being set up */
	sbx_free(s);
	CHECK(access(alive_dir, F_OK) < 0);
	{
		/* sbx_free() removed R, trash included */
		char *base = strrchr(alive_dir, '/');
		char *trash = xasprintf("%s/.trash-%s", root, base ? base + 1 : "");

		CHECK(access(trash, F_OK) < 0);
		free(trash);
	}
	/* The next scan, within the minute, is skipped; then it is not. */
	CHECK_EQ_INT(sbx_clean_stale(root), 0);
	{
		char *stamp = xasprintf("%s/.clean-stamp", root);
		char *trash = xasprintf("%s/.trash-0123456789abcdef", root);
		struct timespec old[2] = { { 1, 0 }, { 1, 0 } };

		/* what a runner killed while removing its R leaves */
		CHECK(mkdir(trash, 0700) == 0);
		CHECK(utimensat(AT_FDCWD, stamp, old, 0) == 0);
		CHECK_EQ_INT(sbx_clean_stale(root), 1);	/* the trash */
		CHECK(access(trash, F_OK) < 0);
		free(trash);
		free(stamp);
	}
	free(alive_dir);
out:
	strbuf_release(&err);
	free(dead);
	free(other);
	free(lock);
	free(young_lock);
	free(young_tmp);
}

/*
 * A classic-BPF interpreter for seccomp programs (what libseccomp emits
 * and sandbox/caps.c writes): the action for @d, or 0xdead on an
 * instruction it does not know or a jump out of the program.
 */
static uint32_t bpf_run(const struct sock_filter *p, size_t n, const struct seccomp_data *d)
{
	uint32_t a = 0, x = 0, mem[16] = { 0 };
	size_t pc = 0;

	while (pc < n) {
		const struct sock_filter *i = &p[pc++];
		uint32_t src = BPF_SRC(i->code) == BPF_X ? x : i->k;

		switch (BPF_CLASS(i->code)) {
		case BPF_LD:
			if (BPF_MODE(i->code) == BPF_ABS && BPF_SIZE(i->code) == BPF_W &&
			    i->k + 4 <= sizeof(*d) && !(i->k & 3))
				memcpy(&a, (const char *)d + i->k, 4);
			else if (BPF_MODE(i->code) == BPF_IMM)
				a = i->k;
			else if (BPF_MODE(i->code) == BPF_MEM && i->k < 16)
				a = mem[i->k];
			else
				return 0xdead;
			break;
		case BPF_LDX:
			if (BPF_MODE(i->code) == BPF_IMM)
				x = i->k;
			else if (BPF_MODE(i->code) == BPF_MEM && i->k < 16)
				x = mem[i->k];
			else
				return 0xdead;
			break;
		case BPF_ST:
			if (i->k >= 16)
				return 0xdead;
			mem[i->k] = a;
			break;
		case BPF_STX:
			if (i->k >= 16)
				return 0xdead;
			mem[i->k] = x;
			break;
		case BPF_ALU:
			switch (BPF_OP(i->code)) {
			case BPF_AND: a &= src; break;
			case BPF_OR: a |= src; break;
			case BPF_ADD: a += src; break;
			case BPF_SUB: a -= src; break;
			default: return 0xdead;
			}
			break;
		case BPF_JMP: {
			bool t;

			if (BPF_OP(i->code) == BPF_JA) {
				pc += i->k;
				break;
			}
			switch (BPF_OP(i->code)) {
			case BPF_JEQ: t = a == src; break;
			case BPF_JGT: t = a > src; break;
			case BPF_JGE: t = a >= src; break;
			case BPF_JSET: t = (a & src) != 0; break;
			default: return 0xdead;
			}
			pc += t ? i->jt : i->jf;
			break;
		}
		case BPF_RET:
			return BPF_RVAL(i->code) == BPF_A ? a : i->k;
		case BPF_MISC:
			if (BPF_MISCOP(i->code) == BPF_TAX)
				x = a;
			else
				a = x;
			break;
		default:
			return 0xdead;
		}
	}
	return 0xdead;
}

/* Both kills are a kill: the bad-arch branch is libseccomp's thread kill. */
static uint32_t bpf_action(uint32_t r)
{
	r &= SECCOMP_RET_ACTION_FULL | SECCOMP_RET_DATA;
	return r == SECCOMP_RET_KILL_THREAD ? SECCOMP_RET_KILL_PROCESS : r;
}

/*
 * sandbox/caps.c writes the root job's filter out by hand; libseccomp's
 * build of the same rules (what it built in the job before) must act the
 * same on every ABI, number and flag word.
 */
TEST(test_caps_filter_program)
{
	static const uint32_t arches[] = { SCMP_ARCH_X86, SCMP_ARCH_X32 };
	static const char *const keyring[] = { "keyctl", "add_key", "request_key" };
	static const uint32_t audit[] = { AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64 };
	static const uint64_t flags[] = {
		0, CLONE_NEWUSER, CLONE_NEWUSER | CLONE_NEWNS, SIGCHLD, CLONE_NEWNS,
		0xffffffff00000000ULL, 0x100000000ULL | CLONE_NEWUSER, ~0ULL,
		~(uint64_t)CLONE_NEWUSER,
	};
	const struct scmp_arg_cmp newuser =
		SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER);
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
	const struct sock_filter *mine;
	struct sock_filter *theirs;
	size_t nr_mine, nr_theirs, i, bad = 0, tried = 0, refused = 0;

	CHECK(f != NULL);
	for (i = 0; i < ARRAY_SIZE(arches); i++)
		CHECK(seccomp_arch_add(f, arches[i]) == 0);
	CHECK(seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 1, newuser) == 0);
	CHECK(seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1, newuser) == 0);
	CHECK(seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) == 0);
	for (i = 0; i < ARRAY_SIZE(keyring); i++)
		CHECK(seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM),
				       seccomp_syscall_resolve_name(keyring[i]), 0) == 0);
	int mfd = memfd_create("caps", MFD_CLOEXEC);
	CHECK(mfd >= 0 && seccomp_export_bpf(f, mfd) == 0);
	off_t size = lseek(mfd, 0, SEEK_END);
	CHECK(size > 0 && size % (off_t)sizeof(*theirs) == 0);
	theirs = xmalloc((size_t)size);
	CHECK(pread(mfd, theirs, (size_t)size, 0) == size);
	nr_theirs = (size_t)size / sizeof(*theirs);
	close(mfd);
	seccomp_release(f);
	mine = sbx_caps_filter_code(&nr_mine);

	for (size_t a = 0; a < ARRAY_SIZE(audit); a++)
		for (uint32_t hi = 0; hi < 2; hi++)
			for (uint32_t nr = 0; nr < 1024; nr++)
				for (size_t k = 0; k < ARRAY_SIZE(flags); k++) {
					struct seccomp_data d = {
						.nr = (int)(nr | (hi ? 0x40000000U : 0)),
						.arch = audit[a],
					};
					uint32_t m, t;

					d.args[0] = flags[k];
					m = bpf_action(bpf_run(mine, nr_mine, &d));
					t = bpf_action(bpf_run(theirs, nr_theirs, &d));
					tried++;
					refused += m != SECCOMP_RET_ALLOW;
					if (m != t && bad++ < 5)
						fprintf(stderr, "# arch %#x nr %#x arg0 %#llx: ours %#x, libseccomp %#x\n",
							audit[a], (unsigned)d.nr,
							(unsigned long long)flags[k], m, t);
				}
	CHECK(bad == 0);
	/* the grid reaches every rule: 6 numbers x 2 native ABIs ... */
	CHECK(refused > 2 * 6 * 2);
	CHECK(tried > 0);
	free(theirs);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--run"))
		return driver(argc, argv);
	/* The job's /tmp is private: work where the job sees the host. */
	setenv("TMPDIR", "/var/tmp", 1);
	run_root = xasprintf("%s/run", unit_tmpdir());
	RUN(test_exit_codes);
	RUN(test_output_and_view);
	RUN(test_diff_of_writes);
	RUN(test_tracer_hooks);
	RUN(test_tracer_all_threads_fail);
	RUN(test_clean_stale);
	RUN(test_caps_filter_program);
	return unit_done();
}

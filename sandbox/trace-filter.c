/*
 * The tracer's seccomp filters, built and installed in the job right
 * before execve (trace_install, the install hook): libseccomp's filter
 * from the classification table (sandbox/syscalls.h), which notifies what
 * the tracer observes and refuses what untrusted mode denies, and a small
 * classic-BPF filter under it that admits the native x86_64 ABI only.
 * With the fast path (DESIGN.md §3.1), libseccomp's program is exported
 * and loaded behind the fast path's instruction-pointer rule.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/fs.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/hash.h"
#include "common/le.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "sandbox/syscalls.h"
#include "sandbox/trace-internal.h"

#include "common/banned.h"

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS _IOW('!', 4, uint64_t)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif
#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif
#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif

/*
 * The system-call numbers the filters cover: each of 0..TRACE_NR_SYSCALLS-1
 * gets its rule (a number libseccomp cannot name included), and the ABI
 * filter answers ENOSYS from here up, as a kernel without them would.
 * Native x86_64 numbers end well below (fchmodat2 is 452).
 */
#define TRACE_NR_SYSCALLS 512

/* ioctl's request is an unsigned int: only the low 32 bits of the argument. */
#define IOCTL_REQUEST_MASK 0xffffffffu

/*
 * The requests that show a host file's inode flags (chattr +i, +a, +d...)
 * or its generation: overlayfs answers them from the lower file, and no
 * precondition holds them (the stat, content and xattrs do not change
 * with chattr). The 32-bit numbers too: ext4 and others take them natively.
 */
static const struct {
	unsigned long request;
	const char *name;
} fileattr_ioctls[] = {
	{ FS_IOC_GETFLAGS, "FS_IOC_GETFLAGS" },
	{ FS_IOC32_GETFLAGS, "FS_IOC32_GETFLAGS" },
	{ FS_IOC_FSGETXATTR, "FS_IOC_FSGETXATTR" },
	{ FS_IOC_GETVERSION, "FS_IOC_GETVERSION" },
	{ FS_IOC32_GETVERSION, "FS_IOC32_GETVERSION" },
};

const char *trace_fileattr_ioctl(unsigned long request)
{
	for (size_t i = 0; i < ARRAY_SIZE(fileattr_ioctls); i++)
		if ((request & IOCTL_REQUEST_MASK) == fileattr_ioctls[i].request)
			return fileattr_ioctls[i].name;
	return NULL;
}

/* clone() with any of these flags: notified (trace) or EPERM (untrusted). */
#define NS_FLAGS_LIST                                                        \
	{ CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,          \
	  CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET }

/* build_filter()'s @handoff: no fd is exempted, every sendmsg notified */
#define HANDOFF_BY_OTHER_THREAD (-2)

static int add_rule(scmp_filter_ctx f, uint32_t action, int nr, unsigned cnt,
		    const struct scmp_arg_cmp *cmp)
{
	int r = seccomp_rule_add_array(f, action, nr, cnt, cmp);

	return r == -EEXIST ? 0 : r;
}

/*
 * Nested caching's rules (DESIGN.md §13.2, §13.3), on top of the table's:
 * the end of a unit's root, the bytes a unit writes to fds 1 and 2 (the
 * argument naming the fd it writes to), reads of fd 0, and what could
 * make another fd number write to them or adopt orphans. All PURE in the
 * table.
 */
static int add_nested_rules(scmp_filter_ctx f)
{
	static const struct { const char *name; unsigned arg; } outputs[] = {
		{ "write", 0 }, { "writev", 0 }, { "pwrite64", 0 }, { "pwritev", 0 },
		{ "pwritev2", 0 }, { "sendfile", 0 }, { "vmsplice", 0 },
		{ "splice", 2 }, { "copy_file_range", 2 }, { "tee", 1 },
	};
	/* what reads fd 0 (a unit reading a pipe there is refused) */
	static const struct { const char *name; unsigned arg; } inputs[] = {
		{ "read", 0 }, { "readv", 0 }, { "pread64", 0 }, { "preadv", 0 },
		{ "preadv2", 0 }, { "splice", 0 }, { "sendfile", 1 },
		{ "copy_file_range", 0 }, { "tee", 0 },
	};
	static const char *const always[] = {
		"exit", "exit_group", "dup", "dup2", "dup3",
		/* another process's fds or memory (trace-notify.c) */
		"kcmp", "pidfd_getfd", "process_vm_readv", "process_vm_writev",
		/* restrictions later execs inherit (and prctl PR_SET_SECCOMP) */
		"seccomp", "landlock_restrict_self",
		/* a file lock: state shared with the job's other processes */
		"flock",
		/* an attribute later execs inherit, in no unit key */
		"set_mempolicy",
		/*
		 * System V IPC and POSIX message queues: objects shared with
		 * the job's other processes by key, id or name, not by path
		 * (an mqd or IPC id inherited is an fd above 2, or a number
		 * given: the ids' own calls are here too)
		 */
		"msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semtimedop",
		"semctl", "shmget", "shmat", "shmctl", "mq_open", "mq_unlink",
		/* a socket a peer outside the unit may connect to (connect,
		 * bind, sendto, sendmsg are TRACED already) */
		"listen",
	};
	static const char *const polls[] = {
		"poll", "ppoll", "select", "pselect6", "io_submit", "landlock_add_rule",
	};
	const uint32_t notify = SCMP_ACT_NOTIFY;
	size_t i;
	int r = 0, sn, fd;

	for (i = 0; i < ARRAY_SIZE(always) && r >= 0; i++) {
		sn = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, always[i]);
		if (sn >= 0)
			r = add_rule(f, notify, sn, 0, NULL);
	}
	for (i = 0; i < ARRAY_SIZE(outputs) && r >= 0; i++) {
		sn = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, outputs[i].name);
		for (fd = 1; sn >= 0 && fd <= 2 && r >= 0; fd++) {
			struct scmp_arg_cmp cmp = {
				.arg = outputs[i].arg, .op = SCMP_CMP_MASKED_EQ,
				.datum_a = 0xffffffffu, .datum_b = (uint64_t)fd,
			};

			r = add_rule(f, notify, sn, 1, &cmp);
		}
		/*
		 * And every fd from TRACE_NEST_SAVED_FD up: where shells
		 * save fds 1 and 2 around a redirection (dash, bash:
		 * fcntl(F_DUPFD, 10)), so that a unit whose shell did so
		 * is not refused, yet no byte written through the copy
		 * escapes capture (trace-nest.c). A negative fd, as an
		 * unsigned number, is above it too: EBADF, notified.
		 */
		if (sn >= 0 && r >= 0) {
			struct scmp_arg_cmp cmp = {
				.arg = outputs[i].arg, .op = SCMP_CMP_GE,
				.datum_a = TRACE_NEST_SAVED_FD,
			};

			r = add_rule(f, notify, sn, 1, &cmp);
		}
	}
	for (i = 0; i < ARRAY_SIZE(inputs) && r >= 0; i++) {
		struct scmp_arg_cmp cmp = {
			.arg = inputs[i].arg, .op = SCMP_CMP_MASKED_EQ,
			.datum_a = 0xffffffffu, .datum_b = 0,
		};

		sn = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, inputs[i].name);
		if (sn >= 0)
			r = add_rule(f, notify, sn, 1, &cmp);
	}
	if (r >= 0) {
		/*
		 * And the locks, leases and directory notices: state shared
		 * with the job's other processes (trace_nest_call()).
		 */
		const unsigned long cmds[] = {
			F_DUPFD, F_DUPFD_CLOEXEC, F_SETFL,
			F_GETLK, F_SETLK, F_SETLKW, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW,
			F_SETLEASE, F_NOTIFY,
		};

		sn = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, "fcntl");
		for (i = 0; sn >= 0 && i < ARRAY_SIZE(cmds) && r >= 0; i++) {
			struct scmp_arg_cmp cmp =
				SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, cmds[i]);

			r = add_rule(f, notify, sn, 1, &cmp);
		}
	}
	/*
	 * Every call naming fd 0 (an argument that is an fd number, 0), and
	 * those whose sets of fds are in memory: what could tell a unit
	 * which kind its fd 0 is (DESIGN.md §13.3, "Stdin unseen").
	 */
	for (sn = 0; sn < TRACE_NR_SYSCALLS && r >= 0; sn++) {
		unsigned args = trace_nest_fd_args(sn);

		for (fd = 0; fd < 6 && r >= 0; fd++) {
			struct scmp_arg_cmp cmp[2] = {
				{ .arg = (unsigned)fd, .op = SCMP_CMP_MASKED_EQ,
				  .datum_a = 0xffffffffu, .datum_b = 0 },
				SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS, 0),
			};

			if (args & (1u << fd))
				r = add_rule(f, notify, sn, sn == SYS_mmap ? 2 : 1, cmp);
		}
	}
	for (i = 0; i < ARRAY_SIZE(polls) && r >= 0; i++) {
		sn = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, polls[i]);
		if (sn >= 0)
			r = add_rule(f, notify, sn, 0, NULL);
	}
	/*
	 * statfs() of a path through /dev/stdin tells tmpfs from pipefs:
	 * walked (PURE in the table). The ioctls that take a second fd:
	 * FICLONE as an argument (EINVAL from a pipe, EXDEV from
	 * /dev/null), the others in memory (trace_nest_fd0_call()).
	 */
	if (r >= 0)
		r = add_rule(f, notify, SYS_statfs, 0, NULL);
	if (r >= 0) {
		struct scmp_arg_cmp cmp[2] = {
			SCMP_A1(SCMP_CMP_MASKED_EQ, IOCTL_REQUEST_MASK, FICLONE),
			SCMP_A2(SCMP_CMP_MASKED_EQ, 0xffffffffu, 0),
		};

		r = add_rule(f, notify, SYS_ioctl, 2, cmp);
	}
	/*
	 * The calls that read or change another process's priorities,
	 * limits, scheduling or memory placement (a pid argument not 0;
	 * for the priorities, a `which` other than one process, too): an
	 * effect outside the unit, or an observation of it, which a skip
	 * would not make (trace_nest_call()).
	 */
	for (i = 0; i < ARRAY_SIZE(trace_nest_other_pid) && r >= 0; i++) {
		const struct trace_nest_pid_arg *e = &trace_nest_other_pid[i];
		struct scmp_arg_cmp cmp = { .arg = e->pid_arg, .op = SCMP_CMP_NE, .datum_a = 0 };

		r = add_rule(f, notify, e->nr, 1, &cmp);
		if (r >= 0 && e->which_arg >= 0) {
			struct scmp_arg_cmp w = { .arg = (unsigned)e->which_arg, .op = SCMP_CMP_NE,
						  .datum_a = (uint64_t)e->which_self };

			r = add_rule(f, notify, e->nr, 1, &w);
		}
	}
	/*
	 * FIONBIO on fds 1 and 2, as fcntl's F_SETFL: the open file
	 * description is the parent's and the siblings' too
	 * (trace_nest_call()).
	 */
	for (fd = 1; fd <= 2 && r >= 0; fd++) {
		struct scmp_arg_cmp cmp[2] = {
			SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, (uint64_t)fd),
			SCMP_A1(SCMP_CMP_MASKED_EQ, IOCTL_REQUEST_MASK, FIONBIO),
		};

		r = add_rule(f, notify, SYS_ioctl, 2, cmp);
	}
	for (i = 0; i < ARRAY_SIZE(trace_nest_fd_ioctls) && r >= 0; i++) {
		struct scmp_arg_cmp cmp = SCMP_A1(SCMP_CMP_MASKED_EQ, IOCTL_REQUEST_MASK,
						  trace_nest_fd_ioctls[i]);

		r = add_rule(f, notify, SYS_ioctl, 1, &cmp);
	}
	/*
	 * A process that shares its fd table with another (clone with
	 * CLONE_FILES, not a thread): until one is made, no exec needs
	 * nest_exec_files_sharers()'s walk of the job (trace-nest.c).
	 * clone3 fails with ENOSYS in every mode (above), so glibc uses
	 * clone, whose flags BPF reads.
	 */
	if (r >= 0) {
		struct scmp_arg_cmp cmp = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_FILES | CLONE_THREAD,
						  CLONE_FILES);

		r = add_rule(f, notify, SYS_clone, 1, &cmp);
	}
	for (i = 0; i < 5 && r >= 0; i++) {
		/* PR_SET_MDWE (65), PR_SET_IO_FLUSHER (57): newer than some headers */
		const unsigned long opts[] = {
			PR_SET_CHILD_SUBREAPER, PR_SET_SECCOMP, PR_SET_SECUREBITS, 65, 57,
		};
		struct scmp_arg_cmp cmp = SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, opts[i]);

		sn = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, "prctl");
		if (sn >= 0)
			r = add_rule(f, notify, sn, 1, &cmp);
	}
	return r;
}

/*
 * Build the filter. Trace mode: default ALLOW, every non-PURE call and every
 * number libseccomp cannot name NOTIFY; untrusted: DENY calls EPERM in the
 * filter itself. Deny-only: only the untrusted refusals. @handoff: the fd
 * the listener is sent over (find_handoff_socket()).
 */
static int build_filter(const struct trace *t, int handoff, scmp_filter_ctx *out)
{
	const bool tr = t->cfg.trace, untr = t->cfg.untrusted;
	const uint32_t notify = SCMP_ACT_NOTIFY, eperm = SCMP_ACT_ERRNO(EPERM);
	const unsigned long ns_flags[] = NS_FLAGS_LIST;
	scmp_filter_ctx f;
	const struct trace_sc *tab;
	size_t nr, i;
	int r = 0, n;

	f = seccomp_init(SCMP_ACT_ALLOW);
	if (!f)
		return -ENOMEM;
	if ((r = seccomp_attr_set(f, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0 ||
	    (r = seccomp_attr_set(f, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0)
		goto fail;
	tab = trace_sc_table(&nr);
	for (i = 0; i < nr; i++) {
		const char *name = tab[i].name;
		int sn = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name);

		if (sn == __NR_SCMP_ERROR || sn < 0)
			continue;
		if (!strcmp(name, "clone3")) {
			r = add_rule(f, SCMP_ACT_ERRNO(ENOSYS), sn, 0, NULL);
		} else if (!strcmp(name, "clone")) {
			size_t k;

			for (k = 0; k < ARRAY_SIZE(ns_flags) && r >= 0; k++) {
				struct scmp_arg_cmp cmp =
					SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[k], ns_flags[k]);

				if (untr)
					r = add_rule(f, eperm, sn, 1, &cmp);
				else if (tr)
					r = add_rule(f, notify, sn, 1, &cmp);
			}
		} else if (!strcmp(name, "ioctl")) {
			struct scmp_arg_cmp a1 = SCMP_A1(SCMP_CMP_MASKED_EQ, IOCTL_REQUEST_MASK, TIOCSTI);
			struct scmp_arg_cmp a2 = SCMP_A1(SCMP_CMP_MASKED_EQ, IOCTL_REQUEST_MASK, TIOCLINUX);

			if (untr) {
				r = add_rule(f, eperm, sn, 1, &a1);
				if (r >= 0)
					r = add_rule(f, eperm, sn, 1, &a2);
			} else if (tr) {
				r = add_rule(f, notify, sn, 1, &a1);
				if (r >= 0)
					r = add_rule(f, notify, sn, 1, &a2);
			}
			/* a host file's flags: taint (trace-notify.c) */
			for (size_t k = 0; tr && k < ARRAY_SIZE(fileattr_ioctls) && r >= 0; k++) {
				struct scmp_arg_cmp fa = SCMP_A1(SCMP_CMP_MASKED_EQ, IOCTL_REQUEST_MASK,
								 fileattr_ioctls[k].request);

				r = add_rule(f, notify, sn, 1, &fa);
			}
		} else if (!strcmp(name, "personality")) {
			if (untr) {
				struct scmp_arg_cmp q = SCMP_A0(SCMP_CMP_NE, TRACE_PERSONALITY_QUERY);

				/* queries pass; anything else: the handler decides
				 * (trace) or EPERM (deny-only) */
				r = add_rule(f, tr ? notify : eperm, sn, 1, &q);
			}
		} else if (t->cfg.fast_readlink && !t->cfg.location_dir &&
			   (!strcmp(name, "readlink") || !strcmp(name, "readlinkat"))) {
			/* not notified on request: see trace_config.fast_readlink */
		} else if (!strcmp(name, "getcwd")) {
			/* PURE (the cwd is keyed), but it tells where a job is */
			if (tr && t->cfg.location_dir)
				r = add_rule(f, notify, sn, 0, NULL);
		} else if (!strcmp(name, "sendmsg") || !strcmp(name, "sendmmsg")) {
			/*
			 * Notified, except on the socket the installing thread
			 * hands the listener over with (it sends before the
			 * supervisor can serve us); all of them when another,
			 * unfiltered thread does the hand-over (the sandbox).
			 * With no single such socket, not notified at all
			 * (DESIGN §5).
			 */
			if (tr && handoff == HANDOFF_BY_OTHER_THREAD) {
				r = add_rule(f, notify, sn, 0, NULL);
			} else if (tr && handoff >= 0) {
				struct scmp_arg_cmp other = SCMP_A0(SCMP_CMP_NE, (uint64_t)handoff);

				r = add_rule(f, notify, sn, 1, &other);
			}
		} else if (!strcmp(name, "sendto")) {
			struct scmp_arg_cmp addr = SCMP_A4(SCMP_CMP_NE, 0);

			if (tr)
				r = add_rule(f, notify, sn, 1, &addr);
		} else if (t->fast && (!strcmp(name, "fchmod") || !strcmp(name, "fchown"))) {
			/*
			 * PURE, but a copy-up through an fd changes how a path
			 * classifies: the fast path's records must be judged
			 * before it (DESIGN §3.1 "Ordering").
			 */
			r = add_rule(f, notify, sn, 0, NULL);
		} else {
			switch (tab[i].class) {
			case TRACE_SC_PURE:
				break;
			case TRACE_SC_TRACED:
			case TRACE_SC_TAINT:
				if (tr)
					r = add_rule(f, notify, sn, 0, NULL);
				break;
			case TRACE_SC_DENY:
				if (untr)
					r = add_rule(f, eperm, sn, 0, NULL);
				else if (tr)
					r = add_rule(f, notify, sn, 0, NULL);
				break;
			}
		}
		if (r < 0)
			goto fail;
	}
	if (tr && t->cfg.nested && (r = add_nested_rules(f)) < 0)
		goto fail;
	/* numbers libseccomp cannot name: notified (taint) or refused */
	for (n = 0; n < TRACE_NR_SYSCALLS; n++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, n);

		if (name) {
			free(name);
			continue;
		}
		if (tr)
			r = add_rule(f, notify, n, 0, NULL);
		else if (untr)
			r = add_rule(f, SCMP_ACT_ERRNO(ENOSYS), n, 0, NULL);
		if (r < 0)
			goto fail;
	}
	*out = f;
	return 0;
fail:
	seccomp_release(f);
	return r < 0 ? r : -EINVAL;
}

/*
 * A small classic-BPF filter stacked under libseccomp's (numbers from
 * TRACE_NR_SYSCALLS up: ENOSYS); any ABI but native x86_64 — i386 (int
 * 0x80) and x32 (native arch, numbers with __X32_SYSCALL_BIT, which
 * libseccomp's x86_64 filter lets through to the default action) — kills
 * the process. On a kernel with x32 enabled an
 * x32 openat would otherwise bypass every rule.
 */
static int install_abi_filter(void)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, __X32_SYSCALL_BIT, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		/* numbers past what the main filter covers: as if the
		 * kernel lacked them */
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, TRACE_NR_SYSCALLS, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(code), .filter = code };

	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return -errno;
	return 0;
}

/*
 * The socket the sandbox will send the listener over: the only socket
 * among the job's fds above 2 right before execve (the sandbox closed the
 * rest). -1 when there is not exactly one; HANDOFF_BY_OTHER_THREAD when
 * another thread exists to send it.
 */
static int find_handoff_socket(void)
{
	_cleanup_closedir_ DIR *task = opendir("/proc/self/task");
	int threads = 0;

	/*
	 * A process with more than one thread hands the listener over from
	 * an unfiltered thread (sandbox/init.c): no socket is exempted, so
	 * a job reusing that fd number is seen like any other.
	 */
	while (task && readdir(task))
		threads++;
	if (threads > 3)	/* ".", ".." and this thread */
		return HANDOFF_BY_OTHER_THREAD;

	_cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int found = -1, n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		struct stat st;
		int fd;

		if (!trace_is_digits(e->d_name, strlen(e->d_name)))
			continue;
		fd = atoi(e->d_name);
		if (fd <= 2 || fd == dirfd(d) || fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
			continue;
		found = fd;
		n++;
	}
	return n == 1 ? found : -1;
}

/* A classic-BPF program has at most this many instructions (BPF_MAXINSNS). */
#define BPF_MAX_INSNS 4096

/* libseccomp's filter @f as classic BPF: *@out (malloc'd), *@len instructions. */
static int export_filter(scmp_filter_ctx f, struct sock_filter **out, size_t *len)
{
	_cleanup_close_ int mfd = memfd_create("procache-filter", MFD_CLOEXEC);
	off_t size;
	int r;

	if (mfd < 0)
		return -errno;
	r = seccomp_export_bpf(f, mfd);
	if (r < 0)
		return r;
	size = lseek(mfd, 0, SEEK_END);
	if (size < 0)
		return -errno;
	if (size % (off_t)sizeof(**out) || !size ||
	    (size_t)size / sizeof(**out) > BPF_MAX_INSNS)
		return -E2BIG;
	*out = xmalloc((size_t)size);
	if (pread_full(mfd, *out, (size_t)size, 0) != size) {
		free(*out);
		*out = NULL;
		return -EIO;
	}
	*len = (size_t)size / sizeof(**out);
	return 0;
}

/*
 * Load the program @body (@n instructions), behind the fast path's rule
 * (trace-fast.c) when the fast path is on, with a new listener when
 * tracing: its fd is returned, 0 without one, or -errno.
 */
static int load_program(const struct trace *t, const struct sock_filter *body,
			size_t n)
{
	struct sock_filter *prog = xcalloc(BPF_MAX_INSNS, sizeof(*prog));
	struct sock_fprog fprog;
	size_t pre = 0;
	int r;

	if (t->fast && !(pre = trace_fast_filter(prog, BPF_MAX_INSNS))) {
		r = -E2BIG;
		goto out;
	}
	if (n > BPF_MAX_INSNS - pre) {
		r = -E2BIG;
		goto out;
	}
	memcpy(prog + pre, body, n * sizeof(*prog));
	fprog.len = (unsigned short)(pre + n);
	fprog.filter = prog;
	r = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			 t->cfg.trace ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0, &fprog);
	if (r < 0)
		r = -errno;
out:
	free(prog);
	return r;
}

/*
 * Load libseccomp's filter @f behind the fast path's rule: the program
 * exported, prefixed, and loaded with a new listener, whose fd is
 * returned (or -errno).
 */
static int load_with_fast_rule(const struct trace *t, scmp_filter_ctx f)
{
	_cleanup_free_ struct sock_filter *body = NULL;
	size_t n;
	int r = export_filter(f, &body, &n);

	return r < 0 ? r : load_program(t, body, n);
}

/*
 * Compiled programs kept across runs (trace_config.filter_dir). Building
 * the filter (about 400 rules through libseccomp, then its BPF) in the
 * job cost a fifth of procache's CPU time for a short job, much of it
 * page faults of the job's fresh heap: so it is built once per procache
 * executable and set of options, and afterwards read by the runner from
 * a file before the sandbox forks (the job inherits it in memory).
 *
 * File: DIR/<32 hex>.bpf, named by the XXH3-128 of what the program
 * depends on: the options that change its rules (trace, untrusted, the
 * readlink and getcwd rules, the fast path's fchmod/fchown rule, nested
 * caching's rules), the libseccomp version, and the identity of the executable (the device,
 * inode, size and mtime of /proc/self/exe: a rebuilt procache builds its
 * own). Content: the magic "PCBPF\0\0\1" (8 bytes), the number N of
 * instructions (le32), 4 zero bytes, the XXH3-128 of the instructions
 * (16 bytes), then N struct sock_filter (native layout). Written through
 * a temporary file and a rename; a file that does not match (size,
 * magic, hash) is built again and replaced. The file is as trusted as
 * the rest of the cache directory, whose entries decide what a hit
 * writes (DESIGN.md §5).
 */
#define FILTER_MAGIC "PCBPF\0\0\1"
#define FILTER_HEADER 32

static bool filter_name(const struct trace *t, char hex[PC_HASH_HEX_LEN + 1])
{
	const struct scmp_version *v = seccomp_version();
	struct stat st;
	struct pc_hash h;
	struct {
		char what[16];
		uint8_t tr, untr, no_readlink, getcwd, fast, nested, pad[2];
		uint32_t lib[3], pad2;
		uint64_t dev, ino, size, mtime_s, mtime_ns;
	} id;

	if (stat("/proc/self/exe", &st) < 0 || !v)
		return false;
	memset(&id, 0, sizeof(id));
	memcpy(id.what, "procache-bpf-1", 14);
	id.tr = t->cfg.trace;
	id.untr = t->cfg.untrusted;
	id.no_readlink = t->cfg.fast_readlink && !t->cfg.location_dir;
	id.getcwd = t->cfg.location_dir != NULL;
	id.fast = t->fast != NULL;
	id.nested = t->cfg.trace && t->cfg.nested;	/* 0: the names of before */
	id.lib[0] = v->major;
	id.lib[1] = v->minor;
	id.lib[2] = v->micro;
	id.dev = st.st_dev;
	id.ino = st.st_ino;
	id.size = (uint64_t)st.st_size;
	id.mtime_s = (uint64_t)st.st_mtim.tv_sec;
	id.mtime_ns = (uint64_t)st.st_mtim.tv_nsec;
	pc_hash_buffer(&id, sizeof(id), &h);
	pc_hash_to_hex(&h, hex);
	return true;
}

/* The program in @buf (a file's content), or false when it is not one. */
static bool filter_parse(const struct strbuf *buf, struct sock_filter **out,
			 size_t *len)
{
	const unsigned char *p = (const unsigned char *)buf->buf;
	struct pc_hash h;
	size_t n;

	if (buf->len < FILTER_HEADER || memcmp(p, FILTER_MAGIC, 8))
		return false;
	n = (size_t)le_get(p + 8, 4);
	if (!n || n > BPF_MAX_INSNS || le_get(p + 12, 4) ||
	    buf->len != FILTER_HEADER + n * sizeof(**out))
		return false;
	pc_hash_buffer(p + FILTER_HEADER, n * sizeof(**out), &h);
	if (memcmp(h.b, p + 16, sizeof(h.b)))
		return false;
	*out = xmalloc(n * sizeof(**out));
	memcpy(*out, p + FILTER_HEADER, n * sizeof(**out));
	*len = n;
	return true;
}

void trace_filter_prepare(struct trace *t, const char *dir)
{
	_cleanup_strbuf_ struct strbuf buf = STRBUF_INIT;
	_cleanup_close_ int dfd = -1;
	char hex[PC_HASH_HEX_LEN + 1], name[PC_HASH_HEX_LEN + 5];
	scmp_filter_ctx f = NULL;
	struct pc_hash h;
	int r;

	if (!filter_name(t, hex))
		return;
	snprintf(name, sizeof(name), "%s.bpf", hex);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0)
		return;
	if (strbuf_read_file_at(&buf, dfd, name, 32768) >= 0 &&
	    filter_parse(&buf, &t->prog, &t->prog_len))
		return;

	/* build it as the job would, and keep it */
	if (build_filter(t, HANDOFF_BY_OTHER_THREAD, &f) < 0)
		return;
	r = export_filter(f, &t->prog, &t->prog_len);
	seccomp_release(f);
	if (r < 0)
		return;
	strbuf_reset(&buf);
	strbuf_add(&buf, FILTER_MAGIC, 8);
	unsigned char le[8] = { 0 };
	le_put(le, t->prog_len, 4);
	strbuf_add(&buf, le, 8);
	pc_hash_buffer(t->prog, t->prog_len * sizeof(*t->prog), &h);
	strbuf_add(&buf, h.b, sizeof(h.b));
	strbuf_add(&buf, t->prog, t->prog_len * sizeof(*t->prog));
	(void)write_file_atomic_at(dfd, name, buf.buf, buf.len, 0644, 0);
}

int trace_install(void *ctx)
{
	struct trace *t = ctx;
	scmp_filter_ctx f = NULL;
	int r, fd = 0;
	int handoff = find_handoff_socket();

	/*
	 * The program compiled before the fork is the one build_filter()
	 * makes when another thread hands the listener over (always, in
	 * the sandbox); without tracing no rule depends on the hand-over.
	 */
	if (t->prog && (!t->cfg.trace || handoff == HANDOFF_BY_OTHER_THREAD)) {
		r = install_abi_filter();
		if (r < 0)
			return r;
		r = fd = load_program(t, t->prog, t->prog_len);
		if (r < 0)
			return r;
		goto listener;
	}
	r = build_filter(t, handoff, &f);
	if (r < 0)
		return r;
	r = install_abi_filter();
	if (r < 0) {
		seccomp_release(f);
		return r;
	}
	if (t->fast) {
		/* never untrusted, never without tracing (trace_new) */
		r = fd = load_with_fast_rule(t, f);
		if (r < 0)
			goto out;
	} else {
		/* libseccomp asks for SECCOMP_FILTER_FLAG_NEW_LISTENER itself
		 * when the filter has NOTIFY rules (always, in trace mode) */
		r = seccomp_load(f);
		if (r < 0)
			goto out;
		if (t->cfg.trace)
			fd = seccomp_notify_fd(f);
	}
	seccomp_release(f);
	f = NULL;
listener:
	if (t->cfg.trace) {
		if (fd < 0) {
			r = fd;
			goto out;
		}
		/*
		 * The supervisor answers at once: wake it, and then the job,
		 * on the current CPU (kernel >= 6.6; older kernels refuse,
		 * which only costs speed). The flags are the ioctl's argument
		 * itself, not a pointer to them: a pointer is EINVAL.
		 */
		(void)ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS,
			    (unsigned long)SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
	}
	r = fd;
out:
	if (f)
		seccomp_release(f);
	return r;
}

/*
 * esc-calls CALL [ARG...]: makes one hostile system call, as an escaping
 * job would, with the exact arguments, and reports what the kernel (or the
 * sandbox's filter) answered. Prints "CALL: ok" or "CALL: ERRNAME" and exits
 *	0	the call failed (contained)
 *	1	the call succeeded (an escape, or at least more than allowed)
 *	2	usage error
 *
 * Calls:
 *	open_by_handle_at	a handle for "/" (name_to_handle_at may be
 *				refused too: then a forged handle is used)
 *	io_uring_setup		1 entry
 *	keyctl			KEYCTL_GET_KEYRING_ID of the session keyring
 *	add_key			a "user" key in the session keyring
 *	bpf			BPF_MAP_CREATE of a 1-entry array
 *	perf_event_open		a software cpu-clock counter of ourselves
 *	userfaultfd		the system call (not /dev/userfaultfd)
 *	mount			tmpfs on "." (the cwd)
 *	unshare-user		unshare(CLONE_NEWUSER)
 *	clone-newuser		clone(CLONE_NEWUSER|SIGCHLD), raw
 *	setns PATH		setns() into the namespace file PATH
 *	ptrace PID		PTRACE_ATTACH
 *	ptrace-seize PID	PTRACE_SEIZE
 *	vm-writev PID		process_vm_writev of 1 byte at the target's
 *				auxv-free, always-mapped address: its own
 *				stack pointer is unknown, so any address; a
 *				permission check comes before the address one
 *	vm-readv PID		process_vm_readv of 1 byte
 *	pidfd-getfd PID FD	pidfd_open + pidfd_getfd
 *	kill PID SIG		kill(PID, SIG)
 *	tiocsti FD CHARS	ioctl(FD, TIOCSTI) once per character
 *	tiocsctty FD		ioctl(FD, TIOCSCTTY, 1) (steal a terminal)
 *	kexec_load, init_module, acct, swapon, reboot, pivot_root,
 *	fsopen, open_tree, personality	the obvious, harmless arguments
 *
 * Host-global state a root job must not reach (tests/security/t2030):
 *	clock_settime		CLOCK_REALTIME set 2 s ahead (and back at
 *				once if that was allowed)
 *	settimeofday		the same through settimeofday
 *	clock_adjtime		the frequency moved by 1 ppm (and back)
 *	adjtimex		the same through adjtimex
 *	sethostname NAME	sethostname (the sandbox's UTS namespace)
 *	iopl			iopl(3)
 *	ioperm			ioperm(0x80, 1, 1)
 *	finit_module FILE	finit_module of FILE (not a module)
 *	delete_module		delete_module("procache_none", O_NONBLOCK)
 *	kexec_file_load		of /dev/null, unloading (KEXEC_FILE_UNLOAD)
 *	swapoff			swapoff("/nonexistent")
 *	open-dev PATH MAJ MIN	mknod a block device PATH (MAJ:MIN) and open
 *				it read-only (never written): a node the
 *				job makes must not open
 *	add_key-user		a "user" key in the user keyring (per uid,
 *				not namespaced: root's is the host's)
 *	request_key		of a "user" key that does not exist
 *	perf_event_open-cpu	a counter of every process on CPU 0
 *	bpf-prog		BPF_PROG_LOAD of a socket filter "return 0"
 *	syslog			SYSLOG_ACTION_CONSOLE_LEVEL, to the level it has
 *	sched_setscheduler	SCHED_FIFO for ourselves
 *	time-state		(not a probe) prints the host clock's state:
 *				CLOCK_REALTIME - CLOCK_MONOTONIC in ms, and
 *				the adjtimex frequency
 *	setns-mnt PATH		setns(open(PATH), CLONE_NEWNS)
 *	unshare-mnt		unshare(CLONE_NEWNS)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <sys/klog.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <sys/uio.h>
#include <time.h>
#include <stdint.h>
#include <unistd.h>

static int report(const char *call, long r)
{
	if (r >= 0) {
		printf("%s: ok\n", call);
		return 1;
	}
	printf("%s: %s\n", call, strerrorname_np(errno) ? strerrorname_np(errno) : "E?");
	return 0;
}

static int need(int argc, int n)
{
	if (argc < n) {
		fprintf(stderr, "esc-calls: missing argument\n");
		exit(2);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *c;
	long r;

	if (argc < 2) {
		fprintf(stderr, "usage: esc-calls CALL [ARG...]\n");
		return 2;
	}
	c = argv[1];
	if (!strcmp(c, "open_by_handle_at")) {
		struct {
			struct file_handle h;
			unsigned char bytes[128];
		} fh;
		int mount_id;

		memset(&fh, 0, sizeof(fh));
		fh.h.handle_bytes = sizeof(fh.bytes);
		if (syscall(SYS_name_to_handle_at, AT_FDCWD, "/", &fh.h,
			    &mount_id, 0) < 0) {
			/* forge one: ext4's root inode (2, generation 0) */
			fh.h.handle_bytes = 8;
			fh.h.handle_type = 1;	/* FILEID_INO32_GEN */
			fh.bytes[0] = 2;
		}
		r = syscall(SYS_open_by_handle_at, AT_FDCWD, &fh.h, O_RDONLY);
	} else if (!strcmp(c, "io_uring_setup")) {
		unsigned char params[120];

		memset(params, 0, sizeof(params));
		r = syscall(SYS_io_uring_setup, 1, params);
	} else if (!strcmp(c, "keyctl")) {
		r = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID,
			    KEY_SPEC_SESSION_KEYRING, 0);
	} else if (!strcmp(c, "add_key")) {
		r = syscall(SYS_add_key, "user", "procache-esc", "x", 1,
			    KEY_SPEC_SESSION_KEYRING);
	} else if (!strcmp(c, "bpf")) {
		union bpf_attr a;

		memset(&a, 0, sizeof(a));
		a.map_type = BPF_MAP_TYPE_ARRAY;
		a.key_size = 4;
		a.value_size = 4;
		a.max_entries = 1;
		r = syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof(a));
	} else if (!strcmp(c, "perf_event_open")) {
		struct perf_event_attr a;

		memset(&a, 0, sizeof(a));
		a.size = sizeof(a);
		a.type = PERF_TYPE_SOFTWARE;
		a.config = PERF_COUNT_SW_CPU_CLOCK;
		a.exclude_kernel = 1;
		r = syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
	} else if (!strcmp(c, "userfaultfd")) {
		r = syscall(SYS_userfaultfd, O_CLOEXEC);
	} else if (!strcmp(c, "mount")) {
		r = mount("none", ".", "tmpfs", 0, NULL);
	} else if (!strcmp(c, "unshare-user")) {
		r = unshare(CLONE_NEWUSER);
	} else if (!strcmp(c, "clone-newuser")) {
		r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
		if (r == 0)
			_exit(0);
	} else if (!strcmp(c, "setns")) {
		int fd;

		need(argc, 3);
		fd = open(argv[2], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return report("setns (open)", -1);
		r = setns(fd, 0);
	} else if (!strcmp(c, "ptrace") || !strcmp(c, "ptrace-seize")) {
		need(argc, 3);
		r = ptrace(c[6] ? PTRACE_SEIZE : PTRACE_ATTACH,
			   (pid_t)atoi(argv[2]), 0, 0);
	} else if (!strcmp(c, "vm-writev") || !strcmp(c, "vm-readv")) {
		char b = 0;
		struct iovec local = { &b, 1 }, remote = { (void *)0x400000, 1 };

		need(argc, 3);
		if (c[3] == 'w')
			r = process_vm_writev((pid_t)atoi(argv[2]), &local, 1,
					      &remote, 1, 0);
		else
			r = process_vm_readv((pid_t)atoi(argv[2]), &local, 1,
					     &remote, 1, 0);
		/* EFAULT means the permission check passed */
	} else if (!strcmp(c, "pidfd-getfd")) {
		int pfd;

		need(argc, 4);
		pfd = (int)syscall(SYS_pidfd_open, atoi(argv[2]), 0);
		if (pfd < 0)
			return report("pidfd-getfd (pidfd_open)", -1);
		r = syscall(SYS_pidfd_getfd, pfd, atoi(argv[3]), 0);
	} else if (!strcmp(c, "kill")) {
		need(argc, 4);
		r = kill((pid_t)atoi(argv[2]), atoi(argv[3]));
	} else if (!strcmp(c, "tiocsti")) {
		const char *p;

		need(argc, 4);
		r = 0;
		for (p = argv[3]; *p && r >= 0; p++)
			r = ioctl(atoi(argv[2]), TIOCSTI, p);
	} else if (!strcmp(c, "tiocsctty")) {
		need(argc, 3);
		r = ioctl(atoi(argv[2]), TIOCSCTTY, 1);
	} else if (!strcmp(c, "kexec_load")) {
		r = syscall(SYS_kexec_load, 0, 0, NULL, 0);
	} else if (!strcmp(c, "init_module")) {
		r = syscall(SYS_init_module, "", 0, "");
	} else if (!strcmp(c, "acct")) {
		r = acct(NULL);
	} else if (!strcmp(c, "swapon")) {
		r = syscall(SYS_swapon, "/nonexistent", 0);
	} else if (!strcmp(c, "reboot")) {
		/* CAD off: harmless even if it were allowed */
		r = reboot(RB_DISABLE_CAD);
	} else if (!strcmp(c, "pivot_root")) {
		r = syscall(SYS_pivot_root, ".", ".");
	} else if (!strcmp(c, "fsopen")) {
		r = syscall(SYS_fsopen, "tmpfs", 0);
	} else if (!strcmp(c, "open_tree")) {
		r = syscall(SYS_open_tree, AT_FDCWD, "/", 1 /* OPEN_TREE_CLONE */);
	} else if (!strcmp(c, "personality")) {
		r = personality(READ_IMPLIES_EXEC);
		if (r >= 0)
			personality(PER_LINUX);
	} else if (!strcmp(c, "clock_settime")) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 2;
		r = clock_settime(CLOCK_REALTIME, &ts);
		if (r == 0) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec -= 2;
			clock_settime(CLOCK_REALTIME, &ts);
		}
	} else if (!strcmp(c, "settimeofday")) {
		struct timeval tv;

		gettimeofday(&tv, NULL);
		tv.tv_sec += 2;
		r = settimeofday(&tv, NULL);
		if (r == 0) {
			gettimeofday(&tv, NULL);
			tv.tv_sec -= 2;
			settimeofday(&tv, NULL);
		}
	} else if (!strcmp(c, "clock_adjtime") || !strcmp(c, "adjtimex")) {
		struct timex tx = { .modes = 0 }, set;

		if (adjtimex(&tx) < 0)
			return report("adjtimex (read)", -1);
		set = (struct timex){ .modes = ADJ_FREQUENCY, .freq = tx.freq + 65536 };
		r = c[0] == 'c' ? clock_adjtime(CLOCK_REALTIME, &set) : adjtimex(&set);
		if (r >= 0) {
			set = (struct timex){ .modes = ADJ_FREQUENCY, .freq = tx.freq };
			adjtimex(&set);
		}
	} else if (!strcmp(c, "time-state")) {
		struct timespec rt, mono;
		struct timex tx = { .modes = 0 };

		clock_gettime(CLOCK_REALTIME, &rt);
		clock_gettime(CLOCK_MONOTONIC, &mono);
		if (adjtimex(&tx) < 0)
			return report("time-state", -1);
		printf("%lld %ld\n", (long long)(rt.tv_sec - mono.tv_sec) * 1000 +
					     (rt.tv_nsec - mono.tv_nsec) / 1000000,
		       tx.freq);
		return 0;
	} else if (!strcmp(c, "sethostname")) {
		need(argc, 3);
		r = sethostname(argv[2], strlen(argv[2]));
	} else if (!strcmp(c, "iopl")) {
		r = syscall(SYS_iopl, 3);
	} else if (!strcmp(c, "ioperm")) {
		r = syscall(SYS_ioperm, 0x80, 1, 1);
	} else if (!strcmp(c, "finit_module")) {
		int fd;

		need(argc, 3);
		fd = open(argv[2], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return report("finit_module (open)", -1);
		r = syscall(SYS_finit_module, fd, "", 0);
	} else if (!strcmp(c, "delete_module")) {
		r = syscall(SYS_delete_module, "procache_none", O_NONBLOCK);
	} else if (!strcmp(c, "kexec_file_load")) {
		r = syscall(SYS_kexec_file_load, -1, -1, 0, "", 4 /* KEXEC_FILE_UNLOAD */);
	} else if (!strcmp(c, "swapoff")) {
		r = syscall(SYS_swapoff, "/nonexistent");
	} else if (!strcmp(c, "open-dev")) {
		need(argc, 5);
		r = mknod(argv[2], S_IFBLK | 0600,
			  makedev(atoi(argv[3]), atoi(argv[4])));
		if (r < 0 && errno != EEXIST)
			return report("open-dev (mknod)", -1);
		/* read-only, never written: the test must not harm a disk */
		r = open(argv[2], O_RDONLY | O_CLOEXEC);
	} else if (!strcmp(c, "add_key-user")) {
		r = syscall(SYS_add_key, "user", "procache-esc-user", "x", 1,
			    KEY_SPEC_USER_KEYRING);
	} else if (!strcmp(c, "request_key")) {
		r = syscall(SYS_request_key, "user", "procache-esc-none", NULL, 0);
	} else if (!strcmp(c, "perf_event_open-cpu")) {
		struct perf_event_attr a;

		memset(&a, 0, sizeof(a));
		a.size = sizeof(a);
		a.type = PERF_TYPE_SOFTWARE;
		a.config = PERF_COUNT_SW_CPU_CLOCK;
		r = syscall(SYS_perf_event_open, &a, -1, 0, -1, 0);
	} else if (!strcmp(c, "bpf-prog")) {
		struct bpf_insn insns[] = {
			{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
			{ .code = BPF_JMP | BPF_EXIT },
		};
		union bpf_attr a;

		memset(&a, 0, sizeof(a));
		a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
		a.insn_cnt = 2;
		a.insns = (uint64_t)(uintptr_t)insns;
		a.license = (uint64_t)(uintptr_t)"GPL";
		r = syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
	} else if (!strcmp(c, "syslog")) {
		/* the console log level set to what it is (/proc/sys/kernel/printk) */
		FILE *f = fopen("/proc/sys/kernel/printk", "re");
		int level = 4;

		if (f) {
			if (fscanf(f, "%d", &level) != 1)
				level = 4;
			fclose(f);
		}
		r = klogctl(8 /* SYSLOG_ACTION_CONSOLE_LEVEL */, NULL, level);
	} else if (!strcmp(c, "sched_setscheduler")) {
		struct sched_param sp = { .sched_priority = 1 };

		r = sched_setscheduler(0, SCHED_FIFO, &sp);
	} else if (!strcmp(c, "setns-mnt")) {
		int fd;

		need(argc, 3);
		fd = open(argv[2], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return report("setns-mnt (open)", -1);
		r = setns(fd, CLONE_NEWNS);
	} else if (!strcmp(c, "unshare-mnt")) {
		r = unshare(CLONE_NEWNS);
	} else {
		fprintf(stderr, "esc-calls: unknown call '%s'\n", c);
		return 2;
	}
	return report(c, r);
}

/*
 * Capabilities of the job (DESIGN.md section 8), by capget(), capset() and
 * prctl() (libcap-ng's constructor alone cost every run, hit or miss, a
 * read of /proc and four prctl() calls).
 *
 * A root job in trusted mode keeps the set the runner resolved
 * (struct sbx_config.caps: Docker's default set unless --cap-add or
 * --cap-drop said otherwise) in its effective, permitted and bounding
 * sets; its inheritable and ambient sets are empty, as Docker leaves them
 * since CVE-2022-24769: a root process needs neither (execve gives root
 * its bounding set), and a process that gives up root keeps nothing.
 * Every other job (rootless: the caller's uid with the full capability
 * set of its new user namespace; untrusted) loses everything, the
 * bounding and ambient sets included, so no later execve can get a
 * capability back.
 *
 * Only the job's sets change: init builds the view (mounts, pivot_root,
 * the hostname, lo up) with every capability before it forks the job.
 *
 * The names below are the kernel's (include/uapi/linux/capability.h)
 * without "CAP_", lowercase: a table that is data.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include <stddef.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "common/fdio.h"
#include "common/procstatus.h"
#include "common/xalloc.h"
#include "sandbox/sbx-internal.h"

#include "common/banned.h"

static const char *const cap_names[] = {
	"chown", "dac_override", "dac_read_search", "fowner", "fsetid",
	"kill", "setgid", "setuid", "setpcap", "linux_immutable",
	"net_bind_service", "net_broadcast", "net_admin", "net_raw",
	"ipc_lock", "ipc_owner", "sys_module", "sys_rawio", "sys_chroot",
	"sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
	"sys_resource", "sys_time", "sys_tty_config", "mknod", "lease",
	"audit_write", "audit_control", "setfcap", "mac_override",
	"mac_admin", "syslog", "wake_alarm", "block_suspend", "audit_read",
	"perfmon", "bpf", "checkpoint_restore",
};

/* CAP_SYS_ADMIN: without it, no new user namespace and no keyring either. */
#define SBX_CAP_SYS_ADMIN 21

const char *sbx_cap_name(unsigned cap)
{
	return cap < ARRAY_SIZE(cap_names) ? cap_names[cap] : NULL;
}

int sbx_cap_from_name(const char *name)
{
	size_t i;

	if (!strncasecmp(name, "cap_", 4))
		name += 4;
	for (i = 0; i < ARRAY_SIZE(cap_names); i++)
		if (!strcasecmp(name, cap_names[i]))
			return (int)i;
	return -1;
}

/* The highest capability both the kernel and the table know. */
static unsigned last_cap(void)
{
	static unsigned last;
	char buf[16];
	int fd;

	if (last)
		return last;
	last = ARRAY_SIZE(cap_names) - 1;
	fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read_full(fd, buf, sizeof(buf) - 1);

		if (n > 0) {
			unsigned long v;

			buf[n] = '\0';
			v = strtoul(buf, NULL, 10);
			if (v && v < last)
				last = (unsigned)v;
		}
		close(fd);
	}
	return last;
}

uint64_t sbx_caps_all(void)
{
	unsigned last = last_cap();

	return last >= 63 ? ~0ULL : (1ULL << (last + 1)) - 1;
}

uint64_t sbx_caps_available(const char *status)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	char own[4096];
	uint64_t set = 0, bounding;
	unsigned cap;

	/*
	 * One capget() and one read of /proc/self/status (libcap-ng read
	 * it twice): every run asks, hit or miss. Without /proc, the
	 * bounding set one capability at a time.
	 */
	if (syscall(SYS_capget, &hdr, data) < 0)
		return 0;
	set = (data[0].permitted | (uint64_t)data[1].permitted << 32) & sbx_caps_all();
	if (!status && proc_status_read(own, sizeof(own)) == 0)
		status = own;
	if (status && proc_status_mask(status, "CapBnd", &bounding) == 0)
		return set & bounding;
	for (cap = 0; cap <= last_cap(); cap++)
		if (prctl(PR_CAPBSET_READ, (unsigned long)cap, 0, 0, 0) != 1)
			set &= ~(1ULL << cap);
	return set;
}

void sbx_caps_names(uint64_t set, struct strbuf *out)
{
	unsigned cap;
	bool first = true;

	for (cap = 0; cap < 64; cap++) {
		if (!(set & (1ULL << cap)))
			continue;
		if (!first)
			strbuf_addch(out, ',');
		first = false;
		if (sbx_cap_name(cap))
			strbuf_addstr(out, sbx_cap_name(cap));
		else
			strbuf_addf(out, "%u", cap);
	}
}

/* What the job keeps: only a root job in trusted mode keeps anything. */
static uint64_t job_caps(const struct sbx *s)
{
	if (s->userns || s->job_userns || s->job_uid != 0)
		return 0;
	return s->cfg.caps & sbx_caps_all();
}

/*
 * Straight system calls, in libcap-ng's order (capng_apply() of
 * CAPNG_SELECT_ALL): the bounding set first, while CAP_SETPCAP is still
 * held, then capset(), then the ambient set. libcap-ng read
 * /proc/self/status three times and allocated through stdio to learn the
 * bounding set first; dropping a capability already out of it succeeds,
 * so every one outside @keep is dropped without asking.
 */
int sbx_caps_drop(const struct sbx *s, const char **what)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	uint64_t keep = job_caps(s);
	unsigned cap, last = last_cap();

	*what = "PR_CAPBSET_DROP";
	for (cap = 0; cap <= last; cap++)
		if (!(keep & (1ULL << cap)) &&
		    prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0, 0, 0) < 0)
			return -errno;
	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = (uint32_t)keep;
	data[1].effective = data[1].permitted = (uint32_t)(keep >> 32);
	*what = "capset";
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	*what = "PR_CAP_AMBIENT_CLEAR_ALL";
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)	/* a kernel before 4.3: no ambient set */
		return -errno;
	return 0;
}

/*
 * The root job's filter (sbx_caps_filter()), written out as classic BPF:
 * built through libseccomp in the job it cost every root run 0.25 to
 * 0.6 ms before the job's execve, nine of them seccomp() calls probing
 * the kernel's API level. The rules, for each ABI the kernel runs on
 * x86_64 (native, x32: the native arch with __X32_SYSCALL_BIT in the
 * number, i386):
 *	unshare(flags), clone(flags, ...) with CLONE_NEWUSER	EPERM
 *	clone3							ENOSYS (its
 *		flags are in memory, out of a filter's reach: libc falls
 *		back to clone)
 *	keyctl, add_key, request_key				EPERM
 *	anything else						allowed
 * and any other arch is killed (libseccomp's default for a bad arch).
 * The numbers are the kernel's syscall tables' (syscall_64.tbl: these
 * six are "common", so x32's are the same plus the bit; syscall_32.tbl).
 * tests/unit/test-sandbox compares this program with libseccomp's build
 * of the same rules on every ABI.
 */
enum {
	CF_LD_ARCH, CF_IS_64, CF_IS_32, CF_BAD_ARCH,
	/* x86_64: A = nr */
	CF_LD_NR, CF_IS_X32,
	CF_64_UNSHARE, CF_64_CLONE, CF_64_CLONE3, CF_64_KEYCTL, CF_64_ADD_KEY,
	CF_64_REQUEST_KEY, CF_64_ALLOW,
	/* x32: A = nr, with __X32_SYSCALL_BIT */
	CF_X32_UNSHARE, CF_X32_CLONE, CF_X32_CLONE3, CF_X32_KEYCTL, CF_X32_ADD_KEY,
	CF_X32_REQUEST_KEY, CF_X32_ALLOW,
	/* i386 */
	CF_32_LD_NR, CF_32_UNSHARE, CF_32_CLONE, CF_32_CLONE3, CF_32_KEYCTL,
	CF_32_ADD_KEY, CF_32_REQUEST_KEY, CF_32_ALLOW,
	/* the flags of unshare and clone: the first argument's low word */
	CF_LD_FLAGS, CF_NEWUSER,
	CF_ALLOW, CF_EPERM, CF_ENOSYS,
	CF_LEN
};

#define CF_AUDIT_ARCH_X86_64 0xc000003eU	/* EM_X86_64 | 64BIT | LE */
#define CF_AUDIT_ARCH_I386 0x40000003U	/* EM_386 | LE */
#define CF_X32_BIT 0x40000000U
/* from instruction @at, the offset of a jump to instruction @to */
#define CF_TO(at, to) ((unsigned char)((to) - (at) - 1))
#define CF_JEQ(at, k, to) \
	[at] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), CF_TO(at, to), 0)
#define CF_RET(at, v) [at] = BPF_STMT(BPF_RET | BPF_K, (v))

static const struct sock_filter caps_filter_code[CF_LEN] = {
	[CF_LD_ARCH] = BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
				offsetof(struct seccomp_data, arch)),
	CF_JEQ(CF_IS_64, CF_AUDIT_ARCH_X86_64, CF_LD_NR),
	CF_JEQ(CF_IS_32, CF_AUDIT_ARCH_I386, CF_32_LD_NR),
	CF_RET(CF_BAD_ARCH, SECCOMP_RET_KILL_PROCESS),

	[CF_LD_NR] = BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	[CF_IS_X32] = BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, CF_X32_BIT,
			       CF_TO(CF_IS_X32, CF_X32_UNSHARE), 0),
	CF_JEQ(CF_64_UNSHARE, 272, CF_LD_FLAGS),
	CF_JEQ(CF_64_CLONE, 56, CF_LD_FLAGS),
	CF_JEQ(CF_64_CLONE3, 435, CF_ENOSYS),
	CF_JEQ(CF_64_KEYCTL, 250, CF_EPERM),
	CF_JEQ(CF_64_ADD_KEY, 248, CF_EPERM),
	CF_JEQ(CF_64_REQUEST_KEY, 249, CF_EPERM),
	CF_RET(CF_64_ALLOW, SECCOMP_RET_ALLOW),

	CF_JEQ(CF_X32_UNSHARE, CF_X32_BIT | 272, CF_LD_FLAGS),
	CF_JEQ(CF_X32_CLONE, CF_X32_BIT | 56, CF_LD_FLAGS),
	CF_JEQ(CF_X32_CLONE3, CF_X32_BIT | 435, CF_ENOSYS),
	CF_JEQ(CF_X32_KEYCTL, CF_X32_BIT | 250, CF_EPERM),
	CF_JEQ(CF_X32_ADD_KEY, CF_X32_BIT | 248, CF_EPERM),
	CF_JEQ(CF_X32_REQUEST_KEY, CF_X32_BIT | 249, CF_EPERM),
	CF_RET(CF_X32_ALLOW, SECCOMP_RET_ALLOW),

	[CF_32_LD_NR] = BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	CF_JEQ(CF_32_UNSHARE, 310, CF_LD_FLAGS),
	CF_JEQ(CF_32_CLONE, 120, CF_LD_FLAGS),
	CF_JEQ(CF_32_CLONE3, 435, CF_ENOSYS),
	CF_JEQ(CF_32_KEYCTL, 288, CF_EPERM),
	CF_JEQ(CF_32_ADD_KEY, 286, CF_EPERM),
	CF_JEQ(CF_32_REQUEST_KEY, 287, CF_EPERM),
	CF_RET(CF_32_ALLOW, SECCOMP_RET_ALLOW),

	/* little-endian: the low word of args[0] comes first */
	[CF_LD_FLAGS] = BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
				 offsetof(struct seccomp_data, args[0])),
	[CF_NEWUSER] = BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_NEWUSER,
				CF_TO(CF_NEWUSER, CF_EPERM), CF_TO(CF_NEWUSER, CF_ALLOW)),
	CF_RET(CF_ALLOW, SECCOMP_RET_ALLOW),
	CF_RET(CF_EPERM, SECCOMP_RET_ERRNO | EPERM),
	CF_RET(CF_ENOSYS, SECCOMP_RET_ERRNO | ENOSYS),
};

const struct sock_filter *sbx_caps_filter_code(size_t *len)
{
	*len = CF_LEN;
	return caps_filter_code;
}

int sbx_caps_filter(const struct sbx *s, const char **what)
{
	struct sock_fprog prog = {
		.len = CF_LEN, .filter = (struct sock_filter *)caps_filter_code,
	};

	/*
	 * Untrusted and rootless jobs are in a user namespace already and
	 * have their own rules (the deny list); a root job that keeps
	 * CAP_SYS_ADMIN could mount anything anyway.
	 */
	if (s->userns || s->job_userns || s->job_uid != 0 ||
	    (job_caps(s) & (1ULL << SBX_CAP_SYS_ADMIN)))
		return 0;
	*what = "seccomp";
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return -errno;
	return 0;
}

int sbx_caps_keep_across_setuid(void)
{
	return prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 ? -errno : 0;
}

int sbx_caps_restore_effective(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return -errno;
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	data[0].effective = data[0].permitted;
	data[1].effective = data[1].permitted;
	return syscall(SYS_capset, &hdr, data) < 0 ? -errno : 0;
}

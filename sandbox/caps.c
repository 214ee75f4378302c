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

#include <seccomp.h>

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

int sbx_caps_filter(const struct sbx *s, const char **what)
{
	static const uint32_t arches[] = { SCMP_ARCH_X86, SCMP_ARCH_X32 };
	static const char *const keyring_calls[] = { "keyctl", "add_key", "request_key" };
	const struct scmp_arg_cmp newuser =
		SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER);
	scmp_filter_ctx f;
	size_t i;
	int r;

	/*
	 * Untrusted and rootless jobs are in a user namespace already and
	 * have their own rules (the deny list); a root job that keeps
	 * CAP_SYS_ADMIN could mount anything anyway.
	 */
	if (s->userns || s->job_userns || s->job_uid != 0 ||
	    (job_caps(s) & (1ULL << SBX_CAP_SYS_ADMIN)))
		return 0;
	*what = "seccomp_init";
	f = seccomp_init(SCMP_ACT_ALLOW);
	if (!f)
		return -ENOMEM;
	/* i386 and x32 calls too: without the tracer nothing else stops them. */
	for (i = 0, r = 0; i < ARRAY_SIZE(arches) && r >= 0; i++) {
		r = seccomp_arch_add(f, arches[i]);
		if (r == -EEXIST)
			r = 0;
	}
	*what = "seccomp_rule_add";
	if (r >= 0)
		r = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 1,
				     newuser);
	if (r >= 0)
		r = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				     newuser);
	/* clone3's flags are in memory, out of a filter's reach: libc falls back to clone. */
	if (r >= 0)
		r = seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	/*
	 * The kernel keyrings are not namespaced: a root job's user keyring
	 * is every host root process's, and its session keyring the
	 * runner's (Docker's profile refuses these three too).
	 */
	for (i = 0; i < ARRAY_SIZE(keyring_calls) && r >= 0; i++)
		r = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM),
				     seccomp_syscall_resolve_name(keyring_calls[i]), 0);
	*what = "seccomp_load";
	if (r >= 0)
		r = seccomp_load(f);
	seccomp_release(f);
	return r < 0 ? r : 0;
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

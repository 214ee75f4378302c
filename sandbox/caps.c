/*
 * Capabilities of the job (DESIGN.md section 8), with libcap-ng.
 *
 * A root job in trusted mode keeps what an ordinary root process has: it
 * is the user's own command run as root. Every other job (rootless: the
 * caller's uid with the full capability set of its new user namespace;
 * untrusted) loses everything, the bounding and ambient sets included,
 * so no later execve can get a capability back.
 */
#include <errno.h>
#include <sys/prctl.h>

#include <cap-ng.h>

#include "sandbox/sbx-internal.h"

#include "common/banned.h"

int sbx_caps_drop(const struct sbx *s, const char **what)
{
	if (!s->userns && s->job_uid == 0)
		return 0;
	*what = "capng_clear";
	capng_clear(CAPNG_SELECT_ALL);
	*what = "capng_apply";
	if (capng_apply(CAPNG_SELECT_ALL) < 0)
		return -EPERM;
	return 0;
}

int sbx_caps_keep_across_setuid(void)
{
	return prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 ? -errno : 0;
}

int sbx_caps_restore_effective(void)
{
	unsigned cap;

	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return -errno;
	if (capng_get_caps_process() < 0)
		return -EPERM;
	for (cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (capng_have_capability(CAPNG_PERMITTED, cap))
			capng_update(CAPNG_ADD, CAPNG_EFFECTIVE, cap);
	return capng_apply(CAPNG_SELECT_CAPS) < 0 ? -EPERM : 0;
}

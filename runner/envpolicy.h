/*
 * The environment policy: what the job's environment is, given procache's
 * own environment and the --env-* options (DESIGN.md section 4). The job
 * receives exactly the environment that is keyed, so removing a variable
 * here removes it from the job, not only from the key.
 *
 * Calling sequence:
 *	struct envpolicy ep;
 *	envpolicy_init(&ep);
 *	envpolicy_set(&ep, "A=1");  envpolicy_unset(&ep, "B");  ...
 *	char **env = envpolicy_apply(&ep, environ, cwd);   // sorted, NULL-terminated
 *	...
 *	envpolicy_free_env(env);
 *	envpolicy_release(&ep);
 */
#ifndef PROCACHE_RUNNER_ENVPOLICY_H
#define PROCACHE_RUNNER_ENVPOLICY_H

#include <stdbool.h>
#include <stddef.h>

struct envpolicy {
	bool clear;		/* --env-clear: start from nothing */
	char **keep;		/* --env-keep NAME, a glob: kept through clear
				 * and through the volatile list */
	size_t nr_keep, alloc_keep;
	char **set;		/* --env-set NAME=VALUE, in order */
	size_t nr_set, alloc_set;
	char **unset;		/* --env-unset NAME: a glob ('SLURM_*') */
	size_t nr_unset, alloc_unset;
};

void envpolicy_init(struct envpolicy *ep);
void envpolicy_release(struct envpolicy *ep);

/*
 * Add an option. Returns 0, or -EINVAL when the argument is malformed
 * (empty name, '=' in a name, no '=' in a NAME=VALUE). The NAME of keep
 * and unset is an fnmatch(3) glob: 'SLURM_*' names every variable that
 * starts with SLURM_; a name without '*', '?' or '[' names itself.
 */
int envpolicy_keep(struct envpolicy *ep, const char *name);
int envpolicy_set(struct envpolicy *ep, const char *assignment);
int envpolicy_unset(struct envpolicy *ep, const char *name);

/*
 * True when NAME is one of the volatile variables removed from every job
 * (session sockets, terminal multiplexers, procache's own PROCACHE_*, the
 * per-run variables of CI services) unless --env-keep names it.
 */
bool envpolicy_is_volatile(const char *name, size_t len);
/* True when NAME is one of the per-run variables of CI services. */
bool envpolicy_is_ci_run_var(const char *name, size_t len);
/* The per-run CI variables, sorted by service: their number, into *@names. */
size_t envpolicy_ci_run_vars(const char *const **names);

/*
 * The job's environment: @environ filtered by the policy, with the --env-*
 * options applied and PWD set to @cwd (when not NULL), sorted bytewise by
 * NAME=VALUE, one entry per name: of duplicate names in @environ the
 * first wins, as getenv() sees it. Malloc'd, NULL-terminated; free with
 * envpolicy_free_env().
 */
char **envpolicy_apply(const struct envpolicy *ep, char *const *environ_in,
		       const char *cwd);
void envpolicy_free_env(char **env);

#endif

/* Unit tests for runner/envpolicy.c (the option value parsers are in test-common.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runner/envpolicy.h"
#include "tests/unit/unit.h"

static size_t count(char **env)
{
	size_t n = 0;
	while (env[n])
		n++;
	return n;
}

TEST(volatile_removed_and_sorted)
{
	struct envpolicy ep;
	char *in[] = { "Z=1", "SSH_AUTH_SOCK=/tmp/x", "PROCACHE_DIR=/c",
		       "A=2", "SHLVL=3", "PWD=/old", NULL };
	envpolicy_init(&ep);
	char **env = envpolicy_apply(&ep, in, "/work");
	CHECK_EQ_INT(count(env), 3);
	CHECK_EQ_STR(env[0], "A=2");
	CHECK_EQ_STR(env[1], "PWD=/work");
	CHECK_EQ_STR(env[2], "Z=1");
	envpolicy_free_env(env);
	envpolicy_release(&ep);
}

TEST(order_does_not_matter)
{
	struct envpolicy ep;
	char *a[] = { "B=1", "A=1", NULL };
	char *b[] = { "A=1", "B=1", NULL };
	envpolicy_init(&ep);
	char **ea = envpolicy_apply(&ep, a, NULL);
	char **eb = envpolicy_apply(&ep, b, NULL);
	CHECK_EQ_STR(ea[0], eb[0]);
	CHECK_EQ_STR(ea[1], eb[1]);
	envpolicy_free_env(ea);
	envpolicy_free_env(eb);
	envpolicy_release(&ep);
}

TEST(first_duplicate_wins_like_getenv)
{
	struct envpolicy ep;
	char *in[] = { "A=first", "A=second", "AB=x", NULL };
	envpolicy_init(&ep);
	char **env = envpolicy_apply(&ep, in, NULL);
	CHECK_EQ_INT(count(env), 2);
	CHECK_EQ_STR(env[0], "A=first");
	CHECK_EQ_STR(env[1], "AB=x");
	envpolicy_free_env(env);
	envpolicy_release(&ep);
}

TEST(clear_keep_set_unset)
{
	struct envpolicy ep;
	char *in[] = { "PATH=/bin", "HOME=/h", "X=1", NULL };
	envpolicy_init(&ep);
	ep.clear = true;
	CHECK_EQ_INT(envpolicy_keep(&ep, "PATH"), 0);
	CHECK_EQ_INT(envpolicy_keep(&ep, "X"), 0);
	CHECK_EQ_INT(envpolicy_set(&ep, "NEW=a=b"), 0);
	CHECK_EQ_INT(envpolicy_unset(&ep, "X"), 0);
	char **env = envpolicy_apply(&ep, in, NULL);
	CHECK_EQ_INT(count(env), 2);
	CHECK_EQ_STR(env[0], "NEW=a=b");
	CHECK_EQ_STR(env[1], "PATH=/bin");
	envpolicy_free_env(env);
	envpolicy_release(&ep);
}

TEST(globs_unset_and_keep)
{
	struct envpolicy ep;
	char *in[] = { "SLURM_JOB_ID=7", "SLURM_TASK_PID=9", "SLURMX=1",
		       "PBS_JOBID=3", "LSB_JOBID=4", "JOB_ID=5", "KEEP=1", NULL };
	envpolicy_init(&ep);
	CHECK_EQ_INT(envpolicy_unset(&ep, "SLURM_*"), 0);
	CHECK_EQ_INT(envpolicy_unset(&ep, "[PL][BS][SB]_JOBID"), 0);
	CHECK_EQ_INT(envpolicy_unset(&ep, "JOB_I?"), 0);
	char **env = envpolicy_apply(&ep, in, NULL);
	CHECK_EQ_INT(count(env), 2);
	CHECK_EQ_STR(env[0], "KEEP=1");
	CHECK_EQ_STR(env[1], "SLURMX=1");
	envpolicy_free_env(env);
	envpolicy_release(&ep);

	envpolicy_init(&ep);
	ep.clear = true;
	CHECK_EQ_INT(envpolicy_keep(&ep, "SLURM_*"), 0);
	env = envpolicy_apply(&ep, in, NULL);
	CHECK_EQ_INT(count(env), 2);
	CHECK_EQ_STR(env[0], "SLURM_JOB_ID=7");
	CHECK_EQ_STR(env[1], "SLURM_TASK_PID=9");
	envpolicy_free_env(env);
	envpolicy_release(&ep);
}

TEST(bad_values_rejected)
{
	struct envpolicy ep;
	envpolicy_init(&ep);
	CHECK_EQ_INT(envpolicy_set(&ep, "NOEQUALS"), -EINVAL);
	CHECK_EQ_INT(envpolicy_set(&ep, "=x"), -EINVAL);
	CHECK_EQ_INT(envpolicy_keep(&ep, ""), -EINVAL);
	CHECK_EQ_INT(envpolicy_keep(&ep, "A=B"), -EINVAL);
	CHECK_EQ_INT(envpolicy_unset(&ep, ""), -EINVAL);
	envpolicy_release(&ep);
}

int main(void)
{
	RUN(volatile_removed_and_sorted);
	RUN(order_does_not_matter);
	RUN(first_duplicate_wins_like_getenv);
	RUN(clear_keep_set_unset);
	RUN(globs_unset_and_keep);
	RUN(bad_values_rejected);
	return unit_done();
}

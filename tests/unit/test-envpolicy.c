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

/* GNU parallel's per-job ids go; the job's place in the input stays. */
TEST(parallel_job_ids_removed_seq_kept)
{
	struct envpolicy ep;
	char *in[] = { "PARALLEL_PID=4242", "PARALLEL_JOBSLOT=2",
		       "PARALLEL_JOBSLOT0=1", "PARALLEL_TMP=/tmp/parXfddw",
		       "PARALLEL_SEQ=7", "PARALLEL_SSHLOGIN=:", NULL };
	envpolicy_init(&ep);
	char **env = envpolicy_apply(&ep, in, NULL);
	CHECK_EQ_INT(count(env), 2);
	CHECK_EQ_STR(env[0], "PARALLEL_SEQ=7");
	CHECK_EQ_STR(env[1], "PARALLEL_SSHLOGIN=:");
	envpolicy_free_env(env);
	envpolicy_release(&ep);
}

/* What identifies one CI run goes; what says what is built stays. */
TEST(ci_run_vars_removed_source_kept)
{
	struct envpolicy ep;
	char *in[] = { "GITHUB_RUN_ID=123", "GITHUB_SHA=abc", "CI=true",
		       "CI_JOB_ID=9", "CI_COMMIT_SHA=abc", "CI_NODE_INDEX=2",
		       "BUILD_NUMBER=41", "JOB_NAME=app", "GITHUB_OUTPUT=/x/set_output_1",
		       "CIRCLE_NODE_INDEX=1", "BUILDKITE_JOB_ID=u",
		       "SYSTEM_JOBATTEMPT=2", "DRONE_BUILD_NUMBER=7",
		       "CI_PIPELINE_NUMBER=8", NULL };
	envpolicy_init(&ep);
	char **env = envpolicy_apply(&ep, in, NULL);
	CHECK_EQ_INT(count(env), 6);
	CHECK_EQ_STR(env[0], "CI=true");
	CHECK_EQ_STR(env[1], "CIRCLE_NODE_INDEX=1");
	CHECK_EQ_STR(env[2], "CI_COMMIT_SHA=abc");
	CHECK_EQ_STR(env[3], "CI_NODE_INDEX=2");
	CHECK_EQ_STR(env[4], "GITHUB_SHA=abc");
	CHECK_EQ_STR(env[5], "JOB_NAME=app");
	envpolicy_free_env(env);
	envpolicy_release(&ep);
}

/* --env-keep brings a volatile one back (keyed then); never PROCACHE_*. */
TEST(keep_overrides_volatile_not_procache)
{
	struct envpolicy ep;
	char *in[] = { "BUILD_NUMBER=41", "SSH_AUTH_SOCK=/s", "PROCACHE_DIR=/c",
		       "GITHUB_RUN_ID=1", NULL };
	envpolicy_init(&ep);
	CHECK_EQ_INT(envpolicy_keep(&ep, "BUILD_NUMBER"), 0);
	CHECK_EQ_INT(envpolicy_keep(&ep, "SSH_AUTH_SOCK"), 0);
	CHECK_EQ_INT(envpolicy_keep(&ep, "PROCACHE_DIR"), 0);
	char **env = envpolicy_apply(&ep, in, NULL);
	CHECK_EQ_INT(count(env), 2);
	CHECK_EQ_STR(env[0], "BUILD_NUMBER=41");
	CHECK_EQ_STR(env[1], "SSH_AUTH_SOCK=/s");
	envpolicy_free_env(env);
	envpolicy_release(&ep);
}

TEST(ci_run_vars_table_is_clean)
{
	const char *const *names;
	size_t n = envpolicy_ci_run_vars(&names);
	CHECK(n > 100);
	for (size_t i = 0; i < n; i++) {
		CHECK(envpolicy_is_ci_run_var(names[i], strlen(names[i])));
		CHECK(strspn(names[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == strlen(names[i]));
		for (size_t k = 0; k < i; k++)
			CHECK(strcmp(names[i], names[k]) != 0);
	}
	CHECK(!envpolicy_is_ci_run_var("CI", 2));
	CHECK(!envpolicy_is_ci_run_var("GITHUB_RUN", 10));
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
	RUN(parallel_job_ids_removed_seq_kept);
	RUN(ci_run_vars_removed_source_kept);
	RUN(keep_overrides_volatile_not_procache);
	RUN(ci_run_vars_table_is_clean);
	return unit_done();
}

/*
 * The environment policy (contracts in runner/envpolicy.h): the --env-*
 * options and the job's environment made from them, and, as data, the
 * variables removed from every job's environment. They name things that
 * differ between two runs of the same job without changing what it
 * computes, so keeping them would make every run a miss: session sockets,
 * terminal ids and a job runner's per-job ids (volatile_vars), and what a
 * CI service sets to identify one run of a pipeline (ci_run_vars). A job that needs one
 * gets it back with --env-keep NAME (or --env-set), and then it is keyed.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "runner/envpolicy.h"
#include "common/banned.h"

/* Removed from the job's environment (and so from the key). */
static const char *const volatile_vars[] = {
	"_",
	"DBUS_SESSION_BUS_ADDRESS",
	"DISPLAY",
	"GPG_AGENT_INFO",
	"INVOCATION_ID",
	"JOURNAL_STREAM",
	"MAIL",
	"OLDPWD",
	/*
	 * GNU parallel's, per job: its own pid, the slot (of -j N) the job
	 * happened to land in, the name of a per-job temporary file. They
	 * identify one execution, as a CI run id does; PARALLEL_SEQ (the
	 * job's place in the input) stays, and {%} or {#} in the command
	 * are keyed as arguments.
	 */
	"PARALLEL_JOBSLOT",
	"PARALLEL_JOBSLOT0",
	"PARALLEL_PID",
	"PARALLEL_TMP",
	"SHLVL",
	"SSH_AGENT_PID",
	"SSH_AUTH_SOCK",
	"SSH_CLIENT",
	"SSH_CONNECTION",
	"SSH_TTY",
	"STY",
	"TERM_SESSION_ID",
	"TMUX",
	"TMUX_PANE",
	"WAYLAND_DISPLAY",
	"WINDOWID",
	"XAUTHORITY",
	"XDG_RUNTIME_DIR",
	"XDG_SESSION_COOKIE",
	"XDG_SESSION_ID",
};

/*
 * Per-run variables of CI services (DESIGN.md section 4, README "Running
 * in CI"). The rule: a variable is here when it identifies one execution
 * (a run, job, attempt or step id or number, its URL, its start time,
 * the machine or agent it landed on, who or what triggered it, a
 * per-job token or temporary file) and says nothing of what is built.
 * What describes the source or the configuration stays and is keyed:
 * commit, branch, tag, ref, repository, merge request, job and step
 * names, the workspace, CI=true, and the parallel index and total a
 * test splitter reads (CI_NODE_INDEX, CIRCLE_NODE_INDEX...). A job that
 * embeds a build number in its result (a version string) must say so
 * with --env-keep BUILD_NUMBER: it is then keyed, and reruns per build.
 */
static const char *const ci_run_vars[] = {
	/* GitHub Actions */
	"ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL",
	"ACTIONS_ORCHESTRATION_ID", "ACTIONS_RESULTS_URL",
	"ACTIONS_RUNTIME_TOKEN", "ACTIONS_RUNTIME_URL", "ACTIONS_CACHE_URL",
	"GITHUB_ACTOR", "GITHUB_ACTOR_ID", "GITHUB_ENV", "GITHUB_OUTPUT",
	"GITHUB_PATH", "GITHUB_RUN_ATTEMPT", "GITHUB_RUN_ID",
	"GITHUB_RUN_NUMBER", "GITHUB_STATE", "GITHUB_STEP_SUMMARY",
	"GITHUB_TRIGGERING_ACTOR", "RUNNER_NAME", "RUNNER_TRACKING_ID",
	/* GitLab CI */
	"CI_BUILD_ID", "CI_BUILD_TOKEN", "CI_CONCURRENT_ID",
	"CI_CONCURRENT_PROJECT_ID", "CI_DEPENDENCY_PROXY_PASSWORD",
	"CI_JOB_ID", "CI_JOB_JWT", "CI_JOB_JWT_V1", "CI_JOB_JWT_V2",
	"CI_JOB_STARTED_AT", "CI_JOB_STATUS", "CI_JOB_TOKEN", "CI_JOB_URL",
	"CI_PIPELINE_CREATED_AT", "CI_PIPELINE_ID", "CI_PIPELINE_IID",
	"CI_PIPELINE_URL", "CI_REGISTRY_PASSWORD", "CI_RUNNER_DESCRIPTION",
	"CI_RUNNER_ID", "CI_RUNNER_SHORT_TOKEN", "GITLAB_USER_EMAIL",
	"GITLAB_USER_ID", "GITLAB_USER_LOGIN", "GITLAB_USER_NAME",
	/* Jenkins (BUILD_NUMBER also TeamCity's) */
	"BUILD_DISPLAY_NAME", "BUILD_ID", "BUILD_NUMBER", "BUILD_TAG",
	"BUILD_URL", "EXECUTOR_NUMBER", "HUDSON_COOKIE",
	"HUDSON_SERVER_COOKIE", "JENKINS_NODE_COOKIE",
	"JENKINS_SERVER_COOKIE", "NODE_NAME", "RUN_ARTIFACTS_DISPLAY_URL",
	"RUN_CHANGES_DISPLAY_URL", "RUN_DISPLAY_URL", "RUN_TESTS_DISPLAY_URL",
	/* Buildkite */
	"BUILDKITE_AGENT_ACCESS_TOKEN", "BUILDKITE_AGENT_ID",
	"BUILDKITE_AGENT_NAME", "BUILDKITE_AGENT_PID", "BUILDKITE_BUILD_CREATOR",
	"BUILDKITE_BUILD_CREATOR_EMAIL", "BUILDKITE_BUILD_ID",
	"BUILDKITE_BUILD_NUMBER", "BUILDKITE_BUILD_URL", "BUILDKITE_ENV_FILE",
	"BUILDKITE_JOB_ID", "BUILDKITE_RETRY_COUNT", "BUILDKITE_STEP_ID",
	"BUILDKITE_TRIGGERED_FROM_BUILD_ID",
	"BUILDKITE_TRIGGERED_FROM_BUILD_NUMBER",
	/* CircleCI */
	"CIRCLE_BUILD_NUM", "CIRCLE_BUILD_URL", "CIRCLE_OIDC_TOKEN",
	"CIRCLE_OIDC_TOKEN_V2", "CIRCLE_PREVIOUS_BUILD_NUM", "CIRCLE_USERNAME",
	"CIRCLE_WORKFLOW_ID", "CIRCLE_WORKFLOW_JOB_ID",
	"CIRCLE_WORKFLOW_WORKSPACE_ID",
	/* Travis CI */
	"TRAVIS_BUILD_ID", "TRAVIS_BUILD_NUMBER", "TRAVIS_BUILD_WEB_URL",
	"TRAVIS_JOB_ID", "TRAVIS_JOB_NUMBER", "TRAVIS_JOB_WEB_URL",
	"TRAVIS_TEST_RESULT", "TRAVIS_TIMER_ID", "TRAVIS_TIMER_START_TIME",
	/* Azure Pipelines */
	"AGENT_ID", "AGENT_JOBSTATUS", "AGENT_MACHINENAME", "AGENT_NAME",
	"BUILD_BUILDID", "BUILD_BUILDNUMBER", "BUILD_BUILDURI",
	"BUILD_CONTAINERID", "BUILD_QUEUEDBY", "BUILD_QUEUEDBYID",
	"BUILD_REQUESTEDFOR", "BUILD_REQUESTEDFOREMAIL", "BUILD_REQUESTEDFORID",
	"SYSTEM_JOBATTEMPT", "SYSTEM_JOBID", "SYSTEM_PHASEATTEMPT",
	"SYSTEM_PLANID", "SYSTEM_STAGEATTEMPT", "SYSTEM_TASKINSTANCEID",
	"SYSTEM_TIMELINEID",
	/* TeamCity */
	"TEAMCITY_BUILD_PROPERTIES_FILE", "TEAMCITY_PROCESS_FLOW_ID",
	"TEAMCITY_PROCESS_PARENT_FLOW_ID",
	/* Drone (and its CI_* aliases) */
	"CI_BUILD_CREATED", "CI_BUILD_FINISHED", "CI_BUILD_LINK",
	"CI_BUILD_NUMBER", "CI_BUILD_STARTED", "CI_JOB_FINISHED",
	"CI_JOB_STARTED", "DRONE_BUILD_CREATED", "DRONE_BUILD_FINISHED",
	"DRONE_BUILD_LINK", "DRONE_BUILD_NUMBER", "DRONE_BUILD_PARENT",
	"DRONE_BUILD_STARTED", "DRONE_BUILD_TRIGGER", "DRONE_JOB_FINISHED",
	"DRONE_JOB_STARTED", "DRONE_RUNNER_HOST", "DRONE_RUNNER_HOSTNAME",
	"DRONE_STAGE_FINISHED", "DRONE_STAGE_MACHINE", "DRONE_STAGE_STARTED",
	/* Woodpecker */
	"CI_MACHINE", "CI_PIPELINE_CREATED", "CI_PIPELINE_FINISHED",
	"CI_PIPELINE_NUMBER", "CI_PIPELINE_PARENT", "CI_PIPELINE_STARTED",
	"CI_PIPELINE_STATUS", "CI_PREV_PIPELINE_CREATED",
	"CI_PREV_PIPELINE_FINISHED", "CI_PREV_PIPELINE_NUMBER",
	"CI_PREV_PIPELINE_STARTED", "CI_PREV_PIPELINE_STATUS",
	"CI_PREV_PIPELINE_URL", "CI_STEP_FINISHED", "CI_STEP_STARTED",
	"CI_STEP_STATUS", "CI_STEP_URL",
};

static bool in_table(const char *const *table, size_t n, const char *name,
		     size_t len)
{
	/* strncmp() stops at the first differing byte, mostly the first:
	 * no strlen() of each of the few hundred names for each variable */
	for (size_t i = 0; i < n; i++)
		if (table[i][0] == name[0] && !strncmp(table[i], name, len) &&
		    !table[i][len])
			return true;
	return false;
}

/* Every variable starting with this is procache's own. */
static const char procache_prefix[] = "PROCACHE_";

static bool is_procache_own(const char *name, size_t len)
{
	return len >= sizeof(procache_prefix) - 1 &&
	       !memcmp(name, procache_prefix, sizeof(procache_prefix) - 1);
}

bool envpolicy_is_volatile(const char *name, size_t len)
{
	if (is_procache_own(name, len))
		return true;
	return in_table(volatile_vars, ARRAY_SIZE(volatile_vars), name, len) ||
	       envpolicy_is_ci_run_var(name, len);
}

bool envpolicy_is_ci_run_var(const char *name, size_t len)
{
	return in_table(ci_run_vars, ARRAY_SIZE(ci_run_vars), name, len);
}

size_t envpolicy_ci_run_vars(const char *const **names)
{
	*names = ci_run_vars;
	return ARRAY_SIZE(ci_run_vars);
}

void envpolicy_init(struct envpolicy *ep)
{
	memset(ep, 0, sizeof(*ep));
}

static void free_list(char **list, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		free(list[i]);
	free(list);
}

void envpolicy_release(struct envpolicy *ep)
{
	free_list(ep->keep, ep->nr_keep);
	free_list(ep->set, ep->nr_set);
	free_list(ep->unset, ep->nr_unset);
	envpolicy_init(ep);
}

static bool valid_name(const char *name, size_t len)
{
	return len > 0 && !memchr(name, '=', len);
}

/* Append a copy of @name to a list of names, if it is one. */
static int add_name(char ***list, size_t *nr, size_t *alloc, const char *name)
{
	if (!valid_name(name, strlen(name)))
		return -EINVAL;
	ALLOC_GROW(*list, *nr + 1, *alloc);
	(*list)[(*nr)++] = xstrdup(name);
	return 0;
}

int envpolicy_keep(struct envpolicy *ep, const char *name)
{
	return add_name(&ep->keep, &ep->nr_keep, &ep->alloc_keep, name);
}

int envpolicy_set(struct envpolicy *ep, const char *assignment)
{
	const char *eq = strchr(assignment, '=');
	if (!eq || !valid_name(assignment, eq - assignment))
		return -EINVAL;
	ALLOC_GROW(ep->set, ep->nr_set + 1, ep->alloc_set);
	ep->set[ep->nr_set++] = xstrdup(assignment);
	return 0;
}

int envpolicy_unset(struct envpolicy *ep, const char *name)
{
	return add_name(&ep->unset, &ep->nr_unset, &ep->alloc_unset, name);
}

static size_t name_len(const char *assignment)
{
	const char *eq = strchr(assignment, '=');
	return eq ? (size_t)(eq - assignment) : strlen(assignment);
}

/*
 * Does the name (@name, @len bytes) match a pattern of @list? Patterns
 * of --env-keep and --env-unset are fnmatch(3) globs ('SLURM_*',
 * 'LSB_?*', '[A-Z]*'); a name without '*', '?' or '[' matches itself.
 */
static bool in_list(char *const *list, size_t nr, const char *name, size_t len)
{
	char *n;
	bool found = false;

	if (!nr)
		return false;
	n = xstrndup(name, len);

	for (size_t i = 0; i < nr && !found; i++)
		found = fnmatch(list[i], n, 0) == 0;
	free(n);
	return found;
}

struct env_list {
	char **v;
	size_t nr, alloc;
};

/* Replace or append NAME=VALUE so that each name appears once. */
static void env_put(struct env_list *l, const char *assignment)
{
	size_t len = name_len(assignment);
	for (size_t i = 0; i < l->nr; i++) {
		if (name_len(l->v[i]) == len &&
		    !memcmp(l->v[i], assignment, len)) {
			free(l->v[i]);
			l->v[i] = xstrdup(assignment);
			return;
		}
	}
	ALLOC_GROW(l->v, l->nr + 2, l->alloc);
	l->v[l->nr++] = xstrdup(assignment);
}

static void env_del(struct env_list *l, const char *name, size_t len)
{
	for (size_t i = 0; i < l->nr; i++) {
		if (name_len(l->v[i]) == len && !memcmp(l->v[i], name, len)) {
			free(l->v[i]);
			memmove(&l->v[i], &l->v[i + 1],
				(l->nr - i - 1) * sizeof(*l->v));
			l->nr--;
			return;
		}
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **envpolicy_apply(const struct envpolicy *ep, char *const *environ_in,
		       const char *cwd)
{
	struct env_list l = { 0 };

	/*
	 * getenv() returns the first of duplicate names; keep the first,
	 * so the job sees what procache's own getenv() saw.
	 */
	for (char *const *e = environ_in; e && *e; e++) {
		size_t len = name_len(*e);
		bool keep = in_list(ep->keep, ep->nr_keep, *e, len);
		/* procache's own never reach the job; the rest, on request */
		if (!strchr(*e, '=') || is_procache_own(*e, len) ||
		    (envpolicy_is_volatile(*e, len) && !keep))
			continue;
		if (ep->clear && !keep)
			continue;
		bool dup = false;
		for (size_t i = 0; i < l.nr; i++)
			if (name_len(l.v[i]) == len && !memcmp(l.v[i], *e, len))
				dup = true;
		if (!dup)
			env_put(&l, *e);
	}
	for (size_t i = 0; i < l.nr;) {
		if (in_list(ep->unset, ep->nr_unset, l.v[i], name_len(l.v[i])))
			env_del(&l, l.v[i], name_len(l.v[i]));
		else
			i++;
	}
	for (size_t i = 0; i < ep->nr_set; i++)
		env_put(&l, ep->set[i]);
	if (cwd) {
		char *pwd = xasprintf("PWD=%s", cwd);
		env_put(&l, pwd);
		free(pwd);
	}
	qsort(l.v, l.nr, sizeof(*l.v), cmp_str);
	ALLOC_GROW(l.v, l.nr + 1, l.alloc);
	l.v[l.nr] = NULL;
	return l.v;
}

void envpolicy_free_env(char **env)
{
	for (char **e = env; e && *e; e++)
		free(*e);
	free(env);
}

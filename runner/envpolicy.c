/*
 * The environment policy (contracts in runner/envpolicy.h): the --env-*
 * options and the job's environment made from them, and, as data, the
 * volatile variables removed from every job's environment. They name things that differ between two runs
 * of the same job without changing what it computes (session sockets,
 * terminal ids), so keeping them would make every run a miss; a job that
 * needs one must get it with --env-set, and then it is keyed.
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

/* Every variable starting with this is procache's own. */
static const char procache_prefix[] = "PROCACHE_";

bool envpolicy_is_volatile(const char *name, size_t len)
{
	if (len >= sizeof(procache_prefix) - 1 &&
	    !memcmp(name, procache_prefix, sizeof(procache_prefix) - 1))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(volatile_vars); i++)
		if (strlen(volatile_vars[i]) == len &&
		    !memcmp(volatile_vars[i], name, len))
			return true;
	return false;
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
	char *n = xstrndup(name, len);
	bool found = false;

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
		if (!strchr(*e, '=') || envpolicy_is_volatile(*e, len))
			continue;
		if (ep->clear && !in_list(ep->keep, ep->nr_keep, *e, len))
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

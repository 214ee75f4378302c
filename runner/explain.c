/*
 * --explain's text (contracts in runner/explain.h). The lookup collects
 * every failing precondition of every candidate (cache/lookup.c); a
 * whole-build miss can fail fifty of them, so by default only the
 * summary and the nearest candidate are printed, and -vv prints all.
 * The remedies are text for people: which tool keeps state where, and
 * what makes a run uncacheable that the user can change.
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "cache/cache.h"
#include "common/xalloc.h"
#include "common/strbuf.h"
#include "runner/explain.h"
#include "common/banned.h"

/* Failing preconditions of the nearest candidate printed by default. */
#define EXPLAIN_SHOWN 8

static const struct {
	const char *component;	/* a path component naming the tool's state */
	const char *remedy;
} state_remedies[] = {
	{ ".pytest_cache", "pytest's cache: run pytest with -p no:cacheprovider" },
	{ ".hypothesis", "Hypothesis's database: settings(database=None), or a directory outside the tree" },
	{ ".ninja_log", "ninja's log: wrap the commands ninja runs, not ninja" },
	{ ".ninja_deps", "ninja's log: wrap the commands ninja runs, not ninja" },
	{ ".coverage", "coverage's data: COVERAGE_FILE outside the tree" },
	{ "__pycache__", "Python's bytecode cache: PYTHONDONTWRITEBYTECODE=1, or PYTHONPYCACHEPREFIX outside the tree" },
	{ ".mypy_cache", "mypy's cache: --cache-dir outside the tree" },
	{ ".ruff_cache", "ruff's cache: --no-cache, or --cache-dir outside the tree" },
	{ ".eslintcache", "eslint's cache: drop --cache, or --cache-location outside the tree" },
	{ ".tox", "tox's environments: --workdir outside the tree" },
};

static bool has_component(const char *path, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = path; (p = strstr(p, name)) != NULL; p += len)
		if ((p == path || p[-1] == '/') && (p[len] == '/' || !p[len]))
			return true;
	return false;
}

const char *explain_state_remedy(const char *path)
{
	for (size_t i = 0; i < ARRAY_SIZE(state_remedies); i++)
		if (has_component(path, state_remedies[i].component))
			return state_remedies[i].remedy;
	return "an earlier run of the job wrote it: the first rerun that sees it misses; if every run rewrites it, keep it outside the tree, --declare-output it if the job need not read its old content, or give --mtime=content if only its time differs";
}

/*
 * Matched anywhere in the reason (the tracer's start "syscall NAME: "), in
 * this order: the first match decides, so the narrower text comes first
 * ("killed by the OOM killer" before "killed"). A NULL remedy: there is
 * none to give.
 */
static const struct {
	const char *text;
	const char *remedy;
} uncacheable_remedies[] = {
	{ "stdin is a terminal", "give the job </dev/null or a file" },
	{ "stdin is a character device", "give the job </dev/null or a file" },
	{ "shares the host network", "drop --net if it needs no network" },
	{ "timed out", "raise --timeout" },
	{ "input changed during the run", "run it again once its inputs are still" },
	{ "created a special file", "make fifos and sockets under /tmp (private to the job)" },
	{ "interrupted", "run it again" },
	{ "killed by the OOM killer", "run it again with more --memory" },
	{ "killed by the --pids limit", "run it again with a higher --pids" },
	{ "killed by a resource limit", "raise the limit it hit" },
	{ "killed by SIGSYS", NULL },
	{ "killed", "run it again" },
	{ "--no-cache-failures", NULL },
	{ "not traced", "drop --no-trace" },
	{ "command could not be executed", "check the command name and PATH" },
	{ "cannot store the result", "make room in the cache (procache cache gc)" },
	{ "host unix socket", "it talks to a service of the host, which procache cannot replay; --mask the socket's directory if the job can do without it" },
	{ "host abstract unix socket", "it talks to a service of the host, which procache cannot replay" },
	{ "network access", "give the job its inputs as files; a job that needs the network runs every time" },
	{ "cannot hash input", "make the input readable to the user procache runs as" },
	{ "cannot list", "make the directory readable to the user procache runs as" },
	{ "cannot examine", "make the path searchable by the user procache runs as" },
	{ "non-native ABI", "build the program for x86_64" },
	{ "non-64-bit ELF", "build the program for x86_64" },
	{ "opens host special file", "give the job a regular file, or --mask the device" },
};

const char *explain_uncacheable_remedy(const char *reason)
{
	for (size_t i = 0; i < ARRAY_SIZE(uncacheable_remedies); i++)
		if (strstr(reason, uncacheable_remedies[i].text))
			return uncacheable_remedies[i].remedy;
	return "'procache trace -- CMD' shows what it did";
}

static const char *str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void print_line(FILE *f, const char *msg)
{
	fprintf(f, "procache: explain: %s\n", msg);
}

/*
 * Each path read and written by the job, once, with its remedy: the first
 * EXPLAIN_SHOWN of them unless @all (a whole build rerun in place meets
 * every object file it made).
 */
static void print_state_files(FILE *f, const cJSON *reasons,
			      const char *only_candidate, bool all)
{
	struct strbuf seen = STRBUF_INIT;
	size_t shown = 0, more = 0;
	const cJSON *it;

	strbuf_addch(&seen, '\n');
	cJSON_ArrayForEach(it, reasons) {
		const char *path = str_of(it, "path"), *cand = str_of(it, "candidate");
		struct strbuf key = STRBUF_INIT;

		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "written_by_job")) ||
		    !path || (only_candidate && (!cand || strcmp(cand, only_candidate))))
			continue;
		strbuf_addf(&key, "\n%s\n", path);
		if (!strstr(seen.buf, key.buf)) {
			if (all || shown < EXPLAIN_SHOWN) {
				fprintf(f, "procache: explain: read and written by the job: %s: %s\n",
					path, explain_state_remedy(path));
				shown++;
			} else {
				more++;
			}
			strbuf_addstr(&seen, key.buf + 1);
		}
		strbuf_release(&key);
	}
	if (more)
		fprintf(f, "procache: explain: %zu more path%s read and written by the job (-vv lists them)\n",
			more, more == 1 ? "" : "s");
	strbuf_release(&seen);
}

void explain_print(const struct cache_explain *ex, FILE *f, bool all)
{
	cJSON *reasons = cache_explain_json(ex);
	cJSON *sum = cache_explain_summary_json(ex);
	size_t n = (size_t)cJSON_GetArraySize(reasons), cands = 0, shown = 0;
	const char *nearest = str_of(sum, "nearest");
	const cJSON *it, *v;
	size_t key_fields = 0;
	const char *nearest_key = NULL;

	v = cJSON_GetObjectItemCaseSensitive(sum, "candidates");
	if (cJSON_IsNumber(v))
		cands = (size_t)v->valuedouble;
	cJSON_ArrayForEach(it, reasons) {
		const char *kind = str_of(it, "kind");

		if (kind && !strcmp(kind, "key") && str_of(it, "nearest")) {
			key_fields++;
			nearest_key = str_of(it, "nearest");
		}
	}
	if (cands && nearest) {
		const cJSON *fail = cJSON_GetObjectItemCaseSensitive(sum, "failing");
		const cJSON *pre = cJSON_GetObjectItemCaseSensitive(sum, "preconditions");
		const char *id = strchr(nearest, '/');

		fprintf(f, "procache: explain: miss: %zu entr%s under this key, none holds; the nearest, entry %.8s, fails %d of %d preconditions\n",
			cands, cands == 1 ? "y" : "ies", id ? id + 1 : nearest,
			cJSON_IsNumber(fail) ? fail->valueint : 0,
			cJSON_IsNumber(pre) ? pre->valueint : 0);
	} else if (key_fields) {
		fprintf(f, "procache: explain: miss: no entry under this key; the nearest stored key, %.8s, differs in %zu field%s\n",
			nearest_key, key_fields, key_fields == 1 ? "" : "s");
	}
	cJSON_ArrayForEach(it, reasons) {
		const char *cand = str_of(it, "candidate"), *kind = str_of(it, "kind");
		const char *msg = str_of(it, "message");
		bool mine = !cand || (nearest && !strcmp(cand, nearest)) ||
			    (kind && !strcmp(kind, "corrupt"));

		if (!msg || (!all && (!mine || shown >= EXPLAIN_SHOWN)))
			continue;
		print_line(f, msg);
		shown++;
	}
	if (!all && shown < n)
		fprintf(f, "procache: explain: %zu more failing precondition%s (-vv lists them)\n",
			n - shown, n - shown == 1 ? "" : "s");
	print_state_files(f, reasons, all ? NULL : nearest, all);
	cJSON_Delete(sum);
	cJSON_Delete(reasons);
}

/*
 * Settings (runner/config.h): reading the configuration file (its format
 * is in the header), resolving each setting by precedence, and applying
 * the file's job options under the command line's. Every getenv() of a
 * setting is here; `procache config` prints the result (runner/cmd-config.c).
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cache/cache.h"
#include "common/cleanup.h"
#include "common/die.h"
#include "common/json.h"
#include "common/path.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "runner/config.h"
#include "runner/options.h"
#include "runner/remote.h"
#include "common/banned.h"

const char *config_env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static void default_config_path(struct strbuf *out)
{
	const char *xdg = config_env("XDG_CONFIG_HOME");
	const char *home = config_env("HOME");
	strbuf_reset(out);
	if (xdg && *xdg == '/')
		strbuf_addf(out, "%s/procache/config.json", xdg);
	else if (home && *home == '/')
		strbuf_addf(out, "%s/.config/procache/config.json", home);
}

static char **str_array(const cJSON *arr, const char *key, struct strbuf *err)
{
	size_t n = cJSON_GetArraySize(arr), i = 0;
	char **v = xcalloc(n + 1, sizeof(*v));
	const cJSON *it;
	cJSON_ArrayForEach(it, arr) {
		if (!cJSON_IsString(it) || !*it->valuestring ||
		    strlen(it->valuestring) >= PATH_MAX) {
			strbuf_addf(err, "key '%s': expected an array of non-empty strings shorter than %d bytes",
				    key, PATH_MAX);
			for (size_t k = 0; k < i; k++)
				free(v[k]);
			free(v);
			return NULL;
		}
		v[i++] = xstrdup(it->valuestring);
	}
	return v;
}

/* The array of strings at @key of @obj, when there is one, into *@out. */
static int get_str_array(const cJSON *obj, const char *key, char ***out,
			 struct strbuf *err)
{
	const cJSON *arr;
	int rc = json_get_array(obj, key, &arr, false, err);

	if (rc == -EINVAL)
		return rc;
	if (rc == 0) {
		char **v = str_array(arr, key, err);
		if (!v)
			return -EINVAL;
		*out = v;
	}
	return 0;
}

/*
 * The object at @key of @root, when there is one, into *@obj, its keys
 * checked against @keys. Returns 1, 0 when there is none, or -EINVAL.
 */
static int get_section(const cJSON *root, const char *key,
		       const char *const *keys, const cJSON **obj,
		       struct strbuf *err)
{
	int rc = json_get_object(root, key, obj, false, err);

	if (rc == -EINVAL)
		return rc;
	if (rc < 0)
		return 0;
	if ((rc = json_check_keys(*obj, keys, err)) < 0)
		return rc;
	return 1;
}

/* A size or duration may be a string ("2G", "10m") or a number. */
static int get_size(const cJSON *obj, const char *key, uint64_t *out,
		    struct strbuf *err)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!it)
		return 0;
	if (cJSON_IsString(it) && parse_size(it->valuestring, out) == 0)
		return 0;
	if (cJSON_IsNumber(it) && it->valuedouble >= 0 &&
	    it->valuedouble <= 9007199254740991.0 &&
	    it->valuedouble == (double)(uint64_t)it->valuedouble) {
		*out = (uint64_t)it->valuedouble;
		return 0;
	}
	strbuf_addf(err, "key '%s': expected a size such as \"64M\" or a whole number", key);
	return -EINVAL;
}

int config_json_seconds(const cJSON *obj, const char *key, const char *name,
			double *out, struct strbuf *err)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!it)
		return 0;
	if (cJSON_IsString(it) && parse_seconds(it->valuestring, out) == 0 && *out > 0)
		return 0;
	if (cJSON_IsNumber(it) && it->valuedouble > 0 && it->valuedouble <= 1e9) {
		*out = it->valuedouble;
		return 0;
	}
	strbuf_addf(err, "key '%s': expected seconds > 0 such as 30 or \"10m\"", name);
	return -EINVAL;
}

static int parse_config(const cJSON *root, struct pc_config *cfg,
			struct strbuf *err)
{
	static const char *const top_keys[] = { "cache_dir", "max_size", "outputs",
		"masks", "declared_outputs", "env", "limits", "capabilities", "remote",
		"base_dir", "mtime", "cache_failures", "nested", NULL };
	static const char *const env_keys[] = { "clear", "keep", "set", "unset", NULL };
	static const char *const limit_keys[] = { "timeout", "memory", "pids",
		"cpus", "disk", "best_effort", NULL };
	static const char *const cap_keys[] = { "add", "drop", NULL };
	const char *s;
	const cJSON *obj;
	int rc;

	if ((rc = json_check_keys(root, top_keys, err)) < 0)
		return rc;
	rc = json_get_str(root, "cache_dir", &s, false, err);
	if (rc == -EINVAL)
		return rc;
	if (rc == 0) {
		if (!*s || strlen(s) >= PATH_MAX) {
			strbuf_addstr(err, *s ? "key 'cache_dir': too long"
					      : "key 'cache_dir': empty");
			return -EINVAL;
		}
		cfg->cache_dir = xstrdup(s);
	}
	if (cJSON_GetObjectItemCaseSensitive(root, "max_size")) {
		if ((rc = get_size(root, "max_size", &cfg->max_size, err)) < 0)
			return rc;
		cfg->has_max_size = true;
	}
	rc = json_get_str(root, "mtime", &s, false, err);
	if (rc == -EINVAL)
		return rc;
	if (rc == 0) {
		if (strcmp(s, "exact") && strcmp(s, "content")) {
			strbuf_addstr(err, "key 'mtime': expected \"exact\" or \"content\"");
			return -EINVAL;
		}
		cfg->mtime_content = !strcmp(s, "content");
		cfg->has_mtime = true;
	}
	if (cJSON_GetObjectItemCaseSensitive(root, "cache_failures")) {
		bool v;

		if (json_get_bool(root, "cache_failures", &v, true, err) < 0)
			return -EINVAL;
		cfg->no_cache_failures = !v;
	}
	if (cJSON_GetObjectItemCaseSensitive(root, "nested") &&
	    json_get_bool(root, "nested", &cfg->nested, true, err) < 0)
		return -EINVAL;
	if ((rc = get_str_array(root, "outputs", &cfg->outputs, err)) < 0 ||
	    (rc = get_str_array(root, "masks", &cfg->masks, err)) < 0 ||
	    (rc = get_str_array(root, "declared_outputs", &cfg->declared, err)) < 0)
		return rc;
	if ((rc = get_section(root, "env", env_keys, &obj, err)) < 0)
		return rc;
	if (rc) {
		if (json_get_bool(obj, "clear", &cfg->env_clear, false, err) == -EINVAL)
			return -EINVAL;
		if ((rc = get_str_array(obj, "keep", &cfg->env_keep, err)) < 0 ||
		    (rc = get_str_array(obj, "unset", &cfg->env_unset, err)) < 0)
			return rc;
		const cJSON *set;
		rc = json_get_object(obj, "set", &set, false, err);
		if (rc == -EINVAL)
			return rc;
		if (rc == 0) {
			size_t n = cJSON_GetArraySize(set), i = 0;
			cfg->env_set = xcalloc(n + 1, sizeof(char *));
			const cJSON *it;
			cJSON_ArrayForEach(it, set) {
				if (!cJSON_IsString(it) || !*it->string ||
				    strchr(it->string, '=')) {
					strbuf_addf(err, "key 'env.set.%s': expected a string value and a name without '='",
						    it->string);
					return -EINVAL;
				}
				cfg->env_set[i++] = xasprintf("%s=%s", it->string,
							      it->valuestring);
			}
		}
	}
	rc = json_get_object(root, "remote", &obj, false, err);
	if (rc == -EINVAL || (rc == 0 && (rc = remote_config_parse(obj, &cfg->remote, err)) < 0))
		return rc;
	rc = json_get_str(root, "base_dir", &s, false, err);
	if (rc == -EINVAL)
		return rc;
	if (rc == 0) {
		if (*s != '/' || strlen(s) >= PATH_MAX) {
			strbuf_addstr(err, "key 'base_dir': expected an absolute path");
			return -EINVAL;
		}
		cfg->base_dir = xstrdup(s);
	}
	if ((rc = get_section(root, "limits", limit_keys, &obj, err)) < 0)
		return rc;
	if (rc) {
		if ((rc = config_json_seconds(obj, "timeout", "limits.timeout",
					      &cfg->timeout_s, err)) < 0 ||
		    (rc = get_size(obj, "memory", &cfg->memory_bytes, err)) < 0 ||
		    (rc = get_size(obj, "pids", &cfg->pids_max, err)) < 0 ||
		    (rc = get_size(obj, "cpus", &cfg->cpus, err)) < 0)
			return rc;
		if (cJSON_GetObjectItemCaseSensitive(obj, "disk")) {
			if ((rc = get_size(obj, "disk", &cfg->disk_bytes, err)) < 0)
				return rc;
			if (cfg->disk_bytes && cfg->disk_bytes < JOB_DISK_MIN)
				return strbuf_error(err, -EINVAL, "key 'limits.disk': want 0 (none) or at least 1M");
			cfg->has_disk = true;
		}
		if (cfg->cpus > 4096) {
			strbuf_addstr(err, "key 'limits.cpus': want a whole number from 1 to 4096");
			return -EINVAL;
		}
		if (json_get_bool(obj, "best_effort", &cfg->best_effort_limits,
				  false, err) == -EINVAL)
			return -EINVAL;
	}
	if ((rc = get_section(root, "capabilities", cap_keys, &obj, err)) < 0)
		return rc;
	if (rc) {
		if ((rc = get_str_array(obj, "add", &cfg->cap_add, err)) < 0 ||
		    (rc = get_str_array(obj, "drop", &cfg->cap_drop, err)) < 0)
			return rc;
		for (char **l = cfg->cap_add; l && *l; l++)
			if (!job_cap_name_ok(*l))
				return strbuf_error(err, -EINVAL, "key 'capabilities.add': unknown capability '%s'", *l);
		for (char **l = cfg->cap_drop; l && *l; l++)
			if (!job_cap_name_ok(*l))
				return strbuf_error(err, -EINVAL, "key 'capabilities.drop': unknown capability '%s'", *l);
	}
	return 0;
}

int config_load(const char *path, struct pc_config *cfg, struct strbuf *err)
{
	struct strbuf p = STRBUF_INIT, text = STRBUF_INIT, msg = STRBUF_INIT;
	cJSON *root = NULL;
	int rc = 0;

	memset(cfg, 0, sizeof(*cfg));
	if (path)
		strbuf_addstr(&p, path);
	else
		default_config_path(&p);
	if (!p.len)
		goto out;
	ssize_t n = strbuf_read_file_at(&text, AT_FDCWD, p.buf, 4096);
	if (n < 0) {
		if (n == -ENOENT && !path)
			goto out;
		rc = (int)n;
		strbuf_reset(err);
		strbuf_addf(err, "cannot read config file '%s': %s", p.buf, strerror(-rc));
		goto out;
	}
	if ((rc = json_parse(text.buf, text.len, &root, &msg)) < 0 ||
	    (rc = parse_config(root, cfg, &msg)) < 0) {
		strbuf_reset(err);
		strbuf_addf(err, "config file '%s': %s", p.buf, msg.buf);
		goto out;
	}
	cfg->loaded = true;
	cfg->path = strbuf_detach(&p, NULL);
out:
	cJSON_Delete(root);
	strbuf_release(&p);
	strbuf_release(&text);
	strbuf_release(&msg);
	return rc;
}

void config_release(struct pc_config *cfg)
{
	free(cfg->path);
	free(cfg->cache_dir);
	strv_free(cfg->outputs);
	strv_free(cfg->masks);
	strv_free(cfg->declared);
	strv_free(cfg->env_keep);
	strv_free(cfg->env_set);
	strv_free(cfg->env_unset);
	strv_free(cfg->cap_add);
	strv_free(cfg->cap_drop);
	remote_file_config_release(&cfg->remote);
	free(cfg->base_dir);
	memset(cfg, 0, sizeof(*cfg));
}

/* Copies of the strings of @from (NULL-terminated, or NULL) added to *@list. */
static void append_strv(char ***list, size_t *nr, size_t *alloc, char *const *from)
{
	for (char *const *p = from; p && *p; p++) {
		ALLOC_GROW(*list, *nr + 1, *alloc);
		(*list)[(*nr)++] = xstrdup(*p);
	}
}

void config_apply(const struct pc_config *cfg, struct job_opts *o)
{
	if (!cfg->loaded)
		return;
	if (o->nr_outputs == 0)
		append_strv(&o->outputs, &o->nr_outputs, &o->alloc_outputs, cfg->outputs);
	append_strv(&o->masks, &o->nr_masks, &o->alloc_masks, cfg->masks);
	append_strv(&o->declared, &o->nr_declared, &o->alloc_declared, cfg->declared);
	if (!o->timeout_s)
		o->timeout_s = cfg->timeout_s;
	if (!o->memory_bytes)
		o->memory_bytes = cfg->memory_bytes;
	if (!o->pids_max)
		o->pids_max = cfg->pids_max;
	if (!o->has_disk && cfg->has_disk) {
		o->disk_bytes = cfg->disk_bytes;
		o->has_disk = true;
	}
	if (!o->cpus)
		o->cpus = cfg->cpus;
	o->best_effort_limits |= cfg->best_effort_limits;
	o->no_cache_failures |= cfg->no_cache_failures;
	o->nested |= cfg->nested;
	if (!o->mtime_set && cfg->has_mtime)
		o->mtime_content = cfg->mtime_content;
	if (!o->nr_cap_add && !o->nr_cap_drop) {
		append_strv(&o->cap_add, &o->nr_cap_add, &o->alloc_cap_add, cfg->cap_add);
		append_strv(&o->cap_drop, &o->nr_cap_drop, &o->alloc_cap_drop, cfg->cap_drop);
	}

	/* The file's environment options first, the command line's after. */
	struct envpolicy ep;
	envpolicy_init(&ep);
	ep.clear = cfg->env_clear || o->env.clear;
	for (char **p = cfg->env_keep; p && *p; p++)
		if (envpolicy_keep(&ep, *p) < 0)
			die("config: invalid env.keep '%s'", *p);
	for (char **p = cfg->env_unset; p && *p; p++)
		if (envpolicy_unset(&ep, *p) < 0)
			die("config: invalid env.unset '%s'", *p);
	for (char **p = cfg->env_set; p && *p; p++)
		if (envpolicy_set(&ep, *p) < 0)
			die("config: invalid env.set '%s'", *p);
	for (size_t i = 0; i < o->env.nr_keep; i++)
		envpolicy_keep(&ep, o->env.keep[i]);
	for (size_t i = 0; i < o->env.nr_unset; i++)
		envpolicy_unset(&ep, o->env.unset[i]);
	for (size_t i = 0; i < o->env.nr_set; i++)
		envpolicy_set(&ep, o->env.set[i]);
	envpolicy_release(&o->env);
	o->env = ep;
}

/* @dir made absolute (against the cwd) and clean. */
static char *absolute_dir(const char *dir)
{
	if (dir[0] == '/')
		return path_clean(dir);
	_cleanup_free_ char *cwd = getcwd(NULL, 0);
	if (!cwd)
		die_errno("cannot get the current directory");
	_cleanup_free_ char *abs = path_join(cwd, dir);
	return path_clean(abs);
}

static void resolve_cache_dir(const struct pc_config *cfg, const char *flag,
			      struct pc_settings *set)
{
	const char *env = config_env("PROCACHE_DIR");
	const char *xdg = config_env("XDG_CACHE_HOME");
	const char *home = config_env("HOME");
	_cleanup_free_ char *dflt = NULL;
	const char *dir;

	if (flag) {
		set->cache_dir_src = "--cache-dir";
		dir = flag;
	} else if (env) {
		set->cache_dir_src = "$PROCACHE_DIR";
		dir = env;
	} else if (cfg->cache_dir) {
		set->cache_dir_src = "config file";
		dir = cfg->cache_dir;
	} else if (xdg) {
		set->cache_dir_src = "$XDG_CACHE_HOME";
		dir = dflt = xasprintf("%s/procache", xdg);
	} else if (home) {
		set->cache_dir_src = "$HOME";
		dir = dflt = xasprintf("%s/.cache/procache", home);
	} else {
		die("no cache directory: set --cache-dir, $PROCACHE_DIR or $HOME");
	}
	set->cache_dir = absolute_dir(dir);
}

char *config_base_dir(const struct pc_config *cfg, const char *flag,
		      const char **src)
{
	const char *env = config_env("PROCACHE_BASE_DIR");
	const char *dir = flag ? flag : env ? env : cfg->base_dir;

	*src = flag ? "--base-dir" : env ? "$PROCACHE_BASE_DIR" : "config file";
	if (!dir)
		return NULL;
	_cleanup_free_ char *abs = absolute_dir(dir);
	char *real = realpath(abs, NULL);
	if (!real)
		die_errno("cannot resolve the base directory '%s' (from %s)", dir, *src);
	if (!strcmp(real, "/"))
		die("the base directory cannot be '/' (from %s)", *src);
	return real;
}

const char *config_batch(const char *flag)
{
	const char *name = flag ? flag : config_env("PROCACHE_BATCH");

	if (name && cache_batch_name_check(name) < 0)
		die("invalid PROCACHE_BATCH '%s' (want 1 to 64 letters, digits, '.', '_' or '-', not starting with '.')",
		    name);
	return name;
}

static void resolve_max_size(const struct pc_config *cfg, struct pc_settings *set)
{
	const char *env = config_env("PROCACHE_MAX_SIZE");

	if (env) {
		if (parse_size(env, &set->max_size) < 0)
			die("invalid PROCACHE_MAX_SIZE '%s' (expected a size such as 500M or 2G)",
			    env);
		set->max_size_src = "$PROCACHE_MAX_SIZE";
	} else if (cfg->has_max_size) {
		set->max_size = cfg->max_size;
		set->max_size_src = "config file";
	} else {
		set->max_size = CONFIG_DEFAULT_MAX_SIZE;
		set->max_size_src = NULL;
	}
}

static void resolve_fast_path(struct pc_settings *set)
{
	const char *env = config_env("PROCACHE_FAST_PATH");

	if (env && strcmp(env, "0") && strcmp(env, "1"))
		die("invalid PROCACHE_FAST_PATH '%s' (expected 0 or 1)", env);
	set->fast_path = !env || !strcmp(env, "1");
}

void config_resolve(const struct pc_config *cfg, const char *cache_dir_flag,
		    struct pc_settings *set)
{
	memset(set, 0, sizeof(*set));
	resolve_cache_dir(cfg, cache_dir_flag, set);
	resolve_max_size(cfg, set);
	resolve_fast_path(set);
}

void config_settings_release(struct pc_settings *set)
{
	free(set->cache_dir);
	memset(set, 0, sizeof(*set));
}

void config_read(const char *path, const char *cache_dir_flag,
		 struct pc_config *cfg, struct pc_settings *set)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;

	if (config_load(path, cfg, &err) < 0)
		die("%s", err.buf);
	config_resolve(cfg, cache_dir_flag, set);
}

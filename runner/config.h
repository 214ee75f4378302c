/*
 * Settings: the one place that reads procache's configuration from
 * outside its command line — the configuration file, the environment
 * ($PROCACHE_DIR, $PROCACHE_MAX_SIZE, $PROCACHE_FAST_PATH,
 * $XDG_CACHE_HOME, $HOME, $XDG_CONFIG_HOME) and the built-in defaults —
 * and decides each setting.
 * Precedence: the command line over the environment over the file over
 * the defaults; an empty variable counts as unset. Nothing else in
 * procache reads these variables or the file (runner/remote.c reads the
 * remote's through config_env()).
 *
 * Location of the file: --config FILE, else
 * $XDG_CONFIG_HOME/procache/config.json, else
 * ~/.config/procache/config.json (a missing default file is fine; a
 * missing --config file is an error).
 *
 * Format (every key optional; unknown keys, wrong types and malformed
 * values are errors naming the key):
 *	{
 *	  "cache_dir": "/var/cache/procache",
 *	  "max_size": "10G",
 *	  "outputs": ["out", "/abs/dir"],          (relative: to the cwd)
 *	  "masks": ["/home/me/.ssh"],
 *	  "declared_outputs": ["out.txt"],          (--declare-output)
 *	  "env": { "clear": false, "keep": ["PATH"], "set": {"LC_ALL": "C"},
 *	           "unset": ["TERM"] },
 *	  "limits": { "timeout": "10m", "memory": "2G", "pids": 4096,
 *	              "best_effort": false },
 *	  "mtime": "exact"                          (or "content": --mtime)
 *	              "disk": "20G", "best_effort": false },
 *	  "capabilities": { "add": ["NET_ADMIN"], "drop": ["MKNOD"] },
 *	  "remote": { ... },                       (runner/remote.h)
 *	  "base_dir": "/home/me/src",              (DESIGN.md section 12)
	  "cache_failures": true                   (false: --no-cache-failures)
 *	  "nested": false                          (true: --nested)
 *	}
 * Outputs given on the command line replace the file's, and so do
 * --cap-add/--cap-drop the file's capabilities (both lists, when either
 * option is given); masks, declared outputs and environment options add
 * to them (the file's first).
 *
 * Calling sequence (runner/job.c, runner/cmd-cache.c, runner/cmd-config.c):
 *	struct pc_config cfg;
 *	struct pc_settings set;
 *	config_read(config_path, cache_dir_flag, &cfg, &set);  // dies (125)
 *	config_apply(&cfg, &opts);     // 'run' and 'trace': the job's options
 *	... set.cache_dir, set.max_size ...
 *	config_settings_release(&set);
 *	config_release(&cfg);
 *
 * This is runner/ code: the functions that do not return an error die()
 * with exit status 125.
 */
#ifndef PROCACHE_RUNNER_CONFIG_H
#define PROCACHE_RUNNER_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/strbuf.h"
#include "runner/remote.h"

struct job_opts;

/* The cache's size limit when none is configured: ccache's, 5 GiB. */
#define CONFIG_DEFAULT_MAX_SIZE (UINT64_C(5) << 30)

/* The configuration file's values, as read (none of them resolved). */
struct pc_config {
	char *path;			/* the file read, or NULL */
	bool loaded;
	char *cache_dir;		/* as written in the file */
	uint64_t max_size;		/* meaningful when has_max_size */
	bool has_max_size;
	char **outputs, **masks, **declared; /* NULL-terminated or NULL */
	bool env_clear;
	char **env_keep, **env_set, **env_unset;
	double timeout_s;
	uint64_t memory_bytes, pids_max, cpus;
	uint64_t disk_bytes;		/* meaningful when has_disk (0: none) */
	bool has_disk;
	bool best_effort_limits;
	/* "mtime": "exact" or "content" (DESIGN.md §3); has_mtime: given */
	bool mtime_content, has_mtime;
	char **cap_add, **cap_drop;	/* NULL-terminated or NULL; checked */
	struct remote_file_config remote;
	char *base_dir;			/* absolute, as written */
	/* "cache_failures": false, --no-cache-failures */
	bool no_cache_failures;
	/* "nested": true, --nested (DESIGN.md §13) */
	bool nested;
};

/* The settings of the cache, resolved by precedence. */
struct pc_settings {
	/*
	 * --cache-dir, $PROCACHE_DIR, the file's cache_dir,
	 * $XDG_CACHE_HOME/procache, $HOME/.cache/procache: the first given,
	 * made absolute (against the cwd) and clean.
	 */
	char *cache_dir;
	const char *cache_dir_src;	/* "--cache-dir", "$PROCACHE_DIR",
					 * "config file", "$XDG_CACHE_HOME", "$HOME" */
	/*
	 * $PROCACHE_MAX_SIZE, the file's max_size, else
	 * CONFIG_DEFAULT_MAX_SIZE; 0 (given as "0") is no limit.
	 */
	uint64_t max_size;
	const char *max_size_src;	/* "$PROCACHE_MAX_SIZE", "config file",
					 * NULL: none (the default) */
	/*
	 * The tracer's fast path (DESIGN.md §3.1): on, unless
	 * $PROCACHE_FAST_PATH is 0 (the tests force it off to show that
	 * both paths record the same; a hidden setting, not in the file).
	 */
	bool fast_path;
};

/*
 * Read the configuration file: @path (from --config) or the default
 * location. Returns 0 (also when the default file does not exist), or
 * -errno with a message in @err ("config file '...': key 'limits.pids':
 * expected ...").
 */
int config_load(const char *path, struct pc_config *cfg, struct strbuf *err);
void config_release(struct pc_config *cfg);

/*
 * Resolve the settings of @set from @cache_dir_flag (--cache-dir, or
 * NULL), the environment and @cfg. Dies (125) when no rule gives a cache
 * directory, or on an invalid $PROCACHE_MAX_SIZE.
 */
void config_resolve(const struct pc_config *cfg, const char *cache_dir_flag,
		    struct pc_settings *set);
void config_settings_release(struct pc_settings *set);

/*
 * A duration at @key of the config file's object @obj, when there is one:
 * a string ("10m", "1.5") or a number of seconds, > 0. 0, or -EINVAL with
 * a message naming the key as @name ("limits.timeout").
 */
int config_json_seconds(const cJSON *obj, const char *key, const char *name,
			double *out, struct strbuf *err);

/* A variable of the environment; an empty one counts as unset (NULL). */
const char *config_env(const char *name);

/*
 * The base directory (DESIGN.md section 12): @flag (--base-dir),
 * $PROCACHE_BASE_DIR or the file's base_dir, canonical (realpath), or
 * NULL for none; *@src says which. Dies when it cannot be resolved or is
 * "/".
 */
char *config_base_dir(const struct pc_config *cfg, const char *flag,
		      const char **src);

/*
 * The batch a run is counted in: @flag (--batch), else $PROCACHE_BATCH,
 * else NULL (none). Dies on an invalid $PROCACHE_BATCH.
 */
const char *config_batch(const char *flag);

/* config_load() (dying with its message on failure), then config_resolve(). */
void config_read(const char *path, const char *cache_dir_flag,
		 struct pc_config *cfg, struct pc_settings *set);

/*
 * Fill what the command line left unset in @o from @cfg. Dies (125) on an
 * invalid value (already checked by config_load, so only on a bug).
 */
void config_apply(const struct pc_config *cfg, struct job_opts *o);

#endif

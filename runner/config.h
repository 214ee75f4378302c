/*
 * The configuration file: defaults for procache's options.
 *
 * Location: --config FILE, else $XDG_CONFIG_HOME/procache/config.json,
 * else ~/.config/procache/config.json (a missing default file is fine; a
 * missing --config file is an error). Precedence: the command line over the
 * environment ($PROCACHE_DIR, $PROCACHE_MAX_SIZE) over the file over the
 * built-in defaults.
 *
 * Format (every key optional; unknown keys, wrong types and malformed
 * values are errors naming the key):
 *	{
 *	  "cache_dir": "/var/cache/procache",
 *	  "max_size": "10G",
 *	  "outputs": ["out", "/abs/dir"],          (relative: to the cwd)
 *	  "masks": ["/home/me/.ssh"],
 *	  "env": { "clear": false, "keep": ["PATH"], "set": {"LC_ALL": "C"},
 *	           "unset": ["TERM"] },
 *	  "limits": { "timeout": "10m", "memory": "2G", "pids": 4096,
 *	              "best_effort": false }
 *	}
 * Outputs given on the command line replace the file's; masks and
 * environment options add to them (the file's first).
 */
#ifndef PROCACHE_RUNNER_CONFIG_H
#define PROCACHE_RUNNER_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "common/strbuf.h"

struct job_opts;

enum config_source { CONFIG_DEFAULT, CONFIG_FILE, CONFIG_ENV, CONFIG_FLAG };

struct pc_config {
	char *path;			/* the file read, or NULL */
	bool loaded;
	char *cache_dir;		/* from the file */
	uint64_t max_size;		/* from the file; 0 = none */
	bool has_max_size;
	char **outputs, **masks;	/* NULL-terminated or NULL */
	bool env_clear;
	char **env_keep, **env_set, **env_unset;
	double timeout_s;
	uint64_t memory_bytes, pids_max;
	bool best_effort_limits;
};

/*
 * Read the configuration: @path (from --config) or the default location.
 * Returns 0 (also when the default file does not exist), or -errno with a
 * message in @err ("config file '...': key 'limits.pids': expected ...").
 */
int config_load(const char *path, struct pc_config *cfg, struct strbuf *err);
void config_release(struct pc_config *cfg);

/*
 * Fill what the command line left unset in @o from @cfg. Dies (125) on an
 * invalid value (already checked by config_load, so only on a bug).
 */
void config_apply(const struct pc_config *cfg, struct job_opts *o);

/*
 * The cache directory by precedence: @flag, $PROCACHE_DIR, the file, the
 * XDG/HOME default. Absolute and clean into @out; *@src says where from.
 * Dies (125) when no rule gives one.
 */
void config_cache_dir(const struct pc_config *cfg, const char *flag,
		      struct strbuf *out, const char **src);

#endif

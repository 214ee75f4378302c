/*
 * The options of 'procache run' and 'procache trace' (runner/options.c):
 * what the command line says about a job, before the configuration file
 * fills what it left unset (config_apply() in runner/config.h).
 *
 * Calling sequence (runner/run.c and runner/cmd-trace.c; the middle two
 * steps are job_start()'s, in runner/job.c):
 *	struct job_opts o;
 *	job_opts_init(&o);
 *	i = job_opts_parse(&o, argc, argv, JOB_CMD_RUN);  // dies on bad options
 *	config_apply(&cfg, &o);                          // the file's defaults
 *	... argv + i is the command ...
 *	job_opts_release(&o);
 */
#ifndef PROCACHE_RUNNER_OPTIONS_H
#define PROCACHE_RUNNER_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runner/envpolicy.h"

enum job_cmd { JOB_CMD_RUN, JOB_CMD_TRACE };

/* The smallest disk limit (--disk, limits.disk) other than 0 (none). */
#define JOB_DISK_MIN (1024 * 1024)

struct job_opts {
	const char *cache_dir;		/* --cache-dir, as given */
	const char *config_path;	/* --config FILE */
	bool no_cache, refresh, check, explain;
	bool share_net, share_tmp, untrusted, best_effort_limits;
	bool strict_stat, no_trace, fsync, keep_run_dir, json;
	/*
	 * --mtime=content: a stat's mtime may change when the file's bytes
	 * stay (DESIGN.md §3); false: exact (the default). mtime_set: given
	 * on the command line (else the configuration file decides).
	 */
	bool mtime_content, mtime_set;
	const char *report_path, *diff_json_path, *log_path;
	double timeout_s;
	uint64_t memory_bytes, pids_max;
	uint64_t disk_bytes;		/* --disk; meaningful when has_disk (0: none) */
	bool has_disk;
	uint64_t cpus;			/* --cpus N; 0: the CPUs procache has */
	char **outputs;
	size_t nr_outputs, alloc_outputs;
	char **masks;
	size_t nr_masks, alloc_masks;
	/* --cap-add, --cap-drop: names as given ("ALL" allowed), checked */
	char **cap_add, **cap_drop;
	size_t nr_cap_add, alloc_cap_add, nr_cap_drop, alloc_cap_drop;
	/* --declare-output PATH: hidden from the job, its result replaces it */
	char **declared;
	size_t nr_declared, alloc_declared;
	struct envpolicy env;
	const char *remote_url;		/* --remote URL (no credentials) */
	bool no_remote, remote_read_only;
	const char *base_dir;		/* --base-dir DIR, as given */
	/*
	 * --no-cache-failures (config "cache_failures": false): store only
	 * runs that exit 0, and replay no stored failure.
	 */
	bool no_cache_failures;
	/*
	 * --nested (config "nested": true): each program the job executes is
	 * an execution unit, cached on its own (DESIGN.md §13). Checked
	 * against --untrusted and --no-trace by job_nested_check().
	 */
	bool nested;
	const char *batch;		/* --batch NAME, as given */
	/* --check-ignore REGEX: text lines --check does not compare */
	char **check_ignores;		/* NULL-terminated when not NULL */
	size_t nr_check_ignores, alloc_check_ignores;
};

/* @name is a capability --cap-add/--cap-drop accept (any case, CAP_ or not, ALL). */
bool job_cap_name_ok(const char *name);
/*
 * The capabilities a root job keeps for these --cap-add and --cap-drop
 * names (checked with job_cap_name_ok()), by Docker's rule, whatever
 * their order: ALL added gives every capability but those dropped;
 * otherwise ALL dropped gives those added; otherwise the default set
 * (SBX_CAPS_DEFAULT) without those dropped, with those added.
 */
uint64_t job_caps_resolve(char *const *add, size_t nr_add, char *const *drop,
			  size_t nr_drop);

void job_opts_init(struct job_opts *o);
void job_opts_release(struct job_opts *o);

/*
 * Parse the options of 'procache run' or 'procache trace' (argv[0] is the
 * command's name). Returns the index of the command's first word; dies
 * (125) on an unknown option, a missing or malformed value, or no command.
 * Prints the help and exits 0 on --help. The single strings of @o
 * (cache_dir, config_path, report_path, ...) point into @argv; outputs,
 * masks and env are copies, freed by job_opts_release().
 */
int job_opts_parse(struct job_opts *o, int argc, char **argv, enum job_cmd cmd);

#endif

/*
 * procache config: print the effective configuration, one
 * 'key = value (source)' per line, as runner/config.c resolves it.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/die.h"
#include "runner/commands.h"
#include "runner/config.h"
#include "sandbox/sandbox.h"
#include "runner/remote.h"
#include "common/banned.h"

static const char config_usage[] =
	"usage: procache config [--config FILE] [--cache-dir DIR]\n"
	"\n"
	"Print the effective configuration, one 'key = value (source)' per line.\n"
	"Sources: command line, environment, config file, default.\n";

static void print_list(const char *key, char **v, const char *src, const char *dflt)
{
	if (!v || !*v) {
		printf("%s = %s\t(default)\n", key, dflt);
		return;
	}
	printf("%s =", key);
	for (char **p = v; *p; p++)
		printf(" %s", *p);
	printf("\t(%s)\n", src);
}

int cmd_config(int argc, char **argv)
{
	const char *flag = NULL, *config_path = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(config_usage, stdout);
			return 0;
		} else if ((!strcmp(a, "--cache-dir") || !strcmp(a, "--config")) &&
			   i + 1 < argc) {
			*(a[2] == 'c' && a[3] == 'a' ? &flag : &config_path) = argv[++i];
		} else if (!strncmp(a, "--cache-dir=", 12)) {
			flag = a + 12;
		} else if (!strncmp(a, "--config=", 9)) {
			config_path = a + 9;
		} else {
			die("unknown argument '%s'; see 'procache config --help'", a);
		}
	}
	if (flag && (!*flag || strlen(flag) >= PATH_MAX))
		die("option '--cache-dir' needs a non-empty path shorter than %d bytes",
		    PATH_MAX);
	if (config_path && (!*config_path || strlen(config_path) >= PATH_MAX))
		die("option '--config' needs a file name shorter than %d bytes",
		    PATH_MAX);
	struct pc_config cfg;
	struct pc_settings set;
	config_read(config_path, flag, &cfg, &set);
	const char *file = cfg.loaded ? "config file" : "default";

	printf("config_file = %s\n", cfg.loaded ? cfg.path : "none");
	printf("cache_dir = %s\t(%s)\n", set.cache_dir, set.cache_dir_src);
	if (!set.max_size)
		printf("max_size = none\t(%s)\n", set.max_size_src);
	else
		printf("max_size = %llu\t(%s)\n", (unsigned long long)set.max_size,
		       set.max_size_src ? set.max_size_src : "default");
	print_list("outputs", cfg.outputs, file, ".");
	print_list("masks", cfg.masks, file, "none");
	print_list("declared_outputs", cfg.declared, file, "none");
	printf("env.clear = %s\t(%s)\n", cfg.env_clear ? "true" : "false",
	       cfg.env_clear ? file : "default");
	print_list("env.keep", cfg.env_keep, file, "none");
	print_list("env.set", cfg.env_set, file, "none");
	print_list("env.unset", cfg.env_unset, file, "none");
	if (cfg.timeout_s)
		printf("limits.timeout = %g\t(config file)\n", cfg.timeout_s);
	else
		printf("limits.timeout = none\t(default)\n");
	if (cfg.memory_bytes)
		printf("limits.memory = %llu\t(config file)\n", (unsigned long long)cfg.memory_bytes);
	else
		printf("limits.memory = none\t(default)\n");
	if (cfg.pids_max)
		printf("limits.pids = %llu\t(config file)\n", (unsigned long long)cfg.pids_max);
	else
		printf("limits.pids = none\t(default)\n");
	if (cfg.has_disk)
		printf("limits.disk = %llu\t(config file)\n", (unsigned long long)cfg.disk_bytes);
	else
		printf("limits.disk = %llu\t(default)\n",
		       (unsigned long long)sbx_disk_default(set.cache_dir));
	printf("limits.best_effort = %s\t(%s)\n", cfg.best_effort_limits ? "true" : "false",
	       cfg.best_effort_limits ? "config file" : "default");
	printf("mtime = %s\t(%s)\n", cfg.mtime_content ? "content" : "exact",
	       cfg.has_mtime ? "config file" : "default");
	print_list("capabilities.add", cfg.cap_add, file, "none");
	print_list("capabilities.drop", cfg.cap_drop, file, "none");
	struct remote_settings rs;
	struct strbuf mode = STRBUF_INIT;
	remote_resolve(&cfg.remote, NULL, false, false, &rs);
	remote_describe(&rs, &mode);
	printf("remote = %s\t(%s)\n", mode.buf, rs.url ? rs.url_src : "default");
	strbuf_release(&mode);
	remote_settings_release(&rs);
	const char *base_src;
	char *base = config_base_dir(&cfg, NULL, &base_src);
	printf("base_dir = %s\t(%s)\n", base ? base : "none", base ? base_src : "default");
	free(base);
	config_settings_release(&set);
	config_release(&cfg);
	return 0;
}

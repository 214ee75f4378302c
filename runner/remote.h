/*
 * The remote cache's settings (DESIGN.md section 11; runner/remote.c):
 * the config file's "remote" section, the PROCACHE_REMOTE* variables and
 * the run options, resolved into one cache_remote_config, and the handle
 * opened from it.
 *
 * Config file (every key optional; see runner/config.h for the rest):
 *	"remote": { "url": "https://user:pw@cache.example/procache/",
 *	            "read_only": false, "user": "ci", "password": "...",
 *	            "token": "...", "ca_file": "/etc/ssl/my-ca.pem",
 *	            "client_cert": "/etc/procache/client.pem",
 *	            "client_key": "/etc/procache/client.key",
 *	            "prefix": "procache:", "ttl": "7d",
 *	            "connect_timeout": "1s", "timeout": "5s" }
 * Environment: $PROCACHE_REMOTE (URL), $PROCACHE_REMOTE_READ_ONLY (1, 0),
 * $PROCACHE_REMOTE_TOKEN, $PROCACHE_REMOTE_USER, $PROCACHE_REMOTE_PASSWORD,
 * $PROCACHE_REMOTE_CA_FILE. Precedence as for every setting: the command
 * line, the environment, the file. Credentials are never taken from the
 * command line, nor from a URL outside the config file.
 *
 * Calling sequence: config_load() calls remote_config_parse() for the
 * file's section; config_resolve() calls remote_resolve(); job_start()
 * calls remote_open_or_die(); `cache stats` and `config` print
 * remote_describe().
 *
 * This is runner/ code: an invalid setting dies (125).
 */
#ifndef PROCACHE_RUNNER_REMOTE_H
#define PROCACHE_RUNNER_REMOTE_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "cache/remote.h"
#include "common/strbuf.h"

/* The config file's "remote" section, as read. */
struct remote_file_config {
	char *url, *user, *password, *token, *ca_file, *prefix;
	char *client_cert, *client_key;
	uint64_t ttl_s;
	double connect_timeout_s, timeout_s;
	bool read_only;
};

/* Parse the section @obj into @rc: 0, or -EINVAL naming the key. */
int remote_config_parse(const cJSON *obj, struct remote_file_config *rc,
			struct strbuf *err);
void remote_file_config_release(struct remote_file_config *rc);

/* The resolved remote: off when url is NULL. */
struct remote_settings {
	char *url;
	const char *url_src;	/* "--remote", "$PROCACHE_REMOTE", "config file" */
	bool read_only;
	const char *read_only_src;
	struct cache_remote_config cfg;	/* points into this struct and the file config */
	char *user, *password, *token, *ca_file;
};

/*
 * Resolve from the run options (@flag_url: --remote or NULL, @no_remote,
 * @flag_read_only), the environment and @file. Dies on a URL with
 * credentials from the command line or the environment. @file must
 * outlive @out.
 */
void remote_resolve(const struct remote_file_config *file, const char *flag_url,
		    bool no_remote, bool flag_read_only,
		    struct remote_settings *out);
void remote_settings_release(struct remote_settings *s);

/* The handle for @s, or NULL when no remote is set; dies on a bad URL. */
struct cache_remote *remote_open_or_die(const struct remote_settings *s);

/* "off", or "read-write URL" / "read-only URL" (no credentials) into @out. */
void remote_describe(const struct remote_settings *s, struct strbuf *out);

#endif

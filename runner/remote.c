/*
 * The remote cache's settings (contracts in runner/remote.h): the config
 * file's section, the environment, the options, and opening the handle.
 * The variables are read through config_env() (runner/config.h), the one
 * reader of procache's settings from the environment.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cache/remote.h"
#include "common/cleanup.h"
#include "common/die.h"
#include "common/json.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "runner/config.h"
#include "runner/remote.h"
#include "common/banned.h"

static int get_string(const cJSON *obj, const char *key, char **out,
		      struct strbuf *err)
{
	const char *s;
	int rc = json_get_str(obj, key, &s, false, err);

	if (rc == -EINVAL)
		return rc;
	if (rc == 0) {
		if (!*s || strlen(s) >= PATH_MAX) {
			strbuf_addf(err, "key 'remote.%s': expected a non-empty string", key);
			return -EINVAL;
		}
		*out = xstrdup(s);
	}
	return 0;
}

int remote_config_parse(const cJSON *obj, struct remote_file_config *rc,
			struct strbuf *err)
{
	static const char *const keys[] = { "url", "read_only", "user", "password",
		"token", "ca_file", "client_cert", "client_key", "prefix", "ttl",
		"connect_timeout", "timeout", NULL };
	const cJSON *ttl;
	int r;

	if ((r = json_check_keys(obj, keys, err)) < 0)
		return r;
	if ((r = get_string(obj, "url", &rc->url, err)) < 0 ||
	    (r = get_string(obj, "user", &rc->user, err)) < 0 ||
	    (r = get_string(obj, "password", &rc->password, err)) < 0 ||
	    (r = get_string(obj, "token", &rc->token, err)) < 0 ||
	    (r = get_string(obj, "ca_file", &rc->ca_file, err)) < 0 ||
	    (r = get_string(obj, "client_cert", &rc->client_cert, err)) < 0 ||
	    (r = get_string(obj, "client_key", &rc->client_key, err)) < 0 ||
	    (r = get_string(obj, "prefix", &rc->prefix, err)) < 0 ||
	    (r = config_json_seconds(obj, "connect_timeout", "remote.connect_timeout",
				     &rc->connect_timeout_s, err)) < 0 ||
	    (r = config_json_seconds(obj, "timeout", "remote.timeout",
				     &rc->timeout_s, err)) < 0)
		return r;
	if (json_get_bool(obj, "read_only", &rc->read_only, false, err) == -EINVAL)
		return -EINVAL;
	ttl = cJSON_GetObjectItemCaseSensitive(obj, "ttl");
	if (ttl && !(cJSON_IsString(ttl) && parse_age(ttl->valuestring, &rc->ttl_s) == 0) &&
	    !(cJSON_IsNumber(ttl) && ttl->valuedouble >= 0 && ttl->valuedouble < 1e10 &&
	      (rc->ttl_s = (uint64_t)ttl->valuedouble, 1))) {
		strbuf_addstr(err, "key 'remote.ttl': expected an age such as \"7d\" or seconds");
		return -EINVAL;
	}
	return 0;
}

void remote_file_config_release(struct remote_file_config *rc)
{
	free(rc->url);
	free(rc->user);
	free(rc->password);
	free(rc->token);
	free(rc->ca_file);
	free(rc->client_cert);
	free(rc->client_key);
	free(rc->prefix);
	memset(rc, 0, sizeof(*rc));
}

/* Does @url carry a user or password ("scheme://user:pw@host")? */
static bool has_userinfo(const char *url)
{
	const char *p = strstr(url, "://");

	if (!p)
		return false;
	p += 3;
	return memchr(p, '@', strcspn(p, "/?#")) != NULL;
}

static bool env_bool(const char *name, bool *out)
{
	const char *v = config_env(name);

	if (!v)
		return false;
	if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes"))
		*out = true;
	else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no"))
		*out = false;
	else
		die("invalid %s '%s' (expected 1 or 0)", name, v);
	return true;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void remote_resolve(const struct remote_file_config *file, const char *flag_url,
		    bool no_remote, bool flag_read_only,
		    struct remote_settings *out)
{
	const char *env_url = config_env("PROCACHE_REMOTE");
	const char *v;

	memset(out, 0, sizeof(*out));
	if (no_remote)
		return;
	if (flag_url) {
		if (has_userinfo(flag_url))
			die("option '--remote': credentials in the URL would be visible to every user (ps); put them in the config file or in $PROCACHE_REMOTE_USER/$PROCACHE_REMOTE_PASSWORD");
		out->url = xstrdup(flag_url);
		out->url_src = "--remote";
	} else if (env_url) {
		if (has_userinfo(env_url))
			die("$PROCACHE_REMOTE: credentials in the URL are read from the config file only; use $PROCACHE_REMOTE_USER/$PROCACHE_REMOTE_PASSWORD");
		out->url = xstrdup(env_url);
		out->url_src = "$PROCACHE_REMOTE";
	} else if (file->url) {
		out->url = xstrdup(file->url);
		out->url_src = "config file";
	} else {
		return;
	}
	if (flag_read_only) {
		out->read_only = true;
		out->read_only_src = "--remote-read-only";
	} else if (env_bool("PROCACHE_REMOTE_READ_ONLY", &out->read_only)) {
		out->read_only_src = "$PROCACHE_REMOTE_READ_ONLY";
	} else if (file->read_only) {
		out->read_only = true;
		out->read_only_src = "config file";
	}
	out->token = dup_or_null((v = config_env("PROCACHE_REMOTE_TOKEN")) ? v : file->token);
	out->user = dup_or_null((v = config_env("PROCACHE_REMOTE_USER")) ? v : file->user);
	out->password = dup_or_null((v = config_env("PROCACHE_REMOTE_PASSWORD")) ? v
								   : file->password);
	out->ca_file = dup_or_null((v = config_env("PROCACHE_REMOTE_CA_FILE")) ? v
								   : file->ca_file);
	out->cfg = (struct cache_remote_config){
		.url = out->url,
		.user = out->user,
		.password = out->password,
		.token = out->token,
		.ca_file = out->ca_file,
		.client_cert = file->client_cert,
		.client_key = file->client_key,
		.prefix = file->prefix,
		.ttl_s = file->ttl_s,
		.connect_timeout_s = file->connect_timeout_s,
		.timeout_s = file->timeout_s,
		.read_only = out->read_only,
	};
}

void remote_settings_release(struct remote_settings *s)
{
	free(s->url);
	free(s->user);
	free(s->password);
	free(s->token);
	free(s->ca_file);
	memset(s, 0, sizeof(*s));
}

struct cache_remote *remote_open_or_die(const struct remote_settings *s)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct cache_remote *rm;

	if (!s->url)
		return NULL;
	if (cache_remote_open(&s->cfg, &rm, &err) < 0)
		die("%s (from %s)", err.buf, s->url_src);
	return rm;
}

void remote_describe(const struct remote_settings *s, struct strbuf *out)
{
	struct cache_remote *rm;

	strbuf_reset(out);
	if (!s->url) {
		strbuf_addstr(out, "off");
		return;
	}
	rm = remote_open_or_die(s);
	strbuf_addf(out, "%s %s", s->read_only ? "read-only" : "read-write",
		    cache_remote_display(rm));
	cache_remote_close(rm);
}

/*
 * procache trace: run a job in the sandbox with the tracer and print what
 * it observed of the host, storing and applying nothing. It is the tool to
 * see what procache sees.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cjson/cJSON.h>

#include "cache/cache.h"
#include "common/change.h"
#include "common/die.h"
#include "common/json.h"
#include "runner/commands.h"
#include "runner/job.h"
#include "common/banned.h"

/* A stat's file type in the entries' vocabulary; "none" when nothing was there. */
static const char *file_type(mode_t mode)
{
	return mode ? file_type_name(mode) : "none";
}

static cJSON *obs_json(const struct trace_obs *ob)
{
	cJSON *it = cJSON_CreateObject();
	char hex[PC_HASH_HEX_LEN + 1];

	cJSON_AddStringToObject(it, "kind", trace_obs_kind_name(ob->kind));
	cJSON_AddStringToObject(it, "path", ob->path);
	cJSON_AddStringToObject(it, "syscall", ob->syscall ? ob->syscall : "");
	switch (ob->kind) {
	case TRACE_CONTENT:
	case TRACE_STAT:
		cJSON_AddStringToObject(it, "type", file_type(ob->st.st_mode));
		cJSON_AddNumberToObject(it, "mode", ob->st.st_mode & 07777);
		if (ob->kind == TRACE_STAT && S_ISREG(ob->st.st_mode))
			cJSON_AddNumberToObject(it, "size", (double)ob->st.st_size);
		break;
	case TRACE_LISTING:
		cJSON_AddNumberToObject(it, "entries", (double)ob->nr_entries);
		break;
	case TRACE_SYMLINK:
		cJSON_AddStringToObject(it, "target", ob->value ? ob->value : "");
		break;
	case TRACE_HOSTFACT:
		cJSON_AddStringToObject(it, "value", ob->value ? ob->value : "");
		break;
	case TRACE_OUTPUT:
		cJSON_AddStringToObject(it, "type", file_type(ob->st.st_mode));
		if (ob->st.st_mode)
			cJSON_AddNumberToObject(it, "mode", ob->st.st_mode & 07777);
		if (ob->create)
			cJSON_AddNumberToObject(it, "create_mode", ob->create_mode);
		break;
	case TRACE_ABSENT:
	case TRACE_XATTRS:
		break;
	}
	if (ob->hashed) {
		pc_hash_to_hex(&ob->hash, hex);
		cJSON_AddStringToObject(it, "hash", hex);
	}
	return it;
}

static void print_obs_line(const struct trace_obs *ob)
{
	char hex[PC_HASH_HEX_LEN + 1];
	const char *kind = trace_obs_kind_name(ob->kind);

	switch (ob->kind) {
	case TRACE_CONTENT:
	case TRACE_LISTING:
	case TRACE_XATTRS:
		if (ob->hashed)
			pc_hash_to_hex(&ob->hash, hex);
		else
			snprintf(hex, sizeof(hex), "%s", "unhashed");
		printf("%-8s %s %s (%s)\n", kind, ob->path, hex, ob->syscall);
		break;
	case TRACE_SYMLINK:
		printf("%-8s %s -> %s (%s)\n", kind, ob->path, ob->value, ob->syscall);
		break;
	case TRACE_HOSTFACT:
		printf("%-8s %s = %s (%s)\n", kind, ob->path, ob->value, ob->syscall);
		break;
	case TRACE_STAT:
		printf("%-8s %s %s %04o (%s)\n", kind, ob->path,
		       file_type(ob->st.st_mode), (unsigned)(ob->st.st_mode & 07777),
		       ob->syscall);
		break;
	case TRACE_ABSENT:
		printf("%-8s %s (%s)\n", kind, ob->path, ob->syscall);
		break;
	case TRACE_OUTPUT:
		if (ob->st.st_mode)
			printf("%-8s %s file %04o (%s)\n", kind, ob->path,
			       (unsigned)(ob->st.st_mode & 07777), ob->syscall);
		else
			printf("%-8s %s absent, created %04o (%s)\n", kind, ob->path,
			       (unsigned)ob->create_mode, ob->syscall);
		break;
	}
}

int cmd_trace(int argc, char **argv)
{
	struct job_opts o;
	struct job j;
	struct job_run r;

	job_opts_init(&o);
	struct cache *c = job_start(&o, argc, argv, JOB_CMD_TRACE, &j);
	j.stdout_fd = 2;

	/*
	 * The job's own output goes to stderr so that stdout carries only
	 * the observations (parseable with --json).
	 */
	job_execute(&j, cache_run_root(c), &r);

	size_t n = trace_nr_obs(r.trace);
	if (o.json) {
		cJSON *root = cJSON_CreateObject();
		cJSON *obs = cJSON_AddArrayToObject(root, "observations");
		for (size_t i = 0; i < n; i++)
			cJSON_AddItemToArray(obs, obs_json(trace_obs_at(r.trace, i)));
		cJSON *taints = cJSON_AddArrayToObject(root, "taints");
		for (size_t i = 0; i < r.nr_reasons; i++)
			cJSON_AddItemToArray(taints, cJSON_CreateString(r.reasons[i]));
		cJSON_AddNumberToObject(root, "exit_code", r.exit_status);
		char *text = json_print_output(root, true);
		puts(text);
		free(text);
		cJSON_Delete(root);
	} else {
		for (size_t i = 0; i < n; i++)
			print_obs_line(trace_obs_at(r.trace, i));
		for (size_t i = 0; i < r.nr_reasons; i++)
			printf("%-8s %s\n", "taint", r.reasons[i]);
	}
	if (fflush(stdout) != 0)
		die_errno("cannot write the trace");
	int status = r.exit_status;
	job_run_release(&r);
	job_release(&j);
	cache_close(c);
	job_opts_release(&o);
	return status;
}

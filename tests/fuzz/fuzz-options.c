/*
 * libFuzzer target for the option parser of 'procache run' and 'procache
 * trace' (job_opts_parse() in runner/options.c).
 *
 * Input: the first byte picks the command (even: run, odd: trace); the
 * rest is split at NUL bytes into arguments (at most 64).
 *
 * job_opts_parse() die()s on bad input and exit(0)s after --help; both end
 * in exit(). The target is linked with -Wl,--wrap=exit: __wrap_exit()
 * below records the status and longjmp()s back here, so one process
 * parses every input (coverage stays visible to libFuzzer, which a fork
 * per input would hide). A status other than 0 (help) or 125 (die) is a
 * bug. Run with -close_fd_mask=3: the messages are not the point.
 *
 * A parse that returns must leave options that the rest of the runner
 * relies on: a command word that exists and is not empty, no two of
 * --no-cache/--refresh/--check, limits in range, non-empty paths shorter
 * than PATH_MAX, and no run-only option set for trace.
 */
#include <getopt.h>
#include <limits.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/die.h"
#include "runner/job.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void __wrap_exit(int status);
void __real_exit(int status);

static jmp_buf back;
static volatile int exit_status, parsing;

/* Every exit() of the program is wrapped, libFuzzer's own included. */
void __wrap_exit(int status)
{
	if (!parsing)
		__real_exit(status);
	parsing = 0;
	exit_status = status;
	longjmp(back, 1);
}

/*
 * glibc's getopt keeps a pointer into the last argument it was in the
 * middle of (a die() inside "-vx"); a full parse of a static argv
 * leaves it pointing at static memory before the input is freed.
 */
static void reset_getopt(void)
{
	static char a0[] = "x", a1[] = "-v";
	static char *av[] = { a0, a1, NULL };

	opterr = 0;
	optind = 0;
	while (getopt(2, av, "+:v") != -1)
		;
}

static void check_path(const char *p)
{
	if (!p || !*p || strlen(p) >= PATH_MAX)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum job_cmd cmd;
	char *buf, *argv[66];
	volatile int argc = 0;
	static struct job_opts o;	/* static: survives the longjmp */
	int first;
	size_t i;

	if (!size)
		return 0;
	cmd = data[0] & 1 ? JOB_CMD_TRACE : JOB_CMD_RUN;
	buf = malloc(size);
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	argv[argc++] = (char *)(cmd == JOB_CMD_RUN ? "run" : "trace");
	for (char *p = buf; p < buf + size - 1 && argc < 65; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;

	pc_verbose = 0;
	job_opts_init(&o);
	if (setjmp(back)) {
		/* die() (125) or --help (0); nothing else exits. */
		if (exit_status != 125 && exit_status != 0)
			abort();
		goto out;
	}
	parsing = 1;
	first = job_opts_parse(&o, argc, argv, cmd);
	parsing = 0;
	if (first < 1 || first >= argc || !argv[first][0])
		abort();
	if (o.no_cache + o.refresh + o.check > 1)
		abort();
	if (o.timeout_s < 0 || (o.timeout_s > 0 && o.timeout_s > 1e9))
		abort();
	if (o.memory_bytes && o.memory_bytes < 4096)
		abort();
	if (o.pids_max > 4194304)
		abort();
	for (i = 0; i < o.nr_outputs; i++)
		check_path(o.outputs[i]);
	for (i = 0; i < o.nr_masks; i++)
		check_path(o.masks[i]);
	if (o.cache_dir && !*o.cache_dir)
		abort();
	if (cmd == JOB_CMD_TRACE &&
	    (o.no_cache || o.refresh || o.check || o.explain || o.nr_outputs ||
	     o.report_path || o.diff_json_path || o.no_trace || o.fsync))
		abort();
	if (cmd == JOB_CMD_RUN && o.json)
		abort();
out:
	job_opts_release(&o);
	reset_getopt();
	free(buf);
	return 0;
}

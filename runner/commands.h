/*
 * The commands of procache, dispatched by runner/main.c. Each takes
 * (argc, argv) with argv[0] the command's name, and returns procache's
 * exit status, or dies with 125 on a usage error or a failure of
 * procache itself.
 */
#ifndef PROCACHE_RUNNER_COMMANDS_H
#define PROCACHE_RUNNER_COMMANDS_H

/* runner/run.c: the job's status (see 'procache run --help'). */
int cmd_run(int argc, char **argv);

/* runner/cmd-trace.c: the job's status. */
int cmd_trace(int argc, char **argv);

/*
 * runner/cmd-cache.c: 0, or 1 when verify found problems or show found
 * no such entry.
 */
int cmd_cache(int argc, char **argv);

/* runner/cmd-config.c: 0. */
int cmd_config(int argc, char **argv);

#endif

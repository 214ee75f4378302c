/*
 * The commands of procache. Each takes (argc, argv) with argv[0] the
 * command's name, and returns procache's exit status (or dies with 125).
 */
#ifndef PROCACHE_RUNNER_COMMANDS_H
#define PROCACHE_RUNNER_COMMANDS_H

int cmd_run(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_cache(int argc, char **argv);
int cmd_config(int argc, char **argv);

#endif

/*
 * procache — run a command in a sandbox, remember what it observed and
 * produced, and skip the next identical run by restoring its results.
 *
 * main() only dispatches to the commands; each lives in its own file.
 */
#include <stdio.h>
#include <string.h>

#include <unistd.h>

#include "common/die.h"
#include "common/progress.h"
#include "runner/commands.h"
#include "runner/procattr.h"
#include "common/banned.h"

static const char usage_text[] =
	"usage: procache [--version] [--help] COMMAND [ARGS]\n"
	"\n"
	"Commands:\n"
	"  run [OPTIONS] -- CMD [ARG...]   run CMD, or replay its cached result\n"
	"  trace [--json] -- CMD [ARG...]  run CMD traced and print what it observed\n"
	"  cache SUBCOMMAND                stats, ls, show, gc, verify, clear\n"
	"  config                          print the effective configuration\n"
	"  help [COMMAND]                  show help for COMMAND\n"
	"\n"
	"'procache COMMAND --help' describes each command's options.\n"
	"See procache(1) for the report format and exit codes.\n";

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
};

static const struct command commands[] = {
	{ "run", cmd_run },
	{ "trace", cmd_trace },
	{ "cache", cmd_cache },
	{ "config", cmd_config },
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	procattr_at_start();
	if (argc < 2) {
		fputs(usage_text, stderr);
		return 125;
	}
	const char *name = argv[1];
	if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (!strcmp(name, "--version") || !strcmp(name, "-V")) {
		printf("procache %s\n", PROCACHE_VERSION);
		return 0;
	}
	if (!strcmp(name, "help")) {
		if (argc < 3) {
			fputs(usage_text, stdout);
			return 0;
		}
		const struct command *c = find_command(argv[2]);
		if (!c)
			die("unknown command '%s'; see 'procache --help'",
			    argv[2]);
		char *help_argv[] = { argv[2], (char *)"--help", NULL };
		return c->fn(2, help_argv);
	}
	/* A progress line only for a person watching a terminal. */
	progress_enable(isatty(2));
	const struct command *c = find_command(name);
	if (!c) {
		if (name[0] == '-')
			die("unknown option '%s'; see 'procache --help'", name);
		die("unknown command '%s'; see 'procache --help'", name);
	}
	return c->fn(argc - 1, argv + 1);
}

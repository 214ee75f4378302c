/*
 * procache cache {stats,ls,show,gc,verify,clear} (runner/cmd-cache.c).
 */
#ifndef PROCACHE_RUNNER_CMD_CACHE_H
#define PROCACHE_RUNNER_CMD_CACHE_H

/*
 * argv[0] is "cache". Returns the exit status: 0, 1 (verify found
 * problems; show found no such entry); dies with 125 on usage errors and
 * when the cache cannot be opened.
 */
int cmd_cache(int argc, char **argv);

#endif

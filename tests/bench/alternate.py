#!/usr/bin/env python3
"""Alternated wall-time medians of commands, for comparisons on a shared
machine: each round runs every command once, starting with a different one
each round, so that load moves them all alike (hyperfine runs each command's
runs together instead).

    tests/bench/alternate.py ROUNDS GAP_MS NAME=COMMAND...

GAP_MS: a pause before each run (0: back to back; a run's teardown child,
DESIGN.md section 1, then overlaps the next run). Prints per command the
median and minimum wall time, the median CPU time of the process tree
(wait4's: a child left running after the command exited is not in it) and
the ratio of the median to the first command's. Two warm-up rounds are
not counted. stdout and stderr of the commands go to /dev/null; a command
that fails is reported on stderr.
"""
import os
import shlex
import statistics
import sys
import time


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    rounds, gap = int(sys.argv[1]), float(sys.argv[2]) / 1000
    cmds = []
    for arg in sys.argv[3:]:
        name, cmd = arg.split("=", 1)
        cmds.append((name, shlex.split(cmd)))
    wall = {n: [] for n, _ in cmds}
    cpu = {n: [] for n, _ in cmds}
    null = os.open("/dev/null", os.O_RDWR)
    actions = [(os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, null, 2)]
    for r in range(rounds + 2):
        k = r % len(cmds)
        for name, argv in cmds[k:] + cmds[:k]:
            if gap:
                time.sleep(gap)
            t = time.perf_counter()
            pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
            _, status, ru = os.wait4(pid, 0)
            dt = time.perf_counter() - t
            if status:
                print("%s: exit status %#x" % (name, status), file=sys.stderr)
            if r >= 2:
                wall[name].append(dt * 1000)
                cpu[name].append((ru.ru_utime + ru.ru_stime) * 1000)
    first = None
    for name, _ in cmds:
        m = statistics.median(wall[name])
        first = first or m
        print("%-12s median %8.2f ms  min %8.2f  cpu %7.2f ms  /first %.2f"
              % (name, m, min(wall[name]), statistics.median(cpu[name]), m / first))
    print("load average %.2f %.2f %.2f" % os.getloadavg())


if __name__ == "__main__":
    main()

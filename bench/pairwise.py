#!/usr/bin/env python3
"""Pairwise timing of programs called the same way: each started directly with posix_spawn (no
shell, no wrapper), its stdin a file, its stdout /dev/null; runs interleaved, so that the machine's
noise falls on all of them alike. hyperfine 1.15 (Debian 12's) cannot give a command stdin, and a
`sh -c 'printf ... | git credential-cache get'` peer would time a shell and printf as well.

    python3 bench/pairwise.py RUNS TITLE  NAME STDIN PROGRAM ARGS... -- NAME STDIN PROGRAM ARGS...

(PAIRWISE_SEPARATOR=SEP separates them with SEP instead, for a command that takes "--".)
The last command is the peer: the others' ratios are against it. Prints a Markdown table of the
wall-clock times (median, mean, min, max). Every run must exit 0, or with one of the codes in
PAIRWISE_EXIT_CODES (say "0,8", for `vault check`, which exits 8 when it has findings). (Peak memory is measured with
/usr/bin/time instead: a child's high-water mark from wait4 includes Python's own, kept across exec.)
"""
import os
import statistics
import sys
import time


def parse(argv):
    runs, title, rest = int(argv[0]), argv[1], argv[2:]
    commands, current = [], []
    # PAIRWISE_SEPARATOR replaces "--" for commands that take "--" themselves.
    separator = os.environ.get("PAIRWISE_SEPARATOR", "--")
    for arg in rest + [separator]:
        if arg == separator:
            if len(current) < 3:
                sys.exit("pairwise.py: each command needs NAME STDIN PROGRAM")
            commands.append((current[0], current[1], current[2:]))
            current = []
        else:
            current.append(arg)
    return runs, title, commands


def once(stdin, argv):
    fd = os.open(stdin, os.O_RDONLY)
    null = os.open("/dev/null", os.O_WRONLY)
    try:
        start = time.perf_counter_ns()
        pid = os.posix_spawn(argv[0], argv, os.environ,
                             file_actions=[(os.POSIX_SPAWN_DUP2, fd, 0), (os.POSIX_SPAWN_DUP2, null, 1)])
        _, status = os.waitpid(pid, 0)
        elapsed = (time.perf_counter_ns() - start) / 1e6
    finally:
        os.close(fd)
        os.close(null)
    accepted = {int(c) for c in os.environ.get("PAIRWISE_EXIT_CODES", "0").split(",")}
    if os.waitstatus_to_exitcode(status) not in accepted:
        sys.exit(f"pairwise.py: {' '.join(argv)} exited with status {status}")
    return elapsed


def main():
    runs, title, commands = parse(sys.argv[1:])
    for _ in range(5):  # warm-up: page cache, the agent's caches
        for _, stdin, argv in commands:
            once(stdin, argv)
    times = {name: [] for name, _, _ in commands}
    for _ in range(runs):
        for name, stdin, argv in commands:
            times[name].append(once(stdin, argv))
    peer = statistics.median(times[commands[-1][0]])
    print(f"## {title}\n")
    print(f"{runs} interleaved runs each, started directly (no shell), stdin from a file.\n")
    print("| Command | Median [ms] | Mean [ms] | Min [ms] | Max [ms] | Median ratio |")
    print("|:---|---:|---:|---:|---:|---:|")
    for name, _, _ in commands:
        t = times[name]
        print(f"| `{name}` | {statistics.median(t):.2f} | {statistics.mean(t):.2f} | {min(t):.2f} | "
              f"{max(t):.2f} | {statistics.median(t) / peer:.2f} |")
    print()


if __name__ == "__main__":
    main()

"""Process trees that can be ended whole: a submission's kernel, and whatever it forked.

A kernel runs in a session of its own (jupyter_client starts it so), and a notebook may fork or
start processes that outlive it; killing one process group is not enough. A process that calls
`become_subreaper()` adopts every orphan below it (Linux), so `kill_descendants()` finds them all
by walking the parent links in /proc.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36
PROC = Path("/proc")


def become_subreaper() -> bool:
    """Orphans below this process become its children instead of init's (Linux only)."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _parents() -> dict[int, int]:
    found = {}
    for entry in PROC.iterdir() if PROC.is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after the command name, which may hold spaces
        found[int(entry.name)] = int(fields[1])
    return found


def descendants(pid: int) -> list[int]:
    parents = _parents()
    below, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        below += children
        frontier = children
    return below


def kill_descendants(pid: int | None = None, *, rounds: int = 20) -> int:
    """SIGKILL everything below `pid` (default: this process), again while some fork meanwhile.
    Returns how many were killed."""
    pid = os.getpid() if pid is None else pid
    killed = 0
    for _ in range(rounds):
        below = descendants(pid)
        if not below:
            break
        for child in below:
            try:
                os.kill(child, signal.SIGSTOP)  # stopped first: a stopped process forks no more
            except ProcessLookupError:
                pass
        for child in below:
            try:
                os.kill(child, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        _reap()
    return killed


def _reap() -> None:
    """Collect the exit status of our own dead children (adopted orphans too)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def limit_resources(memory_mb: int) -> None:
    """For a child about to run a submission: address space capped (its kernel inherits it), no
    core files. Called in the child (a `preexec_fn`)."""
    if memory_mb:
        size = memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

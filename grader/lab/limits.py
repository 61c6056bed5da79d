"""Run the student's code with a time limit, so that a check fails with a sentence instead of hanging.

A function that never returns (a consumer without a stop, an RPC call without a timeout, an
exponential recursion) would otherwise block the cell until nbgrader interrupts it, and the
student would read a bare timeout. `time_limit` interrupts it earlier with `CheckFailed`.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

from grader.lab.checks import CheckFailed


@contextlib.contextmanager
def time_limit(seconds: float, sentence: str) -> Iterator[None]:
    """Raise `CheckFailed(sentence)` inside the block if it runs longer than `seconds`.

    It uses SIGALRM, so it only works in the main thread on POSIX (where Jupyter runs cells);
    elsewhere the block simply runs without a limit.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def on_alarm(signum, frame):
        raise CheckFailed(sentence)

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

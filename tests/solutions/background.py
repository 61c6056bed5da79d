"""Run solution scripts: once to the end (`run_script`), or in the background while a test waits
for lines of their output, never forever (`Background`)."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path


def run_script(path: Path, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    """`python <path> <args>` to the end (at most `timeout` seconds), with its output as text."""
    return subprocess.run([sys.executable, str(path), *args], capture_output=True, text=True, timeout=timeout)


class Background:
    """A script started with `python <path> <args>`; its stdout lines are read by a thread.

    Use it as a context manager: leaving the block interrupts the script (as Ctrl+C would) if it
    still runs, and kills it if it does not stop within a few seconds.
    """

    def __init__(self, path: Path, *args: str):
        self.name = f"{path.name} {' '.join(args)}".strip()
        self.process = subprocess.Popen([sys.executable, "-u", str(path), *args], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._new: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self._new.put(line.rstrip("\n"))
        self._new.put(None)

    def wait_for(self, text: str, *, timeout: float = 10.0) -> str:
        """The first line (from now on) that contains `text`; fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self._new.get(timeout=max(remaining, 0))
            except queue.Empty:
                raise AssertionError(f"waited {timeout:g} s for {self.name!r} to print {text!r}; "
                                     f"it printed {self.lines}") from None
            if line is None:
                raise AssertionError(f"{self.name!r} ended (status {self.process.wait()}) without printing "
                                     f"{text!r}; it printed {self.lines}; stderr: {self.process.stderr.read()}")
            self.lines.append(line)
            if text in line:
                return line

    def finish(self, *, timeout: float = 10.0) -> int:
        """Wait for the script to end by itself; its exit status. Collects the remaining lines."""
        try:
            status = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"waited {timeout:g} s for {self.name!r} to end; it printed {self.lines}") from None
        self._reader.join(timeout=5)
        while not self._new.empty():
            line = self._new.get()
            if line is not None:
                self.lines.append(line)
        return status

    def interrupt(self, *, timeout: float = 5.0) -> int:
        """Ctrl+C: SIGINT, then wait for the script to end; its exit status."""
        self.process.send_signal(signal.SIGINT)
        return self.finish(timeout=timeout)

    def __enter__(self) -> Background:
        return self

    def __exit__(self, *exc_info) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()
        self.process.stderr.close()

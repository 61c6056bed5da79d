"""Ports and HTTP services that tests start: a free port, and waiting until something answers."""

from __future__ import annotations

import socket
import subprocess
import time

import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, *, timeout: float, process: subprocess.Popen | None = None,
                  headers: dict | None = None) -> requests.Response:
    """The first 200 answer from `url`; fails after `timeout` seconds, or as soon as `process`
    (the server being waited for) has exited."""
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            output = process.stdout.read()[-3000:] if process.stdout else ""
            raise AssertionError(f"the server exited with {process.returncode} before {url} answered:\n{output}")
        try:
            response = requests.get(url, headers=headers, timeout=2)
            if response.status_code == 200:
                return response
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not answer within {timeout} s")
        time.sleep(0.2)

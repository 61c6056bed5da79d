"""A running `workshop serve` (in this process) for the test's vhost, and an SSE reader."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest
import requests

from grader.serve import Service
from tests.net import free_port, wait_for_http

START_TIMEOUT = 20


class Running:
    def __init__(self, service: Service, url: str, thread: threading.Thread):
        self.service, self.url, self.thread = service, url, thread

    @property
    def store(self):
        return self.service.store


@pytest.fixture
def service(settings, tmp_path):
    port = free_port()
    made = Service(settings, f"sqlite:///{tmp_path / 'scores.sqlite'}", port=port, deal_on_register=1)
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("status", asyncio.run(made.run())), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    wait_for_http(f"{url}/api/leaderboard", timeout=START_TIMEOUT)
    for worker in made.workers:  # the grader and the listener must be ready before students publish
        ready = getattr(worker, "consuming", None) or getattr(worker, "listening", None)
        if ready is not None:
            assert ready.wait(START_TIMEOUT), f"{type(worker).__name__} was not ready within {START_TIMEOUT} s"
    yield Running(made, url, thread)
    made.request_stop()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the service did not stop within 30 s"
    assert result.get("status") == 0


class EventStream:
    """Reads `update` events from /events in a thread, with the time each arrived."""

    def __init__(self, url: str):
        self.events: list[tuple[float, dict]] = []
        self.response = requests.get(f"{url}/events", stream=True, timeout=30)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        name, data = None, []
        try:
            for line in self.response.iter_lines(decode_unicode=True):
                if line.startswith("event:"):
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("data:"):
                    data.append(line.split(":", 1)[1].strip())
                elif line == "" and data:
                    if name == "update":
                        self.events.append((time.time(), json.loads("".join(data))))
                    name, data = None, []
        except (requests.ConnectionError, AttributeError):
            pass  # closed by the test

    def wait_for(self, predicate, *, timeout: float, what: str) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for _, event in list(self.events):
                if predicate(event):
                    return event
            time.sleep(0.02)
        raise AssertionError(f"no update event with {what} within {timeout} s")

    def close(self) -> None:
        self.response.close()

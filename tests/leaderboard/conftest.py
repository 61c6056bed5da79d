"""A running `workshop serve` (in this process) for the test's vhost, and an SSE reader."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest
import requests

from grader.leaderboard import changes
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
def service_options() -> dict:
    """More keyword arguments for the `service` fixture's `Service` (a test module overrides this)."""
    return {}


@pytest.fixture
def service(settings, tmp_path, service_options):
    port = free_port()
    made = Service(settings, f"sqlite:///{tmp_path / 'scores.sqlite'}", port=port,
                   **{"deal_on_register": 1} | service_options)
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
    """Reads /events in a thread like a page does: the `snapshot`, then every `delta` merged into
    it; keeps each event with the time it arrived."""

    def __init__(self, url: str):
        self.events: list[tuple[float, str, dict]] = []  # (arrived, name, data)
        self.rows: dict[str, dict] = {}
        self.first_solver: str | None = None
        self.version: int | None = None
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
                    self._merge(name, json.loads("".join(data)))
                    name, data = None, []
        except (requests.ConnectionError, AttributeError):
            pass  # closed by the test

    def _merge(self, name: str, event: dict) -> None:
        if name == "snapshot":
            self.rows = {row["slug"]: row for row in event["rows"]}
        else:
            self.rows.update((row["slug"], row) for row in event["rows"])
        self.first_solver, self.version = event["first_solver"], event["version"]
        self.events.append((time.time(), name, event))

    def ranked(self) -> list[dict]:
        """The merged rows in the leaderboard's order and shape (as /api/leaderboard has them)."""
        rows = sorted(list(self.rows.values()), key=lambda row: (-row["points"], row["reached_at"], row["slug"]))
        return [dict(row, rank=rank, first_solver=row["slug"] == self.first_solver)
                for rank, row in enumerate(rows, start=1)]

    def wait_for(self, predicate, *, timeout: float, what: str) -> tuple[str, dict]:
        """The first (name, data) event for which `predicate(name, data)` holds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for _, name, event in list(self.events):
                if predicate(name, event):
                    return name, event
            time.sleep(0.02)
        raise AssertionError(f"no event with {what} within {timeout} s")

    def close(self) -> None:
        self.response.close()


def latest_verdict(store) -> int:
    """The newest verdict id in the store: what an up-to-date page has read."""
    return changes.start(store).version

"""What both benchmarks need: a fresh vhost, a store with students and tasks, answers to send."""

from __future__ import annotations

import json
import os
import statistics
import time
import uuid
from contextlib import contextmanager

from grader.live.checks import fibonacci
from grader.live.store import Store
from grader.management import Management
from grader.settings import Settings

WORKSHOP = "bench"


@contextmanager
def fresh_vhost():
    """Settings for a new vhost on the broker of RABBITMQ_URL; the vhost is deleted afterwards."""
    base = Settings.from_env(workshop=WORKSHOP)
    api = Management.from_settings(base)
    name = f"bench-{uuid.uuid4().hex[:8]}"
    api.create_vhost(name)
    api.grant(name, base.amqp.user)
    try:
        yield Settings(rabbitmq_url=base.amqp.url(vhost=name), management_url=base.management_url, workshop=WORKSHOP)
    finally:
        api.delete_vhost(name)


def seeded_store(url: str, students: int, tasks: int) -> Store:
    """A store where `students` are registered and each was dealt n = 5 .. 5 + tasks - 1."""
    store = Store(url, WORKSHOP)
    now = time.time()
    with store.transaction() as tx:
        for i in range(students):
            tx.register(f"student-{i}", f"Student {i}", now)
    for i in range(students):
        store.add_tasks(f"student-{i}", {5 + t: f"t{t}" for t in range(tasks)}, now, published=True)
    return store


def answers(students: int, tasks: int) -> list[bytes]:
    """One correct answer per task, interleaved across students as a class would send them."""
    return [json.dumps({"n": 5 + t, "Fn": fibonacci(5 + t), "name": f"Student {i}"}).encode()
            for t in range(tasks) for i in range(students)]


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def environment() -> str:
    return f"RabbitMQ at {Settings.from_env().amqp.url(password=False)}, {os.cpu_count()} CPUs"

"""Dealing Fibonacci tasks: each registered student gets new values of n in their queue `W.<slug>`.

A task is recorded in the store before it is published (so that an answer can never arrive for
an unknown task); if the publish is not confirmed, the task is removed again.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import uuid

import pika
import pika.exceptions

from grader import broker, names
from grader.live.consumer import declare_student_queue
from grader.live.protocol import MAX_N, MIN_N
from grader.settings import Settings
from grader.live.store import Store

log = logging.getLogger(__name__)


def task_properties(message_id: str, workshop: str) -> pika.BasicProperties:
    return pika.BasicProperties(content_type="application/json", delivery_mode=pika.DeliveryMode.Persistent,
                                message_id=message_id, correlation_id=message_id,
                                reply_to=names.results_queue(workshop))


def choose(already: set[int], count: int, rng: random.Random) -> list[int]:
    """`count` values of n in [MIN_N, MAX_N] not dealt before (fewer if they run out)."""
    fresh = sorted(set(range(MIN_N, MAX_N + 1)) - already)
    return rng.sample(fresh, min(count, len(fresh)))


def deal(settings: Settings, store: Store, count: int, *, only: list[str] | None = None,
         rng: random.Random | None = None) -> dict[str, list[int]]:
    """Deal `count` new tasks to every registered student (or to the slugs in `only`).
    Returns what was dealt, by slug."""
    rng = rng or random.Random()
    dealt: dict[str, list[int]] = {}
    connection = broker.connect(settings.rabbitmq_url, name="workshop-dealer")
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        for slug, _name in store.registered():
            if only is not None and slug not in only:
                continue
            ns = choose(store.dealt(slug), count, rng)
            if not ns or not declare_student_queue(connection, settings.workshop, slug):
                continue
            ids = {n: uuid.uuid4().hex for n in ns}
            store.add_tasks(slug, ids, time.time())
            failed = []
            for n, message_id in ids.items():
                try:
                    channel.basic_publish(exchange="", routing_key=names.tasks_queue(settings.workshop, slug),
                                          body=json.dumps({"n": n}).encode(),
                                          properties=task_properties(message_id, settings.workshop),
                                          mandatory=True)
                except (pika.exceptions.UnroutableError, pika.exceptions.NackError):
                    failed.append(n)
            if failed:
                log.warning("%d tasks for %s were not accepted by the broker; withdrawn", len(failed), slug)
                store.remove_tasks(slug, failed)
            dealt[slug] = [n for n in ns if n not in failed]
            log.info("dealt %s to %s", dealt[slug], slug)
    finally:
        if connection.is_open:
            connection.close()
    return dealt


def wanted(open_tasks: dict[str, tuple[int, int]], *, on_register: int, keep_open: int) -> dict[str, int]:
    """How many tasks to deal to whom: `on_register` to students who never got any, and enough to
    students with fewer than `keep_open` unsolved tasks to bring them back to `keep_open`."""
    want = {}
    for slug, (dealt, unsolved) in open_tasks.items():
        count = on_register if dealt == 0 else 0
        if keep_open and unsolved < keep_open:
            count = max(count, keep_open - unsolved)
        if count:
            want[slug] = count
    return want


class Dealer:
    """In `workshop serve`: deal `on_register` tasks to each new student, keep every student at
    `keep_open` unsolved tasks if asked, and deal `count` more to everyone every `every` seconds."""

    def __init__(self, settings: Settings, store: Store, *, on_register: int = 3, keep_open: int = 0,
                 every: float = 0, count: int = 1, poll: float = 0.5):
        self.settings, self.store = settings, store
        self.on_register, self.keep_open = on_register, keep_open
        self.every, self.count, self.poll = every, count, poll
        self.stopping = threading.Event()

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        next_round = time.monotonic() + self.every if self.every else None
        while not self.stopping.wait(self.poll):
            try:
                want = wanted(self.store.open_tasks(), on_register=self.on_register, keep_open=self.keep_open)
                for count in sorted(set(want.values())):
                    deal(self.settings, self.store, count, only=[s for s, c in want.items() if c == count])
                if next_round is not None and time.monotonic() >= next_round:
                    deal(self.settings, self.store, self.count)
                    next_round = time.monotonic() + self.every
            except Exception:  # noqa: BLE001 - the broker or store went away; try again next round
                log.exception("dealing failed; retrying in %.1f s", self.poll)

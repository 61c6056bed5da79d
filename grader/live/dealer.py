"""Dealing Fibonacci tasks: each registered student gets new values of n in their queue `W.<slug>`.

A task is recorded in the store first (so that an answer can never arrive for an unknown task),
then published with a publisher confirm, then marked published. A dealer that dies or loses its
connection in between leaves tasks recorded but unconfirmed; every later deal publishes those
again (same n, same message id) once they are `STALE` seconds old; tasks are recorded a few at a
time (`CHUNK`), each few just before they are published, so that a dealer that is alive is never
taken for a dead one. A task may so reach a student twice (answering it twice scores once), but
never not at all.
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
from grader.errors import BrokerUnavailable, WorkshopError
from grader.live.protocol import MAX_N, MIN_N
from grader.live.queues import declare_student_queues
from grader.live.store import Store
from grader.settings import Settings

log = logging.getLogger(__name__)

STALE = 10.0  # seconds after which a recorded task that was never confirmed is published again
# Tasks recorded, published and marked at a time. A dealer publishing many tasks to a student one
# confirm after the other could otherwise take longer than STALE with the later ones, and another
# dealer would publish those too (the student would get them twice).
CHUNK = 20


def task_properties(message_id: str, workshop: str, slug: str, user_id: str | None = None) -> pika.BasicProperties:
    """A task's properties; its `reply_to` is the student's own answers queue. `user_id` is the
    dealer's broker user, which the broker checks: a task that carries anything else is not the
    grader's (anyone may publish into a task queue through the default exchange)."""
    return pika.BasicProperties(content_type="application/json", delivery_mode=pika.DeliveryMode.Persistent,
                                message_id=message_id, correlation_id=message_id, user_id=user_id,
                                reply_to=names.answers_queue(workshop, slug))


def choose(already: set[int], count: int, rng: random.Random) -> list[int]:
    """`count` values of n in [MIN_N, MAX_N] not dealt before (fewer if they run out)."""
    fresh = sorted(set(range(MIN_N, MAX_N + 1)) - already)
    return rng.sample(fresh, min(count, len(fresh)))


def deal(settings: Settings, store: Store, count: int, *, only: list[str] | None = None,
         rng: random.Random | None = None, stale_after: float = STALE) -> dict[str, list[int]]:
    """Publish again what earlier dealers left unconfirmed, then deal `count` new tasks to every
    registered student (or to the slugs in `only`). Returns the new tasks, by slug; a lost
    connection is `BrokerUnavailable`, with the tasks recorded so far published by the next deal.
    Connects to the broker only when there is something to publish."""
    rng = rng or random.Random()
    again = store.unpublished(time.time() - stale_after)
    fresh = {}
    for slug, _name in store.registered() if count > 0 else ():
        if only is None or slug in only:
            ns = choose(store.dealt(slug), count, rng)
            if ns:
                fresh[slug] = ns
    if not again and not fresh:
        return {}
    dealt: dict[str, list[int]] = {}
    connection = broker.connect(settings.rabbitmq_url, name="workshop-dealer")
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        for slug, tasks in again.items():
            if declare_student_queues(connection, settings.workshop, slug):
                log.info("publishing again %d tasks of %s that were never confirmed", len(tasks), slug)
                store.mark_published(slug, _publish(channel, settings, slug, tasks), time.time())
        for slug, ns in fresh.items():
            if not declare_student_queues(connection, settings.workshop, slug):
                continue
            dealt[slug] = []
            for start in range(0, len(ns), CHUNK):  # recorded shortly before published: never STALE meanwhile
                part = ns[start:start + CHUNK]
                ids = {n: uuid.uuid4().hex for n in part}
                recorded = store.add_tasks(slug, ids, time.time())  # less any n another dealer just dealt
                ids = {n: ids[n] for n in part if n in recorded}
                confirmed = _publish(channel, settings, slug, ids)
                store.mark_published(slug, confirmed, time.time())
                dealt[slug] += ids
                if len(confirmed) < len(ids):
                    log.warning("%d tasks for %s were not accepted by the broker; the next deal tries again",
                                len(ids) - len(confirmed), slug)
            log.debug("dealt %s to %s", dealt[slug], slug)
    except pika.exceptions.AMQPError as exc:
        raise BrokerUnavailable(f"the dealer lost its connection to RabbitMQ ({type(exc).__name__}: {exc}); "
                                "the tasks it recorded are published by the next deal") from exc
    finally:
        if connection.is_open:
            connection.close()
    return dealt


def _publish(channel, settings: Settings, slug: str, tasks: dict[int, str]) -> list[int]:
    """Publish tasks {n: message_id} with confirms; the n the broker confirmed."""
    workshop, user = settings.workshop, settings.amqp.user
    confirmed = []
    for n, message_id in tasks.items():
        try:
            channel.basic_publish(exchange="", routing_key=names.tasks_queue(workshop, slug),
                                  body=json.dumps({"n": n}).encode(),
                                  properties=task_properties(message_id, workshop, slug, user),
                                  mandatory=True)
            confirmed.append(n)
        except (pika.exceptions.UnroutableError, pika.exceptions.NackError):
            pass
    return confirmed


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
                 every: float = 0, count: int = 1, poll: float = 0.5, stale: float = STALE):
        self.settings, self.store, self.stale = settings, store, stale
        self.on_register, self.keep_open = on_register, keep_open
        self.every, self.count, self.poll = every, count, poll
        self.stopping = threading.Event()

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        next_round = time.monotonic() + self.every if self.every else None
        next_check = 0.0  # when to look for unconfirmed tasks again (every `stale` seconds at most)
        while not self.stopping.wait(self.poll):
            try:
                want = wanted(self.store.open_tasks(), on_register=self.on_register, keep_open=self.keep_open)
                if not want and time.monotonic() >= next_check:
                    next_check = time.monotonic() + max(self.stale, self.poll)
                    deal(self.settings, self.store, 0, stale_after=self.stale)
                for count in sorted(set(want.values())):
                    deal(self.settings, self.store, count, only=[s for s, c in want.items() if c == count],
                         stale_after=self.stale)
                if next_round is not None and time.monotonic() >= next_round:
                    deal(self.settings, self.store, self.count, stale_after=self.stale)
                    next_round = time.monotonic() + self.every
            except WorkshopError as exc:  # the broker went away: try again next round
                log.warning("dealing failed (%s); retrying in %.1f s", exc, self.poll)
            except Exception:  # noqa: BLE001 - the store went away, or worse; try again next round
                log.exception("dealing failed; retrying in %.1f s", self.poll)

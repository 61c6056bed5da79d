"""`workshop demo`: a simulated class, so that the leaderboard fills while nobody is in the room.

Simulated students register, take tasks from their queues and answer: most answers right, some
wrong, a few malformed, now and then an answer twice. The instructor's `serve` grades them like
real students.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from dataclasses import dataclass

import pika

from grader import broker, names
from grader.live import queues
from grader.live.checks import fibonacci
from grader.live.dealer import deal
from grader.live.identity import student_id
from grader.live.store import Store
from grader.settings import Settings

log = logging.getLogger(__name__)

NAMES = [
    "Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra", "Barbara Liskov", "Donald Knuth",
    "Margaret Hamilton", "Ken Thompson", "Frances Allen", "John McCarthy", "Radia Perlman", "Tony Hoare",
    "Katherine Johnson", "Dennis Ritchie", "Hedy Lamarr", "Leslie Lamport", "Sophie Wilson", "Niklaus Wirth",
    "Annie Easley", "Joe Armstrong", "<img src=x onerror=alert(1)>", "Zoë O'Brien",
]
MALFORMED = [b"Fn=55", b'{"n": "ten"}', b"[]", b'{"name": ""}', b"\xff\xfe"]


@dataclass
class Simulated:
    name: str
    accuracy: float  # chance that an answer is right
    pace: float  # mean seconds between two answers
    next_at: float = 0.0

    @property
    def slug(self) -> str:
        return student_id(self.name)


def make_class(count: int, rng: random.Random) -> list[Simulated]:
    pool = NAMES + [f"Student {i}" for i in range(len(NAMES) + 1, count + 1)]
    return [Simulated(name, accuracy=rng.uniform(0.6, 0.98), pace=rng.uniform(1.0, 6.0)) for name in pool[:count]]


def run_demo(settings: Settings, store_url: str, *, students: int = 12, duration: float = 120,
             seed: int | None = None, stop: threading.Event | None = None) -> dict[str, int]:
    """Simulate `students` for `duration` seconds (0: until stopped). Returns messages sent by kind."""
    rng = random.Random(seed)
    stop = stop or threading.Event()
    group = make_class(students, rng)
    store = Store(store_url, settings.workshop)
    sent = {"register": 0, "right": 0, "wrong": 0, "malformed": 0, "repeated": 0}
    connection = broker.connect(settings.rabbitmq_url, name="workshop-demo")
    queues.declare_protocol(connection, settings.workshop)  # the same queues the grader declares
    channel = connection.channel()
    started = time.monotonic()
    try:
        for student in group:
            channel.queue_declare(queue=names.tasks_queue(settings.workshop, student.slug), durable=True)
            _publish(channel, names.REGISTER_QUEUE, {"name": student.name})
            sent["register"] += 1
            student.next_at = started + rng.uniform(0.5, 3.0)
        log.info("demo: %d students registered; answering for %s", len(group),
                 f"{duration:.0f} s" if duration else "ever (Ctrl+C stops)")
        last_answer: dict[str, dict] = {}
        while not stop.is_set() and (not duration or time.monotonic() - started < duration):
            now = time.monotonic()
            for student in group:
                if now < student.next_at:
                    continue
                student.next_at = now + rng.expovariate(1 / student.pace)
                kind = _act(channel, store, settings, student, rng, last_answer)
                if kind:
                    sent[kind] += 1
            connection.process_data_events(time_limit=0.1)
    finally:
        if connection.is_open:
            connection.close()
        store.close()
    log.info("demo finished: %s", sent)
    return sent


def _act(channel, store, settings, student: Simulated, rng: random.Random, last_answer: dict) -> str | None:
    results = names.results_queue(settings.workshop)
    roll = rng.random()
    if roll < 0.04:
        channel.basic_publish("", results, rng.choice(MALFORMED))
        return "malformed"
    own = names.answers_queue(settings.workshop, student.slug)  # the tasks' reply_to
    if roll < 0.08 and student.slug in last_answer:
        _publish(channel, own, last_answer[student.slug])
        return "repeated"
    queue = names.tasks_queue(settings.workshop, student.slug)
    method, properties, body = channel.basic_get(queue, auto_ack=True)
    if method is None:  # out of tasks: ask for more, as a student would ask the instructor
        if student.slug in dict(store.registered()):
            deal(settings, store, 2, only=[student.slug], rng=rng)
        return None
    n = json.loads(body)["n"]
    right = rng.random() < student.accuracy
    answer = {"n": n, "Fn": str(fibonacci(n)) if right else fibonacci(n) + rng.randint(1, 9), "name": student.name}
    _publish(channel, properties.reply_to or own, answer)
    last_answer[student.slug] = answer
    return "right" if right else "wrong"


def _publish(channel, queue: str, body: dict) -> None:
    channel.basic_publish("", queue, json.dumps(body).encode(),
                          properties=pika.BasicProperties(content_type="application/json"))

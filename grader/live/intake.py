"""The queues a live grader reads, and its consumers on them.

`name` and `W.results` are shared by the whole class; every registered student also has an
answers queue of their own, `W.results.<id>`, the `reply_to` of their tasks. Each is consumed on
its own: the broker delivers from each queue independently, so a student's backlog in their own
queue never stands in front of anyone else's answer.
"""

from __future__ import annotations

import logging
import time
import uuid

from grader import names
from grader.live import queues
from grader.live.envelope import Delivery, from_pika

log = logging.getLogger(__name__)

PREFETCH = 1100  # unacked messages of `name` and of `W.results` the broker may send ahead: two batches and some
STUDENT_PREFETCH = 50  # ... and of each student's answers queue: what one student's backlog may put before others
RETRY = 60.0  # seconds before an answers queue the broker refused is tried again


class Intake:
    """The queues a grader reads: `name` and `W.results` (PREFETCH messages in flight each), and
    every registered student's answers queue `W.results.<id>` (STUDENT_PREFETCH each). The broker
    delivers from each queue on its own, so at most STUDENT_PREFETCH of one student's backlog is
    ever ahead of another student's answer."""

    def __init__(self, connection, channel, workshop: str, on_message):
        self.connection, self.channel, self.workshop = connection, channel, workshop
        self.shared = [names.REGISTER_QUEUE, names.results_queue(workshop)]
        self.students: set[str] = set()
        self.tags: dict[str, str] = {}  # consumer tag -> queue
        self.cancelled: list[str] = []  # queues whose consumer the broker cancelled (the queue was deleted)
        self.refused: dict[str, float] = {}  # students whose answers queue the broker refused, until when
        self.on_message = on_message
        channel.add_on_cancel_callback(lambda frame: self.cancelled.append(self.tags.get(frame.method.consumer_tag,
                                                                                          "a queue")))

    def declare(self, slugs) -> set[str]:
        """Declare these students' answers queues; the students whose queue can be read. A queue
        the broker refuses (someone holds it exclusively) is tried again RETRY seconds later."""
        now = time.monotonic()
        usable = set()
        for slug in slugs:
            if self.refused.get(slug, 0) > now:
                continue
            if queues.declare_answers_queue(self.connection, self.workshop, slug):
                usable.add(slug)
                self.refused.pop(slug, None)
            else:
                self.refused[slug] = now + RETRY
        return usable

    def start(self, slugs) -> None:
        self.channel.basic_qos(prefetch_count=PREFETCH)  # applies to the consumers started after it
        for queue in self.shared:
            self._consume(queue)
        self._consume_students(slugs)

    def add(self, slugs) -> None:
        """Start reading these students' answers queues too (declaring them first)."""
        slugs = set(slugs) - self.students
        if slugs and self.tags:  # not before start(): those are read from its start
            self._consume_students(self.declare(slugs))

    def _consume_students(self, slugs) -> None:
        self.channel.basic_qos(prefetch_count=STUDENT_PREFETCH)
        for slug in sorted(slugs):
            self._consume(names.answers_queue(self.workshop, slug))
            self.students.add(slug)

    def _consume(self, queue: str) -> None:
        def on_message(ch, method, properties, body):
            self.on_message(queue, method, properties, body)
        self.tags[self.channel.basic_consume(queue=queue, on_message_callback=on_message)] = queue


def envelope(queue: str, method, properties, body: bytes) -> Delivery:
    try:
        return from_pika(queue, method, properties, body)
    except Exception:  # noqa: BLE001 - never lose the delivery tag: reject the message instead
        log.exception("could not read a message's envelope")
        return Delivery(queue, b"", tag=method.delivery_tag, unreadable="the envelope",
                        digest=f"unreadable-envelope-{uuid.uuid4().hex}")

"""The grader in the chat: listens on lesson 11's four exchanges, scores, answers in the chat.

Its queue `W.chat.grader` is bound to all four (everything to everyone and to any topic; direct
messages with the routing key `grader`; chosen-people messages that choose `grader`). It is a
quorum queue with a delivery limit, like the grader's intake queues: a message that keeps
breaking the connection is dead-lettered to `W.rejected` by the broker. Each message is acked
after its score is committed and its answer published; a message nobody can understand is acked
and forgotten (the chat is free talk, and the grader only listens for what scores). The answer
goes to the speaker's own id on `W.chat.direct`, where their inbox is bound.
"""

from __future__ import annotations

import json
import logging
import threading
import time

import pika
from sqlalchemy.exc import DBAPIError

from grader import broker, names
from grader.live import chat, queues, wire
from grader.live.accounts import Room
from grader.live.protocol import MAX_BODY_BYTES
from grader.live.store import Store
from grader.settings import Settings

log = logging.getLogger(__name__)
PREFETCH = 50
QUIET = 30.0  # seconds: an answer that scores nothing is given to the same student at most this often
ADDRESSED_EVERY = 1.0  # ... and to what is said to the grader itself, for each way of saying it
MAX_ANSWERED = 50_000  # speakers remembered for the two limits above


def chat_queue(workshop: str) -> str:
    return f"{workshop}.chat.{chat.GRADER}"


def bindings(workshop: str) -> list[tuple[str, str, dict | None]]:
    """(exchange, routing key, headers) of the grader's chat queue."""
    return [(names.chat_exchange(workshop, "all"), "", None),
            (names.chat_exchange(workshop, "topics"), "#", None),
            (names.chat_exchange(workshop, "direct"), chat.GRADER, None),
            (names.chat_exchange(workshop, "chosen"), "", {"x-match": "any", chat.GRADER: "yes"})]


class ChatGrader:
    def __init__(self, settings: Settings, store: Store, *, room: Room | None = None):
        self.settings, self.store, self.room = settings, store, room
        self.workshop = settings.workshop
        self.stopping = threading.Event()
        self.listening = threading.Event()
        self.heard = 0  # messages handled (acked) since start
        self.answered: dict = {}  # slug, or (slug, way) -> when they last got an answer that scored nothing

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        wire.install()
        # The store away: the connection is dropped, and the message comes back after the reconnect
        # (a store away for good costs that message after queues.POISON_LIMIT tries, never the service).
        broker.run_connected(self.settings.rabbitmq_url, "chat grader", self.listen, self.stopping, self.listening,
                             errors=(*broker.CONNECTION_ERRORS, DBAPIError))

    def listen(self, connection: pika.BlockingConnection) -> None:
        queues.declare_protocol(connection, self.workshop)  # the chat's exchanges among them
        channel = connection.channel()
        queue = chat_queue(self.workshop)
        channel.queue_declare(queue, durable=True, arguments=queues.intake_arguments(self.workshop))
        for exchange, key, headers in bindings(self.workshop):
            channel.queue_bind(queue, exchange, routing_key=key, arguments=headers)
        channel.basic_qos(prefetch_count=PREFETCH)
        channel.basic_consume(queue, lambda ch, method, properties, body: self.hear(ch, method, properties, body))
        self.listening.set()
        while not self.stopping.is_set():
            connection.process_data_events(time_limit=0.2)
        channel.close()

    def hear(self, channel, method, properties, body: bytes) -> None:
        kind = chat.kind_of(self.workshop, method.exchange)
        if kind is not None and len(body) <= MAX_BODY_BYTES:
            try:
                self.judge(channel, kind, bytes(body), properties)
            except DBAPIError:
                raise  # the store is away: reconnect, and the message comes back
            except Exception:  # noqa: BLE001 - a bug costs this message, never the chat grader
                log.exception("a chat message through %s could not be graded", method.exchange)
        channel.basic_ack(method.delivery_tag)
        self.heard += 1

    def judge(self, channel, kind: str, body: bytes, properties) -> None:
        if self.room is not None:
            self.room.refresh()
        user_id = properties.user_id if isinstance(properties.user_id, str) else None
        said = chat.read(kind, body, user_id, self.room)
        spoken = None
        if said.problem is None and said.slug is not None:
            spoken = chat.score(self.store, said.slug, kind, time.time())
            if spoken.scored:
                channel.basic_publish(names.events_exchange(self.workshop), "",
                                      json.dumps({"verdicts": 1, "points": 1}).encode())
        text = chat.answer(said, spoken)
        if text is not None and said.slug is not None and self._may_answer(said, spoken):
            channel.basic_publish(names.chat_exchange(self.workshop, "direct"), said.slug,
                                  json.dumps({"from": "Grader", "text": text}).encode(),
                                  pika.BasicProperties(content_type="application/json",
                                                       user_id=self.settings.amqp.user))

    def _may_answer(self, said: chat.Said, spoken: chat.Spoken | None) -> bool:
        """Scores are always answered; what is said to the grader itself that scores nothing, once
        a second for each way (anyone may speak in a classmate's name: their inbox is not to be
        flooded); the rest (a message to everyone that cannot score, say) once every QUIET seconds."""
        if spoken is not None and spoken.scored:
            return True
        addressed = said.kind in ("direct", "chosen")
        key, every = ((said.slug, said.kind), ADDRESSED_EVERY) if addressed else (said.slug, QUIET)
        now = time.monotonic()
        if now - self.answered.get(key, -every) < every:
            return False
        if len(self.answered) > MAX_ANSWERED:
            self.answered.clear()  # made-up names without end: forgetting them only answers once more
        self.answered[key] = now
        return True

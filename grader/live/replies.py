"""What the grader sends after a commit: feedback, copies of rejected messages, and the news.

Feedback to a queue goes out on the grader's own channel. Feedback to RabbitMQ's direct reply-to
(`amq.rabbitmq.reply-to.<id>`, a name the broker writes into `reply_to` for a student's channel)
goes out on a connection of its own: on RabbitMQ 3.10, a made-up name of that form makes the
broker close the connection that publishes to it (541 INTERNAL_ERROR), and that must never be the
grader's. Each direct reply is confirmed, so a broken one is known, dropped, and costs a
reconnect (see `DirectReplies`).
"""

from __future__ import annotations

import json
import logging
import time
import uuid

import pika
import pika.exceptions

from grader import broker, names
from grader.errors import WorkshopError

log = logging.getLogger(__name__)

REASON_HEADER = "x-reject-reason"
KEEP_BYTES = 4096  # of a rejected message's body, kept in W.rejected (the rest is only counted)
PENALTY = 60.0  # seconds without direct replies to a name whose reply broke the connection
RECONNECT_EVERY = 1.0  # after a failure, seconds before a name never answered before is tried


def json_feedback(outcome) -> bytes:
    return json.dumps(outcome.feedback()).encode()


def feedback_properties(correlation_id) -> pika.BasicProperties:
    return pika.BasicProperties(content_type="application/json", correlation_id=correlation_id)


def rejected_copy(outcome) -> tuple[bytes, pika.BasicProperties]:
    """The body (cut to KEEP_BYTES) and properties of a rejected message's copy in `W.rejected`."""
    delivery = outcome.delivery
    headers = {REASON_HEADER: outcome.verdict.reason[:1000], "x-original-queue": delivery.queue,
               "x-original-bytes": len(delivery.body)}
    if len(delivery.body) > KEEP_BYTES:
        headers["x-truncated"] = True
    if delivery.unreadable:
        headers["x-unreadable-properties"] = delivery.unreadable[:200]
    correlation_id = delivery.correlation_id
    if isinstance(correlation_id, bytes):  # not UTF-8: a header keeps it, where the management UI can show it
        headers["x-original-correlation-id"], correlation_id = correlation_id, None
    properties = pika.BasicProperties(headers=headers, delivery_mode=pika.DeliveryMode.Persistent,
                                      message_id=delivery.message_id, correlation_id=correlation_id,
                                      reply_to=delivery.reply_to)
    return delivery.body[:KEEP_BYTES], properties


def announcement(outcomes) -> bytes:
    """The news on `W.events` after a commit: how many verdicts, how many points, and the
    message ids of the graded messages (text only, as the envelope kept them)."""
    keys = [o.delivery.message_id for o in outcomes if o.delivery.message_id][:1000]
    return json.dumps({"id": uuid.uuid4().hex, "at": time.time(), "verdicts": len(outcomes),
                       "points": sum(o.verdict.points for o in outcomes if not o.replayed), "keys": keys}).encode()


class DirectReplies:
    """Replies to `amq.rabbitmq.reply-to.*`, on a confirmed connection that may break.

    A reply the broker refuses is tried once more on a fresh connection (the old one may just
    have gone stale), then dropped, and its name gets no replies for `PENALTY` seconds. Opening
    a connection for a name never answered before happens at most once every RECONNECT_EVERY
    seconds, so that a flood of made-up names costs the grader one reconnect a second, while
    names that worked before are always served."""

    def __init__(self, url: str, *, clock=time.monotonic):
        self.url, self.clock = url, clock
        self.connection = None
        self.channel = None
        self.penalised: dict[str, float] = {}  # reply_to -> until when
        self.answered: dict[str, None] = {}  # reply_to names that worked (insertion-ordered, bounded)
        self.last_failure = float("-inf")

    def send(self, routing_key: str, body: bytes, properties: pika.BasicProperties) -> bool:
        """Publish one reply; False when it was dropped."""
        now = self.clock()
        if self.penalised.get(routing_key, float("-inf")) > now:
            return False
        if routing_key not in self.answered and now - self.last_failure < RECONNECT_EVERY:
            return False
        for attempt in (1, 2):
            try:
                self._publish(routing_key, body, properties)
                self.answered[routing_key] = None
                if len(self.answered) > 10_000:
                    del self.answered[next(iter(self.answered))]
                return True
            except (pika.exceptions.AMQPError, OSError, WorkshopError) as exc:
                self.close()
                if attempt == 2:
                    log.warning("a direct reply to %r was refused (%s: %s); dropped, and none to it for %.0f s",
                                routing_key[:80], type(exc).__name__, exc, PENALTY)
        self.last_failure = now
        self.penalised[routing_key] = now + PENALTY
        if len(self.penalised) > 10_000:
            self.penalised = {key: until for key, until in self.penalised.items() if until > now}
        return False

    def _publish(self, routing_key: str, body: bytes, properties: pika.BasicProperties) -> None:
        if self.channel is None:
            # No heartbeats: between replies nobody services this connection, and that is fine.
            self.connection = broker.connect(self.url, name="workshop-grader-direct-replies", heartbeat=0)
            self.channel = self.connection.channel()
            self.channel.confirm_delivery()
        self.channel.basic_publish(exchange="", routing_key=routing_key, body=body, properties=properties)

    def close(self) -> None:
        connection, self.connection, self.channel = self.connection, None, None
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - it is broken already
                pass


def is_reply_target(reply_to: str | None, workshop: str) -> bool:
    """Feedback goes anywhere but into a protocol queue (`name`, `W.*`)."""
    return bool(reply_to) and not names.is_reserved(reply_to, workshop)

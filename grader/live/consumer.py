"""Where students' messages arrive: the grader's consumer on `name` and `W.results`.

Messages are taken in batches. A batch is graded and recorded in one transaction; only after
the commit are replies sent, protocol breakers copied to `W.rejected`, and the batch acked. A
crash before the ack means redelivery, and the recorded verdicts make that harmless.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid

import pika
import pika.exceptions
from sqlalchemy.exc import OperationalError, StatementError

from grader import broker, names
from grader.live.checks import rejection
from grader.errors import WorkshopError
from grader.live.grading import Delivery, Outcome, exercise_of, grade_batch
from grader.live.protocol import REGISTER
from grader.settings import Settings
from grader.live.store import Conflict, Store

log = logging.getLogger(__name__)

PREFETCH = 500  # unacked messages the broker may send ahead
MAX_BATCH = 500  # messages graded in one transaction
REASON_HEADER = "x-reject-reason"
# The store going away counts too, and so does a batch that kept losing races to other graders
# (after many attempts): reconnecting lets the broker redeliver it.
CONNECTION_ERRORS = (*broker.CONNECTION_ERRORS, OperationalError, Conflict)


def declare_protocol(channel, workshop: str) -> None:
    """The grader's queues and exchange: durable, no arguments (students may declare them too)."""
    for queue in (names.REGISTER_QUEUE, names.results_queue(workshop), names.rejected_queue(workshop)):
        try:
            channel.queue_declare(queue=queue, durable=True)
        except pika.exceptions.ChannelClosedByBroker as exc:
            raise WorkshopError(
                f"the queue `{queue}` exists with other properties than the grader's (durable, no arguments): "
                f"{exc.reply_text}. Delete it (`rabbitmqctl delete_queue {queue}`) and the grader declares it."
            ) from exc
    channel.exchange_declare(names.events_exchange(workshop), exchange_type="fanout", durable=True)
    for kind, exchange_type in names.CHAT_KINDS.items():  # for the chat exercise; nobody grades it
        channel.exchange_declare(names.chat_exchange(workshop, kind), exchange_type=exchange_type, durable=True)


def declare_student_queue(connection, workshop: str, slug: str) -> bool:
    """Declare `W.<slug>` on a channel of its own: a student who declared it with other properties
    closes that channel (PRECONDITION_FAILED), not the grader's."""
    channel = connection.channel()
    try:
        channel.queue_declare(queue=names.tasks_queue(workshop, slug), durable=True)
        return True
    except pika.exceptions.ChannelClosedByBroker as exc:
        log.warning("cannot declare the tasks queue of %s: %s", slug, exc)
        return False
    finally:
        if channel.is_open:
            channel.close()


class Grader:
    """Consumes, grades, records, replies, acks; reconnects when the broker goes away."""

    def __init__(self, settings: Settings, store: Store):
        self.settings = settings
        self.workshop = settings.workshop
        self.store = store
        self.stopping = threading.Event()
        self.consuming = threading.Event()  # set while the grader consumes (for whoever waits on it)
        self.graded = 0  # messages graded and acked since start

    def stop(self) -> None:
        self.stopping.set()

    # -- the reconnect loop ----------------------------------------------------------------------

    def run(self) -> None:
        """Grade until `stop()`, reconnecting when the broker or the store goes away."""
        broker.run_connected(self.settings.rabbitmq_url, "grader", self.consume, self.stopping, self.consuming,
                             errors=CONNECTION_ERRORS)
        log.info("grader stopped after %d messages", self.graded)

    # -- one connection's life -----------------------------------------------------------------

    def consume(self, connection: pika.BlockingConnection) -> None:
        channel = connection.channel()
        declare_protocol(channel, self.workshop)
        channel.basic_qos(prefetch_count=PREFETCH)
        confirmed = connection.channel()  # copies to W.rejected must not be lost
        confirmed.confirm_delivery()
        pending: list[Delivery] = []

        def on_message(ch, method, properties, body):
            pending.append(Delivery(
                queue=consumers[method.consumer_tag],
                body=body, tag=method.delivery_tag, redelivered=method.redelivered,
                reply_to=properties.reply_to, correlation_id=properties.correlation_id,
                message_id=properties.message_id,
            ))

        consumers = {}
        for queue in (names.REGISTER_QUEUE, names.results_queue(self.workshop)):
            consumers[channel.basic_consume(queue=queue, on_message_callback=on_message)] = queue
        log.info("grader consuming from %s", ", ".join(consumers.values()))
        self.consuming.set()

        while not self.stopping.is_set():
            connection.process_data_events(time_limit=0 if pending else 0.2)
            if pending and (len(pending) >= MAX_BATCH or not _more_waiting(connection, pending)):
                batch, pending[:] = pending[:MAX_BATCH], pending[MAX_BATCH:]
                self.settle(connection, channel, confirmed, batch)
        channel.close()

    def settle(self, connection, channel, confirmed, batch: list[Delivery]) -> None:
        """Grade and record the batch, then reply, copy rejects, ack, and tell the leaderboard."""
        outcomes = self.grade(batch)
        for outcome in outcomes:
            # A replayed outcome (redelivered after a crash) may not have got this far the first
            # time: copy and declare again. W.rejected may then hold a copy twice, never none.
            if outcome.rejected:
                self.dead_letter(confirmed, outcome)
            if outcome.verdict.exercise == REGISTER and outcome.verdict.points:
                declare_student_queue(connection, self.workshop, outcome.slug)
            self.reply(channel, outcome)
        channel.basic_ack(delivery_tag=max(d.tag for d in batch), multiple=True)
        self.graded += len(batch)
        self.announce(channel, outcomes)

    def grade(self, batch: list[Delivery]) -> list[Outcome]:
        try:
            return grade_batch(self.store, batch)
        except OperationalError:
            raise  # the store is unreachable: reconnect and let the broker redeliver
        except StatementError:
            if len(batch) == 1:
                raise
            log.exception("a batch of %d failed in the store; grading its messages one by one", len(batch))
            return [outcome for delivery in batch for outcome in self._grade_alone(delivery)]

    def _grade_alone(self, delivery: Delivery) -> list[Outcome]:
        try:
            return grade_batch(self.store, [delivery])
        except OperationalError:
            raise
        except StatementError:
            log.exception("message %s cannot be recorded; rejecting it", delivery.key)
            return [Outcome(delivery, rejection("the grader could not record this message", exercise_of(delivery)))]

    # -- after the commit ----------------------------------------------------------------------

    def reply(self, channel, outcome: Outcome) -> None:
        reply_to = outcome.delivery.reply_to
        if not reply_to or names.is_reserved(reply_to, self.workshop):
            return
        properties = pika.BasicProperties(content_type="application/json",
                                          correlation_id=outcome.delivery.correlation_id)
        channel.basic_publish(exchange="", routing_key=reply_to, body=json.dumps(outcome.feedback()).encode(),
                              properties=properties)

    def dead_letter(self, confirmed, outcome: Outcome) -> None:
        delivery = outcome.delivery
        headers = {REASON_HEADER: outcome.verdict.reason, "x-original-queue": delivery.queue}
        properties = pika.BasicProperties(headers=headers, delivery_mode=pika.DeliveryMode.Persistent,
                                          message_id=delivery.message_id, correlation_id=delivery.correlation_id,
                                          reply_to=delivery.reply_to)
        confirmed.basic_publish(exchange="", routing_key=names.rejected_queue(self.workshop), body=delivery.body,
                                properties=properties)

    def announce(self, channel, outcomes: list[Outcome]) -> None:
        """Tell whoever listens (the leaderboard) that verdicts were committed."""
        scored = [o.delivery.key for o in outcomes if o.delivery.message_id][:1000]
        event = {"id": uuid.uuid4().hex, "at": time.time(), "verdicts": len(outcomes),
                 "points": sum(o.verdict.points for o in outcomes if not o.replayed), "keys": scored}
        channel.basic_publish(exchange=names.events_exchange(self.workshop), routing_key="",
                              body=json.dumps(event).encode(),
                              properties=pika.BasicProperties(content_type="application/json"))


def _more_waiting(connection, pending: list) -> bool:
    """Did the last poll bring more messages? Keep filling the batch while they flow."""
    before = len(pending)
    connection.process_data_events(time_limit=0)
    return len(pending) > before

"""Where students' messages arrive: the grader's consumer on `name`, `W.results` and every
student's answers queue `W.results.<id>`.

Messages are taken in batches. A batch is graded and recorded in one transaction; only after
the commit are protocol breakers copied to `W.rejected` (in one AMQP transaction), replies sent,
and the batch acked. A crash before the ack means redelivery, and grading is idempotent.

What keeps one message from stopping the class:
- properties are read as untrusted data (`envelope`), and pika's decoding of them cannot fail
  (`wire`); a grading bug costs one message, which is rejected;
- every connection first takes the messages at the head of each queue one at a time while they
  were delivered before (the unacked messages of a connection that broke come back first), and
  only then consumes: a message that breaks connections is alone in flight when it does, and
  the broker dead-letters it after `queues.POISON_LIMIT` tries;
- each student's answers queue is consumed on its own with a small prefetch, so a student who
  floods theirs delays nobody else;
- the store going away holds the batch and retries it: the connection stays, the messages keep
  their delivery counts;
- direct reply-to replies go out on a connection of their own (`replies.DirectReplies`);
- a student over their allowance of messages that score nothing is not graded, and what nobody
  registered sends is recorded only within one shared allowance (`fairness`);
- without accounts, registrations beyond `max_students` are refused: a flood of made-up names
  cannot declare queues without end.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time

import pika
from sqlalchemy.exc import DatabaseError, DBAPIError, InterfaceError, InternalError, OperationalError

from grader import broker, names
from grader.errors import WorkshopError
from grader.live import queues, replies, wire
from grader.live.accounts import Room
from grader.live.checks import rejection
from grader.live.envelope import Delivery
from grader.live.fairness import MAX_STUDENTS, Limiter
from grader.live.grading import Outcome, exercise_of, grade_batch
from grader.live.intake import PREFETCH, Intake, envelope
from grader.live.protocol import REGISTER
from grader.live.store import Conflict, Store
from grader.settings import Settings

log = logging.getLogger(__name__)

CAREFUL = PREFETCH  # at most this many redelivered messages are settled one at a time after a (re)connect
REFRESH = 2.0  # seconds between looks in the store for students registered by another grader
MAX_BATCH = 500  # messages graded in one transaction
REASON_HEADER = replies.REASON_HEADER
LINGER, LINGER_STEP = 0.02, 0.002  # seconds a batch may wait to fill up; seconds to wait for the next message
# The store is away, busy, read-only or broken: hold the batch and try again. (A DataError, an
# IntegrityError or a ProgrammingError is about the messages, or a bug: those are isolated.)
STORE_ERRORS = (OperationalError, InterfaceError, InternalError, Conflict)


class Grader:
    """Consumes, grades, records, replies, acks; reconnects when the broker goes away."""

    def __init__(self, settings: Settings, store: Store, *, limiter: Limiter | None = None,
                 room: Room | None = None, max_students: int = MAX_STUDENTS):
        self.settings = settings
        self.room = room  # protocol version 2: the sender is the message's user_id
        # Without accounts anyone may register any name, and each student costs two queues: a limit.
        self.max_students = None if room is not None else max_students
        self.workshop = settings.workshop
        self.store = store
        self.limiter = limiter if limiter is not None else Limiter()
        self.stopping = threading.Event()
        self.consuming = threading.Event()  # set while the grader consumes (for whoever waits on it)
        self.graded = 0  # messages graded and acked since start
        self.claimed: set[int] = set()  # earlier verdicts given back to redelivered messages (grading.Batch)
        self.direct = replies.DirectReplies(settings.rabbitmq_url)

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        """Grade until `stop()`, reconnecting when the broker goes away."""
        wire.install()
        try:
            broker.run_connected(self.settings.rabbitmq_url, "grader", self.consume, self.stopping, self.consuming)
        finally:
            self.direct.close()
        log.info("grader stopped after %d messages", self.graded)

    # -- one connection's life -----------------------------------------------------------------

    def consume(self, connection: pika.BlockingConnection) -> None:
        queues.declare_protocol(connection, self.workshop)
        channel = connection.channel()
        copies = connection.channel()  # copies to W.rejected: one AMQP transaction per batch
        copies.tx_select()
        pending: list[Delivery] = []
        intake = Intake(connection, channel, self.workshop, lambda queue, method, properties, body: pending.append(
            envelope(queue, method, properties, body)))
        self.consuming.set()  # from here on, a lost connection is news (reconnect at once), not a bad start
        # Whatever a broken connection left unacked comes back first: one message at a time, so
        # that a message that breaks connections is alone in flight when it does.
        if not self.settle(connection, channel, copies, intake, intake.shared):
            return
        students = intake.declare(self._registered())  # those whose answers queue can be read
        if not self.settle(connection, channel, copies, intake, [names.answers_queue(self.workshop, slug)
                                                                  for slug in sorted(students)]):
            return
        intake.start(students)
        log.info("grader consuming from %s and %d students' answers queues", ", ".join(intake.shared),
                 len(intake.students))
        refreshed = time.monotonic()
        while not self.stopping.is_set():
            connection.process_data_events(time_limit=0 if pending else 0.2)
            if intake.cancelled and not pending:
                raise WorkshopError(f"the broker cancelled the grader's consumer of {intake.cancelled[0]} "
                                    "(was the queue deleted?)")
            if time.monotonic() > refreshed + REFRESH:  # students another grader registered
                intake.add(self._registered() - intake.students)
                if self.room is not None:
                    self.room.refresh()
                refreshed = time.monotonic()
            if not pending:
                continue
            _fill(connection, pending)
            batch, pending[:] = pending[:MAX_BATCH], pending[MAX_BATCH:]
            if not self.finish(connection, channel, copies, intake, batch):
                return  # stopping while the store was away: the broker redelivers the batch
        channel.close()

    def settle(self, connection, channel, copies, intake: Intake, names_: list[str]) -> bool:
        """Grade the messages at the head of each queue one at a time (`basic_get`) while they are
        redeliveries, at most CAREFUL of them per call (the shared queues, then the students'). False if
        the grader stopped meanwhile."""
        budget = CAREFUL
        for queue in names_:
            while budget > 0 and not self.stopping.is_set():
                method, properties, body = channel.basic_get(queue)
                if method is None:
                    break
                budget -= 1
                delivery = envelope(queue, method, properties, body)
                if not self.finish(connection, channel, copies, intake, [delivery]):
                    return False
                if not delivery.redelivered:
                    break
        return not self.stopping.is_set()

    def finish(self, connection, channel, copies, intake: Intake, batch: list[Delivery]) -> bool:
        """Grade, record, respond, ack, announce. False if the grader stopped while the store was away."""
        outcomes = self.grade(connection, batch)
        if outcomes is None:
            return False
        intake.add(self.respond(connection, channel, copies, outcomes))
        channel.basic_ack(delivery_tag=max(d.tag for d in batch), multiple=True)
        self.graded += len(batch)
        channel.basic_publish(exchange=names.events_exchange(self.workshop), routing_key="",
                              body=replies.announcement(outcomes),
                              properties=pika.BasicProperties(content_type="application/json"))
        return True

    def _registered(self) -> set[str]:
        """The registered students, or none while the store is away (the next refresh tries again)."""
        try:
            return {slug for slug, _name in self.store.registered()}
        except DBAPIError as exc:
            log.warning("cannot read the registered students (%s); their answers queues are read later",
                        str(exc).splitlines()[0][:200])
            return set()

    def grade(self, connection, batch: list[Delivery]) -> list[Outcome] | None:
        """The batch's outcomes; while the store is away, keep the connection alive and retry."""
        for delay in hold_delays():
            try:
                return self._grade_isolating(batch)
            except (DBAPIError, Conflict) as exc:  # what _grade_isolating lets through: the store failed
                log.warning("the score store failed (%s: %s); holding %d messages, retrying in %.1f s",
                            type(exc).__name__, str(exc).splitlines()[0][:200], len(batch), delay)
            connection.process_data_events(time_limit=delay)  # heartbeats go on; the batch stays unacked
            if self.stopping.is_set():
                return None
        return None

    def _grade_isolating(self, batch: list[Delivery]) -> list[Outcome]:
        """A batch that fails for any other reason is graded one message at a time, and a single
        message that still fails is rejected: a bug costs that message, never the grader."""
        try:
            return grade_batch(self.store, batch, self.limiter, claimed=self.claimed, room=self.room,
                               max_students=self.max_students)
        except Exception as exc:  # noqa: BLE001
            if _store_failed(exc):
                raise
            if len(batch) > 1:
                log.exception("a batch of %d failed; grading its messages one by one", len(batch))
                return [outcome for delivery in batch for outcome in self._grade_isolating([delivery])]
            log.exception("a message from %s cannot be graded; rejecting it", batch[0].queue)
            verdict = rejection("the grader could not grade this message", exercise_of(batch[0]))
            return [Outcome(batch[0], verdict, recorded=False)]

    # -- after the commit ----------------------------------------------------------------------

    def respond(self, connection, channel, copies, outcomes: list[Outcome]) -> set[str]:
        """After the commit: copy rejects, declare new students' queues, reply. Returns the new students."""
        rejected = [outcome for outcome in outcomes if outcome.rejected]
        if rejected:
            # A redelivered reject may have been copied already: W.rejected may hold a copy twice, never none.
            for outcome in rejected:
                body, properties = replies.rejected_copy(outcome)
                publish_buffered(copies, names.rejected_queue(self.workshop), body, properties)
            copies.tx_commit()
        registered = set()
        for outcome in outcomes:
            if outcome.verdict.exercise == REGISTER and outcome.verdict.points:
                queues.declare_student_queues(connection, self.workshop, outcome.slug)
                registered.add(outcome.slug)
            if outcome.reply:
                self.reply(channel, outcome)
        return registered

    def reply(self, channel, outcome: Outcome) -> None:
        delivery = outcome.delivery
        if not replies.is_reply_target(delivery.reply_to, self.workshop):
            return
        body = replies.json_feedback(outcome)
        properties = replies.feedback_properties(delivery.correlation_id)
        if delivery.direct_reply:
            self.direct.send(delivery.reply_to, body, properties)
        else:
            publish_buffered(channel, delivery.reply_to, body, properties)


def publish_buffered(channel, routing_key: str, body: bytes, properties) -> None:
    """Publish through the default exchange without writing to the socket yet: pika's blocking
    channel writes and polls after every publish, which costs more than grading the message. The
    frames go out, in order, with the channel's next blocking call (the batch's ack, or the
    commit of the copies). The blocking channel's underlying channel is pika's own public
    `Channel` (pika 1.x, pinned)."""
    channel._impl.basic_publish(exchange="", routing_key=routing_key, body=body, properties=properties)


def _store_failed(exc: Exception) -> bool:
    """Is this the store failing as a whole (hold and retry), not one message (isolate it)?"""
    return isinstance(exc, STORE_ERRORS) or type(exc) is DatabaseError  # sqlite's "disk image is malformed"


def hold_delays():
    """Seconds to wait between tries while the store is away: 0.5, 1, 2, ... then every 15 s, forever."""
    return itertools.chain((0.5, 1.0, 2.0, 4.0, 8.0), itertools.repeat(15.0))


def _fill(connection, pending: list) -> None:
    """Keep taking messages while they flow (each wait ends as soon as one arrives), up to a full
    batch or LINGER seconds: a lone message waits one LINGER_STEP, a stream fills whole batches."""
    deadline = time.monotonic() + LINGER
    while len(pending) < MAX_BATCH and time.monotonic() < deadline:
        before = len(pending)
        connection.process_data_events(time_limit=LINGER_STEP)
        if len(pending) == before:
            return

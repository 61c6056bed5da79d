"""The protocol's queues and exchanges, declared with the arguments that keep the class safe.

- `name`, `W.results` and every student's answers queue `W.results.<id>` are quorum queues
  with a delivery limit: a message that the grader's
  connection failed on `POISON_LIMIT` times (it never got as far as being acked) is dead-lettered
  by the broker itself to `W.rejected`, with an `x-death` header that says `delivery_limit`. The
  broker counts; the grader needs to understand nothing about the message.
- `W.rejected` is bounded (`REJECTED_MAX_LENGTH` messages, `REJECTED_MAX_BYTES`), dropping the
  oldest: a flood of bad messages cannot fill the broker.
- `W.events` (fanout) carries the graders' news to the leaderboards; `W.chat.*` are the chat's.

A queue that already exists with other arguments (declared by a student before the grader
started, or by an older version) is used as it is, with a warning that says what is lost.
"""

from __future__ import annotations

import logging
import re

import pika.exceptions

from grader import names

log = logging.getLogger(__name__)

POISON_LIMIT = 5  # failed deliveries before the broker takes a message out of the grader's way
REJECTED_MAX_LENGTH = 10_000
REJECTED_MAX_BYTES = 16 * 1024 * 1024


def intake_arguments(workshop: str) -> dict:
    """The arguments of `name`, `W.results` and the students' answers queues `W.results.<id>`."""
    return {"x-queue-type": "quorum", "x-delivery-limit": POISON_LIMIT, "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": names.rejected_queue(workshop)}


REJECTED_ARGUMENTS = {"x-max-length": REJECTED_MAX_LENGTH, "x-max-length-bytes": REJECTED_MAX_BYTES,
                      "x-overflow": "drop-head"}


def declare_protocol(connection, workshop: str) -> None:
    """Every queue and exchange of the protocol, each declared on a channel of its own so that a
    queue someone declared differently closes only that channel."""
    _declare(connection, names.rejected_queue(workshop), REJECTED_ARGUMENTS,
             "the broker does not bound it: a flood of bad messages can grow it without limit")
    for queue in (names.REGISTER_QUEUE, names.results_queue(workshop)):
        _declare(connection, queue, intake_arguments(workshop),
                 "a message that breaks the grader's connection again and again is not taken out of its way")
    channel = connection.channel()
    channel.exchange_declare(names.events_exchange(workshop), exchange_type="fanout", durable=True)
    for kind, exchange_type in names.CHAT_KINDS.items():  # for the chat exercise; nobody grades it
        channel.exchange_declare(names.chat_exchange(workshop, kind), exchange_type=exchange_type, durable=True)
    channel.close()


def _declare(connection, queue: str, arguments: dict, lost: str) -> None:
    channel = connection.channel()
    try:
        channel.queue_declare(queue=queue, durable=True, arguments=arguments)
    except pika.exceptions.ChannelClosedByBroker as exc:
        if exc.reply_code != 406:
            raise
        other = re.search(r"current is '([^']*)\.rejected'", exc.reply_text or "")
        if other and f"{other.group(1)}.rejected" != arguments.get("x-dead-letter-routing-key"):
            log.warning("the queue %s belongs to the workshop %r, which uses this vhost too: the registrations of "
                        "both would be mixed. Give each workshop a vhost of its own (the vhost of RABBITMQ_URL).",
                        queue, other.group(1))
        else:
            log.warning("the queue %s exists with other arguments (%s); using it as it is, but %s. Delete it "
                        "when it is empty (rabbitmqctl delete_queue %s) and restart the grader to fix this.",
                        queue, exc.reply_text, lost, queue)
        channel = connection.channel()
        channel.queue_declare(queue=queue, passive=True)
    channel.close()


def declare_student_queues(connection, workshop: str, slug: str) -> bool:
    """Declare a student's tasks queue `W.<slug>` and answers queue `W.results.<slug>`, each on a
    channel of its own: a student who declared one with other properties closes that channel
    (PRECONDITION_FAILED), not the grader's. True if the tasks queue can be dealt into."""
    declare_answers_queue(connection, workshop, slug)  # refused: answers still reach W.results
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


def declare_answers_queue(connection, workshop: str, slug: str) -> bool:
    """Declare the student's answers queue `W.results.<slug>` (a quorum queue like `W.results`).
    False, with a warning, when the broker refuses it for any other reason than other arguments
    (for example a student holds an exclusive queue of that name: 405 RESOURCE_LOCKED): that
    student's queue is then left out, and nobody else's grading stops for it."""
    queue = names.answers_queue(workshop, slug)
    try:
        _declare(connection, queue, intake_arguments(workshop),
                 "a message that breaks the grader's connection again and again is not taken out of its way")
        return True
    except pika.exceptions.ChannelClosedByBroker as exc:
        log.warning("cannot use the answers queue %s (%s); its answers are not read until it can be", queue, exc)
        return False

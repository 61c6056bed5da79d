"""Start a lesson clean: delete the queues and exchanges it is about to declare.

Re-running a notebook must not fail because a queue from the last run exists with other
properties (the broker answers PRECONDITION_FAILED, "inequivalent arg", to such a declaration).
"""

from __future__ import annotations

from collections.abc import Iterable

from grader.lab import connection


def reset(queues: Iterable[str] = (), exchanges: Iterable[str] = ()) -> None:
    """Delete these queues and exchanges if they exist (missing ones are fine), and say so."""
    queues, exchanges = list(queues), list(exchanges)
    with connection.channel() as ch:
        for queue in queues:
            ch.queue_delete(queue=queue)  # deleting a missing queue is not an error
        for exchange in exchanges:
            ch.exchange_delete(exchange=exchange)
    where = connection.settings().amqp
    print(f"Connected to RabbitMQ at {where.host}:{where.port}, vhost {where.vhost!r}.")
    removed = [f"queue `{name}`" for name in queues] + [f"exchange `{name}`" for name in exchanges]
    if removed:
        print(f"Starting clean: deleted {', '.join(removed)} (where they existed).")

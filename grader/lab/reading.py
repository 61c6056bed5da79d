"""Reading messages out of a queue for a check without taking them: they go back in their places.

`peek` reads on a connection of its own; `peek_on` and `take` on a channel of their own opened on
the student's connection, which may read that connection's exclusive queues. None of them ever
touches the student's own channels.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pika

from grader.lab import connection


@dataclass(frozen=True)
class Peeked:
    exchange: str
    routing_key: str
    redelivered: bool
    properties: pika.BasicProperties
    body: bytes


def peek(name: str, limit: int = 100) -> list[Peeked]:
    """Up to `limit` messages of queue `name`, left in the queue (they come back as redelivered)."""
    seen = []
    with connection.channel() as ch:
        for _ in range(limit):
            method, properties, body = ch.basic_get(queue=name, auto_ack=False)
            if method is None:
                break
            seen.append(Peeked(method.exchange, method.routing_key, method.redelivered, properties, body))
        # Closing the channel without acking puts every message back in its place.
    return seen


def take(
    connection: pika.BlockingConnection,
    name: str,
    wanted: Callable[[Peeked], bool],
    *,
    until: Callable[[list[Peeked]], bool] = bool,
    timeout: float = 2.0,
) -> list[Peeked]:
    """Take out of queue `name` the messages that `wanted(message)` accepts, until `until(taken)`
    holds (by default: one was taken) or `timeout` seconds passed; returns them in queue order.

    It reads on a channel of its own opened on `connection`, so it can read that connection's
    exclusive queues (a student's server-named inbox, which `peek` from another connection may
    not). Messages it does not want stay in the queue, in their order.
    """
    taken: list[Peeked] = []
    ch = connection.channel()
    deadline = time.monotonic() + timeout
    try:
        while not until(taken) and time.monotonic() < deadline:
            method, properties, body = ch.basic_get(queue=name, auto_ack=False)
            if method is None:
                time.sleep(0.02)  # not process_data_events: it would run the connection's consumers
                continue
            message = Peeked(method.exchange, method.routing_key, method.redelivered, properties, body)
            if wanted(message):
                ch.basic_ack(method.delivery_tag)
                taken.append(message)
            # Unwanted messages stay unacked, so this loop never sees them twice; closing the
            # channel puts them back in their places.
    finally:
        if ch.is_open:
            ch.close()
    return taken


def peek_on(connection: pika.BlockingConnection, name: str, limit: int = 100) -> list[Peeked]:
    """Like `peek`, on a channel of its own opened on the student's `connection` (which may read
    that connection's exclusive queues), closed whatever happens: every message goes back in its
    place, and the student's own channels are never touched."""
    seen: list[Peeked] = []
    ch = connection.channel()
    try:
        for _ in range(limit):
            method, properties, body = ch.basic_get(queue=name, auto_ack=False)
            if method is None:
                break
            seen.append(Peeked(method.exchange, method.routing_key, method.redelivered, properties, body))
    finally:
        if ch.is_open:
            ch.close()
    return seen

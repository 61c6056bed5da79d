"""Ask the broker itself how an exchange type routes: which routing keys reach which binding keys.

`routes()` declares a temporary exchange with one exclusive queue per binding key, publishes each
routing key once (the body is the key), and reads back what every queue received. It touches
nothing the lesson declared, and takes well under a second for a hundred keys each way.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable

import pika

from grader.lab import connection
from grader.lab.checks import CheckFailed

END = "lab.routes.end"  # the `type` of the marker that closes each queue's stream


def routes(
    binding_keys: Iterable[str],
    routing_keys: Iterable[str],
    *,
    exchange_type: str = "topic",
    exchange: str | None = None,
    timeout: float = 10.0,
) -> dict[str, set[str]]:
    """binding key -> the routing keys that the broker delivers to a queue bound with it.

    With `exchange`, the queues are bound to that existing exchange instead of a temporary one:
    for an account that may not declare exchanges (a student's, on the room's shared vhost). The
    test messages then really go through it, so choose keys that nobody else's bindings match.
    """
    binding_keys = list(dict.fromkeys(binding_keys))
    routing_keys = list(dict.fromkeys(routing_keys))
    received: dict[str, set[str]] = {key: set() for key in binding_keys}
    finished: set[str] = set()
    temporary = exchange is None
    exchange = exchange or f"lab.routes.{uuid.uuid4().hex[:12]}"
    with connection.channel() as ch:
        if temporary:
            ch.exchange_declare(exchange=exchange, exchange_type=exchange_type)
        try:
            queues = {}
            for binding_key in binding_keys:
                queue = ch.queue_declare(queue="", exclusive=True).method.queue
                ch.queue_bind(queue=queue, exchange=exchange, routing_key=binding_key)
                queues[binding_key] = queue
            for routing_key in routing_keys:
                ch.basic_publish(exchange=exchange, routing_key=routing_key, body=routing_key.encode())
            # One channel keeps its messages in order on their way into a queue, so when a queue's
            # end marker arrives, everything routed to it has arrived before.
            for queue in queues.values():
                ch.basic_publish(exchange="", routing_key=queue, body=b"", properties=pika.BasicProperties(type=END))
            for binding_key, queue in queues.items():
                ch.basic_consume(queue=queue, auto_ack=True,
                                 on_message_callback=_collector(binding_key, received, finished))
            deadline = time.monotonic() + timeout
            while len(finished) < len(queues):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise CheckFailed(f"the broker did not deliver the test messages within {timeout:g} s")
                ch.connection.process_data_events(time_limit=min(remaining, 0.5))
        finally:
            if temporary and ch.is_open:
                ch.exchange_delete(exchange=exchange)
    sent = set(routing_keys)  # on a shared exchange, other people's messages may arrive too
    return {binding_key: found & sent for binding_key, found in received.items()}


def _collector(binding_key: str, received: dict[str, set[str]], finished: set[str]):
    def on_message(ch, method, properties, body):
        if properties.type == END:
            finished.add(binding_key)
        else:
            received[binding_key].add(body.decode())

    return on_message

"""What arrived: a message's body and AMQP properties, read as untrusted data of any type.

A student's client can put anything the broker accepts into any property: bytes that are not
UTF-8 (pika then hands them over as `bytes`), numbers where text belongs, header tables of any
shape. Nothing after this module looks at the raw properties: a `Delivery` holds only what the
grader uses, each with a known type, and a digest that names the message across redeliveries.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field

from grader.live import wire

# added by a quorum queue on redelivery (x-acquired-count since RabbitMQ 4.3)
BROKER_HEADERS = frozenset({"x-delivery-count", "x-acquired-count"})
DIRECT_REPLY_TO = "amq.rabbitmq.reply-to"
_IDENTITY = tuple(name for name in wire.PROPERTY_NAMES if name != "headers")  # headers: see digest()


@dataclass(frozen=True)
class Delivery:
    """One message as it arrived, with what grading needs from its envelope."""

    queue: str
    body: bytes
    tag: int = 0
    redelivered: bool = False
    reply_to: str | None = None  # only a text queue name: anything else cannot be replied to
    correlation_id: str | bytes | None = None  # echoed in the reply exactly as it came
    message_id: str | None = None  # only text: it is announced to the leaderboard as JSON
    user_id: str | None = None  # only text; the broker has checked it is the publisher's user
    digest: str = ""  # given, or computed from `properties` when first asked for (see `key`)
    unreadable: str = ""  # what could not be read from the properties, if anything
    properties: object = field(default=None, repr=False, compare=False)

    @functools.cached_property
    def key(self) -> str:
        """The same for every redelivery of this message, whatever its properties (computed only
        for messages that are recorded or were redelivered)."""
        return self.digest or digest(self.queue, self.body, self.properties)

    @property
    def direct_reply(self) -> bool:
        """Does the reply go to RabbitMQ's direct reply-to (a consumer's channel, not a queue)?"""
        return self.reply_to is not None and self.reply_to.startswith(DIRECT_REPLY_TO)


def from_pika(queue: str, method, properties, body: bytes) -> Delivery:
    """A `Delivery` from what pika passes to a consumer callback; never raises on odd properties."""
    body = bytes(body)
    unreadable = wire.unreadable(properties)
    reply_to = _text(properties.reply_to)
    if properties.reply_to is not None and reply_to is None:
        unreadable = unreadable or "reply_to (not UTF-8 text)"
    correlation_id = properties.correlation_id
    if not isinstance(correlation_id, (str, bytes)) or len(correlation_id) > 255:
        correlation_id = None
    return Delivery(queue=queue, body=body, tag=method.delivery_tag, redelivered=bool(method.redelivered),
                    reply_to=reply_to, correlation_id=correlation_id, message_id=_text(properties.message_id),
                    user_id=_text(properties.user_id),
                    unreadable=unreadable, properties=properties)


def digest(queue: str, body: bytes, properties) -> str:
    """sha256 of the queue, the body and every property but the broker's own redelivery headers."""
    headers = properties.headers
    if isinstance(headers, dict):
        headers = {key: value for key, value in headers.items() if key not in BROKER_HEADERS} or None
    fields = getattr(properties, "__dict__", {})  # pika keeps every property there
    values = (*map(fields.get, _IDENTITY), _canonical(headers) if headers else None)
    summary = hashlib.sha256(queue.encode("utf-8", "surrogateescape") + b"\0" + body + b"\0")
    summary.update(repr(values).encode("utf-8", "backslashreplace"))
    return summary.hexdigest()


def _text(value) -> str | None:
    return value if isinstance(value, str) and value else None


def _canonical(value):
    """Tables with their keys in a fixed order (the broker may reorder them when it adds its own)."""
    if isinstance(value, dict):
        return sorted(((repr(key), _canonical(item)) for key, item in value.items()))
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    return value

"""Reading AMQP properties that pika cannot read, without losing the connection.

The broker accepts header tables that pika 1.x fails to decode: a timestamp past the year 9999,
a float that is NaN or infinite, a table nested hundreds of levels deep. pika decodes them while
it reads the socket, so the exception ends the grader's connection, the message comes back
first after the reconnect, and grading stops for everyone. `install()` makes the decoding of
message properties tolerant: a headers table that cannot be read is skipped (its length is in
front of it) and left out (`headers` is None), and `unreadable(properties)` says why; every
other property is read as before. The note is an attribute of the decoded object, not a header:
nothing a student sends can forge it.

It patches `pika.spec.BasicProperties.decode` for the whole process, once; the grader calls
it before it connects. Whatever still breaks a connection again and again is taken out of the
way by the broker (see `grader.live.queues`).
"""

from __future__ import annotations

import struct

import pika.spec
from pika.spec import BasicProperties

MAX_DEPTH = 16  # tables nested deeper than this are not read either: nothing downstream recurses far

_original_decode = BasicProperties.decode


_NOTE = "_workshop_unreadable"


def unreadable(properties) -> str:
    """Why some of these properties could not be read ("" if they all could)."""
    return getattr(properties, _NOTE, "")


def install() -> None:
    """Make property decoding tolerant in this process (idempotent)."""
    if BasicProperties.decode is not _tolerant_decode:
        pika.spec.BasicProperties.decode = _tolerant_decode


def _tolerant_decode(self: BasicProperties, encoded: bytes, offset: int = 0) -> BasicProperties:
    try:
        _original_decode(self, encoded, offset)
    except Exception as exc:  # noqa: BLE001 - anything pika raises on bytes the broker accepted
        _decode_without_headers(self, encoded, offset, f"the headers ({type(exc).__name__})")
        return self
    if self.headers is not None and _deeper_than(self.headers, MAX_DEPTH):
        self.headers = None
        setattr(self, _NOTE, f"the headers: tables nested deeper than {MAX_DEPTH} levels")
    return self


def _decode_without_headers(properties: BasicProperties, encoded: bytes, offset: int, reason: str) -> None:
    """Decode again with the headers table cut out; if even that fails, keep no property at all."""
    try:
        flags, start = _flags(encoded, offset)
        if not flags & BasicProperties.FLAG_HEADERS:
            raise ValueError("the failure is not in the headers")
        position = start
        for flag in (BasicProperties.FLAG_CONTENT_TYPE, BasicProperties.FLAG_CONTENT_ENCODING):
            if flags & flag:
                position += 1 + encoded[position]
        table_end = position + 4 + struct.unpack_from(">I", encoded, position)[0]
        if table_end > len(encoded):
            raise ValueError("the headers table is longer than the frame")
        flag_words = (flags & ~BasicProperties.FLAG_HEADERS).to_bytes(2, "big")
        if start - offset != 2:
            raise ValueError("properties with more than one flag word are not AMQP 0-9-1")
        rest = flag_words + encoded[start:position] + encoded[table_end:]
        _original_decode(properties, rest, 0)
        properties.headers = None
        setattr(properties, _NOTE, reason)
    except Exception:  # noqa: BLE001 - give up on the properties, never on the connection
        for name in PROPERTY_NAMES:
            setattr(properties, name, None)
        setattr(properties, _NOTE, "the message properties")


def _flags(encoded: bytes, offset: int) -> tuple[int, int]:
    flags, index = 0, 0
    while True:
        word = struct.unpack_from(">H", encoded, offset)[0]
        offset += 2
        flags |= word << (index * 16)
        if not word & 1:
            return flags, offset
        index += 1


def _deeper_than(value: object, limit: int) -> bool:
    """Whether tables and arrays nest deeper than `limit`, without recursion."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


PROPERTY_NAMES = (  # AMQP 0-9-1's basic properties, in the order of their flags
    "content_type", "content_encoding", "headers", "delivery_mode", "priority", "correlation_id",
    "reply_to", "expiration", "message_id", "timestamp", "type", "user_id", "app_id", "cluster_id")

"""Helpers for the tests that send poison: bounded waits, a publisher that survives the broker's
refusals, and a reader of `W.rejected` that does not depend on pika decoding what is in there.

`W.rejected` may hold messages whose headers pika cannot decode (a broker dead-letters a message
with its original headers), so it is read through the management API (`POST .../get`), where
RabbitMQ renders the headers itself, one message per request: a message whose rendering is too
deep for Python's json is still counted, and its reason found in the text.
"""

from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass, field
from urllib.parse import quote

import pika
import pika.exceptions

from grader.live.standings import leaderboard
from tests.live import rawframes

POLL = 0.05
DELIVERY_LIMIT = "delivery_limit"
REASON_HEADER = "x-reject-reason"  # the protocol's header (docs/protocol.md, section 5)


def wait_for(condition, timeout: float, what: str, *, state=None):
    """Poll `condition()` until it is truthy (returned) or `timeout` s pass: then an AssertionError
    that says what was waited for and, from `state()`, what there was instead."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            seen = f"; instead: {state()}" if state is not None else ""
            raise AssertionError(f"waited {timeout:g} s for {what}{seen}")
        time.sleep(POLL)


def points_by_slug(store) -> dict[str, int]:
    return {row["slug"]: row["points"] for row in leaderboard(store)}


def message_count(url: str, queue: str) -> int:
    """Messages ready in `queue` (a passive declare on a connection of its own)."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        return connection.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        connection.close()


class Publisher:
    """Publishes raw property lists with confirms on a connection of its own. A message the broker
    refuses (it closes the channel or the connection) is reported, and the next one goes out on a
    new connection."""

    def __init__(self, url: str):
        self.url = url
        self.connection = None
        self.channel = None
        self.refusals: list[str] = []

    def _ready(self):
        if self.connection is None or not self.connection.is_open:
            self.connection = pika.BlockingConnection(pika.URLParameters(self.url))
            self.channel = None
        if self.channel is None or not self.channel.is_open:
            self.channel = self.connection.channel()
            self.channel.confirm_delivery()
        return self.channel

    def publish(self, routing_key: str, body: bytes, raw_properties: bytes) -> str | None:
        """None when the broker took the message, else why not."""
        try:
            rawframes.publish(self._ready(), routing_key, body, raw_properties)
            return None
        except (pika.exceptions.AMQPChannelError, pika.exceptions.AMQPConnectionError) as exc:
            why = f"{type(exc).__name__}: {exc}"
            self.refusals.append(why)
            return why

    def close(self) -> None:
        if self.connection is not None and self.connection.is_open:
            self.connection.close()


@dataclass
class Rejected:
    """One message read from `W.rejected`."""

    payload: bytes
    reason: str | None  # the grader's x-reject-reason, or "delivery_limit" from the broker's x-death
    by: str  # "grader", "broker" or "nobody" (no reason found)
    headers: dict | None = None  # as the management API rendered them (None: too deep to parse here)
    text: str = ""


def _reason(headers: dict) -> tuple[str | None, str]:
    given = headers.get(REASON_HEADER)
    if isinstance(given, str) and given.strip():
        return given, "grader"
    deaths = headers.get("x-death")
    if isinstance(deaths, list) and any(isinstance(d, dict) and d.get("reason") == DELIVERY_LIMIT for d in deaths):
        return DELIVERY_LIMIT, "broker"
    return None, "nobody"


_PAYLOAD = re.compile(r'"payload":"((?:[^"\\]|\\.)*)","payload_encoding":"(\w+)"')
_REASON = re.compile(r'"' + REASON_HEADER + r'":"((?:[^"\\]|\\.)+)"')


def _parse(text: str) -> Rejected | None:
    try:
        found = json.loads(text)
    except (ValueError, RecursionError):  # headers nested deeper than Python's json goes
        payload = _PAYLOAD.search(text)
        reason = _REASON.search(text)
        raw = b""
        if payload:
            value = json.loads(f'"{payload.group(1)}"')
            raw = base64.b64decode(value) if payload.group(2) == "base64" else value.encode()
        if reason:
            return Rejected(raw, json.loads(f'"{reason.group(1)}"'), "grader", None, text)
        broker = f'"reason":"{DELIVERY_LIMIT}"' in text
        return Rejected(raw, DELIVERY_LIMIT if broker else None, "broker" if broker else "nobody", None, text)
    if not found:
        return None
    [message] = found
    raw = message["payload"]
    raw = base64.b64decode(raw) if message.get("payload_encoding") == "base64" else raw.encode()
    headers = (message.get("properties") or {}).get("headers") or {}
    headers = headers if isinstance(headers, dict) else {}
    reason, by = _reason(headers)
    return Rejected(raw, reason, by, headers, text)


@dataclass
class RejectedQueue:
    """Takes messages out of `W.rejected` (through the management API) and keeps them."""

    api: object  # grader.management.Management
    vhost: str
    queue: str
    seen: list[Rejected] = field(default_factory=list)

    def drain(self, limit: int = 1000) -> list[Rejected]:
        """Take whatever is in the queue now (up to `limit`); returns the new ones."""
        path = f"queues/{quote(self.vhost, safe='')}/{quote(self.queue, safe='')}/get"
        new = []
        for _ in range(limit):
            response = self.api.request("POST", path, json={"count": 1, "ackmode": "ack_requeue_false",
                                                            "encoding": "auto", "truncate": 4096})
            if response.status_code == 404:  # not declared yet
                break
            assert response.status_code == 200, f"management get from {self.queue}: {response.status_code} " \
                                                 f"{response.text[:300]}"
            got = _parse(response.text)
            if got is None:
                break
            new.append(got)
        self.seen.extend(new)
        return new

    def containing(self, token: bytes) -> list[Rejected]:
        return [one for one in self.seen if token in one.payload]

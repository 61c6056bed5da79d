"""Streams for lesson 13: where the stream protocol listens, and checks that read a stream.

- `stream_options()`: the keyword arguments of rstream's `Producer` and `Consumer` for the course's
  broker: the host, user and vhost of RABBITMQ_URL, the port of RABBITMQ_STREAM_PORT (default 5552)
- `expect_stream_plugin()`: the stream plugin is on and its port answers, or one sentence saying what
  to do (`rabbitmq-plugins enable rabbitmq_stream`, or which port to set)
- `expect_stream(name, arguments=...)`: a durable stream with these arguments is on the broker
- `read_stream(name, offset)`: what a stream holds from `offset` on, read over AMQP 0-9-1 on a
  connection of its own (reading a stream removes nothing)
- `stored_offset(stream, reference)`: the offset the broker keeps for a named reader, asked over
  the stream protocol in a thread and an event loop of its own
- `stream_mistake()`: a sentence about the stream mistake that made the broker close one of the
  student's channels or connections (no prefetch, auto_ack=True, a non-durable stream...), or None
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import pika

from grader.lab import connection
from grader.lab.checks import expect, ok, queue_definition
from grader.lab.errors import closed_channels
from grader.settings import stream_port
from grader.streamport import stream_problem

ENABLE = "rabbitmq-plugins enable rabbitmq_stream"

# What the broker says when it refuses a stream mistake (3.10 and 4.x wordings), and what to do.
MISTAKES = (
    ("prefetch count is not set",
     "a stream consumer must set a prefetch: call channel.basic_qos(prefetch_count=100) on its channel "
     "before basic_consume or consume (the broker closed that channel)"),
    ("automatic acknowledgement not supported",
     "a stream consumer cannot use auto_ack=True: consume with manual acks (auto_ack=False, the default) "
     "and ack each message; the broker closed the whole connection"),
    ("basic.get not supported",
     "a stream cannot be read with basic_get: consume it, with a prefetch and an x-stream-offset; the broker "
     "closed the whole connection"),
    ("basic.nack and basic.reject not supported",
     "a stream never takes a message back: do not nack or reject; pika's channel.cancel() and basic_cancel "
     "nack the deliveries it holds but has not handed to your code yet, so cancel only once your consumer went "
     "quiet (nothing came for a while); the broker closed the whole connection"),
    ("invalid property 'non-durable'",
     "a stream must be durable: declare it with durable=True"),
    ("transient_nonexcl_queues",
     "a stream must be durable: declare it with durable=True (RabbitMQ 4 closes the whole connection)"),
    ("invalid property 'exclusive-owner'",
     "a stream cannot be exclusive: declare it with durable=True and without exclusive=True"),
    ("invalid property 'auto-delete'",
     "a stream cannot be auto-delete: declare it with durable=True and without auto_delete=True"),
)
AGAIN = "Run the setup cell again (it opens `connection` and `channel`), then your cells from the top."


def stream_options() -> dict[str, Any]:
    """Keyword arguments for `rstream.Producer(**...)` and `rstream.Consumer(**...)`.

    `load_balancer_mode=True` makes rstream always dial this host and port, not the host name the
    broker advertises (a broker in Docker advertises its container's name, unknown outside)."""
    amqp = connection.settings().amqp
    return {"host": amqp.host, "port": stream_port(), "username": amqp.user, "password": amqp.password,
            "vhost": amqp.vhost, "load_balancer_mode": True}


def _listener(port: int) -> tuple[bool, list[int]] | None:
    """(is a stream listener on, its ports as far as the management API tells); None without the API."""
    try:
        return connection.management().stream_listener(port)
    except Exception:  # noqa: BLE001 - without the management API, the port alone tells
        return None


def expect_stream_plugin() -> int:
    """The broker's stream plugin is on and its port answers from here; returns the port."""
    port, host = stream_port(), connection.settings().amqp.host
    found = _listener(port)
    if found is not None:
        on, ports = found
        expect(on, f"the stream plugin is off on this broker, so nothing listens for the stream protocol: "
                   f"run `{ENABLE}` on the broker's machine (in Docker: `docker compose exec rabbitmq {ENABLE}`)"
                   ", or ask the instructor, then run this cell again")
        where = "RABBITMQ_STREAM_PORT" if os.environ.get("RABBITMQ_STREAM_PORT") else "the default port"
        if port not in ports and host in ("localhost", "127.0.0.1", "::1"):  # a remote broker's ports may be mapped
            expect(False, f"the broker listens for streams on port {ports[0]}, but this notebook uses {port} "
                          f"({where}): set RABBITMQ_STREAM_PORT={ports[0]} before starting JupyterLab" if ports else
                          # a broker without metrics says only that its stream port is not this one
                          f"the broker listens for streams, but not on port {port}, which this notebook uses "
                          f"({where}): set RABBITMQ_STREAM_PORT to its stream port before starting JupyterLab "
                          "(ask the instructor)")
    problem = stream_problem(host, port)
    if problem is not None:
        expect(False, f"{problem}: " + (
            "set RABBITMQ_STREAM_PORT to the broker's stream port (5552 unless the instructor says otherwise) "
            "before starting JupyterLab" if problem.other_protocol else
            f"if the stream plugin is off, run `{ENABLE}` on the broker; in Docker, publish the port ({port}:5552 "
            "in docker-compose.yml); if it listens elsewhere, set RABBITMQ_STREAM_PORT to its stream port"))
    ok(f"the stream plugin answers at {host}:{port}")
    return port


# -- the stream on the broker -----------------------------------------------------------------


def expect_stream(name: str, *, arguments: dict | None = None) -> dict:
    """A durable stream `name` with these arguments (x-queue-type is checked too); returns its
    management description."""
    mistake = stream_mistake()
    definition = queue_definition(name)
    declare = (f"declare it with channel.queue_declare(queue={name!r}, durable=True, "
               "arguments={'x-queue-type': 'stream', ...})")
    expect(definition is not None, f"there is no stream `{name}` on the broker: {mistake or declare}")
    kind = definition.get("type", "classic")
    expect(kind == "stream", f"`{name}` is a {kind} queue, not a stream, and the broker never changes an existing "
                             f"queue: delete it (connection.channel().queue_delete({name!r})), then {declare}")
    expect(definition["durable"], f"the stream `{name}` should be durable")
    for key, value in (arguments or {}).items():
        actual = definition.get("arguments", {}).get(key)
        expect(actual == value and type(actual) is type(value),
               f"the stream `{name}` should have the argument {key}={value!r}"
               + ("" if actual is None else f" (it has {actual!r})")
               + ": queue arguments never change, so delete the stream and declare it again")
    return definition


@dataclass(frozen=True)
class StreamMessage:
    offset: int
    body: bytes
    properties: pika.BasicProperties


def read_stream(name: str, offset: object = "first", *, quiet: float = 0.2, first: float = 1.0,
                limit: int = 10_000) -> list[StreamMessage]:
    """The messages of stream `name` from `offset` ("first", "last", "next", a number, a datetime)
    on, read on a connection of its own (the student's are never touched): it waits up to `first`
    seconds for the first message, then stops when none came for `quiet` seconds. Nothing is
    removed: a stream keeps what it is read."""
    seen: list[StreamMessage] = []
    if queue_definition(name) is None:
        return seen
    done: list[bool] = []
    try:
        _read_into(seen, done, name, offset, quiet=quiet, first=first, limit=limit)
    except pika.exceptions.ConnectionClosedByBroker as exc:
        # Stopped (at `limit`, or a message came just after the quiet time) with deliveries still
        # pending: closing cancels the consumer, which rejects them, and a stream answers that by
        # closing the connection. Nothing is lost.
        if exc.reply_code != 540 or not done:
            raise
    return seen


def _read_into(seen: list[StreamMessage], done: list[bool], name: str, offset: object, *, quiet: float,
               first: float, limit: int) -> None:
    with connection.channel() as ch:
        ch.basic_qos(prefetch_count=500)
        last = time.monotonic()
        for method, properties, body in ch.consume(name, inactivity_timeout=0.05,
                                                   arguments={"x-stream-offset": offset}):
            if method is None:
                if time.monotonic() - last >= (quiet if seen else first):
                    break
                continue
            last = time.monotonic()
            seen.append(StreamMessage(int((properties.headers or {}).get("x-stream-offset", -1)), body, properties))
            ch.basic_ack(method.delivery_tag)
            if len(seen) >= limit:
                break
        done.append(True)  # read to the end: what the close may raise now is only the stream refusing rejects


def bodies(name: str, offset: object = "first") -> list[bytes]:
    return [message.body for message in read_stream(name, offset)]


# -- the stream protocol, from synchronous checks ----------------------------------------------


def run_async(coroutine: Coroutine, *, timeout: float = 5.0):
    """Run `coroutine` to its end in an event loop of its own, in a thread (a notebook's kernel
    already runs a loop), at most `timeout` seconds."""
    async def bounded():
        return await asyncio.wait_for(coroutine, timeout)

    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="lab-stream") as pool:
        return pool.submit(asyncio.run, bounded()).result()


def stored_offset(stream: str, reference: str) -> int | None:
    """The offset the broker stores for the reader `reference` on `stream`, or None if it has none."""
    from rstream import Consumer, OffsetNotFound

    async def query():
        consumer = Consumer(**stream_options())
        try:
            return await consumer.query_offset(stream, reference)
        except OffsetNotFound:
            return None
        finally:
            await consumer.close()

    return run_async(query())


def publish(name: str, messages: list[bytes]) -> None:
    """Publish `messages` to stream `name` over AMQP, confirmed, on a connection of its own."""
    with connection.channel() as ch:
        ch.confirm_delivery()
        for body in messages:
            ch.basic_publish("", name, body, pika.BasicProperties(delivery_mode=2))


# -- what the broker refused -------------------------------------------------------------------


def stream_mistake() -> str | None:
    """A sentence about the stream mistake for which the broker closed one of the student's
    channels or connections, or None."""
    for variable, reason in closed_channels():
        for part, advice in MISTAKES:
            if part in reason:
                connection_gone = "whole connection" in advice
                return f"{advice[0].upper()}{advice[1:]}. " + (AGAIN if connection_gone else
                                                               f"Open a new channel (`{variable} = connection.channel()`) "
                                                               "or run the setup cell again.")
    return None


def expect_no_stream_mistake() -> None:
    mistake = stream_mistake()
    expect(mistake is None, mistake or "")

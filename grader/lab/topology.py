"""A picture of what the student built: exchanges, bindings and queues with their message counts.

`snapshot()` reads the broker; `render_svg()` (in `grader.lab.picture`) is a pure function from
that snapshot to an SVG document, drawn without any external tool or internet access, so that it
works in any notebook. `select()` keeps what a lesson is about; `show_topology()` does it all and
displays the result.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase

import pika.exceptions

from grader.lab import connection
from grader.lab.picture import render_svg
from grader.management import Management
from grader.settings import Settings


@dataclass(frozen=True)
class Exchange:
    name: str
    type: str


@dataclass(frozen=True)
class Queue:
    name: str
    messages: int
    consumers: int = 0
    durable: bool = False
    exclusive: bool = False
    dead_letter_exchange: str | None = None  # the x-dead-letter-exchange argument, if any


@dataclass(frozen=True)
class Binding:
    source: str
    destination: str
    destination_type: str  # "queue" or "exchange"
    routing_key: str
    arguments: dict = field(default_factory=dict)  # what a headers exchange matches on


@dataclass
class Topology:
    exchanges: list[Exchange] = field(default_factory=list)
    queues: list[Queue] = field(default_factory=list)
    bindings: list[Binding] = field(default_factory=list)


def snapshot(*, include_builtin: bool = False, url: str | None = None) -> Topology:
    """What the current vhost holds (or the vhost of the AMQP `url`, as its user). Built-in `amq.*`
    exchanges appear only when bound."""
    where = Settings.from_env(rabbitmq_url=url) if url else connection.settings()
    api, vhost = Management.from_settings(where), where.amqp.vhost
    bindings = [
        Binding(b["source"], b["destination"], b["destination_type"], b["routing_key"], b.get("arguments") or {})
        for b in api.bindings(vhost)
        if b["source"]  # every queue is bound to the default exchange; that is implied
    ]
    used = {b.source for b in bindings} | {b.destination for b in bindings if b.destination_type == "exchange"}
    exchanges = [
        Exchange(e["name"], e["type"])
        for e in api.exchanges(vhost)
        if e["name"] and (include_builtin or not e["name"].startswith("amq.") or e["name"] in used)
    ]
    queues = [
        Queue(q["name"], q.get("messages_ready", 0), q.get("consumers", 0), q["durable"], q.get("exclusive", False),
              q.get("arguments", {}).get("x-dead-letter-exchange"))
        for q in api.queues(vhost)
    ]
    return Topology(sorted(exchanges, key=lambda e: e.name), _exact_counts(queues), bindings)


def _exact_counts(queues: list[Queue]) -> list[Queue]:
    """The management API's counts lag by seconds; ask the broker itself over AMQP."""
    exact = []
    with connection.channel() as ch:
        for queue in sorted(queues, key=lambda q: q.name):
            try:
                declared = ch.queue_declare(queue=queue.name, passive=True)
            except pika.exceptions.ChannelClosedByBroker:
                ch = ch.connection.channel()  # the queue went away meanwhile (or is exclusive)
                exact.append(queue)
                continue
            exact.append(replace(queue, messages=declared.method.message_count,
                                 consumers=declared.method.consumer_count))
    return exact


class Picture:
    """Displays as SVG in Jupyter; `str()` is the SVG text."""

    def __init__(self, svg: str):
        self.svg = svg

    def _repr_svg_(self) -> str:
        return self.svg

    def __str__(self) -> str:
        return self.svg


def _matcher(patterns: Iterable[str] | None):
    """A test of names against exact names or shell-style patterns (`amq.gen-*`); None: no filter."""
    if patterns is None:
        return None
    wanted = [patterns] if isinstance(patterns, str) else list(patterns)
    return lambda name: any(name == pattern or fnmatchcase(name, pattern) for pattern in wanted)


def select(topology: Topology, *, queues: Iterable[str] | None = None,
           exchanges: Iterable[str] | None = None) -> Topology:
    """Only the objects a lesson is about: the `queues` with the exchanges bound to them (and
    their dead-letter exchanges), and the `exchanges` with what they are bound to. Names or
    patterns such as `amq.gen-*`; with neither, everything."""
    queue_wanted, exchange_wanted = _matcher(queues), _matcher(exchanges)
    if queue_wanted is None and exchange_wanted is None:
        return topology
    bindings = [b for b in topology.bindings
                if (queue_wanted and b.destination_type == "queue" and queue_wanted(b.destination))
                or (exchange_wanted and exchange_wanted(b.source))]
    kept_queues = [q for q in topology.queues if (queue_wanted and queue_wanted(q.name))
                   or any(b.destination_type == "queue" and b.destination == q.name for b in bindings)]
    named = {b.source for b in bindings} | {b.destination for b in bindings if b.destination_type == "exchange"}
    named |= {q.dead_letter_exchange for q in kept_queues if q.dead_letter_exchange}
    return Topology([e for e in topology.exchanges if e.name in named or (exchange_wanted and exchange_wanted(e.name))],
                    kept_queues, bindings)


def show_topology(title: str = "", *, queues: Iterable[str] | None = None,
                  exchanges: Iterable[str] | None = None, url: str | None = None) -> Picture:
    """The current vhost's exchanges, bindings and queues, as a picture in the notebook. A vhost
    holds more than one lesson's objects: `queues` and `exchanges` (names, or patterns such as
    `amq.gen-*`) keep those and what is bound to them (see `select`); without them, everything.
    `url`: another vhost's picture (the live exercises' vhost, `lab.live_url()`)."""
    topology = select(snapshot(url=url), queues=queues, exchanges=exchanges)
    vhost = Settings.from_env(rabbitmq_url=url).amqp.vhost if url else connection.vhost()
    return Picture(render_svg(topology, title=title or f"vhost {vhost}"))

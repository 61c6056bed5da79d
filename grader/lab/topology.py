"""A picture of what the student built: exchanges, bindings and queues with their message counts.

`snapshot()` reads the broker; `render_svg()` is a pure function from that snapshot to an SVG
document, drawn here without any external tool or internet access, so that it works in any
notebook. `show_topology()` does both and displays the result.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from html import escape

import pika.exceptions

from grader.lab import connection

TYPE_COLOURS = {
    "direct": "#1f77b4",
    "fanout": "#d62728",
    "topic": "#2ca02c",
    "headers": "#9467bd",
}
ROW = 64
BOX_W = 240
BOX_H = 42
LEFT = 20
RIGHT = 560
WIDTH = RIGHT + BOX_W + 20


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


def snapshot(*, include_builtin: bool = False) -> Topology:
    """What the current vhost holds. Built-in `amq.*` exchanges appear only when bound."""
    api = connection.management()
    vhost = connection.vhost()
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
            exact.append(
                replace(queue, messages=declared.method.message_count, consumers=declared.method.consumer_count)
            )
    return exact


def render_svg(topology: Topology, *, title: str = "") -> str:
    """An SVG picture of `topology`: exchanges on the left, queues on the right, bindings between."""
    rows = max(len(topology.exchanges), len(topology.queues), 1)
    top = 56 if title else 30
    height = top + rows * ROW + 30
    y_of_exchange = {e.name: top + i * ROW for i, e in enumerate(topology.exchanges)}
    y_of_queue = {q.name: top + i * ROW for i, q in enumerate(topology.queues)}

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="13">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/>'
        "</marker></defs>",
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
    ]
    if title:
        parts.append(f'<text x="{LEFT}" y="24" font-size="16" font-weight="bold">{escape(title)}</text>')
    parts.append(f'<text x="{LEFT}" y="{top - 10}" fill="#555">exchanges</text>')
    parts.append(f'<text x="{RIGHT}" y="{top - 10}" fill="#555">queues</text>')

    parts.extend(_edges(topology, y_of_exchange, y_of_queue))
    parts.extend(_dead_letter_edges(topology, y_of_exchange, y_of_queue))
    for exchange in topology.exchanges:
        parts.append(_exchange_box(exchange, y_of_exchange[exchange.name]))
    for queue in topology.queues:
        parts.append(_queue_box(queue, y_of_queue[queue.name]))
    if not topology.exchanges and not topology.queues:
        parts.append(f'<text x="{LEFT}" y="{top + 20}" fill="#555">nothing declared yet</text>')
    parts.append(
        f'<text x="{LEFT}" y="{height - 8}" fill="#888" font-size="11">'
        "every queue is also reachable through the default exchange \"\" with its own name as key</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts)


def _edges(topology: Topology, y_of_exchange: dict, y_of_queue: dict) -> list[str]:
    types = {exchange.name: exchange.type for exchange in topology.exchanges}
    keys = defaultdict(list)
    for binding in topology.bindings:
        keys[(binding.source, binding.destination, binding.destination_type)].append(
            _binding_label(binding, types.get(binding.source)))
    parts = []
    for (source, destination, kind), labels in sorted(keys.items()):
        if source not in y_of_exchange:
            continue
        y1 = y_of_exchange[source] + BOX_H / 2
        x1 = LEFT + BOX_W
        if kind == "queue" and destination in y_of_queue:
            x2, y2 = RIGHT, y_of_queue[destination] + BOX_H / 2
            path = f"M {x1} {y1} C {x1 + 120} {y1}, {x2 - 120} {y2}, {x2} {y2}"
            # Labels sit near their exchange, where edges from different exchanges are apart.
            label_x, label_y = _bezier((x1, y1), (x1 + 120, y1), (x2 - 120, y2), (x2, y2), 0.3)
        elif kind == "exchange" and destination in y_of_exchange:
            y2 = y_of_exchange[destination] + BOX_H / 2
            path = f"M {x1} {y1} C {x1 + 70} {y1}, {x1 + 70} {y2}, {x1} {y2}"
            label_x, label_y = x1 + 60, (y1 + y2) / 2
        else:
            continue
        label = ", ".join(sorted(labels))
        parts.append(f'<path d="{path}" fill="none" stroke="#555" stroke-width="1.5" marker-end="url(#arrow)"/>')
        width = 7 * len(label) + 8
        parts.append(
            f'<rect x="{label_x - width / 2}" y="{label_y - 10}" width="{width}" height="16" '
            'fill="white" opacity="0.85"/>'
        )
        parts.append(
            f'<text x="{label_x}" y="{label_y + 2}" text-anchor="middle" font-family="monospace" '
            f'font-size="12">{escape(label)}</text>'
        )
    return parts


def _binding_label(binding: Binding, exchange_type: str | None) -> str:
    """The binding key; for a headers exchange, which ignores it, the headers it matches instead."""
    if exchange_type == "headers":
        match = binding.arguments.get("x-match", "all")
        pairs = [f"{key}={value!r}" for key, value in sorted(binding.arguments.items()) if key != "x-match"]
        return f"{match} of {', '.join(pairs)}" if pairs else f"{match} of no header"
    return repr(binding.routing_key) if binding.routing_key else '""'


def _dead_letter_edges(topology: Topology, y_of_exchange: dict, y_of_queue: dict) -> list[str]:
    """Dashed arrows from a queue back to the exchange its rejected and expired messages go to."""
    parts = []
    for queue in topology.queues:
        if queue.dead_letter_exchange is None or queue.dead_letter_exchange not in y_of_exchange:
            continue
        x1, y1 = RIGHT, y_of_queue[queue.name] + BOX_H - 6
        x2, y2 = LEFT + BOX_W, y_of_exchange[queue.dead_letter_exchange] + BOX_H - 6
        parts.append(f'<path d="M {x1} {y1} C {x1 - 140} {y1 + 30}, {x2 + 140} {y2 + 30}, {x2} {y2}" fill="none" '
                     'stroke="#9467bd" stroke-width="1.5" stroke-dasharray="5 4" marker-end="url(#arrow)"/>')
        label_x, label_y = _bezier((x1, y1), (x1 - 140, y1 + 30), (x2 + 140, y2 + 30), (x2, y2), 0.25)
        parts.append(f'<text x="{label_x}" y="{label_y + 16}" text-anchor="middle" fill="#9467bd" '
                     'font-size="11">dead letters</text>')
    return parts


def _bezier(p0, p1, p2, p3, t: float) -> tuple[float, float]:
    """The point at `t` on a cubic Bézier curve."""
    weights = ((1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3)
    return tuple(sum(w * p[axis] for w, p in zip(weights, (p0, p1, p2, p3))) for axis in (0, 1))


def _exchange_box(exchange: Exchange, y: float) -> str:
    colour = TYPE_COLOURS.get(exchange.type, "#7f7f7f")
    return (
        f'<g><rect x="{LEFT}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="10" fill="{colour}" '
        f'fill-opacity="0.12" stroke="{colour}" stroke-width="2"/>'
        f'<text x="{LEFT + 10}" y="{y + 18}" font-weight="bold">{escape(_short(exchange.name))}</text>'
        f'<text x="{LEFT + 10}" y="{y + 34}" fill="{colour}">{escape(exchange.type)} exchange</text></g>'
    )


def _queue_box(queue: Queue, y: float) -> str:
    flags = [flag for flag, on in (("durable", queue.durable), ("exclusive", queue.exclusive)) if on]
    detail = f"{queue.messages} message{'s' * (queue.messages != 1)}"
    if queue.consumers:
        detail += f", {queue.consumers} consumer{'s' * (queue.consumers != 1)}"
    if flags:
        detail += f" ({', '.join(flags)})"
    return (
        f'<g><rect x="{RIGHT}" y="{y}" width="{BOX_W}" height="{BOX_H}" fill="#ff7f0e" '
        'fill-opacity="0.12" stroke="#ff7f0e" stroke-width="2"/>'
        f'<text x="{RIGHT + 10}" y="{y + 18}" font-weight="bold">{escape(_short(queue.name))}</text>'
        f'<text x="{RIGHT + 10}" y="{y + 34}" fill="#555">{escape(detail)}</text></g>'
    )


def _short(name: str, limit: int = 26) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


class Picture:
    """Displays as SVG in Jupyter; `str()` is the SVG text."""

    def __init__(self, svg: str):
        self.svg = svg

    def _repr_svg_(self) -> str:
        return self.svg

    def __str__(self) -> str:
        return self.svg


def around(topology: Topology, queues: Iterable[str]) -> Topology:
    """Only these queues, their bindings, and the exchanges those bindings come from."""
    wanted = set(queues)
    bindings = [b for b in topology.bindings if b.destination_type == "queue" and b.destination in wanted]
    sources = {b.source for b in bindings}
    return Topology([e for e in topology.exchanges if e.name in sources],
                    [q for q in topology.queues if q.name in wanted], bindings)


def show_topology(title: str = "", *, queues: Iterable[str] | None = None) -> Picture:
    """The current vhost's exchanges, bindings and queues, as a picture in the notebook; with
    `queues`, only those queues and the exchanges bound to them (a shared vhost holds many)."""
    topology = snapshot() if queues is None else around(snapshot(), queues)
    return Picture(render_svg(topology, title=title or f"vhost {connection.vhost()}"))

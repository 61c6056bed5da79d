"""Drawing a `topology.Topology` as SVG: a pure function, no external tool, no internet.

Two columns, exchanges on the left and queues on the right, each box as wide as its name (names
up to NAME_LIMIT characters show whole, longer ones are cut in the middle, the full name on
hover), and the binding labels in the gap between the columns, each on its own arrow where there
is room and moved up or down just enough when there is not, so that no label covers another.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grader.lab.topology import Binding, Exchange, Queue, Topology

TYPE_COLOURS = {"direct": "#1f77b4", "fanout": "#d62728", "topic": "#2ca02c", "headers": "#9467bd"}
ROW = 64
BOX_H = 42
MIN_BOX_W = 200
LEFT = 20
MIN_GAP = 220  # between the columns, where the binding labels go
GAP_MARGIN = 20
NAME_LIMIT = 48  # characters of a name shown whole; longer ones are cut in the middle
NAME_CHAR_W = 8.5  # pixels per character, generously: bold sans-serif 13 px
LABEL_CHAR_W = 7.5  # monospace 12 px
ALONG = (0.5, 0.35, 0.65, 0.25, 0.75, 0.42, 0.58, 0.3, 0.7)  # where on its edge a label may sit, best first


@dataclass(frozen=True)
class Layout:
    """Where things go: two columns of boxes as wide as their longest text, the labels between."""

    exchange_w: float
    queue_x: float
    queue_w: float
    width: float
    top: float
    exchange_y: dict
    queue_y: dict


def _layout(topology: Topology, top: float, labels: list[str]) -> Layout:
    def column(lines: Iterable[str]) -> float:  # widths are generous estimates: no font metrics here
        return max([MIN_BOX_W, *(len(line) * NAME_CHAR_W + 20 for line in lines)])

    exchange_w = column([_fit(e.name) for e in topology.exchanges] + [f"{e.type} exchange" for e in topology.exchanges])
    queue_w = column([_fit(q.name) for q in topology.queues] + [_queue_detail(q) for q in topology.queues])
    widest = max([0, *(len(label) * LABEL_CHAR_W + 8 for label in labels)])
    gap = max(MIN_GAP, widest * (1.6 if len(labels) > 3 else 1) + 2 * GAP_MARGIN)  # room to move labels apart
    queue_x = LEFT + exchange_w + gap
    return Layout(exchange_w, queue_x, queue_w, queue_x + queue_w + 20, top,
                  {e.name: top + i * ROW for i, e in enumerate(topology.exchanges)},
                  {q.name: top + i * ROW for i, q in enumerate(topology.queues)})


def render_svg(topology: Topology, *, title: str = "") -> str:
    """An SVG picture of `topology`: exchanges on the left, queues on the right, bindings between.
    Names are shown whole (long ones cut in the middle, keeping their distinguishing end) and no
    label covers another label or a box."""
    top = 56 if title else 30
    edges = _edges(topology)
    layout = _layout(topology, top, [label for *_, label in edges])
    labels = Labels(layout)
    body = [*_edge_paths(edges, layout, labels), *_dead_letter_edges(topology, layout, labels)]
    body += [_exchange_box(exchange, layout) for exchange in topology.exchanges]
    body += [_queue_box(queue, layout) for queue in topology.queues]
    rows = max(len(topology.exchanges), len(topology.queues), 1)
    height = max([top + rows * ROW, *(y + h + 10 for _, y, _, h in labels.placed)]) + 30
    width = layout.width
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}" height="{height:g}" '
        f'viewBox="0 0 {width:g} {height:g}" font-family="sans-serif" font-size="13">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/>'
        "</marker></defs>",
        f'<rect width="{width:g}" height="{height:g}" fill="white"/>',
    ]
    if title:
        parts.append(f'<text x="{LEFT}" y="24" font-size="16" font-weight="bold">{escape(title)}</text>')
    parts.append(f'<text x="{LEFT}" y="{top - 10}" fill="#555">exchanges</text>')
    parts.append(f'<text x="{layout.queue_x:g}" y="{top - 10}" fill="#555">queues</text>')
    parts.extend(body)
    parts.extend(labels.drawn)
    if not topology.exchanges and not topology.queues:
        parts.append(f'<text x="{LEFT}" y="{top + 20}" fill="#555">nothing declared yet</text>')
    parts.append(
        f'<text x="{LEFT}" y="{height - 8:g}" fill="#888" font-size="11">'
        "every queue is also reachable through the default exchange \"\" with its own name as key</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts)


class Labels:
    """Label boxes placed in the gap between the columns, each as near its edge as it can be
    without covering another one."""

    def __init__(self, layout: Layout):
        self.left = LEFT + layout.exchange_w + 4
        self.right = layout.queue_x - 4
        self.top = layout.top - 6
        self.placed: list[tuple[float, float, float, float]] = []  # x, y, width, height
        self.drawn: list[str] = []

    def place(self, text: str, points: list[tuple[float, float]], *, char_w: float = LABEL_CHAR_W,
              height: float = 16, style: str = 'font-family="monospace" font-size="12"', box: bool = True) -> None:
        """`text` centred on the first of `points` (along its edge) where it covers nothing, else as
        near the first one as it fits."""
        width = len(text) * char_w + 8
        spots = [(min(max(x - width / 2, self.left), max(self.left, self.right - width)), y - height / 2)
                 for x, y in points]
        free = [(x, y) for x, y in spots if y >= self.top and not self._overlaps(x, y, width, height)]
        if free:
            x, y0 = free[0]
        else:  # moved up or down from one of the spots, as little as possible
            edges = [self.top, *(edge for _, oy, _, oh in self.placed for edge in (oy + oh + 2, oy - height - 2))]
            moves = [(abs(c - y), c, x) for x, y in spots for c in edges
                     if c >= self.top and not self._overlaps(x, c, width, height)]
            _, y0, x = min(moves)
        self.placed.append((x, y0, width, height))
        if box:
            self.drawn.append(f'<rect class="label" x="{x:g}" y="{y0:g}" width="{width:g}" height="{height:g}" '
                              'fill="white" opacity="0.85"/>')
        self.drawn.append(f'<text x="{x + width / 2:g}" y="{y0 + height - 4:g}" text-anchor="middle" {style}>'
                          f"{escape(text)}</text>")

    def _overlaps(self, x: float, y: float, width: float, height: float) -> bool:
        return any(x < ox + ow and ox < x + width and y < oy + oh and oy < y + height
                   for ox, oy, ow, oh in self.placed)


def _edges(topology: Topology) -> list[tuple[str, str, str, str]]:
    """(source, destination, destination type, label) per pair of bound objects that are drawn."""
    types = {exchange.name: exchange.type for exchange in topology.exchanges}
    queues = {queue.name for queue in topology.queues}
    keys = defaultdict(list)
    for binding in topology.bindings:
        drawn = queues if binding.destination_type == "queue" else types
        if binding.source in types and binding.destination in drawn:
            keys[(binding.source, binding.destination, binding.destination_type)].append(
                _binding_label(binding, types.get(binding.source)))
    return [(*key, ", ".join(sorted(labels))) for key, labels in sorted(keys.items())]


def _edge_paths(edges: list, layout: Layout, labels: Labels) -> list[str]:
    parts = []
    x1 = LEFT + layout.exchange_w
    for source, destination, kind, label in edges:
        y1 = layout.exchange_y[source] + BOX_H / 2
        if kind == "queue":
            x2, y2 = layout.queue_x, layout.queue_y[destination] + BOX_H / 2
            bend = (x2 - x1) / 3
            path = f"M {x1:g} {y1:g} C {x1 + bend:g} {y1:g}, {x2 - bend:g} {y2:g}, {x2:g} {y2:g}"
            curve = ((x1, y1), (x1 + bend, y1), (x2 - bend, y2), (x2, y2))
            spots = [_bezier(*curve, t) for t in ALONG]
        else:
            y2 = layout.exchange_y[destination] + BOX_H / 2
            path = f"M {x1:g} {y1:g} C {x1 + 70:g} {y1:g}, {x1 + 70:g} {y2:g}, {x1:g} {y2:g}"
            spots = [(x1, (y1 + y2) / 2)]  # as near the loop as it fits
        parts.append(f'<path d="{path}" fill="none" stroke="#555" stroke-width="1.5" marker-end="url(#arrow)"/>')
        labels.place(label, spots)
    return parts


def _binding_label(binding: Binding, exchange_type: str | None) -> str:
    """The binding key; for a headers exchange, which ignores it, the headers it matches instead."""
    if exchange_type == "headers":
        match = binding.arguments.get("x-match", "all")
        pairs = [f"{key}={value!r}" for key, value in sorted(binding.arguments.items()) if key != "x-match"]
        return f"{match} of {', '.join(pairs)}" if pairs else f"{match} of no header"
    return repr(binding.routing_key) if binding.routing_key else '""'


def _dead_letter_edges(topology: Topology, layout: Layout, labels: Labels) -> list[str]:
    """Dashed arrows from a queue back to the exchange its rejected and expired messages go to."""
    parts = []
    for queue in topology.queues:
        if queue.dead_letter_exchange is None or queue.dead_letter_exchange not in layout.exchange_y:
            continue
        x1, y1 = layout.queue_x, layout.queue_y[queue.name] + BOX_H - 6
        x2, y2 = LEFT + layout.exchange_w, layout.exchange_y[queue.dead_letter_exchange] + BOX_H - 6
        parts.append(f'<path d="M {x1:g} {y1:g} C {x1 - 140:g} {y1 + 30:g}, {x2 + 140:g} {y2 + 30:g}, {x2:g} {y2:g}" '
                     'fill="none" stroke="#9467bd" stroke-width="1.5" stroke-dasharray="5 4" '
                     'marker-end="url(#arrow)"/>')
        label_x, label_y = _bezier((x1, y1), (x1 - 140, y1 + 30), (x2 + 140, y2 + 30), (x2, y2), 0.25)
        labels.place("dead letters", [(label_x, label_y + 12)], char_w=6.2, height=14, box=False,
                     style='fill="#9467bd" font-size="11"')
    return parts


def _bezier(p0, p1, p2, p3, t: float) -> tuple[float, float]:
    """The point at `t` on a cubic Bézier curve."""
    weights = ((1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3)
    return tuple(sum(w * p[axis] for w, p in zip(weights, (p0, p1, p2, p3))) for axis in (0, 1))


def _exchange_box(exchange: Exchange, layout: Layout) -> str:
    colour = TYPE_COLOURS.get(exchange.type, "#7f7f7f")
    y = layout.exchange_y[exchange.name]
    return (
        f'<g><title>{escape(exchange.name)}</title>'
        f'<rect class="box" x="{LEFT}" y="{y}" width="{layout.exchange_w:g}" height="{BOX_H}" rx="10" '
        f'fill="{colour}" fill-opacity="0.12" stroke="{colour}" stroke-width="2"/>'
        f'<text x="{LEFT + 10}" y="{y + 18}" font-weight="bold">{escape(_fit(exchange.name))}</text>'
        f'<text x="{LEFT + 10}" y="{y + 34}" fill="{colour}">{escape(exchange.type)} exchange</text></g>'
    )


def _queue_detail(queue: Queue) -> str:
    flags = [flag for flag, on in (("durable", queue.durable), ("exclusive", queue.exclusive)) if on]
    detail = f"{queue.messages} message{'s' * (queue.messages != 1)}"
    if queue.consumers:
        detail += f", {queue.consumers} consumer{'s' * (queue.consumers != 1)}"
    if flags:
        detail += f" ({', '.join(flags)})"
    return detail


def _queue_box(queue: Queue, layout: Layout) -> str:
    x, y = layout.queue_x, layout.queue_y[queue.name]
    return (
        f'<g><title>{escape(queue.name)}</title>'
        f'<rect class="box" x="{x:g}" y="{y}" width="{layout.queue_w:g}" height="{BOX_H}" fill="#ff7f0e" '
        'fill-opacity="0.12" stroke="#ff7f0e" stroke-width="2"/>'
        f'<text x="{x + 10:g}" y="{y + 18}" font-weight="bold">{escape(_fit(queue.name))}</text>'
        f'<text x="{x + 10:g}" y="{y + 34}" fill="#555">{escape(_queue_detail(queue))}</text></g>'
    )


def _fit(name: str, limit: int = NAME_LIMIT) -> str:
    """`name` whole if it has at most `limit` characters, else cut in the middle: the start and
    the end stay (server-named queues, amq.gen-..., differ at the end)."""
    if len(name) <= limit:
        return name
    tail = (limit - 1) * 2 // 3
    return name[: limit - 1 - tail] + "…" + name[-tail:]

"""The topology picture: a pure rendering, and a snapshot of a real broker."""

import xml.etree.ElementTree as ET

import pika

from grader import lab
from grader.lab.topology import Binding, Exchange, Queue, Topology, render_svg

SVG = "{http://www.w3.org/2000/svg}"


def texts(svg: str) -> list[str]:
    return [element.text for element in ET.fromstring(svg).iter(f"{SVG}text")]


def test_render_draws_exchanges_queues_counts_and_binding_keys():
    topology = Topology(
        exchanges=[Exchange("logs", "fanout"), Exchange("topic_logs", "topic")],
        queues=[Queue("audit", 3, durable=True), Queue("amq.gen-x", 1, exclusive=True)],
        bindings=[Binding("topic_logs", "audit", "queue", "kern.*"),
                  Binding("topic_logs", "audit", "queue", "*.critical"),
                  Binding("logs", "amq.gen-x", "queue", "")],
    )
    svg = render_svg(topology, title="demo")
    words = texts(svg)
    assert {"logs", "topic_logs", "fanout exchange", "topic exchange", "audit", "amq.gen-x"} <= set(words)
    assert "3 messages (durable)" in words and "1 message (exclusive)" in words
    assert "'*.critical', 'kern.*'" in words
    assert len(list(ET.fromstring(svg).iter(f"{SVG}path"))) == 3  # arrowhead + one per source/queue pair


def test_render_escapes_names_so_a_queue_name_cannot_inject_markup():
    svg = render_svg(Topology(queues=[Queue("<script>alert(1)</script>", 0)]))
    assert "<script>" not in svg
    assert "<script>alert(1)</script>" in texts(svg)


def test_an_empty_vhost_says_nothing_is_declared():
    assert "nothing declared yet" in texts(render_svg(Topology()))


def test_snapshot_shows_what_was_declared_with_exact_counts(vhost):
    connection = pika.BlockingConnection(pika.URLParameters(vhost.url))
    channel = connection.channel()
    channel.exchange_declare("direct_logs", exchange_type="direct")
    channel.queue_declare("errors", durable=True)
    channel.queue_bind("errors", "direct_logs", routing_key="error")
    for _ in range(2):
        channel.basic_publish("direct_logs", "error", b"disk full")
    connection.close()

    topology = lab.snapshot()
    assert [e.name for e in topology.exchanges] == ["direct_logs"]  # built-in amq.* left out
    assert [(q.name, q.messages) for q in topology.queues] == [("errors", 2)]
    assert [(b.source, b.destination, b.routing_key) for b in topology.bindings] == [
        ("direct_logs", "errors", "error")]
    assert "errors" in str(lab.show_topology())


def test_a_queue_with_a_dead_letter_exchange_points_back_to_it():
    topology = Topology(
        exchanges=[Exchange("work.dlx", "fanout")],
        queues=[Queue("work", 0, durable=True, dead_letter_exchange="work.dlx"), Queue("work.dead", 2, durable=True)],
        bindings=[Binding("work.dlx", "work.dead", "queue", "")],
    )
    svg = render_svg(topology)
    assert "dead letters" in texts(svg)
    dashed = [p for p in ET.fromstring(svg).iter(f"{SVG}path") if p.get("stroke-dasharray")]
    assert len(dashed) == 1


def test_snapshot_reads_the_dead_letter_exchange_of_a_queue(vhost):
    connection = pika.BlockingConnection(pika.URLParameters(vhost.url))
    channel = connection.channel()
    channel.exchange_declare("work.dlx", exchange_type="fanout", durable=True)
    channel.queue_declare("work", durable=True, arguments={"x-dead-letter-exchange": "work.dlx"})
    connection.close()
    [queue] = lab.snapshot().queues
    assert queue.dead_letter_exchange == "work.dlx"


def test_a_headers_binding_is_labelled_with_the_headers_it_matches_not_its_ignored_key():
    topology = Topology(
        exchanges=[Exchange("chat.chosen", "headers"), Exchange("chat.all", "fanout")],
        queues=[Queue("amq.gen-inbox", 0, exclusive=True)],
        bindings=[Binding("chat.chosen", "amq.gen-inbox", "queue", "amq.gen-inbox",
                          {"x-match": "any", "ada": "yes"}),
                  Binding("chat.all", "amq.gen-inbox", "queue", "")],
    )
    words = texts(render_svg(topology))
    assert "any of ada='yes'" in words and '""' in words
    assert "'amq.gen-inbox'" not in words


def test_the_picture_can_show_only_some_queues_and_the_exchanges_bound_to_them(vhost):
    connection = pika.BlockingConnection(pika.URLParameters(vhost.url))
    channel = connection.channel()
    for exchange, kind in (("chat.chosen", "headers"), ("logs", "fanout")):
        channel.exchange_declare(exchange, exchange_type=kind)
    mine = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(mine, "chat.chosen", arguments={"x-match": "any", "ada": "yes"})
    channel.queue_declare("someone-elses", durable=True)
    channel.queue_bind("someone-elses", "logs")
    [binding] = [b for b in lab.snapshot().bindings if b.destination == mine]
    assert binding.arguments == {"x-match": "any", "ada": "yes"}
    svg = str(lab.show_topology(queues=[mine]))
    connection.close()
    assert "chat.chosen" in texts(svg) and "any of ada='yes'" in texts(svg)
    assert "someone-elses" not in svg and "logs" not in texts(svg)


def rects(svg: str, kind: str) -> list[tuple[float, float, float, float]]:
    return [tuple(float(r.get(a)) for a in ("x", "y", "width", "height"))
            for r in ET.fromstring(svg).iter(f"{SVG}rect") if r.get("class") == kind]


def overlap(a, b) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def test_server_named_queues_and_long_names_can_be_told_apart():
    gen = ["amq.gen-JzTY20BRgKO-HjmUJj0wLg", "amq.gen-JzTY20BRgKO-HjmUJj0wXq"]
    long = [f"orders.{'very-long-service-name.' * 3}{end}" for end in ("eu-west-1", "eu-west-2")]
    words = texts(render_svg(Topology(exchanges=[Exchange("logs.for.the.whole.class.of.summer.2026", "fanout")],
                                      queues=[Queue(name, 0) for name in gen + long])))
    assert set(gen) <= set(words) and "logs.for.the.whole.class.of.summer.2026" in words  # whole
    shown = [word for word in words if word.startswith("orders.")]
    assert len(shown) == 2 and all("…" in word for word in shown)  # cut in the middle...
    assert shown[0].endswith("eu-west-1") and shown[1].endswith("eu-west-2")  # ...keeping the end that differs


def test_binding_labels_cover_neither_each_other_nor_the_boxes():
    exchanges = [Exchange(f"ex{i}", "direct") for i in range(3)]
    queues = [Queue(f"amq.gen-{i:022d}", 0) for i in range(4)]
    bindings = [Binding(e.name, q.name, "queue", f"key.{e.name}.{q.name[-2:]}") for e in exchanges for q in queues]
    bindings.append(Binding("ex0", "ex2", "exchange", "a.much.longer.binding.key.between.exchanges"))
    svg = render_svg(Topology(exchanges, queues, bindings), title="crossing")
    labels, boxes = rects(svg, "label"), rects(svg, "box")
    assert len(labels) == 3 * 4 + 1 and len(boxes) == 3 + 4
    for i, label in enumerate(labels):
        assert not any(overlap(label, other) for other in labels[i + 1:]), label
        assert not any(overlap(label, box) for box in boxes), label
    width, height = float(ET.fromstring(svg).get("width")), float(ET.fromstring(svg).get("height"))
    assert all(x >= 0 and y >= 0 and x + w <= width and y + h <= height for x, y, w, h in labels + boxes)


def test_a_lesson_can_draw_only_its_own_objects_and_by_default_everything(vhost):
    connection = pika.BlockingConnection(pika.URLParameters(vhost.url))
    channel = connection.channel()
    channel.exchange_declare("logs", exchange_type="fanout")
    channel.exchange_declare("direct_logs", exchange_type="direct")
    mine = [channel.queue_declare("", exclusive=True).method.queue for _ in range(2)]
    for queue in mine:
        channel.queue_bind(queue, "logs")
    channel.queue_declare("hello", durable=True)
    channel.queue_declare("errors", durable=True)
    channel.queue_bind("errors", "direct_logs", routing_key="error")
    lesson_03 = texts(str(lab.show_topology(exchanges=["logs"])))
    by_pattern = texts(str(lab.show_topology(queues=["amq.gen-*"])))
    lesson_01 = texts(str(lab.show_topology(queues=["hello"])))
    everything = texts(str(lab.show_topology()))
    connection.close()
    assert set(mine) | {"logs"} <= set(lesson_03) and not {"hello", "errors", "direct_logs"} & set(lesson_03)
    assert set(mine) | {"logs"} <= set(by_pattern) and not {"hello", "errors", "direct_logs"} & set(by_pattern)
    assert "hello" in lesson_01 and not (set(mine) | {"logs", "errors", "direct_logs"}) & set(lesson_01)
    assert set(mine) | {"logs", "hello", "errors", "direct_logs"} <= set(everything)

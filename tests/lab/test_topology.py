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

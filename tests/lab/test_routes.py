"""lab.routes asks the real broker how an exchange type routes, and leaves nothing behind."""

import pika
import pytest

from grader import lab


def test_topic_routing_is_read_back_for_every_binding_key(vhost):
    routed = lab.routes(["kern.*", "#", "*.critical", "nobody.listens"],
                        ["kern.info", "kern.usb.info", "cron.critical", ""])
    assert routed == {
        "kern.*": {"kern.info"},
        "#": {"kern.info", "kern.usb.info", "cron.critical", ""},
        "*.critical": {"cron.critical"},
        "nobody.listens": set(),
    }


def test_direct_routing_needs_equal_keys(vhost):
    routed = lab.routes(["error", "kern.*"], ["error", "kern.info", "warning"], exchange_type="direct")
    assert routed == {"error": {"error"}, "kern.*": set()}


def test_nothing_is_left_on_the_broker(vhost):
    before = {e["name"] for e in vhost.api.exchanges(vhost.name)}
    lab.routes(["a.#"], ["a", "a.b"])
    assert {e["name"] for e in vhost.api.exchanges(vhost.name)} == before
    assert vhost.api.queues(vhost.name) == []


def test_running_out_of_time_fails_with_a_sentence(vhost):
    with pytest.raises(lab.CheckFailed, match="did not deliver the test messages within 0 s"):
        lab.routes(["a"], ["a"], timeout=0)


def test_routes_can_bind_to_an_existing_exchange_and_leaves_it_in_place(vhost):
    connection = pika.BlockingConnection(pika.URLParameters(vhost.url))
    channel = connection.channel()
    channel.exchange_declare("chat.topics", exchange_type="topic", durable=True)
    routed = lab.routes(["python.#", "python.*"], ["python", "python.web.django"], exchange="chat.topics")
    assert routed == {"python.#": {"python", "python.web.django"}, "python.*": set()}
    assert [e["name"] for e in vhost.api.exchanges(vhost.name) if e["name"].startswith(("lab.", "chat."))] \
        == ["chat.topics"]  # kept, and no temporary exchange
    connection.close()

"""lab.streams: the stream plugin check, and reading a stream without touching the student's connection."""

import os

import pika
import pytest

from grader import lab
from tests.net import free_port


def test_the_stream_plugin_check_finds_the_port_the_broker_listens_on(vhost, monkeypatch):
    port = int(os.environ.get("RABBITMQ_STREAM_PORT") or 5552)
    assert lab.streams.expect_stream_plugin() == port


def test_a_notebook_pointed_at_another_stream_port_is_told_the_right_one(vhost, monkeypatch):
    """The right port where the management API lists the listeners; where it lists none (a broker
    that collects no metrics), that the notebook's port is not the one."""
    right, wrong = int(os.environ.get("RABBITMQ_STREAM_PORT") or 5552), free_port()
    monkeypatch.setenv("RABBITMQ_STREAM_PORT", str(wrong))
    listed = lab.management().overview().get("listeners") is not None
    told = (f"listens for streams on port {right}.*RABBITMQ_STREAM_PORT={right}" if listed else
            f"listens for streams, but not on port {wrong}.*set RABBITMQ_STREAM_PORT")
    with pytest.raises(lab.CheckFailed, match=told):
        lab.streams.expect_stream_plugin()


def test_reading_stops_at_its_limit_though_the_stream_holds_more(vhost):
    """Stopping early leaves deliveries pending; closing rejects them, which a stream answers with 540."""
    connection = pika.BlockingConnection(pika.URLParameters(vhost.url))
    channel = connection.channel()
    channel.queue_declare("many", durable=True, arguments={"x-queue-type": "stream"})
    for i in range(400):
        channel.basic_publish("", "many", str(i).encode())
    connection.close()
    assert [m.offset for m in lab.streams.read_stream("many", limit=5)] == [0, 1, 2, 3, 4]
    assert len(lab.streams.read_stream("many")) == 400


def test_a_notebook_pointed_at_the_amqp_port_for_streams_is_told_it_is_not_the_stream_port(vhost, monkeypatch):
    """Where the API lists the listeners, it names the stream port; where it lists none (a broker
    that collects no metrics), its health check says only that something listens there, and the
    port itself, asked in the stream protocol, says it is AMQP."""
    amqp = lab.settings().amqp.port
    monkeypatch.setenv("RABBITMQ_STREAM_PORT", str(amqp))
    listed = lab.management().overview().get("listeners") is not None
    with pytest.raises(lab.CheckFailed, match="listens for streams on port" if listed else f"{amqp} is an AMQP port") as told:
        lab.streams.expect_stream_plugin()
    assert "set RABBITMQ_STREAM_PORT" in str(told.value) and "publish the port" not in str(told.value)

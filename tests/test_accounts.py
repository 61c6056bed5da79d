"""`workshop accounts` on a real broker: a vhost per student, and only what the live exercises need."""

import json
import subprocess
import sys
import uuid

import pika
import pika.exceptions
import pytest

from grader import accounts
from grader.settings import Settings


@pytest.fixture
def made(vhost, broker):
    settings = Settings(rabbitmq_url=vhost.url, management_url=vhost.management_url)
    prefix = f"t{uuid.uuid4().hex[:6]}-"
    created = accounts.create(settings, 2, prefix=prefix)
    yield settings, prefix, created
    accounts.delete(settings, 2, prefix=prefix)


def connect(url):
    return pika.BlockingConnection(pika.URLParameters(url))


def test_each_student_works_freely_in_a_vhost_of_their_own(made):
    _, prefix, (first, second) = made
    assert (first.user, first.vhost) == (f"{prefix}01", f"{prefix}01")
    connection = connect(first.lessons_url)
    channel = connection.channel()
    channel.exchange_declare("logs", exchange_type="fanout")
    channel.queue_declare("hello", durable=True)
    channel.queue_delete("hello")
    connection.close()
    with pytest.raises(pika.exceptions.ProbableAccessDeniedError):  # no way into a classmate's vhost
        connect(first.lessons_url.rsplit("/", 1)[0] + "/" + second.vhost)


def test_on_the_live_vhost_a_student_can_register_and_get_feedback_but_not_read_others(made, vhost):
    _, _, (first, _second) = made
    assert {"name", "summercamp.results", "summercamp.rejected"} <= {q["name"] for q in vhost.api.queues(vhost.name)}
    admin = connect(vhost.url)
    admin.channel().queue_declare("summercamp.ada", durable=True)
    admin.close()

    connection = connect(first.live_url)
    channel = connection.channel()
    feedback = channel.queue_declare(queue="", exclusive=True).method.queue  # allowed: private queue
    channel.basic_publish("", "name", json.dumps({"name": "Ada"}).encode(),
                          properties=pika.BasicProperties(reply_to=feedback))
    channel.basic_get(feedback, auto_ack=True)  # allowed: reading one's own feedback queue
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="ACCESS_REFUSED"):
        channel.basic_get("name", auto_ack=True)  # nobody else's registrations
    channel = connection.channel()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="ACCESS_REFUSED"):
        channel.basic_get("summercamp.results", auto_ack=True)  # nor answers
    channel = connection.channel()
    admin = connect(vhost.url)
    admin.channel().queue_declare("summercamp.results.bob", durable=True)
    admin.close()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="ACCESS_REFUSED"):
        channel.basic_get("summercamp.results.bob", auto_ack=True)  # nor a classmate's answers queue
    channel = connection.channel()
    assert channel.basic_get("summercamp.ada", auto_ack=True) == (None, None, None)  # tasks: yes
    channel.queue_bind(feedback, "summercamp.chat.all")  # the chat: listen and speak
    channel.basic_publish("summercamp.chat.all", "", b"hello, class")
    channel.basic_publish("summercamp.chat.direct", "ada", b"hello, Ada")
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="ACCESS_REFUSED"):
        channel.queue_declare("summercamp.results", durable=True)  # not the grader's queues
    connection.close()


def test_the_command_prints_one_csv_line_per_student_and_deletes_them_again(vhost):
    prefix = f"c{uuid.uuid4().hex[:6]}-"
    command = [sys.executable, "-m", "grader", "accounts", "--count", "3", "--prefix", prefix]
    created = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    lines = created.stdout.strip().splitlines()
    assert lines[0].startswith("user,password,") and len(lines) == 4
    assert lines[1].startswith(f"{prefix}01,")
    removed = subprocess.run([*command, "--delete"], capture_output=True, text=True, timeout=60)
    assert removed.returncode == 0 and "removed 3 accounts" in removed.stderr
    with pytest.raises(pika.exceptions.ProbableAuthenticationError):
        connect(lines[1].split(",")[2])

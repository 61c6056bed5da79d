"""lab.trace notes, in order, what code asks of its pika channels, on the real broker, and changes
nothing of what pika does; its checks say when an ack came before the work it stands for."""

import sqlite3
import threading
import time

import pika
import pytest
from pika.adapters.blocking_connection import BlockingChannel

from grader import lab
from grader.lab import trace


@pytest.fixture
def traced():
    trace.start()
    yield trace
    trace.stop()


@pytest.fixture
def connection(vhost):
    opened = pika.BlockingConnection(pika.URLParameters(vhost.url))
    yield opened
    if opened.is_open:
        opened.close()


@pytest.fixture
def channel(connection):
    opened = connection.channel()
    opened.queue_declare("tasks", durable=True)
    return opened


def publish(channel, *bodies, queue="tasks", **properties):
    for body in bodies:
        channel.basic_publish("", queue, body, pika.BasicProperties(**properties))


def run_until(connection, condition, seconds=3):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        connection.process_data_events(time_limit=0.05)


def kinds(since=0):
    return [call.kind for call in trace.calls(since) if call.kind != "sql"]


def test_a_callback_consumer_is_noted_with_its_queue_auto_ack_and_each_delivery_and_ack(traced, connection, channel):
    worker = connection.channel()
    done = []

    def on_task(ch, method, properties, body):
        done.append(body)
        ch.basic_ack(delivery_tag=method.delivery_tag)

    tag = worker.basic_consume(queue="tasks", on_message_callback=on_task)
    publish(channel, b"one", b"two")
    run_until(connection, lambda: len(done) == 2)
    [consume] = trace.consumers("tasks", [worker])
    assert (consume.queue, consume.auto_ack, consume.consumer_tag) == ("tasks", False, tag)
    received = trace.handled("tasks", [worker])
    assert [h.delivery.delivery_tag for h in received] == [1, 2]
    assert [(h.settled.kind, h.settled.delivery_tag) for h in received] == [("ack", 1), ("ack", 2)]
    assert all(h.settled.channel == trace.channel_id(worker) for h in received), "`ch` is the worker's channel"
    assert lab.queue_state("tasks").messages == 0, "the acks reached the broker"
    trace.expect_manual_acks("tasks", [worker])


def test_the_consume_generator_and_basic_get_are_noted_too(traced, channel):
    publish(channel, b"a", b"b")
    method, _, _ = channel.basic_get("tasks", auto_ack=False)
    for delivered, _, _ in channel.consume("tasks", inactivity_timeout=1):
        break
    channel.basic_ack(delivered.delivery_tag, multiple=True)
    channel.cancel()
    [consume] = trace.consumers("tasks", [channel])
    assert consume.auto_ack is False
    received = trace.handled("tasks")
    assert [h.delivery.delivery_tag for h in received] == [method.delivery_tag, delivered.delivery_tag]
    assert {h.settled.seq for h in received} == {received[1].settled.seq}, "one multiple ack settled both"


def test_auto_ack_is_caught_with_a_sentence_that_says_what_to_change(traced, connection, channel):
    worker = connection.channel()
    done = []
    worker.basic_consume("tasks", lambda ch, m, p, body: done.append(body), auto_ack=True)
    publish(channel, b"one")
    run_until(connection, lambda: done)
    assert [h.settled is h.delivery for h in trace.handled("tasks")] == [True]
    with pytest.raises(lab.CheckFailed, match=r"consume `tasks` with auto_ack=True.*Leave auto_ack out.*basic_ack"):
        trace.expect_manual_acks("tasks", [worker])


def test_a_nacked_and_a_forgotten_message_are_each_reported(traced, connection, channel):
    worker = connection.channel()
    seen = []

    def refuse_the_first(ch, method, properties, body):
        seen.append(body)
        if body == b"one":
            ch.basic_nack(delivery_tag=method.delivery_tag, requeue=False)

    worker.basic_consume("tasks", refuse_the_first)
    publish(channel, b"one", b"two")
    run_until(connection, lambda: len(seen) == 2)
    nack = next(c for c in trace.calls() if c.kind == "nack")
    assert (nack.delivery_tag, nack.multiple, nack.requeue) == (1, False, False)
    with pytest.raises(lab.CheckFailed, match="answered 1 message.*basic_nack or basic_reject"):
        trace.expect_manual_acks("tasks", [worker])
    worker.basic_reject(2, requeue=True)
    assert [h.settled.kind for h in trace.handled("tasks")] == ["nack", "reject"]


def test_a_multiple_ack_with_tag_zero_settles_everything_outstanding(traced, connection, channel):
    worker = connection.channel()
    seen = []
    worker.basic_consume("tasks", lambda ch, method, p, body: seen.append(method.delivery_tag))
    publish(channel, b"1", b"2", b"3")
    run_until(connection, lambda: len(seen) == 3)
    worker.basic_ack(delivery_tag=2, multiple=True)
    assert [h.settled is not None for h in trace.handled("tasks")] == [True, True, False]
    with pytest.raises(lab.CheckFailed, match="never acknowledged 1 of the 3 messages"):
        trace.expect_manual_acks("tasks", [worker])
    worker.basic_ack(0, multiple=True)
    trace.expect_manual_acks("tasks", [worker])


def serve(connection_url, on_request, count):
    """An RPC server in a thread, with a connection of its own (as lesson 6 runs the student's)."""
    server = pika.BlockingConnection(pika.URLParameters(connection_url))
    ch = server.channel()
    ch.basic_qos(prefetch_count=1)
    served = []
    ch.basic_consume("tasks", lambda *args: (on_request(*args), served.append(1)))
    deadline = time.monotonic() + 5
    while len(served) < count and time.monotonic() < deadline:
        server.process_data_events(time_limit=0.05)
    server.close()


def answer(ch, method, properties, body):
    ch.basic_publish("", properties.reply_to, body, pika.BasicProperties(correlation_id=properties.correlation_id))


@pytest.mark.parametrize("ack_first", [False, True])
def test_a_reply_published_after_the_ack_is_caught_from_the_servers_thread(traced, vhost, channel, ack_first):
    def on_request(ch, method, properties, body):
        if ack_first:
            ch.basic_ack(delivery_tag=method.delivery_tag)
        answer(ch, method, properties, body)
        if not ack_first:
            ch.basic_ack(delivery_tag=method.delivery_tag, multiple=True)

    replies = channel.queue_declare("", exclusive=True).method.queue
    since = trace.mark()
    for n in range(3):
        publish(channel, b"%d" % n, reply_to=replies, correlation_id="id-%d" % n)
    worker = threading.Thread(target=serve, args=(vhost.url, on_request, 3))
    worker.start()
    worker.join(10)
    publishes = [c for c in trace.calls(since) if c.kind == "publish" and c.routing_key == replies]
    assert [c.correlation_id for c in publishes] == ["id-0", "id-1", "id-2"]
    assert channel.queue_declare(replies, passive=True).method.message_count == 3, "the replies went out"
    if ack_first:
        with pytest.raises(lab.CheckFailed, match="acknowledged the request with correlation_id 'id-0' before "
                                                  "publishing its reply.*Publish the reply first"):
            trace.expect_reply_before_ack("tasks", since=since)
    else:
        trace.expect_reply_before_ack("tasks", since=since)


@pytest.mark.parametrize("ack_first", [False, True])
def test_an_ack_before_the_commit_is_caught_and_a_redelivered_copy_needs_no_second_commit(traced, channel, ack_first):
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE seen (id TEXT PRIMARY KEY)")
    db.set_trace_callback(trace.sql)
    publish(channel, b"first", b"first again", message_id="event-1")
    publish(channel, b"second", message_id="event-2")
    since = trace.mark()
    for method, properties, body in channel.consume("tasks", inactivity_timeout=0.5):
        if method is None:
            break
        if ack_first:
            channel.basic_ack(method.delivery_tag)
        if not db.execute("SELECT 1 FROM seen WHERE id = ?", (properties.message_id,)).fetchone():
            with db:  # a copy of an event already recorded commits nothing
                db.execute("INSERT INTO seen VALUES (?)", (properties.message_id,))
        if not ack_first:
            channel.basic_ack(method.delivery_tag)
    channel.cancel()
    assert sum(trace.is_commit(c) for c in trace.calls(since)) == 2
    if ack_first:
        with pytest.raises(lab.CheckFailed, match="acknowledged an event before recording it.*record_deposit"):
            trace.expect_commit_before_ack("tasks", since=since)
    else:
        trace.expect_commit_before_ack("tasks", since=since)


def test_recording_changes_no_result_and_no_error_of_pika(traced, channel):
    with pytest.raises(TypeError, match="got multiple values for argument 'queue'"):
        channel.basic_consume(lambda *a: None, queue="tasks")  # the pika 0.x call, as students write it
    assert channel.basic_get("tasks") == (None, None, None)
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="NOT_FOUND"):
        channel.basic_publish("no-such-exchange", "x", b"lost")
        channel.queue_declare("tasks", passive=True)  # the broker's error arrives with the next command
    assert BlockingChannel.basic_ack.__name__ == "basic_ack" and BlockingChannel.consume.__doc__


def test_a_recording_that_fails_never_reaches_the_students_code(traced, channel, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the log is broken")

    monkeypatch.setattr(trace.LOG, "add", broken)
    publish(channel, b"still sent")
    method, _, body = channel.basic_get("tasks")
    channel.basic_ack(method.delivery_tag)
    assert body == b"still sent" and lab.queue_state("tasks").messages == 0


def test_a_raised_call_is_marked_and_never_counts_as_a_settlement(traced, channel):
    publish(channel, b"x")
    method, _, _ = channel.basic_get("tasks")
    channel.basic_ack(method.delivery_tag + 5)  # an unknown tag: the broker closes the channel
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="unknown delivery tag"):
        channel.queue_declare("tasks", passive=True)
    with pytest.raises(pika.exceptions.ChannelWrongStateError):
        channel.basic_ack(method.delivery_tag)
    assert [c.raised for c in trace.calls() if c.kind == "ack"] == [None, "ChannelWrongStateError"]
    assert trace.handled("tasks")[0].settled is None


def test_stop_gives_pika_its_methods_back_and_start_forgets_the_last_run(vhost, channel):
    original = BlockingChannel.basic_ack
    try:
        trace.start()
        assert BlockingChannel.basic_ack is not original and trace.active()
        publish(channel, b"x")
        assert kinds() == ["publish"]
        trace.start()
        assert kinds() == []
    finally:
        trace.stop()
    assert BlockingChannel.basic_ack is original and not trace.active()
    publish(channel, b"y")
    assert trace.calls() == []


def test_a_reply_sent_on_another_channel_than_the_ack_is_still_found_by_its_correlation_id(traced, connection, channel):
    other = connection.channel()
    replies = channel.queue_declare("", exclusive=True).method.queue
    publish(channel, b"7", reply_to=replies, correlation_id="seven")
    since = trace.mark()
    method, properties, body = channel.basic_get("tasks")
    channel.basic_ack(method.delivery_tag)  # the ack first, then the reply on the other channel
    other.basic_publish("", properties.reply_to, b"13", pika.BasicProperties(correlation_id="seven"))
    with pytest.raises(lab.CheckFailed, match="correlation_id 'seven' before publishing its reply"):
        trace.expect_reply_before_ack("tasks", since=since)


def test_a_service_that_consumes_with_auto_ack_has_acked_before_it_records(traced, channel):
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE seen (id TEXT)")
    db.set_trace_callback(trace.sql)
    publish(channel, b"e", message_id="event-1")
    since = trace.mark()
    for method, properties, body in channel.consume("tasks", auto_ack=True, inactivity_timeout=0.5):
        if method is None:
            break
        with db:
            db.execute("INSERT INTO seen VALUES (?)", (properties.message_id,))
    channel.cancel()
    with pytest.raises(lab.CheckFailed, match="0 committed at that moment; with auto_ack=True the broker counts"):
        trace.expect_commit_before_ack("tasks", since=since)


def test_kombu_calls_are_not_seen_so_the_checks_judge_nothing_of_them(traced, vhost, channel):
    import kombu

    publish(channel, b"k", reply_to="nowhere", correlation_id="k-1")
    since = trace.mark()
    with kombu.Connection(vhost.url) as kombu_connection:
        with kombu_connection.SimpleQueue("tasks", queue_opts={"durable": True}) as queue:
            message = queue.get(timeout=2)
            message.ack()
    assert trace.handled("tasks", since=since) == [] and lab.queue_state("tasks").messages == 0
    trace.expect_reply_before_ack("tasks", since=since)
    trace.expect_commit_before_ack("tasks", since=since)

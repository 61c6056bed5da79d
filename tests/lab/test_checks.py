"""The notebook checks pass on what is there and say in plain words what is not."""

import time

import pika
import pytest

from grader import lab


@pytest.fixture
def channel(vhost):
    connection = pika.BlockingConnection(pika.URLParameters(vhost.url))
    yield connection.channel()
    connection.close()


def test_a_missing_queue_is_named_with_the_call_that_declares_it(vhost):
    with pytest.raises(lab.CheckFailed, match=r"there is no queue `task_queue`.*queue_declare"):
        lab.expect_queue("task_queue")


def test_a_queue_that_is_not_durable_is_reported_with_the_fix(channel):
    channel.queue_declare("task_queue", exclusive=True)
    with pytest.raises(lab.CheckFailed, match="exists but is not durable.*then declare it again with durable=True"):
        lab.expect_queue("task_queue", durable=True)


def test_queue_state_is_exact_right_after_publishing(channel):
    channel.queue_declare("hello", durable=True)
    for body in (b"a", b"b", b"c"):
        channel.basic_publish("", "hello", body)
    assert lab.queue_state("hello").messages == 3
    assert lab.queue_state("nope") is None
    with pytest.raises(lab.CheckFailed, match="holds 3 messages, expected 1"):
        lab.expect_messages("hello", 1)


def test_peek_leaves_the_messages_in_the_queue(channel):
    channel.queue_declare("hello", durable=True)
    channel.basic_publish("", "hello", b"one", pika.BasicProperties(delivery_mode=2))
    [peeked] = lab.peek("hello")
    assert (peeked.body, peeked.routing_key, peeked.properties.delivery_mode) == (b"one", "hello", 2)
    assert lab.queue_state("hello").messages == 1


def test_exchange_type_and_binding_checks(channel):
    channel.exchange_declare("logs", exchange_type="direct")
    channel.queue_declare("q", durable=True)
    channel.queue_bind("q", "logs", routing_key="info")
    with pytest.raises(lab.CheckFailed, match="is of type direct, expected fanout"):
        lab.expect_exchange("logs", "fanout")
    lab.expect_binding("logs", "q", "info")
    with pytest.raises(lab.CheckFailed, match=r"not bound to `logs` with routing key 'error' \(its keys there: \['info'\]\)"):
        lab.expect_binding("logs", "q", "error")


def test_a_failed_check_shows_as_one_red_sentence_in_jupyter():
    rendered = lab.CheckFailed("the queue is empty")._render_traceback_()
    assert len(rendered) == 1 and "✘ the queue is empty" in rendered[0]


def test_wait_until_says_what_it_waited_for():
    with pytest.raises(lab.CheckFailed, match="waited 0.2 s for the moon"):
        lab.wait_until(lambda: False, timeout=0.2, what="the moon")


def test_reset_deletes_what_a_lesson_declared_and_tolerates_missing_ones(channel, capsys):
    channel.queue_declare("hello", durable=True)
    channel.exchange_declare("logs", exchange_type="fanout")
    lab.reset(queues=["hello", "never-declared"], exchanges=["logs"])
    assert lab.queue_state("hello") is None
    assert lab.management().exchange(lab.vhost(), "logs") is None
    assert "deleted queue `hello`" in capsys.readouterr().out


def test_settled_state_waits_for_a_message_that_is_on_its_way(channel, vhost):
    import threading
    import time

    channel.queue_declare("hello", durable=True)
    assert lab.settled_state("hello", lambda s: s.messages > 0, timeout=0.1).messages == 0  # what it saw

    def publish_later():
        time.sleep(0.3)  # the message is "on its way" for a while
        late = pika.BlockingConnection(pika.URLParameters(vhost.url))
        late.channel().basic_publish("", "hello", b"late")
        late.close()

    threading.Thread(target=publish_later).start()
    state = lab.settled_state("hello", lambda s: s.messages > 0, timeout=5)
    assert state.messages == 1  # it waited for the late message (an immediate look sees none, above)


def test_take_reads_the_exclusive_queue_of_a_connection_and_leaves_unwanted_messages_in_order(vhost):
    connection = pika.BlockingConnection(pika.URLParameters(vhost.url))
    channel = connection.channel()
    inbox = channel.queue_declare("", exclusive=True).method.queue
    for body in (b"other 1", b"probe", b"other 2"):
        channel.basic_publish("", inbox, body)
    taken = lab.take(connection, inbox, lambda message: message.body == b"probe")
    assert [message.body for message in taken] == [b"probe"]
    left = [channel.basic_get(inbox, auto_ack=True)[2] for _ in range(3)]
    connection.close()
    assert left == [b"other 1", b"other 2", None]


def test_take_stops_after_its_timeout_with_what_it_found(vhost):
    connection = pika.BlockingConnection(pika.URLParameters(vhost.url))
    channel = connection.channel()
    inbox = channel.queue_declare("", exclusive=True).method.queue
    channel.basic_publish("", inbox, b"one")
    started = time.monotonic()
    taken = lab.take(connection, inbox, lambda message: True, until=lambda found: len(found) == 2, timeout=0.5)
    elapsed = time.monotonic() - started
    connection.close()
    assert [message.body for message in taken] == [b"one"]
    assert 0.5 <= elapsed < 5  # it waited for the second one, then gave up


def test_another_connections_exclusive_queue_is_counted_by_the_api_or_said_to_be_uncountable(vhost, channel):
    """A passive declare of another connection's exclusive queue is refused (405); the count then
    comes from the management API, a few seconds late, and where the API keeps no counts at all
    the check says so rather than report 0."""
    inbox = channel.queue_declare("", exclusive=True).method.queue
    for _ in range(3):
        channel.basic_publish("", inbox, b"x")
    if lab.management().keeps_counts():
        state = lab.settled_state(inbox, lambda state: state.messages == 3, timeout=15)
        assert state is not None and state.messages == 3
    else:
        with pytest.raises(lab.CheckFailed, match="exclusive to another connection.*keeps no counts"):
            lab.queue_state(inbox)


def test_queue_policy_names_the_policy_the_broker_applies_and_none_elsewhere(vhost, channel):
    channel.queue_declare("reports", durable=True)
    channel.queue_declare("secrets", durable=True)
    vhost.api.request("PUT", f"policies/{vhost.name}/reports-limit", json={
        "pattern": "^reports$", "definition": {"max-length": 2}, "apply-to": "queues"}).raise_for_status()
    vhost.api.request("PUT", f"policies/{vhost.name}/second", json={
        "pattern": "^rep", "definition": {"max-length": 5}, "apply-to": "queues", "priority": -1}).raise_for_status()
    lab.wait_until(lambda: lab.queue_policy(vhost.name, "reports"), timeout=15, what="the policy on `reports`")
    assert lab.queue_policy(vhost.name, "reports") == "reports-limit", "the higher priority wins"
    assert lab.queue_policy(vhost.name, "secrets") is None
    assert lab.queue_policy(vhost.name, "ghost") is None, "no queue, no policy"

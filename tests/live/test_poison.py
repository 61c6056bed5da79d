"""Poison messages: what pika cannot decode, and replies the broker refuses. Grading goes on for
everyone, the poison ends up in `W.rejected`, and RabbitMQ's direct reply-to works."""

from __future__ import annotations

import json
import time
import uuid

import pika
import pytest

from grader import names
from grader.live.checks import fibonacci
from grader.live.dealer import deal
from tests.live import rawframes
from tests.live.deadletters import Publisher, RejectedQueue, points_by_slug, wait_for
from tests.live.fixtures import WORKSHOP, start_grader, stop_grader

RESULTS = names.results_queue(WORKSHOP)
REJECTED = names.rejected_queue(WORKSHOP)
AFTER_POISON = 30  # s: a grader may need a few reconnects before the broker takes a poison away
# A direct reply-to name that RabbitMQ 3.10 cannot decode: replying to it closes the replier's
# connection with 541 INTERNAL_ERROR.
BROKEN_DIRECT_REPLY_TO = "amq.rabbitmq.reply-to.g1h2AA5yZXBseUAxMjM0NTY3OAAAAAAAAAAAAAAAAA==.xyz"

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def running(settings, store):
    """The grader and its thread (to tell a dead grader from a slow one)."""
    grader, thread = start_grader(settings, store)
    yield grader, thread
    stop_grader(grader, thread)


@pytest.fixture
def poisoner(vhost):
    made = Publisher(vhost.url)
    yield made
    made.close()


@pytest.fixture
def rejected(vhost):
    return RejectedQueue(vhost.api, vhost.name, REJECTED)


@pytest.fixture
def class_of_three(running, store, settings, make_student):
    """Ada, Bob and Carol, registered, with 6 tasks each: {slug: (student, [n, ...])}."""
    students = {s.slug: s for s in (make_student("Ada Lovelace"), make_student("Bob"), make_student("Carol"))}
    for one in students.values():
        assert one.register()["ok"]
    dealt = deal(settings, store, 6)
    return {slug: (one, list(dealt[slug])) for slug, one in students.items()}


def answer_and_check(student, n, *, timeout: float = 10) -> dict:
    """A correct answer whose feedback must say it scored."""
    student.send(RESULTS, {"n": n, "Fn": fibonacci(n), "name": student.name})
    try:
        feedback = student.feedback(timeout=timeout)
    except AssertionError as exc:
        raise AssertionError(f"{student.name}'s correct answer F({n}): {exc}") from None
    assert (feedback["ok"], feedback["points"]) == (True, 1), f"{student.name}'s correct answer F({n}): {feedback}"
    return feedback


def expect_points(store, expected: dict[str, int], thread, timeout: float = AFTER_POISON) -> None:
    wait_for(lambda: points_by_slug(store) == expected, timeout, f"the scores {expected}",
             state=lambda: f"{points_by_slug(store)} (grader thread alive: {thread.is_alive()})")


def expect_rejected(rejected: RejectedQueue, tokens: list[bytes], thread, timeout: float = AFTER_POISON) -> None:
    def all_there():
        rejected.drain()
        return all(rejected.containing(token) for token in tokens)

    wait_for(all_there, timeout, f"{len(tokens)} poison message(s) in {REJECTED}",
             state=lambda: f"{len(rejected.seen)} message(s) there, missing "
                           f"{[t.decode() for t in tokens if not rejected.containing(t)]} "
                           f"(grader thread alive: {thread.is_alive()})")
    for token in tokens:
        for one in rejected.containing(token):
            assert one.reason, f"{token.decode()} is in {REJECTED} without a reason (no {'x-reject-reason'}, " \
                               f"no x-death delivery_limit): {one.text[:300]}"


def poison(poisoner: Publisher, value: rawframes.Encoded, label: str) -> bytes:
    """Publish to W.results a message that breaks the protocol (not JSON) with `value` in its
    headers, where pika's decoder fails on it; returns the token in its body."""
    token = f"poison-{uuid.uuid4().hex}".encode()
    headers = rawframes.table([("h", value), (b"\xff\xfekey", rawframes.value("S", b"\xc3(")), ("label", label)])
    assert not rawframes.pika_can_decode(headers), f"pika decodes {label}: not a poison for this test"
    refused = poisoner.publish(RESULTS, token + b" is not JSON", rawframes.properties(headers=headers,
                                                                                      message_id=token))
    assert refused is None, f"the broker refused the poison {label}: {refused}"
    return token


def test_a_message_pika_cannot_decode_is_rejected_and_grading_goes_on(running, class_of_three, store, poisoner,
                                                                       rejected):
    _, thread = running
    (ada, ada_tasks), (bob, bob_tasks) = class_of_three["ada-lovelace"], class_of_three["bob"]
    answer_and_check(ada, ada_tasks[0])
    token = poison(poisoner, rawframes.value("T", 2**64 - 1), "timestamp 2**64-1")
    answer_and_check(bob, bob_tasks[0], timeout=AFTER_POISON)
    answer_and_check(ada, ada_tasks[1], timeout=AFTER_POISON)
    expect_points(store, {"ada-lovelace": 3, "bob": 2, "carol": 1}, thread)
    expect_rejected(rejected, [token], thread)
    assert thread.is_alive(), "the grader's thread ended"


def test_several_poison_messages_in_a_row(running, class_of_three, store, poisoner, rejected):
    _, thread = running
    (ada, ada_tasks), (bob, bob_tasks), (carol, carol_tasks) = (class_of_three[s] for s in
                                                                ("ada-lovelace", "bob", "carol"))
    answer_and_check(ada, ada_tasks[0])
    answer_and_check(bob, bob_tasks[0])
    tokens = [poison(poisoner, value, label) for label, value in rawframes.UNDECODABLE.items()]
    tokens.append(poison(poisoner, rawframes.nested_tables(300, rawframes.nested_arrays(300, rawframes.value(
        "T", 2**63))), "tables and arrays 600 deep, then a timestamp"))
    answer_and_check(carol, carol_tasks[0], timeout=AFTER_POISON * 2)
    answer_and_check(ada, ada_tasks[1], timeout=AFTER_POISON)
    answer_and_check(bob, bob_tasks[1], timeout=AFTER_POISON)
    expect_points(store, {"ada-lovelace": 3, "bob": 3, "carol": 2}, thread)
    expect_rejected(rejected, tokens, thread, timeout=AFTER_POISON * 2)
    assert thread.is_alive(), "the grader's thread ended"


def test_a_reply_to_the_broker_cannot_route_costs_nobody_their_feedback(running, class_of_three, store, vhost,
                                                                         rejected):
    _, thread = running
    (ada, ada_tasks), (bob, bob_tasks), (carol, carol_tasks) = (class_of_three[s] for s in
                                                                ("ada-lovelace", "bob", "carol"))
    n = ada_tasks[0]
    ada.channel.basic_publish("", RESULTS, json.dumps({"n": n, "Fn": fibonacci(n), "name": ada.name}).encode(),
                              properties=pika.BasicProperties(reply_to=BROKEN_DIRECT_REPLY_TO,
                                                              correlation_id="broken-reply-to"))
    expect_points(store, {"ada-lovelace": 2, "bob": 1, "carol": 1}, thread, timeout=15)
    answer_and_check(bob, bob_tasks[0], timeout=20)
    answer_and_check(carol, carol_tasks[0], timeout=20)
    answer_and_check(bob, bob_tasks[1], timeout=20)
    ada.send(RESULTS, {"n": ada_tasks[1], "Fn": fibonacci(ada_tasks[1]), "name": ada.name}, reply=False)
    expect_points(store, {"ada-lovelace": 3, "bob": 3, "carol": 2}, thread)
    rejected.drain()
    assert not rejected.seen, f"correct answers were dead-lettered: {[r.text[:200] for r in rejected.seen]}"
    assert thread.is_alive(), "the grader's thread ended"


class DirectReplyStudent:
    """A student who reads feedback from RabbitMQ's direct reply-to, not from a queue."""

    def __init__(self, url: str, name: str):
        self.name = name
        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()
        self.received: list[tuple[pika.BasicProperties, dict]] = []
        self.channel.basic_consume("amq.rabbitmq.reply-to", self._on_reply, auto_ack=True)

    def _on_reply(self, _channel, _method, properties, body):
        self.received.append((properties, json.loads(body)))

    def send(self, queue: str, body: dict) -> str:
        correlation_id = uuid.uuid4().hex
        self.channel.basic_publish("", queue, json.dumps(body).encode(), properties=pika.BasicProperties(
            reply_to="amq.rabbitmq.reply-to", correlation_id=correlation_id))
        return correlation_id

    def feedback(self, timeout: float = 10) -> tuple[pika.BasicProperties, dict]:
        deadline = time.monotonic() + timeout
        while not self.received:
            assert time.monotonic() < deadline, f"no feedback on amq.rabbitmq.reply-to within {timeout} s"
            self.connection.process_data_events(time_limit=0.05)
        return self.received.pop(0)

    def close(self) -> None:
        if self.connection.is_open:
            self.connection.close()


def test_feedback_reaches_a_real_direct_reply_to(running, store, settings, vhost):
    _, thread = running
    student = DirectReplyStudent(vhost.url, "Dora Direct")
    try:
        correlation_id = student.send(names.REGISTER_QUEUE, {"name": student.name})
        properties, feedback = student.feedback()
        assert (feedback["ok"], feedback["exercise"], feedback["points"], feedback["total"]) == \
            (True, "register", 1, 1), feedback
        assert properties.correlation_id == correlation_id
        [n] = deal(settings, store, 1)["dora-direct"]
        correlation_id = student.send(RESULTS, {"n": n, "Fn": fibonacci(n), "name": student.name})
        properties, feedback = student.feedback()
        assert (feedback["ok"], feedback["exercise"], feedback["points"], feedback["total"]) == \
            (True, "fibonacci", 1, 2), feedback
        assert properties.correlation_id == correlation_id
    finally:
        student.close()
    assert points_by_slug(store) == {"dora-direct": 2}
    assert thread.is_alive(), "the grader's thread ended"


@pytest.fixture
def pika_as_it_is(monkeypatch):
    """The grader without its tolerant decoding (grader.live.wire): pika fails on the poison as
    it does out of the box, and the grader's connection with it. What is left is the broker's
    delivery limit on the intake queue."""
    from pika.spec import BasicProperties

    from grader.live import wire

    monkeypatch.setattr(wire, "install", lambda: None)
    monkeypatch.setattr(BasicProperties, "decode", wire._original_decode)


def test_a_message_that_keeps_breaking_the_graders_connection_is_taken_away_by_the_broker(
        pika_as_it_is, running, class_of_three, store, poisoner):
    _, thread = running
    (ada, ada_tasks), (bob, bob_tasks), (carol, carol_tasks) = (class_of_three[s] for s in
                                                                ("ada-lovelace", "bob", "carol"))
    answer_and_check(ada, ada_tasks[0])
    token = poison(poisoner, rawframes.value("T", 2**64 - 1), "timestamp 2**64-1")
    for student, tasks in ((bob, bob_tasks), (carol, carol_tasks), (ada, ada_tasks)):  # queued behind it
        student.send(RESULTS, {"n": tasks[1], "Fn": fibonacci(tasks[1]), "name": student.name}, reply=False)
    expect_points(store, {"ada-lovelace": 3, "bob": 2, "carol": 2}, thread, timeout=60)
    assert thread.is_alive(), "the grader's thread ended"
    assert answer_and_check(bob, bob_tasks[2])["total"] == 3  # and it grades on
    # Read W.rejected over AMQP, with the tolerant decoding (RabbitMQ 4.0's management API cannot
    # show a message with such headers). The broker moved the poison there as it was, its headers
    # unreadable; a copy by the grader would carry readable headers with the reason.
    from pika.spec import BasicProperties

    from grader.live import wire
    BasicProperties.decode = wire._tolerant_decode  # wire.install is switched off here; undone after the test
    found = wait_for(lambda: [props for props, body in read_all(poisoner.url, REJECTED) if body.startswith(token)],
                     AFTER_POISON, f"the poison in {REJECTED}", state=lambda: "not there")
    assert len(found) == 1 and wire.unreadable(found[0]).startswith("the headers"), found


def read_all(url: str, queue: str) -> list:
    """(properties, body) of every message in `queue`, left there."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel, found = connection.channel(), []
    while (got := channel.basic_get(queue))[0] is not None:
        found.append((got[1], got[2]))
    connection.close()  # unacked: back in the queue
    return found

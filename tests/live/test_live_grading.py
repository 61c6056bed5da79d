"""The live grader against a real broker: every rule of the classroom protocol."""

import json
import time

import pika
import pytest
from kombu import Connection as KombuConnection
from kombu import Producer

from grader import names
from grader.live.checks import fibonacci
from grader.live.dealer import deal
from grader.live.replies import KEEP_BYTES, REASON_HEADER
from grader.live.standings import leaderboard
from tests.live.fixtures import WORKSHOP


def points(store, slug):
    rows = {row["slug"]: row for row in leaderboard(store)}
    return rows[slug]["points"] if slug in rows else None


def test_registering_scores_one_point_once_and_declares_the_tasks_queue(grader, store, student, vhost):
    first = student.register()
    assert (first["ok"], first["exercise"], first["points"], first["total"]) == (True, "register", 1, 1)
    assert "summercamp.ada-lovelace" in first["message"]
    again = student.register("  ada lovelace ")
    assert (again["ok"], again["points"], again["total"]) == (True, 0, 1)
    assert "already registered" in again["message"]
    assert points(store, "ada-lovelace") == 1
    queue = vhost.api.queue(vhost.name, "summercamp.ada-lovelace")
    assert queue is not None and queue["durable"]


def test_dealt_tasks_follow_the_protocol(grader, store, student, settings):
    student.register()
    dealt = deal(settings, store, 3)
    assert len(dealt["ada-lovelace"]) == 3
    tasks = student.tasks(3)
    assert sorted(body["n"] for _, body in tasks) == sorted(dealt["ada-lovelace"])
    for properties, body in tasks:
        assert set(body) == {"n"} and 5 <= body["n"] <= 1000
        assert properties.content_type == "application/json"
        assert properties.delivery_mode == 2
        assert properties.message_id and properties.correlation_id == properties.message_id
        assert properties.reply_to == "summercamp.results.ada-lovelace"  # the student's own answers queue
    assert len({p.message_id for p, _ in tasks}) == 3


def test_a_correct_answer_scores_once_and_a_wrong_one_never(grader, store, student, settings):
    student.register()
    [n] = deal(settings, store, 1)["ada-lovelace"]
    wrong = student.answer(n, fibonacci(n) + 1)
    assert (wrong["ok"], wrong["points"], wrong["total"]) == (False, 0, 1)
    assert str(fibonacci(n)) not in wrong["message"]
    right = student.answer(n, str(fibonacci(n)))  # a string of digits is fine
    assert (right["ok"], right["points"], right["total"], right["exercise"]) == (True, 1, 2, "fibonacci")
    again = student.answer(n, fibonacci(n))
    assert (again["ok"], again["points"], again["total"]) == (False, 0, 2)
    assert "already scored" in again["message"]
    assert points(store, "ada-lovelace") == 2


def test_answers_for_tasks_never_dealt_or_from_strangers_score_nothing(grader, store, student, settings):
    student.register()
    dealt = deal(settings, store, 1)["ada-lovelace"]
    never = next(n for n in range(5, 1001) if n not in dealt)
    not_dealt = student.answer(never, fibonacci(never))
    assert not not_dealt["ok"] and f"No task with n={never}" in not_dealt["message"]
    stranger = student.answer(dealt[0], fibonacci(dealt[0]), name="Grace Hopper")
    assert not stranger["ok"] and "not registered" in stranger["message"]
    assert points(store, "ada-lovelace") == 1 and points(store, "grace-hopper") is None


def test_the_feedback_copies_the_correlation_id(grader, student):
    correlation_id = student.send(names.REGISTER_QUEUE, {"name": "Ada Lovelace"})
    assert student.feedback()["correlation_id"] == correlation_id


@pytest.mark.parametrize(("queue", "body", "reason"), [
    ("name", b"not json at all", "not valid JSON"),
    ("name", b'["a", "list"]', "must be a JSON object"),
    ("name", b'{"name": 7}', '"name" must be a string'),
    ("summercamp.results", b'{"n": 3, "Fn": 2, "name": "Ada Lovelace"}', "5 <= n <= 1000"),
    ("summercamp.results", b'{"n": 10, "Fn": "' + b"9" * 1001 + b'", "name": "Ada Lovelace"}', "limit is 1000"),
    ("summercamp.results", b"x" * (64 * 1024 + 1), "64 KiB"),
])
def test_protocol_breakers_are_dead_lettered_with_the_reason_and_answered(grader, store, student, queue, body,
                                                                          reason):
    student.register()
    student.send(queue, body)
    feedback = student.feedback()
    assert feedback["ok"] is False and reason in feedback["message"]
    method, properties, rejected = student.channel.basic_get(names.rejected_queue(WORKSHOP), auto_ack=True)
    assert method is not None, "nothing arrived in summercamp.rejected"
    assert rejected == body[:KEEP_BYTES]  # a big body is cut: W.rejected stays small
    assert properties.headers["x-original-bytes"] == len(body)
    assert properties.headers.get("x-truncated", False) == (len(body) > KEEP_BYTES)
    assert reason in properties.headers[REASON_HEADER]
    assert properties.headers["x-original-queue"] == queue
    assert points(store, "ada-lovelace") == 1  # nothing lost, nothing gained
    assert student.register()["total"] == 1  # and the grader is still there


def test_a_flood_of_garbage_never_stops_the_grader_or_touches_scores(grader, store, make_student, settings):
    ada, bob = make_student("Ada Lovelace"), make_student("Bob")
    ada.register(), bob.register()
    [n] = deal(settings, store, 1, only=["bob"])["bob"]
    garbage = [b"", b"\x00\x01", b"{", b"null", b"{}", b'{"name": null}', b'{"n": {}, "Fn": [], "name": "Bob"}',
               b'{"n": 10, "Fn": 55, "name": "' + b"\xe2\x80\xae" * 20 + b'"}', b"1" * 5000]
    for raw in garbage:
        ada.send("summercamp.results", raw, reply=False)
        ada.send("name", raw, reply=False)
    assert bob.answer(n, fibonacci(n))["total"] == 2
    assert points(store, "ada-lovelace") == 1


def test_feedback_is_never_sent_into_a_protocol_queue(grader, store, make_student, settings):
    ada, bob = make_student("Ada Lovelace"), make_student("Bob")
    bob.register()
    ada.channel.basic_publish("", "name", json.dumps({"name": "Ada Lovelace"}).encode(),
                              properties=pika.BasicProperties(reply_to="summercamp.bob"))
    deadline = time.monotonic() + 10
    while points(store, "ada-lovelace") is None:
        assert time.monotonic() < deadline, "Ada's registration was not graded within 10 s"
        time.sleep(0.05)
    assert bob.channel.queue_declare("summercamp.bob", passive=True).method.message_count == 0


def test_answers_sent_with_kombu_are_graded_like_pika_ones(grader, store, student, settings, vhost):
    student.register()
    [n] = deal(settings, store, 1)["ada-lovelace"]
    with KombuConnection(vhost.url) as connection:
        producer = Producer(connection.channel(), serializer="json")
        producer.publish({"n": n, "Fn": fibonacci(n), "name": "Ada Lovelace"}, exchange="",
                         routing_key="summercamp.results", reply_to=student.replies, correlation_id="kombu-1")
    feedback = student.feedback()
    assert (feedback["ok"], feedback["points"], feedback["correlation_id"]) == (True, 1, "kombu-1")
    assert points(store, "ada-lovelace") == 2


def test_a_student_can_work_without_reply_to_and_still_score(grader, store, student, settings):
    student.register()
    [n] = deal(settings, store, 1)["ada-lovelace"]
    student.send("summercamp.results", {"n": n, "Fn": fibonacci(n), "name": "Ada Lovelace"}, reply=False)
    deadline = time.monotonic() + 10
    while points(store, "ada-lovelace") != 2:
        assert time.monotonic() < deadline, "the answer without reply_to was not scored within 10 s"
        time.sleep(0.05)


def test_a_header_that_imitates_the_graders_own_note_is_just_data(grader, store, student):
    """The note of unreadable properties is not a header anyone can send; a huge one never makes
    the copy in W.rejected too big for a frame."""
    student.register()
    student.send("summercamp.results", b"not json", headers={"x-workshop-unreadable": "A" * 120_000})
    feedback = student.feedback()
    assert feedback["ok"] is False and "not valid JSON" in feedback["message"]
    method, properties, _ = student.channel.basic_get(names.rejected_queue(WORKSHOP), auto_ack=True)
    assert method is not None, "nothing arrived in summercamp.rejected"
    assert "x-unreadable-properties" not in properties.headers
    assert student.register("Grace Hopper")["points"] == 1  # the grader's connection is fine

"""A grader that dies between the commit and the ack, or before the commit, while the batch holds
messages whose ids collide: every student's points come out exactly as the protocol says, and the
redelivered messages get the verdict they earned, never another message's."""

import json

import pika
import pytest

from grader.live.checks import fibonacci
from grader.live.consumer import Grader
from grader.live.standings import leaderboard
from grader.live.store import Transaction
from tests.live.fixtures import start_grader, stop_grader


class Killed(BaseException):
    """Stands for the grader's process dying (nothing in the grader catches it)."""


def points(store) -> dict[str, int]:
    return {row["slug"]: row["points"] for row in leaderboard(store)}


def answer(student, n, fn, **properties):
    body = json.dumps({"n": n, "Fn": fn, "name": student.name}).encode()
    props = pika.BasicProperties(reply_to=student.replies, correlation_id=properties.pop("correlation_id", None),
                                 **properties)
    student.channel.basic_publish("", "summercamp.results", body, props)


def crash_then_recover(settings, store, where: str, send) -> None:
    """Run `send()` against a grader that dies `where` ("before-commit" or "after-commit") on its
    first batch, then start a healthy grader that gets the redelivered batch."""
    with pytest.MonkeyPatch.context() as patch:
        if where == "after-commit":
            def die(self, channel, outcome):
                raise Killed
            patch.setattr(Grader, "reply", die)
        else:
            def die(self, *args, **kwargs):
                raise Killed
            patch.setattr(Transaction, "apply", die)
        doomed, thread = start_grader(settings, store, swallow=Killed)
        send()
        thread.join(timeout=20)
        assert not thread.is_alive(), "the doomed grader did not die"
    survivor, thread = start_grader(settings, store)
    return survivor, thread


@pytest.fixture
def classroom(settings, store, make_student):
    ada, bob, carol = make_student("Ada Lovelace"), make_student("Bob"), make_student("Carol")
    grader, thread = start_grader(settings, store)
    for student in (ada, bob):
        assert student.register()["points"] == 1
    stop_grader(grader, thread)
    store.add_tasks("ada-lovelace", {30: "task-ada-30", 31: "task-ada-31"}, 0, published=True)
    store.add_tasks("bob", {30: "task-bob-30"}, 0, published=True)
    return ada, bob, carol


@pytest.mark.parametrize("where", ["before-commit", "after-commit"])
def test_two_students_who_use_the_same_message_id_keep_their_own_verdicts(settings, store, classroom, where):
    ada, bob, _ = classroom

    def send():
        answer(ada, 30, fibonacci(30) + 1, message_id="1", correlation_id="ada-wrong")  # wrong
        answer(bob, 30, fibonacci(30), message_id="1", correlation_id="bob-right")  # right

    survivor, thread = crash_then_recover(settings, store, where, send)
    try:
        ada_reply, bob_reply = ada.feedback(), bob.feedback()
        assert (ada_reply["correlation_id"], ada_reply["ok"], ada_reply["points"]) == ("ada-wrong", False, 0)
        assert (bob_reply["correlation_id"], bob_reply["ok"], bob_reply["points"], bob_reply["total"]) == \
            ("bob-right", True, 1, 2)
        assert points(store) == {"ada-lovelace": 1, "bob": 2}
    finally:
        stop_grader(survivor, thread)


@pytest.mark.parametrize("where", ["before-commit", "after-commit"])
def test_a_task_id_copied_onto_a_wrong_then_a_right_answer_still_scores(settings, store, classroom, where):
    ada, _, _ = classroom
    grader, thread = start_grader(settings, store)
    answer(ada, 31, fibonacci(31) + 1, message_id="task-ada-31", correlation_id="wrong")
    assert ada.feedback()["ok"] is False
    stop_grader(grader, thread)

    survivor, thread = crash_then_recover(
        settings, store, where, lambda: answer(ada, 31, fibonacci(31), message_id="task-ada-31", correlation_id="right"))
    try:
        reply = ada.feedback()
        assert (reply["correlation_id"], reply["ok"], reply["points"], reply["total"]) == ("right", True, 1, 2)
        assert points(store)["ada-lovelace"] == 2
    finally:
        stop_grader(survivor, thread)


@pytest.mark.parametrize("where", ["before-commit", "after-commit"])
def test_the_same_body_before_and_after_registering_scores_the_second_time(settings, store, classroom, where):
    _, _, carol = classroom
    body = json.dumps({"n": 40, "Fn": fibonacci(40), "name": "Carol"}).encode()  # byte for byte, twice
    grader, thread = start_grader(settings, store)
    carol.channel.basic_publish("", "summercamp.results", body, pika.BasicProperties(reply_to=carol.replies))
    assert "not registered" in carol.feedback()["message"]
    assert carol.register()["points"] == 1
    stop_grader(grader, thread)
    store.add_tasks("carol", {40: "task-carol-40"}, 0, published=True)

    survivor, thread = crash_then_recover(settings, store, where, lambda: carol.channel.basic_publish(
        "", "summercamp.results", body, pika.BasicProperties(reply_to=carol.replies)))
    try:
        reply = carol.feedback()
        assert (reply["ok"], reply["points"], reply["total"]) == (True, 1, 2), reply
        assert points(store)["carol"] == 2
    finally:
        stop_grader(survivor, thread)


@pytest.mark.parametrize("where", ["before-commit", "after-commit"])
def test_an_identical_answer_sent_twice_in_one_batch_scores_once_and_says_so_once(settings, store, classroom,
                                                                                   where):
    ada, _, _ = classroom

    def send():
        for _ in range(2):
            answer(ada, 30, fibonacci(30), message_id="same", correlation_id="same")

    survivor, thread = crash_then_recover(settings, store, where, send)
    try:
        replies = sorted((r["points"], r["ok"]) for r in (ada.feedback(), ada.feedback()))
        assert replies == [(0, False), (1, True)], replies
        assert points(store)["ada-lovelace"] == 2
    finally:
        stop_grader(survivor, thread)

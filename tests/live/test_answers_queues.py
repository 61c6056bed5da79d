"""Every student's own answers queue `W.results.<id>`: the `reply_to` of their tasks, read by the
grader beside everyone else's, so that one student's backlog never stands before another's answer."""

import json
import time

import pika
import pytest

from grader import names
from grader.lab import wait_until
from grader.live.checks import fibonacci
from grader.live.dealer import deal
from grader.live.queues import intake_arguments
from grader.live.standings import leaderboard
from tests.live.fixtures import WORKSHOP, named_connections, start_grader, stop_grader, wait_for_consumers


def points(store) -> dict[str, int]:
    return {row["slug"]: row["points"] for row in leaderboard(store)}


def answer_task(student, properties, body, fn=None) -> dict:
    """Answer a task as the notebook does: to the task's reply_to, with its correlation id."""
    n = body["n"]
    student.channel.basic_publish(
        "", properties.reply_to, json.dumps({"n": n, "Fn": fibonacci(n) if fn is None else fn, "name": student.name}),
        pika.BasicProperties(reply_to=student.replies, correlation_id=properties.correlation_id))
    return student.feedback()


def test_registering_declares_an_answers_queue_and_tasks_reply_to_it(grader, store, student, settings, vhost):
    student.register()
    queue = vhost.api.queue(vhost.name, names.answers_queue(WORKSHOP, "ada-lovelace"))
    assert queue is not None and queue["arguments"] == intake_arguments(WORKSHOP)
    deal(settings, store, 2)
    tasks = student.tasks(2)
    assert {p.reply_to for p, _ in tasks} == {"summercamp.results.ada-lovelace"}
    replies = [answer_task(student, *task) for task in tasks]
    assert [(r["ok"], r["points"]) for r in replies] == [(True, 1), (True, 1)], replies
    assert points(store) == {"ada-lovelace": 3}


def test_an_answer_in_someone_elses_answers_queue_scores_nothing_and_says_where_to_send_it(
        grader, store, make_student):
    ada, bob = make_student("Ada Lovelace"), make_student("Bob")
    ada.register(), bob.register()
    store.add_tasks("ada-lovelace", {30: "a30"}, time.time(), published=True)
    bob_queue = names.answers_queue(WORKSHOP, "bob")
    ada.send(bob_queue, {"n": 30, "Fn": fibonacci(30), "name": "Ada Lovelace"})
    reply = ada.feedback()
    assert (reply["ok"], reply["points"]) == (False, 0)
    assert "summercamp.results.bob" in reply["message"] and "summercamp.results.ada-lovelace" in reply["message"]
    ada.send(names.answers_queue(WORKSHOP, "ada-lovelace"), {"n": 30, "Fn": fibonacci(30), "name": "Ada Lovelace"})
    assert ada.feedback()["points"] == 1
    assert points(store) == {"ada-lovelace": 2, "bob": 1}


def test_the_shared_results_queue_still_takes_answers(grader, store, student):
    student.register()
    store.add_tasks("ada-lovelace", {12: "a12"}, time.time(), published=True)
    assert student.answer(12, fibonacci(12))["points"] == 1


def test_answers_waiting_before_the_grader_starts_are_graded(settings, store, make_student):
    grader, thread = start_grader(settings, store)
    students = [make_student(f"Student {i}") for i in range(3)]
    for one in students:
        one.register()
    stop_grader(grader, thread)
    for one in students:
        store.add_tasks(one.slug, {20: f"t-{one.slug}"}, time.time(), published=True)
        one.send(names.answers_queue(WORKSHOP, one.slug), {"n": 20, "Fn": fibonacci(20), "name": one.name})
    grader, thread = start_grader(settings, store)
    try:
        assert [one.feedback()["points"] for one in students] == [1, 1, 1]
    finally:
        stop_grader(grader, thread)


def test_a_second_grader_reads_the_answers_queue_of_a_student_the_first_one_registered(
        settings, store, make_student, vhost):
    first, first_thread = start_grader(settings, store)
    second, second_thread = start_grader(settings, store)
    try:
        ada = make_student("Ada Lovelace")
        ada.register()
        wait_for_consumers(vhost.url, names.answers_queue(WORKSHOP, "ada-lovelace"), count=2, timeout=15)
    finally:
        stop_grader(first, first_thread)
    try:
        store.add_tasks("ada-lovelace", {25: "a25"}, time.time(), published=True)
        assert ada.answer_to(names.answers_queue(WORKSHOP, "ada-lovelace"), 25, fibonacci(25))["points"] == 1
    finally:
        stop_grader(second, second_thread)


def test_a_backlog_in_one_students_answers_queue_waits_behind_another_students_answer(settings, store,
                                                                                        make_student, vhost):
    """Ordering, not timing: with 5,000 of Mallory's wrong answers waiting in her queue when the
    grader starts, Ada's answer, published after all of them, is answered while most of
    Mallory's are still queued."""
    grader, thread = start_grader(settings, store)
    ada, mallory = make_student("Ada Lovelace"), make_student("Mallory")
    ada.register(), mallory.register()
    stop_grader(grader, thread)
    store.add_tasks("ada-lovelace", {30: "a30"}, time.time(), published=True)
    store.add_tasks("mallory", {30: "m30"}, time.time(), published=True)
    flood = json.dumps({"n": 30, "Fn": 1, "name": "Mallory"}).encode()
    mallory_queue = names.answers_queue(WORKSHOP, "mallory")
    for _ in range(5000):
        mallory.channel.basic_publish("", mallory_queue, flood)
    ada.send(names.answers_queue(WORKSHOP, "ada-lovelace"), {"n": 30, "Fn": fibonacci(30), "name": "Ada Lovelace"})
    grader, thread = start_grader(settings, store)
    try:
        assert ada.feedback()["points"] == 1
        left = mallory.channel.queue_declare(mallory_queue, passive=True).method.message_count
        assert left > 2500, f"only {left} of Mallory's 5,000 were still queued when Ada's answer was graded"
    finally:
        stop_grader(grader, thread)


@pytest.mark.management_stats
def test_an_answers_queue_a_student_holds_exclusively_stops_nobody_else(settings, store, make_student, vhost):
    """The broker refuses everyone else a queue one connection holds exclusively (405): the grader
    then leaves that student's answers queue out and grades everyone else, at start and after,
    on one connection (not reconnecting again and again)."""
    ada, mallory = make_student("Ada Lovelace"), make_student("Mallory")
    mallory.channel.queue_declare(names.answers_queue(WORKSHOP, "mallory"), exclusive=True)  # before registering
    for attempt in ("registering", "starting"):
        grader, thread = start_grader(settings, store)
        try:
            if attempt == "registering":
                assert ada.register()["points"] == 1
                assert mallory.register()["points"] == 1  # the grader's declaration of her queue is refused
                store.add_tasks("ada-lovelace", {20: "a20", 21: "a21"}, time.time(), published=True)
            n = 20 if attempt == "registering" else 21
            assert ada.answer_to(names.answers_queue(WORKSHOP, "ada-lovelace"), n, fibonacci(n))["points"] == 1
            first = wait_until(lambda: grader_connections(vhost), timeout=15, what="the grader's connection to show")
            time.sleep(2.5)  # a grader that reconnects again and again shows another connection by then
            assert grader_connections(vhost) == first, f"the grader keeps reconnecting ({attempt})"
            assert thread.is_alive()
        finally:
            stop_grader(grader, thread)


def grader_connections(vhost) -> set[str]:
    return {c["name"] for c in named_connections(vhost, "workshop-grader")}

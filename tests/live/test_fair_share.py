"""One student who sends answers that score nothing, fast, is slowed down; nobody else is, and
nobody can slow anyone down from scoring."""

import time

from grader.live.checks import fibonacci
from grader.live.fairness import ALLOWANCE
from grader.live.standings import leaderboard

WAIT = 10


def points(store) -> dict[str, int]:
    return {row["slug"]: row["points"] for row in leaderboard(store)}


def test_wrong_answers_past_the_allowance_are_not_graded_and_told_to_slow_down(grader, store, make_student):
    ada, bob = make_student("Ada Lovelace"), make_student("Bob")
    ada.register(), bob.register()
    store.add_tasks("ada-lovelace", {30: "a30"}, time.time(), published=True)
    store.add_tasks("bob", {30: "b30"}, time.time(), published=True)
    for _ in range(ALLOWANCE + 5):
        ada.send("summercamp.results", {"n": 30, "Fn": 1, "name": "Ada Lovelace"})
    replies = [ada.feedback() for _ in range(ALLOWANCE + 1)]  # the wrong ones, then one "slow down" (1/s)
    assert all("F(30) is not" in r["message"] for r in replies[:ALLOWANCE]), replies
    assert replies[ALLOWANCE]["message"].startswith("Slow down"), replies[ALLOWANCE]
    assert (replies[ALLOWANCE]["points"], replies[ALLOWANCE]["total"]) == (0, 1)
    assert bob.answer(30, fibonacci(30))["points"] == 1  # Bob is not slowed down by Ada
    right = ada.answer(30, fibonacci(30))  # a right answer is always graded
    assert (right["points"], right["total"]) == (1, 2), right
    assert points(store) == {"ada-lovelace": 2, "bob": 2}


def test_misses_sent_in_someone_elses_name_never_stop_them_scoring(grader, store, make_student):
    bob, mallory = make_student("Bob"), make_student("Mallory")
    bob.register(), mallory.register()
    store.add_tasks("bob", {30: "b30"}, time.time(), published=True)
    for _ in range(3 * ALLOWANCE):  # wrong answers and registrations signed "Bob"
        mallory.send("summercamp.results", {"n": 30, "Fn": 2, "name": "Bob"}, reply=False)
        mallory.send("name", {"name": "Bob"}, reply=False)
    assert bob.register()["message"].startswith("You are already registered")  # graded, not "slow down"
    assert bob.answer(30, fibonacci(30))["points"] == 1
    assert points(store)["bob"] == 2


def test_correct_answers_never_use_up_the_allowance(grader, store, student):
    student.register()
    store.add_tasks("ada-lovelace", {n: f"t{n}" for n in range(5, 5 + 3 * ALLOWANCE)}, time.time(), published=True)
    for n in range(5, 5 + 3 * ALLOWANCE):
        student.send("summercamp.results", {"n": n, "Fn": fibonacci(n), "name": "Ada Lovelace"})
    replies = [student.feedback() for _ in range(3 * ALLOWANCE)]
    assert all(r["points"] == 1 for r in replies), [r["message"] for r in replies if r["points"] != 1]

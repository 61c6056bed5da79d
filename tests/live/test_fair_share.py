"""One student who sends answers that score nothing, fast, is slowed down; nobody else is."""

import time

from grader.live.checks import fibonacci
from grader.live.fairness import ALLOWANCE
from grader.live.standings import leaderboard

WAIT = 10


def graded_at_least(grader, count: int) -> None:
    deadline = time.monotonic() + WAIT
    while grader.graded < count:
        assert time.monotonic() < deadline, f"the grader graded {grader.graded} of {count} messages in {WAIT} s"
        time.sleep(0.02)


def test_a_student_past_the_allowance_is_not_graded_and_told_to_slow_down_while_others_score(
        grader, store, make_student):
    ada, bob = make_student("Ada Lovelace"), make_student("Bob")
    ada.register(), bob.register()
    store.add_tasks("ada-lovelace", {30: "a30"}, time.time(), published=True)
    store.add_tasks("bob", {30: "b30"}, time.time(), published=True)
    before = grader.graded
    for _ in range(ALLOWANCE + 5):
        ada.send("summercamp.results", {"n": 30, "Fn": 1, "name": "Ada Lovelace"})
    replies = [ada.feedback() for _ in range(ALLOWANCE + 1)]  # the wrong ones, then one "slow down" (1/s)
    assert all("F(30) is not" in r["message"] for r in replies[:ALLOWANCE]), replies
    assert replies[ALLOWANCE]["message"].startswith("Slow down"), replies[ALLOWANCE]
    assert (replies[ALLOWANCE]["points"], replies[ALLOWANCE]["total"]) == (0, 1)

    ada.send("summercamp.results", {"n": 30, "Fn": fibonacci(30), "name": "Ada Lovelace"})
    graded_at_least(grader, before + ALLOWANCE + 6)
    assert bob.answer(30, fibonacci(30))["points"] == 1  # Bob is not slowed down by Ada
    rows = {row["slug"]: row["points"] for row in leaderboard(store)}
    assert rows == {"ada-lovelace": 1, "bob": 2}  # Ada's right answer came while she was slowed down


def test_correct_answers_never_use_up_the_allowance(grader, store, student):
    student.register()
    store.add_tasks("ada-lovelace", {n: f"t{n}" for n in range(5, 5 + 3 * ALLOWANCE)}, time.time(), published=True)
    for n in range(5, 5 + 3 * ALLOWANCE):
        student.send("summercamp.results", {"n": n, "Fn": fibonacci(n), "name": "Ada Lovelace"})
    replies = [student.feedback() for _ in range(3 * ALLOWANCE)]
    assert all(r["points"] == 1 for r in replies), [r["message"] for r in replies if r["points"] != 1]

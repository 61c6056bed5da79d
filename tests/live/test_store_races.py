"""Two graders deciding on the same task at once: the store lets exactly one of them score."""

import json
import time

import pytest

from grader.live.checks import fibonacci
from grader.live.grading import Delivery, grade_batch
from grader.live.standings import leaderboard
from grader.live.store import Store, Transaction


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'race.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_store_url")
    made = Store(url, "summercamp")
    with made.transaction() as tx:
        tx.register("ada", "Ada", time.time())
    made.add_tasks("ada", {30: "task-30"}, time.time())
    yield made
    made.close()


def answer(tag: int) -> Delivery:
    body = json.dumps({"n": 30, "Fn": fibonacci(30), "name": "Ada"}).encode()
    return Delivery("summercamp.results", body, tag=tag, message_id=f"answer-{tag}")


def test_a_task_scored_by_another_grader_meanwhile_is_decided_again(store, monkeypatch):
    solve = Transaction.solve
    raced = []

    def other_grader_first(self, solved, at):
        if not raced:  # just before our write, another grader scores the same task and commits
            raced.append("racing")
            raced[0] = grade_batch(store, [answer(2)])
        return solve(self, solved, at)

    monkeypatch.setattr(Transaction, "solve", other_grader_first)
    [outcome] = grade_batch(store, [answer(1)])
    assert raced[0][0].verdict.points == 1  # the other grader scored it
    assert (outcome.verdict.points, outcome.total) == (0, 2)
    assert "already scored" in outcome.verdict.message
    assert leaderboard(store)[0]["points"] == 2

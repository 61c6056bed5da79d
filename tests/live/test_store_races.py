"""Two graders deciding on the same task at once: the store lets exactly one of them score, and
both report the student's true total."""

import json
import threading
import time

import pytest

from grader.live.checks import fibonacci
from grader.live.envelope import Delivery
from grader.live.grading import grade_batch
from grader.live.standings import leaderboard
from grader.live.store import Store, Transaction

WAIT = 20  # seconds any step of the race may take


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'race.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_store_url")
    made = Store(url, "summercamp")
    with made.transaction() as tx:
        tx.register("ada", "Ada", time.time())
    made.add_tasks("ada", {30: "task-30"}, time.time(), published=True)
    yield made
    made.close()


def answer(tag: int) -> Delivery:
    body = json.dumps({"n": 30, "Fn": fibonacci(30), "name": "Ada"}).encode()
    return Delivery("summercamp.results", body, tag=tag, digest=f"answer-{tag}")


def test_a_task_answered_by_two_graders_at_once_scores_once(store, monkeypatch):
    """Grader A has read the store and is about to write when grader B starts on the same task;
    whichever way the database orders them, one scores and the other says "already scored"."""
    load, apply = Transaction.load, Transaction.apply
    a_loaded, a_may_write, b_loading = threading.Event(), threading.Event(), threading.Event()

    def paused_apply(self, *args, **kwargs):
        if threading.current_thread().name == "grader-a":
            a_loaded.set()
            assert a_may_write.wait(WAIT), "grader B never started"
        return apply(self, *args, **kwargs)

    def announced_load(self, *args, **kwargs):
        if threading.current_thread().name == "grader-b":
            b_loading.set()
        return load(self, *args, **kwargs)

    monkeypatch.setattr(Transaction, "apply", paused_apply)
    monkeypatch.setattr(Transaction, "load", announced_load)
    results = {}
    a = threading.Thread(target=lambda: results.setdefault("a", grade_batch(store, [answer(1)])), name="grader-a")
    b = threading.Thread(target=lambda: results.setdefault("b", grade_batch(store, [answer(2)])), name="grader-b")
    a.start()
    assert a_loaded.wait(WAIT), "grader A did not get to its write"
    b.start()
    assert b_loading.wait(WAIT), "grader B did not start reading"
    a_may_write.set()
    a.join(WAIT), b.join(WAIT)
    assert not a.is_alive() and not b.is_alive(), "a grader is stuck"
    [(first, _)] = [(o, name) for name in "ab" for o in results[name] if o.verdict.points == 1]
    [second] = [o for name in "ab" for o in results[name] if o.verdict.points == 0]
    assert (first.total, second.total) == (2, 2)  # both tell the true total
    assert "already scored" in second.verdict.message
    assert leaderboard(store)[0]["points"] == 2

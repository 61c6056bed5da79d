"""The grader when things go wrong: killed before the ack, connection closed under it."""

import logging
import time

import pytest

from grader import lab
from grader.lab import wait_until
from grader.live.checks import fibonacci
from grader.live.consumer import Grader
from grader.live.dealer import deal
from grader.live.standings import leaderboard
from grader.live.store import count_verdicts
from tests.live.fixtures import named_connections, start_grader, stop_grader


class Killed(Exception):
    """Stands for the grader process dying between the commit and the ack."""


def test_a_grader_killed_after_the_commit_but_before_the_ack_never_scores_twice(settings, store, student,
                                                                              monkeypatch):
    grader, thread = start_grader(settings, store)  # a healthy grader registers the student
    student.register()
    [n] = deal(settings, store, 1)["ada-lovelace"]
    stop_grader(grader, thread)

    def die(self, channel, outcome):
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(Grader, "reply", die)  # the step right after the commit
        doomed, thread = start_grader(settings, store, swallow=Killed)
        student.send("summercamp.results", {"n": n, "Fn": fibonacci(n), "name": "Ada Lovelace"})
        thread.join(timeout=15)
        assert not thread.is_alive(), "the doomed grader did not die"
    assert leaderboard(store)[0]["points"] == 2  # committed: the point is there
    recorded = count_verdicts(store)

    survivor, thread = start_grader(settings, store)  # the broker redelivers the unacked answer
    try:
        feedback = student.feedback()
        assert (feedback["ok"], feedback["points"], feedback["total"]) == (True, 1, 2)  # the same verdict again
        assert leaderboard(store)[0]["points"] == 2
        assert count_verdicts(store) == recorded  # the redelivery was recognised, not graded anew
    finally:
        stop_grader(survivor, thread)


@pytest.mark.management_stats
def test_the_grader_reconnects_when_its_connection_is_closed(grader, store, student, vhost, caplog):
    caplog.set_level(logging.INFO, logger="grader")
    assert student.register()["points"] == 1

    deadline = time.monotonic() + 20
    while True:
        mine = named_connections(vhost, "workshop-grader")
        if mine:
            break
        assert time.monotonic() < deadline, "the grader's connection never showed up in the management API"
        time.sleep(0.2)
    vhost.api.close_connection(mine[0]["name"])

    assert student.register("Grace Hopper")["points"] == 1  # graded by the reconnected grader
    messages = [r.getMessage() for r in caplog.records]
    lost = next(i for i, m in enumerate(messages) if "grader lost its connection" in m and "reconnecting" in m)
    assert any("grader connecting" in m and "attempt 1/" in m for m in messages[lost:])
    assert len(leaderboard(store)) == 2


def test_the_grader_declares_its_queue_again_when_someone_deletes_it(grader, store, student, vhost):
    assert student.register()["points"] == 1
    student.channel.queue_delete("name")  # the broker cancels the grader's consumer
    wait_until(lambda: (lab.queue_state("name") or lab.QueueState("name", 0, 0)).consumers >= 1, timeout=20,
               what="the grader declaring and consuming `name` again")  # counted over AMQP
    assert student.register("Grace Hopper")["points"] == 1

"""Two `workshop grade` processes on one PostgreSQL store, competing for the same queues."""

import json
import os
import random
import re
import signal
import subprocess
import sys
import time

import pika
import pytest

from grader import names
from grader.live.checks import fibonacci
from grader.live.identity import student_id
from grader.live.standings import leaderboard
from grader.live.store import Store, count_verdicts
from tests.live.fixtures import WORKSHOP, wait_for_consumers

STUDENTS, TASKS = 100, 100  # 10,000 tasks
CORRECT, WRONG, REPEATED = range(0, 80), range(80, 90), range(0, 10)  # per student: 80 + 10 + 10 answers
GRADE_TIMEOUT = 180


def grader_process(settings, store_url, log):
    env = dict(os.environ, RABBITMQ_URL=settings.rabbitmq_url)
    return subprocess.Popen([sys.executable, "-m", "grader", "grade", "--store", store_url, "--workshop", WORKSHOP,
                             "--allowance", "0"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)


@pytest.mark.slow
def test_two_graders_on_one_postgres_store_grade_10000_answers_exactly(settings, postgres_store_url, tmp_path):
    store = Store(postgres_store_url, WORKSHOP)
    students = [f"Student {i:03d}" for i in range(STUDENTS)]
    with store.transaction() as tx:
        for name in students:
            tx.register(student_id(name), name, time.time())
    for name in students:
        store.add_tasks(student_id(name), {5 + t: f"task-{t}" for t in range(TASKS)}, time.time(), published=True)

    answers = []
    for name in students:
        answers += [{"n": 5 + t, "Fn": fibonacci(5 + t), "name": name} for t in CORRECT]
        answers += [{"n": 5 + t, "Fn": fibonacci(5 + t) + 1, "name": name} for t in WRONG]
        answers += [{"n": 5 + t, "Fn": str(fibonacci(5 + t)), "name": name} for t in REPEATED]
    random.Random(7).shuffle(answers)
    assert len(answers) == 10_000

    logs = [open(tmp_path / f"grader-{i}.log", "w+") for i in range(2)]
    graders = [grader_process(settings, postgres_store_url, log) for log in logs]
    connection = pika.BlockingConnection(pika.URLParameters(settings.rabbitmq_url))
    channel = connection.channel()
    results = names.results_queue(WORKSHOP)
    try:
        wait_for_consumers(settings.rabbitmq_url, results, count=2, timeout=60)  # both, before the first answer
        for answer in answers:
            channel.basic_publish("", results, json.dumps(answer).encode())

        deadline = time.monotonic() + GRADE_TIMEOUT
        while count_verdicts(store) < len(answers):
            assert all(g.poll() is None for g in graders), "a grader died while grading"
            assert time.monotonic() < deadline, \
                f"{count_verdicts(store)} of {len(answers)} answers graded within {GRADE_TIMEOUT} s"
            time.sleep(0.2)
    finally:
        for grader in graders:
            grader.send_signal(signal.SIGTERM)
        codes = [grader.wait(timeout=30) for grader in graders]
        connection.close()

    assert codes == [0, 0]
    rows = leaderboard(store)
    assert len(rows) == STUDENTS
    assert {row["fibonacci"] for row in rows} == {len(CORRECT)}
    assert sum(row["points"] for row in rows) == STUDENTS * (1 + len(CORRECT))
    assert count_verdicts(store) == len(answers)
    shares = []
    for log in logs:
        log.seek(0)
        shares += [int(n) for n in re.findall(r"grader stopped after (\d+) messages", log.read())]
    assert len(shares) == 2 and sum(shares) == len(answers) and min(shares) > 0, shares
    store.close()

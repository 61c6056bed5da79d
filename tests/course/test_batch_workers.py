"""`workshop autograde` notices when no worker takes its jobs, by the jobs queue's consumers
counted over AMQP: on a broker whose management API keeps no statistics too (CI's RabbitMQ 4),
where the API would count none and the batch would give up on working workers."""

from __future__ import annotations

import time

import pytest

from grader.course import batch
from grader.errors import WorkshopError
from grader.settings import Settings
from tests.course.test_class_autograde import CELL_TIMEOUT, LIMIT, MEMORY_MB, _submission, _write_course

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
HELLO = "01-hello-world"


GRACE = 10.0  # seconds: more than a worker takes to start, less than it takes to grade the class below


@pytest.fixture
def impatient(monkeypatch):
    monkeypatch.setattr(batch, "WORKER_CHECK", 0.2)
    monkeypatch.setattr(batch, "NO_WORKER_GRACE", GRACE)


def test_a_batch_without_any_worker_gives_up_and_says_how_to_start_one(vhost, tmp_path, impatient):
    course = _write_course(tmp_path / "course", {(HELLO, "ada"): _submission(HELLO)})
    with pytest.raises(WorkshopError, match="no worker has taken jobs.*workshop autograde --worker"):
        batch.autograde(Settings.from_env(), course, workers=0, cell_timeout=CELL_TIMEOUT, limit=LIMIT,
                        memory_mb=MEMORY_MB)


def test_a_batch_whose_worker_takes_its_jobs_never_gives_up(vhost, tmp_path, impatient):
    students = ["ada", "bob", "cy", "dee", "eve", "fay"]  # one worker grades them in longer than GRACE
    course = _write_course(tmp_path / "course", {(HELLO, student): _submission(HELLO) for student in students})
    started = time.monotonic()
    rows = batch.autograde(Settings.from_env(), course, workers=1, cell_timeout=CELL_TIMEOUT, limit=LIMIT,
                           memory_mb=MEMORY_MB)
    assert sorted(row.student for row in rows) == students and all(row.status == "graded" for row in rows)
    assert time.monotonic() - started > GRACE, "the batch ended before the grace was over: it proved nothing"

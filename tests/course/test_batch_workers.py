"""`workshop autograde` notices when no worker takes its jobs, by the jobs queue's consumers
counted over AMQP: on a broker whose management API keeps no statistics too (CI's RabbitMQ 4),
where the API would count none and the batch would give up on a working worker."""

from __future__ import annotations

import subprocess
import sys

import pytest

from grader.course import batch, jobs, worker
from grader.errors import WorkshopError
from grader.settings import Settings
from tests.course.test_class_autograde import CELL_TIMEOUT, LIMIT, MEMORY_MB, _submission, _write_course
from tests.live.fixtures import wait_for_consumers

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
HELLO = "01-hello-world"


@pytest.fixture
def impatient(monkeypatch):
    """A batch that gives up at its first look at a jobs queue without consumers."""
    monkeypatch.setattr(batch, "WORKER_CHECK", 0.2)
    monkeypatch.setattr(batch, "NO_WORKER_GRACE", 0.0)


def test_a_batch_without_any_worker_gives_up_and_says_how_to_start_one(vhost, tmp_path, impatient):
    course = _write_course(tmp_path / "course", {(HELLO, "ada"): _submission(HELLO)})
    with pytest.raises(WorkshopError, match="no worker has taken jobs.*workshop autograde --worker"):
        batch.autograde(Settings.from_env(), course, workers=0, cell_timeout=CELL_TIMEOUT, limit=LIMIT,
                        memory_mb=MEMORY_MB)


def test_a_batch_whose_worker_takes_its_jobs_never_gives_up(vhost, tmp_path, impatient):
    """A worker started elsewhere and consuming before the batch begins: every look of the batch
    (five a second) must see it, or the batch gives up at once."""
    students = ["ada", "bob", "cy"]
    course = _write_course(tmp_path / "course", {(HELLO, student): _submission(HELLO) for student in students})
    said = (tmp_path / "worker.log").open("w")
    elsewhere = subprocess.Popen([sys.executable, "-m", "grader", "autograde", "--worker", "--course", str(course)],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=said)
    try:
        wait_for_consumers(vhost.url, jobs.jobs_queue(worker.course_id(course)), timeout=120)
        rows = batch.autograde(Settings.from_env(), course, workers=0, cell_timeout=CELL_TIMEOUT, limit=LIMIT,
                               memory_mb=MEMORY_MB)
        assert elsewhere.wait(timeout=60) == 0  # the batch's end ends it
    finally:
        if elsewhere.poll() is None:
            elsewhere.kill()
            elsewhere.wait()
    assert sorted(row.student for row in rows) == students and all(row.status == "graded" for row in rows)
    said.close()
    log = (tmp_path / "worker.log").read_text()
    assert f"waiting for jobs in {jobs.jobs_queue(worker.course_id(course))}" in log, log  # not silent

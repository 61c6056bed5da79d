"""`workshop autograde` grades a generated class as `nbgrader autograde` would, one by one, but on a
vhost per submission and two workers at a time; nothing a notebook does stops the batch, a worker
killed mid-job loses nothing, and nothing is left on the broker."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import nbformat
import pytest
from sqlalchemy import text

from grader import paths
from grader.course import batch, jobs, processes, record, worker
from grader.settings import Settings
from tests.conftest import make_vhost
from tests.course.autograding import fill, read, source_notebooks, wrong_answers
from tests.live.fixtures import postgres_store_url, wait_for_consumers  # noqa: F401 - a fixture

pytestmark = [pytest.mark.slow, pytest.mark.class_grading, pytest.mark.timeout(420)]
LESSONS = ("01-hello-world", "04-routing")
CELL_TIMEOUT = 4  # seconds: the hanging consumer is interrupted after this
LIMIT = 90.0  # seconds per submission; none of these should need it
MEMORY_MB = 1536

HANG = ("received = []\n"
        "def on_message(ch, method, properties, body):\n"
        "    received.append(body)\n"
        "channel.basic_consume(queue='hello', on_message_callback=on_message, auto_ack=True)\n"
        "channel.start_consuming()  # no stop: blocks forever\n")
CRASH = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)  # the kernel kills itself\n"
FORK = ("import os, time\n"
        "if os.fork() == 0:  # a child that would outlive the kernel\n"
        "    time.sleep(30)\n"
        "    os._exit(0)\n")
EAT = ("hog = []\n"
       "for _ in range(64):  # 16 GB, if nothing stops it\n"
       "    hog.append(b'x' * 2**28)\n")
EXIT = "import sys\nsys.exit('bye')\n"
SHOUT = "print('x' * 3_000_000)  # megabytes of output\n"


def _submission(assignment: str, **kwargs) -> nbformat.NotebookNode:
    (name,) = source_notebooks(assignment)
    return fill(read(paths.NOTEBOOKS / assignment / f"{name}.ipynb"), source_notebooks(assignment)[name], **kwargs)


def _with_code_before(assignment: str, grade_id: str, code: str) -> nbformat.NotebookNode:
    """The course's solutions, with `code` run at the start of solution cell `grade_id`."""
    notebook = _submission(assignment)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = code + cell.source
    return notebook


def _mangled(assignment: str) -> nbformat.NotebookNode:
    """Cells deleted, split and reordered, and a kernel that does not exist."""
    notebook = _submission(assignment)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in notebook.cells]
    exchange, bind = notebook.cells[ids.index("exchange")], notebook.cells[ids.index("bind")]
    lines = bind.source.splitlines(keepends=True)
    second = nbformat.v4.new_code_cell("".join(lines[len(lines) // 2:]))
    bind.source = "".join(lines[:len(lines) // 2])
    notebook.cells.insert(ids.index("bind") + 1, second)
    notebook.cells.remove(exchange)
    notebook.cells.insert(len(notebook.cells) - 1, exchange)  # the exchange declared near the end
    notebook.cells = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "check-emit"]
    notebook.metadata["kernelspec"] = {"name": "no-such-kernel", "display_name": "Nope", "language": "python"}
    return notebook


def the_class() -> dict[tuple[str, str], nbformat.NotebookNode | str]:
    """(assignment, student) -> the notebook handed in (a string: a damaged file)."""
    hello, routing = LESSONS
    return {
        (hello, "correct"): _submission(hello),
        (hello, "partly"): _submission(hello, answers=wrong_answers(hello)[0].cells),
        (hello, "blank"): _submission(hello, blank=True),
        (hello, "hanging"): _submission(hello, answers={"consume": HANG}),
        (hello, "crashing"): _with_code_before(hello, "close", CRASH),
        (hello, "exiting"): _with_code_before(hello, "declare", SHOUT + EXIT),
        (hello, "damaged"): '{"cells": [{"cell_type": "code", "sour',
        (routing, "correct"): _submission(routing),
        (routing, "mangled"): _mangled(routing),
        (routing, "forking"): _with_code_before(routing, "exchange", FORK),
        (routing, "eating"): _with_code_before(routing, "emit", EAT),
    }


def _write_course(root: Path, submissions) -> Path:
    root.mkdir(parents=True)
    shutil.copy2(paths.COURSE / "nbgrader_config.py", root)
    for assignment in LESSONS:
        shutil.copytree(paths.COURSE / "source" / assignment, root / "source" / assignment)
    for (assignment, student), notebook in submissions.items():
        folder = root / "submitted" / student / assignment
        folder.mkdir(parents=True)
        target = folder / f"{assignment}.ipynb"
        if isinstance(notebook, str):
            target.write_text(notebook)
        else:
            nbformat.write(notebook, target)
    return root


def scores(db_url: str) -> dict[tuple[str, str], dict[str, float]]:
    """(assignment, student) -> points per graded cell, and the total, as the gradebook holds them."""
    found = {}
    with record.gradebook(db_url) as book:
        for assignment in book.assignments:
            for submission in assignment.submissions:
                points = {f"{n.name}:{g.name}": g.score for n in submission.notebooks for g in n.grades}
                points["total"] = submission.score
                found[(assignment.name, submission.student.id)] = points
    return found


def _baseline(root: str, urls: dict, management_url: str) -> dict:
    """In a process of its own, capped like the sandbox: nbgrader's autograde, one submission after
    another, each with its own RABBITMQ_URL; the gradebook's scores."""
    from grader.course import generate, nbgrader_api
    from grader.course import processes as procs

    procs.limit_resources(MEMORY_MB)
    procs.become_subreaper()
    root = Path(root)
    api = nbgrader_api(root, root)
    api.config.Execute.timeout = CELL_TIMEOUT
    for assignment in LESSONS:
        generate(api, assignment)
    os.environ["RABBITMQ_MANAGEMENT_URL"] = management_url
    for key, url in urls.items():
        assignment, student = key.split("/")
        os.environ["RABBITMQ_URL"] = url
        api.autograde(assignment, student)  # a failure leaves what nbgrader leaves, as on the command line
    procs.kill_descendants()  # the forking notebook's child
    return {"/".join(k): v for k, v in scores(f"sqlite:///{root / 'gradebook.db'}").items()}


def sequential_scores(broker, root: Path, submissions) -> dict:
    vhosts = {f"{a}/{s}": make_vhost(broker, f"test-baseline-{uuid.uuid4().hex[:8]}") for a, s in submissions}
    try:
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            found = pool.apply(_baseline, (str(root), {k: v.url for k, v in vhosts.items()}, broker.management_url))
    finally:
        for made in vhosts.values():
            made.api.delete_vhost(made.name)
    return {tuple(k.split("/")): v for k, v in found.items()}


def left_on_broker(vhost, batch: str) -> list[str]:
    prefix = jobs.run_prefix(batch)
    left = [f"vhost {v['name']}" for v in vhost.api.get("vhosts") if v["name"].startswith(prefix)]
    left += [f"user {u['name']}" for u in vhost.api.get("users") if u["name"].startswith(prefix)]
    return left + [f"queue {q['name']}" for q in vhost.api.queues(vhost.name)]


def test_a_class_graded_by_two_workers_scores_as_nbgrader_one_by_one_and_leaves_nothing(vhost, broker, tmp_path):
    submissions = the_class()
    course = _write_course(tmp_path / "course", submissions)
    baseline = sequential_scores(broker, _write_course(tmp_path / "baseline", submissions), submissions)
    started = {}
    rows = batch.autograde(Settings.from_env(), course, workers=2, cell_timeout=CELL_TIMEOUT, limit=LIMIT,
                               memory_mb=MEMORY_MB, on_start=lambda total, workers, batch: started.update(batch=batch))

    assert {(r.assignment, r.student) for r in rows} == set(submissions)
    graded = scores(record.default_url(course))
    assert graded == baseline
    by = {(r.assignment, r.student): r for r in rows}
    assert by[("01-hello-world", "correct")].score == by[("01-hello-world", "correct")].max_score
    assert 0 < by[("01-hello-world", "partly")].score < by[("01-hello-world", "partly")].max_score
    assert by[("01-hello-world", "damaged")].status == "failed"
    assert "JSON" in by[("01-hello-world", "damaged")].reason
    assert by[("01-hello-world", "crashing")].status == "failed"
    assert "kernel died" in by[("01-hello-world", "crashing")].reason
    for student in ("hanging", "eating", "forking", "mangled", "exiting"):
        row = next(r for r in rows if r.student == student)
        assert row.status == "graded", row
    assert by[("04-routing", "forking")].score == by[("04-routing", "forking")].max_score
    assert (course / "autograded" / "correct" / "04-routing" / "04-routing.ipynb").is_file()
    assert left_on_broker(vhost, started["batch"]) == []


def test_a_worker_killed_mid_job_loses_nothing_and_counts_nothing_twice(vhost, tmp_path):
    hello, routing = LESSONS
    submissions = {(hello, "ada"): _submission(hello), (hello, "bob"): _submission(hello),
                   (routing, "cy"): _submission(routing), (hello, "dee"): _submission(hello, blank=True)}
    course = _write_course(tmp_path / "course", submissions)
    killed, started = threading.Event(), {}

    def kill_one_mid_job(total, workers, batch):
        started.update(batch=batch, workers=workers, first=workers[0])
        threading.Thread(target=_kill_when_busy, args=(workers[0], killed), daemon=True).start()

    # one local worker: the batch can only end if the killed worker is started again
    rows = batch.autograde(Settings.from_env(), course, workers=1, cell_timeout=CELL_TIMEOUT, limit=LIMIT,
                           memory_mb=MEMORY_MB, on_start=kill_one_mid_job)

    assert killed.is_set(), "the worker never started a job within 120 s, so it was not killed"
    assert started["workers"][0] is not started["first"], "the killed worker was not started again"
    assert sorted((r.assignment, r.student) for r in rows) == sorted(submissions)
    assert all(r.status == "graded" for r in rows), rows
    with record.gradebook(record.default_url(course)) as book:
        recorded = book.db.execute(text(f"SELECT assignment, student FROM {record.JOBS_TABLE}")).all()
    assert sorted(map(tuple, recorded)) == sorted(submissions)  # each once
    graded = scores(record.default_url(course))
    assert graded[(hello, "ada")]["total"] == graded[(hello, "bob")]["total"] == 7
    assert graded[(hello, "dee")]["total"] == 0
    assert left_on_broker(vhost, started["batch"]) == []


def test_workers_started_elsewhere_share_a_batch_over_the_broker_and_a_postgresql_gradebook(
        vhost, tmp_path, postgres_store_url):  # noqa: F811 - the fixture
    """As on two other machines: `workshop autograde --worker` twice, then a batch with no local
    worker; both take jobs, every submission is recorded once in PostgreSQL, and both end with it."""
    hello, routing = LESSONS
    submissions = {(hello, "ada"): _submission(hello), (routing, "ada"): _submission(routing),
                   (hello, "bob"): _submission(hello, blank=True), (routing, "cy"): _submission(routing),
                   (hello, "dee"): _submission(hello, answers=wrong_answers(hello)[0].cells)}
    course = _write_course(tmp_path / "course", submissions)
    elsewhere = []
    for i in range(2):
        log = (tmp_path / f"worker-{i}.log").open("wb")
        elsewhere.append(subprocess.Popen(
            [sys.executable, "-m", "grader", "autograde", "--worker", "--course", str(course),
             "--gradebook", postgres_store_url], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT))
    try:
        wait_for_consumers(vhost.url, jobs.jobs_queue(worker.course_id(course)), count=2, timeout=120)
        rows = batch.autograde(Settings.from_env(), course, workers=0, gradebook_url=postgres_store_url,
                               cell_timeout=CELL_TIMEOUT, limit=LIMIT, memory_mb=MEMORY_MB)
        codes = [process.wait(timeout=60) for process in elsewhere]  # the batch's end ends them
    finally:
        for process in elsewhere:
            if process.poll() is None:
                process.kill()
                process.wait()
    logs = "\n".join(p.read_text(errors="replace") for p in sorted(tmp_path.glob("worker-*.log")))
    assert codes == [0, 0], logs
    assert sorted((r.assignment, r.student) for r in rows) == sorted(submissions)
    assert all(r.status == "graded" for r in rows), rows
    assert {r.worker for r in rows} == {f"{socket.gethostname()}-{p.pid}" for p in elsewhere}, rows
    with record.gradebook(postgres_store_url) as book:
        recorded = book.db.execute(text(f"SELECT assignment, student FROM {record.JOBS_TABLE}")).all()
    assert sorted(map(tuple, recorded)) == sorted(submissions)  # each once
    graded = scores(postgres_store_url)
    assert graded[(hello, "ada")]["total"] == 7
    assert graded[(routing, "ada")]["total"] == graded[(routing, "cy")]["total"] > 0
    assert graded[(hello, "bob")]["total"] == 0
    assert 0 < graded[(hello, "dee")]["total"] < 7
    assert not (course / "gradebook.db").exists(), "the batch wrote into a SQLite gradebook too"


def _kill_when_busy(worker, killed: threading.Event, timeout: float = 120) -> None:
    """SIGKILL `worker` once it grades something (it has a sandbox below it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and worker.poll() is None:
        if processes.descendants(worker.pid):
            time.sleep(1.0)  # well inside the job
            worker.send_signal(signal.SIGKILL)
            killed.set()
            return
        time.sleep(0.1)


def test_a_job_that_is_not_json_is_refused_with_its_reason():
    with pytest.raises(jobs.JobError, match="not a grading job"):
        jobs.Job.decode(b"{nope")
    with pytest.raises(jobs.JobError, match="version"):
        jobs.Job.decode(json.dumps({"version": 2}).encode())

"""`workshop autograde`: every submission of a course graded by nbgrader, several at a time, over RabbitMQ.

The batch publishes one job per submission (grader/course/jobs.py), starts local workers (again, if one dies)
(grader/course/worker.py; `workshop autograde --worker` elsewhere joins in), and reads the results
and the dead letters until every job is accounted for, once each. It writes the graded notebooks
into `autograded/` as nbgrader does, and returns a row per submission: graded, or failed with the
reason. At the end, whatever happened, it deletes its queues (which also tells the workers the batch
is over) and every vhost and user a run of this batch made and could not remove itself.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader import broker
from grader.course import jobs, record
from grader.course.worker import course_id
from grader.errors import CourseError, WorkshopError
from grader.management import Management
from grader.settings import Settings

log = logging.getLogger(__name__)
CELL_TIMEOUT = 20  # seconds, as course/nbgrader_config.py
LIMIT = 300.0  # seconds per submission, all cells together
MEMORY_MB = 2048  # address space of the grading process and of its kernel, each
NO_WORKER_GRACE = 60.0  # seconds without any consumer on the jobs queue before the batch gives up
WORKER_CHECK = 5.0  # seconds between two looks at the jobs queue's consumers
RESTARTS = 3  # per local worker: one that died is started again (its job is redone by whoever takes it)


@dataclass(frozen=True)
class Row:
    assignment: str
    student: str
    status: str  # "graded" or "failed"
    reason: str
    seconds: float
    score: float | None
    max_score: float | None
    worker: str


def submissions(course_dir: Path, assignments: list[str] | None = None) -> list[tuple[str, str, Path]]:
    """(assignment, student, folder) for every `submitted/<student>/<assignment>/` of the course."""
    submitted = course_dir / "submitted"
    found = []
    for folder in sorted(submitted.glob("*/*")) if submitted.is_dir() else ():
        student, assignment = folder.parent.name, folder.name
        if folder.is_dir() and not student.startswith(".") and (not assignments or assignment in assignments):
            found.append((assignment, student, folder))
    return sorted(found)


def autograde(settings: Settings, course_dir: Path, assignments: list[str] | None = None, *,
              workers: int | None = None, gradebook_url: str | None = None, cell_timeout: int = CELL_TIMEOUT,
              limit: float = LIMIT, memory_mb: int = MEMORY_MB, on_start: Callable | None = None,
              on_row: Callable[[Row, int, int], None] | None = None) -> list[Row]:
    """Grade every submission of `course_dir` (only `assignments`, if given). `workers` local worker
    processes (default: one per CPU; 0: only workers started elsewhere). `on_start(total, processes,
    batch)` is called once the jobs are published, `on_row(row, done, total)` for each submission accounted
    for. Returns the rows in (assignment, student) order."""
    course_dir = course_dir.resolve()
    gradebook_url = gradebook_url or record.default_url(course_dir)
    found = submissions(course_dir, assignments)
    unknown = sorted({a for a, _, _ in found} - {p.name for p in (course_dir / "source").iterdir()})
    if unknown:
        raise CourseError(f"submissions of {', '.join(unknown)}, which {course_dir / 'source'} does not have")
    if not found:
        return []
    record.ensure_assignments(gradebook_url, course_dir, sorted({a for a, _, _ in found}))
    course = course_id(course_dir)
    batch = jobs.new_batch()
    work = {jobs.job_id(batch, a, s): jobs.Job(batch, a, s, jobs.pack_files(folder), cell_timeout, limit, memory_mb)
            for a, s, folder in found}
    connection = broker.connect(settings.rabbitmq_url, heartbeat=60, name=f"workshop-autograde-{batch}")
    local: list[subprocess.Popen] = []
    logs = Path(tempfile.mkdtemp(prefix="workshop-autograde-logs-"))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        jobs.declare_queues(channel, course)
        for job in work.values():
            jobs.publish(channel, jobs.jobs_queue(course), job.encode())
        count = (os.cpu_count() or 1) if workers is None else workers
        local = [_start_worker(settings, course_dir, gradebook_url, logs / f"worker-{i}.log") for i in range(count)]
        if on_start:
            on_start(len(work), local, batch)
        restarts = [0] * count

        def tend() -> None:  # a local worker that died (killed, out of memory) is started again
            for i, process in enumerate(local):
                if process.poll() is not None and restarts[i] < RESTARTS:
                    restarts[i] += 1
                    log.warning("local worker %d stopped (exit %s: %s); starting it again (%d/%d)", i,
                                process.returncode, _last_line(logs / f"worker-{i}.log"), restarts[i], RESTARTS)
                    local[i] = _start_worker(settings, course_dir, gradebook_url, logs / f"worker-{i}.log")

        rows = _collect(connection, channel, course, batch, work, course_dir, on_row, tend)
    finally:
        _end_batch(connection, course, settings, batch, local)
        shutil.rmtree(logs, ignore_errors=True)
    return [rows[key] for key in sorted(rows, key=lambda k: (work[k].assignment, work[k].student))]


def _start_worker(settings: Settings, course_dir: Path, gradebook_url: str, log_file: Path) -> subprocess.Popen:
    env = {**os.environ, "RABBITMQ_URL": settings.rabbitmq_url, "RABBITMQ_MANAGEMENT_URL": settings.management_url}
    with log_file.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "grader", "autograde", "--worker", "--course", str(course_dir),
                                 "--gradebook", gradebook_url], env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT)


def _last_line(log_file: Path) -> str:
    try:
        lines = log_file.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return lines[-1][:300] if lines else "no output"


def _collect(connection, channel, course: str, batch: str, work: dict[str, jobs.Job], course_dir: Path,
             on_row, tend: Callable[[], None]) -> dict[str, Row]:
    rows: dict[str, Row] = {}
    idle_since = None
    queues = {jobs.results_queue(course): _from_result, jobs.failed_queue(course): _from_dead_letter}
    results = jobs.results_queue(course)
    last_check = time.monotonic()
    while len(rows) < len(work):
        for queue, read in queues.items():
            while True:
                method, properties, body = channel.basic_get(queue)
                if method is None:
                    break
                row, files = read(properties, body, batch, work)
                if row and (queue == results or _key(row, batch) not in rows):  # a result says more
                    key = _key(row, batch)
                    new = key not in rows
                    rows[key] = row
                    _write_autograded(course_dir, row, files)
                    if new and on_row:
                        on_row(row, len(rows), len(work))
                channel.basic_ack(method.delivery_tag)
        connection.process_data_events(time_limit=0.3)
        if len(rows) < len(work):
            tend()
        if time.monotonic() - last_check > WORKER_CHECK:
            last_check = time.monotonic()
            # over AMQP: a broker whose management API keeps no statistics counts no consumers there
            consumers = channel.queue_declare(jobs.jobs_queue(course), passive=True).method.consumer_count
            idle_since = None if consumers else (idle_since or time.monotonic())
            if idle_since and time.monotonic() - idle_since > NO_WORKER_GRACE:
                raise CourseError(f"no worker has taken jobs from {jobs.jobs_queue(course)} for {NO_WORKER_GRACE:g} s "
                                  f"({len(work) - len(rows)} submissions left); start `workshop autograde --worker`")
    return rows


def _key(row: Row, batch: str) -> str:
    return jobs.job_id(batch, row.assignment, row.student)


def _from_result(properties, body: bytes, batch: str, work) -> tuple[Row | None, dict]:
    try:
        result = jobs.Result.decode(body)
    except jobs.JobError:
        return None, {}
    if result.batch != batch or result.job not in work:
        return None, {}  # left by an earlier batch that ended badly
    return Row(result.assignment, result.student, result.status, result.reason, result.seconds, result.score,
               result.max_score, result.worker), result.autograded


def _from_dead_letter(properties, body: bytes, batch: str, work) -> tuple[Row | None, dict]:
    try:
        job = jobs.Job.decode(body)
    except jobs.JobError:
        return None, {}
    if job.batch != batch or job.id not in work:
        return None, {}
    headers = properties.headers or {}
    reason = headers.get(jobs.REASON_HEADER)
    if reason is None:  # dead-lettered by the broker itself
        deaths = headers.get("x-death") or [{}]
        reason = f"every worker that took it stopped before finishing ({deaths[0].get('reason', 'delivery_limit')}, " \
                 f"{jobs.DELIVERY_LIMIT} tries)"
    return Row(job.assignment, job.student, "failed", str(reason), 0.0, None, None, ""), {}


def _write_autograded(course_dir: Path, row: Row, files: dict[str, str]) -> None:
    """nbgrader's `autograded/<student>/<assignment>/`: the graded notebooks, or nothing for a failure."""
    folder = course_dir / "autograded" / row.student / row.assignment
    if files or row.status != "graded":
        shutil.rmtree(folder, ignore_errors=True)
    if files:
        jobs.unpack_files(files, folder)


def _end_batch(connection, course: str, settings: Settings, batch: str, local: list[subprocess.Popen]) -> None:
    _delete_queues(connection, course)  # the workers' consumers are cancelled: they end
    for process in local:
        process.terminate()  # idle now (every job is accounted for); one still starting ends at once
    for process in local:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    _delete_queues(connection, course)  # again: a worker started just before the end may have declared them
    if connection.is_open:
        connection.close()
    clean_runs(settings, batch)


def _delete_queues(connection, course: str) -> None:
    try:
        if connection.is_open:
            jobs.delete_queues(connection.channel(), course)
    except Exception:  # noqa: BLE001 - the broker went away; the queues are then its to keep
        pass


def clean_runs(settings: Settings, batch: str) -> list[str]:
    """Delete every vhost and user of this batch's runs still on the broker (a worker killed mid-job
    leaves its own behind). Returns what it removed."""
    management = Management.from_settings(settings, timeout=30)
    prefix = jobs.run_prefix(batch)
    removed = []
    try:
        for user in management.get("users") or []:
            if user["name"].startswith(prefix):
                management.delete_user(user["name"])
                removed.append(f"user {user['name']}")
        for vhost in management.get("vhosts") or []:
            if vhost["name"].startswith(prefix):
                management.delete_vhost(vhost["name"])
                removed.append(f"vhost {vhost['name']}")
    except WorkshopError:
        pass
    return removed

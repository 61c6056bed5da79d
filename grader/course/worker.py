"""`workshop autograde --worker`: take grading jobs from the broker one at a time, until the batch ends.

For each job: a fresh vhost and a broker user made for this run alone (management API), the
submission graded in a sandbox (grader/course/sandbox.py) whose kernel sees only that account's
RABBITMQ_URL, the scores copied into the course's gradebook (grader/course/record.py), the result
announced, and only then the ack. The vhost and the user are deleted whatever happened. A worker
asked to stop (SIGTERM, Ctrl+C) finishes the job it holds first; one killed outright leaves its job
unacked, and the broker hands it to another worker.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import secrets
import shutil
import socket
import tempfile
import threading
from pathlib import Path

from grader import broker
from grader.course import jobs, processes, record, sandbox
from grader.course.nbgrader import load_config
from grader.errors import CourseError, WorkshopError
from grader.management import Management
from grader.settings import AmqpAddress, Settings

log = logging.getLogger(__name__)
RUN_TAGS = "management"  # the checks read the run's own vhost through the management API
CLEARED_ENVIRONMENT = ("RABBITMQ_URL", "RABBITMQ_MANAGEMENT_URL", "WORKSHOP_LIVE_URL", "WORKSHOP_STUDENT")


def course_id(course_dir: Path) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        return load_config(course_dir, Path(tmp)).CourseDirectory.course_id or "course"


class Worker:
    def __init__(self, settings: Settings, course_dir: Path, gradebook_url: str, *, name: str | None = None):
        self.settings = settings
        self.course_dir = course_dir
        self.gradebook_url = gradebook_url
        self.course = course_id(course_dir)
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self.stopping = threading.Event()
        self.management = Management.from_settings(settings, timeout=30)
        self.scratch = Path(tempfile.mkdtemp(prefix="workshop-autograde-"))
        self.templates: dict[str, Path] = {}
        self.done = 0

    def run(self) -> int:
        """Grade jobs until the jobs queue is deleted (the batch is over) or `stop()`; returns how
        many this worker recorded."""
        processes.become_subreaper()
        _preload()
        connection = broker.connect(self.settings.rabbitmq_url, heartbeat=60, name=f"workshop-autograde-{self.name}")
        try:
            channel = connection.channel()
            channel.confirm_delivery()
            jobs.declare_queues(channel, self.course)
            channel.basic_qos(prefetch_count=1)
            log.info("worker %s waiting for jobs in %s on %s (Ctrl+C to stop)", self.name, jobs.jobs_queue(self.course),
                     AmqpAddress.parse(self.settings.rabbitmq_url).url(password=False))
            for method, properties, body in channel.consume(jobs.jobs_queue(self.course), inactivity_timeout=1):
                if self.stopping.is_set():
                    break
                if method is None:
                    continue
                self.handle(connection, channel, method, properties, body)
        finally:
            if connection.is_open:
                connection.close()
            shutil.rmtree(self.scratch, ignore_errors=True)
        return self.done

    def stop(self) -> None:
        self.stopping.set()

    def handle(self, connection, channel, method, properties, body: bytes) -> None:
        try:
            job = jobs.Job.decode(body)
        except jobs.JobError as exc:
            log.warning("dead-lettering a message that is not a job: %s", exc)
            self._dead_letter(channel, body, str(exc))
            channel.basic_ack(method.delivery_tag)
            return
        earlier = record.recorded(self.gradebook_url, job.id)
        if earlier:  # a redo after a worker died between the commit and the ack
            log.info("job %s (%s, %s) was recorded before: announcing it again", job.id, job.assignment, job.student)
            self._announce(channel, job, earlier, {}, body)
        else:
            try:
                self._grade(connection, channel, job, body)
            except WorkshopError as exc:  # the broker's management API or the gradebook: try again later
                if isinstance(exc, CourseError):
                    raise
                log.warning("giving job %s back (%s); another worker, or this one, tries again", job.id, exc)
                channel.basic_nack(method.delivery_tag, requeue=True)
                self.stopping.wait(2)
                return
        channel.basic_ack(method.delivery_tag)
        self.done += 1

    def _grade(self, connection, channel, job: jobs.Job, body: bytes) -> None:
        log.info("grading %s for %s", job.assignment, job.student)
        run = jobs.run_name(job.batch)
        root = self.scratch / run
        url = self._make_account(run)  # a broker that refuses: the job goes back to the queue
        try:
            sandbox.job_root(self._template(job.assignment), job.assignment, job.student, job.files, root)
            outcome = sandbox.run(root, job.assignment, job.student, env=self._environment(url),
                                  cell_timeout=job.cell_timeout, limit=job.limit, memory_mb=job.memory_mb,
                                  keep_alive=lambda: connection.process_data_events(time_limit=0))
            status, reason, seconds = ("graded" if outcome.success else "failed"), outcome.reason, outcome.seconds
        except (CourseError, jobs.JobError, OSError) as exc:
            status, reason, seconds = "failed", f"could not grade: {exc}", 0.0
        finally:
            self._remove_account(run)
        private = root / "gradebook.db"
        kept = record.record(self.gradebook_url, private if private.exists() else None, job=job.id, assignment=job.assignment,
                             student=job.student, status=status, reason=reason, seconds=seconds)
        graded = root / "autograded" / job.student / job.assignment
        try:
            files = jobs.pack_files(graded) if graded.is_dir() else {}
        except jobs.JobError as exc:
            log.warning("not sending the graded notebooks of %s: %s", job.student, exc)
            files = {}
        self._announce(channel, job, kept, files, body)
        shutil.rmtree(root, ignore_errors=True)

    def _announce(self, channel, job: jobs.Job, kept: record.Recorded, files: dict, body: bytes) -> None:
        result = jobs.Result(batch=job.batch, job=job.id, assignment=job.assignment, student=job.student,
                             status=kept.status, reason=kept.reason, seconds=kept.seconds, score=kept.score,
                             max_score=kept.max_score, worker=self.name, autograded=files)
        if kept.status != "graded":
            self._dead_letter(channel, body, kept.reason)
        jobs.publish(channel, jobs.results_queue(self.course), result.encode())

    def _dead_letter(self, channel, body: bytes, reason: str) -> None:
        jobs.publish(channel, jobs.failed_queue(self.course), body, headers={jobs.REASON_HEADER: reason[:1000]})

    # -- the run's own vhost and user ---------------------------------------------------------------

    def _make_account(self, run: str) -> str:
        """A vhost and a user of the same name, the user allowed there only; its AMQP URL."""
        password = secrets.token_urlsafe(16)
        self.management.put_vhost(run, description=f"workshop autograde run on {self.name}")
        self.management.put_user(run, password, tags=RUN_TAGS)
        self.management.grant(run, run)
        return dataclasses.replace(self.settings.amqp, user=run, password=password, vhost=run).url()

    def _remove_account(self, run: str) -> None:
        try:
            self.management.delete_user(run)
            self.management.delete_vhost(run)
        except WorkshopError as exc:  # the batch's janitor removes it at the end
            log.warning("could not remove the run's vhost and user %s: %s", run, exc)

    def _template(self, assignment: str) -> Path:
        if assignment not in self.templates:
            if not (self.course_dir / "source" / assignment).is_dir():
                raise CourseError(f"no assignment {assignment!r} in {self.course_dir / 'source'} on {self.name}")
            self.templates[assignment] = sandbox.prepare_template(self.course_dir, assignment,
                                                                  self.scratch / f"template-{assignment}")
        return self.templates[assignment]

    def _environment(self, url: str) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if key not in CLEARED_ENVIRONMENT}
        env["RABBITMQ_URL"] = url
        env["RABBITMQ_MANAGEMENT_URL"] = self.settings.management_base
        return env


def _preload() -> None:
    """What every sandbox needs, imported once here: each is forked from this process."""
    import nbclient  # noqa: F401
    import nbgrader.apps.autogradeapp  # noqa: F401
    import nbgrader.converters  # noqa: F401
    import nbgrader.preprocessors  # noqa: F401

    record.quick_schema_version()

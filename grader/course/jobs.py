"""The grading jobs of `workshop autograde`: their names on the broker, and the messages themselves.

A job is one submission (a student's folder `submitted/<student>/<assignment>/`) carried whole in
a persistent message on the durable quorum queue `autograde.<course>.jobs`, the course's lessons 2
and 8 at class scale: workers take one at a time (`prefetch_count=1`), ack only after the scores
are committed to the gradebook, and a job handed out `DELIVERY_LIMIT` times without an ack (every
worker that took it died) is dead-lettered by the broker into `autograde.<course>.failed`.
A job that was graded, or could not be (a broken notebook, the time limit), is recorded in the
gradebook and announced on `autograde.<course>.results`; a failed one also goes to the failed
queue with its reason in the `x-failure-reason` header.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pika

DELIVERY_LIMIT = 3  # a job whose worker died this many times is dead-lettered
MAX_FILES_BYTES = 32 * 2**20  # a submission (or its graded copy) larger than this is not carried
REASON_HEADER = "x-failure-reason"


class JobError(ValueError):
    """A message that is not a job this version understands; `str()` says why."""


# -- names, from one place ------------------------------------------------------------------------

def jobs_queue(course_id: str) -> str:
    return f"autograde.{course_id}.jobs"


def failed_queue(course_id: str) -> str:
    return f"autograde.{course_id}.failed"


def results_queue(course_id: str) -> str:
    return f"autograde.{course_id}.results"


def run_prefix(batch: str) -> str:
    """Every vhost and user made for one run of a batch starts with this (the janitor's key)."""
    return f"autograde-{batch}-"


def run_name(batch: str) -> str:
    """A fresh vhost and user name for one run of one job: never reused, even by a redo."""
    return f"{run_prefix(batch)}{secrets.token_hex(4)}"


def new_batch() -> str:
    return secrets.token_hex(4)


def job_id(batch: str, assignment: str, student: str) -> str:
    return hashlib.sha256(f"{batch}\0{assignment}\0{student}".encode()).hexdigest()[:16]


def declare_queues(channel, course_id: str) -> None:
    """The three queues of a course's batches (idempotent: workers and the batch both call it)."""
    failed = failed_queue(course_id)
    for name in (failed, results_queue(course_id)):
        channel.queue_declare(name, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_declare(jobs_queue(course_id), durable=True, arguments={
        "x-queue-type": "quorum", "x-delivery-limit": DELIVERY_LIMIT,
        "x-dead-letter-exchange": "", "x-dead-letter-routing-key": failed})


def delete_queues(channel, course_id: str) -> None:
    for name in (jobs_queue(course_id), failed_queue(course_id), results_queue(course_id)):
        channel.queue_delete(name)


# -- the messages ---------------------------------------------------------------------------------

def pack_files(folder: Path) -> dict[str, str]:
    """Every file under `folder`, relative path -> base64 of its bytes."""
    files, size = {}, 0
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        size += len(data)
        if size > MAX_FILES_BYTES:
            raise JobError(f"{folder} holds more than {MAX_FILES_BYTES // 2**20} MB")
        files[path.relative_to(folder).as_posix()] = base64.b64encode(data).decode()
    return files


def unpack_files(files: dict[str, str], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        target = (folder / name).resolve()
        if folder.resolve() not in target.parents:
            raise JobError(f"a file name leaves its folder: {name!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(data))


@dataclass(frozen=True)
class Job:
    batch: str
    assignment: str
    student: str
    files: dict[str, str]  # the submission folder, as pack_files gives it
    cell_timeout: int
    limit: float
    memory_mb: int

    @property
    def id(self) -> str:
        return job_id(self.batch, self.assignment, self.student)

    def encode(self) -> bytes:
        return json.dumps({"version": 1, **asdict(self)}).encode()

    @classmethod
    def decode(cls, body: bytes) -> Job:
        try:
            data = json.loads(body)
            if data.pop("version") != 1:
                raise JobError(f"a job of version {data.get('version')!r}; this worker reads version 1")
            return cls(**data)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise JobError(f"not a grading job ({type(exc).__name__}: {exc})") from exc


@dataclass(frozen=True)
class Result:
    """What a worker says after recording a job: graded, or failed with the reason."""

    batch: str
    job: str
    assignment: str
    student: str
    status: str  # "graded" or "failed"
    reason: str = ""
    seconds: float = 0.0
    score: float | None = None
    max_score: float | None = None
    worker: str = ""
    autograded: dict[str, str] = field(default_factory=dict)  # the graded folder, as pack_files gives it

    def encode(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def decode(cls, body: bytes) -> Result:
        try:
            return cls(**json.loads(body))
        except (ValueError, TypeError) as exc:
            raise JobError(f"not a grading result ({exc})") from exc


def publish(channel, queue: str, body: bytes, headers: dict | None = None) -> None:
    """Through the default exchange, persistent; the channel is in confirm mode, so a return means
    the broker has it."""
    properties = pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent,
                                      content_type="application/json", headers=headers)
    channel.basic_publish("", queue, body, properties=properties, mandatory=True)

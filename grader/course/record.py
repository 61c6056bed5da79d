"""The course's gradebook (nbgrader's own database, SQLite or PostgreSQL): what a job's run of
nbgrader wrote into its private gradebook is copied into it, once per job.

The copy writes the same rows and values as `nbgrader autograde` run on the course itself would
(the student, the submission and its timestamp, each grade's auto_score and needs_manual_grade,
each comment's auto_comment, the late penalty), and a row of our own in `workshop_autograde_jobs`
keyed on the job id, committed last. A job redone after its worker died therefore finds its row
and changes nothing: a submission is never counted twice, and a redo that ran against a broken
vhost never overwrites the first run's scores.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from grader.course.nbgrader import copy_course, generate

log = logging.getLogger(__name__)
JOBS_TABLE = "workshop_autograde_jobs"
LOCKED_ATTEMPTS = 20  # SQLite answers "database is locked" while another worker commits


@dataclass(frozen=True)
class Recorded:
    status: str
    reason: str
    seconds: float
    score: float | None
    max_score: float | None


def database_url(url: str) -> str:
    """postgresql://... with the psycopg (3) driver that the project installs."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def quick_schema_version() -> None:
    """nbgrader stamps every new gradebook with its schema's head revision, which it asks of the
    `alembic` command (seconds, on PATH or not); the same answer, read in this process, once."""
    import nbgrader.api
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    if getattr(nbgrader.api.get_alembic_version, "quick", False):
        return
    config = Config()
    config.set_main_option("script_location", ALEMBIC_DIR)
    (head,) = ScriptDirectory.from_config(config).get_heads()

    def get_alembic_version() -> str:
        return head

    get_alembic_version.quick = True
    nbgrader.api.get_alembic_version = get_alembic_version


@contextlib.contextmanager
def gradebook(url: str):
    from nbgrader.api import Gradebook

    from grader.course.nbgrader import _put_our_scripts_on_path

    _put_our_scripts_on_path()  # nbgrader runs `alembic` for other things too
    quick_schema_version()
    with Gradebook(database_url(url)) as book:
        book.db.execute(text(f"CREATE TABLE IF NOT EXISTS {JOBS_TABLE} (job VARCHAR(32) PRIMARY KEY, "
                             "assignment VARCHAR(128), student VARCHAR(128), status VARCHAR(16), "
                             "reason TEXT, seconds FLOAT, score FLOAT, max_score FLOAT)"))
        book.db.commit()
        yield book


def ensure_assignments(url: str, course_dir: Path, assignments: list[str]) -> None:
    """`nbgrader generate_assignment` into the gradebook for those it does not know yet (its
    release folder goes to a temporary directory, never into the course)."""
    from nbgrader.api import MissingEntry

    from grader.course.nbgrader import nbgrader_api

    quick_schema_version()
    with gradebook(url) as book:
        missing = []
        for assignment in assignments:
            try:
                book.find_assignment(assignment)
            except MissingEntry:
                missing.append(assignment)
    if not missing:
        return
    with tempfile.TemporaryDirectory(prefix="workshop-generate-") as tmp:
        root = Path(tmp)
        copy_course(course_dir, root)
        api = nbgrader_api(course_dir, root)
        api.config.CourseDirectory.db_url = database_url(url)
        api.coursedir.db_url = database_url(url)
        for assignment in missing:
            generate(api, assignment)


def recorded(url: str, job: str) -> Recorded | None:
    with gradebook(url) as book:
        row = book.db.execute(text(f"SELECT status, reason, seconds, score, max_score FROM {JOBS_TABLE} "
                                   "WHERE job = :job"), {"job": job}).first()
    return Recorded(*row) if row else None


def record(url: str, job_db: Path | None, *, job: str, assignment: str, student: str, status: str, reason: str,
           seconds: float) -> Recorded:
    """Copy the submission from the job's gradebook `job_db` into the course's, once; returns what
    is recorded for `job` (the earlier record if there was one)."""
    from nbgrader.api import InvalidEntry

    for attempt in range(1, LOCKED_ATTEMPTS + 1):
        try:
            return _record_once(url, job_db, job, assignment, student, status, reason, seconds)
        except (OperationalError, IntegrityError, InvalidEntry) as exc:
            # SQLite is locked while another worker commits; or another worker has just added the
            # same student (their other assignment): the next attempt finds the row
            busy = not isinstance(exc, OperationalError) or "locked" in str(exc)
            if not busy or attempt == LOCKED_ATTEMPTS:
                raise
            log.info("gradebook busy (%s), attempt %d/%d", type(exc).__name__, attempt, LOCKED_ATTEMPTS)
            time.sleep(0.1 * attempt)
    raise AssertionError("unreachable")


def _record_once(url, job_db, job, assignment, student, status, reason, seconds) -> Recorded:
    from nbgrader.api import Gradebook, MissingEntry

    earlier = recorded(url, job)
    if earlier:
        return earlier
    score = max_score = None
    with contextlib.ExitStack() as stack:
        book = stack.enter_context(gradebook(url))
        graded = None
        if job_db is not None:
            private = stack.enter_context(Gradebook(f"sqlite:///{job_db}"))
            try:
                graded = private.find_submission(assignment, student)
            except MissingEntry:  # nbgrader stopped before it made the submission: nothing to copy
                pass
        if graded is not None:
            book.update_or_create_student(student)
            kept = book.update_or_create_submission(assignment, student, timestamp=graded.timestamp) \
                if graded.timestamp else book.update_or_create_submission(assignment, student)
            for notebook in graded.notebooks:
                target = book.find_submission_notebook(notebook.name, assignment, student)
                target.late_submission_penalty = notebook.late_submission_penalty
                for grade in notebook.grades:
                    into = book.find_grade(grade.name, notebook.name, assignment, student)
                    if grade.auto_score is not None:  # nbgrader leaves a score it did not compute alone
                        into.auto_score = grade.auto_score
                    into.needs_manual_grade = into.manual_score is not None or into.auto_score is None
                for comment in notebook.comments:
                    book.find_comment(comment.name, notebook.name, assignment, student).auto_comment = \
                        comment.auto_comment
            book.db.flush()
            score, max_score = kept.score, kept.max_score
        try:
            book.db.execute(text(f"INSERT INTO {JOBS_TABLE} VALUES (:job, :assignment, :student, :status, :reason, "
                                 ":seconds, :score, :max_score)"),
                            {"job": job, "assignment": assignment, "student": student, "status": status,
                             "reason": reason, "seconds": seconds, "score": score, "max_score": max_score})
            book.db.commit()
        except IntegrityError:  # another worker recorded the same job meanwhile: theirs stands
            book.db.rollback()
            return recorded(url, job)
    return Recorded(status, reason, seconds, score, max_score)


def default_url(course_dir: Path) -> str:
    return f"sqlite:///{(course_dir / 'gradebook.db').resolve()}"

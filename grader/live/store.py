"""Where the scores are kept: SQLite by default, PostgreSQL when several graders share the work.

Every write that scores is conditional (`INSERT ... ON CONFLICT DO NOTHING`, `UPDATE ... WHERE
solved_at IS NULL`), so that competing graders and redelivered messages never score twice.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import (
    Boolean, Column, Float, Index, Integer, MetaData, String, Table, Text, UniqueConstraint, bindparam, case,
    create_engine, event, func, insert, select, text, update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from grader.errors import StoreUnavailable


log = logging.getLogger(__name__)
DEFAULT_STORE = "sqlite:///workshop.sqlite"

metadata = MetaData()

students = Table(
    "students", metadata,
    Column("workshop", String(64), primary_key=True),
    Column("slug", String(64), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("registered_at", Float, nullable=False),
    Column("register_points", Integer, nullable=False, default=0),
    Column("fibonacci_points", Integer, nullable=False, default=0),
    Column("points", Integer, nullable=False, default=0),
    Column("reached_at", Float, nullable=False),  # when `points` was reached: ties go to the earliest
)

tasks = Table(
    "tasks", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workshop", String(64), nullable=False),
    Column("slug", String(64), nullable=False),
    Column("n", Integer, nullable=False),
    Column("message_id", String(64), nullable=False),
    Column("dealt_at", Float, nullable=False),
    Column("solved_at", Float),
    UniqueConstraint("workshop", "slug", "n", name="one_task_per_n"),
)

verdicts = Table(
    "verdicts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workshop", String(64), nullable=False),
    Column("delivery", String(64), nullable=False),  # identifies a message across redeliveries
    Column("exercise", String(16), nullable=False),
    Column("slug", String(64)),
    Column("n", Integer),
    Column("ok", Boolean, nullable=False),
    Column("points", Integer, nullable=False),
    Column("total", Integer, nullable=False),
    Column("message", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", Float, nullable=False),
    Index("verdicts_by_delivery", "workshop", "delivery"),
    Index("verdicts_by_student", "workshop", "slug", "points"),
)


def engine_for(url: str) -> Engine:
    """An engine for a SQLAlchemy URL; plain `postgresql://` URLs use psycopg 3."""
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers (the web page) never wait for the grader
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _insert(engine: Engine, table: Table):
    dialect = sqlite if engine.dialect.name == "sqlite" else postgresql
    return dialect.insert(table)


RETRYABLE = ("deadlock detected", "could not serialize", "database is locked")


class Store:
    def __init__(self, url: str, workshop: str):
        self.url = url
        self.workshop = workshop
        try:
            self.engine = engine_for(url)
        except (ArgumentError, ImportError) as exc:
            raise StoreUnavailable(f"{url!r} is not a store URL ({exc}); use sqlite:///workshop.sqlite or "
                                   "postgresql://user@host/database") from exc
        marker = "?" if self.engine.dialect.name == "sqlite" else "%s"
        self.insert_verdict_sql = (f"INSERT INTO verdicts (workshop, {', '.join(VERDICT_FIELDS)}) "
                                   f"VALUES ({', '.join([marker] * (len(VERDICT_FIELDS) + 1))})")
        try:
            self._create_tables()
        except OperationalError as exc:
            raise StoreUnavailable(f"cannot open the score store {self.engine.url.render_as_string()}: "
                                   f"{str(exc.orig).strip().splitlines()[0]}") from exc

    def _create_tables(self) -> None:
        with self.engine.begin() as connection:
            if self.engine.dialect.name == "postgresql":
                # Two graders starting together must not both create the tables.
                connection.execute(text("SELECT pg_advisory_xact_lock(4242)"))
            metadata.create_all(connection, checkfirst=True)

    def close(self) -> None:
        self.engine.dispose()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with self.engine.begin() as connection:
            yield Transaction(connection, self)

    def run_transaction(self, work, *, attempts: int = 10):
        """`work(transaction)` in a transaction, retried when the database asks for it (a deadlock
        between competing graders, a locked SQLite file)."""
        for attempt in range(1, attempts + 1):
            try:
                with self.transaction() as tx:
                    return work(tx)
            except Conflict as exc:
                if attempt == attempts:
                    raise
                log.info("another grader was quicker (%s); deciding again, attempt %d/%d", exc, attempt + 1, attempts)
            except DBAPIError as exc:
                if attempt == attempts or not any(word in str(exc.orig).lower() for word in RETRYABLE):
                    raise
                log.warning("transaction conflict (%s), attempt %d/%d", str(exc.orig).splitlines()[0], attempt + 1,
                            attempts)
                time.sleep(0.05 * attempt)

    # -- dealing -------------------------------------------------------------------------------

    def registered(self) -> list[tuple[str, str]]:
        """(slug, name) of every registered student, in order of registration."""
        query = (select(students.c.slug, students.c.name).where(students.c.workshop == self.workshop)
                 .order_by(students.c.registered_at))
        with self.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(query)]

    def open_tasks(self) -> dict[str, tuple[int, int]]:
        """{slug: (tasks dealt, tasks not yet solved)} for every registered student."""
        unsolved = func.coalesce(func.sum(case((tasks.c.solved_at.is_(None), 1), else_=0)), 0)
        query = (select(students.c.slug, func.count(tasks.c.id), unsolved)
                 .select_from(students.outerjoin(tasks, (tasks.c.workshop == students.c.workshop)
                                                 & (tasks.c.slug == students.c.slug)))
                 .where(students.c.workshop == self.workshop).group_by(students.c.slug))
        with self.engine.connect() as connection:
            return {slug: (dealt, open_) for slug, dealt, open_ in connection.execute(query)}

    def dealt(self, slug: str) -> set[int]:
        query = select(tasks.c.n).where(tasks.c.workshop == self.workshop, tasks.c.slug == slug)
        with self.engine.connect() as connection:
            return set(connection.scalars(query))

    def add_tasks(self, slug: str, dealt: dict[int, str], at: float) -> None:
        """Record tasks `{n: message_id}` as dealt to `slug`."""
        rows = [{"workshop": self.workshop, "slug": slug, "n": n, "message_id": mid, "dealt_at": at}
                for n, mid in dealt.items()]
        with self.engine.begin() as connection:
            connection.execute(insert(tasks), rows)

    def remove_tasks(self, slug: str, ns: list[int]) -> None:
        """Forget tasks that could not be delivered (never while they could have been answered)."""
        with self.engine.begin() as connection:
            connection.execute(tasks.delete().where(
                tasks.c.workshop == self.workshop, tasks.c.slug == slug, tasks.c.n.in_(ns),
                tasks.c.solved_at.is_(None)))


VERDICT_FIELDS = ("delivery", "exercise", "slug", "n", "ok", "points", "total", "message", "reason", "at")


class Conflict(Exception):
    """Another grader changed what this transaction decided on; roll back and decide again."""


# The grader's statements, built once: on its per-message path, building SQLAlchemy expressions
# would cost more than running them.
_STUDENTS = select(students.c.slug, students.c.name, students.c.points).where(
    students.c.workshop == bindparam("b_workshop"), students.c.slug.in_(bindparam("b_slugs", expanding=True)))
_TASKS = select(tasks.c.slug, tasks.c.n, tasks.c.solved_at).where(
    tasks.c.workshop == bindparam("b_workshop"), tasks.c.slug.in_(bindparam("b_slugs", expanding=True)),
    tasks.c.n.in_(bindparam("b_ns", expanding=True)))
_CLAIM_TASK = (
    update(tasks)
    .where(tasks.c.workshop == bindparam("b_workshop"), tasks.c.slug == bindparam("b_slug"),
           tasks.c.n == bindparam("b_n"), tasks.c.solved_at.is_(None))
    .values(solved_at=bindparam("b_at"))
)
_ADD_POINTS = (
    update(students)
    .where(students.c.workshop == bindparam("b_workshop"), students.c.slug == bindparam("b_slug"))
    .values(fibonacci_points=students.c.fibonacci_points + bindparam("b_points"),
            points=students.c.points + bindparam("b_points"), reached_at=bindparam("b_at"))
)
_PREVIOUS_VERDICTS = select(verdicts).where(
    verdicts.c.workshop == bindparam("b_workshop"), verdicts.c.delivery.in_(bindparam("b_keys", expanding=True))
).order_by(verdicts.c.id)


@dataclass
class Transaction:
    """The grader's reads and conditional writes inside one database transaction, a batch at a time."""

    connection: Connection
    store: Store

    @property
    def workshop(self) -> str:
        return self.store.workshop

    def students(self, slugs: set[str]) -> dict[str, tuple[str, int]]:
        """{slug: (name, points)} of those of `slugs` who registered."""
        if not slugs:
            return {}
        rows = self.connection.execute(_STUDENTS, {"b_workshop": self.workshop, "b_slugs": sorted(slugs)})
        return {row.slug: (row.name, row.points) for row in rows}

    def tasks(self, pairs: set[tuple[str, int]]) -> dict[tuple[str, int], bool]:
        """{(slug, n): solved} for those of `pairs` that were dealt."""
        if not pairs:
            return {}
        rows = self.connection.execute(_TASKS, {"b_workshop": self.workshop, "b_slugs": sorted({s for s, _ in pairs}),
                                                "b_ns": sorted({n for _, n in pairs})})
        return {(row.slug, row.n): row.solved_at is not None for row in rows if (row.slug, row.n) in pairs}

    def register(self, slug: str, name: str, at: float) -> None:
        """Add the student with their registration point; `Conflict` if someone was quicker."""
        statement = _insert(self.store.engine, students).values(
            workshop=self.workshop, slug=slug, name=name, registered_at=at, register_points=1,
            fibonacci_points=0, points=1, reached_at=at,
        ).on_conflict_do_nothing().returning(students.c.slug)
        if self.connection.execute(statement).first() is None:
            raise Conflict(f"{slug} registered meanwhile")

    def solve(self, solved: list[tuple[str, int]], at: float) -> None:
        """Mark these open tasks solved and add their points; `Conflict` if one was no longer open."""
        if not solved:
            return
        keys = [{"b_workshop": self.workshop, "b_slug": slug, "b_n": n, "b_at": at} for slug, n in solved]
        if self.connection.execute(_CLAIM_TASK, keys).rowcount != len(solved):
            raise Conflict("a task was scored meanwhile")
        per_student: dict[str, int] = {}
        for slug, _n in solved:
            per_student[slug] = per_student.get(slug, 0) + 1
        self.connection.execute(_ADD_POINTS, [{"b_workshop": self.workshop, "b_slug": slug, "b_points": points,
                                               "b_at": at} for slug, points in sorted(per_student.items())])

    def previous(self, deliveries: set[str]) -> dict[str, dict]:
        """The verdicts already recorded for these deliveries (redelivered messages), by delivery."""
        if not deliveries:
            return {}
        rows = self.connection.execute(_PREVIOUS_VERDICTS, {"b_workshop": self.workshop,
                                                            "b_keys": sorted(deliveries)}).mappings()
        found: dict[str, dict] = {}
        for row in rows:
            found.setdefault(row["delivery"], dict(row))
        return found

    def record(self, rows: list[dict]) -> None:
        """Add verdict rows (keys: delivery, exercise, slug, n, ok, points, total, message, reason, at).

        Straight to the driver: for hundreds of rows per batch, SQLAlchemy's parameter handling
        would cost more than the insert."""
        if rows:
            self.connection.exec_driver_sql(self.store.insert_verdict_sql,
                                            [(self.workshop, *map(row.__getitem__, VERDICT_FIELDS)) for row in rows])


def count_verdicts(store: Store) -> int:
    with store.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(verdicts)
                                 .where(verdicts.c.workshop == store.workshop))

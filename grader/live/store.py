"""Where the scores are kept: SQLite by default, PostgreSQL when several graders share the work.

The grader's batch is one transaction with one read (`Transaction.load`: the students it names,
locked on PostgreSQL, their tasks, and the earlier verdicts of redelivered messages) and one
write (`Transaction.apply`). The tables are in `grader.live.tables`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import bindparam, case, create_engine, event, func, insert, inspect, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from grader.errors import StoreUnavailable
from grader.live.tables import SCHEMA, VERDICT_FIELDS, metadata, schema, students, tasks, verdicts

log = logging.getLogger(__name__)
DEFAULT_STORE = "sqlite:///workshop.sqlite"
RETRYABLE = ("deadlock detected", "could not serialize", "database is locked")


def engine_for(url: str) -> Engine:
    """An engine for a SQLAlchemy URL; plain `postgresql://` URLs use psycopg 3."""
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})  # down: said, not waited for


def _sqlite_pragmas(dbapi_connection, record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers (the web page) never wait for the grader
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class Conflict(Exception):
    """Another grader changed what this transaction decided on; roll back and decide again."""


class Store:
    def __init__(self, url: str, workshop: str):
        self.url = url
        self.workshop = workshop
        try:
            self.engine = engine_for(url)
        except (ArgumentError, ImportError) as exc:
            raise StoreUnavailable(f"{url!r} is not a store URL ({exc}); use sqlite:///workshop.sqlite or "
                                   "postgresql://user@host/database") from exc
        self.postgres = self.engine.dialect.name == "postgresql"
        # The grader's writes go straight to the driver: for hundreds of rows per batch,
        # SQLAlchemy's handling of each row's parameters would cost more than the writes.
        mark = "%s" if self.postgres else "?"
        self.insert_verdict_sql = (f"INSERT INTO verdicts (workshop, {', '.join(VERDICT_FIELDS)}) "
                                   f"VALUES ({', '.join([mark] * (len(VERDICT_FIELDS) + 1))})")
        self.claim_task_sql = (f"UPDATE tasks SET solved_at = {mark} WHERE workshop = {mark} AND slug = {mark} "
                               f"AND n = {mark} AND solved_at IS NULL")
        self.add_points_sql = (f"UPDATE students SET fibonacci_points = fibonacci_points + {mark}, "
                               f"points = points + {mark}, reached_at = {mark} WHERE workshop = {mark} AND slug = {mark}")
        try:
            self._create_tables()
        except OperationalError as exc:
            raise StoreUnavailable(f"cannot open the score store {self.engine.url.render_as_string()}: "
                                   f"{str(exc.orig).strip().splitlines()[0]}") from exc

    def _create_tables(self) -> None:
        with self.engine.begin() as connection:
            if self.postgres:  # two graders starting together must not both create the tables
                connection.execute(text("SELECT pg_advisory_xact_lock(4242)"))
            existing = set(inspect(connection).get_table_names())
            if "students" in existing and "workshop_schema" not in existing or \
                    "workshop_schema" in existing and connection.scalar(select(schema.c.version)) != SCHEMA:
                raise StoreUnavailable(
                    f"the score store {self.engine.url.render_as_string()} was made by another version of the "
                    "workshop; give --store a new one (for example sqlite:///workshop-2.sqlite) or move the old "
                    "file away")
            metadata.create_all(connection, checkfirst=True)
            if "workshop_schema" not in existing:
                connection.execute(insert(schema).values(version=SCHEMA))

    def close(self) -> None:
        self.engine.dispose()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with self.engine.begin() as connection:
            yield Transaction(connection, self)

    def run_transaction(self, work, *, attempts: int = 10):
        """`work(transaction)` in a transaction, retried when the database asks for it (a deadlock
        between competing graders, a locked SQLite file) or `work` raised `Conflict`."""
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
        """{slug: (tasks dealt, tasks not yet solved)} for every registered student; a task recorded
        but not yet confirmed by the broker counts as dealt (`unpublished` finds it again)."""
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

    def add_tasks(self, slug: str, dealt: dict[int, str], at: float, *, published: bool = False) -> set[int]:
        """Record tasks `{n: message_id}` as dealt to `slug` (not yet published, unless `published`);
        the n recorded, without those another dealer recorded meanwhile."""
        rows = [{"workshop": self.workshop, "slug": slug, "n": n, "message_id": mid, "dealt_at": at,
                 "published_at": at if published else None} for n, mid in dealt.items()]
        dialect = postgresql if self.postgres else sqlite
        statement = dialect.insert(tasks).values(rows).on_conflict_do_nothing().returning(tasks.c.n)
        with self.engine.begin() as connection:
            return set(connection.scalars(statement))

    def mark_published(self, slug: str, ns: list[int], at: float) -> None:
        with self.engine.begin() as connection:
            connection.execute(update(tasks).where(tasks.c.workshop == self.workshop, tasks.c.slug == slug,
                                                   tasks.c.n.in_(ns)).values(published_at=at))

    def unpublished(self, older_than: float) -> dict[str, dict[int, str]]:
        """Tasks recorded before `older_than` whose publishing was never confirmed (a dealer died
        in between): {slug: {n: message_id}}."""
        query = select(tasks.c.slug, tasks.c.n, tasks.c.message_id).where(
            tasks.c.workshop == self.workshop, tasks.c.published_at.is_(None), tasks.c.solved_at.is_(None),
            tasks.c.dealt_at < older_than)
        found: dict[str, dict[int, str]] = {}
        with self.engine.connect() as connection:
            for slug, n, message_id in connection.execute(query):
                found.setdefault(slug, {})[n] = message_id
        return found


@dataclass
class Loaded:
    """What one batch's verdicts depend on, read in one go at the start of its transaction."""

    students: dict[str, tuple[str, int]]  # slug -> (name, points)
    tasks: dict[tuple[str, int], bool]  # (slug, n) -> solved
    previous: dict[str, list[dict]] = field(default_factory=dict)  # digest -> earlier verdict rows, oldest first
    headcount: int | None = None  # how many students the workshop has (read only when asked for)


# The grader's statements, built once: on its per-message path, building SQLAlchemy expressions
# would cost more than running them.
_STUDENTS = select(students.c.slug, students.c.name, students.c.points).where(
    students.c.workshop == bindparam("b_workshop"), students.c.slug.in_(bindparam("b_slugs", expanding=True))
).order_by(students.c.slug)
_TASKS = select(tasks.c.slug, tasks.c.n, tasks.c.solved_at).where(
    tasks.c.workshop == bindparam("b_workshop"), tasks.c.slug.in_(bindparam("b_slugs", expanding=True)),
    tasks.c.n.in_(bindparam("b_ns", expanding=True)))
_COUNT = select(func.count()).select_from(students).where(students.c.workshop == bindparam("b_workshop"))
_TAKE_SEATS_LOCK = text("SELECT pg_advisory_xact_lock(4243, hashtext(:b_workshop))")
_TAKE_SQLITE_LOCK = update(schema).values(version=schema.c.version)
_PREVIOUS = select(verdicts).where(
    verdicts.c.workshop == bindparam("b_workshop"), verdicts.c.digest.in_(bindparam("b_digests", expanding=True))
).order_by(verdicts.c.id)


@dataclass
class Transaction:
    """The grader's reads and conditional writes inside one database transaction, a batch at a time."""

    connection: Connection
    store: Store

    @property
    def workshop(self) -> str:
        return self.store.workshop

    def load(self, slugs: set[str], pairs: set[tuple[str, int]], digests: set[str], *,
             count: bool = False) -> Loaded:
        """The students of `slugs` (locked until the commit on PostgreSQL, so that nobody else
        changes their points meanwhile), the dealt tasks among `pairs`, the verdicts already
        recorded for `digests`, and (`count`) how many students the workshop has."""
        loaded = Loaded({}, {})
        if not self.store.postgres:  # take SQLite's write lock now: nobody writes between this read and ours
            self.connection.execute(_TAKE_SQLITE_LOCK)
        elif count:  # graders' batches with registrations take turns: two never fill the same free seats
            self.connection.execute(_TAKE_SEATS_LOCK, {"b_workshop": self.workshop})
        if slugs:
            query = _STUDENTS.with_for_update() if self.store.postgres else _STUDENTS
            rows = self.connection.execute(query, {"b_workshop": self.workshop, "b_slugs": sorted(slugs)})
            loaded.students = {row.slug: (row.name, row.points) for row in rows}
        if pairs:
            rows = self.connection.execute(_TASKS, {"b_workshop": self.workshop,
                                                    "b_slugs": sorted({s for s, _ in pairs}),
                                                    "b_ns": sorted({n for _, n in pairs})})
            loaded.tasks = {(row.slug, row.n): row.solved_at is not None for row in rows if (row.slug, row.n) in pairs}
        if digests:
            rows = self.connection.execute(_PREVIOUS, {"b_workshop": self.workshop, "b_digests": sorted(digests)})
            for row in rows.mappings():
                loaded.previous.setdefault(row["digest"], []).append(dict(row))
        if count:
            loaded.headcount = self.connection.execute(_COUNT, {"b_workshop": self.workshop}).scalar_one()
        return loaded

    def apply(self, registered: list[tuple[str, str]], solved: list[tuple[str, int]], rows: list[dict],
              at: float, *, keep_ids: list[dict] = ()) -> list[int]:
        """Write what a batch decided: new students, solved tasks with their points, verdict rows
        (and the rows of `keep_ids`, whose new ids it returns)."""
        for slug, name in sorted(registered):  # in one order, so that two graders never deadlock
            self.register(slug, name, at)
        self.solve(solved, at)
        self.record(rows)
        return [self.connection.exec_driver_sql(self.store.insert_verdict_sql + " RETURNING id",
                                                (self.workshop, *map(row.__getitem__, VERDICT_FIELDS))).scalar_one()
                for row in keep_ids]

    def register(self, slug: str, name: str, at: float) -> None:
        """Add the student with their registration point; `Conflict` if someone was quicker."""
        dialect = postgresql if self.store.postgres else sqlite
        statement = dialect.insert(students).values(
            workshop=self.workshop, slug=slug, name=name, registered_at=at, register_points=1,
            fibonacci_points=0, points=1, reached_at=at,
        ).on_conflict_do_nothing().returning(students.c.slug)
        if self.connection.execute(statement).first() is None:
            raise Conflict(f"{slug} registered meanwhile")

    def solve(self, solved: list[tuple[str, int]], at: float) -> None:
        """Mark these open tasks solved and add their points; `Conflict` if one was no longer open."""
        if not solved:
            return
        claims = [(at, self.workshop, slug, n) for slug, n in solved]
        if self.connection.exec_driver_sql(self.store.claim_task_sql, claims).rowcount != len(solved):
            raise Conflict("a task was scored meanwhile")
        per_student: dict[str, int] = {}
        for slug, _n in solved:
            per_student[slug] = per_student.get(slug, 0) + 1
        self.connection.exec_driver_sql(self.store.add_points_sql, [(points, points, at, self.workshop, slug)
                                                                    for slug, points in sorted(per_student.items())])

    def record(self, rows: list[dict]) -> None:
        """Add verdict rows (keys: `tables.VERDICT_FIELDS`)."""
        if rows:
            self.connection.exec_driver_sql(self.store.insert_verdict_sql,
                                            [(self.workshop, *map(row.__getitem__, VERDICT_FIELDS)) for row in rows])


def count_verdicts(store: Store) -> int:
    with store.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(verdicts)
                                 .where(verdicts.c.workshop == store.workshop))

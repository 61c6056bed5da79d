"""The class progress grid: which exercise each student has tried, failed or passed, live.

A notebook's check reports each ✔ or ✘ to the queue `W.progress` (`grader.lab.progress`), with
the student's broker user as the message's `user_id`: RabbitMQ refuses a `user_id` that is not the
publisher's own user, so a row is always the student who ran the check. `ProgressListener` reads
that queue into a `Grid`, which keeps each cell in the score store as well (table `progress`), so
a restarted `workshop serve` shows the grid where it was. Points never depend on it. The grid is
for the instructor's eyes (`/progress`, behind the instructor token).
"""

from __future__ import annotations

import json
import logging
import threading
import time

from sqlalchemy import case, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from grader import names
from grader.leaderboard.listener import QueueListener
from grader.live.store import Store
from grader.live.tables import progress as table

log = logging.getLogger(__name__)

MAX_STUDENTS = 500
MAX_EXERCISES = 400
MAX_TEXT = 300  # characters of a failure sentence kept
MAX_KEY = 100  # characters of a user, a lesson or an exercise kept
QUEUE_LIMIT = 10_000  # reports waiting in W.progress; older ones are dropped by the broker


class Grid:
    """{user: {(lesson, exercise): cell}}; every method may be called from any thread. With a
    `room` (the accounts of `workshop provision`), every student of the roster has a row from the
    start, under their name on the roster, whether they have run a check yet or not. With a
    `store`, the grid starts from what the store kept and keeps every change there; a store that
    fails is logged and the grid goes on in memory."""

    def __init__(self, room=None, store: Store | None = None):
        self.room, self.store = room, store
        self.lock = threading.Lock()
        self.cells: dict[str, dict[tuple[str, str], dict]] = {}
        self.exercises: dict[tuple[str, str], int] = {}  # (lesson, exercise) -> the order it was first reported
        self.version = _now()  # tracks the clock, so a restarted grid never repeats a version an open page saw
        self.unsaved: dict[tuple[str, str, str], dict] = {}  # cells for the store, written by a thread of their own
        self.saving = threading.Condition()
        self.writer: threading.Thread | None = None
        if store is not None:
            self._load()

    def record(self, user: str, lesson: str, exercise: str, passed: bool, sentence: str, at: float) -> bool:
        """One check's outcome; a pass stays a pass (a later failure is kept as its sentence only)."""
        key, user = (_clean(lesson, MAX_KEY), _clean(exercise, MAX_KEY)), _clean(user, MAX_KEY)
        with self.lock:
            row = self._admit(user, key)
            if row is None:
                return False
            cell = row.setdefault(key, {"state": "failing", "sentence": "", "at": at, "first_at": at})
            if passed:
                cell["state"] = "passed"
            else:
                cell["sentence"] = _clean(sentence, MAX_TEXT)
            cell["at"] = at
            self.version = max(self.version + 1, _now())
            kept = dict(cell)
        if self.store is not None:  # by the writer: neither the page nor the broker's thread waits for the database
            with self.saving:
                self.unsaved[(user, *key)] = kept
                if self.writer is None:
                    self.writer = threading.Thread(target=self._write, name="progress grid writer", daemon=True)
                    self.writer.start()
        return True

    def flush(self, timeout: float = 30) -> bool:
        """Wait until every cell recorded so far is in the store (or the writer gave up on it)."""
        with self.saving:
            return self.saving.wait_for(lambda: self.writer is None, timeout=timeout)

    def _write(self) -> None:
        while True:
            with self.saving:
                cells, self.unsaved = self.unsaved, {}
                if not cells:
                    self.writer = None
                    self.saving.notify_all()
                    return
            self._save(cells)

    def _save(self, cells: dict[tuple[str, str, str], dict]) -> None:
        rows = [{"workshop": self.store.workshop, "broker_user": user, "lesson": lesson, "exercise": exercise, **cell}
                for (user, lesson, exercise), cell in cells.items()]
        insert = (postgresql if self.store.postgres else sqlite).insert(table)
        statement = insert.on_conflict_do_update(
            index_elements=["workshop", "broker_user", "lesson", "exercise"],
            set_={"state": case((table.c.state == "passed", "passed"), else_=insert.excluded.state),  # stays a pass
                  "sentence": insert.excluded.sentence, "at": insert.excluded.at})
        try:
            with self.store.engine.begin() as connection:
                connection.execute(statement, rows)
        except Exception as exc:  # noqa: BLE001 - the grid is for the eyes; it lives on in memory
            log.warning("the progress grid could not keep %d cells in the store (%s); they stay in memory",
                        len(rows), _first_line(exc))
            time.sleep(1)  # a store that is down is not asked again at once

    def _load(self) -> None:
        query = select(table).where(table.c.workshop == self.store.workshop).order_by(table.c.first_at)
        try:
            with self.store.engine.connect() as connection:
                rows = connection.execute(query).mappings().all()
        except SQLAlchemyError as exc:
            log.warning("the progress grid could not read the store (%s); it starts empty", _first_line(exc))
            return
        for stored in rows:
            key = (stored["lesson"], stored["exercise"])
            row = self._admit(stored["broker_user"], key)
            if row is not None:
                row[key] = {name: stored[name] for name in ("state", "sentence", "at", "first_at")}

    def _admit(self, user: str, key: tuple[str, str]) -> dict | None:
        """The row of `user`, with `key` a column of the grid; None when either would be one too many."""
        if user not in self.cells and len(self.cells) >= MAX_STUDENTS or \
                key not in self.exercises and len(self.exercises) >= MAX_EXERCISES:
            return None
        self.exercises.setdefault(key, len(self.exercises))
        return self.cells.setdefault(user, {})

    def snapshot(self) -> dict:
        """The grid as the page draws it: exercises by lesson, a row per student by name."""
        roster = {}
        if self.room is not None:
            self.room.refresh()
            roster = dict(self.room.students)
        with self.lock:
            # lessons are numbered; within one, the exercises come in the order students reached them
            exercises = sorted(self.exercises, key=lambda key: (key[0], self.exercises[key]))
            users = set(self.cells) | set(roster)
            rows = [{"user": user, "name": roster.get(user, user),
                     "cells": [dict(self.cells.get(user, {})[key]) if key in self.cells.get(user, {})
                               else {"state": "untried"} for key in exercises]} for user in users]
            return {"version": self.version,
                    "exercises": [{"lesson": lesson, "exercise": exercise} for lesson, exercise in exercises],
                    "students": sorted(rows, key=lambda row: (row["name"].casefold(), row["user"]))}


def _now() -> int:
    return time.time_ns() // 1000  # microseconds: no grid records one change per microsecond


def _first_line(exc: BaseException) -> str:
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _clean(text: str, limit: int) -> str:
    """`text` as any database keeps it: without control characters (PostgreSQL refuses NUL), lone
    surrogates (not UTF-8) replaced, at most `limit` characters."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    return "".join(char for char in text if char >= " " or char == "\n")[:limit]


def read_report(body: bytes, user_id: str | None) -> tuple | None:
    """(user, lesson, exercise, passed, sentence) of a report, or None for one to drop."""
    if not user_id:
        return None  # no identity the broker vouched for
    try:
        report = json.loads(body)
    except ValueError:
        return None
    if not isinstance(report, dict):
        return None
    lesson, exercise = report.get("lesson"), report.get("exercise")
    passed, sentence = report.get("passed"), report.get("sentence", "")
    if not (isinstance(lesson, str) and isinstance(exercise, str) and lesson and exercise and
            isinstance(passed, bool) and isinstance(sentence, str)):
        return None
    return user_id, lesson, exercise, passed, sentence


class ProgressListener(QueueListener):
    """Reads `W.progress` into the grid (a worker of `workshop serve`)."""

    label = "progress grid"

    def __init__(self, settings, grid: Grid):
        super().__init__(settings, names.progress_queue(settings.workshop), QUEUE_LIMIT)
        self.grid = grid

    def handle(self, properties, body: bytes) -> None:
        found = read_report(body, properties.user_id)
        if found is not None:
            self.grid.record(*found, at=time.time())

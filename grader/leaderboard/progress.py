"""The class progress grid: which exercise each student has tried, failed or passed, live.

A notebook's check reports each ✔ or ✘ to the queue `W.progress` (`grader.lab.progress`), with
the student's broker user as the message's `user_id`: RabbitMQ refuses a `user_id` that is not the
publisher's own user, so a row is always the student who ran the check. `ProgressListener` reads
that queue into a `Grid` kept in memory only: points never depend on it, and a restart starts an
empty grid. The grid is for the instructor's eyes (`/progress`, behind the instructor token).
"""

from __future__ import annotations

import json
import logging
import threading
import time

from grader import names
from grader.leaderboard.listener import QueueListener

log = logging.getLogger(__name__)

MAX_STUDENTS = 500
MAX_EXERCISES = 400
MAX_TEXT = 300  # characters of a name or a failure sentence kept
QUEUE_LIMIT = 10_000  # reports waiting in W.progress; older ones are dropped by the broker


class Grid:
    """{user: {(lesson, exercise): cell}}; every method may be called from any thread. With a
    `room` (the accounts of `workshop provision`), every student of the roster has a row from the
    start, under their name on the roster, whether they have run a check yet or not."""

    def __init__(self, room=None):
        self.room = room
        self.lock = threading.Lock()
        self.cells: dict[str, dict[tuple[str, str], dict]] = {}
        self.exercises: dict[tuple[str, str], int] = {}  # (lesson, exercise) -> the order it was first reported
        self.version = 0

    def record(self, user: str, lesson: str, exercise: str, passed: bool, sentence: str, at: float) -> bool:
        """One check's outcome; a pass stays a pass (a later failure is kept as its sentence only)."""
        key, user = (lesson[:MAX_TEXT], exercise[:MAX_TEXT]), user[:MAX_TEXT]
        with self.lock:
            if user not in self.cells and len(self.cells) >= MAX_STUDENTS or \
                    key not in self.exercises and len(self.exercises) >= MAX_EXERCISES:
                return False
            self.exercises.setdefault(key, len(self.exercises))
            row = self.cells.setdefault(user, {})
            cell = row.setdefault(key, {"state": "failing", "sentence": "", "at": at})
            if passed:
                cell["state"] = "passed"
            else:
                cell["sentence"] = sentence[:MAX_TEXT]
            cell["at"] = at
            self.version += 1
            return True

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

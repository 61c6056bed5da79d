"""The score store's tables: students, the tasks dealt to them, what they said in the chat, every verdict,
and the class progress grid.

Every write that scores is conditional (`INSERT ... ON CONFLICT DO NOTHING`, `UPDATE ... WHERE
solved_at IS NULL`), so that competing graders and redelivered messages never score twice.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Index, Integer, MetaData, String, Table, Text, UniqueConstraint

SCHEMA = 3  # bumped whenever a table changes; a store made by another version is refused with a sentence
ID_LENGTH = 64  # a student id is at most this long (grader.live.identity bounds it by design)

metadata = MetaData()

schema = Table("workshop_schema", metadata, Column("version", Integer, primary_key=True))

students = Table(
    "students", metadata,
    Column("workshop", String(64), primary_key=True),
    Column("slug", String(ID_LENGTH), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("registered_at", Float, nullable=False),
    Column("register_points", Integer, nullable=False, default=0),
    Column("fibonacci_points", Integer, nullable=False, default=0),
    Column("chat_points", Integer, nullable=False, default=0, server_default="0"),
    Column("points", Integer, nullable=False, default=0),
    Column("reached_at", Float, nullable=False),  # when `points` was reached: ties go to the earliest
)

tasks = Table(
    "tasks", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workshop", String(64), nullable=False),
    Column("slug", String(ID_LENGTH), nullable=False),
    Column("n", Integer, nullable=False),
    Column("message_id", String(64), nullable=False),
    Column("dealt_at", Float, nullable=False),
    Column("published_at", Float),  # when the broker confirmed the task message; NULL: publish again
    Column("solved_at", Float),
    UniqueConstraint("workshop", "slug", "n", name="one_task_per_n"),
)

chat_spoken = Table(  # each way of speaking in the chat scores once per student
    "chat_spoken", metadata,
    Column("workshop", String(64), primary_key=True),
    Column("slug", String(ID_LENGTH), primary_key=True),
    Column("kind", String(16), primary_key=True),  # grader.names.CHAT_KINDS
    Column("at", Float, nullable=False),
)

verdicts = Table(
    "verdicts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workshop", String(64), nullable=False),
    Column("digest", String(64), nullable=False),  # the message's content, the same across redeliveries
    Column("kind", String(24), nullable=False),  # grader.live.checks.Kind
    Column("exercise", String(16), nullable=False),
    Column("slug", String(ID_LENGTH)),
    Column("n", Integer),
    Column("ok", Boolean, nullable=False),
    Column("points", Integer, nullable=False),
    Column("total", Integer, nullable=False),
    Column("message", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", Float, nullable=False),
    Index("verdicts_by_digest", "workshop", "digest"),
    Index("verdicts_by_student", "workshop", "slug", "points"),
)

progress = Table(  # the class progress grid (grader.leaderboard.progress): never worth a point
    "progress", metadata,
    Column("workshop", String(64), primary_key=True),
    Column("broker_user", String(100), primary_key=True),  # who reported, as the broker vouched
    Column("lesson", String(100), primary_key=True),
    Column("exercise", String(100), primary_key=True),
    Column("state", String(16), nullable=False),  # "failing" or "passed"; a pass stays a pass
    Column("sentence", Text, nullable=False),  # the last failure's sentence
    Column("first_at", Float, nullable=False),  # when this cell was first reported: the columns' order
    Column("at", Float, nullable=False),
)

VERDICT_FIELDS = ("digest", "kind", "exercise", "slug", "n", "ok", "points", "total", "message", "reason", "at")

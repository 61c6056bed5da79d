"""The store reads behind the page's live updates: what changed since the newest verdict id seen.

The store is the authority: an event on `W.events` only says "look again", and these functions
look. Rows have the shape of `standings.leaderboard`'s, without the rank (the page ranks).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from grader.live.store import Store, students, tasks, verdicts

MAX_VERDICTS = 20_000  # read at most this many new verdicts at once; the rest come in the next read

_ROWS = select(students.c.slug, students.c.name, students.c.points, students.c.register_points,
               students.c.fibonacci_points, students.c.chat_points, students.c.reached_at)


@dataclass
class Changes:
    version: int  # the newest verdict id read
    scored: list[list] = field(default_factory=list)  # [slug, at, total] of each new scoring verdict
    rows: list[dict] = field(default_factory=list)  # the students rows of who scored (or of everyone)
    first_solver: str | None = None
    more: bool = False  # more new verdicts wait than were read


def rows(store: Store, slugs: list[str] | None = None) -> list[dict]:
    """The students rows of `slugs` (of everyone when None)."""
    query = _ROWS.where(students.c.workshop == store.workshop)
    if slugs is not None:
        if not slugs:
            return []
        query = query.where(students.c.slug.in_(sorted(slugs)))
    with store.engine.connect() as connection:
        return [{"slug": slug, "name": name, "points": points, "register": register, "fibonacci": fibonacci,
                 "chat": chat, "reached_at": reached_at}
                for slug, name, points, register, fibonacci, chat, reached_at in connection.execute(query)]


def first_solver(store: Store) -> str | None:
    """Who solved a task first (a solve is final: `solved_at` is only ever set once)."""
    query = (select(tasks.c.slug).where(tasks.c.workshop == store.workshop, tasks.c.solved_at.is_not(None))
             .order_by(tasks.c.solved_at, tasks.c.id).limit(1))
    with store.engine.connect() as connection:
        return connection.scalar(query)


def start(store: Store) -> Changes:
    """Everything, for a hub that has read nothing yet: the newest verdict id, then every row."""
    with store.engine.connect() as connection:
        version = connection.scalar(select(func.coalesce(func.max(verdicts.c.id), 0))
                                    .where(verdicts.c.workshop == store.workshop))
    return Changes(version, rows=rows(store), first_solver=first_solver(store))


def since(store: Store, version: int, *, everyone: bool, solver: str | None) -> Changes:
    """The verdicts after id `version` and the rows of the students they scored for (of everyone
    when `everyone`); the first solver when it may have changed (unknown yet, or `everyone`)."""
    # By id alone, filtered by workshop here: with `workshop = ?` in the query, SQLite walks the
    # workshop's whole index instead of the few newest ids.
    query = (select(verdicts.c.id, verdicts.c.workshop, verdicts.c.slug, verdicts.c.at, verdicts.c.total,
                    verdicts.c.points).where(verdicts.c.id > version).order_by(verdicts.c.id).limit(MAX_VERDICTS))
    with store.engine.connect() as connection:
        found = connection.execute(query).all()
    changes = Changes(found[-1].id if found else version, more=len(found) == MAX_VERDICTS)
    changes.scored = [[v.slug, round(v.at, 3), v.total] for v in found
                      if v.workshop == store.workshop and v.points > 0 and v.slug is not None]
    changes.rows = rows(store, None if everyone else list({slug for slug, _, _ in changes.scored}))
    changes.first_solver = solver
    if everyone or (solver is None and any(row["fibonacci"] > 0 for row in changes.rows)):
        changes.first_solver = first_solver(store)
    return changes

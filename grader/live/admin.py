"""What the instructor may change in the score store during a workshop: rename or remove a player,
or start the live exercise again from nothing. Each is one transaction on this workshop's rows
only; the leaderboard's pages are told to read everything again afterwards.
"""

from __future__ import annotations

from sqlalchemy import delete, update

from grader.errors import WorkshopError
from grader.live.identity import BadName, clean_name
from grader.live.store import Store
from grader.live.tables import chat_spoken, students, tasks, verdicts


class AdminError(WorkshopError):
    """The change cannot be made; `str()` says why."""


def rename(store: Store, slug: str, name: str) -> str:
    """Show `slug` as `name` from now on (their id, tasks and points stay). Returns the clean name."""
    try:
        shown = clean_name(name)
    except BadName as exc:
        raise AdminError(str(exc)) from None
    with store.engine.begin() as connection:
        changed = connection.execute(update(students).where(students.c.workshop == store.workshop,
                                                            students.c.slug == slug).values(name=shown)).rowcount
    if not changed:
        raise AdminError(f"there is no player {slug!r} on this board")
    return shown


def remove(store: Store, slug: str) -> None:
    """Take `slug` off the board with everything they scored; they may register again."""
    with store.engine.begin() as connection:
        for table in (verdicts, chat_spoken, tasks):
            connection.execute(delete(table).where(table.c.workshop == store.workshop, table.c.slug == slug))
        if not connection.execute(delete(students).where(students.c.workshop == store.workshop,
                                                         students.c.slug == slug)).rowcount:
            raise AdminError(f"there is no player {slug!r} on this board")


def reset(store: Store) -> int:
    """Start this workshop's live exercise again: no players, tasks or verdicts. Returns how many
    players were removed. Other workshops in the same store are not touched."""
    with store.engine.begin() as connection:
        for table in (verdicts, chat_spoken, tasks):
            connection.execute(delete(table).where(table.c.workshop == store.workshop))
        return connection.execute(delete(students).where(students.c.workshop == store.workshop)).rowcount

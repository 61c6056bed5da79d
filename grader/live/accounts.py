"""Protocol version 2: in a room with accounts, a message's sender is its broker-validated `user_id`.

With `workshop provision`, every student has a broker user named by their student id, and
RabbitMQ itself refuses a message whose `user_id` property is not the user of the connection
that published it (406 PRECONDITION_FAILED). So in a room the grader believes `user_id`, never
the name in the body:

- a message without `user_id`, or from a user who is not a student of the room, scores nothing;
- a message whose name is not its sender's scores nothing either: nobody can register, answer
  or be throttled in a classmate's name;
- otherwise the student is the account's, under the name on the roster.

Without a room (version 1, one shared account for everyone), the name in the body decides.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from grader.live.protocol import Answer, Registration, Rejected

log = logging.getLogger(__name__)

NO_USER_ID = ("in this room every message must say who sends it: add user_id=<your broker user> to its "
              "properties, e.g. pika.BasicProperties(user_id=MY_USER, ...) (your user is on your card)")


class Room:
    """The students of a room: broker user -> name on the roster. `read(path)` gives that map;
    it is read again whenever the file changes (accounts added to a running room)."""

    def __init__(self, path: Path, read: Callable[[Path], dict[str, str]]):
        self.path, self.read = path, read
        self.stamp: tuple[int, int] | None = None
        self.students: dict[str, str] = {}
        self.refresh()

    @classmethod
    def of(cls, students: dict[str, str]) -> Room:
        """A room that is not read from a file (tests, tools)."""
        room = cls.__new__(cls)
        room.path, room.read, room.stamp, room.students = None, None, None, dict(students)
        return room

    def refresh(self) -> None:
        if self.path is None:
            return
        try:
            stat = os.stat(self.path)
        except OSError as exc:
            log.warning("cannot read the room's accounts %s (%s); keeping the %d known", self.path, exc,
                        len(self.students))
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self.stamp:
            try:
                self.students = self.read(self.path)
            except Exception as exc:  # noqa: BLE001 - a half-written file must not stop grading
                log.warning("cannot read the room's accounts %s (%s); keeping the %d known", self.path, exc,
                            len(self.students))
                return
            self.stamp = stamp
            log.info("the room has %d students (%s)", len(self.students), self.path)

    def admit(self, user_id: str | None, message: Registration | Answer | Rejected):
        """`message` as sent by `user_id`, or the `Rejected` that says why it cannot count."""
        if isinstance(message, Rejected):  # signed by whoever the broker says sent it, never by the body's name
            return Rejected(str(message), student=user_id if user_id in self.students else None)
        if user_id is None:
            return Rejected(NO_USER_ID)
        name = self.students.get(user_id)
        if name is None:
            return Rejected(f"the user {user_id!r} is not a student of this room: send from the account "
                            "on your card")
        if message.slug != user_id:
            return Rejected(f"this message comes from {user_id} ({name}) and cannot speak for "
                            f"{message.name!r}: use your own name, {name!r}", student=user_id)
        return replace(message, name=name)

"""`workshop accounts`: one broker for the whole room, an account per student.

Each student gets a user with a random password and a vhost of their own, where the lessons'
notebooks can declare and delete whatever they like without meeting anyone else's queues. On
the live vhost (the one of RABBITMQ_URL, where the grader runs) the same user may only publish
through the default exchange, use private server-named queues for feedback, and read the
protocol's queues `W.*`, and bind to and publish on the chat's exchanges `W.chat.*`: enough for
the live exercises, not enough to consume other students' registrations or answers. (They can still read a classmate's task queue: the tasks queue's name
comes from the name a student registers, which is not known when the accounts are made.)
"""

from __future__ import annotations

import csv
import io
import re
import secrets
from dataclasses import dataclass

from grader import broker
from grader.live.queues import declare_protocol
from grader.management import Management
from grader.settings import Settings

LESSONS = {"configure": ".*", "write": ".*", "read": ".*"}


def live_permissions(workshop: str) -> dict[str, str]:
    private = r"^amq\.gen-.*"
    chat = rf"^{re.escape(workshop)}\.chat\..+"
    return {
        "configure": private,  # declare exclusive server-named queues for feedback and chat
        "write": rf"{private}|^amq\.default$|{chat}",  # publish through the default exchange, and chat
        # consume feedback and tasks; never the answers (W.results, W.results.<id>) or rejects meant for the grader
        "read": rf"{private}|^{re.escape(workshop)}\.(?!results$|results\.|rejected$).+",
    }


@dataclass(frozen=True)
class Account:
    user: str
    password: str
    vhost: str
    lessons_url: str
    live_url: str


def create(settings: Settings, count: int, *, prefix: str = "student", start: int = 1) -> list[Account]:
    """`count` accounts `<prefix>01`, `<prefix>02`, ... with their vhosts and permissions.

    The protocol's queues are declared on the live vhost too, so that a registration sent before
    the grader first starts waits for it instead of being dropped."""
    connection = broker.connect(settings.rabbitmq_url)
    try:
        declare_protocol(connection, settings.workshop)
    finally:
        connection.close()
    api = Management.from_settings(settings)
    address = settings.amqp
    width = max(2, len(str(start + count - 1)))
    made = []
    for number in range(start, start + count):
        user = f"{prefix}{number:0{width}d}"
        password = secrets.token_urlsafe(9)
        api.put_user(user, password, tags="management")
        api.create_vhost(user)
        api.grant(user, user, **LESSONS)
        api.grant(address.vhost, user, **live_permissions(settings.workshop))
        student = address.__class__(address.host, address.port, user, password, address.vhost, address.scheme)
        made.append(Account(user, password, user, student.url(vhost=user), student.url()))
    return made


def delete(settings: Settings, count: int, *, prefix: str = "student", start: int = 1) -> list[str]:
    """Remove the accounts `create` made (users and their vhosts); returns the users removed."""
    api = Management.from_settings(settings)
    width = max(2, len(str(start + count - 1)))
    removed = []
    for number in range(start, start + count):
        user = f"{prefix}{number:0{width}d}"
        api.delete_vhost(user)
        if api.delete_user(user):
            removed.append(user)
    return removed


def to_csv(accounts: list[Account], management_url: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["user", "password", "RABBITMQ_URL for the lessons", "RABBITMQ_URL for the live exercises",
                     "management UI"])
    for account in accounts:
        writer.writerow([account.user, account.password, account.lessons_url, account.live_url, management_url])
    return out.getvalue()

"""`workshop provision ROSTER` and `workshop teardown`: a broker account per student, and nothing more.

Through the management API, each student on the roster gets

- a RabbitMQ user named by their student id (the id the live grader gives their name), with a
  generated password and the `management` tag (the management UI shows them their own vhost);
- a vhost of their own, of the same name, where the lessons may declare and delete anything;
- on the live vhost (the one of RABBITMQ_URL, where the grader runs) only what the live exercises
  need: private server-named queues for feedback and the chat, publishing through the default
  exchange and on the chat's exchanges, and reading their own task queue `W.<id>`. Not a
  classmate's tasks, nobody's answers, none of the grader's queues.

The instructor gets the account `instructor` (or another name given): the administrator tag, and every right on the live
vhost and on each student's vhost. Everything made carries the tag `workshop.<W>` (W is the
workshop id), users and vhosts alike: a second run changes nothing that exists (`rotate` gives
every account a new password), and `teardown` removes exactly what carries the tag and is listed
in accounts.csv, so it never touches a user or a vhost that someone else made.
"""

from __future__ import annotations

import csv
import io
import os
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from grader import broker, names
from grader.classroom import cards, users
from grader.classroom.roster import INSTRUCTOR, Student
from grader.classroom.roster import read as read_roster
from grader.errors import WorkshopError
from grader.live.queues import declare_protocol
from grader.management import Management
from grader.settings import Settings

ACCOUNTS = "accounts.csv"
CARDS = "cards.html"
EVERYTHING = {"configure": ".*", "write": ".*", "read": ".*"}
PASSWORD_CHARS = 14
PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no l, I, 1, O, 0: printed on cards


class ProvisionError(WorkshopError):
    """Provisioning cannot go on; `str()` says why and what to do."""


@dataclass(frozen=True)
class Account:
    name: str  # as on the roster
    email: str
    role: str  # "student" or "instructor"
    user: str
    password: str
    vhost: str  # the student's own vhost for the lessons; the instructor's is the live vhost
    lessons_url: str
    live_url: str


FIELDS = [field.name for field in fields(Account)]


def _password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_CHARS))


def marker(workshop: str) -> str:
    return f"workshop.{workshop}"


def live_permissions(workshop: str, student: str) -> dict[str, str]:
    """A student's rights on the live vhost (regular expressions of resource names)."""
    private = r"^amq\.gen-.*"
    # the chat's four exchanges, and not the grader's chat queue `W.chat.grader`
    chat = rf"^{re.escape(workshop)}\.chat\.({'|'.join(names.CHAT_KINDS)})$"
    return {
        "configure": private,  # exclusive server-named queues for feedback and the chat
        "write": rf"{private}|^amq\.default$|{chat}",  # registrations and answers go by the default exchange
        "read": rf"{private}|^{re.escape(workshop)}\.{re.escape(student)}$|{chat}",  # own tasks; bind to chat
    }


def read_accounts(path: Path) -> list[Account]:
    """The accounts of `workshop provision`'s accounts.csv (the file, or the folder holding it)."""
    path = path / ACCOUNTS if path.is_dir() else path
    try:
        with path.open(newline="", encoding="utf-8") as file:
            rows = list(csv.DictReader(file))
    except FileNotFoundError:
        raise ProvisionError(f"there is no {path}: run `workshop provision ROSTER` first") from None
    missing = [name for name in FIELDS if rows and name not in rows[0]]
    if missing:
        raise ProvisionError(f"{path} is not an accounts file of `workshop provision` (no {', '.join(missing)})")
    return [Account(**{name: row[name] for name in FIELDS}) for row in rows]


def write_private(path: Path, text: str) -> None:
    """`text` into `path`, readable by its owner only (it holds passwords), replaced in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as file:
        file.write(text)
    os.replace(partial, path)


def accounts_csv(accounts: Iterable[Account]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, FIELDS)
    writer.writeheader()
    writer.writerows(asdict(account) for account in accounts)
    return out.getvalue()


@dataclass
class Report:
    accounts: list[Account]
    made: list[str]
    rotated: list[str]
    kept: list[str]
    off_roster: list[str]  # in accounts.csv from an earlier run, no longer on the roster: kept

    def summary(self, out: Path) -> str:
        parts = [f"{len(self.made)} made", f"{len(self.kept)} kept as they were"]
        if self.rotated:
            parts.append(f"{len(self.rotated)} given new passwords")
        line = f"accounts: {', '.join(parts)}; in {out / ACCOUNTS}, cards to print in {out / CARDS}"
        if self.off_roster:
            line += (f"\nnot on the roster any more, kept until `workshop teardown`: "
                     f"{', '.join(self.off_roster)}")
        return line


def _tags(record: dict | None) -> set[str]:
    tags = (record or {}).get("tags") or []
    return set(tags.split(",") if isinstance(tags, str) else tags)


def provision(settings: Settings, roster: Path, out: Path, *, rotate: bool = False, join_url: str = "",
              instructor: str | None = None, progress: Callable[[Iterable, int], Iterable] | None = None) -> Report:
    """Accounts for everyone on `roster` (see the module's docstring); writes out/accounts.csv and out/cards.html.

    `instructor` names the instructor's user (default: the one of an earlier run, else `instructor`).
    `progress(items, total)` may wrap the loop that makes the accounts (a progress bar)."""
    earlier = {account.user: account for account in read_accounts(out)} if (out / ACCOUNTS).exists() else {}
    instructor = instructor or next((a.user for a in earlier.values() if a.role == "instructor"), INSTRUCTOR)
    students = read_roster(roster, instructor=instructor)
    api = Management.from_settings(settings)
    if "administrator" not in _tags(api.whoami()):
        raise ProvisionError(f"{settings.amqp.user!r} is not an administrator of the broker: provisioning "
                             "needs one (RABBITMQ_URL or RABBITMQ_MANAGEMENT_URL with such a user)")
    tag, live = marker(settings.workshop), settings.amqp.vhost
    people = [Student("Instructor", "", instructor)] + students
    users = {person.id: api.user(person.id) for person in people}
    vhosts = {s.id: api.vhost(s.id) for s in students}
    problems = [_not_ours("a broker user", sid, record, tag, instructor)
                for sid, record in (*users.items(), *vhosts.items())
                if record is not None and tag not in _tags(record)]
    problems += [f"{sid!r} exists on the broker but its password is not in {out / ACCOUNTS}: run again with "
                 "--rotate to give every account a new one" for sid, user in users.items()
                 if user is not None and tag in _tags(user) and sid not in earlier and not rotate]
    if problems:
        raise ProvisionError("nothing was changed:\n" + "\n".join(f"  {line}" for line in problems))

    connection = broker.connect(settings.rabbitmq_url)
    try:  # so that a registration sent before the grader first starts waits for it
        declare_protocol(connection, settings.workshop)
    finally:
        connection.close()
    address, report = settings.amqp, Report([], [], [], [], [])
    steps = progress(people, len(people)) if progress else people
    for person in steps:
        role = "instructor" if person.id == instructor else "student"
        vhost = live if role == "instructor" else person.id
        exists = users[person.id] is not None
        password = earlier[person.id].password if exists and not rotate else _password()
        if not exists or rotate:
            api.put_user(person.id, password, tags=f"{'administrator' if role == 'instructor' else 'management'},{tag}")
            (report.rotated if exists else report.made).append(person.id)
        else:
            report.kept.append(person.id)
        if role == "student":
            if vhosts[person.id] is None:
                api.put_vhost(person.id, description=f"the lessons of {person.name} ({settings.workshop})", tags=tag)
            api.grant(person.id, person.id, **EVERYTHING)
            api.grant(person.id, instructor, **EVERYTHING)
            api.grant(live, person.id, **live_permissions(settings.workshop, person.id))
        else:
            api.grant(live, instructor, **EVERYTHING)
        mine = address.__class__(address.host, address.port, person.id, password, live, address.scheme)
        report.accounts.append(Account(person.name, person.email, role, person.id, password, vhost,
                                       mine.url(vhost=vhost), mine.url()))
    on_roster = {account.user for account in report.accounts}
    for user, account in earlier.items():
        if user not in on_roster:
            report.off_roster.append(user)
            report.accounts.append(account)
    write_private(out / ACCOUNTS, accounts_csv(report.accounts))
    write_private(out / CARDS, cards.render(report.accounts, workshop=settings.workshop, join_url=join_url))
    return report


def _not_ours(kind: str, name: str, record: dict, tag: str, instructor: str) -> str:
    """Why `name` cannot be provisioned: it exists on the broker and is not this workshop's."""
    what = "a vhost" if "tracing" in record or "cluster_state" in record else kind
    others = sorted(t.removeprefix("workshop.") for t in _tags(record) if t.startswith("workshop."))
    if others:
        fix = (" (a workshop on the same broker): give this workshop's instructor another user with --instructor"
               if name == instructor else " (a workshop on the same broker): the same person in two workshops "
               "needs another name on one roster, or one workshop at a time")
        return f"{what} {name!r} was made for the workshop {', '.join(others)}{fix}"
    return f"{what} {name!r} exists that `workshop provision` did not make: remove it, or change that name on the roster"


def teardown(settings: Settings, out: Path) -> list[str]:
    """Remove what `provision` made (users, and the students' vhosts with all they hold), the
    students' task and answers queues on the live vhost, the system users the room's JupyterHub
    made for them (as root), and the files that hold passwords. The protocol's shared queues, the
    score store and the room's other files stay.

    Only what is listed in out/accounts.csv and carries this workshop's tag: the live vhost, and
    anything made by hand, stay. Returns what was removed, a line each."""
    accounts = read_accounts(out)
    api = Management.from_settings(settings)
    tag, removed = marker(settings.workshop), []
    connection = broker.connect(settings.rabbitmq_url)
    try:  # the students' own queues on the live vhost, which the grader made when they registered
        channel = connection.channel()
        for account in accounts:
            if account.role == "student":
                for queue in (names.tasks_queue(settings.workshop, account.user),
                              names.answers_queue(settings.workshop, account.user)):
                    channel.queue_delete(queue)  # deleting a queue that is not there is fine
                    removed.append(f"queue {queue}")
    finally:
        connection.close()
    for account in accounts:
        if account.role == "student" and tag in _tags(api.vhost(account.vhost)):
            api.delete_vhost(account.vhost)
            removed.append(f"vhost {account.vhost}")
        if tag in _tags(api.user(account.user)) and api.delete_user(account.user):
            removed.append(f"user {account.user}")
        if os.geteuid() == 0 and users.remove(account.user):  # the room's system user (grader.classroom.hub)
            removed.append(f"system user {users.system_name(account.user)}")
    for name in (ACCOUNTS, CARDS, "hub/room.json"):  # the hub's copy of the accounts holds passwords too
        (out / name).unlink(missing_ok=True)
    return removed

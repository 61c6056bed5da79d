"""The chat exercise, graded: what a chat message says, who said it, and what it scores.

Lesson 11's chat has four exchanges, one for each way of speaking (`grader.names.CHAT_KINDS`):
to everyone (`W.chat.all`), to a topic (`W.chat.topics`), to one person (`W.chat.direct`, the
routing key is their id) and to chosen people (`W.chat.chosen`, a header per recipient). The
grader joins the chat as `grader`: it hears everything said to everyone and to any topic, and
what is said to it directly or with it among the chosen. Each way of speaking scores one point,
once per registered student; a message is `{"from": <name>, "text": <text>}`.

Who said it: the name in "from" (protocol version 1), or in a room with accounts the message's
broker-checked `user_id`, with "from" that student's name (`grader.live.accounts`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from grader import names
from grader.live.accounts import Room
from grader.live.identity import BadName, clean_name, student_id
from grader.live.protocol import Registration, Rejected, decode
from grader.live.store import Store
from grader.live.tables import chat_spoken, students

GRADER = "grader"  # the grader's id in the chat: direct messages to it use this routing key
EXERCISE = "chat"
WAYS = {  # how each way of speaking is named to the student
    "all": "to everyone (W.chat.all)",
    "topics": "to a topic (W.chat.topics)",
    "direct": "to one person, the grader (W.chat.direct, routing key 'grader')",
    "chosen": "to chosen people, the grader among them (W.chat.chosen)",
}
EXAMPLE = '{"from": "Your Name", "text": "hello"}'


@dataclass(frozen=True)
class Said:
    """A chat message as the grader understood it. `slug` is who to answer (None: nobody can be)."""

    kind: str
    slug: str | None
    name: str | None = None
    text: str = ""
    problem: str | None = None  # why it cannot score, for the student


def kind_of(workshop: str, exchange: str) -> str | None:
    """Which way of speaking came through `exchange` (None for anything but the chat's four)."""
    for kind in names.CHAT_KINDS:
        if exchange == names.chat_exchange(workshop, kind):
            return kind
    return None


def read(kind: str, body: bytes, user_id: str | None, room: Room | None = None) -> Said:
    """What was said, by whom; never raises on any body."""
    known = user_id if room is not None and user_id in room.students else None  # someone we can answer
    try:
        data = decode(body)
        name, text = data.get("from"), data.get("text")
        if not isinstance(name, str) or not isinstance(text, str):
            raise Rejected(f'a chat message is JSON with the strings "from" and "text": {EXAMPLE}')
        try:
            name = clean_name(name)
            slug = student_id(name)
        except BadName as exc:
            raise Rejected(str(exc)) from None
    except Rejected as exc:
        return Said(kind, known, problem=str(exc))
    if room is not None:
        admitted = room.admit(user_id, Registration(name, slug))
        if isinstance(admitted, Rejected):
            return Said(kind, known, name, text, problem=str(admitted))
        name = admitted.name
    return Said(kind, slug, name, text)


@dataclass(frozen=True)
class Spoken:
    registered: bool
    scored: bool = False
    total: int = 0
    kinds: frozenset[str] = frozenset()


def score(store: Store, slug: str, kind: str, at: float) -> Spoken:
    """Record that `slug` spoke `kind`, with its point and a verdict the first time; one
    transaction. Speaking that way again only reads: chatting on writes nothing."""
    dialect = postgresql if store.postgres else sqlite

    def work(tx) -> Spoken:
        query = select(students.c.points).where(students.c.workshop == store.workshop, students.c.slug == slug)
        points = tx.connection.scalar(query)
        if points is None:
            return Spoken(registered=False)
        kinds = frozenset(tx.connection.scalars(select(chat_spoken.c.kind).where(
            chat_spoken.c.workshop == store.workshop, chat_spoken.c.slug == slug)))
        if kind in kinds:  # without a lock: saying it again changes nothing
            return Spoken(True, False, points, kinds)
        if store.postgres:  # about to score: nobody else changes the points meanwhile
            points = tx.connection.scalar(query.with_for_update())
            if points is None:
                return Spoken(registered=False)
        added = tx.connection.execute(dialect.insert(chat_spoken).values(
            workshop=store.workshop, slug=slug, kind=kind, at=at).on_conflict_do_nothing()
            .returning(chat_spoken.c.kind)).first() is not None
        if not added:  # another chat grader was quicker
            return Spoken(True, False, points, kinds | {kind})
        points, kinds = points + 1, kinds | {kind}
        tx.connection.execute(update(students).where(students.c.workshop == store.workshop, students.c.slug == slug)
                              .values(chat_points=students.c.chat_points + 1, points=points, reached_at=at))
        digest = hashlib.sha256(f"chat\0{slug}\0{kind}".encode()).hexdigest()  # once per student and way
        tx.record([{"digest": digest, "kind": "solved", "exercise": EXERCISE, "slug": slug, "n": None, "ok": True,
                    "points": 1, "total": points, "message": sentence(kind, True, kinds), "reason": "", "at": at}])
        return Spoken(True, True, points, kinds)

    return store.run_transaction(work)


def sentence(kind: str, scored: bool, kinds: frozenset[str]) -> str:
    done = len(kinds)
    missing = [WAYS[k] for k in names.CHAT_KINDS if k not in kinds]
    head = f"✔ you spoke {WAYS[kind]}: 1 point" if scored else f"you already scored for speaking {WAYS[kind]}"
    tail = f"; still to try: {'; '.join(missing)}" if missing else "; that is all four, well done"
    return f"{head} (chat: {done} of {len(names.CHAT_KINDS)} ways){tail}"


def answer(said: Said, spoken: Spoken | None) -> str | None:
    """The grader's reply in the chat, or None when it should stay quiet (a message to everyone
    that scores nothing is not answered: the grader would flood the chat)."""
    addressed = said.kind in ("direct", "chosen")
    if said.problem is not None:
        return f"✘ this message cannot score: {said.problem}"
    if spoken is None or not spoken.registered:
        return ("✘ register first (lesson 10: publish your name to the queue 'name'); then every way of "
                "speaking scores")
    if spoken.scored or addressed:
        text = sentence(said.kind, spoken.scored, spoken.kinds)
        return f"Hello {said.name}: {text}" if addressed else text
    return None

"""Grading a batch of messages: decode, validate, check, record. No broker I/O here.

Each message becomes an `Outcome`; the whole batch is recorded in one transaction, and only
then (in the consumer) are replies sent and the messages acked.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from dataclasses import dataclass, field, replace

from grader import names
from grader.live import checks, protocol
from grader.live.checks import Action, Known, Verdict
from grader.live.protocol import FIBONACCI, REGISTER, Answer, Registration, Rejected
from grader.live.store import Store, Transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """One message as it arrived, with what grading needs from its envelope."""

    queue: str
    body: bytes
    tag: int = 0
    redelivered: bool = False
    reply_to: str | None = None
    correlation_id: str | None = None
    message_id: str | None = None

    @functools.cached_property
    def key(self) -> str:
        """The same for every redelivery of this message (its message_id, else a digest)."""
        if self.message_id:
            return self.message_id[:64]
        digest = hashlib.sha256()
        for part in (self.queue, self.correlation_id or "", self.reply_to or ""):
            digest.update(part.encode() + b"\0")
        digest.update(self.body)
        return digest.hexdigest()[:40]


@dataclass(frozen=True)
class Outcome:
    delivery: Delivery
    verdict: Verdict
    total: int = 0
    slug: str | None = None
    n: int | None = None
    replayed: bool = False  # a redelivery whose verdict was already recorded

    @property
    def rejected(self) -> bool:
        return bool(self.verdict.reason)

    def feedback(self) -> dict:
        """The JSON body of the reply to `reply_to`."""
        return {"ok": self.verdict.ok, "exercise": self.verdict.exercise, "points": self.verdict.points,
                "total": self.total, "message": self.verdict.message}


def exercise_of(delivery: Delivery) -> str:
    return REGISTER if delivery.queue == names.REGISTER_QUEUE else FIBONACCI


def parse(delivery: Delivery) -> Registration | Answer:
    """Decode and validate; raises `Rejected`."""
    if exercise_of(delivery) == REGISTER:
        return protocol.registration(delivery.body)
    return protocol.answer(delivery.body)


@dataclass
class State:
    """What the store knows about the students and tasks of one batch, kept up to date while the
    batch is judged in order."""

    students: dict[str, tuple[str, int]]  # slug -> (name, points)
    tasks: dict[tuple[str, int], bool]  # (slug, n) -> solved
    registered: list[tuple[str, str]] = field(default_factory=list)  # (slug, name) registered by this batch
    solved: list[tuple[str, int]] = field(default_factory=list)  # tasks solved by this batch

    def known(self, slug: str, n: int | None = None) -> Known:
        name = self.students.get(slug, (None, 0))[0]
        dealt = n is not None and (slug, n) in self.tasks
        return Known(registered_as=name, task_dealt=dealt, task_solved=dealt and self.tasks[(slug, n)])

    def points(self, slug: str) -> int:
        return self.students.get(slug, ("", 0))[1]

    def add_point(self, slug: str) -> None:
        name, points = self.students[slug]
        self.students[slug] = (name, points + 1)


def judge(delivery: Delivery, message: Registration | Answer | Rejected, state: State, workshop: str) -> Outcome:
    """The verdict on one message, given (and updating) what is known. Pure: no I/O."""
    if isinstance(message, Rejected):
        return Outcome(delivery, checks.rejection(str(message), exercise_of(delivery)))
    if isinstance(message, Registration):
        verdict = checks.check_registration(message, state.known(message.slug), workshop)
        if verdict.action is Action.REGISTER:
            state.students[message.slug] = (message.name, 1)
            state.registered.append((message.slug, message.name))
        return Outcome(delivery, verdict, state.points(message.slug), message.slug)
    verdict = checks.check_answer(message, state.known(message.slug, message.n), workshop)
    if verdict.action is Action.SOLVE:
        state.tasks[(message.slug, message.n)] = True
        state.solved.append((message.slug, message.n))
        state.add_point(message.slug)
    return Outcome(delivery, verdict, state.points(message.slug), message.slug, message.n)


def parse_safely(delivery: Delivery) -> Registration | Answer | Rejected:
    try:
        return parse(delivery)
    except Rejected as exc:
        return exc
    except Exception:  # a bug must cost one message, never the grader
        log.exception("could not parse delivery %s", delivery.key)
        return Rejected("the grader could not read this message")


def grade_batch(store: Store, deliveries: list[Delivery]) -> list[Outcome]:
    """Grade and record `deliveries` in one transaction, retried as a whole when another grader
    changed the same students or tasks meanwhile. Returns an outcome per delivery, in order."""
    messages = [parse_safely(delivery) for delivery in deliveries]
    slugs = {m.slug for m in messages if not isinstance(m, Rejected)}
    pairs = {(m.slug, m.n) for m in messages if isinstance(m, Answer)}

    def work(tx: Transaction) -> list[Outcome]:
        now = time.time()
        previous = tx.previous({d.key for d in deliveries if d.redelivered})
        state = State(tx.students(slugs), tx.tasks(pairs))
        outcomes = [replay(d, previous[d.key]) if d.key in previous else judge(d, m, state, tx.workshop)
                    for d, m in zip(deliveries, messages)]
        for slug, name in state.registered:
            tx.register(slug, name, now)
        tx.solve(state.solved, now)
        outcomes = _with_true_totals(outcomes, state, tx)
        tx.record([_row(outcome, now) for outcome in outcomes if not outcome.replayed])
        return outcomes

    return store.run_transaction(work)


def _with_true_totals(outcomes: list[Outcome], state: State, tx: Transaction) -> list[Outcome]:
    """Another grader may have added points to the same students since the batch was loaded; the
    rows are ours now (updated, so locked), so read their real totals and shift ours to match."""
    changed = {slug for slug, _ in state.solved}
    drift = {slug: points - state.points(slug) for slug, (_, points) in tx.students(changed).items()}
    if not any(drift.values()):
        return outcomes
    return [replace(o, total=o.total + drift[o.slug]) if not o.replayed and drift.get(o.slug) else o
            for o in outcomes]


def replay(delivery: Delivery, previous: dict) -> Outcome:
    """A redelivered message whose verdict was recorded before the grader died: the same again."""
    verdict = Verdict(previous["ok"], previous["exercise"], previous["points"], previous["message"],
                      reason=previous["reason"])
    return Outcome(delivery, verdict, previous["total"], previous["slug"], previous["n"], replayed=True)


def _row(outcome: Outcome, now: float) -> dict:
    verdict = outcome.verdict
    return {"delivery": outcome.delivery.key, "exercise": verdict.exercise, "slug": outcome.slug,
            "n": outcome.n, "ok": verdict.ok, "points": verdict.points, "total": outcome.total,
            "message": verdict.message, "reason": verdict.reason, "at": now}

"""Grading a batch of messages: decode, validate, check, record. No broker I/O here.

Each message becomes an `Outcome`; the whole batch is recorded in one transaction, and only
then (in the consumer) are replies sent and the messages acked.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

from grader import checks, names, protocol
from grader.checks import Action, Verdict
from grader.protocol import FIBONACCI, REGISTER, Answer, Registration, Rejected
from grader.store import Store, Transaction

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

    @property
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


def judge(tx: Transaction, delivery: Delivery, now: float) -> Outcome:
    """Check one message against what the store knows, and make its scoring writes."""
    workshop = tx.workshop
    if delivery.redelivered:
        previous = tx.previous(delivery.key)
        if previous is not None:
            verdict = Verdict(previous["ok"], previous["exercise"], previous["points"], previous["message"],
                              reason=previous["reason"])
            return Outcome(delivery, verdict, previous["total"], previous["slug"], previous["n"], replayed=True)
    try:
        message = parse(delivery)
    except Rejected as exc:
        return Outcome(delivery, checks.rejection(str(exc), exercise_of(delivery)))
    except Exception:  # a bug must cost one message, never the grader
        log.exception("could not parse delivery %s", delivery.key)
        return Outcome(delivery, checks.rejection("the grader could not read this message", exercise_of(delivery)))

    if isinstance(message, Registration):
        known, total = tx.known(message.slug)
        verdict = checks.check_registration(message, known, workshop)
        if verdict.action is Action.REGISTER:
            if tx.register(message.slug, message.name, now):
                total = 1
            else:  # another grader registered them a moment ago
                known, total = tx.known(message.slug)
                verdict = checks.check_registration(message, known, workshop)
        return Outcome(delivery, verdict, total, message.slug)

    known, total = tx.known(message.slug, message.n)
    verdict = checks.check_answer(message, known, workshop)
    if verdict.action is Action.SOLVE:
        new_total = tx.solve(message.slug, message.n, now)
        if new_total is None:  # another grader scored this task a moment ago
            known, total = tx.known(message.slug, message.n)
            verdict = checks.check_answer(message, known, workshop)
        else:
            total = new_total
    return Outcome(delivery, verdict, total, message.slug, message.n)


def grade_batch(store: Store, deliveries: list[Delivery]) -> list[Outcome]:
    """Grade and record `deliveries` in one transaction (retried as a whole on conflicts)."""

    def work(tx: Transaction) -> list[Outcome]:
        now = time.time()
        outcomes = [judge(tx, delivery, now) for delivery in deliveries]
        tx.record([_row(outcome, now) for outcome in outcomes if not outcome.replayed])
        return outcomes

    return store.run_transaction(work)


def _row(outcome: Outcome, now: float) -> dict:
    verdict = outcome.verdict
    return {"delivery": outcome.delivery.key, "exercise": verdict.exercise, "slug": outcome.slug,
            "n": outcome.n, "ok": verdict.ok, "points": verdict.points, "total": outcome.total,
            "message": verdict.message, "reason": verdict.reason, "at": now}

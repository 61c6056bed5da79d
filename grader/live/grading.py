"""Grading a batch in one pass: decode, judge against what the store knows, record. No broker I/O.

Each message becomes an `Outcome`; the whole batch is one transaction, and only after its commit
(in the consumer) are replies sent and the messages acked.

A crash between the commit and the ack makes the broker deliver the batch again, flagged as
redelivered. Such a message is judged afresh like any other, so points are always decided by
the store as it is now. Only the words may differ: a message whose first verdict was committed
now finds its own effect ("you already scored F(n)"). It then gets its first verdict again, if
one was recorded for a message with the same digest (same body, same properties) from the same
student, for the same task, and not already given back to another copy by this grader. The
digest is the message's content, so nothing another student sends can match it, and a match
can only ever change a sentence, never a point.
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass, field

from grader import names
from grader.live import checks, protocol
from grader.live.accounts import Room
from grader.live.checks import SCORED_BEFORE, Action, Kind, Known, Verdict
from grader.live.envelope import Delivery
from grader.live.fairness import ANONYMOUS, Limiter, Session
from grader.live.protocol import FIBONACCI, REGISTER, Answer, Registration, Rejected
from grader.live.store import Store, Transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    delivery: Delivery
    verdict: Verdict
    total: int = 0  # the student's points after this message
    slug: str | None = None
    n: int | None = None
    replayed: bool = False  # the verdict recorded the first time this message was graded
    recorded: bool = True  # a new verdict row (not for replays, nor for throttled messages)
    reply: bool = True  # answer the student (throttled messages get one reply a second at most)

    @property
    def rejected(self) -> bool:
        """Broke the protocol: copied to `W.rejected` with the reason."""
        return self.verdict.kind == Kind.REJECTED

    def feedback(self) -> dict:
        """The JSON body of the reply to `reply_to`."""
        return {"ok": self.verdict.ok, "exercise": self.verdict.exercise, "points": self.verdict.points,
                "total": self.total, "message": self.verdict.message}


def exercise_of(delivery: Delivery) -> str:
    return REGISTER if delivery.queue == names.REGISTER_QUEUE else FIBONACCI


def parse(delivery: Delivery) -> Registration | Answer | Rejected:
    """Decode and validate; a message that breaks the protocol comes back as its `Rejected`."""
    exercise = exercise_of(delivery)
    if len(delivery.body) <= CACHED_BODY:
        return _parse_cached(exercise, delivery.body)
    return _parse(exercise, delivery.body)


CACHED_BODY = 512  # bodies up to this size are parsed once (a flood repeats the same body)


def _parse(exercise: str, body: bytes) -> Registration | Answer | Rejected:
    try:
        return protocol.registration(body) if exercise == REGISTER else protocol.answer(body)
    except Rejected as exc:
        return exc
    except Exception:  # a bug must cost one message, never the grader
        log.exception("could not parse a message for %s", exercise)
        return Rejected("the grader could not read this message")


_parse_cached = functools.lru_cache(maxsize=4096)(_parse)


@dataclass
class State:
    """What the store knows about the students and tasks of one batch, kept up to date while the
    batch is judged in order."""

    students: dict[str, tuple[str, int]]  # slug -> (name, points)
    tasks: dict[tuple[str, int], bool]  # (slug, n) -> solved
    registered: list[tuple[str, str]] = field(default_factory=list)  # (slug, name) registered by this batch
    solved: list[tuple[str, int]] = field(default_factory=list)  # tasks solved by this batch
    seats: int | None = None  # how many more students may register (None: no limit)

    def known(self, slug: str, n: int | None = None) -> Known:
        name = self.students.get(slug, (None, 0))[0]
        dealt = n is not None and (slug, n) in self.tasks
        return Known(registered_as=name, task_dealt=dealt, task_solved=dealt and self.tasks[(slug, n)],
                     seats=self.seats)

    def points(self, slug: str | None) -> int:
        return self.students.get(slug, ("", 0))[1] if slug else 0


@dataclass
class Batch:
    """One attempt at judging a batch: the state, the earlier verdicts, the limiter's decisions."""

    state: State
    workshop: str
    previous: dict[str, list[dict]]
    session: Session
    now: float
    claimed: set[int] = field(default_factory=set)  # earlier verdict rows given back (by this grader, so far)

    def judge(self, delivery: Delivery, message: Registration | Answer | Rejected) -> Outcome:
        slug, n, key = _names(delivery, message)
        if key in self.session.changed:  # allowance used up in this very batch (before it, see grade_batch)
            throttled = _throttled(self.session, delivery, message, self.now, self.state.points(slug), self.workshop)
            if throttled is not None:
                return throttled
        verdict = self._verdict(delivery, message, slug, n)
        if delivery.redelivered and verdict.action is Action.NONE:
            earlier = self._earlier(delivery, verdict, slug, n)
            if earlier is not None:
                return earlier
        if verdict.action is Action.REGISTER:
            self.state.students[slug] = (message.name, 1)
            self.state.registered.append((slug, message.name))
            if self.state.seats is not None:
                self.state.seats -= 1
        elif verdict.action is Action.SOLVE:
            self.state.tasks[(slug, n)] = True
            self.state.solved.append((slug, n))
            name, points = self.state.students[slug]
            self.state.students[slug] = (name, points + 1)
        reply = recorded = True
        if verdict.kind in checks.MISSES:
            # The row is paid for by the registered student named, or by everyone nobody can be named from.
            named = slug or _signer(message)
            payer = named if named in self.state.students else ANONYMOUS
            recorded = not self.session.wait(payer, self.now)
            self.session.charge(key, self.now)
            if payer != key:
                self.session.charge(payer, self.now)
            if verdict.kind == Kind.REJECTED and self.session.wait(key, self.now):
                reply = self.session.may_reply(key, self.now)  # still judged and copied; answered 1/s at most
        return Outcome(delivery, verdict, self.state.points(slug or _signer(message)), slug, n, reply=reply,
                       recorded=recorded)

    def _verdict(self, delivery: Delivery, message, slug: str | None, n: int | None) -> Verdict:
        if isinstance(message, Rejected):
            return checks.rejection(str(message), exercise_of(delivery))
        if isinstance(message, Registration):
            return checks.check_registration(message, self.state.known(slug), self.workshop)
        return checks.check_answer(message, self.state.known(slug, n), self.workshop,
                                   names.answers_owner(delivery.queue, self.workshop))

    def _earlier(self, delivery: Delivery, verdict: Verdict, slug: str | None, n: int | None) -> Outcome | None:
        """The verdict this very message got before a crash, if the store has it."""
        for row in self.previous.get(delivery.key, ()):
            if row["id"] in self.claimed or (row["slug"], row["n"], row["exercise"]) != (slug, n, verdict.exercise):
                continue
            if row["kind"] == verdict.kind or row["kind"] == SCORED_BEFORE.get(verdict.kind):
                self.claimed.add(row["id"])
                earlier = Verdict(row["ok"], row["exercise"], row["points"], row["message"], reason=row["reason"],
                                  kind=row["kind"])
                return Outcome(delivery, earlier, row["total"], slug, n, replayed=True, recorded=False)
        return None


def _signer(message) -> str | None:
    """The student a rejected message was signed by, if it got that far: their total goes in the feedback."""
    return message.student if isinstance(message, Rejected) else None


def _names(delivery: Delivery, message) -> tuple[str | None, int | None, str | None]:
    """The student's id, the task's n, and whose allowance the message counts against."""
    slug = getattr(message, "slug", None)
    n = message.n if isinstance(message, Answer) else None
    return slug, n, slug or (f"reply-to:{delivery.reply_to}" if delivery.reply_to else None)


def _throttled(session: Session, delivery: Delivery, message, now: float, total: int,
               workshop: str) -> Outcome | None:
    """The "slow down" outcome for a wrong answer whose student has no allowance left. Only an
    answer that cannot score is ever left ungraded (a wrong one, or one in another student's
    answers queue): anyone can write anyone's name, so a registration or a right answer is always
    graded (it may score), and a reject is always judged (it must reach W.rejected)."""
    if not isinstance(message, Answer):
        return None
    owner = names.answers_owner(delivery.queue, workshop)
    if message.fn == checks.fibonacci(message.n) and owner in (None, message.slug):
        return None
    slug, n, key = _names(delivery, message)
    wait = session.wait(key, now)
    if not wait:
        return None
    limiter = session.limiter
    verdict = checks.throttled(exercise_of(delivery), wait, limiter.allowance, limiter.period)
    return Outcome(delivery, verdict, total, slug, n, recorded=False, reply=session.may_reply(key, now))


def grade_batch(store: Store, deliveries: list[Delivery], limiter: Limiter | None = None, *,
                clock=time.monotonic, claimed: set[int] | None = None, room: Room | None = None,
                max_students: int | None = None) -> list[Outcome]:
    """Grade and record `deliveries` in one transaction (retried as a whole when another grader
    got in the way). Returns an outcome per delivery, in order. Messages of students already out
    of allowance cost no database work at all. `claimed`: the earlier verdicts already given back
    to redelivered messages, kept by the caller from batch to batch (and updated after the commit),
    so that two identical copies never both get the one that scored. `room`: protocol version 2,
    where the sender is the message's `user_id` (`grader.live.accounts`). `max_students`: the most
    the workshop takes; a registration beyond is refused (each student costs two queues on the broker)."""
    limiter = limiter if limiter is not None else Limiter(allowance=0)
    messages = [parse(delivery) for delivery in deliveries]
    if room is not None:
        messages = [room.admit(delivery.user_id, message) for delivery, message in zip(deliveries, messages)]
    early = limiter.session()
    now = clock()
    outcomes: list[Outcome | None] = [
        _throttled(early, d, m, now, limiter.totals.get(getattr(m, "slug", None), 0), store.workshop)
        for d, m in zip(deliveries, messages)]
    early.commit()
    todo = [i for i, outcome in enumerate(outcomes) if outcome is None]
    if todo:
        for i, outcome in zip(todo, _grade_in_store(store, [deliveries[i] for i in todo], [messages[i] for i in todo],
                                                    limiter, clock, set() if claimed is None else claimed,
                                                    max_students)):
            outcomes[i] = outcome
    limiter.remember({o.slug: o.total for o in outcomes if o.slug and not o.replayed})
    return outcomes


def _grade_in_store(store: Store, deliveries: list[Delivery], messages: list, limiter: Limiter, clock,
                    claimed: set[int], max_students: int | None) -> list[Outcome]:
    slugs = {slug for slug in (getattr(m, "slug", None) or _signer(m) for m in messages) if slug}
    pairs = {(m.slug, m.n) for m in messages if isinstance(m, Answer)}
    digests = {d.key for d in deliveries if d.redelivered}
    count = max_students is not None and any(isinstance(m, Registration) for m in messages)

    def work(tx: Transaction) -> tuple[list[Outcome], Batch]:
        loaded = tx.load(slugs, pairs, digests, count=count)
        seats = max_students - loaded.headcount if count else None
        batch = Batch(State(loaded.students, loaded.tasks, seats=seats), tx.workshop, loaded.previous,
                      limiter.session(), clock(), set(claimed))
        outcomes = [batch.judge(d, m) for d, m in zip(deliveries, messages)]
        at = time.time()
        # A redelivered message's fresh verdict is its own: no identical copy may take it back later.
        redelivered = [_row(o, at) for o in outcomes if o.recorded and o.delivery.redelivered]
        batch.claimed.update(tx.apply(batch.state.registered, batch.state.solved,
                                      [_row(o, at) for o in outcomes if o.recorded and not o.delivery.redelivered],
                                      at, keep_ids=redelivered))
        return outcomes, batch

    outcomes, batch = store.run_transaction(work)
    batch.session.commit()
    claimed |= batch.claimed
    return outcomes


def _row(outcome: Outcome, at: float) -> dict:
    verdict = outcome.verdict
    return {"digest": outcome.delivery.key, "kind": verdict.kind, "exercise": verdict.exercise,
            "slug": outcome.slug, "n": outcome.n, "ok": verdict.ok, "points": verdict.points, "total": outcome.total,
            "message": verdict.message, "reason": verdict.reason, "at": at}

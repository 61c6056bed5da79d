"""A fair share for every student: an allowance of messages that score nothing.

Each student (or, for a message nobody can be named from, its reply queue) has a bucket of
`allowance` tokens that refills evenly over `period` seconds, the way CTFd allows 10 wrong flags a
minute. A wrong answer, a repeated one, an answer to a task never dealt, a reject: each takes a
token. With the bucket empty, the student's wrong answers are not graded until it refills: they
get one "slow down" reply a second at most and cost no database work. Their rejects are still
judged and copied, and answered once a second. A right answer or a registration is always
graded: the name in a message is whatever its sender wrote, so nobody can use up someone else's
allowance to stop them scoring.

A message that scores nothing is recorded in the store (a verdict row) only while its payer has a
token: the registered student it names, or else `ANONYMOUS`, one bucket `ANONYMOUS_SHARE` times as
large for everything no registered student can be named from (made-up names, unreadable
messages). However many names a sender makes up, the rows they cost are bounded per `period`
(with an allowance of 0, nothing is limited). Pure: the caller passes the time.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

ALLOWANCE = 10
PERIOD = 60.0
REPLY_EVERY = 1.0  # seconds between two "slow down" replies to the same student
MAX_KEYS = 50_000  # buckets kept; the least recently used go first (a full bucket is no loss)
# Without accounts anyone may register any name, and every student costs two queues on the broker
# (RabbitMQ 3.10 at the usual limit of 1,024 open files runs out at a few hundred): a limit.
MAX_STUDENTS = 200
ANONYMOUS = "\0anonymous"  # the payer of messages that name no registered student (no id can look like it)
ANONYMOUS_SHARE = 10


@dataclass
class Bucket:
    level: float
    at: float
    replied_at: float = float("-inf")


@dataclass
class Limiter:
    allowance: int = ALLOWANCE
    period: float = PERIOD
    buckets: OrderedDict[str, Bucket] = field(default_factory=OrderedDict)
    totals: dict[str, int] = field(default_factory=dict)  # each student's points as last graded, for "slow down"

    def remember(self, totals: dict[str, int]) -> None:
        self.totals.update(totals)
        if len(self.totals) > MAX_KEYS:
            self.totals.clear()

    @property
    def enabled(self) -> bool:
        return self.allowance > 0

    def session(self) -> Session:
        """Decisions for one batch, kept apart until `Session.commit()` (a batch may be graded again)."""
        return Session(self)

    def capacity(self, key: str) -> int:
        return self.allowance * ANONYMOUS_SHARE if key == ANONYMOUS else self.allowance

    def _bucket(self, key: str, now: float) -> Bucket:
        found, capacity = self.buckets.get(key), self.capacity(key)
        if found is None:
            return Bucket(float(capacity), now)
        level = min(float(capacity), found.level + (now - found.at) * capacity / self.period)
        return Bucket(level, now, found.replied_at)

    def _store(self, key: str, bucket: Bucket) -> None:
        self.buckets[key] = bucket
        self.buckets.move_to_end(key)
        while len(self.buckets) > MAX_KEYS:
            self.buckets.popitem(last=False)


@dataclass
class Session:
    limiter: Limiter
    changed: dict[str, Bucket] = field(default_factory=dict)

    def _bucket(self, key: str, now: float) -> Bucket:
        if key not in self.changed:
            self.changed[key] = self.limiter._bucket(key, now)
        return self.changed[key]

    def wait(self, key: str | None, now: float) -> float:
        """Seconds until `key` may send a message that scores nothing again (0: now)."""
        if key is None or not self.limiter.enabled:
            return 0.0
        level = self._bucket(key, now).level
        return 0.0 if level >= 1 else (1 - level) * self.limiter.period / self.limiter.capacity(key)

    def charge(self, key: str | None, now: float) -> None:
        """`key` sent a message that scored nothing."""
        if key is not None and self.limiter.enabled:  # no debt: the bucket refills from empty, never from below
            bucket = self._bucket(key, now)
            bucket.level = max(0.0, bucket.level - 1)

    def may_reply(self, key: str | None, now: float) -> bool:
        """May a throttled message of `key` be answered (once every REPLY_EVERY seconds)?"""
        if key is None:
            return True
        bucket = self._bucket(key, now)
        if now - bucket.replied_at < REPLY_EVERY:
            return False
        bucket.replied_at = now
        return True

    def commit(self) -> None:
        for key, bucket in self.changed.items():
            self.limiter._store(key, bucket)
        self.changed.clear()

"""The verdicts: a message and what the store knows in, a verdict out. Pure, no I/O.

The sentences are what the student reads in the feedback; a wrong answer never reveals the
right value.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import Enum

from grader import names
from grader.live.protocol import FIBONACCI, MAX_N, REGISTER, Answer, Registration


def _fibonacci_table(limit: int) -> tuple[int, ...]:
    values = [0, 1]
    while len(values) <= limit:
        values.append(values[-1] + values[-2])
    return tuple(values)


FIBONACCI_NUMBERS = _fibonacci_table(MAX_N)


def fibonacci(n: int) -> int:
    """F(n) with F(0) = 0 and F(1) = 1, for 0 <= n <= 1000."""
    return FIBONACCI_NUMBERS[n]


class Action(Enum):
    NONE = "none"  # record the verdict only
    REGISTER = "register"  # add the student
    SOLVE = "solve"  # mark the task solved and add the point


class Kind:
    """What a verdict says, in one word (stored with it)."""

    REGISTERED = "registered"
    ALREADY_REGISTERED = "already-registered"
    CORRECT = "correct"
    ALREADY_SOLVED = "already-solved"
    WRONG = "wrong"
    NOT_DEALT = "not-dealt"
    NOT_REGISTERED = "not-registered"
    NOT_YOURS = "not-yours"  # sent to another student's answers queue
    FULL = "full"  # a registration when the workshop has all the students it takes
    REJECTED = "rejected"
    THROTTLED = "throttled"  # not graded at all: the student sent too many that scored nothing


# A message graded again after a crash finds its own earlier verdict already applied: the
# "already" verdict it gets now stands for the scoring one it got then.
SCORED_BEFORE = {Kind.ALREADY_REGISTERED: Kind.REGISTERED, Kind.ALREADY_SOLVED: Kind.CORRECT}
# what counts against a student's allowance of messages that score nothing
MISSES = {Kind.ALREADY_REGISTERED, Kind.ALREADY_SOLVED, Kind.WRONG, Kind.NOT_DEALT, Kind.NOT_REGISTERED,
          Kind.NOT_YOURS, Kind.REJECTED, Kind.FULL}


@dataclass(frozen=True)
class Verdict:
    ok: bool
    exercise: str
    points: int
    message: str
    action: Action = Action.NONE
    reason: str = ""  # for rejects: why the message broke the protocol
    kind: str = Kind.REJECTED


@dataclass(frozen=True)
class Known:
    """What the store knows that the verdict depends on."""

    registered_as: str | None = None  # the name the student registered with, if registered
    task_dealt: bool = False  # a task with this n was dealt to this student
    task_solved: bool = False  # ... and was already scored
    seats: int | None = None  # how many more students the workshop takes (None: no limit)


def check_registration(message: Registration, known: Known, workshop: str) -> Verdict:
    if known.registered_as is not None:
        return Verdict(
            True, REGISTER, 0,
            f"You are already registered as `{message.slug}` (as {known.registered_as!r}); "
            "registering again scores nothing more.", kind=Kind.ALREADY_REGISTERED,
        )
    if known.seats is not None and known.seats <= 0:
        return Verdict(
            False, REGISTER, 0,
            "The workshop is full: it has all the students its grader takes, so nobody new can register. "
            "Tell the instructor (--max-students of workshop serve and workshop grade, or WORKSHOP_MAX_STUDENTS, "
            "raises the limit).", kind=Kind.FULL,
        )
    queue = names.tasks_queue(workshop, message.slug)
    return Verdict(
        True, REGISTER, 1,
        f"Welcome, {message.name}! You are registered as `{message.slug}` (+1 point). "
        f"Your Fibonacci tasks arrive in the queue `{queue}`.",
        Action.REGISTER, kind=Kind.REGISTERED,
    )


def check_answer(message: Answer, known: Known, workshop: str, owner: str | None = None) -> Verdict:
    """`owner`: the student whose answers queue `W.results.<owner>` the answer came from (None
    for the shared `W.results`)."""
    if owner is not None and owner != message.slug:
        return Verdict(
            False, FIBONACCI, 0,
            f"This answer went to `{names.answers_queue(workshop, owner)}`, the answers queue of `{owner}`, "
            f"but it is signed {message.name!r} (`{message.slug}`): send your answers to the `reply_to` of "
            f"your tasks, `{names.answers_queue(workshop, message.slug)}`.", kind=Kind.NOT_YOURS,
        )
    if known.registered_as is None:
        return Verdict(
            False, FIBONACCI, 0,
            f"{message.name!r} is not registered: publish {{\"name\": {message.name!r}}} to the queue "
            f"`{names.REGISTER_QUEUE}` first.", kind=Kind.NOT_REGISTERED,
        )
    queue = names.tasks_queue(workshop, message.slug)
    if not known.task_dealt:
        return Verdict(
            False, FIBONACCI, 0,
            f"No task with n={message.n} was dealt to `{message.slug}`: answer the tasks that arrive "
            f"in your queue `{queue}`.", kind=Kind.NOT_DEALT,
        )
    if known.task_solved:
        return Verdict(False, FIBONACCI, 0, f"You already scored F({message.n}); each task counts once.",
                       kind=Kind.ALREADY_SOLVED)
    if message.fn != fibonacci(message.n):
        return Verdict(
            False, FIBONACCI, 0,
            f"F({message.n}) is not what you sent: check your function (F(0) = 0, F(1) = 1, "
            "F(n) = F(n-1) + F(n-2)) and answer again.", kind=Kind.WRONG,
        )
    return Verdict(True, FIBONACCI, 1, f"Correct: F({message.n}) is right, +1 point.", Action.SOLVE,
                   kind=Kind.CORRECT)


def rejection(reason: str, exercise: str) -> Verdict:
    return Verdict(False, exercise, 0, f"Your message was rejected: {reason}.", reason=reason)


def throttled(exercise: str, wait: float, allowance: int, period: float) -> Verdict:
    return _throttled(exercise, max(1, round(wait)), allowance, period)


@functools.lru_cache(maxsize=1024)  # a flood asks for the same few verdicts thousands of times
def _throttled(exercise: str, seconds: int, allowance: int, period: float) -> Verdict:
    return Verdict(
        False, exercise, 0,
        f"Slow down: you sent more than {allowance} messages that scored nothing within {period:.0f} s. "
        f"This one was not graded; send it again in {seconds} s.", kind=Kind.THROTTLED,
    )

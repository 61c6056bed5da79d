"""What a student reads when the broker says no: sentences instead of tracebacks.

- `explain(exc)`: one sentence for a pika error (a channel or connection the broker closed, a
  broker that cannot be reached), with what to do about it.
- `install()` (run by `from grader import lab`) makes Jupyter show pika's errors that way, as one
  red line that names the line of the cell where it happened, instead of thirty lines of pika.
- `closed_channels()`: the student's own channels (variables of the notebook) that the broker
  has closed since the last cell that ran without an error; a failed check names them, because
  every later call on such a channel fails and the checks would otherwise blame what the student
  did declare.
"""

from __future__ import annotations

import sys
import traceback

import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

RED, GREEN, RESET = "\x1b[1;31m", "\x1b[32m", "\x1b[0m"

ADVICE = {  # AMQP reply codes (closing a channel or a connection) -> what to do, unless the reason says more
    403: "your account may not do this here (permissions): check the name, or ask the instructor",
    404: "it does not exist (yet): declare it first, or check its name",
    405: "another connection holds it exclusively: use a queue of your own",
    406: "the broker refused this command on this channel: see the reason",
    320: "the broker (or the instructor) closed the connection: run the cell that connects again",
    530: "the broker does not allow this here: see the reason",
    541: "the broker hit an internal error on this command",
}
REASONS = (  # (part of the broker's reason, what to do): more precise than the code alone
    ("inequivalent arg", "it already exists with other properties, and the broker never changes an existing "
                         "object. If it is yours, delete it from a new channel (`connection.channel().queue_delete(...)`"
                         ", or `lab.reset(...)` where the lesson offers it) and declare it again; if it is not yours "
                         "(the workshop's, a classmate's), do not delete it: declare it with passive=True, or not at all"),
    ("unknown delivery tag", "that message was acknowledged already, or it was taken with auto_ack=True: ack each "
                             "message taken with manual acks once, on the channel it came on"),
    ("fast reply consumer does not exist", "to use amq.rabbitmq.reply-to, consume from it (auto_ack=True) on the "
                                           "channel you publish from, before you publish"),
    ("no exchange", "the exchange does not exist: declare it first (publishing to a missing exchange closes the channel)"),
    ("no queue", "the queue does not exist (yet): declare it first, or check its name"),
    ("is deprecated", "this RabbitMQ refuses a deprecated feature: for a queue, declare it durable (or exclusive)"),
)
REOPEN = "This channel is closed now: every later call on it fails. Run the cell that opens it again, then this one."
LOST = (pika.exceptions.StreamLostError, pika.exceptions.AMQPHeartbeatTimeout, pika.exceptions.ConnectionClosedByClient)


def explain(exc: BaseException) -> str:
    """A sentence for the student about a pika exception (or `str(exc)` for anything else)."""
    if isinstance(exc, pika.exceptions.ChannelClosedByBroker):
        return (f"The broker closed your channel: ({exc.reply_code}) {exc.reply_text}. "
                f"{_advice(exc.reply_code, exc.reply_text)}. {REOPEN}")
    if isinstance(exc, pika.exceptions.ConnectionClosedByBroker):
        return (f"The broker closed your connection: ({exc.reply_code}) {exc.reply_text}. "
                f"{_advice(exc.reply_code, exc.reply_text)}.")
    if isinstance(exc, LOST):
        return (f"The connection to the broker is gone ({type(exc).__name__}: {exc}): it was idle too long, "
                "or closed, or the broker restarted. Run the cell that connects again, then this one.")
    if isinstance(exc, (pika.exceptions.ChannelWrongStateError, pika.exceptions.ConnectionWrongStateError)):
        return (f"This {'channel' if 'Channel' in type(exc).__name__ else 'connection'} is already closed "
                f"({exc}): run the cell that opens it again, then this one.")
    if isinstance(exc, pika.exceptions.ProbableAuthenticationError):
        return ("The broker refused the user name or password of this connection (is the user there, is the "
                "password right?); the course's own account is in pika.URLParameters(lab.broker_url()).")
    if isinstance(exc, pika.exceptions.ProbableAccessDeniedError):
        return ("The broker refused this virtual host for your user: connect with "
                "pika.URLParameters(lab.broker_url()), which names the course's vhost.")
    if isinstance(exc, pika.exceptions.AMQPConnectionError):
        return ("No broker answered (connection refused or no such host): connect with "
                "pika.URLParameters(lab.broker_url()), and if that fails too, ask the instructor.")
    return f"{type(exc).__name__}: {exc}"


def _advice(code: int, reason: str = "") -> str:
    for part, advice in REASONS:
        if part in reason:
            return advice[0].upper() + advice[1:]
    advice = ADVICE.get(code, "see the reason above")
    return advice[0].upper() + advice[1:]


def _render(self) -> list[str]:
    """IPython's hook for how an exception is shown: our sentence, and the student's line."""
    where = _cell_line(self.__traceback__)
    return [f"{RED}✘ {explain(self)}{RESET}" + (f"\n  (in the cell, line {where[0]}: {where[1]})" if where else "")]


def _cell_line(tb) -> tuple[int, str] | None:
    """The line of the notebook cell (not of pika) where the error was raised."""
    found = None
    for frame, line in traceback.walk_tb(tb):
        name = frame.f_code.co_filename
        if name.startswith("<ipython-input") or "ipykernel_" in name:
            source = traceback.extract_tb(tb)  # cheap enough: only on errors
            text = next((entry.line for entry in source if entry.filename == name and entry.lineno == line), "")
            found = (line, text or "")
    return found


ACKNOWLEDGED: set[int] = set()  # closed channels a cell already lived with: not news for later checks


def install() -> None:
    """Show pika's errors as sentences in Jupyter (a display hook only: the error still fails the
    cell, and nbgrader still counts it); and after every cell that ran without an error, take
    note of the channels closed by then, so that a later failing check does not blame one that a
    lesson (or a passing check) closed on purpose."""
    pika.exceptions.AMQPError._render_traceback_ = _render
    shell = _shell() if "IPython" in sys.modules else None
    if shell is not None and hasattr(shell, "events") and not getattr(shell, "_workshop_lab_hooked", False):
        shell.events.register("post_run_cell", _after_cell)
        shell._workshop_lab_hooked = True


def _after_cell(result) -> None:
    if getattr(result, "success", False):
        ACKNOWLEDGED.update(id(value) for value in _closed_values())


def closed_channels() -> list[tuple[str, str]]:
    """(variable, reason) for every channel or connection among the notebook's variables that
    the broker closed. Empty outside a notebook."""
    shell = _shell() if "IPython" in sys.modules else None
    if shell is None or not hasattr(shell, "user_ns"):
        return []
    found = []
    for variable, value in list(shell.user_ns.items()):
        if variable.startswith("_") or not isinstance(value, (BlockingChannel, BlockingConnection)):
            continue
        reason = _closed_by_broker(value)
        if reason and id(value) not in ACKNOWLEDGED:
            found.append((variable, reason))
    return found


def _closed_values() -> list:
    shell = _shell()
    if shell is None or not hasattr(shell, "user_ns"):
        return []
    return [value for value in list(shell.user_ns.values())
            if isinstance(value, (BlockingChannel, BlockingConnection)) and _closed_by_broker(value)]


def _shell():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _closed_by_broker(value) -> str | None:
    """The broker's reason if it closed this channel or connection, else None."""
    if isinstance(value, BlockingChannel):
        reason = getattr(value, "_closing_reason", None)
        if value.is_closed and isinstance(reason, pika.exceptions.ChannelClosedByBroker):
            return f"({reason.reply_code}) {reason.reply_text}"
        value = value.connection
    if isinstance(value, BlockingConnection) and value.is_closed:
        closed = getattr(value, "_closed_result", None)  # pika 1.x (pinned): how the connection ended
        reason = closed.value.error if closed is not None and closed.ready else None
        if isinstance(reason, pika.exceptions.ConnectionClosedByBroker):
            return f"({reason.reply_code}) {reason.reply_text}"
    return None


def closed_note() -> str:
    """A sentence to put before a failed check when the student's channel was closed, or ''."""
    closed = closed_channels()
    if not closed:
        return ""
    variable, reason = closed[0]
    return (f"Your `{variable}` was closed by the broker: {reason}. Everything after that fails, so this "
            f"check may be wrong about what you did: run the setup cell (the one that opens `{variable}`) "
            "again, then your cells. ")

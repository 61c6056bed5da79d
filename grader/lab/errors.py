"""What a student reads when the broker says no: sentences instead of tracebacks.

- `explain(exc)`: one sentence for a pika error (a channel or connection the broker closed, a
  broker that cannot be reached), with what to do about it.
- `install()` (run by `from grader import lab`) makes Jupyter show pika's errors that way, as one
  red line that names the line of the cell where it happened, instead of thirty lines of pika.
- `closed_channels()`: the student's own channels (variables of the notebook) that the broker
  has closed; a failed check names them, because every later call on such a channel fails and
  the checks would otherwise blame what the student did declare.
"""

from __future__ import annotations

import sys
import traceback

import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

RED, GREEN, RESET = "\x1b[1;31m", "\x1b[32m", "\x1b[0m"

ADVICE = {  # AMQP reply codes (closing a channel or a connection) -> what to do
    403: "your account may not do this here (permissions): check the name, or ask the instructor",
    404: "it does not exist (yet): declare it first, or check its name",
    405: "another connection holds it exclusively: use a queue of your own",
    406: "it already exists with other properties, and the broker never changes an existing object: "
         "delete it from a new channel (`connection.channel().queue_delete(...)`, or `lab.reset(...)` "
         "where the lesson offers it), then declare it again",
    320: "the broker (or the instructor) closed the connection: run the cell that connects again",
    530: "a command was not allowed here (for example publishing to an exchange that does not exist "
         "closes the channel): check the names",
    541: "the broker hit an internal error on this command",
}
REOPEN = "This channel is closed now: every later call on it fails. Run the cell that opens it again, then this one."


def explain(exc: BaseException) -> str:
    """A sentence for the student about a pika exception (or `str(exc)` for anything else)."""
    if isinstance(exc, pika.exceptions.ChannelClosedByBroker):
        return (f"The broker closed your channel: ({exc.reply_code}) {exc.reply_text}. "
                f"{_advice(exc.reply_code)}. {REOPEN}")
    if isinstance(exc, pika.exceptions.ConnectionClosedByBroker):
        return (f"The broker closed your connection: ({exc.reply_code}) {exc.reply_text}. "
                f"{_advice(exc.reply_code)}.")
    if isinstance(exc, (pika.exceptions.ChannelWrongStateError, pika.exceptions.ConnectionWrongStateError)):
        return (f"This {'channel' if 'Channel' in type(exc).__name__ else 'connection'} is already closed "
                f"({exc}): run the cell that opens it again, then this one.")
    if isinstance(exc, pika.exceptions.ProbableAuthenticationError):
        return "The broker refused the user name or password: connect with pika.URLParameters(lab.broker_url())."
    if isinstance(exc, pika.exceptions.ProbableAccessDeniedError):
        return ("The broker refused this virtual host for your user: connect with "
                "pika.URLParameters(lab.broker_url()), which names the course's vhost.")
    if isinstance(exc, pika.exceptions.AMQPConnectionError):
        return ("No broker answered (connection refused or no such host): connect with "
                "pika.URLParameters(lab.broker_url()), and if that fails too, ask the instructor.")
    return f"{type(exc).__name__}: {exc}"


def _advice(code: int) -> str:
    return ADVICE.get(code, "see the reason above").capitalize()


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


def install() -> None:
    """Show pika's errors as sentences in Jupyter (a display hook only: the error still fails the
    cell, and nbgrader still counts it)."""
    for error in (pika.exceptions.AMQPError,):
        error._render_traceback_ = _render


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
        if reason:
            found.append((variable, reason))
    return found


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

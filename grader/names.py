"""Every queue and exchange name of the classroom protocol, from one place.

`W` below is the workshop id (default `summercamp`).
"""

from __future__ import annotations

REGISTER_QUEUE = "name"  # students publish {"name": ...} here (default exchange, routing key "name")


def tasks_queue(workshop: str, slug: str) -> str:
    """Where the dealer puts a student's Fibonacci tasks: `W.<slug>`."""
    return f"{workshop}.{slug}"


def results_queue(workshop: str) -> str:
    """Where students send their answers: `W.results`."""
    return f"{workshop}.results"


def answers_queue(workshop: str, slug: str) -> str:
    """A student's own queue for answers, `W.results.<slug>`: the `reply_to` of their tasks. The
    grader reads every student's answers queue side by side, so a student who floods their own
    cannot delay anyone else's answers."""
    return f"{workshop}.results.{slug}"


def answers_owner(queue: str, workshop: str) -> str | None:
    """The student whose answers queue `queue` is, or None for any other queue."""
    prefix = f"{workshop}.results."
    return queue[len(prefix):] if queue.startswith(prefix) and len(queue) > len(prefix) else None


def rejected_queue(workshop: str) -> str:
    """Where messages that break the protocol end up, with the reason in a header: `W.rejected`."""
    return f"{workshop}.rejected"


def events_exchange(workshop: str) -> str:
    """A fanout exchange on which graders say "scores changed" after each commit: `W.events`."""
    return f"{workshop}.events"


CHAT_KINDS = {  # the chat's exchanges, by how a message finds its readers
    "all": "fanout",  # speak to everyone
    "topics": "topic",  # speak to everyone interested in a topic
    "direct": "direct",  # speak to one student (routing key: their id)
    "chosen": "headers",  # speak to chosen students (a header per recipient id)
}


def chat_exchange(workshop: str, kind: str) -> str:
    """`W.chat.all`, `W.chat.topics`, `W.chat.direct` or `W.chat.chosen`."""
    if kind not in CHAT_KINDS:
        raise ValueError(f"no chat exchange {kind!r}; there are {', '.join(CHAT_KINDS)}")
    return f"{workshop}.chat.{kind}"


def is_reserved(queue: str, workshop: str) -> bool:
    """Queues that belong to the grader or to students: never a place to send feedback to."""
    return queue == REGISTER_QUEUE or queue.startswith(f"{workshop}.")


def progress_queue(workshop: str) -> str:
    """Where the notebooks' checks report to the instructor's progress grid: `W.progress`."""
    return f"{workshop}.progress"


def lobby_queue(workshop: str) -> str:
    """Where the room's JupyterHub says who has just logged in (the page's lobby): `W.lobby`."""
    return f"{workshop}.lobby"

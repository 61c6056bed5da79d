"""Checks for the notebooks: each looks at the broker and passes or says in plain words what is wrong.

A failed check raises `CheckFailed`, an `AssertionError` that Jupyter shows as one red sentence
instead of a traceback, and that nbgrader counts as a failed test. A passed check prints a line
starting with a check mark, so the student sees that the step worked.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pika
import pika.exceptions

from grader.lab import connection
from grader.lab.errors import GREEN, RED, RESET, closed_note


class CheckFailed(AssertionError):
    """A check that did not pass; `str()` is the sentence the student reads. When one of the
    student's channels was closed by the broker, the sentence starts by saying so."""

    def __init__(self, sentence: str):
        super().__init__(closed_note() + sentence)

    def _render_traceback_(self) -> list[str]:  # IPython shows this instead of a traceback
        report_progress(False, str(self))
        return [f"{RED}✘ {self}{RESET}"]


def ok(sentence: str) -> None:
    report_progress(True, sentence)
    print(f"{GREEN}✔ {sentence}{RESET}")


def report_progress(passed: bool, sentence: str) -> None:
    """In a room with accounts, tell the instructor's progress grid how this cell's check went
    (`grader.lab.progress`): in the background, best effort, never raises."""
    try:
        from grader.lab import progress

        progress.from_notebook(passed, sentence)
    except Exception:  # noqa: BLE001 - the grid is a convenience; the check's own line comes first
        pass


def expect(condition: object, sentence: str) -> None:
    if not condition:
        raise CheckFailed(sentence)


# -- queues ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueState:
    name: str
    messages: int  # ready to be delivered
    consumers: int


def queue_state(name: str) -> QueueState | None:
    """The queue's counts right now, or None if there is no such queue.

    Counts come from an AMQP passive declare, which is exact (the management API's statistics lag
    by seconds). An exclusive queue of another connection refuses that (405 RESOURCE_LOCKED); its
    counts then come from the management API, and where that keeps none, the check says so.
    """
    with connection.channel() as ch:
        try:
            result = ch.queue_declare(queue=name, passive=True)
        except pika.exceptions.ChannelClosedByBroker as exc:
            if exc.reply_code == 404:
                return None
            if exc.reply_code != 405:
                raise
        else:
            return QueueState(name, result.method.message_count, result.method.consumer_count)
    definition = queue_definition(name)
    if definition is None:
        return None
    if "messages_ready" not in definition:  # not counted yet (a few seconds), or never on this broker
        expect(connection.management().keeps_counts(),
               f"the queue `{name}` is exclusive to another connection, so only that connection can count it "
               "over AMQP, and this broker's management API keeps no counts (its metrics collection is off): "
               "count it on the connection that declared it, channel.queue_declare(queue=..., passive=True)")
    return QueueState(name, definition.get("messages_ready", 0), definition.get("consumers", 0))


def settled_state(name: str, until: Callable[[QueueState], bool], *, timeout: float = 2.0) -> QueueState | None:
    """The queue's state once `until(state)` holds, or the last state seen after `timeout` seconds.

    A message published on the student's channel a moment ago may not have reached the queue
    yet when a check looks from its own connection; waiting a little makes the check fair.
    """
    deadline = time.monotonic() + timeout
    while True:
        state = queue_state(name)
        if (state is not None and until(state)) or time.monotonic() >= deadline:
            return state
        time.sleep(0.05)


def queue_definition(name: str) -> dict | None:
    """The queue as the management API describes it (durable, exclusive, arguments, type...)."""
    return connection.management().queue(connection.vhost(), name)


def queue_policy(vhost: str, name: str) -> str | None:
    """The name of the policy that applies to the queue `name` of `vhost`, or None, as the broker
    says: the list of the vhost's queues names it even on a broker that keeps no statistics (the
    description of one queue then leaves it out)."""
    for queue in connection.management().queues(vhost):
        if queue.get("name") == name:
            return queue.get("policy")
    return None


def expect_queue(
    name: str,
    *,
    durable: bool | None = None,
    exclusive: bool | None = None,
    arguments: dict | None = None,
    queue_type: str | None = None,
    client: str = "pika",
) -> dict:
    """The queue exists with the given properties; returns its management description. The
    advice is written for `client` ("pika", or "kombu" for the kombu lesson)."""
    definition = queue_definition(name)
    declare = (f"describe it as Queue({name!r}, ...) and declare it (declare=[...] when you publish, or "
               f"Queue(...)(connection).declare())") if client == "kombu" else \
        f"declare it with channel.queue_declare(queue={name!r}, ...)"
    delete = f"connection.default_channel.queue_delete({name!r})" if client == "kombu" else \
        f"from a new channel if the broker closed yours: connection.channel().queue_delete({name!r})"
    expect(definition is not None, f"there is no queue `{name}` on the broker yet: {declare}")
    if durable is not None:
        if durable:
            expect(
                definition["durable"],
                f"the queue `{name}` exists but is not durable, and the broker never changes an existing "
                f"queue: delete it ({delete}), then declare it again with durable=True",
            )
        else:
            expect(not definition["durable"], f"the queue `{name}` should not be durable")
    if exclusive is not None:
        expect(
            bool(definition.get("exclusive")) == exclusive,
            f"the queue `{name}` should {'' if exclusive else 'not '}be exclusive",
        )
    if queue_type is not None:
        actual = definition.get("type", "classic")
        expect(
            actual == queue_type,
            f"the queue `{name}` is a {actual} queue; declare it with "
            f"arguments={{'x-queue-type': {queue_type!r}}}",
        )
    for key, value in (arguments or {}).items():
        actual = definition.get("arguments", {}).get(key)
        expect(
            actual == value,
            f"the queue `{name}` should have the argument {key}={value!r}"
            + ("" if actual is None else f" (it has {actual!r})"),
        )
    return definition


def expect_state(name: str) -> QueueState:
    """The queue's counts (`queue_state`); a check fails with a sentence if there is no such queue."""
    state = queue_state(name)
    expect(state is not None, f"there is no queue `{name}` on the broker (was it declared, or deleted since?)")
    return state


def expect_messages(name: str, count: int) -> QueueState:
    """Exactly `count` messages wait in queue `name`."""
    state = queue_state(name)
    expect(state is not None, f"there is no queue `{name}` on the broker")
    if state.messages != count:
        expect(
            False,
            f"the queue `{name}` holds {state.messages} message{'s' * (state.messages != 1)}, "
            f"expected {count}",
        )
    return state


def state_on(connection: pika.BlockingConnection, name: str) -> QueueState | None:
    """Like `queue_state`, asked on a channel of its own on the student's `connection` (for its
    exclusive queues); None if there is no such queue. The student's channels are never touched."""
    ch = connection.channel()
    try:
        declared = ch.queue_declare(queue=name, passive=True).method
        return QueueState(name, declared.message_count, declared.consumer_count)
    except pika.exceptions.ChannelClosedByBroker as exc:
        if exc.reply_code == 404:
            return None
        raise
    finally:
        if ch.is_open:
            ch.close()


# -- exchanges and bindings --------------------------------------------------------------------


def expect_exchange(name: str, exchange_type: str, *, durable: bool | None = None) -> dict:
    definition = connection.management().exchange(connection.vhost(), name)
    expect(
        definition is not None,
        f"there is no exchange `{name}` yet: declare it with "
        f"channel.exchange_declare(exchange={name!r}, exchange_type={exchange_type!r})",
    )
    expect(
        definition["type"] == exchange_type,
        f"the exchange `{name}` is of type {definition['type']}, expected {exchange_type}: delete it "
        f"with channel.exchange_delete({name!r}) and declare it with exchange_type={exchange_type!r}",
    )
    if durable is not None:
        expect(
            definition["durable"] == durable,
            f"the exchange `{name}` should {'' if durable else 'not '}be durable",
        )
    return definition


def bindings_of(exchange: str) -> list[dict]:
    """Bindings whose source is `exchange` (queue and exchange destinations)."""
    return [b for b in connection.management().bindings(connection.vhost()) if b["source"] == exchange]


def expect_binding(exchange: str, queue: str, routing_key: str = "") -> None:
    keys = {b["routing_key"] for b in bindings_of(exchange) if b["destination"] == queue}
    expect(
        routing_key in keys,
        f"the queue `{queue}` is not bound to `{exchange}` with routing key {routing_key!r}"
        + (f" (its keys there: {sorted(keys)})" if keys else ""),
    )


# -- waiting -----------------------------------------------------------------------------------


def wait_until(
    condition: Callable[[], object], *, timeout: float, what: str, interval: float = 0.1
) -> object:
    """Poll `condition` until it is truthy; fail after `timeout` seconds saying `what` we waited for."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise CheckFailed(f"waited {timeout:g} s for {what}, and it did not happen")
        time.sleep(interval)


def names(items: Iterable[dict]) -> list[str]:
    return sorted(item["name"] for item in items)

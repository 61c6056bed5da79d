"""What the student's code asked of its pika channels, in order: for checks on the order of effects.

A worker with auto_ack=True, a server that acks before it replies, a service that acks before it
commits: each leaves the broker's queues as the right answer does. `start()` (in a lesson's setup
cell) wraps a few methods of pika's `BlockingChannel`, so that every channel of the kernel (the
student's `channel`, a callback's `ch`, a thread's own) notes each call in one log:

- "consume": `basic_consume` or `consume`, with the queue, `auto_ack` and the consumer tag;
- "deliver": a message handed to a consumer, or returned by `basic_get`;
- "ack", "nack", "reject": with the delivery tag, `multiple` and `requeue`;
- "publish": with the exchange, the routing key and the `correlation_id`;
- "sql": a statement SQLite ran, for `db.set_trace_callback(lab.trace.sql)`.

The wrapped methods still do all their work, with the same arguments, results and errors; noting
a call never raises. The `expect_*` checks below read the log.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import threading
import weakref
from dataclasses import dataclass

from pika.adapters.blocking_connection import BlockingChannel

from grader.lab.checks import expect

SETTLING = {"basic_ack": "ack", "basic_nack": "nack", "basic_reject": "reject"}
LIMIT = 200_000  # calls kept: far more than a lesson makes; past it the log stops growing


@dataclass
class Call:
    seq: int  # position in the log, across `start()`s
    kind: str
    channel: int | None = None  # a number per BlockingChannel (`channel_id`); None for "sql"
    queue: str | None = None
    auto_ack: bool | None = None
    consumer_tag: str | None = None
    delivery_tag: int | None = None
    multiple: bool = False
    requeue: bool | None = None
    exchange: str | None = None
    routing_key: str | None = None
    correlation_id: str | None = None
    reply_to: str | None = None
    message: str | None = None  # the message_id of a delivery, else a digest of its body
    text: str | None = None  # an SQL statement
    raised: str | None = None  # the exception the call raised, if it did


@dataclass(frozen=True)
class Handled:
    delivery: Call
    settled: Call | None  # the ack, nack or reject; the delivery itself with auto_ack; None: not yet


class _Log:
    def __init__(self):
        self.lock = threading.Lock()
        self.calls: list[Call] = []
        self.count = 0
        self.recording = False
        self.channels: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.originals: dict[str, object] = {}

    def add(self, kind: str, channel=None, **fields) -> Call | None:
        with self.lock:
            if not self.recording or len(self.calls) >= LIMIT:
                return None
            number = None if channel is None else self.channels.setdefault(channel, len(self.channels) + 1)
            call = Call(self.count, kind, number, **fields)
            self.count += 1
            self.calls.append(call)
            return call


LOG = _Log()


def start() -> None:
    """Record from now on (forgetting what was recorded before), on every BlockingChannel."""
    with LOG.lock:
        if not LOG.originals:
            _install()
        LOG.calls.clear()
        LOG.recording = True


def stop() -> None:
    """Record nothing more, and give BlockingChannel its own methods back."""
    with LOG.lock:
        LOG.recording = False
        for name, original in LOG.originals.items():
            setattr(BlockingChannel, name, original)
        LOG.originals.clear()


def active() -> bool:
    return LOG.recording


def mark() -> int:
    """A position in the log: `calls(since=mark())` later gives what happened after it."""
    return LOG.count


def calls(since: int = 0) -> list[Call]:
    with LOG.lock:
        return [call for call in LOG.calls if call.seq >= since]


def channel_id(channel: BlockingChannel) -> int | None:
    """The number the log gives `channel` (None if it made no call since `start()`)."""
    with LOG.lock:
        return LOG.channels.get(channel)


def sql(statement: str) -> None:
    """Note an SQL statement: `db.set_trace_callback(lab.trace.sql)`."""
    _quietly(lambda: LOG.add("sql", text=str(statement)))


def is_commit(call: Call) -> bool:
    return call.kind == "sql" and (call.text or "").strip().upper().startswith(("COMMIT", "END"))


# -- recording ---------------------------------------------------------------------------------


def _quietly(note) -> None:
    try:
        note()
    except Exception:  # noqa: BLE001 - recording must never change what the student's code does
        pass


def _wrap(name: str, before, after=None) -> None:
    """Replace BlockingChannel.<name> with a function that notes the call (`before(channel,
    arguments)`, then `after(channel, arguments, result)`) around the real method."""
    original = getattr(BlockingChannel, name)
    signature = inspect.signature(original)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        if not LOG.recording:
            return original(*args, **kwargs)
        noted = []  # the arguments by name, then the Call noted before (when both worked)
        _quietly(lambda: noted.append(_arguments(signature.bind(*args, **kwargs))))
        _quietly(lambda: noted.append(before(args[0], noted[0])))
        try:
            result = original(*args, **kwargs)
        except BaseException as exc:
            if len(noted) == 2 and isinstance(noted[1], Call):
                noted[1].raised = type(exc).__name__
            raise
        if after is not None and noted:
            _quietly(lambda: after(args[0], noted[0], result))
        return result

    LOG.originals[name] = original
    setattr(BlockingChannel, name, wrapper)


def _arguments(bound: inspect.BoundArguments) -> dict:
    bound.apply_defaults()
    return bound.arguments


def _delivered(channel, method, properties, body, **fields) -> Call | None:
    message = getattr(properties, "message_id", None)
    if message is None and body is not None:
        message = hashlib.blake2b(bytes(body), digest_size=8).hexdigest()
    return LOG.add("deliver", channel, delivery_tag=method.delivery_tag, exchange=method.exchange,
                   routing_key=method.routing_key, correlation_id=getattr(properties, "correlation_id", None),
                   reply_to=getattr(properties, "reply_to", None), message=message, **fields)


def _install() -> None:
    # basic_consume and consume both go through _basic_consume_impl, which knows the consumer tag.
    _wrap("_basic_consume_impl", lambda ch, a: None,
          lambda ch, a, tag: LOG.add("consume", ch, queue=a["queue"], auto_ack=bool(a["auto_ack"]), consumer_tag=tag))
    _wrap("_on_consumer_message_delivery",
          lambda ch, a: _delivered(ch, a["method"], a["properties"], a["body"], consumer_tag=a["method"].consumer_tag))
    _wrap("basic_get", lambda ch, a: None,
          lambda ch, a, got: got[0] is not None and _delivered(ch, *got, queue=a["queue"], auto_ack=bool(a["auto_ack"])))
    for name, kind in SETTLING.items():
        _wrap(name, functools.partial(_settling, kind))
    _wrap("basic_publish", lambda ch, a: LOG.add(
        "publish", ch, exchange=a["exchange"], routing_key=a["routing_key"],
        correlation_id=getattr(a["properties"], "correlation_id", None)))


def _settling(kind: str, channel, arguments) -> Call | None:
    return LOG.add(kind, channel, delivery_tag=arguments["delivery_tag"], multiple=bool(arguments.get("multiple")),
                   requeue=arguments.get("requeue"))


# -- reading the log ---------------------------------------------------------------------------


def consumers(queue: str, channels=None, since: int = 0) -> list[Call]:
    """The "consume" calls on `queue` (on those `channels` only, if given)."""
    wanted = _channel_ids(channels)
    return [c for c in calls(since) if c.kind == "consume" and c.queue == queue
            and (wanted is None or c.channel in wanted)]


def handled(queue: str, channels=None, since: int = 0) -> list[Handled]:
    """Every delivery from `queue` after `since` (on those `channels` only, if given), with the
    ack, nack or reject that settled it: the first one after it on its channel whose delivery tag
    is its own, or covers it (`multiple=True`: every tag up to that one; with tag 0, all)."""
    log = calls()
    consuming = {(c.channel, c.consumer_tag): c for c in log if c.kind == "consume"}
    wanted = _channel_ids(channels)
    settled: dict[int, Call] = {}
    pending: dict[int | None, list[Call]] = {}
    found = []
    for call in log:
        if call.kind == "deliver":
            consume = consuming.get((call.channel, call.consumer_tag))
            source = call.queue if call.consumer_tag is None else (consume.queue if consume else None)
            auto_ack = call.auto_ack if call.consumer_tag is None else bool(consume and consume.auto_ack)
            if auto_ack:
                settled[call.seq] = call
            else:
                pending.setdefault(call.channel, []).append(call)
            if source == queue and call.seq >= since and (wanted is None or call.channel in wanted):
                found.append(call)
        elif call.kind in SETTLING.values() and call.raised is None:
            waiting = pending.get(call.channel, [])
            for delivery in [d for d in waiting if _covers(call, d)]:
                settled[delivery.seq] = call
                waiting.remove(delivery)
    return [Handled(delivery, settled.get(delivery.seq)) for delivery in found]


def _covers(settle: Call, delivery: Call) -> bool:
    if settle.multiple:
        return settle.delivery_tag == 0 or delivery.delivery_tag <= settle.delivery_tag
    return delivery.delivery_tag == settle.delivery_tag


def _channel_ids(channels) -> set[int] | None:
    if channels is None:
        return None
    with LOG.lock:
        return {LOG.channels[ch] for ch in channels if ch in LOG.channels}


# -- checks ------------------------------------------------------------------------------------

ACK = "ch.basic_ack(delivery_tag=method.delivery_tag)"
AUTO = "; with auto_ack=True the broker counts an event as acknowledged when it sends it"


def expect_manual_acks(queue: str, channels, who: str = "the workers") -> None:
    """`channels` consumed `queue` with manual acks and acked all they got (if the log shows them)."""
    consumed = consumers(queue, channels)
    if not active() or not consumed:
        return
    expect(not any(c.auto_ack for c in consumed),
           f"{who} consume `{queue}` with auto_ack=True: the broker then counts each message as done the "
           "moment it sends it, so a worker that dies loses what it held. Leave auto_ack out (it is False by "
           f"default) and end the callback with {ACK}")
    received = handled(queue, channels)
    refused = [h for h in received if h.settled is not None and h.settled.kind != "ack"]
    expect(not refused,
           f"{who} answered {len(refused)} message(s) with basic_nack or basic_reject, which tells the broker "
           f"the work was not done (and drops it unless requeued): acknowledge finished work with {ACK}")
    forgotten = [h for h in received if h.settled is None]
    expect(not forgotten, f"{who} never acknowledged {len(forgotten)} of the {len(received)} messages they "
                          f"received: end the callback with {ACK}")


def expect_reply_before_ack(queue: str, since: int = 0, who: str = "your on_request") -> None:
    """Each request from `queue` since `since` was acked after its reply (a publish to its reply_to
    with its correlation_id). Requests never settled, or not answered through pika, are left alone."""
    log = calls(since)
    for item in handled(queue, since=since):
        request = item.delivery
        reply = next((c for c in log if c.kind == "publish" and c.seq > request.seq and c.raised is None
                      and c.routing_key == request.reply_to and c.correlation_id == request.correlation_id), None)
        if item.settled is None or item.settled is request or reply is None:
            continue
        expect(item.settled.kind == "ack",
               f"{who} settled the request with correlation_id {request.correlation_id!r} with "
               f"basic_{item.settled.kind}, which tells the broker it failed: acknowledge a request you "
               f"answered with {ACK}")
        expect(reply.seq < item.settled.seq,
               f"{who} acknowledged the request with correlation_id {request.correlation_id!r} before "
               "publishing its reply: a server that dies between the two has let go of the request, and "
               f"its client never gets an answer. Publish the reply first, then {ACK}")


def expect_commit_before_ack(queue: str, since: int = 0, who: str = "your service") -> None:
    """Each message from `queue` since `since` was recorded before its ack: by each ack, the database
    committed once for each different message settled so far (a redelivered copy needs no more)."""
    log = calls(since)
    commits = [c.seq for c in log if is_commit(c)]
    received = [h for h in handled(queue, since=since) if h.settled is not None]
    done: set[str | None] = set()
    for item in sorted(received, key=lambda h: h.settled.seq):
        expect(item.settled.kind not in ("nack", "reject"),
               f"{who} settled an event with basic_{item.settled.kind}, which tells the broker it could not be "
               "handled: acknowledge each event you recorded with channel.basic_ack(method.delivery_tag)")
        done.add(item.delivery.message)
        committed = sum(1 for seq in commits if seq < item.settled.seq)
        expect(committed >= len(done),
               f"{who} acknowledged an event before recording it ({len(done)} event(s) acknowledged, {committed} "
               f"committed at that moment{AUTO if item.settled is item.delivery else ''}): a crash in between "
               "loses the deposit, since the broker has already forgotten the event. Call "
               "record_deposit(db, event) first, then channel.basic_ack(method.delivery_tag)")

"""A property-based fuzzer against a running grader: messages with generated AMQP properties
(every property, header tables of every field type RabbitMQ takes, non-UTF-8 bytes, tables pika
cannot decode, reply_to values that are not queues), interleaved with correct answers.

1. Messages whose bodies break the protocol, whatever their properties: each ends up in
   `W.rejected` (copied by the grader with `x-reject-reason`, or dead-lettered by the broker with
   an `x-death` of `delivery_limit`), and the correct answers in between all score.
2. Correct answers with generated properties: each scores exactly once, none is rejected. Only
   `reply_to`, `correlation_id` and `message_id` mean anything to the grader (docs/protocol.md).

Repeatable: `derandomize=True`, a bounded number of examples, no shrinking (the grader's state
carries over from one example to the next, so a shrunk example would not mean the same) and no
example database. Hypothesis prints the failing example; the assertion says what was awaited.
"""

from __future__ import annotations

import base64
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, Phase, example, given, note, settings
from hypothesis import strategies as st

from grader import names
from grader.live.checks import fibonacci
from grader.live.dealer import deal
from grader.live.identity import student_id
from grader.settings import AmqpAddress
from tests.live import rawframes as rf
from tests.live.deadletters import Publisher, RejectedQueue, points_by_slug, wait_for
from tests.live.fixtures import WORKSHOP, start_grader, stop_grader

RESULTS = names.results_queue(WORKSHOP)
REJECTED = names.rejected_queue(WORKSHOP)
WAIT = 30  # s for everything of one example to be graded (a poison may cost the grader reconnects)
STUDENTS = ("Ada Lovelace", "Bob", "Carol")
TASKS_EACH = 80  # dealt to each student at first; more are recorded when the examples use them up
RUN = uuid.uuid4().hex[:8]
COUNTER = itertools.count()
FUZZ = settings(derandomize=True, database=None, deadline=None, phases=(Phase.explicit, Phase.generate),
                report_multiple_bugs=False, print_blob=False,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.large_base_example])


def token() -> bytes:
    return f"fuzz-{RUN}-{next(COUNTER)}".encode()


# -- generated properties ---------------------------------------------------------------------

def _short(raw: bytes) -> bytes:
    return raw[:255]


short_strings = st.one_of(st.binary(max_size=255), st.text(max_size=60).map(lambda s: _short(rf._bytes(s))),
                          st.sampled_from([b"application/json", b"text/plain; charset=utf-8", b"", b"\x00" * 255,
                                           b"\xff\xfe\xfd", "Zoë \u202e".encode()]))
keys = st.one_of(st.binary(max_size=40), st.text(max_size=20).map(lambda s: _short(rf._bytes(s))),
                 st.sampled_from([b"", b"k" * 255, b"\xff", b"x-match", b"x-delivery-count", b"content_type",
                                  b"x-first-death-reason"])).filter(lambda k: k not in (b"CC", b"BCC"))
scalars = st.one_of(
    st.booleans().map(lambda b: rf.value("t", b)),
    st.integers(0, 255).map(lambda i: rf.value("t", i)),  # a boolean octet that is neither 0 nor 1
    st.integers(-2**7, 2**7 - 1).map(lambda i: rf.value("b", i)),
    st.integers(0, 2**8 - 1).map(lambda i: rf.value("B", i)),
    st.integers(-2**15, 2**15 - 1).map(lambda i: rf.value("s", i)),
    st.integers(0, 2**16 - 1).map(lambda i: rf.value("u", i)),
    st.integers(-2**31, 2**31 - 1).map(lambda i: rf.value("I", i)),
    st.integers(0, 2**32 - 1).map(lambda i: rf.value("i", i)),
    st.integers(-2**63, 2**63 - 1).map(lambda i: rf.value("l", i)),
    st.integers(-2**63, 2**63 - 1).map(lambda i: rf.value("L", i)),
    st.floats(width=32, allow_nan=False, allow_infinity=False).map(lambda f: rf.value("f", f)),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: rf.value("d", f)),
    st.tuples(st.integers(0, 255), st.integers(-2**31, 2**31 - 1)).map(lambda d: rf.value("D", d)),
    st.binary(max_size=80).map(lambda b: rf.value("S", b)),
    st.text(max_size=30).map(lambda s: rf.value("S", s)),
    st.binary(max_size=80).map(lambda b: rf.value("x", b)),
    st.integers(0, 2**64 - 1).map(lambda i: rf.value("T", i)),  # mostly past the year 9999
    st.integers(0, rf.YEAR_10000 - 1).map(lambda i: rf.value("T", i)),
    st.just(rf.value("V")),
)
field_values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(st.tuples(keys, children), max_size=4).map(lambda kv: rf.value("F", kv)),
                               st.lists(children, max_size=4).map(lambda vs: rf.value("A", vs))),
    max_leaves=10)
undecodable = st.one_of(
    st.sampled_from(list(rf.UNDECODABLE.values())),
    st.integers(rf.YEAR_10000, 2**64 - 1).map(lambda i: rf.value("T", i)),
    st.integers(450, 1500).map(rf.nested_tables),
    st.integers(900, 3000).map(rf.nested_arrays),
    st.tuples(st.integers(200, 400), st.integers(300, 600)).map(
        lambda d: rf.nested_tables(d[0], rf.nested_arrays(d[1]))),
    field_values.map(lambda inner: rf.nested_tables(3, [(b"\xff", inner), (b"t", rf.value("T", 2**64 - 1))])),
)
readable_headers = st.lists(st.tuples(keys, field_values), max_size=6)
headers = st.one_of(
    st.none(),
    readable_headers.map(lambda kv: rf.value("F", kv)),
    st.tuples(readable_headers, keys, undecodable, st.integers(0, 6)).map(
        lambda t: rf.value("F", t[0][:t[3]] + [(t[1], t[2])] + t[0][t[3]:])),
)
# Every property but reply_to and message_id (chosen apart, see below) and user_id (the broker
# takes only the connection's own: True means "set it to that").
properties = st.fixed_dictionaries({}, optional={
    "content_type": short_strings, "content_encoding": short_strings, "headers": headers,
    "delivery_mode": st.sampled_from([1, 2]),  # RabbitMQ 3.10 refuses any other octet
    "priority": st.integers(0, 255), "correlation_id": short_strings,
    "expiration": st.one_of(st.integers(10**7, 2**32 - 1).map(lambda i: str(i).encode()),
                            st.sampled_from([b"+3600000", b"0003600000"])),  # never one that expires here
    "timestamp": st.one_of(st.integers(0, 2**64 - 1), st.sampled_from([0, 2**64 - 1, rf.YEAR_10000])),
    "type": short_strings, "user_id": st.just(True), "app_id": short_strings, "cluster_id": short_strings,
})

# reply_to: what a student may put there. The kinds that carry a token are unique per message (a
# grader may key its fairness on an unnamed message's reply_to, and bad messages must not share).
G1H2 = b"amq.rabbitmq.reply-to.g1h2AA5yZXBseUAxMjM0NTY3OAAAAAAAAAAAAAAAAA==."
REPLY_KINDS_BAD = ("none", "direct-base64", "direct-bytes", "direct-g1h2", "bytes", "missing-queue")
REPLY_KINDS_GOOD = REPLY_KINDS_BAD + ("own", "own", "protocol-queue")
garbage = st.binary(min_size=0, max_size=120)


def reply_to(kind: str, noise: bytes, tag: bytes, *, own: str = "", protocol: str = "") -> bytes | None:
    def fit(prefix: bytes, middle: bytes) -> bytes:
        return prefix + middle[:max(0, 254 - len(prefix) - len(tag))] + b"." + tag

    if kind == "none":
        return None
    if kind == "direct-base64":
        return fit(b"amq.rabbitmq.reply-to.", base64.b64encode(noise))
    if kind == "direct-bytes":
        return fit(b"amq.rabbitmq.reply-to.", noise)
    if kind == "direct-g1h2":
        return fit(G1H2, base64.b64encode(noise))
    if kind == "bytes":
        return fit(b"", noise)
    if kind == "missing-queue":
        return fit(b"no-such-queue-", base64.b32encode(noise))
    if kind == "own":
        return own.encode()
    if kind == "protocol-queue":
        return protocol.encode()
    raise AssertionError(kind)


def raw_properties(props: dict, *, user: str, reply: bytes | None, message_id: bytes | None) -> bytes:
    fields = dict(props)
    if fields.get("user_id") is True:
        fields["user_id"] = user.encode()
    return rf.properties(**fields, reply_to=reply, message_id=message_id)


# -- bodies that break the protocol (docs/protocol.md, section 5), each with a token ------------

def _json(value) -> bytes:
    return json.dumps(value).encode()


def _name(t: bytes) -> str:
    return f"Fuzz {t.decode()}"


GENERIC_BREAKERS = {
    "not UTF-8": lambda t: b"\xff\xfe" + t,
    "not JSON": lambda t: t + b" is not JSON",
    "truncated JSON": lambda t: b'{"name": "' + t,
    "JSON nested 20000 deep": lambda t: t + b" " + b"[" * 20000,
    "a JSON list": lambda t: _json([t.decode()]),
    "a JSON string": lambda t: _json(t.decode()),
    "over 64 KiB": lambda t: _json({"name": _name(t), "pad": "x" * (64 * 1024)}),
    "no name": lambda t: _json({"token": t.decode(), "n": 10, "Fn": 55}),
    "name not a string": lambda t: _json({"name": [t.decode()], "n": 10, "Fn": 55}),
    "name null": lambda t: _json({"name": None, "token": t.decode(), "n": 10, "Fn": 55}),
}
ANSWER_BREAKERS = GENERIC_BREAKERS | {
    "n below 5": lambda t: _json({"n": 4, "Fn": 3, "name": _name(t)}),
    "n above 1000": lambda t: _json({"n": 1001, "Fn": 1, "name": _name(t)}),
    "n huge": lambda t: _json({"n": 10**30, "Fn": 1, "name": _name(t)}),
    "n negative": lambda t: _json({"n": -10, "Fn": 55, "name": _name(t)}),
    "n a float": lambda t: _json({"n": 10.5, "Fn": 55, "name": _name(t)}),
    "n a string": lambda t: _json({"n": "10", "Fn": 55, "name": _name(t)}),
    "n true": lambda t: _json({"n": True, "Fn": 55, "name": _name(t)}),
    "n null": lambda t: _json({"n": None, "Fn": 55, "name": _name(t)}),
    "no n": lambda t: _json({"Fn": 55, "name": _name(t)}),
    "no Fn": lambda t: _json({"n": 10, "name": _name(t)}),
    "Fn negative": lambda t: _json({"n": 10, "Fn": -55, "name": _name(t)}),
    "Fn true": lambda t: _json({"n": 10, "Fn": True, "name": _name(t)}),
    "Fn a float": lambda t: _json({"n": 10, "Fn": 55.0, "name": _name(t)}),
    "Fn not digits": lambda t: _json({"n": 10, "Fn": "5x5", "name": _name(t)}),
    "Fn a list": lambda t: _json({"n": 10, "Fn": [55], "name": _name(t)}),
    "Fn 1001 digit string": lambda t: _json({"n": 10, "Fn": "9" * 1001, "name": _name(t)}),
    "Fn 1001 digit number": lambda t: b'{"n": 10, "Fn": ' + b"9" * 1001 + b', "name": "' + _name(t).encode() + b'"}',
}
OWN = {name: names.answers_queue(WORKSHOP, student_id(name)) for name in STUDENTS}  # each one's answers queue
BREAKERS = {names.REGISTER_QUEUE: GENERIC_BREAKERS, RESULTS: ANSWER_BREAKERS, OWN[STUDENTS[0]]: ANSWER_BREAKERS}


@dataclass(frozen=True)
class Bad:
    """A protocol breaker with generated properties."""

    queue: str
    breaks: str  # a key of BREAKERS[queue]
    props: dict
    reply: str = "none"  # a kind of reply_to
    noise: bytes = b""  # what goes into reply_to and message_id
    with_message_id: bool = True


@dataclass(frozen=True)
class Good:
    """A correct answer from STUDENTS[student]; with `props` (test 2) it goes out with those."""

    student: int
    props: dict | None = None
    reply: str = "own"
    noise: bytes = b""
    with_message_id: bool = True
    protocol_queue: str = RESULTS
    own_queue: bool = False  # to the student's answers queue, not the shared W.results


bad_messages = st.one_of(*(
    st.builds(Bad, queue=st.just(queue), breaks=st.sampled_from(sorted(breakers)), props=properties,
              reply=st.sampled_from(REPLY_KINDS_BAD), noise=garbage, with_message_id=st.booleans())
    for queue, breakers in BREAKERS.items()))
plain_answers = st.builds(Good, student=st.integers(0, len(STUDENTS) - 1), own_queue=st.booleans())
odd_answers = st.builds(Good, student=st.integers(0, len(STUDENTS) - 1), props=properties,
                        reply=st.sampled_from(REPLY_KINDS_GOOD), noise=garbage, with_message_id=st.booleans(),
                        protocol_queue=st.sampled_from([names.REGISTER_QUEUE, RESULTS, REJECTED, *OWN.values()]),
                        own_queue=st.booleans())


# -- the classroom ------------------------------------------------------------------------------

@dataclass(repr=False)
class Classroom:
    grader: object
    thread: object
    store: object
    students: list
    tasks: list  # per student, the dealt n not answered yet
    publisher: Publisher
    rejected: RejectedQueue
    user: str
    expected: dict = field(default_factory=dict)  # slug -> points
    tokens: dict = field(default_factory=dict)  # token -> what it was (every bad message the broker took)
    sent: int = 0

    def __repr__(self) -> str:  # hypothesis prints the fixture with the failing example
        return f"<classroom: {self.state()}>"

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(repr(self))

    def state(self) -> str:
        return f"scores {points_by_slug(self.store)}, {len(self.rejected.seen)} message(s) read from " \
               f"{REJECTED}, grader thread alive: {self.thread.is_alive()}"

    def send_bad(self, bad: Bad) -> None:
        tag = token()
        body = BREAKERS[bad.queue][bad.breaks](tag)
        message_id = _short(tag + b"." + bad.noise) if bad.with_message_id else None
        raw = raw_properties(bad.props, user=self.user, reply=reply_to(bad.reply, bad.noise, tag),
                             message_id=message_id)
        self.sent += 1
        refused = self.publisher.publish(bad.queue, body, raw)
        if refused is None:
            self.tokens[tag] = f"{bad.breaks} to {bad.queue}"
        else:
            note(f"the broker refused {tag!r}: {refused}")

    def send_good(self, good: Good) -> None:
        student = self.students[good.student]
        if not self.tasks[good.student]:  # the examples used them up: record more (the grader reads the store)
            fresh = sorted(set(range(5, 1001)) - self.store.dealt(student.slug))[:TASKS_EACH]
            assert fresh, f"{student.name} has been dealt every n already"
            self.tasks[good.student] = sorted(self.store.add_tasks(student.slug, {k: f"more-{k}" for k in fresh},
                                                                   time.time(), published=True), reverse=True)
        n = self.tasks[good.student].pop()
        body = {"n": n, "Fn": fibonacci(n), "name": student.name}
        self.expected[student.slug] += 1
        queue = OWN[student.name] if good.own_queue else RESULTS
        if good.props is None:
            student.send(queue, body)
            return
        tag = uuid.uuid4().hex.encode()  # a message_id is the grader's key for a message: unique
        message_id = _short(tag + good.noise) if good.with_message_id else None
        reply = reply_to(good.reply, good.noise, tag, own=student.replies, protocol=good.protocol_queue)
        raw = raw_properties(good.props, user=self.user, reply=reply, message_id=message_id)
        refused = self.publisher.publish(queue, json.dumps(body).encode(), raw)
        assert refused is None, f"the broker refused a correct answer's properties {good.props!r}: {refused}"

    def expect_feedback(self, student, correlation_ids: list) -> None:
        """Each correct answer that asked for feedback in the student's queue gets an ok one."""
        got = []
        for expected in correlation_ids:
            try:
                feedback = student.feedback(timeout=WAIT)
            except AssertionError as exc:
                raise AssertionError(f"{student.name}: {exc} ({len(got)} of {len(correlation_ids)} arrived; "
                                     f"{self.state()})") from None
            assert (feedback["ok"], feedback["points"]) == (True, 1), f"{student.name}'s feedback {feedback}"
            echoed = feedback["correlation_id"]
            if expected is not _ANY:
                echoed = echoed.encode() if isinstance(echoed, str) else echoed
                assert echoed == expected, f"correlation_id {expected!r} came back as {echoed!r}"
            got.append(feedback)

    def settle(self) -> None:
        """Wait until every correct answer scored and every bad message is in W.rejected."""
        wait_for(lambda: points_by_slug(self.store) == self.expected, WAIT,
                 f"the scores {self.expected} after {self.sent} bad message(s)", state=self.state)

        def all_rejected():
            self.rejected.drain()
            return all(self.rejected.containing(t) for t in self.tokens)

        wait_for(all_rejected, WAIT, f"all {len(self.tokens)} bad messages in {REJECTED}",
                 state=lambda: f"missing {[(t, w) for t, w in self.tokens.items() if not self.rejected.containing(t)][:5]}"
                               f"; {self.state()}")
        for one in self.rejected.seen:
            known = [t for t in self.tokens if t in one.payload]
            assert known, f"{REJECTED} holds a message that was not a bad one: {one.payload[:200]!r} {one.text[:300]}"
            assert one.reason, f"{self.tokens[known[0]]} ({known[0]!r}) is in {REJECTED} without a reason " \
                               f"(no x-reject-reason, no x-death delivery_limit): {one.text[:400]}"
        assert points_by_slug(self.store) == self.expected, f"the scores moved: {self.state()}"


_ANY = object()


@pytest.fixture
def classroom(settings, store, make_student, vhost):
    grader, thread = start_grader(settings, store)
    students = [make_student(name) for name in STUDENTS]
    for one in students:
        assert one.register()["ok"], f"{one.name} could not register"
    dealt = deal(settings, store, TASKS_EACH)
    publisher = Publisher(vhost.url)
    made = Classroom(grader, thread, store, students, [list(dealt[s.slug]) for s in students], publisher,
                     RejectedQueue(vhost.api, vhost.name, REJECTED), AmqpAddress.parse(vhost.url).user,
                     expected={s.slug: 1 for s in students})
    yield made
    publisher.close()
    stop_grader(grader, thread)
    refused = len(publisher.refusals)
    assert refused <= max(2, made.sent // 10), f"the broker refused {refused} of {made.sent} generated messages: " \
                                               f"the strategies make too few useful ones: {publisher.refusals[:5]}"


POISON_HEADERS = rf.value("F", [(b"t", rf.UNDECODABLE["timestamp 2**64-1"]), (b"\xff\xfe", rf.value("S", b"\xc3("))])
DEEP_HEADERS = rf.value("F", [(b"deep", rf.UNDECODABLE["tables 600 deep"])])
ARRAYS_HEADERS = rf.value("F", [(b"a" * 255, rf.UNDECODABLE["arrays 1200 deep"]), (b"i", rf.value("i", 2**32 - 1))])
EVERY_PROPERTY = {"content_type": b"\xff", "content_encoding": b"\x00", "headers": ARRAYS_HEADERS, "delivery_mode": 2,
                  "priority": 255, "correlation_id": b"\xfe" * 255, "expiration": b"86400000",
                  "timestamp": 2**64 - 1, "type": b"\xc3(", "user_id": True, "app_id": b"", "cluster_id": b"\xff"}


@pytest.mark.timeout(600)
@settings(FUZZ, max_examples=100)
@given(steps=st.lists(st.one_of(bad_messages, plain_answers), min_size=1, max_size=8))
@example(steps=[Good(0), Bad(RESULTS, "not JSON", {"headers": POISON_HEADERS}), Good(1)])
@example(steps=[Bad(names.REGISTER_QUEUE, "a JSON list", {"headers": DEEP_HEADERS}, "direct-g1h2", b"\x00\xff"),
                Good(2), Bad(RESULTS, "n above 1000", EVERY_PROPERTY, "direct-bytes", b"\xff" * 40), Good(0)])
def test_every_bad_message_is_dead_lettered_and_every_correct_answer_scores(classroom, steps):
    feedback = {i: 0 for i in range(len(STUDENTS))}
    for step in steps:
        if isinstance(step, Bad):
            classroom.send_bad(step)
        else:
            classroom.send_good(step)
            feedback[step.student] += 1
    classroom.settle()
    for i, count in feedback.items():
        classroom.expect_feedback(classroom.students[i], [_ANY] * count)


@pytest.mark.timeout(600)
@settings(FUZZ, max_examples=60)
@given(answers=st.lists(odd_answers, min_size=1, max_size=6))
@example(answers=[Good(0, {"headers": POISON_HEADERS}), Good(1, {})])
@example(answers=[Good(1, EVERY_PROPERTY, "own", b"\xff\xfe"), Good(2, {"headers": DEEP_HEADERS}, "direct-g1h2"),
                  Good(0, {"correlation_id": b"\xff"}, "protocol-queue", protocol_queue=names.REGISTER_QUEUE)])
def test_correct_answers_score_whatever_their_properties(classroom, answers):
    feedback = {i: [] for i in range(len(STUDENTS))}
    for answer in answers:
        classroom.send_good(answer)
        if answer.reply == "own":
            feedback[answer.student].append(answer.props.get("correlation_id"))
    classroom.settle()  # also: nothing in W.rejected (no bad message was sent)
    for i, correlation_ids in feedback.items():
        classroom.expect_feedback(classroom.students[i], correlation_ids)

"""The chat exercise, graded on a real broker: every way of speaking scores once per student, with
pika and with kombu; the grader answers in the chat; nothing anyone says stops it."""

import json
import secrets
import threading
import time
from types import SimpleNamespace

import pika
import pytest
from hypothesis import given
from hypothesis import strategies as st
from kombu import Connection, Exchange, Producer
from sqlalchemy import func, select

from grader import names
from grader.classroom import provision
from grader.live import chat
from grader.live.accounts import Room
from grader.live.chatter import ChatGrader, chat_queue
from grader.live.identity import student_id
from grader.live.standings import leaderboard
from grader.live.tables import verdicts
from tests.live.fixtures import WORKSHOP

pytestmark = pytest.mark.broker
WAIT = 20  # seconds for the grader's answers (CI runs on 2 busy CPUs)


@pytest.fixture
def chat_grader(settings, store):
    yield from running(settings, store)


def running(settings, store, room=None):
    grader = ChatGrader(settings, store, room=room)
    thread = threading.Thread(target=grader.run, name="chat-grader", daemon=True)
    thread.start()
    assert grader.listening.wait(15), "the chat grader was not listening within 15 s"
    yield grader
    grader.stop()
    thread.join(15)
    assert not thread.is_alive(), "the chat grader did not stop within 15 s"


def register(store, name: str) -> str:
    slug = student_id(name)
    with store.transaction() as tx:
        tx.register(slug, name, time.time())
    return slug


class PikaChatter:
    """A student's chat client with pika: an inbox bound to the direct exchange with their id."""

    def __init__(self, url: str, name: str, user_id: str | None = None):
        self.name, self.me, self.user_id = name, student_id(name), user_id
        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()
        self.inbox = self.channel.queue_declare("", exclusive=True).method.queue
        self.channel.queue_bind(self.inbox, f"{WORKSHOP}.chat.direct", routing_key=self.me)

    def say(self, kind: str, text: str, *, key: str = "", headers=None, body=None, sender=None) -> None:
        message = body if body is not None else json.dumps({"from": sender or self.name, "text": text}).encode()
        self.channel.basic_publish(f"{WORKSHOP}.chat.{kind}", key, message, pika.BasicProperties(
            content_type="application/json", headers=headers, user_id=self.user_id))

    def heard_until(self, last, count: int = 1000) -> list[str]:
        """The grader's answers up to the first one for which `last(text)` holds (at most `count`)."""
        got = []
        while not got or not last(got[-1]):
            assert len(got) < count, got
            got += self.heard(1)
        return got

    def drain(self, queue: str) -> list[bytes]:
        """Whatever `queue` holds now, taken."""
        bodies = []
        while (method := self.channel.basic_get(queue, auto_ack=True))[0] is not None:
            bodies.append(method[2])
        return bodies

    def heard(self, count: int) -> list[str]:
        got, deadline = [], time.monotonic() + WAIT
        while len(got) < count:
            assert time.monotonic() < deadline, f"{len(got)} of {count} answers from the grader within {WAIT} s: {got}"
            method, _properties, body = self.channel.basic_get(self.inbox, auto_ack=True)
            if method is None:
                self.connection.process_data_events(time_limit=0.05)
                continue
            message = json.loads(body)
            if message.get("from") == "Grader":
                got.append(message["text"])
        return got

    def close(self):
        self.connection.close()


def points_of(store) -> dict[str, int]:
    return {row["slug"]: row["points"] for row in leaderboard(store)}


def wait_heard(grader, count: int) -> None:
    deadline = time.monotonic() + WAIT
    while grader.heard < count:
        assert time.monotonic() < deadline, f"the chat grader handled {grader.heard} of {count} messages in {WAIT} s"
        time.sleep(0.02)


def test_each_way_of_speaking_scores_once_and_the_grader_answers(chat_grader, store, vhost):
    slug = register(store, "Ada Lovelace")
    ada = PikaChatter(vhost.url, "Ada Lovelace")
    ada.say("all", "hello, everyone")
    ada.say("topics", "asyncio anyone?", key="python.asyncio")
    ada.say("direct", "hello, grader", key="grader")
    ada.say("chosen", "lunch?", headers={"grader": "yes", "bob": "yes"})
    answers = ada.heard(4)
    assert all(text.startswith(("✔", "Hello Ada Lovelace: ✔")) for text in answers), answers
    assert "4 of 4 ways" in answers[-1]
    assert points_of(store) == {slug: 5}  # registration and four ways
    for kind, key, headers in (("all", "", None), ("topics", "x", None), ("direct", "grader", None),
                               ("chosen", "", {"grader": "yes"})):
        ada.say(kind, "again", key=key, headers=headers)
    assert all("already" in text for text in ada.heard(2))  # the grader answers what was said to it
    for number in range(40):  # chatting on
        ada.say("all", f"message {number}")
    wait_heard(chat_grader, 48)
    assert points_of(store) == {slug: 5}
    assert chat_verdicts(store) == 4, "chatting on wrote to the store: one verdict per way of speaking is all"
    ada.close()


def chat_verdicts(store) -> int:
    with store.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(verdicts).where(verdicts.c.exercise == chat.EXERCISE))


def test_a_kombu_student_scores_too(chat_grader, store, vhost):
    slug = register(store, "Bob Kombu")
    listener = PikaChatter(vhost.url, "Bob Kombu")  # Bob's inbox, where the grader answers
    with Connection(vhost.url, transport_options={"confirm_publish": True}) as connection:  # each one confirmed
        producer = Producer(connection.channel(), serializer="json")
        for kind, exchange_type, key, headers in (("all", "fanout", "", None), ("topics", "topic", "kombu.talk", None),
                                                  ("direct", "direct", "grader", None),
                                                  ("chosen", "headers", "", {"grader": "yes"})):
            exchange = Exchange(f"{WORKSHOP}.chat.{kind}", type=exchange_type, durable=True, no_declare=True)
            producer.publish({"from": "Bob Kombu", "text": "hi"}, exchange=exchange, routing_key=key,
                             headers=headers or {})
    assert len(listener.heard(4)) == 4
    assert points_of(store) == {slug: 5}
    listener.close()


def test_an_unregistered_speaker_is_told_to_register_and_scores_nothing(chat_grader, store, vhost):
    eve = PikaChatter(vhost.url, "Eve Early")
    eve.say("direct", "hi", key="grader")
    [text] = eve.heard(1)
    assert "register first" in text
    assert points_of(store) == {}
    eve.close()


def test_nothing_anyone_says_stops_the_grader_or_scores_for_anyone(chat_grader, store, vhost):
    slug = register(store, "Ada Lovelace")
    mallory = PikaChatter(vhost.url, "Mallory")
    hostile = [b"not json", b"[1, 2]", json.dumps({"from": 42, "text": "x"}).encode(),
               json.dumps({"from": "Аda Lovelace", "text": "look-alike"}).encode(),  # a Cyrillic А
               json.dumps({"from": "x" * 100, "text": "too long a name"}).encode(),
               b"{" * 50_000, b"\xff" * 70_000, json.dumps({"from": "Ada", "text": None}).encode()]
    for body in hostile:
        for kind, key in (("all", ""), ("topics", "a.b"), ("direct", "grader")):
            mallory.say(kind, "", key=key, body=body)
    mallory.say("chosen", "", headers={"grader": "yes"}, body=b"\x00\x01")
    wait_heard(chat_grader, len(hostile) * 3 + 1)
    assert points_of(store) == {slug: 1}
    ada = PikaChatter(vhost.url, "Ada Lovelace")
    ada.say("all", "still there?")
    assert ada.heard(1)[0].startswith("✔")
    assert points_of(store) == {slug: 2}
    for who in (mallory, ada):
        who.close()


def test_in_a_room_the_speaker_is_the_user_id_and_nobody_speaks_for_a_classmate(settings, store, vhost, tmp_path):
    letters = "bcdfghjklmnpqrstvwxz"
    names_ = [f"{first} {''.join(secrets.choice(letters) for _ in range(6))}" for first in ("Ada", "Bob")]
    roster = tmp_path / "roster.csv"
    roster.write_text("name\n" + "\n".join(names_) + "\n", encoding="utf-8")
    report = provision.provision(settings, roster, tmp_path / "room", instructor=f"i-{secrets.token_hex(4)}")
    try:
        ada, bob = [a for a in report.accounts if a.role == "student"]
        for account in (ada, bob):
            register(store, account.name)
        room = Room.of({a.user: a.name for a in (ada, bob)})
        for grader in running(settings, store, room):
            mallory = PikaChatter(ada.live_url, ada.name, user_id=ada.user)
            mallory.say("direct", "I am Bob", key="grader", sender=bob.name)
            [text] = mallory.heard(1)
            assert "cannot speak for" in text and points_of(store) == {ada.user: 1, bob.user: 1}
            mallory.say("direct", "it is me", key="grader")
            assert mallory.heard(1)[0].startswith(f"Hello {ada.name}: ✔")
            unsigned = PikaChatter(bob.live_url, bob.name)  # no user_id: cannot count in a room
            unsigned.say("all", "hi")
            wait_heard(grader, 3)
            assert points_of(store) == {ada.user: 2, bob.user: 1}
            for who in (mallory, unsigned):
                who.close()
            student = pika.BlockingConnection(pika.URLParameters(bob.live_url))
            with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="ACCESS_REFUSED"):
                student.channel().basic_get(chat_queue(WORKSHOP), auto_ack=True)  # the grader's, not theirs
            student.close()
    finally:
        provision.teardown(settings, tmp_path / "room")


def test_a_message_signed_grader_is_not_answered_into_the_graders_own_queue(chat_grader, store, vhost):
    """The grader's id in the chat is `grader`: nobody's name may take it, or the grader would answer
    itself, and its answer would come back to it, without end."""
    register(store, "Ada Lovelace")
    ada, mallory = PikaChatter(vhost.url, "Ada Lovelace"), PikaChatter(vhost.url, "Mallory")
    probe = mallory.channel.queue_declare("", exclusive=True).method.queue  # what is sent to `grader` directly
    mallory.channel.queue_bind(probe, f"{WORKSHOP}.chat.direct", routing_key=chat.GRADER)
    for kind, key in (("direct", chat.GRADER), ("all", ""), ("topics", "x.y")):
        mallory.say(kind, "", key=key, body=json.dumps({"from": "Grader", "text": "hi"}).encode())
    # Ada's message is handled after those three, and answered on the same channel after whatever
    # they made the grader send: once her answer is here, any answer to "Grader" is in the probe.
    ada.say("all", "after them")
    assert ada.heard(1)[0].startswith("✔")
    said = {"from": "Grader", "text": "hi"}
    direct = [json.loads(body) for body in mallory.drain(probe)]
    assert direct.count(said) == 1 and [m for m in direct if m != said] == [], f"the grader answered itself: {len(direct)} messages, {direct[:3]}"
    for who in (ada, mallory):
        who.close()


def test_speaking_to_the_grader_in_a_classmates_name_cannot_flood_their_inbox(chat_grader, store, vhost,
                                                                               monkeypatch):
    monkeypatch.setattr("grader.live.chatter.time", SimpleNamespace(time=time.time, monotonic=lambda: 1000.0))
    register(store, "Ada Lovelace")  # the chat grader's clock stands still: every flood is within a second
    ada, mallory = PikaChatter(vhost.url, "Ada Lovelace"), PikaChatter(vhost.url, "Mallory")
    ada.say("direct", "hello", key=chat.GRADER)
    assert ada.heard(1)[0].startswith("Hello Ada Lovelace: ✔")
    for _ in range(200):
        mallory.say("direct", "", key=chat.GRADER, body=json.dumps({"from": "Ada Lovelace", "text": "x"}).encode())
    ada.say("all", "after them")  # scores: always answered, and only after the 200 are handled
    answers = ada.heard_until(lambda text: text.startswith("✔ you spoke to everyone"))
    assert len(answers) == 2, answers  # one "you already scored" for the 200, then the score
    for who in (ada, mallory):
        who.close()


def test_the_chat_queue_is_guarded_like_the_graders_intake(chat_grader, vhost):
    queue = vhost.api.queue(vhost.name, chat_queue(WORKSHOP))
    assert queue["arguments"]["x-queue-type"] == "quorum"
    assert queue["arguments"]["x-dead-letter-routing-key"] == names.rejected_queue(WORKSHOP)


@given(body=st.one_of(st.binary(max_size=300), st.builds(lambda f, t: json.dumps({"from": f, "text": t}).encode(),
                                                         st.one_of(st.text(max_size=50), st.integers(), st.none()),
                                                         st.one_of(st.text(max_size=50), st.none()))),
       user_id=st.one_of(st.none(), st.sampled_from(["ada", "bob", "eve"])), in_room=st.booleans(),
       kind=st.sampled_from(sorted(names.CHAT_KINDS)))
def test_reading_any_chat_message_never_raises_and_only_a_well_formed_one_from_its_speaker_can_score(
        body, user_id, in_room, kind):
    room = Room.of({"ada": "Ada", "bob": "Bob"}) if in_room else None
    said = chat.read(kind, body, user_id, room)
    assert said.kind == kind
    if said.problem is None:
        data = json.loads(body)
        assert isinstance(data["from"], str) and isinstance(data["text"], str)
        assert said.slug == student_id(data["from"])
        if in_room:
            assert said.slug == user_id and said.name == room.students[user_id]
    elif in_room:
        assert said.slug in (None, *room.students)  # an answer only ever goes to a student of the room
    else:
        assert said.slug is None
    assert isinstance(chat.answer(said, None), (str, type(None)))


def test_the_store_failing_drops_the_chat_graders_connection_not_the_service(settings, store, vhost, monkeypatch):
    """A store that fails (locked, away) must not end the chat grader: it reconnects and the message scores."""
    from sqlalchemy.exc import OperationalError

    real_score, failures = chat.score, []

    def failing_twice(*args, **kwargs):
        if len(failures) < 2:
            failures.append(1)
            raise OperationalError("UPDATE students", {}, Exception("database is locked"))
        return real_score(*args, **kwargs)
    monkeypatch.setattr(chat, "score", failing_twice)
    slug = register(store, "Ada Lovelace")
    for _grader in running(settings, store):
        ada = PikaChatter(vhost.url, "Ada Lovelace")
        ada.say("direct", "hello, grader", key="grader")
        assert ada.heard(1)[0].startswith(("✔", "Hello Ada Lovelace: ✔"))
        assert len(failures) == 2 and points_of(store) == {slug: 2}
        ada.close()

"""Protocol version 2 on a real broker: in a room provisioned with accounts, the sender of a message
is its broker-checked user_id. Nobody registers, answers or is throttled in a classmate's name."""

import json
import secrets
import time

import pika
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from grader import names
from grader.classroom import provision
from grader.live.accounts import Room
from grader.live.checks import fibonacci
from grader.live.dealer import deal
from grader.live.protocol import Answer, Registration, Rejected
from grader.live.standings import leaderboard
from tests.live.fixtures import WORKSHOP, Student, start_grader, stop_grader

pytestmark = pytest.mark.broker


def second_name() -> str:
    return "".join(secrets.choice("bcdfghjklmnpqrstvwxz") for _ in range(6)).capitalize()


@pytest.fixture
def room(settings, tmp_path):
    """Two provisioned students (broker users are not per vhost: the names are unique to the test)."""
    roster = tmp_path / "roster.csv"
    roster.write_text(f"name\nAda {second_name()}\nBob {second_name()}\n", encoding="utf-8")
    report = provision.provision(settings, roster, tmp_path / "room", instructor=f"i-{secrets.token_hex(4)}")
    yield {a.name.split()[0]: a for a in report.accounts if a.role == "student"}, tmp_path / "room"
    provision.teardown(settings, tmp_path / "room")


@pytest.fixture
def room_grader(settings, store, room):
    accounts, out = room
    running, thread = start_grader(settings, store, room=Room(out / provision.ACCOUNTS, lambda path: {
        a.user: a.name for a in provision.read_accounts(path) if a.role == "student"}))
    yield running
    stop_grader(running, thread)


def points(store) -> dict[str, int]:
    return {row["slug"]: row["points"] for row in leaderboard(store)}


def test_a_student_scores_under_their_own_account_and_only_with_user_id(room, room_grader, store, settings):
    accounts, _ = room
    ada = accounts["Ada"]
    student = Student(ada.live_url, ada.name)
    reply = student.register()
    assert not reply["ok"] and "user_id" in reply["message"]  # no user_id: nothing counts
    assert points(store) == {}
    student.send(names.REGISTER_QUEUE, {"name": ada.name.upper()}, user_id=ada.user)
    reply = student.feedback()
    assert reply["ok"] and reply["points"] == 1, reply
    assert [(r["slug"], r["name"]) for r in leaderboard(store)] == [(ada.user, ada.name)]  # the roster's spelling

    deal(settings, store, 1)
    [(properties, body)] = student.tasks(1)
    assert properties.user_id == settings.amqp.user  # the grader's tasks say who dealt them
    n = body["n"]
    student.channel.basic_publish("", properties.reply_to, json.dumps({"n": n, "Fn": fibonacci(n), "name": ada.name}),
                                  pika.BasicProperties(reply_to=student.replies, user_id=ada.user))
    assert student.feedback()["points"] == 1
    assert points(store) == {ada.user: 2}
    student.connection.close()


def test_nobody_registers_or_answers_in_a_classmates_name(room, room_grader, store):
    accounts, _ = room
    ada, bob = accounts["Ada"], accounts["Bob"]
    mallory = Student(ada.live_url, ada.name)
    mallory.send(names.REGISTER_QUEUE, {"name": bob.name}, user_id=ada.user)
    reply = mallory.feedback()
    assert not reply["ok"] and "cannot speak for" in reply["message"] and ada.name in reply["message"]
    real_bob = Student(bob.live_url, bob.name)
    real_bob.send(names.REGISTER_QUEUE, {"name": bob.name}, user_id=bob.user)
    assert real_bob.feedback()["ok"]
    store.add_tasks(bob.user, {40: "b40"}, time.time(), published=True)
    mallory.send(names.results_queue(WORKSHOP), {"n": 40, "Fn": fibonacci(40), "name": bob.name}, user_id=ada.user)
    assert not mallory.feedback()["ok"]
    assert points(store) == {bob.user: 1}  # Bob's task is still his to solve
    for who in (mallory, real_bob):
        who.connection.close()


def test_a_user_who_is_not_a_student_of_the_room_scores_nothing(room, room_grader, store, vhost):
    outsider = Student(vhost.url, "Guest")  # the broker's admin user: real, but not on the roster
    outsider.send(names.REGISTER_QUEUE, {"name": "Guest"}, user_id="guest")
    reply = outsider.feedback()
    assert not reply["ok"] and "not a student of this room" in reply["message"]
    assert points(store) == {}
    outsider.connection.close()


def test_a_fake_task_slipped_into_a_classmates_queue_is_not_the_graders_and_scores_nothing(
        room, room_grader, store, settings):
    accounts, _ = room
    ada, bob = accounts["Ada"], accounts["Bob"]
    real_bob = Student(bob.live_url, bob.name)
    real_bob.send(names.REGISTER_QUEUE, {"name": bob.name}, user_id=bob.user)
    assert real_bob.feedback()["ok"]
    mallory = Student(ada.live_url, ada.name)  # anyone may publish through the default exchange
    mallory.channel.basic_publish("", names.tasks_queue(WORKSHOP, bob.user), json.dumps({"n": 77}).encode(),
                                  pika.BasicProperties(reply_to=names.answers_queue(WORKSHOP, bob.user)))
    [(properties, body)] = real_bob.tasks(1)
    assert properties.user_id != settings.amqp.user  # how a notebook tells it from the grader's
    real_bob.channel.basic_publish("", properties.reply_to,
                                   json.dumps({"n": 77, "Fn": fibonacci(77), "name": bob.name}),
                                   pika.BasicProperties(reply_to=real_bob.replies, user_id=bob.user))
    reply = real_bob.feedback()
    assert not reply["ok"] and reply["points"] == 0
    assert points(store) == {bob.user: 1}
    for who in (mallory, real_bob):
        who.connection.close()


users = st.sampled_from(["ada", "bob", "eve", None])


@hsettings(max_examples=300, derandomize=True, deadline=None)
@given(users, st.sampled_from(["ada", "bob", "eve"]), st.booleans())
def test_admit_lets_through_exactly_the_messages_whose_sender_is_a_student_speaking_for_themselves(
        user_id, slug, is_answer):
    room = Room.of({"ada": "Ada Lovelace", "bob": "Bob Bobson"})
    message = Answer(slug.title(), slug, 10, 55) if is_answer else Registration(slug.title(), slug)
    admitted = room.admit(user_id, message)
    if user_id in ("ada", "bob") and slug == user_id:
        assert not isinstance(admitted, Rejected) and admitted.name == room.students[user_id]
        assert admitted.slug == slug
    else:
        assert isinstance(admitted, Rejected)

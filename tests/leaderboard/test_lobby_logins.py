"""The lobby of a room: the names of students as they log into the room's JupyterHub, announced
under their own broker accounts (the broker vouches for the user_id), in a real Chromium on the
page the real service feeds. Names come from the roster, never from a message."""

import uuid

import pika
import pytest

from grader import names
from grader.classroom.authenticator import announce_login
from grader.live.accounts import Room
from tests.leaderboard.browser import chromium, open_board  # noqa: F401

WAIT = 5_000  # ms


@pytest.fixture
def students(vhost):
    """Two broker accounts of students, with rights on the test's vhost: user -> (name, password)."""
    made = {}
    for name in ("Ada Lovelace", "Иван Петров"):
        user, password = f"s-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
        vhost.api.put_user(user, password)
        vhost.api.grant(vhost.name, user)
        made[user] = (name, password)
    yield made
    for user in made:
        vhost.api.delete_user(user)


@pytest.fixture
def service_options(students):
    return {"room": Room.of({user: name for user, (name, _) in students.items()}), "deal_on_register": 0}


def _publish(url: str, queue: str, properties: pika.BasicProperties) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        connection.channel().basic_publish("", queue, b'{"login": true, "name": "Mallory"}', properties)
    finally:
        connection.close()


def test_students_appear_in_the_lobby_as_they_log_in_under_their_roster_names(open_board, service, vhost, students):
    from playwright.sync_api import expect

    workshop = service.service.settings.workshop
    (ada, (ada_name, ada_password)), (ivan, (ivan_name, ivan_password)) = students.items()
    page = open_board()
    lobby, count = page.locator("#lobby-names li"), page.locator("#lobby-count")
    expect(count, "an empty lobby").to_have_text("nobody yet: be the first")

    announce_login(vhost.url, ada, ada_password, workshop)
    expect(lobby, "Ada, logged in").to_have_text([ada_name], timeout=WAIT)
    expect(count, "one logged in").to_have_text("1 logged in")

    queue = names.lobby_queue(workshop)
    _publish(vhost.url, queue, pika.BasicProperties())  # no identity the broker vouched for
    _publish(vhost.url, queue, pika.BasicProperties(user_id="guest"))  # an account that is not of the room
    announce_login(vhost.url, ivan, ivan_password, workshop)
    announce_login(vhost.url, ada, ada_password, workshop)  # Ada again, from another browser
    expect(lobby, "Ivan, the newest, then Ada; nobody else").to_have_text([ivan_name, ada_name], timeout=WAIT)
    expect(count).to_have_text("2 logged in")

    late = open_board()  # a page opened later gets the lobby with its first snapshot
    expect(late.locator("#lobby-names li"), "the lobby on a late page").to_have_text([ivan_name, ada_name],
                                                                                      timeout=WAIT)


def test_a_login_the_broker_refuses_changes_nothing_and_says_why(vhost, students):
    ada, (_, _) = next(iter(students.items()))
    from grader.errors import BrokerAuthFailed

    with pytest.raises(BrokerAuthFailed):
        announce_login(vhost.url, ada, "not-the-password", "summercamp")

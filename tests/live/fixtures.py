"""Fixtures for the live service (grader, leaderboard): settings for the test's vhost, a store, a
running grader, and students who publish and read feedback like notebooks do."""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
import uuid

import pika
import pika.exceptions
import pytest

from grader import names
from grader.live.consumer import Grader
from grader.live.dealer import Dealer
from grader.live.identity import student_id
from grader.live.store import Store
from grader.settings import Settings

WORKSHOP = "summercamp"
FEEDBACK_TIMEOUT = 10


@pytest.fixture
def settings(vhost) -> Settings:
    return Settings(rabbitmq_url=vhost.url, management_url=vhost.management_url, workshop=WORKSHOP)


@pytest.fixture
def store(tmp_path, settings):
    made = Store(f"sqlite:///{tmp_path / 'scores.sqlite'}", settings.workshop)
    yield made
    made.close()


def start_grader(settings, store, *, swallow: type[BaseException] | None = None, **kwargs):
    """A grader running in a thread, consuming; `swallow` is an exception that may end it (tests
    raise it to stand for the process dying)."""
    grader = Grader(settings, store, **kwargs)

    def run():
        try:
            grader.run()
        except BaseException as exc:
            if swallow is None or not isinstance(exc, swallow):
                raise

    thread = threading.Thread(target=run, name="grader", daemon=True)
    thread.start()
    assert grader.consuming.wait(timeout=15), "the grader was not consuming within 15 s"
    return grader, thread


def stop_grader(grader: Grader, thread: threading.Thread) -> None:
    grader.stop()
    thread.join(timeout=15)
    assert not thread.is_alive(), "the grader did not stop within 15 s"


@pytest.fixture
def grader(settings, store):
    running, thread = start_grader(settings, store)
    yield running
    stop_grader(running, thread)


class Student:
    """A student's connection: publishes like a notebook would and reads the grader's feedback."""

    def __init__(self, url: str, name: str = "Ada Lovelace"):
        self.name = name
        self.slug = student_id(name)
        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()
        self.replies = self.channel.queue_declare(queue="", exclusive=True).method.queue

    def send(self, routing_key: str, body, *, reply=True, **properties) -> str:
        correlation_id = uuid.uuid4().hex
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        props = pika.BasicProperties(reply_to=self.replies if reply else None, correlation_id=correlation_id,
                                     **properties)
        self.channel.basic_publish(exchange="", routing_key=routing_key, body=raw, properties=props)
        return correlation_id

    def register(self, name: str | None = None) -> dict:
        self.send(names.REGISTER_QUEUE, {"name": name or self.name})
        return self.feedback()

    def answer(self, n: int, fn, name: str | None = None) -> dict:
        return self.answer_to(names.results_queue(WORKSHOP), n, fn, name)

    def answer_to(self, queue: str, n: int, fn, name: str | None = None) -> dict:
        self.send(queue, {"n": n, "Fn": fn, "name": name or self.name})
        return self.feedback()

    def feedback(self, timeout: float = FEEDBACK_TIMEOUT) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            method, properties, body = self.channel.basic_get(self.replies, auto_ack=True)
            if method is not None:
                assert properties.content_type == "application/json"
                return json.loads(body) | {"correlation_id": properties.correlation_id}
            self.connection.process_data_events(time_limit=0.05)
        raise AssertionError(f"no feedback from the grader within {timeout} s")

    def tasks(self, count: int, timeout: float = FEEDBACK_TIMEOUT) -> list:
        """The next `count` task messages from this student's queue, acked."""
        queue = names.tasks_queue(WORKSHOP, self.slug)
        got, deadline = [], time.monotonic() + timeout
        while len(got) < count:
            assert time.monotonic() < deadline, f"only {len(got)} of {count} tasks arrived in {queue}"
            try:
                method, properties, body = self.channel.basic_get(queue, auto_ack=True)
            except pika.exceptions.ChannelClosedByBroker as exc:  # 404: the dealer has not declared it yet
                assert exc.reply_code == 404, exc
                self.channel = self.connection.channel()
                method = None
            if method is None:
                time.sleep(0.05)
                continue
            got.append((properties, json.loads(body)))
        return got

    def every_task(self, at_least: int) -> list:
        """Every task message in this student's queue (waiting for `at_least` of them), acked: a
        task dealt again after a dealer's crash may be there twice."""
        got = self.tasks(at_least)
        while (more := self.channel.basic_get(names.tasks_queue(WORKSHOP, self.slug), auto_ack=True))[0] is not None:
            got.append((more[1], json.loads(more[2])))
        return got

    def close(self) -> None:
        if self.connection.is_open:
            self.connection.close()


@pytest.fixture
def student(vhost):
    made = Student(vhost.url)
    yield made
    made.close()


@pytest.fixture
def make_student(vhost):
    made = []

    def make(name: str) -> Student:
        made.append(Student(vhost.url, name))
        return made[-1]

    yield make
    for one in made:
        one.close()


POSTGRES_URL = os.environ.get("WORKSHOP_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def postgres_store_url():
    """A fresh PostgreSQL database for this test (from WORKSHOP_TEST_POSTGRES's server), dropped after."""
    import psycopg

    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs PostgreSQL at {POSTGRES_URL}: {exc}")
        pytest.skip(f"no PostgreSQL at {POSTGRES_URL} (set WORKSHOP_TEST_POSTGRES): {exc}")
    name = f"workshop_test_{uuid.uuid4().hex[:10]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def named_connections(vhost, name: str) -> list[dict]:
    """The connections of the test's vhost that their client named `name` (grader.broker names its
    own), as the management API lists them. A broker that keeps no management statistics lists
    connections without their properties: tests that need this are marked `management_stats`,
    which CI leaves out on such a broker, and skip elsewhere."""
    if not vhost.api.keeps_counts():
        pytest.skip("this broker's management API keeps no statistics: its connections carry no names there")
    return [c for c in vhost.api.connections(vhost.name)
            if c.get("client_properties", {}).get("connection_name") == name]


def wait_for_consumers(url: str, queue: str, count: int = 1, timeout: float = 30) -> None:
    """Until `count` consumers read `queue` (a grader in another process is ready)."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    deadline = time.monotonic() + timeout
    try:
        while True:
            channel = connection.channel()
            try:
                if channel.queue_declare(queue, passive=True).method.consumer_count >= count:
                    return
                channel.close()
            except pika.exceptions.ChannelClosedByBroker:
                pass  # not declared yet
            if time.monotonic() > deadline:
                raise AssertionError(f"fewer than {count} consumers on {queue} after {timeout} s")
            time.sleep(0.1)
    finally:
        connection.close()


@contextlib.contextmanager
def live_grader(settings: Settings, store_url: str, *, keep_open: int = 3, room=None):
    """The instructor's live grader and dealer for a notebook that talks to them: every student
    gets tasks on registration and is kept supplied with `keep_open` unsolved ones. `room`: a
    `grader.live.accounts.Room` (protocol version 2)."""
    store = Store(store_url, settings.workshop)
    grader, grader_thread = start_grader(settings, store, room=room)
    dealer = Dealer(settings, store, on_register=keep_open, keep_open=keep_open, poll=0.2)
    dealer_thread = threading.Thread(target=dealer.run, name="dealer", daemon=True)
    dealer_thread.start()
    try:
        yield store
    finally:
        dealer.stop()
        dealer_thread.join(timeout=15)
        stop_grader(grader, grader_thread)
        store.close()

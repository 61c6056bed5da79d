"""Where the notebooks find the broker: RABBITMQ_URL and RABBITMQ_MANAGEMENT_URL, laptop defaults."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pika

from grader import broker
from grader.management import Management
from grader.settings import AmqpAddress, Settings


def settings() -> Settings:
    return Settings.from_env()


def broker_url() -> str:
    """The AMQP URL this notebook should use (RABBITMQ_URL, else the laptop default)."""
    return settings().rabbitmq_url


def live_url() -> str:
    """The AMQP URL of the live exercises: in a room with accounts, WORKSHOP_LIVE_URL (the room's
    shared vhost, as your own user); elsewhere the same broker and vhost as the lessons."""
    return os.environ.get("WORKSHOP_LIVE_URL") or broker_url()


def live_user() -> str:
    """Your broker user on the live vhost: the `user_id` your messages to the grader carry."""
    return AmqpAddress.parse(live_url()).user


def vhost() -> str:
    """The virtual host named in RABBITMQ_URL (`/` by default)."""
    return settings().amqp.vhost


def management() -> Management:
    return Management.from_settings(settings())


@contextlib.contextmanager
def channel() -> Iterator[pika.adapters.blocking_connection.BlockingChannel]:
    """A short-lived channel for checks and helpers, closed (with its connection) afterwards."""
    connection = broker.connect(broker_url())
    try:
        yield connection.channel()
    finally:
        if connection.is_open:
            connection.close()


def expect_connected(connection, what: str = "connection") -> None:
    """The student's connection (pika's BlockingConnection or kombu's Connection) is open and goes
    to the course's broker and vhost (those of RABBITMQ_URL): a connection hard-coded to
    `localhost` or to another vhost works, but every check then looks somewhere else and would
    blame the student for things they did declare."""
    from grader.lab.checks import expect  # checks imports this module

    if hasattr(connection, "virtual_host") and hasattr(connection, "hostname"):  # kombu
        expect(connection.connected, f"`{what}` is not connected yet: kombu connects lazily, call {what}.connect()")
        host, port, vhost_ = connection.hostname, connection.port or 5672, connection.virtual_host
        how = "Connection(lab.broker_url())"
    else:
        expect(isinstance(connection, pika.BlockingConnection),
               f"`{what}` should be a pika.BlockingConnection (it is {type(connection).__name__})")
        expect(connection.is_open, f"`{what}` is closed: run the cell that connects again")
        params = connection._impl.params  # pika 1.x (pinned): the parameters it connected with
        host, port, vhost_ = params.host, params.port, params.virtual_host
        how = "pika.BlockingConnection(pika.URLParameters(lab.broker_url()))"
    wanted = settings().amqp
    same_host = host == wanted.host or {host, wanted.host} <= {"localhost", "127.0.0.1", "::1"}
    expect(same_host and port == wanted.port and vhost_ == wanted.vhost,
           f"`{what}` is connected to {host}:{port}, vhost {vhost_!r}, but this course's broker is "
           f"{wanted.host}:{wanted.port}, vhost {wanted.vhost!r} (RABBITMQ_URL): connect with {how} so that "
           "the checks look where your queues are")

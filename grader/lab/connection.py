"""Where the notebooks find the broker: RABBITMQ_URL and RABBITMQ_MANAGEMENT_URL, laptop defaults."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pika

from grader import broker
from grader.management import Management
from grader.settings import Settings


def settings() -> Settings:
    return Settings.from_env()


def broker_url() -> str:
    """The AMQP URL this notebook should use (RABBITMQ_URL, else the laptop default)."""
    return settings().rabbitmq_url


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

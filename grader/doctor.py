"""`workshop doctor`: is the broker there, and can the course use it?

Each check returns a line for the report; the first failure stops the run with one sentence
that says what is wrong and what to do next.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from grader import broker
from grader.management import Management
from grader.settings import Settings


@dataclass(frozen=True)
class Finding:
    what: str
    detail: str


def diagnose(settings: Settings, *, timeout: float = 5.0) -> Iterator[Finding]:
    """What the broker looks like, one finding at a time; raises a `WorkshopError` at the first
    thing that is wrong."""
    address = settings.amqp

    connection = broker.connect(settings.rabbitmq_url, timeout=timeout)
    try:
        version = broker.server_version(connection)
    finally:
        connection.close()
    yield Finding("AMQP", f"{address.url(password=False)} answers: RabbitMQ {version}")
    yield Finding("vhost", f"{address.vhost!r} is usable by {address.user!r}")

    api = Management.from_settings(settings, timeout=timeout)
    overview = api.overview()
    yield Finding(
        "management",
        f"{settings.management_base} answers: plugin on, management {overview.get('management_version')}, "
        f"Erlang {overview.get('erlang_version')}, node {overview.get('node')}",
    )


def check(settings: Settings, *, timeout: float = 5.0, out: TextIO = sys.stdout) -> None:
    """Print each finding as it comes; a `WorkshopError` stops at the first problem."""
    for finding in diagnose(settings, timeout=timeout):
        print(f"ok  {finding.what:<10}  {finding.detail}", file=out, flush=True)

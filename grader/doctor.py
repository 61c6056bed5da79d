"""`workshop doctor`: is the broker there, and can the course use it?

Each check returns a line for the report; the first failure stops the run with one sentence
that says what is wrong and what to do next.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO
from urllib.parse import urlsplit

from grader import broker
from grader.errors import ManagementUnavailable
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


LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def enable_local_management(settings: Settings, *, timeout: float = 60.0) -> bool:
    """On a RabbitMQ of this machine whose management plugin is off, turn it on and wait until
    the API answers. False when that is not possible here (a remote broker, no rabbitmq-plugins,
    no permission), and the caller reports the original problem."""
    plugins = shutil.which("rabbitmq-plugins")
    management_host = urlsplit(settings.management_url).hostname or "localhost"
    if plugins is None or settings.amqp.host not in LOCAL_HOSTS or management_host not in LOCAL_HOSTS:
        return False
    print("The management plugin is off; turning it on: rabbitmq-plugins enable rabbitmq_management", flush=True)
    try:
        enabled = subprocess.run([plugins, "-q", "enable", "rabbitmq_management"], capture_output=True, text=True,
                                 timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return False
    if enabled.returncode != 0:
        return False
    api = Management.from_settings(settings, timeout=2)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            api.overview()
            return True
        except ManagementUnavailable:
            time.sleep(0.5)
    return False

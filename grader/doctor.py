"""`workshop doctor`: is the broker there, and can the course use it?

Each check returns a line for the report; the first failure stops the run with one sentence
that says what is wrong and what to do next.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TextIO
from urllib.parse import urlsplit

import pika
import pika.exceptions
import requests

from grader import broker
from grader.errors import ManagementUnavailable, WorkshopError
from grader.management import Management, counts_off
from grader.settings import Settings, management_url_for, stream_port
from grader.streamport import stream_problem


class NotTheManagementApi(ManagementUnavailable):
    """Something answers at the management URL, but not the management API (a wrong path, say)."""


class DifferentBrokers(WorkshopError):
    """The AMQP URL and the management URL lead to two different brokers."""


@dataclass(frozen=True)
class Finding:
    what: str
    detail: str


def diagnose(settings: Settings, *, timeout: float = 5.0) -> Iterator[Finding]:
    """What the broker looks like, one finding at a time; raises a `WorkshopError` at the first
    thing that is wrong (a bad URL too)."""
    settings.check()
    address = settings.amqp
    connection = broker.connect(settings.rabbitmq_url, timeout=timeout)
    try:
        server = connection._impl.server_properties or {}
        yield Finding("AMQP", f"{address.url(password=False)} answers: RabbitMQ {broker.server_version(connection)}")
        yield Finding("vhost", f"{address.vhost!r} is usable by {address.user!r}")
        api = Management.from_settings(settings, timeout=timeout)
        overview = _overview(api, settings)
        same_broker(settings, connection, server, overview, api)
    finally:
        if connection.is_open:
            connection.close()
    yield Finding(
        "management",
        f"{settings.management_base} answers: plugin on, management {overview.get('management_version')}, "
        f"Erlang {overview.get('erlang_version')}, node {overview.get('node')}, the same broker as AMQP",
    )
    yield counts_finding(overview)
    yield stream_finding(settings, api, overview)


def counts_finding(overview: dict) -> Finding:
    """Does the management API keep message counts? The course counts over AMQP; only lesson 0's
    first exercise reads a count from the API. Never an error."""
    if counts_off(overview):
        return Finding("counts", "the management API keeps no message counts on this broker (metrics collection "
                                 "is off; RabbitMQ 4 deprecates it): the lessons count over AMQP and do not need "
                                 "them; lesson 0's first exercise then counts over AMQP too, as it says")
    return Finding("counts", "the management API keeps message counts (a few seconds behind; the checks "
                             "count over AMQP)")


def _overview(api: Management, settings: Settings) -> dict:
    """/api/overview, or `ManagementUnavailable` saying that this is not the management API."""
    usual = management_url_for(settings.rabbitmq_url)
    try:
        overview = api.overview()
    except requests.RequestException as exc:  # what the API client does not turn into a sentence itself
        raise ManagementUnavailable(
            f"The management API at {api.base_url} cannot be asked ({type(exc).__name__}). "
            f"Check --management-url or RABBITMQ_MANAGEMENT_URL (usually {usual})."
        ) from exc
    if not isinstance(overview, dict) or "node" not in overview:
        found = "answers 404 (not found)" if overview is None else "is not the management API's overview"
        raise NotTheManagementApi(
            f"{api.base_url}/api/overview {found}: {api.base_url} is not the address of the management API. "
            f"Check --management-url or RABBITMQ_MANAGEMENT_URL (usually {usual}, without a path)."
        )
    return overview


def _text(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value or "")


def same_broker(settings: Settings, connection: pika.BlockingConnection, server: dict, overview: dict,
                api: Management) -> None:
    """`DifferentBrokers` unless the AMQP connection and the management API lead to the same broker:
    first what each says about itself (cluster name, version), then a queue declared over AMQP
    that the management API must see."""
    amqp_side = {"cluster": _text(server.get("cluster_name")), "version": _text(server.get("version"))}
    api_side = {"cluster": _text(overview.get("cluster_name")), "version": _text(overview.get("rabbitmq_version"))}
    fix = (f"Point --management-url (RABBITMQ_MANAGEMENT_URL) at the management API of the AMQP broker, "
           f"usually {management_url_for(settings.rabbitmq_url)}, or --url (RABBITMQ_URL) at the other one.")
    where_amqp = settings.amqp.url(password=False)
    differ = [key for key in amqp_side if amqp_side[key] and api_side[key] and amqp_side[key] != api_side[key]]
    if differ:
        raise DifferentBrokers(
            f"The AMQP URL and the management URL lead to two different brokers: {where_amqp} is "
            f"RabbitMQ {amqp_side['version']} (cluster {amqp_side['cluster']!r}), {settings.management_base} is "
            f"RabbitMQ {api_side['version']} (cluster {api_side['cluster']!r}, node {overview.get('node')}). {fix}"
        )
    probe = f"workshop.doctor.{uuid.uuid4().hex}"
    try:
        channel = connection.channel()
        channel.queue_declare(probe, exclusive=True)  # gone with the connection
    except pika.exceptions.ChannelClosedByBroker:
        return  # no right to declare queues here: what the two said about themselves has to do
    try:
        seen = api.queue(settings.amqp.vhost, probe) is not None
    finally:
        if channel.is_open:
            channel.queue_delete(probe)
    if not seen:
        raise DifferentBrokers(
            f"The AMQP URL and the management URL lead to two different brokers: the queue {probe!r} just "
            f"declared at {where_amqp} is not on vhost {settings.amqp.vhost!r} of {settings.management_base} "
            f"(node {overview.get('node')}). {fix}"
        )


def check(settings: Settings, *, timeout: float = 5.0, out: TextIO = sys.stdout) -> None:
    """Print each finding as it comes; a `WorkshopError` stops at the first problem."""
    for finding in diagnose(settings, timeout=timeout):
        print(f"ok  {finding.what:<10}  {finding.detail}", file=out, flush=True)


LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def enable_local_plugin(settings: Settings, plugin: str, ready: Callable[[], bool], *,
                        timeout: float = 60.0) -> bool:
    """On a RabbitMQ of this machine, turn `plugin` on (rabbitmq-plugins enable) and wait until
    `ready()` says it works. False when that is not possible here (a remote broker, no
    rabbitmq-plugins, no permission), and the caller reports the original problem."""
    plugins = shutil.which("rabbitmq-plugins")
    management_host = urlsplit(settings.management_url).hostname or "localhost"
    if plugins is None or settings.amqp.host not in LOCAL_HOSTS or management_host not in LOCAL_HOSTS:
        return False
    print(f"The {plugin} plugin is off; turning it on: rabbitmq-plugins enable {plugin}", flush=True)
    try:
        enabled = subprocess.run([plugins, "-q", "enable", plugin], capture_output=True, text=True,
                                 timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return False
    deadline = time.monotonic() + timeout
    while enabled.returncode == 0 and time.monotonic() < deadline:
        try:
            if ready():
                return True
        except ManagementUnavailable:
            pass
        time.sleep(0.5)
    return False


def enable_local_management(settings: Settings, *, timeout: float = 60.0) -> bool:
    """Turn the management plugin on where the broker is local; True once the API answers."""
    api = Management.from_settings(settings, timeout=2)
    return enable_local_plugin(settings, "rabbitmq_management", lambda: bool(api.overview()), timeout=timeout)


def stream_finding(settings: Settings, api: Management, overview: dict, *, timeout: float = 60.0) -> Finding:
    """Is the stream plugin on (lesson 13 needs it, the rest of the course does not)? On a broker
    of this machine where it is off, turn it on, as for the management plugin; elsewhere say how.
    Never an error."""
    on, ports = api.stream_listener(stream_port(), overview)
    if not on and enable_local_stream(settings, api, timeout=timeout):
        on, ports = api.stream_listener(stream_port())
        return Finding("stream", "plugin was off, turned on (rabbitmq-plugins enable rabbitmq_stream)"
                                 + (f": {_ports(ports)}" if ports else ""))
    if not on:
        return Finding("stream", "plugin off: lesson 13 (streams) needs it; run `rabbitmq-plugins enable "
                                 "rabbitmq_stream` on the broker (the rest of the course works without it)")
    port, problem = stream_port(), stream_problem(settings.amqp.host, stream_port())
    because = f" ({problem})" if problem is not None else ""
    if ports and port not in ports:
        return Finding("stream", f"plugin on, {_ports(ports)}, but the notebooks use port {port}{because}: set "
                                 f"RABBITMQ_STREAM_PORT={ports[0]} for lesson 13")
    if not ports or problem is not None and problem.other_protocol:  # a broker without metrics names no port
        return Finding("stream", f"plugin on, but not on port {port}{because}, and this broker's API (collecting "
                                 "no metrics) does not say which: set RABBITMQ_STREAM_PORT to it for lesson 13")
    if problem is not None:  # the right port, not reachable from here
        return Finding("stream", f"plugin on, {_ports(ports)}, but {problem}: lesson 13 needs that port reachable "
                                 "from the notebooks (in Docker, publish it: 5552:5552 in docker-compose.yml)")
    return Finding("stream", f"plugin on, {_ports(ports)} (lesson 13; RABBITMQ_STREAM_PORT if not 5552)")


def _ports(ports: list[int]) -> str:
    return f"port {', '.join(map(str, ports))}"


def enable_local_stream(settings: Settings, api: Management, *, timeout: float = 60.0) -> bool:
    """Turn the stream plugin on where the broker is local; True once it listens."""
    return enable_local_plugin(settings, "rabbitmq_stream", lambda: api.stream_listener(stream_port())[0],
                               timeout=timeout)

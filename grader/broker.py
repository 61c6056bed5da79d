"""Opening AMQP connections with pika, with errors a person can act on."""

from __future__ import annotations

import logging
import socket
import threading

import pika
import pika.exceptions
from pika.adapters.utils.connection_workflow import AMQPConnectorException, AMQPConnectorStackTimeout

from grader.errors import BrokerAuthFailed, BrokerUnavailable, VhostNotFound, WorkshopError
from grader.settings import AmqpAddress

log = logging.getLogger(__name__)
START_HINT = "Start it with `rabbitmq-server -detached` or `JUPYTER_TOKEN=unused docker compose up -d rabbitmq`."


def parameters(url: str, *, timeout: float = 5.0, heartbeat: int | None = None,
               name: str | None = None) -> pika.URLParameters:
    """pika parameters for `url` that fail fast instead of retrying for a long time. `name` shows
    in the management UI's list of connections."""
    params = pika.URLParameters(url)
    if name:
        params.client_properties = {"connection_name": name}
    params.connection_attempts = 1
    params.socket_timeout = timeout
    params.stack_timeout = timeout * 2
    params.blocked_connection_timeout = 60
    if heartbeat is not None:
        params.heartbeat = heartbeat
    return params


def connect(url: str, *, timeout: float = 5.0, heartbeat: int | None = None,
            name: str | None = None) -> pika.BlockingConnection:
    """A blocking connection to `url`, or one of the project's errors saying what to do next."""
    address = AmqpAddress.parse(url)
    where = f"{address.host}:{address.port}"
    try:
        return pika.BlockingConnection(parameters(url, timeout=timeout, heartbeat=heartbeat, name=name))
    except pika.exceptions.ProbableAuthenticationError as exc:
        raise BrokerAuthFailed(
            f"RabbitMQ at {where} refused user {address.user!r} (wrong user name or password). "
            "Check the user and password in RABBITMQ_URL."
        ) from exc
    except pika.exceptions.ProbableAccessDeniedError as exc:
        raise VhostNotFound(
            f"RabbitMQ at {where} does not let {address.user!r} use vhost {address.vhost!r} "
            "(it does not exist or the user has no permissions there). "
            f"Create it with `rabbitmqctl add_vhost {address.vhost}` and "
            f"`rabbitmqctl set_permissions -p {address.vhost} {address.user} '.*' '.*' '.*'`."
        ) from exc
    except pika.exceptions.IncompatibleProtocolError as exc:
        raise BrokerUnavailable(
            f"Something answers at {where} but it does not speak AMQP 0-9-1. "
            "Is that the management port? AMQP is usually on port 5672."
        ) from exc
    except socket.gaierror as exc:
        raise BrokerUnavailable(
            f"Cannot find host {address.host!r} for RabbitMQ ({exc.strerror}). "
            "Check the host name in RABBITMQ_URL."
        ) from exc
    except AMQPConnectorStackTimeout as exc:  # not an AMQPError: a socket that takes the connection and says nothing
        raise BrokerUnavailable(
            f"RabbitMQ at {where} took the connection but did not finish the AMQP handshake within "
            f"{timeout * 2:g} s (is it overloaded, starting or stuck?). Check it with `rabbitmq-diagnostics status`."
        ) from exc
    except (pika.exceptions.AMQPConnectionError, AMQPConnectorException, OSError) as exc:
        raise BrokerUnavailable(f"Cannot reach RabbitMQ at {where} ({_reason(exc)}). {START_HINT}") from exc


def server_version(connection: pika.BlockingConnection) -> str:
    """The RabbitMQ version the broker announced when the connection opened."""
    properties = connection._impl.server_properties or {}
    version = properties.get("version", b"unknown")
    return version.decode() if isinstance(version, bytes) else str(version)


def _reason(exc: BaseException) -> str:
    """A short human reason from pika's nested connection errors."""
    text = repr(exc)
    if "ConnectionRefusedError" in text or isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if "timeout" in text.lower() or "timed out" in text.lower():
        return "timed out"
    if "Transport indicated EOF" in text or "StreamLostError" in text:
        return "the connection was closed before AMQP started"
    return text


def quiet_pika() -> None:
    """pika logs every failed connection attempt; a command line tool reports them itself."""
    logging.getLogger("pika").setLevel(logging.CRITICAL)


RECONNECT_ATTEMPTS = 60  # failed attempts in a row before giving up
RECONNECT_MAX_DELAY = 15.0  # seconds between attempts, at most
CONNECTION_ERRORS = (pika.exceptions.AMQPError, AMQPConnectorException, WorkshopError, OSError)


def run_connected(url: str, name: str, work, stopping: threading.Event, ready: threading.Event, *,
                  errors: tuple = CONNECTION_ERRORS, attempts: int = RECONNECT_ATTEMPTS) -> None:
    """Call `work(connection)` until `stopping` is set, reconnecting with bounded back-off when the
    connection (or anything in `errors`) fails. `work` sets `ready` once it is set up; a failure
    after that starts a new count of attempts. Gives up with `BrokerUnavailable` after `attempts`
    failed attempts in a row."""
    attempt = 0
    while not stopping.is_set():
        attempt += 1
        log.info("%s connecting to %s, attempt %d/%d", name, AmqpAddress.parse(url).url(password=False), attempt,
                 attempts)
        try:
            connection = connect(url, heartbeat=30, name=f"workshop-{name}")
            try:
                work(connection)
            finally:
                if ready.is_set():
                    attempt = 0  # it worked for a while: the next failure starts a new count
                ready.clear()
                if connection.is_open:
                    try:
                        connection.close()
                    except Exception:  # noqa: BLE001 - it is going away anyway
                        pass
        except errors as exc:
            log.warning("%s lost its connection (%s: %s); reconnecting", name, type(exc).__name__, exc)
        if stopping.is_set():
            break
        if attempt >= attempts:
            raise BrokerUnavailable(f"{name} could not work with RabbitMQ in {attempts} attempts; giving up")
        stopping.wait(min(RECONNECT_MAX_DELAY, 0.25 * 2**attempt))

"""Opening AMQP connections with pika, with errors a person can act on."""

from __future__ import annotations

import logging
import socket

import pika
import pika.exceptions

from grader.errors import BrokerAuthFailed, BrokerUnavailable, VhostNotFound
from grader.settings import AmqpAddress

START_HINT = "Start it with `docker compose up -d rabbitmq` or `rabbitmq-server -detached`."


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
    except (pika.exceptions.AMQPConnectionError, OSError) as exc:
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

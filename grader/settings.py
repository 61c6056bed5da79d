"""Where the broker is: one typed object read from flags and the environment.

Every default works on a laptop with RabbitMQ on localhost.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from grader.errors import WorkshopError

DEFAULT_RABBITMQ_URL = "amqp://guest:guest@localhost:5672/%2F"
DEFAULT_MANAGEMENT_URL = "http://localhost:15672"  # the management API of the default broker
MANAGEMENT_PORT = 15672
DEFAULT_WORKSHOP = "summercamp"
DEFAULT_STREAM_PORT = 5552  # the stream protocol's (lesson 13)

# Environment variable for each field.
ENVIRONMENT = {
    "rabbitmq_url": "RABBITMQ_URL",
    "management_url": "RABBITMQ_MANAGEMENT_URL",
    "workshop": "WORKSHOP_ID",
}


class InvalidUrl(WorkshopError, ValueError):
    """A broker or management URL that cannot be used as it is written."""


def stream_port() -> int:
    """The port of the broker's stream protocol: RABBITMQ_STREAM_PORT, else 5552."""
    value = os.environ.get("RABBITMQ_STREAM_PORT", "").strip()
    return int(value) if value.isdigit() else DEFAULT_STREAM_PORT


def shown(url: str) -> str:
    """`url` as it may be printed: a password in it is replaced by ***."""
    head, at, tail = url.rpartition("@")
    scheme, slashes, userinfo = head.rpartition("//")
    if not at or ":" not in userinfo:
        return url
    return f"{scheme}{slashes}{userinfo.split(':', 1)[0]}:***@{tail}"


def management_url_for(rabbitmq_url: str) -> str:
    """The management API's usual address on the AMQP URL's host: http://<host>:15672."""
    try:
        host = urlsplit(rabbitmq_url).hostname or "localhost"
    except ValueError:  # a malformed URL: `check()` says what is wrong with it
        host = "localhost"
    return f"http://{f'[{host}]' if ':' in host else host}:{MANAGEMENT_PORT}"


@dataclass(frozen=True)
class Settings:
    """`management_url` left empty is the management port of the AMQP URL's host."""

    rabbitmq_url: str = DEFAULT_RABBITMQ_URL
    management_url: str = ""
    workshop: str = DEFAULT_WORKSHOP

    def __post_init__(self):
        if not self.management_url:
            object.__setattr__(self, "management_url", management_url_for(self.rabbitmq_url))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> Settings:
        """Defaults, then the environment, then explicit overrides (flags) that are not None."""
        environ = os.environ if environ is None else environ
        values = {}
        for field in fields(cls):
            value = environ.get(ENVIRONMENT[field.name])
            if value:
                values[field.name] = value
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)

    def check(self) -> Settings:
        """These settings, or `InvalidUrl` saying which URL is wrong and what one looks like."""
        self.amqp  # noqa: B018 - parsing is the check
        parts = urlsplit(self.management_url)
        try:
            parts.port  # noqa: B018 - raises for a port that is not a number
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidUrl(f"{shown(self.management_url)!r} is not an http:// URL of the management API "
                             f"(for example {management_url_for(self.rabbitmq_url)}); "
                             "check --management-url or RABBITMQ_MANAGEMENT_URL")
        return self

    @property
    def amqp(self) -> AmqpAddress:
        return AmqpAddress.parse(self.rabbitmq_url)

    @property
    def management_credentials(self) -> tuple[str, str]:
        """The management URL's own user and password, else those of the AMQP URL."""
        parts = urlsplit(self.management_url)
        if parts.username:
            return unquote(parts.username), unquote(parts.password or "")
        return self.amqp.user, self.amqp.password

    @property
    def management_base(self) -> str:
        """The management URL without credentials and without a trailing slash."""
        parts = urlsplit(self.management_url)
        netloc = parts.hostname or "localhost"
        netloc = f"[{netloc}]" if ":" in netloc else netloc  # an IPv6 address
        if parts.port:
            netloc = f"{netloc}:{parts.port}"
        return urlunsplit((parts.scheme or "http", netloc, parts.path.rstrip("/"), "", ""))


@dataclass(frozen=True)
class AmqpAddress:
    """The parts of an amqp:// URL, with the vhost decoded (`%2F` is `/`)."""

    host: str
    port: int
    user: str
    password: str
    vhost: str
    scheme: str = "amqp"

    @classmethod
    def parse(cls, url: str) -> AmqpAddress:
        parts = urlsplit(url)
        if parts.scheme not in ("amqp", "amqps"):
            raise InvalidUrl(f"{shown(url)!r} is not an amqp:// URL (for example {DEFAULT_RABBITMQ_URL}); "
                             "check --url or RABBITMQ_URL")
        try:
            port = parts.port
        except ValueError:
            raise InvalidUrl(f"{shown(url)!r} has no valid port number (for example {DEFAULT_RABBITMQ_URL}); "
                             "check --url or RABBITMQ_URL") from None
        path = parts.path[1:] if parts.path.startswith("/") else parts.path
        default_port = 5671 if parts.scheme == "amqps" else 5672
        return cls(
            host=parts.hostname or "localhost",
            port=port or default_port,
            user=unquote(parts.username or "guest"),
            password=unquote(parts.password or "guest"),
            vhost=unquote(path) if path else "/",
            scheme=parts.scheme,
        )

    def url(self, *, vhost: str | None = None, password: bool = True) -> str:
        """Back to a URL, optionally for another vhost, optionally without the password."""
        secret = f":{quote(self.password, safe='')}" if password else ""
        user = quote(self.user, safe="")
        path = quote(self.vhost if vhost is None else vhost, safe="")
        return f"{self.scheme}://{user}{secret}@{self.host}:{self.port}/{path}"

"""Where the broker is: one typed object read from flags and the environment.

Every default works on a laptop with RabbitMQ on localhost.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from urllib.parse import quote, unquote, urlsplit, urlunsplit

DEFAULT_RABBITMQ_URL = "amqp://guest:guest@localhost:5672/%2F"
DEFAULT_MANAGEMENT_URL = "http://localhost:15672"
DEFAULT_WORKSHOP = "summercamp"

# Environment variable for each field.
ENVIRONMENT = {
    "rabbitmq_url": "RABBITMQ_URL",
    "management_url": "RABBITMQ_MANAGEMENT_URL",
    "workshop": "WORKSHOP_ID",
}


@dataclass(frozen=True)
class Settings:
    rabbitmq_url: str = DEFAULT_RABBITMQ_URL
    management_url: str = DEFAULT_MANAGEMENT_URL
    workshop: str = DEFAULT_WORKSHOP

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> Settings:
        """Defaults, then the environment, then explicit overrides (flags) that are not None."""
        environ = os.environ if environ is None else environ
        values = {}
        for field in fields(cls):
            value = environ.get(ENVIRONMENT[field.name])
            if value:
                values[field.name] = value
        settings = cls(**values)
        given = {key: value for key, value in overrides.items() if value is not None}
        return replace(settings, **given)

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
            raise ValueError(f"{url!r} is not an amqp:// URL (for example {DEFAULT_RABBITMQ_URL})")
        path = parts.path[1:] if parts.path.startswith("/") else parts.path
        default_port = 5671 if parts.scheme == "amqps" else 5672
        return cls(
            host=parts.hostname or "localhost",
            port=parts.port or default_port,
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

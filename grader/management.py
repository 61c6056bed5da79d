"""A small client for the RabbitMQ management HTTP API (port 15672)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests

from grader.errors import ManagementAuthFailed, ManagementUnavailable
from grader.settings import Settings

ENABLE_HINT = "Enable it with `rabbitmq-plugins enable rabbitmq_management`."


def counts_off(overview: dict) -> bool:
    """True when the /api/overview says its statistics are off (no message counts anywhere)."""
    return bool(overview.get("disable_stats"))


def _segment(name: str) -> str:
    """A vhost, queue or exchange name as one URL path segment (`/` becomes `%2F`)."""
    return quote(name, safe="")


class Management:
    """The management API at `base_url`, as `user`, with errors a person can act on."""

    def __init__(self, base_url: str, user: str, password: str, *, timeout: float = 5.0):
        self.base_url = base_url.rstrip("/")
        self.auth = (user, password)
        self.timeout = timeout
        self.session = requests.Session()

    @classmethod
    def from_settings(cls, settings: Settings, *, timeout: float = 5.0) -> Management:
        user, password = settings.management_credentials
        return cls(settings.management_base, user, password, timeout=timeout)

    # -- HTTP -------------------------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        url = f"{self.base_url}/api/{path}"
        try:
            response = self.session.request(method, url, auth=self.auth, timeout=self.timeout, **kwargs)
        except requests.ConnectionError as exc:
            raise ManagementUnavailable(
                f"The management API does not answer at {self.base_url} (connection refused or "
                f"unknown host). Is the management plugin on? {ENABLE_HINT}"
            ) from exc
        except requests.Timeout as exc:
            raise ManagementUnavailable(
                f"The management API at {self.base_url} did not answer within {self.timeout:g} s."
            ) from exc
        if response.status_code == 401:
            raise ManagementAuthFailed(
                f"The management API at {self.base_url} refused user {self.auth[0]!r} "
                "(wrong user name or password, or the user lacks the management tag). "
                "Check RABBITMQ_MANAGEMENT_URL or RABBITMQ_URL."
            )
        return response

    def get(self, path: str, **params) -> Any:
        response = self.request("GET", path, params=params or None)
        if response.status_code == 404:
            return None
        self._raise_for_status(response)
        try:
            return response.json()
        except ValueError as exc:
            raise ManagementUnavailable(
                f"{self.base_url} answered but not with the management API's JSON. "
                "Check RABBITMQ_MANAGEMENT_URL (usually http://localhost:15672)."
            ) from exc

    def _raise_for_status(self, response: requests.Response) -> None:
        if response.status_code >= 400:
            raise ManagementUnavailable(
                f"The management API answered {response.status_code} to {response.request.method} "
                f"{response.url}: {response.text[:200]}"
            )

    # -- what the course and the tests need --------------------------------------------------

    def overview(self) -> dict:
        return self.get("overview")

    def keeps_counts(self) -> bool:
        """Does the API report message counts? Not when the broker collects no metrics for it
        (`management_agent.disable_metrics_collector = true`, or RabbitMQ 4's deprecated feature
        `management_metrics_collection` refused): queues are then listed without their counts."""
        return not counts_off(self.overview())

    def stream_listener(self, expected: int, overview: dict | None = None) -> tuple[bool, list[int]]:
        """(is the stream plugin listening, its ports as far as the API tells). The overview lists
        the listeners; a broker that collects no metrics lists none there, and then its health
        checks tell whether a stream listener is on and whether `expected` is its port."""
        overview = self.overview() if overview is None else overview
        listeners = overview.get("listeners")
        if listeners is not None:
            ports = sorted({item.get("port") for item in listeners if item.get("protocol") in ("stream", "stream/ssl")})
            return bool(ports), ports
        if self.request("GET", "health/checks/protocol-listener/stream").status_code != 200:
            return False, []
        at_expected = self.request("GET", f"health/checks/port-listener/{int(expected)}").status_code == 200
        return True, [expected] if at_expected else []

    def whoami(self) -> dict:
        return self.get("whoami")

    def vhost(self, name: str) -> dict | None:
        return self.get(f"vhosts/{_segment(name)}")

    def create_vhost(self, name: str) -> None:
        self._raise_for_status(self.request("PUT", f"vhosts/{_segment(name)}"))

    def put_vhost(self, name: str, *, description: str = "", tags: str = "") -> None:
        """Create `name` with a description and tags (comma-separated), or set them on it."""
        body = {"description": description, "tags": tags}
        self._raise_for_status(self.request("PUT", f"vhosts/{_segment(name)}", json=body))

    def delete_vhost(self, name: str) -> None:
        response = self.request("DELETE", f"vhosts/{_segment(name)}")
        if response.status_code != 404:
            self._raise_for_status(response)

    def grant(self, vhost: str, user: str, *, configure: str = ".*", write: str = ".*", read: str = ".*") -> None:
        """Permissions for `user` on `vhost` (regular expressions of resource names; all by default)."""
        body = {"configure": configure, "write": write, "read": read}
        path = f"permissions/{_segment(vhost)}/{_segment(user)}"
        self._raise_for_status(self.request("PUT", path, json=body))

    def user(self, name: str) -> dict | None:
        return self.get(f"users/{_segment(name)}")

    def put_user(self, name: str, password: str, *, tags: str = "") -> None:
        response = self.request("PUT", f"users/{_segment(name)}", json={"password": password, "tags": tags})
        self._raise_for_status(response)

    def delete_user(self, name: str) -> bool:
        """True if the user existed."""
        response = self.request("DELETE", f"users/{_segment(name)}")
        if response.status_code == 404:
            return False
        self._raise_for_status(response)
        return True

    def queue(self, vhost: str, name: str) -> dict | None:
        return self.get(f"queues/{_segment(vhost)}/{_segment(name)}")

    def queues(self, vhost: str) -> list[dict]:
        return self.get(f"queues/{_segment(vhost)}") or []

    def exchanges(self, vhost: str) -> list[dict]:
        return self.get(f"exchanges/{_segment(vhost)}") or []

    def exchange(self, vhost: str, name: str) -> dict | None:
        return self.get(f"exchanges/{_segment(vhost)}/{_segment(name)}")

    def bindings(self, vhost: str) -> list[dict]:
        return self.get(f"bindings/{_segment(vhost)}") or []

    def connections(self, vhost: str) -> list[dict]:
        return self.get(f"vhosts/{_segment(vhost)}/connections") or []

    def close_connection(self, name: str, reason: str = "closed by the workshop") -> None:
        response = self.request("DELETE", f"connections/{_segment(name)}", headers={"X-Reason": reason})
        if response.status_code != 404:
            self._raise_for_status(response)

    def consumers(self, vhost: str) -> list[dict]:
        return self.get(f"consumers/{_segment(vhost)}") or []

"""The test harness: one real RabbitMQ for the session, and a fresh vhost for every test.

Where the broker comes from, in order:
1. RABBITMQ_URL (and RABBITMQ_MANAGEMENT_URL, default http://<host>:15672) when set;
2. otherwise a `rabbitmq:4-management` container started with testcontainers;
3. otherwise (no Docker engine) a RabbitMQ on localhost with the laptop defaults, if it answers.
If none works, tests that need a broker are skipped with the reason, or fail when CI is set.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from grader import broker as amqp
from grader.doctor import enable_local_management
from grader.errors import ManagementUnavailable, WorkshopError
from grader.management import Management
from grader.settings import DEFAULT_RABBITMQ_URL, AmqpAddress, Settings

# Every property test runs the same examples on every run (the same input, the same verdict),
# and none fails for taking long on a busy 2-CPU machine: speed is for the benchmarks.
hypothesis_settings.register_profile("workshop", derandomize=True, deadline=None, database=None)
hypothesis_settings.load_profile("workshop")

pytest_plugins = ["tests.live.fixtures"]  # fixtures of the live service, shared by tests/grader and tests/leaderboard

REPO = Path(__file__).resolve().parent.parent
BROKER_FIXTURES = {"broker", "vhost", "module_vhost"}


@dataclass
class Broker:
    amqp_url: str
    management_url: str
    source: str
    version: str = "?"

    @property
    def address(self) -> AmqpAddress:
        return AmqpAddress.parse(self.amqp_url)

    def management(self) -> Management:
        settings = Settings(rabbitmq_url=self.amqp_url, management_url=self.management_url)
        return Management.from_settings(settings, timeout=10)

    def url(self, vhost: str) -> str:
        return self.address.url(vhost=vhost)


@dataclass
class VHost:
    name: str
    url: str
    management_url: str
    api: Management


class _Discovery:
    broker: Broker | None = None
    problem: str | None = None
    container = None
    done = False


def _from_url(url: str, management_url: str | None, source: str) -> Broker:
    address = AmqpAddress.parse(url)
    management_url = management_url or f"http://{address.host}:15672"
    found = Broker(url, management_url, source)
    connection = amqp.connect(url, timeout=5)
    found.version = amqp.server_version(connection)
    connection.close()
    try:
        found.management().overview()  # the per-test vhosts need the management API
    except ManagementUnavailable:
        # A RabbitMQ of this machine with the plugin off: turn it on, as `make run` does.
        if not enable_local_management(Settings(rabbitmq_url=url, management_url=management_url)):
            raise
    return found


def _from_testcontainers() -> Broker:
    from testcontainers.community.rabbitmq import RabbitMqContainer

    container = RabbitMqContainer("rabbitmq:4-management").with_exposed_ports(15672)
    container.start()
    _Discovery.container = container
    host = container.get_container_host_ip()
    url = f"amqp://guest:guest@{host}:{container.get_exposed_port(5672)}/%2F"
    management_url = f"http://{host}:{container.get_exposed_port(15672)}"
    Management(management_url, "guest", "guest").overview()
    return _from_url(url, management_url, "testcontainers rabbitmq:4-management")


def discover() -> tuple[Broker | None, str | None]:
    if _Discovery.done:
        return _Discovery.broker, _Discovery.problem
    _Discovery.done = True
    problems = []
    url = os.environ.get("RABBITMQ_URL")
    try:
        if url:
            _Discovery.broker = _from_url(url, os.environ.get("RABBITMQ_MANAGEMENT_URL"), "RABBITMQ_URL")
            return _Discovery.broker, None
    except WorkshopError as exc:
        _Discovery.problem = f"RABBITMQ_URL is set but unusable: {exc}"
        return None, _Discovery.problem
    try:
        _Discovery.broker = _from_testcontainers()
        return _Discovery.broker, None
    except Exception as exc:  # docker.errors.DockerException when no engine runs, and its kin
        problems.append(f"testcontainers: {type(exc).__name__}: {str(exc)[:120]}")
    try:
        _Discovery.broker = _from_url(DEFAULT_RABBITMQ_URL, None, "localhost (no Docker engine)")
        return _Discovery.broker, None
    except WorkshopError as exc:
        problems.append(f"localhost: {exc}")
    _Discovery.problem = "no RabbitMQ for the tests. Set RABBITMQ_URL or start Docker. " + " | ".join(problems)
    return None, _Discovery.problem


def pytest_report_header(config):
    found, problem = discover()
    if found:
        return f"broker: RabbitMQ {found.version} from {found.source} ({found.address.url(password=False)}, " \
               f"management {found.management_url})"
    return f"broker: none ({problem})"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if BROKER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.broker)


def pytest_sessionfinish(session, exitstatus):
    if _Discovery.container is not None:
        _Discovery.container.stop()


@pytest.fixture(scope="session")
def broker() -> Broker:
    found, problem = discover()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set and the tests need a broker: {problem}", pytrace=False)
        pytest.skip(problem)
    return found


def _vhost_name(test_name: str) -> str:
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", test_name).strip("-")[:40]
    return f"test-{slug}-{uuid.uuid4().hex[:8]}"


def make_vhost(broker: Broker, name: str) -> VHost:
    api = broker.management()
    api.create_vhost(name)
    api.grant(name, broker.address.user)
    return VHost(name, broker.url(name), broker.management_url, api)


@pytest.fixture
def vhost(broker: Broker, request, monkeypatch) -> VHost:
    """A fresh vhost for this test, deleted afterwards. RABBITMQ_URL points at it, so the code under
    test, notebooks and child processes all use it."""
    made = make_vhost(broker, _vhost_name(request.node.name))
    monkeypatch.setenv("RABBITMQ_URL", made.url)
    monkeypatch.setenv("RABBITMQ_MANAGEMENT_URL", made.management_url)
    yield made
    made.api.delete_vhost(made.name)


@pytest.fixture(scope="module")
def module_vhost(broker: Broker, request):
    """A fresh vhost shared by one test module (for expensive setups such as autograding)."""
    made = make_vhost(broker, _vhost_name(request.module.__name__.rsplit(".", 1)[-1]))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RABBITMQ_URL", made.url)
        patch.setenv("RABBITMQ_MANAGEMENT_URL", made.management_url)
        yield made
    made.api.delete_vhost(made.name)


def pytest_collection_modifyitems(config, items):
    """Mark `ui` every test that drives a browser (the `chromium` fixture) or the room's JupyterHub:
    they test pages and the hub, which do not change with the broker's version, so CI runs them
    on RabbitMQ 3.10 only."""
    for item in items:
        if "chromium" in getattr(item, "fixturenames", ()) or item.path.parent.name == "classroom" \
                and item.path.name == "test_room.py":
            item.add_marker(pytest.mark.ui)

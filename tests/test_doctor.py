"""`workshop doctor`: findings when the broker is fine, one actionable line when it is not."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pika
import pytest
import requests

from grader import broker
from grader.errors import BrokerUnavailable
from grader.lab import wait_until
from grader.management import Management
from grader.settings import AmqpAddress
from tests.net import free_port


def workshop(*args, env=None, timeout=60):
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_doctor_against_a_port_where_nothing_listens_prints_one_line_and_fails():
    port = free_port()
    result = workshop("doctor", "--url", f"amqp://guest:guest@127.0.0.1:{port}/%2F")
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"127.0.0.1:{port}" in lines[0] and "connection refused" in lines[0]
    assert "Start it with" in lines[0]
    assert "Traceback" not in result.stderr


def test_doctor_with_an_unknown_host_says_to_check_the_host_name():
    result = workshop("doctor", "--url", "amqp://guest:guest@no-such-host.invalid:5672/%2F")
    assert result.returncode == 1
    assert "Cannot find host 'no-such-host.invalid'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_doctor_reports_versions_vhost_and_management(vhost, broker):
    result = workshop("doctor")
    assert result.returncode == 0, result.stderr
    assert f"RabbitMQ {broker.version}" in result.stdout
    assert repr(vhost.name) in result.stdout
    assert "plugin on" in result.stdout


def test_doctor_with_a_wrong_password_says_so(vhost, broker):
    wrong = broker.address.url(vhost=vhost.name).replace(f":{broker.address.password}@", ":not-the-password@")
    result = workshop("doctor", "--url", wrong)
    assert result.returncode == 1
    assert "wrong user name or password" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_doctor_with_a_missing_vhost_says_how_to_create_it(broker):
    result = workshop("doctor", "--url", broker.url("no-such-vhost"))
    assert result.returncode == 1
    assert "rabbitmqctl add_vhost no-such-vhost" in result.stderr


def test_doctor_with_the_management_plugin_unreachable_says_how_to_enable_it(vhost):
    result = workshop("doctor", "--management-url", f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 1
    assert "ok  AMQP" in result.stdout
    assert "rabbitmq-plugins enable rabbitmq_management" in result.stderr
    assert "Traceback" not in result.stderr


def test_doctor_pointed_at_the_management_port_says_it_is_not_amqp(broker):
    management_port = int(broker.management_url.rsplit(":", 1)[1].split("/")[0])
    url = f"amqp://guest:guest@{broker.address.host}:{management_port}/%2F"
    result = workshop("doctor", "--url", url)
    assert result.returncode == 1
    assert "does not speak AMQP" in result.stderr


@pytest.mark.parametrize("flags", [
    ["--url", "localhost:5672"],
    ["--url", "amqp://guest:guest@localhost:not-a-port/%2F"],
    ["--management-url", "localhost:15672"],
    ["--management-url", "http://localhost:not-a-port"],
])
def test_doctor_with_a_malformed_url_prints_one_error_line_naming_the_flag(flags):
    result = workshop("doctor", *flags)
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and repr(flags[1]).replace("guest:guest", "guest:***") in line
    assert flags[0] in line and "for example" in line


def test_doctor_with_a_management_url_that_has_a_wrong_path_says_it_is_not_the_api(vhost):
    result = workshop("doctor", "--management-url", f"{vhost.management_url.rstrip('/')}/nope")
    assert result.returncode == 1
    assert "ok  AMQP" in result.stdout and "ok  management" not in result.stdout
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and "404" in line and "not the address of the management API" in line


class _FakeManagement(BaseHTTPRequestHandler):
    """Answers /api/overview with `overview`, and 404 to everything else."""

    overview: dict = {}

    def do_GET(self):  # noqa: N802 - the http.server name
        found = self.path.split("?")[0] == "/api/overview"
        body = json.dumps(self.overview if found else {"error": "Object Not Found"}).encode()
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def fake_management(overview: dict):
    handler = type("Handler", (_FakeManagement,), {"overview": overview})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_doctor_says_when_the_management_api_is_another_broker_by_its_name(vhost):
    other = vhost.api.overview() | {"cluster_name": "rabbit@elsewhere", "node": "rabbit@elsewhere"}
    with fake_management(other) as url:
        result = workshop("doctor", "--management-url", url)
    assert result.returncode == 1
    assert "ok  management" not in result.stdout
    [line] = result.stderr.strip().splitlines()
    assert "two different brokers" in line and "rabbit@elsewhere" in line and "--management-url" in line


def test_doctor_says_when_the_management_api_is_another_broker_with_the_same_name(vhost):
    # Claims to be the very same broker; the queue the doctor declares over AMQP is not in it.
    with fake_management(vhost.api.overview()) as url:
        result = workshop("doctor", "--management-url", url)
    assert result.returncode == 1
    assert "ok  management" not in result.stdout
    [line] = result.stderr.strip().splitlines()
    assert "two different brokers" in line and "workshop.doctor." in line
    assert vhost.api.queues(vhost.name) == []  # the probe queue is gone


BROKERS_ON_CI = ("http://127.0.0.1:15672", "http://127.0.0.1:15673")  # CI runs RabbitMQ 3.10 and 4.0 side by side


def test_doctor_says_when_the_management_api_is_that_of_a_second_real_broker(vhost):
    own = urlsplit(vhost.management_url).port
    [SECOND_BROKER] = [url for url in BROKERS_ON_CI if urlsplit(url).port != own][:1] or [None]
    if SECOND_BROKER is None:
        pytest.skip("the suite's own broker is not one of CI's two")
    try:
        requests.get(f"{SECOND_BROKER}/api/overview", auth=("guest", "guest"), timeout=3).raise_for_status()
    except requests.RequestException as exc:
        pytest.skip(f"no second broker at {SECOND_BROKER}: {exc}")
    result = workshop("doctor", "--management-url", SECOND_BROKER)
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert "two different brokers" in line and SECOND_BROKER in line


def test_doctor_reports_the_stream_plugin_and_its_port(vhost):
    result = workshop("doctor")
    assert result.returncode == 0, result.stderr
    assert any(line.split()[:2] == ["ok", "stream"] and "plugin on, port" in line and "lesson 13" in line
               for line in result.stdout.splitlines()), result.stdout


def test_doctor_pointed_at_another_listener_for_streams_says_it_is_not_the_stream_port(vhost):
    """RABBITMQ_STREAM_PORT naming the AMQP port: a broker that collects no metrics says only that
    something listens there; the port, asked in the stream protocol, says it is AMQP."""
    amqp = AmqpAddress.parse(vhost.url).port
    result = workshop("doctor", env={**os.environ, "RABBITMQ_STREAM_PORT": str(amqp)})
    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stdout.splitlines() if line.split()[1:2] == ["stream"]]
    assert "plugin on" in line and f":{amqp} is an AMQP port" in line and "set RABBITMQ_STREAM_PORT" in line, line


def test_doctor_says_the_right_stream_port_must_be_reachable_where_it_does_not_answer(monkeypatch):
    """The API names the port the notebooks use, but nothing answers there from here (a broker in
    Docker that does not publish it): publish it, rather than change the variable."""
    from grader import doctor
    from grader.settings import Settings

    port = free_port()
    monkeypatch.setenv("RABBITMQ_STREAM_PORT", str(port))
    local = Settings(rabbitmq_url="amqp://u:p@127.0.0.1:5672/%2F", management_url="http://127.0.0.1:15672")
    api = Management(local.management_base, "u", "p")  # never asked: the overview below says it all
    finding = doctor.stream_finding(local, api, overview={"listeners": [{"protocol": "stream", "port": port}]})
    assert f"plugin on, port {port}, but nothing answers at 127.0.0.1:{port}" in finding.detail, finding.detail
    assert "publish it" in finding.detail and "RABBITMQ_STREAM_PORT" not in finding.detail


def test_with_the_stream_plugin_off_on_a_remote_broker_doctor_says_how_to_turn_it_on_and_is_not_an_error():
    from grader import doctor
    from grader.settings import Settings

    remote = Settings(rabbitmq_url="amqp://u:p@broker.example:5672/%2F",
                      management_url="http://broker.example:15672")
    api = Management(remote.management_base, "u", "p")  # never asked: the overview below says it all
    finding = doctor.stream_finding(remote, api, overview={"listeners": [{"protocol": "amqp", "port": 5672}]})
    assert "plugin off" in finding.detail and "rabbitmq-plugins enable rabbitmq_stream" in finding.detail
    assert "the rest of the course works without it" in finding.detail


def test_doctor_says_whether_the_management_api_keeps_message_counts_and_it_is_true(vhost):
    """On a broker that collects no metrics (CI's RabbitMQ 4 refuses the deprecated feature
    management_metrics_collection) as on one that does: what doctor says about the API's counts is
    what the API then shows for a queue with three messages in it."""
    result = workshop("doctor")
    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stdout.splitlines() if line.split()[:2] == ["ok", "counts"]]
    keeps = "keeps message counts" in line
    assert keeps or "keeps no message counts" in line, line
    queue = f"counted-{uuid.uuid4().hex[:8]}"
    connection = pika.BlockingConnection(pika.URLParameters(vhost.url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.queue_declare(queue, durable=True)
        for _ in range(3):
            channel.basic_publish("", queue, b"x")
    finally:
        connection.close()
    seen = lambda: (vhost.api.queue(vhost.name, queue) or {}).get("messages")  # noqa: E731
    if keeps:
        wait_until(lambda: seen() == 3, timeout=20, what="the management API to count the three messages")
    else:
        time.sleep(6)  # longer than the 5 s between two rounds of statistics, had they been collected
        assert seen() is None and vhost.api.queue(vhost.name, queue)["durable"] is True


@contextlib.contextmanager
def silent_listener():
    """A port that takes connections and never says a word (a broker stuck before its handshake)."""
    server = socket.create_server(("127.0.0.1", 0))
    taken = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                taken.append(server.accept()[0])
    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], taken
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in taken:
            conn.close()
        server.close()


def test_doctor_against_a_broker_that_never_finishes_its_handshake_prints_one_line():
    with silent_listener() as (port, _taken):
        result = workshop("doctor", "--url", f"amqp://guest:guest@127.0.0.1:{port}/%2F")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0] and "handshake" in lines[0], result.stderr


def test_the_reconnect_loop_keeps_trying_a_broker_that_never_finishes_its_handshake(monkeypatch):
    """pika's handshake timeout is no AMQPError: it must count as one failed attempt, not end the service."""
    monkeypatch.setattr(broker, "RECONNECT_MAX_DELAY", 0.05)
    real_connect = broker.connect
    monkeypatch.setattr(broker, "connect", lambda url, **kwargs: real_connect(url, **{**kwargs, "timeout": 0.25}))
    with silent_listener() as (port, taken):
        with pytest.raises(BrokerUnavailable, match="in 3 attempts"):
            broker.run_connected(f"amqp://guest:guest@127.0.0.1:{port}/%2F", "test", lambda connection: None,
                                 threading.Event(), threading.Event(), attempts=3)
    assert len(taken) == 3  # three handshakes tried, each given up on

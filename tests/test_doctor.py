"""`workshop doctor`: findings when the broker is fine, one actionable line when it is not."""

import subprocess
import sys

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

"""docker-compose.yml and the Dockerfile, checked as far as is possible without a Docker engine."""

import os
import shutil
import subprocess

import pytest
import yaml

from tests.conftest import REPO

COMPOSE = REPO / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(COMPOSE.read_text())


def test_rabbitmq_service_has_management_ports_a_named_volume_and_a_healthcheck(compose):
    rabbitmq = compose["services"]["rabbitmq"]
    assert rabbitmq["image"] == "rabbitmq:4-management"
    assert {"5672:5672", "15672:15672"} <= set(rabbitmq["ports"])
    volume, target = rabbitmq["volumes"][0].split(":")
    assert volume in compose["volumes"] and target == "/var/lib/rabbitmq"
    assert "rabbitmq-diagnostics" in rabbitmq["healthcheck"]["test"]


def test_rabbitmq_service_turns_the_stream_plugin_on_and_publishes_its_port(compose):
    rabbitmq = compose["services"]["rabbitmq"]
    assert "5552:5552" in rabbitmq["ports"]
    command = " ".join(rabbitmq["command"])
    assert "rabbitmq-plugins enable --offline rabbitmq_stream" in command
    assert command.rstrip().endswith("exec docker-entrypoint.sh rabbitmq-server"), "the image's entrypoint must still run"


def test_jupyter_service_waits_for_a_healthy_broker_and_keeps_work_on_the_host(compose):
    jupyter = compose["services"]["jupyter"]
    assert jupyter["depends_on"]["rabbitmq"]["condition"] == "service_healthy"
    assert "8888:8888" in jupyter["ports"]
    assert "${JUPYTER_TOKEN:?" in jupyter["environment"]["JUPYTER_TOKEN"]
    assert "@rabbitmq:5672/" in jupyter["environment"]["RABBITMQ_URL"]
    assert any(v.endswith(":/workspace") for v in jupyter["volumes"])
    assert jupyter["command"][:2] == ["workshop", "up"]


def test_grader_service_serves_the_leaderboard_and_keeps_scores_in_a_volume(compose):
    grader = compose["services"]["grader"]
    assert grader["command"][:2] == ["workshop", "serve"] and "0.0.0.0" in grader["command"]
    assert "8000:8000" in grader["ports"]
    assert grader["depends_on"]["rabbitmq"]["condition"] == "service_healthy"
    store = grader["command"][grader["command"].index("--store") + 1]
    volume, target = grader["volumes"][0].split(":")
    assert volume in compose["volumes"] and store.startswith(f"sqlite:///{target}/")
    assert grader["image"] == compose["services"]["jupyter"]["image"]


def test_the_image_installs_the_pinned_project_and_ships_the_course():
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "-c constraints.txt" in dockerfile
    for folder in ("course", "notebooks", "solutions", "grader"):
        assert f"COPY {folder} ./{folder}" in dockerfile


def test_docker_compose_accepts_the_file():
    binary = shutil.which("docker-compose")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("CI needs docker-compose (Debian package docker-compose) to validate the file")
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    env = dict(os.environ, JUPYTER_TOKEN="test-token")
    result = subprocess.run([binary, "-f", str(COMPOSE), "config"], capture_output=True, text=True, env=env,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)
    assert resolved["services"]["jupyter"]["environment"]["JUPYTER_TOKEN"] == "test-token"

    without_token = {k: v for k, v in os.environ.items() if k != "JUPYTER_TOKEN"}
    refused = subprocess.run([binary, "-f", str(COMPOSE), "config"], capture_output=True, text=True,
                             env=without_token, timeout=60)
    assert refused.returncode != 0
    assert "JUPYTER_TOKEN" in refused.stderr

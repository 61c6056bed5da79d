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


def docker_compose() -> str:
    """Debian's docker-compose (it validates the file without a Docker engine)."""
    binary = shutil.which("docker-compose")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("CI needs docker-compose (Debian package docker-compose) to validate the file")
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    return binary


def test_docker_compose_accepts_the_file():
    binary = docker_compose()
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


# -- the profile `room`: a JupyterHub with a container per student, and the grader with --accounts --

ROOM_SERVICES = {"hub", "room-grader"}  # what the README and the file's header say `--profile room` adds


def _env_default(value: str) -> str:
    """The default of a `${NAME:-default}` value, or the value itself."""
    return value.split(":-", 1)[1].rstrip("}") if value.startswith("${") else value


def test_the_default_services_have_no_profile_and_the_room_adds_only_its_own(compose):
    profiled = {name for name, service in compose["services"].items() if service.get("profiles")}
    assert profiled == ROOM_SERVICES
    assert all(compose["services"][name]["profiles"] == ["room"] for name in ROOM_SERVICES)


def test_the_hub_runs_the_room_in_containers_with_the_docker_socket_and_the_room_folder(compose):
    hub = compose["services"]["hub"]
    command = hub["command"]
    assert command[:2] == ["workshop", "up"]
    assert command[command.index("--room") + 1] == "/room/accounts.csv"
    assert command[command.index("--spawner") + 1] == "docker"
    assert command[command.index("--ip") + 1] == "0.0.0.0" and command[command.index("--port") + 1] == "8888"
    assert command[command.index("--leaderboard-port") + 1] == "0"  # the grader is a service of its own
    assert "8888:8888" in hub["ports"] and hub["image"] == compose["services"]["jupyter"]["image"]
    assert "/var/run/docker.sock:/var/run/docker.sock" in hub["volumes"]
    assert "./room:/room" in hub["volumes"]
    assert set(hub["depends_on"]) == {"rabbitmq", "room-grader"}  # `up -d hub` starts neither jupyter nor grader
    assert hub["depends_on"]["rabbitmq"]["condition"] == "service_healthy"


def test_the_hubs_docker_names_are_the_files_and_the_codes_defaults(compose):
    from grader.classroom.room import CONTAINER_ENVIRONMENT, Containers

    env = {name: _env_default(value) for name, value in compose["services"]["hub"]["environment"].items()}
    given = Containers.from_env(env)
    assert given == Containers()  # the code's defaults are the names this file gives
    assert _env_default(compose["networks"]["default"]["name"]) == given.network
    [outbound] = [v for v in compose["services"]["hub"]["volumes"] if v.endswith(f":{given.outbound_dir}")]
    assert _env_default(compose["volumes"][outbound.split(":")[0]]["name"]) == given.outbound
    assert env[CONTAINER_ENVIRONMENT["hub_host"]] == "hub"  # the service's name: the students' containers call it


def test_the_rooms_grader_believes_the_accounts_and_has_no_docker_socket(compose):
    grader = compose["services"]["room-grader"]
    command = grader["command"]
    assert command[:2] == ["workshop", "serve"]
    assert command[command.index("--accounts") + 1] == "/room/accounts.csv"
    assert "./room:/room:ro" in grader["volumes"] and "8000:8000" in grader["ports"]
    assert not [volume for volume in grader["volumes"] if "docker.sock" in volume]
    scores, target = grader["volumes"][0].split(":")
    assert scores in compose["volumes"] and target == "/data"
    assert grader["volumes"][0] != compose["services"]["grader"]["volumes"][0], "a room's scores are its own"


def test_the_image_has_the_proxy_a_student_user_and_a_course_only_root_reads():
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "npm ci" in dockerfile and "COPY --from=proxy /proxy /usr/local/proxy" in dockerfile  # hub.PROXY there
    assert "useradd --uid 1000" in dockerfile and "student" in dockerfile
    assert "RUN chmod 0700 course" in dockerfile and "COPY docs ./docs" in dockerfile


def test_docker_compose_accepts_the_file_with_and_without_the_room_profile():
    binary = docker_compose()
    env = dict(os.environ, JUPYTER_TOKEN="test-token", WORKSHOP_NETWORK="another-net")
    for profile in ([], ["--profile", "room"]):
        result = subprocess.run([binary, "-f", str(COMPOSE), *profile, "config"], capture_output=True, text=True,
                                env=env, timeout=60)
        assert result.returncode == 0, result.stderr
        resolved = yaml.safe_load(result.stdout)
        services = set(resolved["services"])  # Debian's docker-compose 1.x lists profiled services too; 2.x does not
        assert {"rabbitmq", "jupyter", "grader"} <= services and (ROOM_SERVICES <= services or not profile)
        assert resolved["networks"]["default"]["name"] == "another-net"
        if profile:
            assert resolved["services"]["hub"]["environment"]["WORKSHOP_NETWORK"] == "another-net"
    profiles = subprocess.run([binary, "-f", str(COMPOSE), "config", "--profiles"], capture_output=True, text=True,
                              env=env, timeout=60)
    assert profiles.returncode == 0 and profiles.stdout.split() == ["room"]

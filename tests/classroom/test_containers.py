"""The room with a container per student, as far as it can be checked without a Docker engine: the
real spawner class on a real room (accounts from `workshop provision`, laid out by `hub.prepare`),
asked what each container gets: its environment, its mounts, its command and arguments; and the
hub's configuration in docker mode. No Docker call is made.
"""

from __future__ import annotations

import ast
import asyncio
import dataclasses
import os
import pwd
from pathlib import Path
from types import SimpleNamespace

import pytest
from jupyterhub.objects import Hub
from traitlets.config import Config

from grader.classroom import boot, containers, hub, provision, servers, users
from grader.classroom import room as rooms
from grader.classroom.containers import ContainerSpawner
from grader.classroom.room import Containers
from grader.classroom.spawner import RoomSpawner
from tests.classroom.rooms import provisioned

pytestmark = pytest.mark.broker


@pytest.fixture
def made(vhost, tmp_path):
    """Three students and an instructor from `workshop provision`, on this test's live vhost; torn down after."""
    with provisioned(vhost, tmp_path, "box", ["Ada Lovelace", "Grace Hopper", "李雷"]) as made:
        yield made


@pytest.fixture
def room(made, tmp_path):
    """The room in docker mode, as the compose stack's hub prepares it (the released lessons go into
    a folder of the test's in place of the shared volume)."""
    settings, accounts = made
    try:
        hub.find_proxy()
    except hub.RoomError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set and the room needs its proxy: {exc}", pytrace=False)
        pytest.skip(str(exc))
    return hub.prepare(settings, accounts, room_dir=tmp_path / "room", spawner="docker",
                       containers=Containers(outbound_dir=tmp_path / "outbound"))


def configured(room: rooms.Room) -> Config:
    c = Config()
    hub.configure(c, room)
    return c


def spawner(room: rooms.Room, account: provision.Account, kind=ContainerSpawner):
    """The spawner JupyterHub would make for `account`, with the hub's whole configuration."""
    c = configured(room)
    user = SimpleNamespace(name=account.user, escaped_name=account.user, url=f"/user/{account.user}/", id=1)
    connect = c.JupyterHub.hub_connect_url if "hub_connect_url" in c.JupyterHub else f"http://127.0.0.1:{room.hub_port}"
    return kind(user=user, hub=Hub(connect_url=connect, base_url="/hub/"), config=c)


def of(room: rooms.Room, role: str) -> list[provision.Account]:
    return [account for account in room.accounts if account.role == role]


def test_prepare_releases_every_lesson_into_the_shared_volume_and_makes_no_system_user(room, tmp_path):
    outbound = tmp_path / "outbound"
    lessons = sorted(path.name for path in room.notebooks.iterdir() if path.is_dir() and any(path.glob("*.ipynb")))
    assert sorted(path.name for path in outbound.iterdir()) == lessons
    assert all(oct(path.stat().st_mode & 0o777) == oct(0o644) for path in outbound.rglob("*.ipynb"))
    assert rooms.load(room.file) == room and room.spawner == "docker" and not room.isolated
    for account in of(room, "student"):
        with pytest.raises(KeyError):
            pwd.getpwnam(users.system_name(account.user))
    assert not (room.root / "exchange").exists() and not (room.root / "config").exists()  # the containers' own


def test_a_students_container_gets_their_account_and_the_students_configuration(room):
    for account in of(room, "student"):
        env = spawner(room, account).get_env()
        assert env["RABBITMQ_URL"] == account.lessons_url and env["WORKSHOP_LIVE_URL"] == account.live_url
        assert env["WORKSHOP_STUDENT"] == account.name and env["WORKSHOP_ID"] == room.workshop
        assert env["RABBITMQ_MANAGEMENT_URL"] == room.management_url
        assert env["JUPYTER_CONFIG_PATH"] == str(boot.LAYOUT.config("student"))
        assert env["JUPYTERHUB_ROOT_DIR"] == str(boot.LAYOUT.home)
        assert env["JUPYTERHUB_DISABLE_USER_CONFIG"] == "1"
        assert env["JUPYTERHUB_API_URL"] == f"http://hub:{hub.HUB_PORT}/hub/api"  # the hub, by its name on the network
        others = [other.password for other in room.accounts if other.user != account.user]
        assert not [value for value in env.values() for password in others if password in value]


def test_both_spawners_give_a_server_the_same_environment_but_for_where_things_are(room):
    where = {"JUPYTER_CONFIG_PATH", "JUPYTERHUB_ROOT_DIR"}
    for account in room.accounts:
        local = spawner(dataclasses.replace(room, containers=None), account, RoomSpawner).get_env()
        inside = spawner(room, account).get_env()
        names = set(servers.environment(room, account, config_dir=Path("/"), root_dir=Path("/"))) - where
        assert {name: inside[name] for name in names} == {name: local[name] for name in names}
        assert ("JUPYTERHUB_DISABLE_USER_CONFIG" in inside) is (account.role == "student")


def test_a_students_container_mounts_their_own_home_and_inbound_and_the_lessons_read_only(room):
    students = of(room, "student")
    course = boot.LAYOUT.exchange / room.course_id
    for account in students:
        one = spawner(room, account)
        binds = one.volume_binds
        assert binds == {
            containers.home_volume(room, account.user): {"bind": str(boot.LAYOUT.home), "mode": "rw"},
            containers.inbound_volume(room, account.user): {"bind": str(course / "inbound"), "mode": "rw"},
            room.containers.outbound: {"bind": str(course / "outbound"), "mode": "ro"},
        }
        assert one.volume_mount_points == sorted(bind["bind"] for bind in binds.values())
        for other in students:
            if other is not account:
                assert not [source for source in binds if other.user in source]
        for source in binds:  # never the course, the hub's folder (every password) or the score store
            assert source != room.containers.course
            assert not source.startswith("/") and not source.startswith(str(room.root))
        assert not [bind for bind in binds.values() if bind["bind"].startswith(str(boot.LAYOUT.course))]
        assert one.extra_host_config["security_opt"] == ["no-new-privileges:true"]


def test_the_instructors_container_gets_the_course_and_every_students_handins_read_only(room):
    [teacher] = of(room, "instructor")
    binds = spawner(room, teacher).volume_binds
    course = boot.LAYOUT.exchange / room.course_id
    assert binds[room.containers.course] == {"bind": str(boot.LAYOUT.course), "mode": "rw"}
    assert binds[room.containers.outbound] == {"bind": str(course / "outbound"), "mode": "rw"}  # to release more
    for account in of(room, "student"):
        assert binds[containers.inbound_volume(room, account.user)] == {
            "bind": str(boot.LAYOUT.handins / account.user), "mode": "ro"}
        assert containers.home_volume(room, account.user) not in binds
    env = spawner(room, teacher).get_env()
    assert env["JUPYTER_CONFIG_PATH"] == str(boot.LAYOUT.config("instructor"))
    assert env["JUPYTERHUB_ROOT_DIR"] == str(boot.LAYOUT.course)
    assert env["RABBITMQ_URL"] == teacher.lessons_url and "JUPYTERHUB_DISABLE_USER_CONFIG" not in env


def test_students_start_through_boot_without_the_instructors_extensions_and_the_instructor_with_them(room):
    student, teacher = of(room, "student")[0], of(room, "instructor")[0]
    args = spawner(room, student).get_args()
    [extensions] = [arg for arg in args if arg.startswith("--ServerApp.jpserver_extensions=")]
    turned_off = ast.literal_eval(extensions.split("=", 1)[1])
    assert turned_off == {"nbgrader.server_extensions.formgrader": False,
                          "nbgrader.server_extensions.course_list": False}
    assert "--allow-root" not in args  # boot.py runs the server as `student`
    command = asyncio.run(spawner(room, student).get_command())
    assert command == boot.command("student", room.course_id) + args
    teacher_args = spawner(room, teacher).get_args()
    assert not [arg for arg in teacher_args if "jpserver_extensions" in arg] and "--allow-root" in teacher_args
    assert asyncio.run(spawner(room, teacher).get_command())[:5] == boot.command("instructor", room.course_id)[:5]


def test_configure_in_docker_mode_sets_the_spawner_the_hubs_addresses_the_network_and_removal(room):
    c = configured(room)
    assert c.JupyterHub.spawner_class == "grader.classroom.containers.ContainerSpawner"
    assert c.JupyterHub.hub_bind_url == f"http://0.0.0.0:{hub.HUB_PORT}"
    assert c.JupyterHub.hub_connect_url == f"http://{room.containers.hub_host}:{hub.HUB_PORT}"
    assert c.DockerSpawner.network_name == room.containers.network == "rabbitmq-workshop"
    assert c.DockerSpawner.image == "rabbitmq-workshop:latest" and c.DockerSpawner.pull_policy == "never"
    assert c.DockerSpawner.remove is True and c.DockerSpawner.use_internal_ip is True
    assert c.RoomServer.room_file == str(room.file)
    assert "cmd" not in c.Spawner  # the container's command is boot.py's

    local = configured(dataclasses.replace(room, containers=None))  # and the local room as it was
    assert local.JupyterHub.spawner_class == "grader.classroom.spawner.RoomSpawner"
    assert local.JupyterHub.hub_bind_url == f"http://127.0.0.1:{room.hub_port}"
    assert "hub_connect_url" not in local.JupyterHub and "DockerSpawner" not in local
    assert local.Spawner.cmd == [room.python, "-m", "jupyterhub.singleuser"]


def test_the_spawner_comes_from_the_environment_and_an_unknown_one_is_refused(made, tmp_path, monkeypatch):
    from grader import cli

    settings, accounts = made
    monkeypatch.setenv("WORKSHOP_SPAWNER", "docker")  # read where the command line is (`workshop up`)
    assert cli.build_parser().parse_args(["up", "--room", "accounts.csv"]).spawner == "docker"
    monkeypatch.setenv("WORKSHOP_OUTBOUND_DIR", str(tmp_path / "released"))
    monkeypatch.setenv("WORKSHOP_NETWORK", "elsewhere")
    prepared = hub.prepare(settings, accounts, room_dir=tmp_path / "room", spawner="docker")
    assert prepared.containers == Containers(network="elsewhere", outbound_dir=tmp_path / "released")
    assert any((tmp_path / "released").iterdir())
    with pytest.raises(hub.RoomError, match="--spawner"):
        hub.prepare(settings, accounts, room_dir=tmp_path / "room", spawner="kubernetes")

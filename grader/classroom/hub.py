"""`workshop up --room ACCOUNTS_CSV`: the room's JupyterHub, prepared and started.

`prepare` lays the room out (see `Room`): the room file the hub reads, a system user per
student when we are root, the course made private to its owner, nbgrader's exchange with every
lesson released, and the Jupyter configuration of students and instructor. `start` runs
JupyterHub, which runs configurable-http-proxy (installed by `make` from the npm registry into
.venv/proxy, or into the image by the Dockerfile: nothing is downloaded at run time) and a
single-user JupyterLab per student who logs in. `configure` is the hub's whole configuration,
read by jupyterhub_config.py.

With `spawner="docker"` (`workshop up --room --spawner docker`, the compose stack's `hub`) every
server is a container of its own (containers.py): `prepare` then only releases the lessons into
the volume the containers share read-only, and each container sets itself up (boot.py).
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

from grader import paths
from grader.classroom import exchange, interpreter, users
from grader.classroom.provision import Account
from grader.classroom.room import SPAWNER_ENVIRONMENT, SPAWNERS, Containers, Room, course_id
from grader.errors import WorkshopError
from grader.settings import Settings

log = logging.getLogger(__name__)
CONFIG = Path(__file__).with_name("jupyterhub_config.py")
ROOM_FILE = "WORKSHOP_ROOM"  # the environment variable that tells jupyterhub_config.py where the room is
PROXY = Path(sys.prefix) / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
NOT_ROOT = ("the hub is not running as root, so every student's server runs as {me}: each student has "
            "a folder of their own, but any student's code can read the others' notebooks, the course "
            "with its solutions ({course}) and the score store. Run `workshop up --room` as root for a "
            "system user per student.")
IN_CONTAINERS = ("every server is a container of its own (image {image}, network {network}): a student's "
                 "container mounts their own home and inbound volumes and the released lessons, read-only")
HUB_PORT = 8081  # the hub's API, which the servers' containers reach on the Docker network


class RoomError(WorkshopError):
    """The room cannot start; `str()` says what to do."""


def find_proxy() -> str:
    """configurable-http-proxy: the one `make` installs, else one on PATH."""
    for candidate in (PROXY, shutil.which("configurable-http-proxy")):
        if candidate and os.access(candidate, os.X_OK):
            return str(candidate)
    raise RoomError("configurable-http-proxy is not installed: run `make proxy` (it needs Node.js 20+ and npm) "
                    "or `npm install -g configurable-http-proxy`")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(settings: Settings, accounts: list[Account], *, room_dir: Path, ip: str = "127.0.0.1",
            port: int = 8888, course: Path = paths.COURSE, notebooks: Path = paths.NOTEBOOKS,
            home_base: Path | None = None, hub_port: int | None = None, proxy_api_port: int | None = None,
            spawner: str = "local", containers: Containers | None = None) -> Room:
    """Lay the room out for `accounts` (see the module's docstring) and return it, saved.

    `spawner`: "local" or "docker"; `containers`: the Docker names of a "docker" room (default:
    from the environment, see `Containers`)."""
    if spawner not in SPAWNERS:
        raise RoomError(f"there is no spawner {spawner!r}: choose one of {', '.join(SPAWNERS)} "
                        f"(--spawner, env {SPAWNER_ENVIRONMENT})")
    containers = (containers or Containers.from_env()) if spawner == "docker" else None
    proxy, isolated = find_proxy(), os.geteuid() == 0 and containers is None
    root = room_dir.resolve()
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    home_base = (home_base or (Path("/home") if isolated else root / "home")).resolve()
    python = sys.executable
    if containers is not None:  # each home is a volume, each server runs the image's Python
        home_base, python = root / "home", "python"
        log.info(IN_CONTAINERS.format(image=containers.image, network=containers.network))
    else:
        home_base.mkdir(parents=True, exist_ok=True)
    if isolated:
        for needed in (root, home_base, paths.REPO):
            closed = interpreter.closed_on_the_way(needed)
            if closed is not None:
                raise RoomError(f"the students' system users cannot reach {needed}: {closed} is closed to "
                                f"other users (chmod o+rx {closed}, or put the room elsewhere)")
        python = interpreter.for_students(root)
    elif containers is None:
        if home_base == root / "home":
            home_base.chmod(0o700)  # the homes are the hub user's anyway: keep other users out
        log.warning(NOT_ROOT.format(me=users.SystemUser.me().name, course=course))
    if not any(account.role == "instructor" for account in accounts):
        log.warning("no instructor in the accounts: no one gets formgrader (run `workshop provision` again)")
    room = Room(root=root, accounts=tuple(accounts), course=course.resolve(), notebooks=notebooks.resolve(),
                references=paths.REFERENCES,
                management_url=settings.management_base, workshop=settings.workshop, isolated=isolated,
                home_base=home_base, proxy=proxy, python=python, ip=ip, port=port,
                hub_port=hub_port or (HUB_PORT if containers else free_port()),
                proxy_api_port=proxy_api_port or free_port(), course_id=course_id(course), containers=containers)
    room.save()
    if containers is not None:
        containers.outbound_dir.mkdir(parents=True, exist_ok=True)
        containers.outbound_dir.chmod(0o755)
        exchange.release(room.notebooks, containers.outbound_dir, users.SystemUser.me())
        return room
    instructor = users.SystemUser.of(pwd.getpwuid(room.course.stat().st_uid))
    if isolated:
        for account in accounts:
            if account.role == "student":
                users.ensure(account.user, home_base)
        mode = stat.S_IMODE(room.course.stat().st_mode)
        if mode & 0o077:
            room.course.chmod(mode & 0o700)
            log.info("%s is now readable by its owner (%s) only: it holds the solutions", room.course, instructor.name)
    exchange.prepare(room, instructor if isolated else users.SystemUser.me())
    return room


def configure(c, room: Room) -> None:
    """The hub's configuration (`c` is JupyterHub's config object)."""
    c.JupyterHub.bind_url = f"http://{room.ip}:{room.port}/"
    c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{room.hub_port}"
    c.JupyterHub.db_url = f"sqlite:///{room.hub_dir / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(room.hub_dir / "jupyterhub_cookie_secret")
    c.JupyterHub.cleanup_servers = True  # stopping the room stops everyone's server
    c.ConfigurableHTTPProxy.command = [room.proxy]
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{room.proxy_api_port}"
    c.ConfigurableHTTPProxy.pid_file = str(room.hub_dir / "proxy.pid")
    c.JupyterHub.authenticator_class = "grader.classroom.authenticator.BrokerAuthenticator"
    c.BrokerAuthenticator.room_file = str(room.file)
    c.Authenticator.allowed_users = {account.user for account in room.accounts}
    c.Authenticator.admin_users = room.instructors
    c.RoomServer.room_file = str(room.file)  # both spawners' (grader/classroom/servers.py)
    c.Spawner.default_url = "/lab"
    c.Spawner.start_timeout = 60
    c.Spawner.http_timeout = 60
    c.JupyterHub.template_vars = {"announcement_login": "Log in with the user name and password on your card."}
    if room.containers is None:
        c.JupyterHub.spawner_class = "grader.classroom.spawner.RoomSpawner"
        c.Spawner.cmd = [room.python, "-m", "jupyterhub.singleuser"]
        c.LocalProcessSpawner.interrupt_timeout = 3
        c.LocalProcessSpawner.term_timeout = 3
    else:
        _in_containers(c, room)


def _in_containers(c, room: Room) -> None:
    """A container per server (containers.py; its command and mounts are the spawner's own)."""
    containers = room.containers
    c.JupyterHub.spawner_class = "grader.classroom.containers.ContainerSpawner"
    c.JupyterHub.hub_bind_url = f"http://0.0.0.0:{room.hub_port}"  # the servers call the hub from their containers
    c.JupyterHub.hub_connect_url = f"http://{containers.hub_host}:{room.hub_port}"
    c.DockerSpawner.image = containers.image
    c.DockerSpawner.pull_policy = "never"  # the image is built here (docker compose build): nothing is downloaded
    c.DockerSpawner.network_name = containers.network
    c.DockerSpawner.use_internal_ip = True  # the proxy reaches each server on the network, no port published
    c.DockerSpawner.remove = True  # a fresh container at every start, from the image: only the volumes stay
    c.DockerSpawner.prefix = f"workshop-{room.workshop}"
    c.DockerSpawner.mem_limit = "2G"  # one runaway kernel cannot take the whole machine
    c.Spawner.start_timeout = 120  # a container takes longer than a process
    c.Spawner.http_timeout = 120


def command(room: Room) -> list[str]:
    return [sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)]


def start(room: Room, env: dict[str, str] | None = None, *, output=None) -> subprocess.Popen:
    """JupyterHub (and with it the proxy) in a session of its own, in the room's private hub/
    folder, making files that only their owner can read. `output`: a file for its log."""
    env = dict(os.environ if env is None else env)
    env[ROOM_FILE] = str(room.file)
    return subprocess.Popen(command(room), cwd=room.hub_dir, env=env, start_new_session=True, umask=0o077,
                            stdout=output, stderr=subprocess.STDOUT if output else None)


def private_store(store: str) -> None:
    """A SQLite score store that exists already becomes readable by its owner only."""
    url = make_url(store)
    if url.get_backend_name() == "sqlite" and url.database and Path(url.database).exists():
        Path(url.database).chmod(0o600)

"""What the room's JupyterHub knows, in one file: where things are, and who may log in.

`workshop up --room` writes it (`<room>/hub/room.json`, readable by the hub's user only: it holds
every account's password, for their RABBITMQ_URL); the authenticator, the spawner and the hub's
configuration read it back (`Room.containers` says whether the servers are local processes or a
container each). Nothing else is the room's identity: the accounts come from
`workshop provision`'s accounts.csv, the passwords are checked by the broker.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from pathlib import Path

from grader.classroom.provision import Account, write_private

DEFAULT_COURSE_ID = "rabbitmq-workshop"
SPAWNERS = ("local", "docker")
SPAWNER_ENVIRONMENT = "WORKSHOP_SPAWNER"  # `workshop up --room --spawner`: local processes, or a container each


@dataclass(frozen=True)
class Containers:
    """Where a room of one container per student (grader/classroom/containers.py) finds Docker's
    things. Every default is the name docker-compose.yml gives; each has its environment variable."""

    image: str = "rabbitmq-workshop:latest"  # every server's image: the project's
    network: str = "rabbitmq-workshop"  # the Docker network of the hub, the broker and the servers
    hub_host: str = "hub"  # the hub's name on that network, for the servers to reach its API
    course: str = "rabbitmq-workshop-course"  # the instructor's course/: a Docker volume, or a host folder
    outbound: str = "rabbitmq-workshop-outbound"  # the released lessons: a Docker volume (or a host folder)
    outbound_dir: Path = Path("/srv/nbgrader/outbound")  # where the hub sees `outbound`, to release into it

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Containers:
        environ = os.environ if environ is None else environ
        given = {field.name: environ.get(CONTAINER_ENVIRONMENT[field.name]) for field in fields(cls)}
        values = {name: value for name, value in given.items() if value}
        if "outbound_dir" in values:
            values["outbound_dir"] = Path(values["outbound_dir"])
        return cls(**values)


CONTAINER_ENVIRONMENT = {"image": "WORKSHOP_IMAGE", "network": "WORKSHOP_NETWORK", "hub_host": "WORKSHOP_HUB_HOST",
                         "course": "WORKSHOP_COURSE_VOLUME", "outbound": "WORKSHOP_OUTBOUND_VOLUME",
                         "outbound_dir": "WORKSHOP_OUTBOUND_DIR"}


@dataclass(frozen=True)
class Room:
    root: Path  # the room's folder: hub/ (private), exchange/, config/, and home/ when homes live here
    accounts: tuple[Account, ...]
    course: Path  # the nbgrader course of the instructor (source with solutions), private when isolated
    notebooks: Path  # the released notebooks, copied into each student's home on their first start
    references: dict[str, Path]  # more to copy next to them: {folder in the home: file or folder}
    management_url: str  # the management API without credentials (students use their own)
    workshop: str
    isolated: bool  # True: every student is a system user of their own (the hub runs as root)
    home_base: Path  # where the students' homes are (local servers; in containers each home is a volume)
    proxy: str  # configurable-http-proxy's executable
    python: str  # the interpreter of every single-user server (see interpreter.py)
    ip: str = "127.0.0.1"
    port: int = 8888  # the hub's public address (the proxy)
    hub_port: int = 8081  # the hub's own API, on 127.0.0.1
    proxy_api_port: int = 8001  # the proxy's API, on 127.0.0.1
    course_id: str = DEFAULT_COURSE_ID
    containers: Containers | None = None  # None: local processes (spawner.py); else a container each

    @property
    def spawner(self) -> str:
        return "local" if self.containers is None else "docker"

    # -- where --------------------------------------------------------------------------------

    @property
    def hub_dir(self) -> Path:
        return self.root / "hub"

    @property
    def file(self) -> Path:
        return self.hub_dir / "room.json"

    @property
    def exchange(self) -> Path:
        return self.root / "exchange"

    def config_dir(self, role: str) -> Path:
        """The Jupyter configuration every server of `role` ("student", "instructor") reads first."""
        return self.root / "config" / role

    @property
    def url(self) -> str:
        host = "localhost" if self.ip in ("0.0.0.0", "127.0.0.1") else self.ip
        return f"http://{host}:{self.port}/"

    # -- who ----------------------------------------------------------------------------------

    def account(self, user: str) -> Account | None:
        return self._by_user().get(user)

    @property
    def instructors(self) -> set[str]:
        return {account.user for account in self.accounts if account.role == "instructor"}

    def _by_user(self) -> dict[str, Account]:
        return {account.user: account for account in self.accounts}

    # -- the file -----------------------------------------------------------------------------

    def save(self) -> Path:
        self.hub_dir.mkdir(parents=True, exist_ok=True)
        self.hub_dir.chmod(0o700)
        data = asdict(self)
        data["accounts"] = [asdict(account) for account in self.accounts]
        write_private(self.file, json.dumps(data, indent=1, default=str) + "\n")
        return self.file


def load(path: str | os.PathLike) -> Room:
    """The room saved at `path` (read once per process: the hub reads it at start)."""
    return _load(str(Path(path).resolve()))


@lru_cache(maxsize=4)
def _load(path: str) -> Room:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    data["accounts"] = tuple(Account(**account) for account in data["accounts"])
    for name in ("root", "course", "notebooks", "home_base"):
        data[name] = Path(data[name])
    data["references"] = {name: Path(where) for name, where in data["references"].items()}
    if data.get("containers"):
        containers = data["containers"]
        data["containers"] = Containers(**{**containers, "outbound_dir": Path(containers["outbound_dir"])})
    return Room(**data)


def course_id(course: Path) -> str:
    """The course id that `course`'s nbgrader_config.py sets, else the workshop's."""
    try:
        text = (course / "nbgrader_config.py").read_text(encoding="utf-8")
    except OSError:
        return DEFAULT_COURSE_ID
    found = re.search(r"""^c\.CourseDirectory\.course_id\s*=\s*["']([^"']+)["']""", text, re.MULTILINE)
    return found.group(1) if found else DEFAULT_COURSE_ID

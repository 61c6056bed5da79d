"""What every server of the room gets, whichever spawner starts it (a local process, spawner.py,
or a container, containers.py).

Its environment names its account and no one else's: RABBITMQ_URL (their lessons vhost),
WORKSHOP_LIVE_URL (the live vhost), WORKSHOP_STUDENT (their name as on the roster), the
management API and the workshop id, and the Jupyter configuration of its role. A student's
server runs without the instructor's server extensions and ignores their own ~/.jupyter; their
notebooks are copied into their home on the first start and never overwritten later.
"""

from __future__ import annotations

from pathlib import Path

from traitlets import Unicode
from traitlets.config import LoggingConfigurable

from grader.classroom import exchange, users
from grader.classroom import room as rooms
from grader.classroom.provision import Account
from grader.settings import ENVIRONMENT
from grader.stack import prepare_workspace  # the same copy as the one-person workshop's

COPIED = ".workshop-notebooks-copied"  # in a student's home, once their notebooks are there


def copy_notebooks(home: Path, notebooks: Path, references: dict[str, Path],
                   owner: users.SystemUser | None = None) -> list[Path]:
    """The released notebooks into `home` on the first start; nothing on later ones. What is
    made is handed to `owner` (when we are root)."""
    marker = home / COPIED
    if marker.exists():
        return []
    copied = prepare_workspace(home, notebooks, references=references)
    made = sorted({folder for path in copied for folder in path.parents if home in folder.parents} | set(copied))
    marker.write_text("the workshop's notebooks were copied here; delete this file to get missing ones again\n")
    if owner is not None:
        users.give([*made, marker], owner)
    return copied


def role(account: Account) -> str:
    return "instructor" if account.role == "instructor" else "student"


def environment(room: rooms.Room, account: Account, *, config_dir: Path, root_dir: Path) -> dict[str, str]:
    """The variables a server of `account` gets (see the module's docstring); `config_dir` and
    `root_dir` as the server sees them (a container has paths of its own)."""
    env = {
        "JUPYTERHUB_ROOT_DIR": str(root_dir),
        "JUPYTER_CONFIG_PATH": str(config_dir),
        ENVIRONMENT["rabbitmq_url"]: account.lessons_url,
        ENVIRONMENT["management_url"]: room.management_url,
        ENVIRONMENT["workshop"]: room.workshop,
        "WORKSHOP_LIVE_URL": account.live_url,
        "WORKSHOP_STUDENT": account.name,
    }
    if role(account) == "student":
        env["JUPYTERHUB_DISABLE_USER_CONFIG"] = "1"  # their own ~/.jupyter cannot bring menus back
    return env


def arguments(account: Account, *, as_root: bool) -> list[str]:
    """What a server of `account` is started with beyond the spawner's own arguments."""
    args = []
    if role(account) == "student":
        args.append("--ServerApp.jpserver_extensions=" + repr({name: False for name in exchange.INSTRUCTOR_EXTENSIONS}))
    if as_root:
        args.append("--allow-root")
    return args


class RoomServer(LoggingConfigurable):
    """What both spawners share: the room, the account of the user who logs in, and the
    environment and arguments above. A spawner says where its server's configuration and root
    folder are, and whether it runs as root."""

    room_file = Unicode(help="the room.json that `workshop up --room` wrote").tag(config=True)

    @property
    def room(self) -> rooms.Room:
        return rooms.load(self.room_file)

    @property
    def account(self) -> Account:
        return self.room.account(self.user.name)

    @property
    def is_instructor(self) -> bool:
        return role(self.account) == "instructor"

    def config_dir(self) -> Path:
        raise NotImplementedError

    def root_dir(self) -> Path:
        raise NotImplementedError

    def runs_as_root(self) -> bool:
        raise NotImplementedError

    def get_env(self):
        env = super().get_env()
        env.update(environment(self.room, self.account, config_dir=self.config_dir(), root_dir=self.root_dir()))
        return env

    def get_args(self):
        return [*super().get_args(), *arguments(self.account, as_root=self.runs_as_root())]

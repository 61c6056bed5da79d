"""Each student's own JupyterLab: a local process, as their own system user when the hub is root.

A student's server starts in their home, where the released notebooks (and what the lessons
point to) are copied on their first start; later starts never overwrite their work, and newer
releases come through the Assignment List. Its environment names their account and no one
else's: RABBITMQ_URL (their lessons vhost), WORKSHOP_LIVE_URL (the live vhost), WORKSHOP_STUDENT
(their name as on the roster). The instructor's server runs as the owner of the course folder,
in it, with formgrader.

When the hub is not root (`Room.isolated` is False) every server runs as the hub's own user,
with a folder per student under `<room>/home`: students keep separate notebooks, but nothing on
the machine stops one student's code from reading another's files or the course.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import sys
from pathlib import Path

from jupyterhub.spawner import LocalProcessSpawner, set_user_setuid
from traitlets import Unicode

from grader.classroom import exchange, users
from grader.classroom import room as rooms
from grader.classroom.provision import Account
from grader.settings import ENVIRONMENT
from grader.stack import prepare_workspace  # the same copy as the one-person workshop's

COPIED = ".workshop-notebooks-copied"  # in a student's home, once their notebooks are there


def copy_notebooks(room: rooms.Room, home: Path, owner: users.SystemUser) -> list[Path]:
    """The released notebooks into `home` on the first start; nothing on later ones."""
    marker = home / COPIED
    if marker.exists():
        return []
    copied = prepare_workspace(home, room.notebooks, references=room.references)
    made = sorted({folder for path in copied for folder in path.parents if home in folder.parents} | set(copied))
    marker.write_text("the workshop's notebooks were copied here; delete this file to get missing ones again\n")
    users.give([*made, marker], owner)
    return copied


class RoomSpawner(LocalProcessSpawner):
    room_file = Unicode(help="the room.json that `workshop up --room` wrote").tag(config=True)

    @property
    def room(self) -> rooms.Room:
        return rooms.load(self.room_file)

    @property
    def account(self) -> Account:
        return self.room.account(self.user.name)

    @property
    def is_instructor(self) -> bool:
        return self.account.role == "instructor"

    def system_user(self) -> users.SystemUser:
        """Whom the server runs as, and where its home is."""
        if self.is_instructor:  # the one who may edit the course
            owner = users.SystemUser.of(pwd.getpwuid(self.room.course.stat().st_uid))
            return owner if self.room.isolated else users.SystemUser.me()
        name = users.system_name(self.user.name)
        if self.room.isolated:
            return users.SystemUser.of(pwd.getpwnam(name))
        me = users.SystemUser.me()
        return users.SystemUser(me.name, me.uid, me.gid, self.room.home_base / name)

    def root_dir(self) -> Path:
        return self.room.course if self.is_instructor else self.system_user().home

    # -- what LocalProcessSpawner asks --------------------------------------------------------

    def make_preexec_fn(self, name):
        if self.room.isolated:
            return set_user_setuid(self.system_user().name)
        home = str(self.system_user().home)
        return lambda: os.chdir(home)

    def user_env(self, env):
        who = self.system_user()
        env.update(USER=who.name, HOME=str(who.home), SHELL=users.SHELL)
        return env

    def get_env(self):
        env = super().get_env()
        account, role = self.account, "instructor" if self.is_instructor else "student"
        bins = [str(Path(self.room.python).parent), str(Path(sys.executable).parent), env.get("PATH", os.defpath)]
        env["PATH"] = os.pathsep.join(dict.fromkeys(bins))
        env["JUPYTERHUB_ROOT_DIR"] = str(self.root_dir())
        env["JUPYTER_CONFIG_PATH"] = str(self.room.config_dir(role))
        env[ENVIRONMENT["rabbitmq_url"]] = account.lessons_url
        env[ENVIRONMENT["management_url"]] = self.room.management_url
        env[ENVIRONMENT["workshop"]] = self.room.workshop
        env["WORKSHOP_LIVE_URL"] = account.live_url
        env["WORKSHOP_STUDENT"] = account.name
        if not self.is_instructor:
            env["JUPYTERHUB_DISABLE_USER_CONFIG"] = "1"  # their own ~/.jupyter cannot bring menus back
        return env

    def get_args(self):
        args = list(super().get_args())
        if not self.is_instructor:
            args.append("--ServerApp.jpserver_extensions="
                        + repr({name: False for name in exchange.INSTRUCTOR_EXTENSIONS}))
        if self.system_user().uid == 0:
            args.append("--allow-root")
        return args

    async def start(self):
        if not self.is_instructor:
            who = self.system_user()
            if not self.room.isolated:
                who.home.mkdir(parents=True, exist_ok=True)
                who.home.chmod(0o700)
            copied = await asyncio.to_thread(copy_notebooks, self.room, who.home, who)
            if copied:
                self.log.info("copied %d notebook files into %s for %s", len(copied), who.home, self.user.name)
        return await super().start()

    async def move_certs(self, paths):
        return paths  # the room runs without internal TLS

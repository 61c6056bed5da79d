"""Each student's own JupyterLab: a local process, as their own system user when the hub is root.

A student's server starts in their home (what it gets is in servers.py: their notebooks, their
account's environment, no instructor menus). The instructor's server runs as the owner of the
course folder, in it, with formgrader.

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

from grader.classroom import users
from grader.classroom.servers import RoomServer, copy_notebooks


class RoomSpawner(RoomServer, LocalProcessSpawner):
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

    def config_dir(self) -> Path:
        return self.room.config_dir("instructor" if self.is_instructor else "student")

    def runs_as_root(self) -> bool:
        return self.system_user().uid == 0

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
        env = super().get_env()  # the room's (servers.environment), over JupyterHub's
        bins = [str(Path(self.room.python).parent), str(Path(sys.executable).parent), env.get("PATH", os.defpath)]
        env["PATH"] = os.pathsep.join(dict.fromkeys(bins))
        return env

    async def start(self):
        if not self.is_instructor:
            who = self.system_user()
            if not self.room.isolated:
                who.home.mkdir(parents=True, exist_ok=True)
                who.home.chmod(0o700)
            copied = await asyncio.to_thread(copy_notebooks, who.home, self.room.notebooks, self.room.references, who)
            if copied:
                self.log.info("copied %d notebook files into %s for %s", len(copied), who.home, self.user.name)
        return await super().start()

    async def move_certs(self, paths):
        return paths  # the room runs without internal TLS

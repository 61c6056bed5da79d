"""One container per student: the room's servers in Docker (the compose stack's `hub`).

Every server is a container of the project's image on the room's Docker network, where it
reaches the broker as `rabbitmq` and the hub by its name. It gets what a local server gets
(servers.py: the same environment, the same arguments) and starts through boot.py, which sets
the container up as root and runs a student's server as the image's unprivileged user.

What each container mounts (`volumes`), every one a Docker volume named by the workshop and the
user (or, for the course, a host folder if `Containers.course` is a path):

- a student: their home (`workshop-<W>-home-<user>`), their own inbound folder of nbgrader's
  exchange (`workshop-<W>-inbound-<user>`), and the released lessons, read-only. Nothing of
  another student's, not the course, not the hub's folder (every password), not the score store.
- the instructor: the course (with formgrader), the released lessons (to release more), and
  every student's inbound read-only, a folder each, which handins.py gathers for collecting.
"""

from __future__ import annotations

from pathlib import Path

from dockerspawner import DockerSpawner
from traitlets import default

from grader.classroom import boot
from grader.classroom.provision import Account
from grader.classroom.room import Room
from grader.classroom.servers import RoomServer, role

PIDS = 512  # processes a student's container may run: a fork bomb stays in it


def home_volume(room: Room, user: str) -> str:
    return f"workshop-{room.workshop}-home-{user}"


def inbound_volume(room: Room, user: str) -> str:
    return f"workshop-{room.workshop}-inbound-{user}"


def volumes(room: Room, account: Account, layout: boot.Layout = boot.LAYOUT) -> dict[str, dict[str, str]]:
    """What the container of `account` mounts: {volume or host folder: {"bind": path, "mode": "rw" or "ro"}}."""
    course = layout.exchange / room.course_id
    outbound = room.containers.outbound
    if role(account) == "instructor":
        mounts = {room.containers.course: _mount(layout.course, "rw"), outbound: _mount(course / "outbound", "rw")}
        for student in room.accounts:
            if role(student) == "student":
                mounts[inbound_volume(room, student.user)] = _mount(layout.handins / student.user, "ro")
        return mounts
    return {home_volume(room, account.user): _mount(layout.home, "rw"),
            inbound_volume(room, account.user): _mount(course / "inbound", "rw"),
            outbound: _mount(course / "outbound", "ro")}


def host_config(account: Account) -> dict:
    """Docker's limits for the container of `account`: a student's server cannot gain privileges
    again (no setuid programs) and runs a bounded number of processes."""
    if role(account) == "instructor":
        return {}
    return {"security_opt": ["no-new-privileges:true"], "pids_limit": PIDS}


def _mount(path: Path, mode: str) -> dict[str, str]:
    return {"bind": str(path), "mode": mode}


class ContainerSpawner(RoomServer, DockerSpawner):
    @default("extra_host_config")
    def _room_host_config(self):
        return host_config(self.account)

    def config_dir(self) -> Path:
        return boot.LAYOUT.config(role(self.account))

    def root_dir(self) -> Path:
        return boot.LAYOUT.root_dir(role(self.account))

    def runs_as_root(self) -> bool:
        return self.is_instructor  # boot.py runs a student's server as `student`

    # -- what DockerSpawner asks --------------------------------------------------------------

    @property
    def volume_binds(self):
        """The room's mounts only (see `volumes`): nothing from c.DockerSpawner.volumes."""
        return self._volumes_to_binds(volumes(self.room, self.account), {})

    async def get_command(self):
        return boot.command(role(self.account), self.room.course_id) + self.get_args()

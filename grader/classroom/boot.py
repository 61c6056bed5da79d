"""What a room container runs first (containers.py starts every server with it), as root:

    python -m grader.classroom.boot ROLE COURSE_ID -- jupyterhub-singleuser ARGS...

A student's container: their home (a Docker volume of their own) and their inbound folder
(another) are handed to the image's unprivileged user `student`, and the Jupyter configuration
of students is written where JUPYTER_CONFIG_PATH points, owned by root, so the student cannot
change it. Then, as `student` (so that nothing they left in their home can make root write
elsewhere), the released notebooks are copied into the home on the first start and never
overwritten later (servers.copy_notebooks, as for a local server), and the server starts.
The instructor's container writes the instructor's configuration (with the step that gathers
every student's hand-ins, handins.py) and runs as root, in the course.

Nothing here needs the hub's folder: the room's settings come as arguments, the rest from the image.
"""

from __future__ import annotations

import argparse
import os
import pwd
import sys
from dataclasses import dataclass
from pathlib import Path

from grader import paths
from grader.classroom import exchange, users
from grader.classroom.room import course_id as read_course_id
from grader.classroom.servers import copy_notebooks

STUDENT = "student"  # the image's unprivileged user (the Dockerfile makes it)


@dataclass(frozen=True)
class Layout:
    """Where things are inside a room container (under `root`: a test gives a folder of its own)."""

    root: Path = Path("/")

    @property
    def home(self) -> Path:  # a student's home: their volume
        return self.root / "home" / STUDENT

    @property
    def course(self) -> Path:  # the instructor's course: a volume, or a host folder (the Dockerfile's WORKDIR /app)
        return self.root / "app" / "course"

    @property
    def exchange(self) -> Path:  # nbgrader's exchange: <course id>/outbound and <course id>/inbound are volumes
        return self.root / "srv" / "nbgrader" / "exchange"

    @property
    def handins(self) -> Path:  # in the instructor's container: every student's inbound volume, a folder each
        return self.root / "srv" / "nbgrader" / "handins"

    def config(self, role: str) -> Path:  # JUPYTER_CONFIG_PATH
        return self.root / "srv" / "workshop" / "config" / role

    def root_dir(self, role: str) -> Path:  # where the server opens
        return self.course if role == "instructor" else self.home

    def course_id(self) -> str:
        return read_course_id(self.course)


LAYOUT = Layout()


def command(role: str, course_id: str) -> list[str]:
    """The container's command before jupyterhub-singleuser's arguments."""
    return ["python", "-m", "grader.classroom.boot", role, course_id, "--", "jupyterhub-singleuser"]


def prepare(role: str, course_id: str, layout: Layout = LAYOUT, *, student: str = STUDENT) -> users.SystemUser:
    """What root does before the server starts (see the module's docstring); returns whom the
    server runs as."""
    course = layout.exchange / course_id
    for folder in (layout.exchange, course, course / "outbound"):
        folder.mkdir(parents=True, exist_ok=True)  # Docker made them for the mounts; a test did not
    if role == "student":
        entry = pwd.getpwnam(student)
        who = users.SystemUser(entry.pw_name, entry.pw_uid, entry.pw_gid, layout.home)
        for folder in (layout.home, course / "inbound"):
            folder.mkdir(parents=True, exist_ok=True)
            users.give([folder], who)
            folder.chmod(0o700)
        layout.exchange.chmod(0o1777)  # nbgrader's list and submit want the exchange's root writable
        files = exchange.student_config(layout.exchange, course_id)
    else:
        who = users.SystemUser.me()  # root, with root's own home: .local, .jupyter and caches stay out of the course
        (course / "inbound").mkdir(exist_ok=True)  # what handins.gather fills
        files = exchange.instructor_config(layout.exchange, course_id, layout.course, handins=layout.handins)
    exchange.write_folder(layout.config(role), files)
    return who


def first_start(role: str, layout: Layout = LAYOUT) -> list[Path]:
    """As the server's user: a student's notebooks into their home, the first time."""
    return copy_notebooks(layout.home, paths.NOTEBOOKS, paths.REFERENCES) if role == "student" else []


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m grader.classroom.boot", usage="%(prog)s [options] ROLE "
                                     "COURSE_ID -- COMMAND...", description=__doc__.split("\n")[0])
    parser.add_argument("role", choices=["student", "instructor"])
    parser.add_argument("course_id")
    parser.add_argument("--root", type=Path, default=Path("/"), help="the container's folders under ROOT (tests)")
    parser.add_argument("--student", default=STUDENT, help=f"the unprivileged user (default {STUDENT})")
    if "--" not in argv or argv.index("--") == len(argv) - 1:
        parser.error("no command to run after --")
    args, run = parser.parse_args(argv[:argv.index("--")]), argv[argv.index("--") + 1:]
    layout = Layout(args.root)
    who = prepare(args.role, args.course_id, layout, student=args.student)
    env = dict(os.environ, HOME=str(who.home), USER=who.name, SHELL=users.SHELL)
    if who.uid != os.geteuid():
        os.setgroups([])
        os.setgid(who.gid)
        os.setuid(who.uid)
    first_start(args.role, layout)
    os.chdir(layout.root_dir(args.role))
    os.execvpe(run[0], run, env)


if __name__ == "__main__":
    main()

"""nbgrader's exchange for the room, and the Jupyter configuration each kind of server reads.

The exchange is a folder every server can reach (`<room>/exchange`, mode 1777): the released
notebooks wait in `<course id>/outbound` (readable by all), submissions go into
`<course id>/inbound` (mode 2733: students may write there but not list it, so no one finds a
classmate's hand-in; the instructor collects them). This is nbgrader's own layout, made here so
that the students' Assignment List works from the first minute. With a container per student
(containers.py) the same layout is put together from volumes instead: see boot.py.

Students' servers read `config/student` first: the exchange, the course id, their student id
(their broker user, not their system user), and JupyterLab's page config that turns off the
instructor's menus (formgrader, course list, create assignment). The instructor's read
`config/instructor`: the same exchange, and the course directory for formgrader.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from grader.classroom.room import Room
from grader.classroom.users import SystemUser, give

log = logging.getLogger(__name__)

# What students never see: JupyterLab plugins and the server extensions behind them.
INSTRUCTOR_PLUGINS = ["@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                      "@jupyter/nbgrader:course-list"]
INSTRUCTOR_EXTENSIONS = ["nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list"]
SKIPPED = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")


def prepare(room: Room, instructor: SystemUser) -> list[str]:
    """The exchange with every lesson of `room.notebooks` released, and both config folders.
    Returns the lessons released."""
    room.exchange.mkdir(parents=True, exist_ok=True)
    room.exchange.chmod(0o1777)
    course = room.exchange / room.course_id
    folders = {course: 0o755, course / "outbound": 0o755, course / "inbound": 0o2733}
    for folder, mode in folders.items():
        folder.mkdir(exist_ok=True)
        give([folder], instructor)
        folder.chmod(mode)
    released = release(room.notebooks, course / "outbound", instructor)
    write_config(room)
    return released


def release(notebooks: Path, outbound: Path, owner: SystemUser) -> list[str]:
    """Each lesson folder of `notebooks` into `outbound`, replacing an older release: what
    `nbgrader release_assignment` does with the course's release folder."""
    lessons = sorted(path for path in notebooks.iterdir() if path.is_dir() and any(path.glob("*.ipynb")))
    for lesson in lessons:
        target = outbound / lesson.name
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(lesson, target, ignore=SKIPPED)
        paths = [target, *target.rglob("*")]
        give(paths, owner)
        for path in paths:
            path.chmod(0o755 if path.is_dir() else 0o644)
    log.info("released %d lessons into %s", len(lessons), outbound)
    return [lesson.name for lesson in lessons]


HEADER = ("# Written by the room at every start (`workshop up --room`, or boot.py in a container); edit "
          "grader/classroom/exchange.py instead.\n"
          "c = get_config()  # noqa: F821\n")


def student_config(exchange: Path, course_id: str) -> dict[str, str]:
    """The files of a student's configuration folder, by their path in it."""
    disabled = {"disabledExtensions": {plugin: True for plugin in INSTRUCTOR_PLUGINS}}
    return {"nbgrader_config.py": "import os\n\n" + HEADER + _exchange(exchange, course_id) +
            "# nbgrader's student id is the broker user that logged in, not the system user (ws-...)\n"
            "c.CourseDirectory.student_id = os.environ.get('JUPYTERHUB_USER', '*')\n",
            "labconfig/page_config.json": json.dumps(disabled, indent=1) + "\n"}


def instructor_config(exchange: Path, course_id: str, course: Path, *, handins: Path | None = None) -> dict[str, str]:
    """The files of the instructor's configuration folder. `handins`: a folder of every student's
    own inbound (a container each, containers.py), which `nbgrader collect` gathers from first."""
    text = (HEADER + _exchange(exchange, course_id) + f"c.CourseDirectory.root = {str(course)!r}\n"
            "# Submissions are owned by the students' system users (ws-...), named by their broker users.\n"
            "c.ExchangeCollect.check_owner = False\n")
    if handins is not None:
        text += ("# Each student hands in into a volume of their own: collect gathers them into inbound/ first.\n"
                 "c.ExchangeFactory.collect = 'grader.classroom.handins.GatheringCollect'\n"
                 f"c.GatheringCollect.handins = {str(handins)!r}\n")
    return {"nbgrader_config.py": text}


def write_config(room: Room) -> None:
    write_folder(room.config_dir("student"), student_config(room.exchange, room.course_id))
    write_folder(room.config_dir("instructor"), instructor_config(room.exchange, room.course_id, room.course))


def write_folder(folder: Path, files: dict[str, str]) -> None:
    """`files` into `folder`, every folder on the way 0755 and every file 0644 (anyone may read them)."""
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        for made in (folder.parent, folder, *(inside for inside in path.parents if folder in inside.parents)):
            made.chmod(0o755)
        path.write_text(text, encoding="utf-8")
        path.chmod(0o644)


def _exchange(exchange: Path, course_id: str) -> str:
    return f"c.Exchange.root = {str(exchange)!r}\nc.CourseDirectory.course_id = {course_id!r}\n"

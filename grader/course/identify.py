"""Which student, assignment and notebook a handed-in file is: from the course's own names, the
file's name, the folder it is in, or nbgrader's exchange folder name."""

from __future__ import annotations

import pwd
import re
from pathlib import Path

from grader.classroom.users import PREFIX as SYSTEM_PREFIX
from grader.classroom.users import system_name
from grader.course.graded import course_id
from grader.course.nbgrader import assignments as course_assignments
from grader.errors import CourseError

SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")
COPY_MARK = re.compile(r"(?:\s*\(\d+\)|[ _-]copy\d*)$", re.IGNORECASE)
SEPARATORS = "_-+. "


class Course:
    def __init__(self, course_dir: Path, only: str | None):
        names = course_assignments(course_dir) if (course_dir / "source").is_dir() else []
        if not names:
            raise CourseError(f"{course_dir} has no assignments in source/: give the course with --course")
        self.notebooks = {a: sorted(p.stem for p in (course_dir / "source" / a).glob("*.ipynb")) for a in names}
        if only is not None and only not in self.notebooks:
            raise CourseError(f"there is no assignment {only!r} in {course_dir}/source "
                              f"(there are {', '.join(names)})")
        self.only, self.id = only, course_id(course_dir)

    def owner(self, stem: str) -> tuple[str, str] | None:
        """(assignment, notebook) whose notebook this file is, by its name (copy marks aside)."""
        bare = COPY_MARK.sub("", stem).strip()
        return next(((a, n) for a, names in self.notebooks.items() for n in names if n in (stem, bare)), None)

    def match(self, stem: str, assignment: str | None = None) -> tuple[str, str, bool] | None:
        """(assignment, notebook, exact) for a notebook file's stem, within `assignment` if given; a
        single-notebook assignment takes a renamed file (`Untitled.ipynb`) as its notebook."""
        owner = self.owner(stem)
        if owner and assignment in (None, owner[0]):
            return owner[0], owner[1], stem == owner[1]
        if owner is None and assignment and len(self.notebooks[assignment]) == 1:
            return assignment, self.notebooks[assignment][0], False
        return None

    def named(self, stem: str, assignment: str | None) -> tuple[str, str, str] | None:
        """(student, assignment, notebook) of a file named by student (see grader.course.collect)."""
        bare = COPY_MARK.sub("", stem).strip()
        names = sorted(((name, owner) for owner, notebooks in self.notebooks.items() if assignment in (None, owner)
                        for name in {owner, *notebooks}), key=lambda pair: (-len(pair[0]), pair))
        for name, owner in names:
            notebooks = self.notebooks[owner]
            notebook = name if name in notebooks else notebooks[0] if len(notebooks) == 1 else None
            if notebook is None:
                continue
            rests = [bare[:-len(name)]] if bare.endswith(name) and bare[:-len(name)][-1:] in tuple(SEPARATORS) else []
            if bare.startswith(name) and bare[len(name):][:1] in tuple(SEPARATORS):
                rests.append(bare[len(name):])  # <name>_<student>; the line above: <student>_<name>
            for rest in rests:
                if rest.strip(SEPARATORS):
                    return rest.strip(SEPARATORS), owner, notebook
        if assignment and len(self.notebooks[assignment]) == 1 and self.owner(stem) is None:
            return bare, assignment, self.notebooks[assignment][0]
        return None


def exchange_record(name: str) -> tuple[str, str, str] | None:
    """(student, assignment, timestamp) of an exchange folder `student+assignment+time[+random]`."""
    parts = name.rsplit("+", 3)
    if len(parts) == 4 and re.fullmatch(r"\d{4}-\d\d-\d\d[ T][\d:.]+.*", parts[2]):
        return parts[0], parts[1], parts[2]
    if len(parts) >= 3 and re.fullmatch(r"\d{4}-\d\d-\d\d[ T][\d:.]+.*", parts[-1]):
        return "+".join(parts[:-2]), parts[-2], parts[-1]
    return None


def handed_in_by_another(folder: Path, student: str) -> str | None:
    """nbgrader's exchange names a submission after the student id the submitter's JupyterLab
    claims; in a room where each student is a system user of their own (grader/classroom/users.py),
    the folder's owner says who really handed it in. The owner's name when that is another
    student of the room; None when it is this student, or not a room student (root, the instructor,
    files copied by hand)."""
    try:
        owner = pwd.getpwuid(folder.stat().st_uid).pw_name
    except (KeyError, OSError):
        return None
    if not owner.startswith(SYSTEM_PREFIX) or owner == system_name(student):
        return None
    return owner

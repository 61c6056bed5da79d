"""The class list an instructor brings: one student a row, a name and an optional email.

Read as CSV (UTF-8, with or without a byte-order mark). A first row with a cell `name` (any case) is
a header, and then the columns `name` and `email` are found by their titles;
without a header the first column is the name and the second, if any, the email. Blank rows and
rows starting with `#` are skipped. A file whose first row has semicolons or tabs and no comma
is read with those (what spreadsheets write in many locales). An email, when given, must look
like one. Every name must be one the live grader accepts, and no two
names may give the same student id: the id is the student's broker user, vhost and task queue.
All problems are reported together, with their row numbers, before anything is made.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from grader.errors import WorkshopError
from grader.live.identity import BadName, clean_name, student_id

INSTRUCTOR = "instructor"  # the instructor's account; no student may take this id


class BadRoster(WorkshopError):
    """The roster cannot be used as it is; `str()` lists every problem, a line each."""


@dataclass(frozen=True)
class Student:
    name: str  # as shown: trimmed, NFC
    email: str
    id: str  # identity.student_id(name): broker user, vhost, `W.<id>`


def read(path: Path, *, instructor: str = INSTRUCTOR) -> list[Student]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise BadRoster(f"there is no roster at {path}") from None
    except UnicodeDecodeError as exc:
        raise BadRoster(f"{path} is not UTF-8 text (byte {exc.start}): save it as CSV UTF-8") from None
    return parse(text, source=str(path), instructor=instructor)


EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _delimiter(text: str) -> str:
    """Commas, or what a spreadsheet wrote instead (semicolons in many locales, or tabs): read
    from the first line that is not blank or a comment."""
    first = next((line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")), "")
    for other in (";", "\t"):
        if other in first and "," not in first:
            return other
    return ","


def parse(text: str, *, source: str = "the roster", instructor: str = INSTRUCTOR) -> list[Student]:
    text = text.removeprefix("\ufeff")  # the byte-order mark some spreadsheets write
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(text))
    rows = [(number, row) for number, row in enumerate(reader, start=1)
            if any(cell.strip() for cell in row) and not row[0].lstrip().startswith("#")]
    name_at, email_at = 0, 1
    titles = [cell.strip().casefold() for cell in rows[0][1]] if rows else []
    if "name" in titles:
        name_at = titles.index("name")
        email_at = titles.index("email") if "email" in titles else None
        rows = rows[1:]
    students, problems, seen = [], [], {}
    for number, row in rows:
        raw = row[name_at] if name_at < len(row) else ""
        email = row[email_at].strip() if email_at is not None and email_at < len(row) else ""
        if email and not EMAIL.fullmatch(email):
            problems.append(f"row {number}: {email!r} is not an email address (leave the column empty if "
                            "there is none)")
            continue
        try:
            name = clean_name(raw)
            sid = student_id(name)
        except BadName as exc:
            problems.append(f"row {number}: {raw.strip()!r}: {exc}")
            continue
        if sid == instructor:
            problems.append(f"row {number}: {name!r} would take the instructor's account {instructor!r}")
        elif sid in seen:
            problems.append(f"row {number}: {name!r} is the same student as row {seen[sid][0]} "
                            f"({seen[sid][1]!r}): add a second name or an initial to tell them apart")
        else:
            seen[sid] = (number, name)
            students.append(Student(name, email, sid))
    if problems:
        raise BadRoster(f"{source} cannot be used as it is:\n" + "\n".join(f"  {line}" for line in problems))
    if not students:
        raise BadRoster(f"{source} names no student (one a row: name, then optionally email)")
    return students

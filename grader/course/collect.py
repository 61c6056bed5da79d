"""`workshop collect SOURCE`: what students handed in, into the course's
`submitted/<student>/<assignment>/<notebook>.ipynb`, with one line for everything it could not place.

SOURCE may be (or be a .zip of):
- nbgrader's exchange (`room/exchange`, its `<course id>/` or its `inbound/`): folders
  `<student>+<assignment>+<timestamp>+<random>`; each student's newest submission wins, as
  `nbgrader collect` does, and its timestamp.txt comes along;
- a folder per student: `SOURCE/<student>/<notebook>.ipynb` or `SOURCE/<student>/<assignment>/...`;
- files named by student: `<student>_<assignment>.ipynb` or `<assignment>_<student>.ipynb`
  (the assignment's name or its notebook's; `_`, `-`, `+`, `.` or a space between), or
  `<student>.ipynb` with `--assignment`; an assignment's folder of them works too
  (`SOURCE/<assignment>/<student>_<assignment>.ipynb`).
Browsers' copy marks (`01-hello-world (1).ipynb`, `...-Copy1.ipynb`) are understood; when one
student has two files for one notebook, the newest is kept and both are named.

Student ids must be safe folder names; nothing is written outside `submitted/`, and symbolic
links, `..` and absolute paths (in a folder or a zip) are refused, each with its line.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from grader.course.identify import COPY_MARK, SAFE_ID, Course, exchange_record, handed_in_by_another
from grader.course.unzip import MAX_BYTES, unzip
from grader.errors import CourseError

QUIET = {"__MACOSX", ".ipynb_checkpoints", "__pycache__", ".DS_Store", "Thumbs.db", "timestamp.txt",
         "submission_secret.txt"}
SECRET = "submission_secret.txt"  # nbgrader submit's; `nbgrader release_feedback` needs it beside the feedback


@dataclass
class Found:
    student: str
    assignment: str
    notebook: str
    path: Path
    shown: str  # where it came from, as the report names it
    mtime: float
    exact: bool = True  # its name was the notebook's own (not a copy, not renamed)
    timestamp: str | None = None  # the exchange's submission time


@dataclass
class Report:
    placed: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # one line each: what, and why not
    left_out: int = 0  # notebooks of other assignments than --assignment

    def summary(self, submitted: Path, only: str | None = None) -> str:
        students = {path.parent.parent.name for path in self.placed}
        line = f"collected {len(self.placed)} notebooks of {len(students)} students into {submitted}"
        return line + (f"; left out {self.left_out} of other assignments than {only}" if self.left_out else "")


def collect(source: Path, course_dir: Path, *, assignment: str | None = None) -> Report:
    """Place what `source` holds into `course_dir/submitted`; see the module's docstring."""
    course, report = Course(course_dir, assignment), Report()
    if not source.exists():
        raise CourseError(f"{source} does not exist")
    found: list[Found] = []
    with tempfile.TemporaryDirectory(prefix="workshop-collect-") as scratch:
        if source.is_file() and zipfile.is_zipfile(source):
            root = Path(scratch)
            unzip(source, root, report.problems)
            _walk(_unwrap(root, course), course, found, report, prefix=f"{source.name}:")
        elif source.is_file():
            _file(source, source.name, course, None, course.only, found, report)
        else:
            _walk(source, course, found, report, prefix="")
        _place(found, course_dir / "submitted", report)
    return report


def _walk(root: Path, course: Course, found: list[Found], report: Report, prefix: str) -> None:
    inbound = _inbound(root, course.id)
    if inbound is not None:
        return _exchange(inbound, course, found, report, prefix)
    for entry, shown in _entries(root, prefix, report):
        if entry.is_dir() and entry.name in course.notebooks:  # an assignment's folder
            for inner, inner_shown in _entries(entry, f"{shown}/", report):
                if inner.is_dir():
                    _student(inner, inner_shown, course, entry.name, found, report)
                else:
                    _file(inner, inner_shown, course, None, entry.name, found, report)
        elif entry.is_dir():
            _student(entry, shown, course, course.only, found, report)
        else:
            _file(entry, shown, course, None, course.only, found, report)


def _entries(folder: Path, prefix: str, report: Report):
    """The folder's entries that can be read, with how to name them; symlinks and devices refused."""
    for entry in sorted(folder.iterdir()):
        shown = f"{prefix}{entry.name}"
        if entry.name in QUIET or entry.name.startswith("."):
            continue
        mode = entry.lstat().st_mode
        if stat.S_ISLNK(mode):
            report.problems.append(f"{shown}: a symbolic link; not followed")
        elif not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
            report.problems.append(f"{shown}: not a regular file; skipped")
        else:
            yield entry, shown


def _student(folder: Path, shown: str, course: Course, assignment: str | None, found, report) -> None:
    if not SAFE_ID.fullmatch(folder.name):
        report.problems.append(f"{shown}/: {folder.name!r} is not a usable student id "
                               "(letters, digits, . _ @ -, starting with a letter or digit); skipped")
        return
    for entry, inner in _entries(folder, f"{shown}/", report):
        if entry.is_dir() and entry.name in course.notebooks:
            for file, file_shown in _entries(entry, f"{inner}/", report):
                if file.is_dir():
                    report.problems.append(f"{file_shown}/: a folder inside a submission; skipped")
                else:
                    _file(file, file_shown, course, folder.name, entry.name, found, report)
        elif entry.is_dir():
            report.problems.append(f"{inner}/: unknown assignment {entry.name!r} (not in the course's source/); skipped")
        else:
            _file(entry, inner, course, folder.name, assignment, found, report)


def _file(path: Path, shown: str, course: Course, student: str | None, assignment: str | None,
          found: list[Found], report: Report, timestamp: str | None = None) -> None:
    if path.suffix != ".ipynb":
        report.problems.append(f"{shown}: not a notebook (.ipynb); skipped")
        return
    exact = COPY_MARK.sub("", path.stem) == path.stem
    if student is None:
        named = course.named(path.stem, assignment)
        if named is None and course.only and course.named(path.stem, None):
            report.left_out += 1
            return
        if named is None:
            report.problems.append(f"{shown}: no student id in its name (name it <student>_<assignment>.ipynb, "
                                   "or give --assignment for <student>.ipynb); skipped")
            return
        student, assignment, notebook = named
    else:
        matched, owner = course.match(path.stem, assignment), course.owner(path.stem)
        if matched is None and owner and course.only and owner[0] != course.only:
            report.left_out += 1
            return
        if matched is None:
            report.problems.append(f"{shown}: " + (f"the notebook of {owner[0]}, not of {assignment}" if owner else
                                   f"not a notebook of {assignment or 'any assignment'} (the course's are named like "
                                   f"{next(iter(course.notebooks.values()))[0]}.ipynb)") + "; skipped")
            return
        assignment, notebook, exact = matched
    if not SAFE_ID.fullmatch(student):
        report.problems.append(f"{shown}: {student!r} is not a usable student id "
                               "(letters, digits, . _ @ -, starting with a letter or digit); skipped")
    elif path.lstat().st_size > MAX_BYTES:
        report.problems.append(f"{shown}: larger than {MAX_BYTES // 2**20} MB; skipped")
    elif course.only is None or assignment == course.only:
        found.append(Found(student, assignment, notebook, path, shown, path.lstat().st_mtime, exact, timestamp))
    else:
        report.left_out += 1


def _inbound(root: Path, course: str) -> Path | None:
    """nbgrader's inbound folder if `root` is (a part of) an exchange, else None."""
    for candidate in (root, root / "inbound", root / course / "inbound"):
        if candidate.is_dir() and not candidate.is_symlink() and (
                candidate.name == "inbound" or any(exchange_record(p.name) for p in candidate.iterdir() if p.is_dir())):
            return candidate
    return None


def _exchange(inbound: Path, course: Course, found: list[Found], report: Report, prefix: str) -> None:
    from nbgrader.utils import parse_utc

    newest: dict[tuple[str, str], list[tuple[object, Path, str, str]]] = defaultdict(list)
    for folder, shown in _entries(inbound, prefix, report):
        record = exchange_record(folder.name) if folder.is_dir() else None
        if record is None:
            report.problems.append(f"{shown}: not a submission of nbgrader's exchange "
                                   "(<student>+<assignment>+<time>+<random>); skipped")
            continue
        student, assignment, when = record
        if assignment not in course.notebooks:
            report.problems.append(f"{shown}: unknown assignment {assignment!r} (not in the course's source/); skipped")
        elif not SAFE_ID.fullmatch(student):
            report.problems.append(f"{shown}: {student!r} is not a usable student id; skipped")
        elif course.only is not None and assignment != course.only:
            report.left_out += 1
        elif (owner := handed_in_by_another(folder, student)) is not None:
            report.problems.append(f"{shown}: handed in by the system user {owner}, who is not {student!r}: "
                                   "a submission in someone else's name; skipped")
        else:
            try:
                newest[(student, assignment)].append((parse_utc(when), folder, shown, when))
            except (ValueError, OverflowError):
                report.problems.append(f"{shown}: its time {when!r} cannot be read; skipped")
    for (student, assignment), tries in newest.items():
        _, folder, shown, when = max(tries, key=lambda entry: entry[0])
        for entry, inner in _entries(folder, f"{shown}/", report):
            if entry.is_dir():
                report.problems.append(f"{inner}/: a folder inside a submission; skipped")
            else:
                _file(entry, inner, course, student, assignment, found, report, timestamp=when)


def _unwrap(root: Path, course: Course) -> Path:
    """The folder inside a zip that holds the hand-ins: past lone folders that only wrap them."""
    while True:
        entries = [e for e in root.iterdir() if e.name not in QUIET and not e.name.startswith(".")]
        if len(entries) != 1 or not entries[0].is_dir() or entries[0].name in course.notebooks \
                or _inbound(root, course.id) is not None:
            return root
        inner = entries[0]
        a_student = any(course.owner(p.stem) for p in inner.glob("*.ipynb")) or \
            any((inner / name).is_dir() for name in course.notebooks)
        if a_student:
            return root  # one student's folder
        root = inner


def _place(found: list[Found], submitted: Path, report: Report) -> None:
    groups: dict[tuple[str, str, str], list[Found]] = defaultdict(list)
    for item in found:
        groups[(item.student, item.assignment, item.notebook)].append(item)
    for (student, assignment, notebook), items in sorted(groups.items()):
        items.sort(key=lambda item: (-item.mtime, not item.exact, item.shown))
        kept = items[0]
        if len(items) > 1:
            why = ("the newest" if kept.mtime > items[1].mtime else
                   "as old as the other, with the notebook's own name" if kept.exact and not items[1].exact else
                   "as old as the other, first by name")
            report.problems.append(f"{student}, {assignment}/{notebook}.ipynb: {len(items)} files; kept "
                                   f"{kept.shown} ({why}), not {', '.join(i.shown for i in items[1:])}")
        folder = submitted / student / assignment
        target = folder / f"{notebook}.ipynb"
        if any(p.is_symlink() for p in (submitted / student, folder, target)) or \
                not target.resolve().is_relative_to(submitted.resolve()):
            report.problems.append(f"{kept.shown}: {folder} is a symbolic link; not written")
            continue
        try:
            data = _read(kept.path)
            folder.mkdir(parents=True, exist_ok=True)
            _write(target, data)
            if kept.timestamp:  # from the exchange: what `nbgrader collect` brings along
                _write(folder / "timestamp.txt", kept.timestamp.encode())
                secret = kept.path.parent / SECRET
                if secret.is_file() and not secret.is_symlink() and secret.stat().st_size < 4096:
                    _write(folder / SECRET, _read(secret))
        except OSError as exc:
            report.problems.append(f"{kept.shown}: not collected ({exc.strerror or exc})")
            continue
        _validate(data, kept.shown, report)
        report.placed.append(target)


def _read(path: Path) -> bytes:
    """The file's bytes, refusing it if it became a link or something else since it was listed (a
    student can change their own folder in the exchange while collect runs)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path.name} is no longer a regular file")
        return file.read(MAX_BYTES + 1)[:MAX_BYTES]


def _validate(data: bytes, shown: str, report: Report) -> None:
    try:
        notebook = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        reason = str(exc).splitlines()[0][:120]
        report.problems.append(f"{shown}: not valid JSON ({reason}); kept as is, nbgrader cannot grade it")
        return
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        report.problems.append(f"{shown}: JSON but not a notebook (no cells); kept as is, nbgrader cannot grade it")


def _write(path: Path, data: bytes) -> None:
    """Written whole or not at all: a temporary file beside it, then renamed over it."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".collect-")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)

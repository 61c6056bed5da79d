"""What grading left behind, read as plain data: the gradebook's points and, from the autograded
notebooks, each check's failure sentence and the student's own code.

For `workshop feedback` and `workshop export`; nothing here writes. The hidden tests never leave
this module: a check's message is the ✘ sentence or the error's last line, never a traceback or
a cell's source, and any line of a hidden test found in it is blanked out all the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from traitlets.config import PyFileConfigLoader

from grader.errors import CourseError

HIDDEN = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
NOT_DONE = "not answered: the cell still raises NotImplementedError"
MISSING = "Checks not found in your notebook"
MAX_MESSAGE = 1000  # characters of a message shown; a student's error can be megabytes


@dataclass(frozen=True)
class Check:
    """A graded cell of a submission."""

    grade_id: str
    max_score: float
    score: float | None = None  # None: not graded (no submission, or waiting for a manual grade)
    message: str = ""  # why it failed, in the check's own words; "" when it passed
    passed: tuple[str, ...] = ()  # the ✔ sentences it printed

    @property
    def failed(self) -> bool:
        return self.score is not None and self.score < self.max_score


@dataclass(frozen=True)
class Answer:
    """A cell the student wrote: their code (or text) and what it raised, if anything."""

    grade_id: str
    cell_type: str
    source: str
    error: str = ""


@dataclass
class Exercise:
    title: str  # the last heading of the lesson's text before it, or the check's grade_id
    answers: list[Answer] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)


@dataclass
class Submission:
    student: str
    assignment: str
    status: str  # "graded", "needs manual grading", "not graded" (submitted only), "not submitted"
    score: float = 0.0
    max_score: float = 0.0
    exercises: list[Exercise] = field(default_factory=list)

    @property
    def checks(self) -> list[Check]:
        return [check for exercise in self.exercises for check in exercise.checks]


def course_id(course_dir: Path) -> str:
    return str(_config(course_dir).CourseDirectory.get("course_id") or "default_course")


def gradebook_url(course_dir: Path) -> str:
    """The course's gradebook: `CourseDirectory.db_url` of its nbgrader_config.py, or its gradebook.db."""
    url = _config(course_dir).CourseDirectory.get("db_url")
    if url:
        return str(url)
    path = course_dir / "gradebook.db"
    if not path.exists():
        raise CourseError(f"there is no gradebook in {course_dir} (no gradebook.db): "
                          "grade the submissions first (`workshop autograde` or `nbgrader autograde`)")
    return f"sqlite:///{path.resolve()}"


def _config(course_dir: Path):
    if not (course_dir / "nbgrader_config.py").exists():
        raise CourseError(f"{course_dir} is not an nbgrader course (no nbgrader_config.py); give it with --course")
    return PyFileConfigLoader("nbgrader_config.py", path=str(course_dir)).load_config()


def read(course_dir: Path, assignments: list[str] | None = None, *, gradebook: str | None = None) -> list[Submission]:
    """Every student's submission of every assignment (or of `assignments`) in the gradebook (the
    course's, or the one at the SQLAlchemy URL `gradebook`), one per student and assignment, graded
    or not, in course order."""
    from nbgrader.api import Gradebook, MissingEntry

    found = []
    with Gradebook(gradebook or gradebook_url(course_dir), course_id(course_dir)) as book:
        known = {a.name: a for a in book.assignments}
        unknown = sorted(set(assignments or ()) - set(known))
        if unknown:
            raise CourseError(f"the gradebook has no assignment {', '.join(unknown)} "
                              f"(it has {', '.join(sorted(known)) or 'none'})")
        students = sorted(s.id for s in book.students)
        for name in sorted(assignments or known):
            assignment = known[name]
            hidden = _hidden_lines(cell.source for nb in assignment.notebooks for cell in nb.source_cells)
            for student in students:
                try:
                    submission = book.find_submission(name, student)
                except MissingEntry:
                    submission = None
                found.append(_submission(course_dir, assignment, student, submission, hidden))
    return found


def _submission(course_dir: Path, assignment, student: str, submission, hidden: list[str]) -> Submission:
    if submission is None:
        submitted = (course_dir / "submitted" / student / assignment.name).is_dir()
        result = Submission(student, assignment.name, "not graded" if submitted else "not submitted",
                            max_score=assignment.max_score)
        grades = {}
    else:
        result = Submission(student, assignment.name,
                            "needs manual grading" if submission.needs_manual_grade else "graded",
                            submission.score, submission.max_score)
        grades = {(nb.name, grade.name): grade for nb in submission.notebooks for grade in nb.grades}
    for notebook in assignment.notebooks:
        maxima = {cell.name: cell.max_score for cell in notebook.grade_cells}
        graded = course_dir / "autograded" / student / assignment.name / f"{notebook.name}.ipynb"
        layout = graded if submission is not None and graded.exists() else \
            course_dir / "source" / assignment.name / f"{notebook.name}.ipynb"
        cells = _cells(layout)
        seen = sorted({*hidden, *_hidden_lines(cell.source for cell in cells.values())}, key=len, reverse=True)
        exercises = exercises_of(cells, set(maxima))
        missing = [g for g in maxima if g not in {c for e in exercises for c in e.checks}]
        if missing:  # a mangled notebook, or cells the student deleted: the gradebook still has them
            exercises.append(Exercise(MISSING, checks=missing))
        for exercise in exercises:
            exercise.answers = [_answer(cells[i], seen) for i in exercise.answers] if layout == graded else []
            exercise.checks = [_check(grade_id, maxima[grade_id], grades.get((notebook.name, grade_id)),
                                      cells.get(grade_id) if layout == graded else None, seen)
                               for grade_id in exercise.checks]
        result.exercises.extend(exercises)
    return result


def _cells(path: Path) -> dict[str, nbformat.NotebookNode]:
    """The notebook's cells in order, by grade_id (markdown cells without one by their position)."""
    if not path.exists():
        return {}
    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception:  # noqa: BLE001 - a mangled notebook: its checks are still listed, from the gradebook
        return {}
    return {cell.metadata.get("nbgrader", {}).get("grade_id") or f"#{index}": cell
            for index, cell in enumerate(notebook.cells)}


def exercises_of(cells: dict[str, nbformat.NotebookNode], graded: set[str]) -> list[Exercise]:
    """Exercises in notebook order: the student's cells, then the checks (of `graded`) below them.
    `answers` and `checks` hold grade_ids here; `_submission` fills them in."""
    exercises, title, current = [], "", None
    for grade_id, cell in cells.items():
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "markdown" and not meta.get("solution"):
            heading = [line.lstrip("#").strip() for line in cell.source.splitlines() if line.startswith("#")]
            title = heading[-1] if heading else title
            continue
        if meta.get("solution") and (current is None or current.checks):
            current = Exercise(title or grade_id)
            exercises.append(current)
        if meta.get("solution"):
            current.answers.append(grade_id)
        if grade_id in graded:
            if current is None:
                current = Exercise(title or grade_id)
                exercises.append(current)
            current.checks.append(grade_id)
    return [exercise for exercise in exercises if exercise.checks]


def _answer(cell, hidden: list[str]) -> Answer:
    meta = cell.metadata.get("nbgrader", {})
    return Answer(meta.get("grade_id", ""), cell.cell_type, cell.source, _error(cell, hidden))


def _check(grade_id: str, max_score: float, grade, cell, hidden: list[str]) -> Check:
    score = None if grade is None else grade.score
    if grade is not None and grade.needs_manual_grade:
        score = None
    passed = tuple(line[2:].strip() for line in _stream_lines(cell) if line.startswith("✔ ")) if cell else ()
    message = ""
    if score is not None and score < max_score:
        message = (_error(cell, hidden) if cell else "") or "this check did not give all its points"
    return Check(grade_id, max_score, score, message, passed if not message else ())


def _stream_lines(cell) -> list[str]:
    text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")
    return [ANSI.sub("", line) for line in text.splitlines()]


def _error(cell, hidden: list[str]) -> str:
    """The last error of `cell` in its own words: the ✘ sentence the course shows, or the
    error's last line (`ename: evalue`); never the traceback, which quotes the cell's code."""
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    if not errors:
        return ""
    error = errors[-1]
    shown = ANSI.sub("", "\n".join(error.get("traceback") or [])).strip()
    if shown.startswith("✘"):
        text = shown[1:].split("\n  (in the cell, line", 1)[0].strip()  # that line may be a hidden test's
    elif error.get("ename") == "NotImplementedError":
        text = NOT_DONE
    elif error.get("ename") == "KeyboardInterrupt":
        text = "the cell was stopped at the time limit: something in it waits forever (a consumer never stopped?)"
    else:
        evalue = str(error.get("evalue") or "").strip()
        ename = str(error.get("ename") or "Error")
        if not evalue:
            text = f"{ename} (raised without a message)"
        else:  # a hidden test's assert says its sentence; any other error says what it is
            text = evalue if ename == "AssertionError" else f"{ename}: {evalue}"
    return redact(text[:MAX_MESSAGE], hidden)


def _hidden_lines(sources) -> list[str]:
    """Every line of code between the hidden-test markers of `sources`, longest first."""
    lines, inside = set(), False
    for source in sources:
        for line in (source or "").splitlines():
            stripped = line.strip()
            if stripped in HIDDEN:
                inside = stripped == HIDDEN[0]
            elif inside and len(stripped) >= 8:
                lines.add(stripped)
        inside = False
    return sorted(lines, key=len, reverse=True)


def redact(text: str, hidden: list[str]) -> str:
    for line in hidden:
        text = text.replace(line, "[a line of the hidden test]")
    return text

"""A corpus of student answers, written independently of the course's reference solutions.

Each lesson has a module `<lesson>.py` (e.g. `01-hello-world.py`) with a list `CORPUS` of
`Submission`s. A submission maps the grade_id of every solution cell of the released notebook to
the whole text the student left in that cell (given code included). A correct submission
(`correct=True`) must get full marks; a wrong one must lose at least the test cells in `fails`.

`finding` marks a submission whose grade disagrees with what the exercise text asks: the test
of it is an expected failure (strict), and `finding` says what the course gets wrong.
"""

from __future__ import annotations

import functools
import re
import textwrap
from dataclasses import dataclass, field

import nbformat

from grader import paths

PLACEHOLDER = re.compile(r"^([ \t]*)# YOUR CODE HERE\n[ \t]*raise NotImplementedError\(\)[ \t]*$", re.M)


@dataclass(frozen=True)
class Submission:
    name: str
    cells: dict[str, str]
    correct: bool = True
    fails: frozenset[str] = field(default_factory=frozenset)
    finding: str | None = None  # set when the grade contradicts the exercise text (a course bug)


@functools.cache
def released_cells(lesson: str) -> dict[str, str]:
    """grade_id -> source of each solution cell of the released notebook (no solutions in there)."""
    notebook = nbformat.read(paths.NOTEBOOKS / lesson / f"{lesson}.ipynb", as_version=4)
    return {cell.metadata["nbgrader"]["grade_id"]: cell.source for cell in notebook.cells
            if cell.metadata.get("nbgrader", {}).get("solution")}


def typed(lesson: str, grade_id: str, code: str) -> str:
    """The released cell `grade_id` with the student's `code` where `# YOUR CODE HERE` was,
    indented like the placeholder (the given lines around it stay as released)."""
    released = released_cells(lesson)[grade_id]
    match = PLACEHOLDER.search(released)
    assert match, f"{lesson}:{grade_id} has no placeholder"
    indent = match.group(1)
    body = textwrap.indent(textwrap.dedent(code).strip("\n"), indent)
    return released[:match.start()] + body + released[match.end():]


def answers(lesson: str, **by_cell: str) -> dict[str, str]:
    """`typed` for several cells: keyword names use `_` for `-` (new_task -> new-task)."""
    return {grade_id.replace("_", "-"): typed(lesson, grade_id.replace("_", "-"), code)
            for grade_id, code in by_cell.items()}


def makers(lesson: str, **base: str):
    """`correct(name, **cells)` and `wrong(name, fails, finding=None, **cells)` for `lesson`: a
    submission of the cells in `base` (keyword names as in `answers`), some of them replaced."""
    def correct(name: str, **cells: str) -> Submission:
        return Submission(name, answers(lesson, **{**base, **cells}))

    def wrong(name: str, fails, finding: str | None = None, **cells: str) -> Submission:
        return Submission(name, correct(name, **cells).cells, correct=False, fails=frozenset(fails), finding=finding)

    return correct, wrong

"""nbgrader autograde, as the instructor runs it, on real kernels against a real broker.

For every lesson, one nbgrader run grades several submissions made from the released notebook:
the source's own solutions, the untouched release in which a student edited a locked test cell
(once nbgrader puts the cell back, it is the untouched release), and each plausible wrong answer
in tests/course/wrong_answers/<lesson>.py.
"""

from __future__ import annotations

import pytest

from grader import course, paths
from tests.course.autograding import (
    fill,
    grade_in_vhosts,
    read,
    source_notebooks,
    wrong_answers,
)

ASSIGNMENTS = course.assignments()
pytestmark = pytest.mark.timeout(1800)  # the first test waits for every lesson to be graded
CELL_TIMEOUT = 10  # seconds; the course's own is longer, the principle is the same
LOCKED_EDIT = "pass  # the student replaced the test with this"


def first_test_cell(notebook) -> str:
    return next(c.metadata["nbgrader"]["grade_id"] for c in notebook.cells
                if c.metadata.get("nbgrader", {}).get("grade"))


def submissions_of(assignment: str) -> dict[str, dict]:
    """student -> notebook name -> notebook: the source's solutions, the untouched release with
    a locked test cell edited, and each plausible wrong answer."""
    sources = source_notebooks(assignment)
    released = {name: read(paths.NOTEBOOKS / assignment / f"{name}.ipynb") for name in sources}

    def submission(**kwargs):
        return {name: fill(released[name], sources[name], **kwargs) for name in sources}

    submissions = {
        "solution": submission(),
        "locked-edit": {
            name: fill(released[name], sources[name], blank=True,
                       edits_locked={first_test_cell(sources[name]): LOCKED_EDIT})
            for name in sources
        },
    }
    for index, wrong in enumerate(wrong_answers(assignment)):
        submissions[f"wrong-{index}"] = submission(answers=wrong.cells)
    return submissions


@pytest.fixture(scope="session")
def graded_lessons(broker, tmp_path_factory):
    """assignment -> {student -> Graded}: every lesson graded on first use, a few submissions
    per nbgrader run and vhost, several runs at a time (grade_in_vhosts). A lesson that nbgrader
    could not grade fails its own tests with what nbgrader said, and only those."""
    cache = {}

    def graded(assignment: str):
        if not cache:
            try:
                cache.update(grade_in_vhosts(broker, tmp_path_factory, {a: (a, submissions_of(a)) for a in ASSIGNMENTS},
                                             cell_timeout=CELL_TIMEOUT))
            except Exception as exc:  # noqa: BLE001 - grading itself failed: every test fails with it, without grading again
                cache.update(dict.fromkeys(ASSIGNMENTS, exc))
        if isinstance(cache[assignment], Exception):
            raise cache[assignment]
        return cache[assignment]

    return graded


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_courses_own_solutions_score_full_marks(graded_lessons, assignment):
    result = graded_lessons(assignment)["solution"]
    assert result.scores["max"] > 0
    assert result.scores["total"] == result.scores["max"], (result.failed(), result.errors())
    assert result.errors() == []


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_untouched_release_scores_zero_and_finishes(graded_lessons, assignment):
    result = graded_lessons(assignment)["locked-edit"]  # the untouched release once its locked cell is back
    assert result.scores["max"] > 0
    assert result.scores["total"] == 0, result.scores


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_an_edited_locked_test_cell_is_restored_before_grading(graded_lessons, assignment):
    result = graded_lessons(assignment)["locked-edit"]
    for name, source in source_notebooks(assignment).items():
        grade_id = first_test_cell(source)
        restored = next(c for c in result.notebooks[name].cells
                        if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
        original = next(c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
        assert LOCKED_EDIT not in restored.source
        assert restored.source == original.source
        assert result.scores[f"{name}:{grade_id}"] == 0


WRONG = [(assignment, index, wrong) for assignment in ASSIGNMENTS
         for index, wrong in enumerate(wrong_answers(assignment))]


@pytest.mark.slow
@pytest.mark.parametrize(("assignment", "index", "wrong"), WRONG,
                         ids=[f"{a}: {w.name}" for a, _, w in WRONG])
def test_a_plausible_wrong_answer_does_not_score_full_marks(graded_lessons, assignment, index, wrong):
    result = graded_lessons(assignment)[f"wrong-{index}"]
    assert result.scores["total"] < result.scores["max"]
    missed = wrong.fails - result.failed()
    assert not missed, f"these checks should have failed but passed: {sorted(missed)}; errors: {result.errors()}"

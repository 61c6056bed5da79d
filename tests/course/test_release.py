"""notebooks/ is exactly what `workshop release` makes from course/, and gives nothing away."""

import pytest

from grader import course, paths
from tests.course.autograding import MARKERS, read, source_notebooks

ASSIGNMENTS = course.assignments()


def test_every_assignment_is_released():
    released = sorted(p.name for p in paths.NOTEBOOKS.iterdir() if p.is_dir())
    assert released == ASSIGNMENTS


def test_released_notebooks_are_exactly_a_fresh_release_of_the_course():
    differences = course.drift()
    assert differences == [], "notebooks/ drifted from course/; run `workshop release`:\n" + "\n".join(differences)


def _lines(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_notebooks_hold_no_solution_and_no_hidden_test(assignment):
    for name, source in source_notebooks(assignment).items():
        released = read(paths.NOTEBOOKS / assignment / f"{name}.ipynb")
        released_cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in released.cells}
        for cell in source.cells:
            meta = cell.metadata.get("nbgrader", {})
            text = released_cells[meta.get("grade_id", cell.get("id"))].source if meta else None
            if meta.get("solution") and cell.cell_type == "code":
                solution = cell.source.split(MARKERS[0], 1)[1].split(MARKERS[1], 1)[0]
                leaked = _lines(solution) & _lines(text)
                assert not leaked, f"{name}:{meta['grade_id']} gives away {sorted(leaked)}"
                assert "raise NotImplementedError()" in text
            if meta.get("grade") and "### BEGIN HIDDEN TESTS" in cell.source:
                hidden = cell.source.split("### BEGIN HIDDEN TESTS", 1)[1].split("### END HIDDEN TESTS", 1)[0]
                assert "HIDDEN TESTS" not in text
                leaked = _lines(hidden) & _lines(text)
                assert not leaked, f"{name}:{meta['grade_id']} shows hidden tests {sorted(leaked)}"
            if meta.get("grade"):
                assert meta.get("points", 0) > 0, f"{name}:{meta['grade_id']} is graded but worth no points"

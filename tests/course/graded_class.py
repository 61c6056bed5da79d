"""A small class graded once for the feedback and export tests: three submissions of lesson 01,
filled from the released notebook as tests/course/autograding.fill does (correct, partly wrong,
blank), autograded one by one with grader.course.autograde on a vhost made for it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from grader import course, paths
from tests.conftest import make_vhost
from tests.course.autograding import fill, mistake, read, source_notebooks

LESSON = "01-hello-world"
HIDDEN_MARKERS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
CELL_TIMEOUT = 10
# The partly wrong student publishes the wrong body, with a comment that must reach the page escaped.
WRONG_BODY = 'body=b"Hello world"'
HOSTILE = '# </code></pre><script>alert("gotcha")</script> & <b>bold</b>'


@dataclass
class GradedClass:
    root: Path  # the course root: gradebook.db, submitted/, autograded/
    scores: dict[str, dict[str, float]]  # student -> course.autograde's scores


def submissions() -> dict[str, nbformat.NotebookNode]:
    source = source_notebooks(LESSON)[LESSON]
    released = read(paths.NOTEBOOKS / LESSON / f"{LESSON}.ipynb")
    wrong = mistake(LESSON, "publish", 'body=b"Hello World!"', WRONG_BODY)
    wrong["publish"] = f"{HOSTILE}\n{wrong['publish']}"
    return {"ada-lovelace": fill(released, source), "bob": fill(released, source, wrong),
            "cy": fill(released, source, blank=True)}


def hidden_test_lines(assignment: str = LESSON) -> list[str]:
    """Every line of the hidden tests in course/source, as the instructor wrote them."""
    lines, inside = [], False
    for notebook in source_notebooks(assignment).values():
        for cell in notebook.cells:
            for line in cell.source.splitlines():
                if line.strip() in HIDDEN_MARKERS:
                    inside = line.strip() == HIDDEN_MARKERS[0]
                elif inside and line.strip():
                    lines.append(line.strip())
    assert lines, "the lesson should have hidden tests"
    return lines


@pytest.fixture(scope="session")
def graded_class(broker, tmp_path_factory) -> GradedClass:
    root = tmp_path_factory.mktemp("graded-class") / "course"
    made = make_vhost(broker, f"test-graded-class-{uuid.uuid4().hex[:8]}")
    try:
        with pytest.MonkeyPatch.context() as patch:  # the kernels nbgrader starts inherit it
            patch.setenv("RABBITMQ_URL", made.url)
            patch.setenv("RABBITMQ_MANAGEMENT_URL", made.management_url)
            course.copy_course(paths.COURSE, root)
            course.generate(course.nbgrader_api(paths.COURSE, root), LESSON)
            for student, notebook in submissions().items():
                folder = root / "submitted" / student / LESSON
                folder.mkdir(parents=True)
                nbformat.write(notebook, folder / f"{LESSON}.ipynb")
            scores = {student: course.autograde(root, LESSON, student, cell_timeout=CELL_TIMEOUT)
                      for student in submissions()}
    finally:
        made.api.delete_vhost(made.name)
    return GradedClass(root, scores)

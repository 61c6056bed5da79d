"""An independent corpus of student answers, autograded as the instructor would grade them.

tests/course/corpus/<lesson>.py holds, per lesson, answers written from the released notebook only
(exercise text, given code, visible checks), never from the course's solutions: several correct
ones in different styles, which must get full marks, and typical mistakes, which must lose the
test cells they name. All submissions of a lesson are graded in one nbgrader run, in a fresh vhost.

A submission whose grade contradicts the exercise text carries a `finding`; its test is a strict
xfail that names what the course gets wrong.
"""

from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path

import pytest

from grader import paths
from tests.course.autograding import fill, grade_in_vhosts, needs_live_grader, read, source_notebooks
from tests.course.corpus import Submission, released_cells

CORPUS = Path(__file__).parent / "corpus"
LESSONS = sorted(p.stem for p in CORPUS.glob("[0-9][0-9]-*.py"))
if os.environ.get("CORPUS_LESSONS"):  # for working on a few lessons: CORPUS_LESSONS=01-hello-world,04-routing
    LESSONS = [lesson for lesson in LESSONS if lesson in os.environ["CORPUS_LESSONS"].split(",")]
CELL_TIMEOUT = 10  # seconds, as in test_autograde
# a lesson graded twice, to see that grades are stable (with CORPUS_LESSONS, the first of those)
REPEATED = [lesson for lesson in ("01-hello-world",) if lesson in LESSONS] or LESSONS[:1]
TIMEOUT = pytest.mark.timeout(1800)  # the first test waits for the whole corpus to be graded


def corpus(lesson: str) -> list[Submission]:
    spec = importlib.util.spec_from_file_location(f"corpus_{lesson.replace('-', '_')}", CORPUS / f"{lesson}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CORPUS


def student(index: int) -> str:
    return f"corpus-{index:02d}"


def submissions_of(lesson: str) -> dict[str, dict]:
    """student -> notebook name -> the released notebook with that submission's cells filled in."""
    sources = source_notebooks(lesson)
    released = {name: read(paths.NOTEBOOKS / lesson / f"{name}.ipynb") for name in sources}
    submissions = {}
    for index, submission in enumerate(corpus(lesson)):
        submissions[student(index)] = {
            name: fill(released[name], sources[name],
                       answers={k: v for k, v in submission.cells.items()
                                if any(c.metadata.get("nbgrader", {}).get("grade_id") == k
                                       for c in released[name].cells)})
            for name in sources
        }
    return submissions


@pytest.fixture(scope="session")
def graded_corpus(broker, tmp_path_factory):
    """(lesson, run) -> {student -> Graded}: the whole corpus graded on first use, the repeated
    lessons twice ("first" and "second"), side by side in the same batch."""
    cache = {}

    def graded(lesson: str, run: str = "first"):
        if not cache:
            runs = [(name, "first") for name in LESSONS] + [(name, "second") for name in REPEATED]
            assert not any(needs_live_grader(name) for name, _ in runs), "the live lesson needs its grader running"
            started = time.monotonic()
            try:
                graded = grade_in_vhosts(broker, tmp_path_factory,
                                         {f"{name}-{again}": (name, submissions_of(name)) for name, again in runs},
                                         cell_timeout=CELL_TIMEOUT)
                cache.update({(name, again): graded[f"{name}-{again}"] for name, again in runs})
            except Exception as exc:  # noqa: BLE001 - grading itself failed: every test fails with it, without grading again
                cache.update(dict.fromkeys(runs, exc))
            print(f"\ncorpus: {len(runs)} lesson runs graded in {time.monotonic() - started:.0f} s")
        if isinstance(cache[lesson, run], Exception):
            raise cache[lesson, run]
        return cache[lesson, run]

    return graded


def cases():
    for lesson in LESSONS:
        for index, submission in enumerate(corpus(lesson)):
            marks = [pytest.mark.slow, pytest.mark.corpus, TIMEOUT]
            if submission.finding:
                marks.append(pytest.mark.xfail(reason=submission.finding, strict=True))
            verdict = "correct" if submission.correct else "wrong"
            yield pytest.param(lesson, index, submission, marks=marks, id=f"{lesson}: {verdict}: {submission.name}")


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_submission_fills_every_solution_cell(lesson):
    """A corpus answer is the student's own throughout: no cell falls back to the course's solution."""
    solution_cells = set(released_cells(lesson))
    names = [s.name for s in corpus(lesson)]
    assert len(names) == len(set(names)), "submission names should be unique"
    for submission in corpus(lesson):
        assert set(submission.cells) == solution_cells, (submission.name, sorted(solution_cells ^ set(submission.cells)))
        assert submission.correct == (not submission.fails), submission.name


@pytest.mark.parametrize(("lesson", "index", "submission"), list(cases()))
def test_a_corpus_submission_gets_the_grade_its_author_expects(graded_corpus, lesson, index, submission):
    result = graded_corpus(lesson)[student(index)]
    assert result.scores["max"] > 0
    if submission.correct:
        assert result.scores["total"] == result.scores["max"], \
            f"a correct answer lost points in {sorted(result.failed())}; errors: {result.errors()}"
    else:
        assert result.scores["total"] < result.scores["max"], "a wrong answer got full marks"
        missed = submission.fails - result.failed()
        assert not missed, f"these checks should have failed but passed: {sorted(missed)}; errors: {result.errors()}"


@pytest.mark.slow
@pytest.mark.corpus
@TIMEOUT
@pytest.mark.parametrize("lesson", REPEATED)
def test_a_second_run_gives_every_submission_the_same_scores(graded_corpus, lesson):
    first, second = graded_corpus(lesson), graded_corpus(lesson, "second")
    assert {s: g.scores for s, g in first.items()} == {s: g.scores for s, g in second.items()}

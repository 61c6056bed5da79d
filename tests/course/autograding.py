"""Build student submissions from the course and grade them with nbgrader, as an instructor would.

A submission starts from the released notebook (what the student downloads) and fills the
solution cells: with the source's solutions, left blank, or with a plausible wrong answer.
All submissions of one assignment are autograded in one nbgrader run.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import copy
import functools
import importlib.util
import multiprocessing
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from grader import course

WRONG_ANSWERS = Path(__file__).parent / "wrong_answers"

MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


@dataclass(frozen=True)
class WrongAnswer:
    """A plausible mistake: `cells` maps a solution cell's grade_id to what the student wrote
    there instead; `fails` names the test cells that must then lose their points."""

    name: str
    cells: dict[str, str]
    fails: frozenset[str]
    edits_locked: dict[str, str] = field(default_factory=dict)


@dataclass
class Graded:
    scores: dict[str, float]  # "<notebook>:<grade_id>" -> points, plus "total" and "max"
    notebooks: dict[str, nbformat.NotebookNode]  # the autograded notebooks, with outputs

    def failed(self) -> set[str]:
        """grade_ids of test cells that did not get all their points."""
        return {key.split(":", 1)[1] for key, points in self.scores.items()
                if ":" in key and points < self.max_points(key)}

    def max_points(self, key: str) -> float:
        name, grade_id = key.split(":", 1)
        for cell in self.notebooks[name].cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade_id") == grade_id:
                return float(meta.get("points", 0))
        raise KeyError(key)

    def errors(self) -> list[str]:
        """Every error output of every cell, as 'grade_id: ename: evalue'."""
        found = []
        for notebook in self.notebooks.values():
            for cell in notebook.cells:
                for output in cell.get("outputs", []):
                    if output.get("output_type") == "error":
                        cell_id = cell.metadata.get("nbgrader", {}).get("grade_id", cell.get("id"))
                        found.append(f"{cell_id}: {output['ename']}: {output['evalue'][:200]}")
        return found


def source_notebooks(assignment: str, course_dir: Path = course.COURSE) -> dict[str, nbformat.NotebookNode]:
    return {p.stem: read(p) for p in sorted((course_dir / "source" / assignment).glob("*.ipynb"))}


@functools.cache
def _solutions(assignment: str) -> dict[str, str]:
    return {cell.metadata["nbgrader"]["grade_id"]: solution_text(cell.source)
            for notebook in source_notebooks(assignment).values() for cell in notebook.cells
            if cell.metadata.get("nbgrader", {}).get("solution")}


def mistake(assignment: str, grade_id: str, right: str, wrong: str) -> dict[str, str]:
    """The course's own solution of cell `grade_id` with `right` replaced by `wrong`: one mistake
    edited in, the rest of the cell as the student received it. For `WrongAnswer(cells=...)`."""
    solution = _solutions(assignment)[grade_id]
    assert right in solution, f"{right!r} is not in the solution of {assignment}:{grade_id}"
    return {grade_id: solution.replace(right, wrong)}


def _scenarios(assignment: str):
    """tests/course/wrong_answers/<assignment>.py, loaded (None if there is none)."""
    path = WRONG_ANSWERS / f"{assignment}.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location(f"wrong_answers_{assignment.replace('-', '_')}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def wrong_answers(assignment: str) -> list[WrongAnswer]:
    """The plausible mistakes for `assignment`, from tests/course/wrong_answers/<assignment>.py."""
    module = _scenarios(assignment)
    return module.WRONG_ANSWERS if module else []


def needs_live_grader(assignment: str) -> bool:
    """Does the notebook talk to the instructor's live grader (NEEDS_LIVE_GRADER in its scenarios)?"""
    return bool(getattr(_scenarios(assignment), "NEEDS_LIVE_GRADER", False))


@contextlib.contextmanager
def services_for(assignment: str, vhost_url: str, management_url: str, folder: Path):
    """What the notebook needs besides the broker while it runs: the live grader, for some."""
    if not needs_live_grader(assignment):
        yield
        return
    from grader.settings import Settings
    from tests.live.fixtures import live_grader

    settings = Settings(rabbitmq_url=vhost_url, management_url=management_url)
    with live_grader(settings, f"sqlite:///{folder / 'live-scores.sqlite'}"):
        yield


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def solution_text(source: str) -> str:
    """A source solution cell as the student would have written it: the markers removed."""
    return "\n".join(line for line in source.splitlines() if line.strip() not in MARKERS)


def fill(released: nbformat.NotebookNode, source: nbformat.NotebookNode,
         answers: dict[str, str] | None = None, *, blank: bool = False,
         edits_locked: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """The released notebook with its solution cells filled in.

    By default every solution cell gets the source's solution; `answers` overrides some cells by
    grade_id; `blank` leaves every solution cell as released. `edits_locked` overwrites locked
    cells, as a student who edits a test cell would.
    """
    solutions = {cell.metadata["nbgrader"]["grade_id"]: solution_text(cell.source)
                 for cell in source.cells if cell.metadata.get("nbgrader", {}).get("solution")}
    answers = answers or {}
    unknown = set(answers) - set(solutions)
    assert not unknown, f"no solution cells named {sorted(unknown)}"
    submission = copy.deepcopy(released)
    for cell in submission.cells:
        meta = cell.metadata.get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if meta.get("solution") and not blank:
            cell.source = answers.get(grade_id, solutions[grade_id])
        if edits_locked and grade_id in edits_locked:
            cell.source = edits_locked[grade_id]
    return submission


def grade(root: Path, assignment: str, submissions: dict[str, dict[str, nbformat.NotebookNode]],
          course_dir: Path = course.COURSE, *, cell_timeout: int | None = None) -> dict[str, Graded]:
    """Autograde `submissions` (student -> notebook name -> notebook) in one nbgrader run.

    `root` is an empty directory that becomes the course root for this run.
    """
    course.copy_course(course_dir, root)
    api = course.nbgrader_api(course_dir, root)
    course.generate(api, assignment)
    for student, notebooks in submissions.items():
        folder = root / "submitted" / student / assignment
        folder.mkdir(parents=True)
        for name, notebook in notebooks.items():
            nbformat.write(notebook, folder / f"{name}.ipynb")
    graded = {}
    for student in submissions:
        scores = course.autograde(root, assignment, student, course_dir, cell_timeout=cell_timeout)
        folder = root / "autograded" / student / assignment
        notebooks = {p.stem: read(p) for p in sorted(folder.glob("*.ipynb"))}
        graded[student] = Graded(scores, notebooks)
    return graded


GRADING_WORKERS = int(os.environ.get("WORKSHOP_TEST_GRADING_WORKERS") or 5)


def grade_many(jobs: list[tuple[Path, str, dict, dict[str, str]]], *, cell_timeout: int | None = None,
               workers: int = GRADING_WORKERS) -> list[dict[str, Graded] | Exception]:
    """`grade(root, assignment, submissions)` for each job (root, assignment, submissions, env),
    `workers` at a time, each in a fresh process of its own whose environment has `env` (the job's own
    RABBITMQ_URL: two lessons graded side by side must never share a vhost). Results in job order;
    a job that failed (nbgrader gave up on a submission) gives its exception in its place.
    Most of a notebook's time is spent waiting on the broker and on timeouts (the CPUs are idle
    two thirds of the time with two at a time on two CPUs), so five at a time; the jobs with the
    most submissions start first, so that no long one is left running alone at the end."""
    context = multiprocessing.get_context("spawn")  # no fork of a process that runs threads
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                                max_tasks_per_child=1) as pool:  # a fresh process per job
        order = sorted(range(len(jobs)), key=lambda i: -len(jobs[i][2]))
        futures = {i: pool.submit(_grade_with_env, jobs[i][3], jobs[i][0], jobs[i][1], jobs[i][2], cell_timeout)
                   for i in order}
        return [futures[i].exception() or futures[i].result() for i in range(len(jobs))]


CHUNK = 10  # submissions at most per nbgrader run in grade_in_vhosts: no long job left running alone at the end


def grade_in_vhosts(broker, tmp_path_factory, runs: dict[str, tuple[str, dict]], *, cell_timeout: int | None = None,
                    chunk: int = CHUNK) -> dict[str, dict[str, Graded] | Exception]:
    """key -> {student -> Graded} for `runs` (key -> (assignment, {student -> notebooks})): every
    `chunk` submissions of a run graded in one nbgrader run and a fresh vhost of its own (deleted
    afterwards), all of them side by side in grade_many. A run of which a part failed maps to
    that part's exception, and only that run: the others' results stand."""
    from tests.conftest import make_vhost

    parts = []
    for key, (assignment, submissions) in runs.items():
        items = list(submissions.items())
        size = -(-len(items) // -(-len(items) // chunk)) if items else 1  # as even as it gets, at most `chunk`
        parts += [(key, assignment, dict(items[start:start + size])) for start in range(0, len(items), size)]
    vhosts = []
    try:
        for key, _, _ in parts:  # one by one: those made before a failure are deleted below
            vhosts.append(make_vhost(broker, f"test-grading-{key}-{uuid.uuid4().hex[:6]}"))
        jobs = [(tmp_path_factory.mktemp(key) / "course", assignment, submissions,
                 {"RABBITMQ_URL": made.url, "RABBITMQ_MANAGEMENT_URL": made.management_url})
                for (key, assignment, submissions), made in zip(parts, vhosts)]
        results = grade_many(jobs, cell_timeout=cell_timeout)
    finally:
        for made in vhosts:
            made.api.delete_vhost(made.name)
    graded: dict[str, dict[str, Graded] | Exception] = {key: {} for key in runs}
    for (key, _, _), result in zip(parts, results):
        if isinstance(graded[key], Exception):
            continue  # another part of this run failed already
        if isinstance(result, Exception):
            graded[key] = result
        else:
            graded[key].update(result)
    return graded


def _grade_with_env(env: dict[str, str], root: Path, assignment: str, submissions: dict,
                    cell_timeout: int | None) -> dict[str, Graded]:
    os.environ.update(env)
    root.parent.mkdir(parents=True, exist_ok=True)
    with services_for(assignment, env["RABBITMQ_URL"], env["RABBITMQ_MANAGEMENT_URL"], root.parent):
        return grade(root, assignment, submissions, cell_timeout=cell_timeout)

"""A class graded after the workshop: `workshop autograde` beside sequential `nbgrader autograde`.

The class: --students submissions of each of three lessons (01, 03, 04), a mix of full answers,
one plausible mistake (tests/course/wrong_answers) and blank notebooks. The baseline is what the
README did before `workshop autograde`: `nbgrader generate_assignment` then `nbgrader autograde`
for each lesson, one submission after another, on one fresh vhost. Then the same class in a copy
of the course graded by `workshop autograde` with one worker per CPU (and with --workers more, if
given). Each figure is the wall time from nothing in the gradebook to every score in it; the
scores of every run are compared cell by cell with the baseline's.

    RABBITMQ_URL=amqp://guest:guest@localhost:5672/%2F .venv/bin/python -m benchmarks.class_autograde
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from benchmarks.common import fresh_vhost
from grader import paths
from grader.course import batch, record
from tests.course.autograding import fill, read, source_notebooks, wrong_answers

LESSONS = ("01-hello-world", "03-publish-subscribe", "04-routing")


def submission(assignment: str, kind: str) -> nbformat.NotebookNode:
    (name,) = source_notebooks(assignment)
    released = read(paths.NOTEBOOKS / assignment / f"{name}.ipynb")
    source = source_notebooks(assignment)[name]
    if kind == "blank":
        return fill(released, source, blank=True)
    if kind == "mistake":
        return fill(released, source, answers=wrong_answers(assignment)[0].cells)
    return fill(released, source)


def write_course(root: Path, students: int) -> int:
    """The course's config and the three lessons' sources, and the class in submitted/; how many."""
    root.mkdir(parents=True)
    shutil.copy2(paths.COURSE / "nbgrader_config.py", root)
    count = 0
    for assignment in LESSONS:
        shutil.copytree(paths.COURSE / "source" / assignment, root / "source" / assignment)
        for i in range(students):
            kind = ("full", "full", "mistake", "blank")[i % 4]
            folder = root / "submitted" / f"student{i:02d}" / assignment
            folder.mkdir(parents=True)
            nbformat.write(submission(assignment, kind), folder / f"{assignment}.ipynb")
            count += 1
    return count


def scores(db_url: str) -> dict[tuple[str, str, str], float]:
    with record.gradebook(db_url) as book:
        return {(a.name, s.student.id, f"{n.name}:{g.name}"): g.score
                for a in book.assignments for s in a.submissions for n in s.notebooks for g in n.grades}


def sequential(root: Path, url: str, management_url: str) -> float:
    """nbgrader's own commands, as the README ran them; seconds."""
    env = {**os.environ, "RABBITMQ_URL": url, "RABBITMQ_MANAGEMENT_URL": management_url,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    nbgrader = str(Path(sys.executable).parent / "nbgrader")
    started = time.perf_counter()
    for assignment in LESSONS:
        for command in (["generate_assignment", assignment, "--force"], ["autograde", assignment]):
            done = subprocess.run([nbgrader, *command], cwd=root, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"nbgrader {' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - started


def parallel(root: Path, settings, workers: int | None) -> float:
    started = time.perf_counter()
    rows = batch.autograde(settings, root, workers=workers)
    failed = [r for r in rows if r.status != "graded"]
    if failed:
        raise SystemExit(f"workshop autograde failed {len(failed)}: {failed[:3]}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20, help="submissions per lesson (default 20: 60 in all)")
    parser.add_argument("--workers", type=int, nargs="*", default=[],
                        help="also run workshop autograde with these worker counts (default: one per CPU only)")
    args = parser.parse_args()
    cpus = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as tmp, fresh_vhost() as settings:
        base = Path(tmp)
        total = write_course(base / "sequential", args.students)
        print(f"class: {total} submissions of {', '.join(LESSONS)}; {cpus} CPUs", flush=True)
        baseline = sequential(base / "sequential", settings.rabbitmq_url, settings.management_url)
        expected = scores(record.default_url(base / "sequential"))
        print(f"sequential nbgrader autograde:      {baseline:7.1f} s  ({total / baseline * 60:5.1f} per minute)", flush=True)
        for workers in [None, *args.workers]:
            root = base / f"workers-{workers or cpus}"
            write_course(root, args.students)
            seconds = parallel(root, settings, workers)
            same = scores(record.default_url(root)) == expected
            print(f"workshop autograde, {workers or cpus} workers:     {seconds:7.1f} s  ({total / seconds * 60:5.1f} "
                  f"per minute)  speed ratio {baseline / seconds:4.2f}x  scores identical: {'yes' if same else 'NO'}",
                  flush=True)


if __name__ == "__main__":
    main()

"""Every source notebook, solutions and hidden tests included, runs top to bottom in a fresh kernel,
twice in a row (a second run must not trip over what the first one declared)."""

import concurrent.futures
import multiprocessing
import os
import tempfile
import time
import uuid
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from traitlets.config import Config

from grader import course
from grader.course import kernels
from tests.conftest import make_vhost
from tests.course.autograding import GRADING_WORKERS, services_for, source_notebooks

CELL_TIMEOUT = 30


def errors_of(notebook) -> list[str]:
    return [f"{cell.get('id')}: {out['ename']}: {out['evalue'][:300]}"
            for cell in notebook.cells for out in cell.get("outputs", [])
            if out.get("output_type") == "error"]


def run(notebook, cwd, sockets: Path):
    """`notebook` run in `cwd` by a kernel whose sockets are in `sockets` (no port race beside
    the other lessons' kernels: grader/course/kernels.py)."""
    client = NotebookClient(notebook, config=kernels.configure(Config(), sockets), timeout=CELL_TIMEOUT,
                            kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return notebook


def run_twice(assignment: str, env: dict[str, str]) -> tuple[list[str], list[str]]:
    """In a process of its own whose RABBITMQ_URL is the assignment's own vhost: each notebook of
    the assignment run twice; what went wrong (empty: nothing), with the time each run took."""
    os.environ.update(env)
    folder = course.COURSE / "source" / assignment
    problems, times = [], []
    with tempfile.TemporaryDirectory(prefix=f"run-{assignment}-") as tmp, \
            services_for(assignment, env["RABBITMQ_URL"], env["RABBITMQ_MANAGEMENT_URL"], Path(tmp)):
        for name, notebook in source_notebooks(assignment).items():
            for attempt in ("first", "second"):
                started = time.monotonic()
                try:
                    errors = errors_of(run(nbformat.from_dict(notebook), folder, Path(tmp)))
                except Exception as exc:  # noqa: BLE001 - a cell timed out, the kernel died: say where
                    errors = [f"{type(exc).__name__}: {str(exc)[:500]}"]
                times.append(f"{name} {attempt} run: {time.monotonic() - started:.1f} s")
                problems += [f"{name} ({attempt} run): {error}" for error in errors]
    return problems, times


@pytest.fixture(scope="session")
def runs(broker):
    """assignment -> (problems, times): every lesson run on first use, several side by side, each
    in a process and a vhost of its own."""
    results = {}
    assignments = course.assignments()
    vhosts = {a: make_vhost(broker, f"test-run-{a}-{uuid.uuid4().hex[:6]}") for a in assignments}
    context = multiprocessing.get_context("spawn")  # no fork of a process that runs threads
    try:
        with concurrent.futures.ProcessPoolExecutor(max_workers=GRADING_WORKERS, mp_context=context,
                                                    max_tasks_per_child=1) as pool:
            futures = {a: pool.submit(run_twice, a, {"RABBITMQ_URL": vhosts[a].url,
                                                     "RABBITMQ_MANAGEMENT_URL": vhosts[a].management_url})
                       for a in assignments}
            for assignment, future in futures.items():
                try:
                    results[assignment] = future.result()
                except Exception as exc:  # noqa: BLE001 - that lesson's test fails with it
                    results[assignment] = exc
    finally:
        for made in vhosts.values():
            made.api.delete_vhost(made.name)
    return results


@pytest.mark.slow
@pytest.mark.timeout(900)  # the first test waits for every lesson's runs
@pytest.mark.parametrize("assignment", course.assignments())
def test_source_notebook_runs_clean_twice_in_a_row(runs, assignment, capsys):
    if isinstance(runs[assignment], Exception):
        raise runs[assignment]
    problems, times = runs[assignment]
    with capsys.disabled():
        print("".join(f"\n{assignment}/{line}" for line in times), end="")
    assert problems == []

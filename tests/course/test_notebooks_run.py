"""Every source notebook, solutions and hidden tests included, runs top to bottom in a fresh kernel."""

import time

import nbformat
import pytest
from nbclient import NotebookClient

from grader import course
from tests.course.autograding import services_for, source_notebooks

CELL_TIMEOUT = 30


def errors_of(notebook) -> list[str]:
    return [f"{cell.get('id')}: {out['ename']}: {out['evalue'][:300]}"
            for cell in notebook.cells for out in cell.get("outputs", [])
            if out.get("output_type") == "error"]


def run(notebook, cwd):
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return notebook


@pytest.mark.slow
@pytest.mark.parametrize("assignment", course.assignments())
def test_source_notebook_runs_clean_twice_in_a_row(vhost, assignment, capsys, tmp_path):
    """Twice: a second run must not trip over what the first one declared."""
    folder = course.COURSE / "source" / assignment
    with services_for(assignment, vhost.url, vhost.management_url, tmp_path):
        run_twice(assignment, folder, capsys)


def run_twice(assignment, folder, capsys):
    for name, notebook in source_notebooks(assignment).items():
        for attempt in ("first", "second"):
            started = time.monotonic()
            executed = run(nbformat.from_dict(notebook), folder)
            assert errors_of(executed) == [], f"{name} ({attempt} run)"
            with capsys.disabled():
                print(f"\n{assignment}/{name} {attempt} run: {time.monotonic() - started:.1f} s", end="")

"""nbgrader underneath the course: its configuration and API on a temporary copy of `course/`,
generating an assignment, and autograding one submission.

Every operation works on a copy of the course directory, so that nbgrader's gradebook and
release folders never land in the repository.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
import tempfile
from pathlib import Path

from traitlets.config import Config, PyFileConfigLoader

from grader.course import kernels
from grader.errors import CourseError
from grader.paths import COURSE

CONFIG_FILE = "nbgrader_config.py"


def assignments(course_dir: Path = COURSE) -> list[str]:
    """The assignment ids in `course_dir/source`, in course order (their names sort)."""
    source = course_dir / "source"
    return sorted(p.name for p in source.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def load_config(course_dir: Path, root: Path) -> Config:
    """The course's nbgrader_config.py, with the course root moved to `root`."""
    config = PyFileConfigLoader(CONFIG_FILE, path=str(course_dir)).load_config()
    config.CourseDirectory.root = str(root)
    exchange = root / "exchange"  # nbgrader's exchange is not used here, but it must be writable
    exchange.mkdir(parents=True, exist_ok=True)
    config.Exchange.root = str(exchange)
    config.NbGraderAPI.log_level = "WARN"
    return kernels.configure(config, root)  # no TCP port race with kernels and connections beside it


def nbgrader_api(course_dir: Path, root: Path):
    """nbgrader's Python API for a course whose root is `root` (a copy of `course_dir`)."""
    from nbgrader.apps import NbGraderAPI  # slow import: only when grading or releasing

    _put_our_scripts_on_path()
    return NbGraderAPI(config=load_config(course_dir, root))


def _put_our_scripts_on_path() -> None:
    """nbgrader runs the `alembic` command; in an unactivated virtualenv it is not on PATH."""
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")


def copy_course(course_dir: Path, root: Path) -> None:
    """The course's config and sources into `root` (an empty or new directory), with an empty
    gradebook."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy2(_empty_gradebook(), root / "gradebook.db")
    shutil.copy2(course_dir / CONFIG_FILE, root / CONFIG_FILE)
    shutil.copytree(course_dir / "source", root / "source", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))


@functools.cache
def _empty_gradebook() -> Path:
    """An empty nbgrader gradebook, made once per process.

    nbgrader stamps a new gradebook with its schema version by running `alembic heads`, which
    takes several seconds; copying a gradebook made once avoids paying that for every course root.
    """
    from nbgrader.api import Gradebook

    _put_our_scripts_on_path()
    path = Path(tempfile.mkdtemp(prefix="workshop-gradebook-")) / "gradebook.db"
    Gradebook(f"sqlite:///{path}", "rabbitmq-workshop").close()
    return path


def failure_text(result: dict) -> str:
    """What nbgrader said about a failed operation: its log (which names the cell that timed out
    or the kernel that died) and then the traceback (which only says that something failed)."""
    return "\n".join(part for part in (result.get("log"), result.get("error")) if part) or "nbgrader said nothing"


def generate(api, assignment: str) -> None:
    result = api.generate_assignment(assignment)
    if not result["success"]:
        raise CourseError(f"nbgrader could not generate {assignment}:\n{failure_text(result)}")


def autograde(root: Path, assignment: str, student: str, course_dir: Path = COURSE,
              *, cell_timeout: int | None = None) -> dict[str, float]:
    """Autograde `root/submitted/<student>/<assignment>` and return points per graded cell.

    `root` is a course root made with `copy_course` where `generate(...)` already ran.
    The key `"total"` holds the sum and `"max"` the most there was to get. `cell_timeout`
    overrides the course's per-cell timeout (seconds).
    """
    api = nbgrader_api(course_dir, root)
    if cell_timeout is not None:
        api.config.Execute.timeout = cell_timeout
    result = api.autograde(assignment, student)
    if not result["success"]:
        raise CourseError(f"nbgrader could not autograde {assignment} for {student}:\n{failure_text(result)}")
    scores: dict[str, float] = {}
    with api.gradebook as gradebook:
        submission = gradebook.find_submission(assignment, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                scores[f"{notebook.name}:{grade.name}"] = grade.score
        scores["total"] = submission.score
        scores["max"] = submission.max_score
    return scores

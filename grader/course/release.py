"""Releasing the course: the student notebooks of `notebooks/`, made from `course/source/` by
nbgrader's generate_assignment (solutions become stubs, hidden tests disappear, test cells are
locked), and the check that `notebooks/` is exactly what a fresh release gives.
"""

from __future__ import annotations

import filecmp
import shutil
import tempfile
from pathlib import Path

from grader.course.nbgrader import assignments, copy_course, generate, nbgrader_api
from grader.errors import CourseError
from grader.paths import COURSE, NOTEBOOKS


def release(
    course_dir: Path = COURSE, out_dir: Path = NOTEBOOKS, only: list[str] | None = None
) -> list[Path]:
    """Produce the student notebooks of `course_dir` into `out_dir/<assignment>/`.

    Solutions become stubs, hidden tests disappear, and test cells are locked (nbgrader's
    generate_assignment). Returns the released files.
    """
    wanted = only or assignments(course_dir)
    unknown = sorted(set(wanted) - set(assignments(course_dir)))
    if unknown:
        raise CourseError(f"no such assignment in {course_dir / 'source'}: {', '.join(unknown)}")
    written = []
    with tempfile.TemporaryDirectory(prefix="workshop-release-") as tmp:
        root = Path(tmp)
        copy_course(course_dir, root)
        api = nbgrader_api(course_dir, root)
        for assignment in wanted:
            generate(api, assignment)
            target = out_dir / assignment
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(root / "release" / assignment, target)
            written.extend(sorted(p for p in target.rglob("*") if p.is_file()))
    return written


def drift(course_dir: Path = COURSE, out_dir: Path = NOTEBOOKS) -> list[str]:
    """Files that differ between `out_dir` and a fresh release of `course_dir` (empty: no drift)."""
    with tempfile.TemporaryDirectory(prefix="workshop-drift-") as tmp:
        fresh = Path(tmp) / "notebooks"
        release(course_dir, fresh)
        return _differences(filecmp.dircmp(fresh, out_dir), "")


def _differences(cmp: filecmp.dircmp, prefix: str) -> list[str]:
    found = [f"{prefix}{name} (only in a fresh release)" for name in cmp.left_only]
    found += [f"{prefix}{name} (not produced by the release)" for name in cmp.right_only
              if name not in (".ipynb_checkpoints", "__pycache__")]
    found += [f"{prefix}{name} (differs)" for name in cmp.diff_files]
    for name, sub in cmp.subdirs.items():
        found += _differences(sub, f"{prefix}{name}/")
    return found

"""The nbgrader course: release the student notebooks, and grade what students hand in.

`course/` is a normal nbgrader course directory; everything here works on temporary copies of it.

    nbgrader      nbgrader's configuration and API on a copy of the course; one autograde
    release       notebooks/ from course/source, and the check that they agree
"""

from grader.course.nbgrader import (
    CONFIG_FILE,
    assignments,
    autograde,
    copy_course,
    generate,
    load_config,
    nbgrader_api,
)
from grader.course.release import drift, release
from grader.paths import COURSE, NOTEBOOKS

__all__ = ["CONFIG_FILE", "COURSE", "NOTEBOOKS", "assignments", "autograde", "copy_course", "drift", "generate",
           "load_config", "nbgrader_api", "release"]

"""Every reference script explains itself, and says where it takes the broker from."""

import pytest

from grader import paths
from tests.solutions.background import run_script

SCRIPTS = sorted(paths.SOLUTIONS.glob("*/*.py"))


def test_every_lesson_has_scripts():
    assert len({script.parent.name for script in SCRIPTS}) >= 10


@pytest.mark.parametrize("script", SCRIPTS, ids=[f"{s.parent.name}/{s.name}" for s in SCRIPTS])
def test_the_script_explains_itself(script):
    helped = run_script(script, "--help")
    assert helped.returncode == 0, helped.stderr
    assert "RABBITMQ_URL" in helped.stdout

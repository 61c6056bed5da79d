"""Lesson 12 in a workshop room, where the student's account may not administer the broker: the
notebook says so at once, every check says why it cannot pass here, and nothing hangs."""

import dataclasses
import hashlib
import uuid

import pytest
from nbclient import NotebookClient

from grader import paths
from grader.settings import AmqpAddress
from tests.course.autograding import fill, read, source_notebooks

LESSON = "12-administration"


@pytest.fixture
def room_account(vhost):
    """A student's account as `workshop provision` makes it: the management tag, no administrator."""
    user, password = f"student-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    vhost.api.put_user(user, password, tags="management")
    vhost.api.grant(vhost.name, user)
    yield dataclasses.replace(AmqpAddress.parse(vhost.url), user=user, password=password).url()
    vhost.api.delete_user(user)


@pytest.mark.slow
def test_without_the_administrator_tag_the_lesson_says_so_and_finishes(room_account, vhost):
    sources = source_notebooks(LESSON)
    [(name, source)] = sources.items()
    notebook = fill(read(paths.NOTEBOOKS / LESSON / f"{name}.ipynb"), source)  # a student who solved it all
    NotebookClient(notebook, timeout=60, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": "."}}).execute(
        env={"RABBITMQ_URL": room_account, "RABBITMQ_MANAGEMENT_URL": vhost.management_url})
    printed = "".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                      for output in cell.get("outputs", []))
    assert "may not create users or vhosts" in printed and "tags ['management']" in printed, printed[:2000]
    checks = [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade")]
    assert len(checks) == 6
    for cell in checks:
        errors = ["\n".join(o.traceback) for o in cell.outputs if o.output_type == "error"]
        assert errors and "may not administer this broker" in errors[0], (cell.metadata.nbgrader.grade_id, errors)
    student = AmqpAddress.parse(room_account)
    suffix = hashlib.sha256(f"{vhost.name} {student.user}".encode()).hexdigest()[:6]  # as the notebook names them
    assert vhost.api.get(f"users/reader-{suffix}") is None and vhost.api.vhost(f"lesson12-{suffix}") is None

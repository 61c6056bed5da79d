"""The README's run command starts the workshop: JupyterLab serves the course, and stops cleanly."""

import os
import secrets
import signal
import socket
import subprocess

import pytest

from grader import course
from tests.conftest import REPO
from tests.net import free_port, wait_for_http

START_TIMEOUT = 120


def wait_for_contents(url: str, token: str, process: subprocess.Popen):
    headers = {"Authorization": f"token {token}"}
    return wait_for_http(url, timeout=START_TIMEOUT, process=process, headers=headers).json()


@pytest.mark.slow
def test_make_run_serves_the_course_and_the_leaderboard_and_stops_cleanly(vhost, tmp_path):
    port, leaderboard, token = free_port(), free_port(), secrets.token_hex(8)
    workspace = tmp_path / "workspace"
    env = dict(os.environ, JUPYTER_TOKEN=token, JUPYTER_PORT=str(port), LEADERBOARD_PORT=str(leaderboard))
    args = f"ARGS=--workspace {workspace} --store sqlite:///{tmp_path / 'scores.sqlite'}"
    process = subprocess.Popen(["make", "--no-print-directory", "run", args],
                               cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    try:
        listing = wait_for_contents(f"http://127.0.0.1:{port}/api/contents", token, process)
        assert sorted(item["name"] for item in listing["content"]) == course.assignments()
        first = course.assignments()[0]
        inside = wait_for_contents(f"http://127.0.0.1:{port}/api/contents/{first}", token, process)
        assert f"{first}.ipynb" in [item["name"] for item in inside["content"]]
        assert wait_for_contents(f"http://127.0.0.1:{leaderboard}/api/leaderboard", token, process) == []
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)  # what Ctrl+C in the terminal does
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise AssertionError("`make run` did not stop within 30 s of Ctrl+C")
    # make itself dies of the SIGINT it got (-2), as make does; what it ran must have stopped cleanly.
    assert process.returncode in (0, -signal.SIGINT), output
    assert "ok  AMQP" in output
    assert "stopping the workshop" in output
    assert "Shutting down" in output  # JupyterLab's own clean shutdown
    assert "stopping the service" in output  # the live grader's
    assert "Traceback" not in output
    for still in (port, leaderboard):
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", still)) != 0, f"something still listens on {still} after the stop"


def test_the_workspace_keeps_student_work_across_restarts(tmp_path):
    from grader.stack import prepare_workspace

    notebooks = tmp_path / "notebooks"
    (notebooks / "01").mkdir(parents=True)
    (notebooks / "01" / "a.ipynb").write_text("released")
    workspace = tmp_path / "workspace"
    assert prepare_workspace(workspace, notebooks) == [workspace / "01" / "a.ipynb"]
    (workspace / "01" / "a.ipynb").write_text("the student's work")
    assert prepare_workspace(workspace, notebooks) == []
    assert (workspace / "01" / "a.ipynb").read_text() == "the student's work"

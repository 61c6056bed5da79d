"""The README's run command starts the workshop: JupyterLab serves the course, and stops cleanly."""

import contextlib
import os
import re
import secrets
import signal
import socket
import stat
import subprocess
import sys
import time

import pytest

from grader import course, paths
from grader.live.checks import fibonacci
from grader.stack import TOKEN_FILE, jupyter_token
from tests.conftest import REPO
from tests.live.fixtures import Student
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
        assert sorted(item["name"] for item in listing["content"]) == sorted([*course.assignments(), "docs", "solutions"])
        first = course.assignments()[0]
        inside = wait_for_contents(f"http://127.0.0.1:{port}/api/contents/{first}", token, process)
        assert f"{first}.ipynb" in [item["name"] for item in inside["content"]]
        assert wait_for_contents(f"http://127.0.0.1:{leaderboard}/api/leaderboard", token, process) == []
        student = Student(vhost.url)
        try:  # the live notebook run twice: the dealer keeps 3 unsolved tasks in the student's queue
            assert student.register()["total"] == 1
            for _round in range(2):
                for _properties, task in student.tasks(3):
                    assert student.answer(task["n"], fibonacci(task["n"]))["points"] == 1
            assert len(student.tasks(3)) == 3
        finally:
            student.close()
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
    notebooks = sum(".ipynb_checkpoints" not in p.parts for p in paths.NOTEBOOKS.rglob("*.ipynb"))
    assert re.search(rf"workspace .*: {notebooks} notebooks and \d+ other course files copied in", output), output
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
    assert prepare_workspace(workspace, notebooks, references={}) == [workspace / "01" / "a.ipynb"]
    (workspace / "01" / "a.ipynb").write_text("the student's work")
    assert prepare_workspace(workspace, notebooks, references={}) == []
    assert (workspace / "01" / "a.ipynb").read_text() == "the student's work"


def test_the_workspace_holds_what_the_lessons_point_to(tmp_path):
    """Lessons 01 and 10 send students to solutions/ and docs/protocol.md: JupyterLab's root is
    the workspace, so they are copied there."""
    from grader import paths
    from grader.stack import prepare_workspace

    workspace = tmp_path / "workspace"
    prepare_workspace(workspace)
    assert (workspace / "docs" / "protocol.md").read_text() == (paths.DOCS / "protocol.md").read_text()
    assert (workspace / "solutions" / "01-hello-world" / "send.py").is_file()
    assert (workspace / "01-hello-world" / "01-hello-world.ipynb").is_file()
    assert not list(workspace.rglob("__pycache__"))


def workshop(*args, env=None):
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, timeout=60,
                          env=env, cwd=REPO)


@contextlib.contextmanager
def listening():
    """A port something already listens on (another JupyterLab, say)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def nothing_listens(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.parametrize("taken", ["jupyterlab", "leaderboard"])
def test_up_with_a_port_taken_names_its_flag_and_starts_nothing(vhost, tmp_path, taken):
    workspace = tmp_path / "workspace"
    with listening() as busy:
        port, leaderboard = (busy, free_port()) if taken == "jupyterlab" else (free_port(), busy)
        result = workshop("up", "--port", str(port), "--leaderboard-port", str(leaderboard),
                          "--workspace", str(workspace), "--store", f"sqlite:///{tmp_path / 'scores.sqlite'}")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    flag = "--port " if taken == "jupyterlab" else "--leaderboard-port "
    assert line.startswith("error: ") and f"127.0.0.1:{busy}" in line and flag in line
    assert ("--leaderboard-port" in line) == (taken == "leaderboard")
    assert "JupyterLab:" not in result.stdout and "ok  AMQP" not in result.stdout  # checked before anything
    assert not workspace.exists()
    assert vhost.api.queues(vhost.name) == []  # no grader ever declared its queues
    assert nothing_listens(port if taken == "leaderboard" else leaderboard)


def test_up_refuses_one_port_for_both(tmp_path):
    port = free_port()
    result = workshop("up", "--port", str(port), "--leaderboard-port", str(port), "--workspace", str(tmp_path))
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert "cannot both use port" in line and "--port" in line and "--leaderboard-port" in line


def test_a_generated_token_is_kept_in_the_workspace_readable_by_its_owner_only(tmp_path):
    token, path = jupyter_token(tmp_path)
    assert path == tmp_path / TOKEN_FILE and path.read_text().strip() == token and len(token) >= 16
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert jupyter_token(tmp_path) == (token, path)  # the next start: the same token
    path.chmod(0o644)
    assert jupyter_token(tmp_path)[0] == token and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert jupyter_token(tmp_path, "chosen") == ("chosen", None)  # --token or JUPYTER_TOKEN: not kept
    assert path.read_text().strip() == token
    path.write_text("")
    fresh, _ = jupyter_token(tmp_path)
    assert fresh and fresh != token


@pytest.mark.slow
def test_the_address_handed_to_the_room_still_works_after_a_restart(vhost, tmp_path):
    port, workspace = free_port(), tmp_path / "workspace"
    env = {key: value for key, value in os.environ.items() if key != "JUPYTER_TOKEN"}
    command = [sys.executable, "-m", "grader", "up", "--port", str(port), "--leaderboard-port", "0",
               "--workspace", str(workspace)]
    tokens = []
    for _start in range(2):
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, start_new_session=True)
        try:
            token = (workspace / TOKEN_FILE).read_text().strip() if tokens else None
            while token is None:  # the file is written before JupyterLab starts
                assert process.poll() is None, process.stdout.read()
                if (workspace / TOKEN_FILE).exists():
                    token = (workspace / TOKEN_FILE).read_text().strip() or None
                time.sleep(0.1)
            wait_for_contents(f"http://127.0.0.1:{port}/api/contents", token, process)
            tokens.append(token)
        finally:
            os.killpg(process.pid, signal.SIGINT)
            output, _ = process.communicate(timeout=30)
        assert f"token={token}" in output and f"kept in {workspace / TOKEN_FILE}" in output
    assert tokens[0] == tokens[1]

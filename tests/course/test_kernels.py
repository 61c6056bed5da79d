"""Kernels that grade notebooks listen on Unix sockets of their own (grader/course/kernels.py),
so that no TCP port race with kernels and connections beside them can fail a submission."""

import concurrent.futures
import os
import shutil
import stat
import tempfile
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError
from traitlets.config import Config

from grader import course, paths
from grader.course import kernels
from grader.errors import CourseError


@pytest.fixture
def near():
    """A folder whose path is short enough for sockets in it (pytest's own are not, on Linux)."""
    folder = Path(tempfile.mkdtemp(prefix="k-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder)


def manager(near: Path) -> KernelManager:
    return KernelManager(kernel_name="python3", config=kernels.configure(Config(), near))


def run_code(manager: KernelManager, code: str) -> str:
    """Start the kernel, check it listens on Unix sockets only, run `code`, return what it printed,
    shut the kernel down."""
    manager.start_kernel()
    try:
        client = manager.client()
        client.start_channels()
        client.wait_for_ready(timeout=60)
        info = manager.get_connection_info()
        channels = [info[f"{name}_port"] for name in ("shell", "iopub", "stdin", "control", "hb")]
        assert info["transport"] == "ipc"
        assert all(stat.S_ISSOCK(os.stat(f"{info['ip']}-{port}").st_mode) for port in channels), info
        printed = []
        client.execute_interactive(code, timeout=30, output_hook=lambda msg: printed.append(
            msg["content"].get("text", "")) if msg["msg_type"] == "stream" else None)
        client.stop_channels()
        return "".join(printed)
    finally:
        manager.shutdown_kernel(now=True)


def test_a_kernel_runs_code_on_unix_sockets_in_the_runs_folder(near):
    started = manager(near)
    assert run_code(started, "print(6 * 7)") == "42\n"
    folder = near / kernels.SOCKETS
    assert Path(started.ip).parent == folder
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_kernels_started_side_by_side_from_one_folder_each_get_their_own_sockets(near):
    managers = [manager(near) for _ in range(3)]
    assert len({m.ip for m in managers}) == 3
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        printed = list(pool.map(lambda pair: run_code(pair[1], f"print({pair[0]})"), enumerate(managers)))
    assert printed == ["0\n", "1\n", "2\n"]


def test_a_folder_too_deep_for_a_socket_falls_back_to_this_users_folder_in_the_temporary_folder(tmp_path):
    deep = tmp_path.joinpath(*["a-rather-long-folder-name"] * 40)
    started = manager(deep)
    prefix = Path(started.ip)
    assert len(os.fsencode(f"{prefix}-9999")) <= kernels.SUN_PATH
    assert prefix.parent == Path(tempfile.gettempdir()) / f"workshop-kernels-{os.getuid()}"
    assert stat.S_IMODE(prefix.parent.stat().st_mode) == 0o700
    assert not (deep / kernels.SOCKETS).exists()
    assert run_code(started, "print('deep')") == "deep\n"
    assert list(prefix.parent.glob(prefix.name + "-*")) == []  # the kernel's sockets went with it


def test_a_fallback_folder_that_others_may_write_to_is_not_used(tmp_path, monkeypatch):
    shared = tmp_path / "tmp"
    (shared / f"workshop-kernels-{os.getuid()}").mkdir(parents=True, mode=0o777)
    os.chmod(shared / f"workshop-kernels-{os.getuid()}", 0o777)
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(shared))
    deep = tmp_path.joinpath(*["a-rather-long-folder-name"] * 40)
    assert kernels.socket_prefix(deep) is None
    config = kernels.configure(Config(), deep)
    assert "transport" not in config.KernelManager  # TCP, as without this module


def test_nbclient_owns_a_kernel_on_unix_sockets_and_still_times_out_a_cell(near):
    """Given the configuration (not a manager of ours), nbclient makes its own kernel manager:
    it interrupts a cell at its timeout and shuts the kernel down afterwards."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import time\ntime.sleep(60)")])
    client = NotebookClient(notebook, config=kernels.configure(Config(), near), timeout=2, kernel_name="python3",
                            resources={"metadata": {"path": str(near)}})
    with pytest.raises(CellTimeoutError):
        client.execute()
    assert client.km is None or not client.km.has_kernel
    assert list((near / kernels.SOCKETS).iterdir()) == []


def test_nbgrader_runs_its_kernels_on_unix_sockets_in_the_course_root(near):
    config = course.load_config(paths.COURSE, near)
    assert config.KernelManager.transport == "ipc"
    assert Path(config.KernelManager.ip).parent == near / kernels.SOCKETS


def test_a_failed_autograde_says_what_nbgrader_logged_not_only_its_traceback(tmp_path):
    assignment = course.assignments()[0]
    root = tmp_path / "course"
    course.copy_course(paths.COURSE, root)
    course.generate(course.nbgrader_api(paths.COURSE, root), assignment)
    submitted = root / "submitted" / "student" / assignment
    submitted.mkdir(parents=True)
    for released in sorted((paths.NOTEBOOKS / assignment).glob("*.ipynb")):
        (submitted / released.name).write_text('{"cells": [ a damaged file')
    with pytest.raises(CourseError) as failed:
        course.autograde(root, assignment, "student", cell_timeout=5)
    # nbgrader's traceback says only "see the above traceback"; what went wrong is in its log
    assert "NotJSONError" in str(failed.value), str(failed.value)

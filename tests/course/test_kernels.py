"""Kernels that grade notebooks listen on Unix sockets of their own (grader/course/kernels.py),
so that no TCP port race with kernels and connections beside them can fail a submission."""

import concurrent.futures
import os
import shutil
import stat
import tempfile
from pathlib import Path

import pytest
from jupyter_client.blocking.client import BlockingKernelClient

from grader import course, paths
from grader.course import kernels
from grader.errors import CourseError


def run_code(manager, code: str) -> str:
    """Start the kernel, run `code`, return what it printed, shut the kernel down."""
    manager.start_kernel()
    try:
        client: BlockingKernelClient = manager.client()
        client.start_channels()
        client.wait_for_ready(timeout=60)
        printed = []
        client.execute_interactive(code, timeout=30, output_hook=lambda msg: printed.append(
            msg["content"].get("text", "")) if msg["msg_type"] == "stream" else None)
        info = manager.get_connection_info()
        channels = [info[f"{name}_port"] for name in ("shell", "iopub", "stdin", "control", "hb")]
        assert info["transport"] == "ipc"
        assert all(stat.S_ISSOCK(os.stat(f"{info['ip']}-{port}").st_mode) for port in channels), info
        client.stop_channels()
        return "".join(printed)
    finally:
        manager.shutdown_kernel(now=True)


def test_a_kernel_runs_code_on_unix_sockets_in_the_runs_folder(tmp_path):
    manager = kernels.manager(tmp_path)
    assert manager.transport == "ipc"
    assert run_code(manager, "print(6 * 7)") == "42\n"
    folder = tmp_path / kernels.SOCKETS
    assert Path(manager.ip).parent == folder
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_kernels_started_side_by_side_from_one_folder_each_get_their_own_sockets(tmp_path):
    managers = [kernels.manager(tmp_path) for _ in range(3)]
    assert len({m.ip for m in managers}) == 3
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        printed = list(pool.map(lambda pair: run_code(pair[1], f"print({pair[0]})"), enumerate(managers)))
    assert printed == ["0\n", "1\n", "2\n"]


@pytest.mark.parametrize("depth", [1, 40])
def test_a_socket_path_always_fits_a_unix_socket(tmp_path, depth):
    near = tmp_path.joinpath(*["a-rather-long-folder-name"] * depth)
    prefix = kernels.socket_prefix(near)
    assert len(os.fsencode(f"{prefix}-9999")) <= kernels.SUN_PATH
    if depth > 1:  # too deep for a socket: a folder of its own in the temporary folder
        manager = kernels.manager(near)
        try:
            assert Path(prefix).parent.parent == Path(tempfile.gettempdir())
            assert run_code(manager, "print('deep')") == "deep\n"
        finally:
            for folder in {Path(prefix).parent, Path(manager.ip).parent}:
                shutil.rmtree(folder)


def test_nbgrader_runs_its_kernels_on_unix_sockets_in_the_course_root(tmp_path):
    config = course.load_config(paths.COURSE, tmp_path)
    assert config.KernelManager.transport == "ipc"
    assert Path(config.KernelManager.ip).parent == tmp_path / kernels.SOCKETS


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

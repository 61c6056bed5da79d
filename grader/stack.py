"""`workshop up`: the workshop in one command.

Checks the broker, gives the students' notebooks a workspace of their own, then runs JupyterLab
and `workshop serve` (the live grader and the leaderboard) until Ctrl+C (or SIGTERM), and stops
them cleanly.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from grader import doctor, paths
from grader.errors import ManagementUnavailable
from grader.live.store import DEFAULT_STORE
from grader.settings import ENVIRONMENT, Settings

log = logging.getLogger(__name__)
STOP_TIMEOUT = 10


def prepare_workspace(workspace: Path, notebooks: Path = paths.NOTEBOOKS) -> list[Path]:
    """Copy the released notebooks into `workspace`; files already there are the students' work
    and are never overwritten. Returns the files copied."""
    copied = []
    for source in sorted(notebooks.rglob("*")):
        if not source.is_file() or ".ipynb_checkpoints" in source.parts:
            continue
        target = workspace / source.relative_to(notebooks)
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        copied.append(target)
    return copied


def jupyter_command(workspace: Path, *, port: int, ip: str, token: str) -> list[str]:
    as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []  # containers
    return [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        f"--ip={ip}",
        f"--port={port}",
        "--port-retries=0",
        f"--ServerApp.root_dir={workspace}",
        f"--IdentityProvider.token={token}",
        # Students need the notebooks, not nbgrader's instructor pages (which want a course here).
        "--ServerApp.jpserver_extensions=" + repr({"nbgrader.server_extensions.formgrader": False,
                                                   "nbgrader.server_extensions.course_list": False}),
        *as_root,
    ]


def serve_command(settings: Settings, *, port: int, ip: str, store: str) -> list[str]:
    return [sys.executable, "-m", "grader", "serve", "--port", str(port), "--ip", ip, "--store", store,
            "--workshop", settings.workshop]


def up(settings: Settings, *, workspace: Path, port: int = 8888, ip: str = "127.0.0.1",
       token: str | None = None, leaderboard_port: int | None = 8000, store: str = DEFAULT_STORE) -> int:
    """Run the workshop until interrupted; returns the exit status. Without `leaderboard_port`,
    JupyterLab only (the live grader runs elsewhere)."""
    try:
        doctor.check(settings)
    except ManagementUnavailable:
        if not doctor.enable_local_management(settings):
            raise
        doctor.check(settings)
    workspace = workspace.resolve()
    copied = prepare_workspace(workspace)
    log.info("workspace %s: %d notebook files copied, existing work kept", workspace, len(copied))
    token = token or os.environ.get("JUPYTER_TOKEN") or secrets.token_urlsafe(16)

    env = dict(os.environ)
    env[ENVIRONMENT["rabbitmq_url"]] = settings.rabbitmq_url
    env[ENVIRONMENT["management_url"]] = settings.management_url
    host = "localhost" if ip in ("0.0.0.0", "127.0.0.1") else ip
    # Own sessions: Ctrl+C reaches only us, and we stop the children in order.
    children = [subprocess.Popen(jupyter_command(workspace, port=port, ip=ip, token=token), env=env,
                                 start_new_session=True)]
    print(f"JupyterLab:  http://{host}:{port}/lab?token={token}", flush=True)
    if leaderboard_port:
        children.append(subprocess.Popen(serve_command(settings, port=leaderboard_port, ip=ip, store=store), env=env,
                                         start_new_session=True))
        print(f"Leaderboard: http://{host}:{leaderboard_port}/  (live grader on, scores in {store})", flush=True)
    return supervise(children)


def supervise(children: list[subprocess.Popen]) -> int:
    """Wait until a child exits or we are told to stop (Ctrl+C, SIGTERM); then stop every child."""

    def on_sigterm(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        while True:
            for child in children:
                code = child.poll()
                if code is not None:
                    log.error("%s exited with status %s; stopping the workshop", _name(child), code)
                    return code or 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        log.info("stopping the workshop")
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        for child in children:
            stop(child)


def stop(child: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if the child does not exit within STOP_TIMEOUT seconds."""
    if child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        log.warning("%s did not stop within %d s; killing it", _name(child), STOP_TIMEOUT)
        child.kill()
        child.wait()


def _name(child: subprocess.Popen) -> str:
    return " ".join(str(arg) for arg in child.args[1:3])

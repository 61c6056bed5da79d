"""`workshop up`: the workshop in one command.

Checks the broker, gives the students' notebooks a workspace of their own, then runs JupyterLab
and `workshop serve` (the live grader and the leaderboard) until Ctrl+C (or SIGTERM), and stops
them cleanly. With a room (`--room accounts.csv`), the room's JupyterHub (grader/classroom/hub.py)
serves everyone in place of the one JupyterLab.
"""

from __future__ import annotations

import errno
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from grader import doctor, paths
from grader.classroom import hub, provision
from grader.errors import ManagementUnavailable, WorkshopError
from grader.live.store import DEFAULT_STORE
from grader.settings import ENVIRONMENT, Settings

log = logging.getLogger(__name__)
STOP_TIMEOUT = 10
TOKEN_FILE = ".jupyter-token"  # in the workspace: the token that `up` generated, kept for the next start
KEEP_OPEN = 3  # unsolved tasks every student is kept supplied with


def cannot_listen(ip: str, port: int) -> str | None:
    """Why nothing could listen on `ip`:`port` now (in use, not an address of this machine), or None."""
    try:
        addresses = socket.getaddrinfo(ip, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"{ip!r} is not an address of this machine ({exc.strerror})"
    for family, kind, proto, _name, address in addresses:
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do: TIME_WAIT is fine
            try:
                sock.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return "something already listens there"
                return exc.strerror or str(exc)
    return None


def check_ports(ip: str, port: int, leaderboard_port: int | None) -> None:
    """`WorkshopError` naming the flag to change, before anything starts, when a port is taken."""
    if leaderboard_port and leaderboard_port == port:
        raise WorkshopError(f"JupyterLab and the leaderboard cannot both use port {port}: "
                            "choose another with --port or --leaderboard-port")
    wanted = [(port, "JupyterLab", "--port", "JUPYTER_PORT")]
    if leaderboard_port:
        wanted.append((leaderboard_port, "the leaderboard", "--leaderboard-port", "LEADERBOARD_PORT"))
    for number, what, flag, variable in wanted:
        problem = cannot_listen(ip, number)
        if problem is not None:
            raise WorkshopError(f"{what} cannot listen on {ip}:{number} ({problem}; is the workshop already "
                                f"running?): choose another port with {flag} (env {variable}) or stop what uses it")


def jupyter_token(workspace: Path, given: str | None = None) -> tuple[str, Path | None]:
    """The JupyterLab token and the file it is kept in: `given` (flag or JUPYTER_TOKEN) is not
    kept; otherwise the one in `workspace/.jupyter-token`, made (mode 0600) on the first start,
    so that the address handed to the room still works after a restart."""
    if given:
        return given, None
    path = workspace / TOKEN_FILE
    try:
        kept = path.read_text().strip()
    except FileNotFoundError:
        kept = ""
    if kept:
        path.chmod(0o600)
        return kept, path
    token = secrets.token_urlsafe(16)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
        file.write(token + "\n")
    path.chmod(0o600)  # also when the file was there, empty, with looser permissions
    return token, path


def prepare_workspace(workspace: Path, notebooks: Path = paths.NOTEBOOKS, *,
                      references: dict[str, Path] = paths.REFERENCES) -> list[Path]:
    """Copy the released notebooks into `workspace`, and what the lessons point to (the reference
    scripts into `solutions/`, the classroom protocol into `docs/`), so that JupyterLab, whose
    root is the workspace, can open them. Files already there are the students' work and are
    never overwritten. Returns the files copied."""
    copied = _copy_new(notebooks, workspace)
    for name, source in references.items():
        copied += _copy_new(source, workspace / name)
    return copied


def _copy_new(source: Path, target_dir: Path) -> list[Path]:
    """Copy `source` (a file, or a folder's files) into `target_dir`, skipping what exists."""
    files = [source] if source.is_file() else sorted(source.rglob("*"))
    copied = []
    for path in files:
        if not path.is_file() or ".ipynb_checkpoints" in path.parts or "__pycache__" in path.parts:
            continue
        target = target_dir / (path.name if source.is_file() else path.relative_to(source))
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
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


def serve_command(settings: Settings, *, port: int, ip: str, store: str, keep_open: int = KEEP_OPEN,
                  accounts: Path | None = None) -> list[str]:
    room = ["--accounts", str(accounts)] if accounts else []  # identities from the broker's user_id
    return [sys.executable, "-m", "grader", "serve", "--port", str(port), "--ip", ip, "--store", store,
            "--workshop", settings.workshop, "--keep-open", str(keep_open), *room]


def up(settings: Settings, *, workspace: Path, port: int = 8888, ip: str = "127.0.0.1",
       token: str | None = None, leaderboard_port: int | None = 8000, store: str = DEFAULT_STORE,
       keep_open: int = KEEP_OPEN, room: Path | None = None, spawner: str = "local") -> int:
    """Run the workshop until interrupted; returns the exit status. Without `leaderboard_port`,
    JupyterLab only (the live grader runs elsewhere). `keep_open`: unsolved tasks the live
    service keeps every student supplied with (0: only those dealt when they register). `room`:
    an accounts.csv of `workshop provision`; then JupyterHub serves `port` instead of JupyterLab, its
    servers local processes or (`spawner="docker"`) a container each."""
    check_ports(ip, port, leaderboard_port)
    try:
        doctor.check(settings)
    except ManagementUnavailable as exc:  # the plugin may be off: turn it on, on this machine
        if isinstance(exc, doctor.NotTheManagementApi) or not doctor.enable_local_management(settings):
            raise
        doctor.check(settings)
    env = dict(os.environ)
    env[ENVIRONMENT["rabbitmq_url"]] = settings.rabbitmq_url
    env[ENVIRONMENT["management_url"]] = settings.management_url
    host = "localhost" if ip in ("0.0.0.0", "127.0.0.1") else ip
    if room is not None:
        children = [_start_room(settings, room, ip=ip, port=port, env=env, store=store, spawner=spawner)]
    else:
        workspace = workspace.resolve()
        copied = prepare_workspace(workspace)
        notebooks = sum(path.suffix == ".ipynb" for path in copied)
        if copied:
            log.info("workspace %s: %d notebooks and %d other course files copied in; work already there is kept",
                     workspace, notebooks, len(copied) - notebooks)
        else:
            log.info("workspace %s: the course's files are all there already; students' work is kept", workspace)
        token, kept_in = jupyter_token(workspace, token or os.environ.get("JUPYTER_TOKEN"))
        # Own sessions: Ctrl+C reaches only us, and we stop the children in order.
        children = [subprocess.Popen(jupyter_command(workspace, port=port, ip=ip, token=token), env=env,
                                     start_new_session=True)]
        print(f"JupyterLab:  http://{host}:{port}/lab?token={token}", flush=True)
        if kept_in is not None:
            print(f"             the token is kept in {kept_in} for the next start (delete it for a new one)",
                  flush=True)
    if leaderboard_port:
        command = serve_command(settings, port=leaderboard_port, ip=ip, store=store, keep_open=keep_open,
                                accounts=room)
        # In a room the score store is the instructor's alone (umask: a new SQLite file is 0600).
        children.append(subprocess.Popen(command, env=env, start_new_session=True,
                                         umask=-1 if room is None else 0o077))
        supply = f"{keep_open} open tasks per student" if keep_open else "3 tasks per student on registering"
        print(f"Leaderboard: http://{host}:{leaderboard_port}/  (live grader on, {supply}, scores in {store})",
              flush=True)
        if env.get("WORKSHOP_INSTRUCTOR_TOKEN"):
            print(f"Instructor:  http://{host}:{leaderboard_port}/admin?token={env['WORKSHOP_INSTRUCTOR_TOKEN']}  "
                  "(and /progress?token=...: keep these to yourself)", flush=True)
    return supervise(children)


def _start_room(settings: Settings, accounts_csv: Path, *, ip: str, port: int, env: dict[str, str],
                store: str, spawner: str) -> subprocess.Popen:
    """The room's JupyterHub on `ip`:`port`, for the accounts of `accounts_csv` (its folder holds the room)."""
    room_dir = accounts_csv if accounts_csv.is_dir() else accounts_csv.parent
    room = hub.prepare(settings, provision.read_accounts(accounts_csv), room_dir=room_dir, ip=ip, port=port,
                       spawner=spawner)
    hub.private_store(store)
    env.setdefault("WORKSHOP_JOIN_URL", room.url)  # the leaderboard shows students where to log in
    students = sum(account.role == "student" for account in room.accounts)
    env.setdefault("WORKSHOP_CLASS_SIZE", str(students))  # ... in large until the whole class is there
    safety = ("a container each" if room.spawner == "docker" else "a system user each" if room.isolated
              else "NOT isolated from each other: run as root for that")
    print(f"Room:        {room.url}  (JupyterHub: {students} students log in with their cards; {safety})",
          flush=True)
    return hub.start(room, env)


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

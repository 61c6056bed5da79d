"""Where the kernels that grade notebooks listen: Unix sockets in a folder of the run's own.

By default a Jupyter kernel listens on five TCP ports that its manager picks by binding port 0
and closing it again; the kernel binds them a second later. Anything that takes a port from the
same ephemeral range meanwhile (another kernel starting beside it, or any outgoing connection:
the notebooks open many to the broker) makes the kernel die with "Address already in use", and
nbgrader then gives up on the whole submission. Grading runs several kernels side by side, so
that race is lost now and then. Unix sockets in a folder that only this run uses share no
namespace with anything: nothing else can take them.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
import uuid
from pathlib import Path

from traitlets.config import Config

SOCKETS = ".kernels"
SUN_PATH = 107 if sys.platform.startswith("linux") else 103  # bytes in a Unix socket's path, NUL not counted
LONGEST_NAME = len("kernel-0123456789ab-9999")  # a socket: <prefix>-<n>, n counting from 1


def socket_prefix(near: Path) -> str | None:
    """A new path prefix for kernels' sockets: in `near`/.kernels, or, when that path would be
    too long for a Unix socket, in this user's own folder in the system's temporary folder; None
    if even that is too long. Either folder is private to this user. Kernels started one after the
    other from one prefix take the next free numbers; a kernel started while another from the same
    prefix runs would take over its sockets, so every call gives a prefix of its own."""
    for folder in (Path(near).absolute() / SOCKETS, Path(tempfile.gettempdir()) / f"workshop-kernels-{os.getuid()}"):
        if len(os.fsencode(folder)) + 1 + LONGEST_NAME <= SUN_PATH and _private(folder):
            return str(folder / f"kernel-{uuid.uuid4().hex[:12]}")
    return None


def _private(folder: Path) -> bool:
    """Make `folder` (mode 700) or accept it if it is already ours and nobody else's."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        found = folder.lstat()
    except OSError:
        return False
    return stat.S_ISDIR(found.st_mode) and found.st_uid == os.getuid() and found.st_mode & 0o077 == 0  # no link


def configure(config: Config, near: Path) -> Config:
    """`config` with every KernelManager made from it on Unix sockets near `near` (on TCP, as
    before, where no socket path is short enough). Give each run a config of its own: two kernels
    must not start at once from one prefix."""
    prefix = socket_prefix(near)
    if prefix is not None:
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = prefix
    return config

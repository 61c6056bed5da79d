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
import tempfile
import uuid
from pathlib import Path

from traitlets.config import Config

SOCKETS = ".kernels"
SUN_PATH = 107  # bytes in a Unix socket's path on Linux, the terminating NUL not counted
LONGEST_NAME = len("kernel-0123456789ab-9999")  # a socket: <prefix>-<n>, n counting from 1


def socket_prefix(near: Path) -> str:
    """A new path prefix for kernels' sockets, in `near`/.kernels (private to this user), or in
    a new folder under the system's temporary folder when that path would be too long for a Unix
    socket. Kernels started one after the other from one prefix take the next free numbers; two
    prefixes never share a socket, so kernels started side by side each get their own."""
    folder = Path(near).absolute() / SOCKETS
    if len(os.fsencode(folder)) + 1 + LONGEST_NAME > SUN_PATH:
        folder = Path(tempfile.mkdtemp(prefix="workshop-kernels-"))
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return str(folder / f"kernel-{uuid.uuid4().hex[:12]}")


def configure(config: Config, near: Path) -> Config:
    """`config` with every KernelManager made from it on Unix sockets near `near`."""
    config.KernelManager.transport = "ipc"
    config.KernelManager.ip = socket_prefix(near)
    return config


def manager(near: Path, kernel_name: str = "python3"):
    """A KernelManager for a kernel on Unix sockets near `near` (for nbclient's `km=`)."""
    from jupyter_client.manager import KernelManager

    return KernelManager(kernel_name=kernel_name, config=configure(Config(), near))

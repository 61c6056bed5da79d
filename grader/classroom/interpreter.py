"""The Python the students' servers run, which their system users must be able to execute.

Ours (the virtualenv's) is the first choice. When it lives where other users cannot go (a
Python under /root, as pyenv installs it for root), the room makes a small view of the
virtualenv for them: `<room>/python/bin/python` is a system Python of the same version
(Debian's /usr/bin/python3.11, say), and its `lib/.../site-packages`, `etc` and `share` are our
virtualenv's, so the same packages, Jupyter extensions and the course load under another binary.
Without such a Python the room says how to make a virtualenv they can use.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import sys
import sysconfig
from pathlib import Path

from grader.errors import WorkshopError

log = logging.getLogger(__name__)


def closed_on_the_way(path: Path) -> Path | None:
    """The first folder on the way to `path` (symbolic links followed) that other users cannot
    enter, or `path` itself if they cannot read it; None when they can."""
    path = path.resolve()
    for folder in reversed(path.parents):
        if not folder.stat().st_mode & stat.S_IXOTH:
            return folder
    return None if path.stat().st_mode & stat.S_IROTH else path


def for_students(room_root: Path, *, executable: str = sys.executable) -> str:
    """The interpreter the students' servers start with (see the module's docstring)."""
    if closed_on_the_way(Path(executable)) is None:
        return executable
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [f"/usr/bin/python{version}", f"/usr/local/bin/python{version}",
                  shutil.which(f"python{version}", path=os.defpath)]
    usable = next((c for c in candidates if c and os.access(c, os.X_OK) and closed_on_the_way(Path(c)) is None), None)
    if usable is None:
        raise WorkshopError(
            f"the students' system users cannot run {executable} ({closed_on_the_way(Path(executable))} is closed "
            f"to other users) and there is no system Python {version} they could run instead: make the "
            f"virtualenv with a Python everyone can run, e.g. `make clean && make PYTHON=/usr/bin/python3 run`")
    view = room_root / "python"
    site = Path(sysconfig.get_paths()["purelib"])
    (view / "bin").mkdir(parents=True, exist_ok=True)
    (view / "lib" / f"python{version}").mkdir(parents=True, exist_ok=True)
    _link(view / "bin" / "python", Path(usable))
    _link(view / "lib" / f"python{version}" / "site-packages", site)
    for shared in ("etc", "share"):  # Jupyter's configuration (server extensions on) and its data (JupyterLab)
        _link(view / shared, Path(sys.prefix) / shared)
    (view / "pyvenv.cfg").write_text(f"home = {Path(usable).parent}\ninclude-system-site-packages = false\n"
                                     f"version = {version}\n", encoding="utf-8")
    for path in (view, view / "bin", view / "lib", view / "lib" / f"python{version}", view / "pyvenv.cfg"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    log.warning("the students cannot run %s: their servers run %s (%s) with this virtualenv's packages",
                executable, view / "bin" / "python", usable)
    closed = closed_on_the_way(site)
    if closed is not None:
        raise WorkshopError(f"the students' system users cannot read the virtualenv's packages ({closed} is "
                            "closed to other users): make it elsewhere, e.g. "
                            "`make clean && make PYTHON=/usr/bin/python3 run`")
    return str(view / "bin" / "python")


def _link(link: Path, target: Path) -> None:
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target)

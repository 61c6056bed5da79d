"""The hand-ins of a room with a container per student, gathered for the instructor.

Each student's container has an inbound folder of its own (a Docker volume, containers.py):
nbgrader's Submit writes `<student>+<assignment>+<time>+<random>` there, and no other student's
container mounts it. The instructor's container mounts every student's volume read-only, one
folder each (`<handins>/<user>`), so the volume says who handed in, whatever student id the
submission's name claims. `gather` copies each student's hand-ins into the instructor's own
inbound folder, where `nbgrader collect`, formgrader and `workshop collect` find them as in any
exchange; a hand-in named after another student is left out, with a line saying so, and so is
one that holds anything but plain files and folders (a symbolic link would make the instructor's
collect copy a file of the instructor's container, the solutions say, as the student's work; a
named pipe would hang it), or a file over MAX_BYTES, or more than MAX_TOTAL bytes or MAX_FILES
files in all. One hand-in that cannot be read is left out; the others are gathered.
`GatheringCollect` is nbgrader's collect with that step first (the instructor's
nbgrader_config.py names it, see exchange.py).
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.exchange.default.collect import ExchangeCollect
from nbgrader.utils import parse_utc
from traitlets import Unicode

from grader.course.identify import exchange_record
from grader.course.unzip import MAX_BYTES

log = logging.getLogger(__name__)


@dataclass
class Gathered:
    copied: list[Path] = field(default_factory=list)  # new in inbound/
    refused: list[str] = field(default_factory=list)  # a line for each hand-in left out, and why


MAX_TOTAL = 100 * 2**20  # bytes of one hand-in in all (nbgrader's own max_dir_size)
MAX_FILES = 1000  # files and folders of one hand-in


class NotPlain(Exception):
    """A hand-in holds what is not a plain file or folder, or too much; `str()` says what."""


def gather(handins: Path, inbound: Path) -> Gathered:
    """Every hand-in of `handins/<user>/` named after `<user>` into `inbound` (those already
    there are kept as they are). The student's container may change its folder while this copies:
    nothing is followed (each file and folder is opened without following links, and checked once
    open), the copy goes to a private folder first and into `inbound` only once it is whole."""
    done = Gathered()
    inbound.mkdir(parents=True, exist_ok=True)
    for own in sorted(path for path in handins.iterdir() if path.is_dir() and not path.is_symlink()):
        for handed in sorted(own.iterdir()):
            try:
                line = _gather_one(own.name, handed, inbound)
            except (OSError, RecursionError, ValueError) as exc:  # whatever a student made of it
                line = f"cannot be read ({exc.__class__.__name__}: {exc})"
            if line == "copied":
                done.copied.append(inbound / handed.name)
            elif line:
                done.refused.append(f"{own.name}/{handed.name}: {line}; left out")
    return done


def _gather_one(user: str, handed: Path, inbound: Path) -> str | None:
    """"copied", None (there already), or why the hand-in is left out."""
    record = exchange_record(handed.name)
    if record is None or not _nbgrader_time(record[2]):
        return "not a submission of nbgrader's exchange"
    if record[0] != user:
        return f"handed in by {user} in the name of {record[0]!r}"
    if (inbound / handed.name).exists():
        return None
    staging = Path(tempfile.mkdtemp(prefix=".gathering-", dir=inbound))
    try:
        try:
            _copy(handed, staging / "copy", budget=[MAX_TOTAL, MAX_FILES])
        except NotPlain as exc:
            return str(exc)
        (staging / "copy").rename(inbound / handed.name)
        return "copied"
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _nbgrader_time(text: str) -> bool:
    try:
        parse_utc(text)
    except (ValueError, OverflowError, TypeError):
        return False
    return True


def _copy(source: Path, target: Path, *, budget: list[int], where: str = "") -> None:
    """Copy the folder `source` into the new folder `target`, plain files and folders only."""
    fd = os.open(source, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        _copy_folder(fd, target, budget, where)
    finally:
        os.close(fd)


def _copy_folder(fd: int, target: Path, budget: list[int], where: str) -> None:
    target.mkdir(mode=0o700)
    for name in sorted(os.listdir(fd)):
        shown = f"{where}{name}"
        budget[1] -= 1
        if budget[1] < 0:
            raise NotPlain(f"it holds more than {MAX_FILES} files")
        try:
            child = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fd)
        except OSError as exc:  # ELOOP: a symbolic link; ENXIO and the like: a socket, a device
            raise NotPlain(f"{shown} is not a plain file ({exc.strerror})") from None
        try:
            mode = os.fstat(child)
            if stat.S_ISDIR(mode.st_mode):
                _copy_folder(child, target / name, budget, f"{shown}/")
            elif not stat.S_ISREG(mode.st_mode):
                raise NotPlain(f"{shown} is not a plain file")
            else:
                _copy_file(child, target / name, budget, shown)
        finally:
            os.close(child)


def _copy_file(fd: int, target: Path, budget: list[int], shown: str) -> None:
    with open(target, "xb") as out:
        copied = 0
        while chunk := os.read(fd, 1 << 20):
            copied += len(chunk)
            budget[0] -= len(chunk)
            if copied > MAX_BYTES:
                raise NotPlain(f"{shown} is larger than {MAX_BYTES // 2**20} MB")
            if budget[0] < 0:
                raise NotPlain(f"it is larger than {MAX_TOTAL // 2**20} MB in all")
            out.write(chunk)


class GatheringCollect(ExchangeCollect):
    handins = Unicode(help="the folder of every student's own inbound, one folder per user").tag(config=True)

    def init_src(self):
        if self.handins and self.coursedir.course_id:
            done = gather(Path(self.handins), Path(self.root) / self.coursedir.course_id / "inbound")
            for line in done.refused:
                self.log.warning(line)
            self.log.info("gathered %d new hand-ins from %s", len(done.copied), self.handins)
        super().init_src()


def main() -> None:
    """`python -m grader.classroom.handins [COURSE_ID]` in the instructor's container: gather
    alone, before `workshop collect /srv/nbgrader/exchange`."""
    import sys

    from grader.classroom.boot import LAYOUT

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    inbound = LAYOUT.exchange / (sys.argv[1] if len(sys.argv) > 1 else LAYOUT.course_id()) / "inbound"
    done = gather(LAYOUT.handins, inbound)
    for line in done.refused:
        log.warning(line)
    log.info("gathered %d new hand-ins into %s", len(done.copied), inbound)


if __name__ == "__main__":
    main()

"""A zip of hand-ins, unpacked without trusting it: every member lands inside the folder given,
as a regular file of bounded size; members with absolute paths, `..`, symbolic links, devices or
encryption are refused, one line each."""

from __future__ import annotations

import os
import re
import stat
import time
import zipfile
from pathlib import Path

MAX_BYTES = 64 * 2**20  # per file; a notebook with its outputs is rarely over a few MB
MAX_ZIP_BYTES = 1024 * 2**20


def unzip(archive_path: Path, into: Path, problems: list[str]) -> None:
    """The zip's regular files into `into`; members that would land elsewhere, links and the
    like are refused, each with its line."""
    total = 0
    with zipfile.ZipFile(archive_path) as archive:
        for info in archive.infolist():
            shown = f"{archive_path.name}:{info.filename}"
            parts = [p for p in info.filename.replace("\\", "/").split("/") if p not in ("", ".")]
            kind = stat.S_IFMT(info.external_attr >> 16)
            if info.filename.replace("\\", "/").startswith("/") or re.match(r"[A-Za-z]:", info.filename):
                problems.append(f"{shown}: an absolute path in the zip; skipped")
            elif ".." in parts:
                problems.append(f"{shown}: a path that leaves the zip's folder (..); skipped")
            elif kind == stat.S_IFLNK:
                problems.append(f"{shown}: a symbolic link in the zip; not followed")
            elif info.is_dir() or not parts:
                continue
            elif kind not in (0, stat.S_IFREG):
                problems.append(f"{shown}: not a regular file; skipped")
            elif info.flag_bits & 0x1:
                problems.append(f"{shown}: encrypted; skipped")
            elif info.file_size > MAX_BYTES:
                problems.append(f"{shown}: too large ({info.file_size // 2**20} MB unpacked); skipped")
            elif total > MAX_ZIP_BYTES:
                problems.append(f"{shown}: the zip unpacks to more than {MAX_ZIP_BYTES // 2**20} MB; skipped")
            else:
                total += _extract(archive, info, into.joinpath(*parts), shown, problems)


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, shown: str, problems: list[str]) -> int:
    """One member into `target` (never more than MAX_BYTES, whatever its header says); bytes written."""
    if target.exists():
        problems.append(f"{shown}: appears twice in the zip; kept the first")
        return 0
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(info) as member:
            data = member.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            problems.append(f"{shown}: larger than {MAX_BYTES // 2**20} MB unpacked; skipped")
            return len(data)
        target.write_bytes(data)
    except (OSError, zipfile.BadZipFile, EOFError, RuntimeError) as exc:  # RuntimeError: encrypted, bad CRC
        problems.append(f"{shown}: cannot be unpacked ({exc}); skipped")
        return 0
    when = time.mktime(info.date_time + (0, 0, -1))
    os.utime(target, (when, when))
    return len(data)

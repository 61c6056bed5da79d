"""The students' system users, as The Littlest JupyterHub makes them: one each, home 0700.

A broker user name (lowercase ASCII, `[a-z0-9-]`, up to 48 characters) becomes a system user
name that is valid (at most 32 characters) and can never be someone else's: `ws-<user>` when it
fits, else `ws-<start of user>_<hash>`. Only the hashed form has an underscore (broker names have
none), so the two forms never meet. The room marks its users in their comment field and refuses
to run a student's server as a system user of that name it did not make.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pwd
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from grader.errors import WorkshopError

log = logging.getLogger(__name__)
PREFIX = "ws-"
MAX_LENGTH = 32  # useradd's limit
DIGEST = 10  # hex digits of sha256: 40 bits
MARK = "rabbitmq-workshop room"  # in the comment (GECOS) field of every user the room makes
SHELL = "/bin/bash"
REMOVE_ATTEMPTS = 20


class SystemUserError(WorkshopError):
    """A student's system user cannot be made or used; `str()` says what to do."""


@dataclass(frozen=True)
class SystemUser:
    name: str
    uid: int
    gid: int
    home: Path

    @classmethod
    def of(cls, entry: pwd.struct_passwd) -> SystemUser:
        return cls(entry.pw_name, entry.pw_uid, entry.pw_gid, Path(entry.pw_dir))

    @classmethod
    def me(cls) -> SystemUser:
        return cls.of(pwd.getpwuid(os.geteuid()))


def system_name(user: str) -> str:
    """The system user name of broker user `user`: valid, and distinct for distinct users."""
    if re.fullmatch(r"[a-z0-9][a-z0-9-]*", user) and len(PREFIX) + len(user) <= MAX_LENGTH:
        return PREFIX + user
    digest = hashlib.sha256(user.encode("utf-8")).hexdigest()[:DIGEST]
    start = re.sub(r"[^a-z0-9-]", "-", user.lower())[: MAX_LENGTH - len(PREFIX) - 1 - DIGEST]
    return f"{PREFIX}{start}_{digest}"


def ensure(user: str, home_base: Path) -> SystemUser:
    """The system user of broker user `user`, made (with a private home under `home_base`) if
    it does not exist yet. Needs root."""
    name = system_name(user)
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        home = home_base / name
        command = ["useradd", "--create-home", "--home-dir", str(home), "--shell", SHELL, "--user-group",
                   "--no-log-init", "--comment", f"{MARK} ({user})", name]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemUserError(f"could not make the system user {name} for {user!r}: "
                                  f"{done.stderr.strip() or done.returncode} (the room needs root for this)") from None
        entry = pwd.getpwnam(name)
        log.info("made system user %s (uid %d) for %s, home %s", name, entry.pw_uid, user, home)
    if MARK not in entry.pw_gecos:
        raise SystemUserError(f"a system user {name} exists that the room did not make: remove it, or rename "
                              f"{user!r} on the roster and provision again")
    made = SystemUser.of(entry)
    made.home.mkdir(parents=True, exist_ok=True)
    os.chown(made.home, made.uid, made.gid)
    made.home.chmod(0o700)
    return made


def remove(user: str) -> bool:
    """Remove the system user of `user` and its home, if the room made it; True if it did."""
    name = system_name(user)
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return False
    if MARK not in entry.pw_gecos:
        return False
    for attempt in range(1, REMOVE_ATTEMPTS + 1):
        done = subprocess.run(["userdel", "--remove", name], capture_output=True, text=True)
        if done.returncode != 8:  # 8: a process of theirs still runs (a server that is stopping)
            break
        log.info("system user %s still has processes; removing it again (attempt %d/%d)",
                 name, attempt, REMOVE_ATTEMPTS)
        time.sleep(0.5)
    if done.returncode not in (0, 12):  # 12: the home could not be removed (it was elsewhere)
        raise SystemUserError(f"could not remove the system user {name}: {done.stderr.strip()}; "
                              "stop their server first")
    shutil.rmtree(entry.pw_dir, ignore_errors=True)
    return True


def give(paths: list[Path], owner: SystemUser) -> None:
    """Hand `paths` (made by the hub as root) to `owner`."""
    if os.geteuid() != 0:
        return
    for path in paths:
        os.chown(path, owner.uid, owner.gid, follow_symlinks=False)

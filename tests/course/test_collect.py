"""`workshop collect`: hand-ins from nbgrader's exchange, folders, named files and zips land in
submitted/<student>/<assignment>/<notebook>.ipynb; everything else gets one line saying why."""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from grader import paths
from grader.course.collect import collect

HELLO, WORK = "01-hello-world", "02-work-queues"


def notebook(marker: str) -> bytes:
    """A small notebook whose one cell says who handed it in."""
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"# {marker}")])
    return nbformat.writes(book).encode()


def marker_of(path: Path) -> str:
    return "".join(json.loads(path.read_text())["cells"][0]["source"])


@pytest.fixture
def course_dir(tmp_path) -> Path:
    """A course with the real config and two single-notebook assignments."""
    root = tmp_path / "course"
    (root / "source").mkdir(parents=True)
    shutil.copy(paths.COURSE / "nbgrader_config.py", root)
    for name in (HELLO, WORK):
        (root / "source" / name).mkdir()
        (root / "source" / name / f"{name}.ipynb").write_bytes(notebook("source"))
    return root


def put(path: Path, data: bytes, mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def placed(course: Path) -> dict[str, str]:
    """'student/assignment/notebook' -> the marker of what landed there."""
    submitted = course / "submitted"
    return {p.relative_to(submitted).as_posix(): marker_of(p) for p in sorted(submitted.rglob("*.ipynb"))
            if p.read_bytes().startswith(b"{\n")}  # what nbformat wrote, not a student's broken file


def test_from_the_exchange_each_students_newest_submission_wins_with_its_timestamp(tmp_path, course_dir):
    inbound = tmp_path / "exchange" / "rabbitmq-workshop" / "inbound"
    older, newer = "2026-12-01 09:00:00.000000 UTC", "2026-12-01 10:30:00.000000 UTC"
    put(inbound / f"ada+{HELLO}+{newer}+f00d" / f"{HELLO}.ipynb", notebook("ada newer"), mtime=1)
    put(inbound / f"ada+{HELLO}+{older}+beef" / f"{HELLO}.ipynb", notebook("ada older"), mtime=2)
    put(inbound / f"ada+{HELLO}+{newer}+f00d" / "timestamp.txt", newer.encode())
    put(inbound / f"ada+{HELLO}+{newer}+f00d" / "submission_secret.txt", b"c0ffee")
    put(inbound / f"bob+{WORK}+{older}+0001" / f"{WORK}.ipynb", notebook("bob"))
    put(inbound / f"eve+99-nope+{older}+0002" / "99-nope.ipynb", notebook("eve"))
    put(inbound / f"bad$id+{HELLO}+{older}+0003" / f"{HELLO}.ipynb", notebook("bad"))
    (inbound / "stray-folder").mkdir()

    report = collect(tmp_path / "exchange", course_dir)

    assert placed(course_dir) == {f"ada/{HELLO}/{HELLO}.ipynb": "# ada newer", f"bob/{WORK}/{WORK}.ipynb": "# bob"}
    assert (course_dir / "submitted" / "ada" / HELLO / "timestamp.txt").read_text() == newer
    assert (course_dir / "submitted" / "ada" / HELLO / "submission_secret.txt").read_text() == "c0ffee"
    assert sorted(report.problems) == [
        f"bad$id+{HELLO}+{older}+0003: 'bad$id' is not a usable student id; skipped",
        f"eve+99-nope+{older}+0002: unknown assignment '99-nope' (not in the course's source/); skipped",
        "stray-folder: not a submission of nbgrader's exchange (<student>+<assignment>+<time>+<random>); skipped",
    ]
    # the course's folder or its inbound/ work as well, and --assignment keeps to one assignment
    again = collect(inbound, course_dir, assignment=WORK)
    assert [p.parent.parent.name for p in again.placed] == ["bob"] and again.left_out == 2  # ada's two


def test_what_nbgrader_submit_put_in_the_exchange_is_collected(tmp_path, course_dir):
    exchange, home = tmp_path / "exchange", tmp_path / "home"
    (exchange / "rabbitmq-workshop" / "inbound").mkdir(parents=True)
    put(exchange / "rabbitmq-workshop" / "outbound" / HELLO / f"{HELLO}.ipynb", notebook("released"))
    put(home / HELLO / f"{HELLO}.ipynb", notebook("ada's work"))
    nbgrader = Path(sys.executable).parent / "nbgrader"
    result = subprocess.run([str(nbgrader), "submit", HELLO, f"--Exchange.root={exchange}",
                             "--CourseDirectory.course_id=rabbitmq-workshop", "--student=ada"],
                            cwd=home, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr

    report = collect(exchange, course_dir)

    assert report.problems == []
    assert placed(course_dir) == {f"ada/{HELLO}/{HELLO}.ipynb": "# ada's work"}
    folder = course_dir / "submitted" / "ada" / HELLO
    [submitted] = (exchange / "rabbitmq-workshop" / "inbound").iterdir()
    assert (folder / "timestamp.txt").read_text() == (submitted / "timestamp.txt").read_text()
    assert (folder / "submission_secret.txt").read_text() == (submitted / "submission_secret.txt").read_text()


def test_a_folder_per_student_with_or_without_the_assignments_folder(tmp_path, course_dir):
    source = tmp_path / "handins"
    put(source / "ada" / f"{HELLO}.ipynb", notebook("ada"))
    put(source / "bob" / WORK / f"{WORK}.ipynb", notebook("bob"))
    put(source / "bob" / WORK / "notes.txt", b"my notes")
    put(source / "cy" / "99-nope" / "x.ipynb", notebook("cy"))
    put(source / "dan" / "Untitled.ipynb", notebook("dan"))
    put(source / "Ann Lee" / f"{HELLO}.ipynb", notebook("ann"))

    report = collect(source, course_dir)

    assert placed(course_dir) == {f"ada/{HELLO}/{HELLO}.ipynb": "# ada", f"bob/{WORK}/{WORK}.ipynb": "# bob"}
    assert sorted(report.problems) == [
        "Ann Lee/: 'Ann Lee' is not a usable student id (letters, digits, . _ @ -, starting with a letter or "
        "digit); skipped",
        f"bob/{WORK}/notes.txt: not a notebook (.ipynb); skipped",
        "cy/99-nope/: unknown assignment '99-nope' (not in the course's source/); skipped",
        "dan/Untitled.ipynb: not a notebook of any assignment (the course's are named like "
        f"{HELLO}.ipynb); skipped",
    ]
    # with --assignment, a renamed notebook is taken as that assignment's only notebook
    collect(source / "dan", course_dir, assignment=HELLO)  # a lone folder: its file is named by student
    assert placed(course_dir)[f"Untitled/{HELLO}/{HELLO}.ipynb"] == "# dan"


def test_files_named_by_student_in_the_patterns_it_documents(tmp_path, course_dir):
    source = tmp_path / "downloads"
    put(source / f"ada_{HELLO}.ipynb", notebook("ada old"), mtime=1_000)
    put(source / f"ada_{HELLO} (1).ipynb", notebook("ada new"), mtime=2_000)
    put(source / f"{HELLO}-bob.ipynb", notebook("bob"))
    put(source / f"cy.lee+{WORK}.ipynb", notebook("cy"))
    put(source / WORK / f"dan_{WORK}.ipynb", notebook("dan"))
    put(source / f"{HELLO}.ipynb", notebook("nobody"))
    put(source / f"eve_{HELLO}.ipynb", b'{"cells": [oops')
    put(source / "readme.md", b"# hi")

    report = collect(source, course_dir)

    assert placed(course_dir) == {f"ada/{HELLO}/{HELLO}.ipynb": "# ada new", f"bob/{HELLO}/{HELLO}.ipynb": "# bob",
                                  f"cy.lee/{WORK}/{WORK}.ipynb": "# cy", f"dan/{WORK}/{WORK}.ipynb": "# dan"}
    assert (course_dir / "submitted" / "eve" / HELLO / f"{HELLO}.ipynb").read_bytes() == b'{"cells": [oops'
    assert sorted(report.problems) == [
        f"{HELLO}.ipynb: no student id in its name (name it <student>_<assignment>.ipynb, or give --assignment "
        "for <student>.ipynb); skipped",
        f"ada, {HELLO}/{HELLO}.ipynb: 2 files; kept ada_{HELLO} (1).ipynb (the newest), not ada_{HELLO}.ipynb",
        f"eve_{HELLO}.ipynb: not valid JSON (Expecting value: line 1 column 12 (char 11)); kept as is, "
        "nbgrader cannot grade it",
        "readme.md: not a notebook (.ipynb); skipped",
    ]
    # <student>.ipynb with --assignment
    single = put(tmp_path / "one" / "fay.ipynb", notebook("fay"))
    assert collect(single.parent, course_dir, assignment=WORK).placed == [
        course_dir / "submitted" / "fay" / WORK / f"{WORK}.ipynb"]


def _link(archive: zipfile.ZipFile, name: str, target: str) -> None:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    archive.writestr(info, target)


def test_a_hostile_zip_writes_nothing_outside_submitted_and_says_what_it_refused(tmp_path, course_dir):
    secret = put(tmp_path / "secret.txt", b"the instructor's solutions")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"class/bob/{HELLO}.ipynb", notebook("bob"))
        archive.writestr(f"class/../../evil_{HELLO}.ipynb", notebook("slip"))
        archive.writestr(f"/tmp/abs_{HELLO}.ipynb", notebook("absolute"))
        archive.writestr(f"class\\..\\..\\win_{HELLO}.ipynb", notebook("backslash"))
        _link(archive, f"class/ada/{HELLO}.ipynb", str(secret))
        _link(archive, "class/cy", "/etc")
        archive.writestr("class/__MACOSX/._junk", b"")
    handed = put(tmp_path / "class.zip", buffer.getvalue())
    before = {p for p in tmp_path.rglob("*") if "course" not in p.parts}

    report = collect(handed, course_dir)

    assert placed(course_dir) == {f"bob/{HELLO}/{HELLO}.ipynb": "# bob"}
    assert {p for p in tmp_path.rglob("*") if "course" not in p.parts} == before
    assert not Path(f"/tmp/abs_{HELLO}.ipynb").exists()
    assert sorted(report.problems) == sorted([
        f"class.zip:class/../../evil_{HELLO}.ipynb: a path that leaves the zip's folder (..); skipped",
        f"class.zip:/tmp/abs_{HELLO}.ipynb: an absolute path in the zip; skipped",
        f"class.zip:class\\..\\..\\win_{HELLO}.ipynb: a path that leaves the zip's folder (..); skipped",
        f"class.zip:class/ada/{HELLO}.ipynb: a symbolic link in the zip; not followed",
        "class.zip:class/cy: a symbolic link in the zip; not followed",
    ])


def test_symbolic_links_in_a_folder_are_not_followed_and_never_written_through(tmp_path, course_dir):
    secret = put(tmp_path / "secret" / f"{HELLO}.ipynb", notebook("secret"))
    source = tmp_path / "handins"
    put(source / "bob" / f"{HELLO}.ipynb", notebook("bob"))
    (source / "ada").mkdir()
    (source / "ada" / f"{HELLO}.ipynb").symlink_to(secret)
    (source / "cy").symlink_to(secret.parent, target_is_directory=True)
    (course_dir / "submitted").mkdir()
    (course_dir / "submitted" / "bob").symlink_to(tmp_path / "secret", target_is_directory=True)

    report = collect(source, course_dir)

    assert marker_of(secret) == "# secret" and sorted(p.name for p in secret.parent.iterdir()) == [secret.name]
    assert sorted(report.problems) == [
        f"ada/{HELLO}.ipynb: a symbolic link; not followed",
        f"bob/{HELLO}.ipynb: {course_dir / 'submitted' / 'bob' / HELLO} is a symbolic link; not written",
        "cy: a symbolic link; not followed",
    ]


def test_a_zip_of_the_exchange_and_a_zip_with_a_wrapping_folder(tmp_path, course_dir):
    when = "2026-12-01 09:00:00.000000 UTC"
    for name, members in {"exchange.zip": {f"inbound/ada+{HELLO}+{when}+1a2b/{HELLO}.ipynb": "ada"},
                          "downloads.zip": {f"Submissions/bob_{HELLO}.ipynb": "bob",
                                            f"Submissions/{WORK}_cy.ipynb": "cy"}}.items():
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for member, marker in members.items():
                archive.writestr(member, notebook(marker))
        assert collect(put(tmp_path / name, buffer.getvalue()), course_dir).problems == []
    assert placed(course_dir) == {f"ada/{HELLO}/{HELLO}.ipynb": "# ada", f"bob/{HELLO}/{HELLO}.ipynb": "# bob",
                                  f"cy/{WORK}/{WORK}.ipynb": "# cy"}


def test_workshop_collect_runs_from_the_checkout_without_an_activated_virtualenv(tmp_path, course_dir):
    put(tmp_path / "in" / f"ada_{HELLO}.ipynb", notebook("ada"))
    put(tmp_path / "in" / "notes.txt", b"")
    environment = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "PATH")}
    environment["PATH"] = "/usr/bin:/bin"
    result = subprocess.run([str(Path(sys.executable).parent / "workshop"), "collect", str(tmp_path / "in"),
                             "--course", str(course_dir)], capture_output=True, text=True, env=environment, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["notes.txt: not a notebook (.ipynb); skipped",
                                          f"collected 1 notebooks of 1 students into {course_dir / 'submitted'}"]


@pytest.mark.skipif(os.geteuid() != 0, reason="making the room's system users needs root")
def test_in_a_room_a_hand_in_under_a_classmates_name_is_refused_by_its_owner(tmp_path, course_dir):
    """Each student of a room is a system user of their own; nbgrader's exchange names a submission
    after the student id the submitter claims, so the folder's owner is what tells the truth."""
    import secrets

    from grader.classroom import users

    ada, bob = (f"collect-{who}-{secrets.token_hex(3)}" for who in ("ada", "bob"))
    made = {who: users.ensure(who, tmp_path / "homes") for who in (ada, bob)}
    try:
        inbound = tmp_path / "exchange" / "rabbitmq-workshop" / "inbound"
        when = "2026-12-01 09:00:00.000000 UTC"
        for folder, owner in ((f"{ada}+{HELLO}+{when}+0001", ada), (f"{bob}+{WORK}+{when}+0002", ada),
                              (f"{bob}+{HELLO}+{when}+0003", bob), (f"{ada}+{WORK}+{when}+0004", None)):
            path = put(inbound / folder / f"{folder.split('+')[1]}.ipynb", notebook(f"by {owner}"))
            if owner is not None:  # None: copied in by the instructor (root), as before
                for item in (path, path.parent):
                    os.chown(item, made[owner].uid, made[owner].gid)

        report = collect(tmp_path / "exchange", course_dir)

        assert placed(course_dir) == {f"{ada}/{HELLO}/{HELLO}.ipynb": f"# by {ada}",
                                      f"{bob}/{HELLO}/{HELLO}.ipynb": f"# by {bob}",
                                      f"{ada}/{WORK}/{WORK}.ipynb": "# by None"}
        assert report.problems == [
            f"{bob}+{WORK}+{when}+0002: handed in by the system user {users.system_name(ada)}, who is not {bob!r}: "
            "a submission in someone else's name; skipped"]
    finally:
        for who in (ada, bob):
            users.remove(who)

"""What a room container does before its server starts (boot.py), and how the instructor gathers the
hand-ins of a volume per student (handins.py), on folders of the test's own in place of the volumes.
Running a server as the unprivileged user needs root; those tests are skipped otherwise."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from grader import paths
from grader.classroom import boot, handins
from grader.classroom.exchange import INSTRUCTOR_PLUGINS
from grader.classroom.servers import COPIED

ROOT = os.geteuid() == 0
NOBODY = "nobody"  # an unprivileged user every Debian has, in place of the image's `student`
LESSON = "01-hello-world"
needs_root = pytest.mark.skipif(not ROOT, reason="handing folders to another user needs root")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def layout(tmp_path):
    tmp_path.chmod(0o755)  # the unprivileged user walks through it to the home
    return boot.Layout(tmp_path)


@needs_root
def test_a_students_container_hands_home_and_inbound_to_the_student_and_keeps_the_configuration_roots(layout):
    who = boot.prepare("student", "a-course", layout, student=NOBODY)
    nobody = pwd.getpwnam(NOBODY)
    assert (who.uid, who.home) == (nobody.pw_uid, layout.home)
    inbound = layout.exchange / "a-course" / "inbound"
    for folder in (layout.home, inbound):
        assert folder.stat().st_uid == nobody.pw_uid and mode(folder) == 0o700
    # nbgrader's list and submit first check that the student may write into the exchange's root
    assert mode(layout.exchange) == 0o1777
    config = layout.config("student")
    for path in (config / "nbgrader_config.py", config / "labconfig" / "page_config.json"):
        assert path.stat().st_uid == 0 and mode(path) == 0o644  # the student cannot change it
    page = json.loads((config / "labconfig" / "page_config.json").read_text())
    assert set(page["disabledExtensions"]) == set(INSTRUCTOR_PLUGINS)
    text = (config / "nbgrader_config.py").read_text()
    assert repr(str(layout.exchange)) in text and "'a-course'" in text and "JUPYTERHUB_USER" in text


def test_a_students_notebooks_are_copied_on_the_first_start_and_never_overwritten(layout):
    layout.home.mkdir(parents=True)
    copied = boot.first_start("student", layout)
    notebook = layout.home / LESSON / f"{LESSON}.ipynb"
    assert notebook in copied and (layout.home / COPIED).exists()
    assert (layout.home / "docs" / "protocol.md").exists() and (layout.home / "solutions").is_dir()
    notebook.write_text("my work", encoding="utf-8")
    (layout.home / "02-work-queues").rename(layout.home / "mine")
    assert boot.first_start("student", layout) == []  # later starts copy nothing, not even what is missing
    assert notebook.read_text(encoding="utf-8") == "my work"
    assert boot.first_start("instructor", layout) == []


def test_the_instructors_container_configures_formgrader_on_the_course_and_gathering_on_collect(layout):
    layout.course.mkdir(parents=True)
    who = boot.prepare("instructor", "a-course", layout)
    assert who.home == Path(pwd.getpwuid(os.geteuid()).pw_dir) != layout.course  # no dot folders in the course
    assert (layout.exchange / "a-course" / "inbound").is_dir()
    text = (layout.config("instructor") / "nbgrader_config.py").read_text()
    assert f"c.CourseDirectory.root = {str(layout.course)!r}" in text
    assert "c.ExchangeFactory.collect = 'grader.classroom.handins.GatheringCollect'" in text
    assert f"c.GatheringCollect.handins = {str(layout.handins)!r}" in text


@pytest.fixture
def open_layout():
    """A layout in a folder the unprivileged user can reach (pytest's own is its owner's only)."""
    top = Path(tempfile.mkdtemp(prefix="workshop-boot-", dir="/tmp"))
    top.chmod(0o755)
    yield boot.Layout(top)
    shutil.rmtree(top, ignore_errors=True)


@needs_root
def test_boot_runs_the_students_server_as_the_unprivileged_user_in_their_home(open_layout):
    layout = open_layout
    probe = "import json, os; print(json.dumps([os.getuid(), os.getgroups(), os.environ['HOME'], os.getcwd()]))"
    python = shutil.which("python3", path="/usr/bin:/bin")  # one the unprivileged user may run
    done = subprocess.run([sys.executable, "-m", "grader.classroom.boot", "student", "a-course", "--root",
                           str(layout.root), "--student", NOBODY, "--", python, "-c", probe],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    uid, groups, home, cwd = json.loads(done.stdout)
    assert uid == pwd.getpwnam(NOBODY).pw_uid and 0 not in groups
    assert home == cwd == str(layout.home)
    assert (layout.home / LESSON / f"{LESSON}.ipynb").stat().st_uid == uid  # copied as the student, not as root


def test_boot_without_a_command_says_so():
    done = subprocess.run([sys.executable, "-m", "grader.classroom.boot", "student", "a-course"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "no command to run after --" in done.stderr


def hand_in(handins: Path, volume_of: str, named: str, when: str, text: str) -> Path:
    folder = handins / volume_of / f"{named}+{LESSON}+{when}+{os.urandom(3).hex()}"
    folder.mkdir(parents=True)
    notebook = json.loads((paths.NOTEBOOKS / LESSON / f"{LESSON}.ipynb").read_text(encoding="utf-8"))
    notebook["cells"].append({"cell_type": "markdown", "metadata": {}, "source": text})
    (folder / f"{LESSON}.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    (folder / "timestamp.txt").write_text(when, encoding="utf-8")
    return folder


def test_gather_takes_each_students_own_handins_and_refuses_one_in_a_classmates_name(tmp_path):
    handins_dir, inbound = tmp_path / "handins", tmp_path / "inbound"
    ada = hand_in(handins_dir, "ada", "ada", "2026-05-04 10:00:00.000000 UTC", "by ada")
    hand_in(handins_dir, "bob", "ada", "2026-05-04 11:00:00.000000 UTC", "by bob, as ada")
    (handins_dir / "carol").mkdir()
    done = handins.gather(handins_dir, inbound)
    assert done.copied == [inbound / ada.name]
    assert len(done.refused) == 1 and "bob" in done.refused[0] and "'ada'" in done.refused[0]
    assert handins.gather(handins_dir, inbound).copied == []  # what is there already stays


def test_gather_refuses_a_handin_with_a_symbolic_link_or_a_named_pipe(tmp_path):
    handins_dir, inbound = tmp_path / "handins", tmp_path / "inbound"
    secret = tmp_path / "solutions.ipynb"
    secret.write_text("the instructor's", encoding="utf-8")
    linked = hand_in(handins_dir, "ada", "ada", "2026-05-04 10:00:00.000000 UTC", "by ada")
    (linked / f"{LESSON}.ipynb").unlink()
    (linked / f"{LESSON}.ipynb").symlink_to(secret)
    piped = hand_in(handins_dir, "bob", "bob", "2026-05-04 10:00:00.000000 UTC", "by bob")
    os.mkfifo(piped / "wait-forever")
    done = handins.gather(handins_dir, inbound)
    assert done.copied == [] and not list(inbound.iterdir())
    assert [line.split(": ")[0] for line in done.refused] == [f"ada/{linked.name}", f"bob/{piped.name}"]
    assert all("not a plain file" in line for line in done.refused)


def test_gather_leaves_out_what_would_break_collect_or_fill_the_disk_and_gathers_the_rest(tmp_path, monkeypatch):
    """A time nbgrader cannot read (collect would fail for the whole class), a linked folder, too
    many bytes in all: each left out with its reason; the good hand-in is gathered, whole."""
    monkeypatch.setattr(handins, "MAX_TOTAL", 2**20)
    handins_dir, inbound = tmp_path / "handins", tmp_path / "inbound"
    good = hand_in(handins_dir, "ada", "ada", "2026-05-04 10:00:00.000000 UTC", "by ada")
    odd_time = hand_in(handins_dir, "bob", "bob", "2026-05-04 10:00:00.000000 UTC", "by bob")
    odd_time = odd_time.rename(odd_time.with_name(f"bob+{LESSON}+2024-01-01 0garbage+x"))
    linked = hand_in(handins_dir, "carol", "carol", "2026-05-04 10:00:00.000000 UTC", "by carol")
    (linked / "course").symlink_to(paths.COURSE, target_is_directory=True)
    big = hand_in(handins_dir, "dan", "dan", "2026-05-04 10:00:00.000000 UTC", "by dan")
    for number in range(3):
        (big / f"data-{number}.bin").write_bytes(b"x" * 400_000)
    done = handins.gather(handins_dir, inbound)
    assert done.copied == [inbound / good.name]
    assert sorted(path.name for path in inbound.iterdir()) == [good.name], "no staging folder is left behind"
    assert (inbound / good.name / f"{LESSON}.ipynb").read_bytes() == (good / f"{LESSON}.ipynb").read_bytes()
    why = {line.split("/")[0]: line for line in done.refused}
    assert set(why) == {"bob", "carol", "dan"}
    assert "not a submission" in why["bob"] and "course is not a plain file" in why["carol"]
    assert "MB in all" in why["dan"]


def test_nbgrader_collect_in_the_instructors_container_gathers_first_and_collects_only_true_handins(tmp_path):
    layout = boot.Layout(tmp_path)
    shutil.copytree(paths.COURSE / "source" / LESSON, layout.course / "source" / LESSON)
    shutil.copy(paths.COURSE / "nbgrader_config.py", layout.course)
    course_id = layout.course_id()
    boot.prepare("instructor", course_id, layout)
    hand_in(layout.handins, "ada", "ada", "2026-05-04 10:00:00.000000 UTC", "# by ada")
    hand_in(layout.handins, "bob", "bob", "2026-05-04 10:30:00.000000 UTC", "# by bob")
    hand_in(layout.handins, "bob", "ada", "2026-05-04 11:00:00.000000 UTC", "# by bob, as ada")
    env = dict(os.environ, JUPYTER_CONFIG_PATH=str(layout.config("instructor")),
               PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    done = subprocess.run([sys.executable, "-m", "nbgrader", "collect", LESSON], cwd=layout.course, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "in the name of 'ada'" in done.stdout + done.stderr
    for student in ("ada", "bob"):  # ada's own, not the newer one bob handed in under her name
        collected = layout.course / "submitted" / student / LESSON / f"{LESSON}.ipynb"
        assert json.loads(collected.read_text(encoding="utf-8"))["cells"][-1]["source"] == f"# by {student}"


def test_workshop_up_refuses_a_docker_spawner_without_a_room(capsys, monkeypatch):
    from grader import cli

    monkeypatch.delenv("WORKSHOP_SPAWNER", raising=False)
    assert cli.main(["up", "--spawner", "docker"]) == 1
    assert "--spawner docker is for a room: add --room ACCOUNTS_CSV" in capsys.readouterr().err

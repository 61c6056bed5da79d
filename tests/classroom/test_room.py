"""The room: two students log into the real JupyterHub with their broker accounts, each runs lesson
1 in a JupyterLab of their own, their queues land in their own vhosts, they hand in through
nbgrader's exchange and the instructor collects both. As root, neither can read the other's work
nor the course's solutions.
"""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from grader import paths
from grader.classroom import hub, users
from grader.classroom.users import system_name
from tests.classroom.hubclient import Visitor
from tests.classroom.rooms import provisioned
from tests.net import free_port, wait_for_http

LESSON = "01-hello-world"
NOTEBOOK = f"{LESSON}/{LESSON}.ipynb"
ROOT = os.geteuid() == 0
HUB_TIMEOUT = 60


def test_system_names_are_valid_and_never_the_same_for_two_broker_users():
    longest = "a" * 48
    names = {user: system_name(user) for user in ["ada", "ada-lovelace", longest, longest[:-1] + "b", "li-lei-x7"]}
    assert names["ada"] == "ws-ada"
    assert all(len(name) <= users.MAX_LENGTH and name.startswith(users.PREFIX) for name in names.values())
    assert len(set(names.values())) == len(names)
    assert "_" in names[longest] and "_" not in names["ada-lovelace"]  # only hashed names have an underscore


@pytest.fixture
def accounts(vhost, tmp_path):
    """Two students and an instructor from `workshop provision`, on this test's live vhost; torn down after."""
    with provisioned(vhost, tmp_path, "room", ["Ada Lovelace", "李雷"]) as made:
        yield made


@pytest.fixture
def room(accounts, tmp_path):
    """The hub and its proxy on free loopback ports, with a copy of lesson 1's course; stopped after."""
    settings, made = accounts
    try:
        hub.find_proxy()
    except hub.RoomError as exc:  # `make test` installs it; only a bare `pytest` may lack it
        if os.environ.get("CI"):
            pytest.fail(f"CI is set and the room needs its proxy: {exc}", pytrace=False)
        pytest.skip(str(exc))
    top = Path(tempfile.mkdtemp(prefix="workshop-room-", dir="/tmp"))
    top.chmod(0o755)  # the students' system users walk through it to their homes and the exchange
    log, process = (tmp_path / "hub.log").open("w"), None  # the log stays in tmp_path for a look after a failure
    try:
        course = top / "course"
        shutil.copytree(paths.COURSE / "source" / LESSON, course / "source" / LESSON)
        shutil.copy(paths.COURSE / "nbgrader_config.py", course)
        prepared = hub.prepare(settings, made, room_dir=top / "room", port=free_port(), course=course,
                               home_base=top / "room" / "home")
        process = hub.start(prepared, dict(os.environ, PYTHONUNBUFFERED="1"), output=log)
        wait_for_http(f"{prepared.url}hub/api", timeout=HUB_TIMEOUT, process=process)
        yield prepared
    finally:
        if process is not None:
            process.terminate()  # the hub stops every server it started, then the proxy
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()
        print("the hub's log, last lines:\n" + "\n".join((tmp_path / "hub.log").read_text().splitlines()[-60:]))
        try:
            if ROOT:
                for account in made:
                    users.remove(account.user)
        finally:
            shutil.rmtree(top, ignore_errors=True)


def solved(notebook: dict, name: str) -> dict:
    """`notebook` with lesson 1's first three exercises answered, publishing `name`."""
    answers = {
        "connect": "connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))\n"
                   "channel = connection.channel()",
        "declare": 'channel.queue_declare(queue="hello", durable=True)',
        "publish": f'channel.basic_publish(exchange="", routing_key="hello", body={name!r}.encode())  # by {name}',
    }
    for cell in notebook["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
    return notebook


def cells(notebook: dict, *grade_ids: str) -> list[str]:
    by_id = {cell.get("metadata", {}).get("nbgrader", {}).get("grade_id"): cell["source"] for cell in notebook["cells"]}
    return [by_id[grade_id] for grade_id in grade_ids]


PROBE = """
import json, os
def tried(path):
    try:
        open(path, "rb").read(1)
        return "read"
    except PermissionError:
        return "denied"
    except FileNotFoundError:
        return "missing"
print(json.dumps({path: tried(path) for path in %r}))
"""


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_two_students_log_in_run_lesson_one_in_their_own_vhosts_and_hand_in(room, accounts, vhost):
    settings, made = accounts
    students = [account for account in made if account.role == "student"]
    teacher = next(account for account in made if account.role == "instructor")
    people = {account.user: Visitor(room.url, account.user) for account in made}

    # The login form: the broker decides; only the room's accounts; the instructor is the admin.
    assert Visitor(room.url, students[0].user).log_in("not the password").status_code == 403
    assert Visitor(room.url, settings.amqp.user).log_in(settings.amqp.password).status_code == 403  # not on the roster
    for account in made:
        answer = people[account.user].log_in(account.password)
        assert answer.status_code == 302, f"{account.user} could not log in: {answer.status_code} {answer.text[:300]}"
        whoami = people[account.user].http.get(f"{room.url}hub/api/user", timeout=10).json()
        assert whoami["admin"] is (account.role == "instructor")

    with ThreadPoolExecutor(len(people)) as pool:  # three servers start side by side, as in a room
        list(pool.map(Visitor.start_server, people.values()))
        list(pool.map(Visitor.wait_until_ready, people.values()))

    # Each student's own JupyterLab, with their own copy of the lesson, and without instructor menus.
    first, second = (people[account.user] for account in students)
    for account in students:
        lab = people[account.user].http.get(f"{people[account.user].server}/lab", timeout=30).text
        assert "@jupyter/nbgrader:formgrader" in lab.split('"disabledExtensions"', 1)[1][:2000]
        assert people[account.user].http.get(f"{people[account.user].server}/formgrader", timeout=30).status_code == 404
    assert people[teacher.user].http.get(f"{people[teacher.user].server}/formgrader", timeout=30).status_code == 200
    assert first.http.get(f"{second.server}/lab", timeout=30).status_code == 403  # not their server

    notebooks = {account.user: people[account.user].notebook(NOTEBOOK) for account in students}

    async def lesson(account):
        notebook = notebooks[account.user]
        setup = next(cell["source"] for cell in notebook["cells"] if cell["cell_type"] == "code")
        answers = cells(solved(json.loads(json.dumps(notebook)), account.name), "connect", "declare", "publish")
        probe = "import os; print(*(os.environ[k] for k in ('RABBITMQ_URL', 'WORKSHOP_LIVE_URL', 'WORKSHOP_STUDENT')))"
        return await people[account.user].kernel().run(
            [probe, setup, *answers, *cells(notebook, "check-connect", "check-declare", "check-publish")])

    async def both():
        return await asyncio.gather(*(lesson(account) for account in students))

    for account, ran in zip(students, asyncio.run(both()), strict=True):
        errors = [cell.error for cell in ran if cell.error]
        assert not errors, f"{account.user}'s lesson 1 failed: {errors}\n{[cell.text for cell in ran]}"
        assert ran[0].text.split() == [account.lessons_url, account.live_url, *account.name.split()]
        assert all("✔" in cell.text for cell in ran[-3:]), [cell.text for cell in ran[-3:]]

    # Each student's queue is in their own vhost, with their own message; none on the live vhost.
    for account in students:
        assert vhost.api.queue(account.vhost, "hello") is not None, f"no queue hello in {account.vhost}"
        got = vhost.api.request("POST", f"queues/{account.vhost}/hello/get",
                                json={"count": 5, "ackmode": "reject_requeue_true", "encoding": "auto"}).json()
        assert [message["payload"] for message in got] == [account.name]
    assert vhost.api.queue(vhost.name, "hello") is None

    # Hand-in through nbgrader's exchange, as the Assignment List does it; the instructor collects.
    for account in students:
        visitor = people[account.user]
        visitor.save(NOTEBOOK, solved(notebooks[account.user], account.name))
        listed = visitor.api("GET", "assignments", params={"course_id": room.course_id}).json()
        assert listed["success"] and LESSON in {item["assignment_id"] for item in listed["value"]}, listed
        handed = visitor.api("POST", "assignments/submit", data={"assignment_id": LESSON,
                                                                  "course_id": room.course_id}).json()
        assert handed["success"], handed
    collect = subprocess.run([sys.executable, "-m", "nbgrader", "collect", LESSON], cwd=room.course,
                             env=dict(os.environ, JUPYTER_CONFIG_PATH=str(room.config_dir("instructor")),
                                      PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])),
                             capture_output=True, text=True, timeout=60)
    assert collect.returncode == 0, collect.stdout + collect.stderr
    for account in students:
        handed_in = room.course / "submitted" / account.user / LESSON / f"{LESSON}.ipynb"
        assert f"# by {account.name}" in handed_in.read_text(encoding="utf-8"), f"{account.user}'s submission"

    if not ROOT:
        return
    # As system users, neither student can read the other's notebooks, the solutions or the room's secrets.
    secrets_ = [room.home_base / system_name(students[1].user) / NOTEBOOK,
                room.course / "source" / LESSON / f"{LESSON}.ipynb", room.file, room.hub_dir / "jupyterhub.sqlite"]
    ran = asyncio.run(first.kernel().run([PROBE % [str(path) for path in secrets_]]))
    assert not ran[0].error, ran[0].error
    assert json.loads(ran[0].text) == {str(path): "denied" for path in secrets_}
    inbound = room.exchange / room.course_id / "inbound"
    for account in students:  # who really handed in: the owner of the submission's folder
        [handed] = inbound.glob(f"{account.user}+{LESSON}+*")
        assert handed.stat().st_uid == pwd.getpwnam(system_name(account.user)).pw_uid

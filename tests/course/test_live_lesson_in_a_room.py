"""Lesson 10 in a room with accounts: run as a provisioned student would run it (their lessons vhost in
RABBITMQ_URL, the live vhost in WORKSHOP_LIVE_URL), against a grader that believes only user_id."""

import secrets

import nbformat
import pytest

from grader import course
from grader.classroom import provision
from grader.live.accounts import Room
from grader.live.standings import leaderboard
from grader.settings import Settings
from tests.course.autograding import fill, read
from tests.course.test_notebooks_run import errors_of, run
from tests.live.fixtures import live_grader

LESSON = "10-live-exercises"


@pytest.mark.slow
def test_the_live_lesson_scores_under_the_students_own_account(vhost, tmp_path, monkeypatch):
    name = "Ada " + "".join(secrets.choice("bcdfghjklmnpqrstvwxz") for _ in range(6)).capitalize()
    roster = tmp_path / "roster.csv"
    roster.write_text(f"name\n{name}\n", encoding="utf-8")
    settings = Settings(rabbitmq_url=vhost.url, management_url=vhost.management_url)
    report = provision.provision(settings, roster, tmp_path / "room", instructor=f"i-{secrets.token_hex(4)}")
    try:
        [student] = [a for a in report.accounts if a.role == "student"]
        monkeypatch.setenv("RABBITMQ_URL", student.lessons_url)
        monkeypatch.setenv("WORKSHOP_LIVE_URL", student.live_url)
        room = Room(tmp_path / "room" / provision.ACCOUNTS,
                    lambda path: {a.user: a.name for a in provision.read_accounts(path) if a.role == "student"})
        released = read(course.NOTEBOOKS / LESSON / f"{LESSON}.ipynb")
        source = read(course.COURSE / "source" / LESSON / f"{LESSON}.ipynb")
        notebook = fill(released, source, {"my-name": f"MY_NAME = {name!r}"})
        with live_grader(settings, f"sqlite:///{tmp_path / 'live.sqlite'}", room=room) as store:
            executed = run(nbformat.from_dict(notebook), tmp_path, tmp_path)
            standings = {row["slug"]: (row["name"], row["points"]) for row in leaderboard(store)}
        assert errors_of(executed) == []
        assert standings == {student.user: (name, 4)}  # registered, two pika tasks, one kombu task
    finally:
        provision.teardown(settings, tmp_path / "room")

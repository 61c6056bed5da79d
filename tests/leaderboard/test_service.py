"""`workshop serve` end to end: JSON, CSV and live events, against a real broker."""

import csv
import io
import re
import uuid

import requests

from grader.lab import wait_until
from grader.live.checks import fibonacci
from grader.live.dealer import deal
from tests.leaderboard.conftest import EventStream, latest_verdict
from tests.live.fixtures import Student

STUDENTS, TASKS = 20, 150  # 3,000 answers


def total_points(service) -> int:
    return sum(row["points"] for row in requests.get(f"{service.url}/api/leaderboard", timeout=5).json())


def test_the_leaderboard_json_ranks_by_points_then_by_who_got_there_first(service, make_student, settings):
    ada, bob, cy = make_student("Ada Lovelace"), make_student("Bob"), make_student("Cy")
    for student in (ada, bob, cy):
        student.register()
    for student in (bob, ada):  # Bob scores first, then Ada: equal points, Bob ahead
        [(properties, task)] = student.tasks(1)
        assert student.answer(task["n"], fibonacci(task["n"]))["points"] == 1
    rows = requests.get(f"{service.url}/api/leaderboard", timeout=5).json()
    assert [(r["rank"], r["name"], r["points"]) for r in rows] == [(1, "Bob", 2), (2, "Ada Lovelace", 2), (3, "Cy", 1)]
    assert rows[0]["first_solver"] and not rows[1]["first_solver"]
    assert (rows[0]["register"], rows[0]["fibonacci"]) == (1, 1)


def test_the_csv_export_holds_the_same_ranking_and_keeps_formulas_as_text(service, make_student):
    make_student("Ada Lovelace").register()
    make_student("=HYPERLINK(1)").register()
    response = requests.get(f"{service.url}/export.csv", timeout=5)
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["name"] for row in rows] == ["Ada Lovelace", "'=HYPERLINK(1)"]
    assert [row["rank"] for row in rows] == ["1", "2"] and rows[0]["points"] == "1"


def test_a_scored_answer_reaches_open_pages_as_a_delta_with_the_changed_row(service, student, settings):
    stream = EventStream(service.url)
    try:
        stream.wait_for(lambda name, e: name == "snapshot", timeout=5, what="the initial snapshot")
        student.register()
        [(properties, task)] = student.tasks(1)
        message_id = uuid.uuid4().hex
        student.send("summercamp.results", {"n": task["n"], "Fn": fibonacci(task["n"]), "name": "Ada Lovelace"},
                     message_id=message_id)
        name, event = stream.wait_for(lambda name, e: message_id in e["keys"], timeout=5,
                                      what=f"the key {message_id}")
        assert name == "delta"
        assert [(row["slug"], row["points"], row["fibonacci"]) for row in event["rows"]] == [("ada-lovelace", 2, 1)]
        assert [(slug, total) for slug, _at, total in event["scored"]] == [("ada-lovelace", 2)]
        assert event["first_solver"] == "ada-lovelace"
    finally:
        stream.close()


def test_the_event_stream_keeps_up_with_thousands_of_answers_and_ends_where_the_store_is(service, make_student,
                                                                                         settings, vhost):
    students = [make_student(f"Student {i}") for i in range(STUDENTS)]
    for one in students:
        one.register()
    wait_until(lambda: all(dealt >= 1 for dealt, _ in service.store.open_tasks().values()) and
               len(service.store.open_tasks()) == STUDENTS, timeout=20,
               what="the service's dealer dealing everyone their first task")  # else both deal at once
    deal(settings, service.store, TASKS - 1)  # one more each was dealt on registration
    answers = [(one, task["n"]) for one in students for _, task in one.tasks(TASKS)]
    stream = EventStream(service.url)
    try:
        stream.wait_for(lambda name, e: name == "snapshot", timeout=5, what="the initial snapshot")
        sender = Student(vhost.url, "sender")
        for one, n in answers:  # as fast as one connection publishes
            sender.send("summercamp.results", {"n": n, "Fn": fibonacci(n), "name": one.name}, reply=False)
        sender.close()
        wait_until(lambda: total_points(service) == STUDENTS * (1 + TASKS), timeout=60,
                   what=f"the grader scoring all {len(answers)} answers")
        latest = latest_verdict(service.store)
        # a stream that fell behind would not reach the last verdict within a few seconds
        stream.wait_for(lambda name, e: e["version"] == latest, timeout=5,
                        what=f"version {latest}, the last verdict (else the stream fell behind)")
        arrived = [(at, name, e) for at, name, e in stream.events]
        assert stream.ranked() == requests.get(f"{service.url}/api/leaderboard", timeout=5).json()
        during = [e for at, name, e in arrived if name == "delta" and e["version"] < latest]
        assert len(during) >= 5, f"only {len(during)} events arrived while {len(answers)} answers were graded"
    finally:
        stream.close()


def test_the_page_loads_nothing_from_the_internet(service):
    page = requests.get(service.url, timeout=5)
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/") for a in assets), assets
    for asset in assets:
        body = requests.get(service.url + asset, timeout=5)
        assert body.status_code == 200, asset
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", body.text), f"{asset} refers to the internet"


def test_newcomers_get_their_first_tasks_without_the_instructor(service, student):
    student.register()
    [(properties, task)] = student.tasks(1, timeout=10)
    assert 5 <= task["n"] <= 1000


def test_workshop_deal_adds_tasks_for_everyone(service, make_student, settings):
    ada, bob = make_student("Ada Lovelace"), make_student("Bob")
    ada.register(), bob.register()
    ada.tasks(1), bob.tasks(1)  # the one dealt on registration
    dealt = deal(settings, service.store, 2)
    assert sorted(dealt) == ["ada-lovelace", "bob"] and all(len(ns) == 2 for ns in dealt.values())
    assert len(ada.tasks(2)) == 2 and len(bob.tasks(2)) == 2

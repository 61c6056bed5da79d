"""The class progress grid: checks report to `W.progress` under the broker-validated user_id, the
leaderboard keeps the grid (in memory and in the score store, so a restart keeps it), and only the
instructor token opens it (a real Chromium on the real page, the reports through the real broker)."""

import dataclasses
import uuid

import pika.exceptions
import pytest
import requests
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st

from grader import names
from grader.lab import progress as reporting
from grader.lab import wait_until
from grader.leaderboard import progress
from grader.live.store import Store
from tests.leaderboard.browser import chromium  # noqa: F401
from tests.live.fixtures import postgres_store_url  # noqa: F401

TOKEN = "instructor-" + uuid.uuid4().hex
WORKSHOP = "summercamp"


def test_a_pass_stays_a_pass_and_a_failure_keeps_its_last_sentence():
    grid = progress.Grid()
    grid.record("ada", "01-hello-world", "check-declare", False, "there is no queue `hello`", at=1)
    grid.record("ada", "01-hello-world", "check-declare", True, "the queue exists", at=2)
    grid.record("ada", "01-hello-world", "check-publish", False, "no message in `hello`", at=3)
    grid.record("bob", "02-work-queues", "check-ack", False, "first", at=4)
    grid.record("bob", "02-work-queues", "check-ack", False, "second", at=5)
    snapshot = grid.snapshot()
    assert [(e["lesson"], e["exercise"]) for e in snapshot["exercises"]] == [
        ("01-hello-world", "check-declare"), ("01-hello-world", "check-publish"), ("02-work-queues", "check-ack")]
    ada, bob = snapshot["students"]
    assert [c["state"] for c in ada["cells"]] == ["passed", "failing", "untried"]
    assert ada["cells"][1]["sentence"] == "no message in `hello`"
    assert [c["state"] for c in bob["cells"]] == ["untried", "untried", "failing"] and bob["cells"][2]["sentence"] == "second"


def test_in_a_room_every_student_of_the_roster_has_a_row_under_their_name_from_the_start():
    from grader.live.accounts import Room

    grid = progress.Grid(Room.of({"s-ivan": "Иван Петров", "s-ada": "Ada Lovelace", "s-li": "李雷"}))
    grid.record("s-li", "01-hello-world", "check-declare", True, "ok", at=1)
    grid.record("guest", "01-hello-world", "check-declare", False, "not a student of the roster", at=2)
    rows = {row["user"]: row for row in grid.snapshot()["students"]}
    assert {user: row["name"] for user, row in rows.items()} == {
        "s-ivan": "Иван Петров", "s-ada": "Ada Lovelace", "s-li": "李雷", "guest": "guest"}
    assert [c["state"] for c in rows["s-ada"]["cells"]] == ["untried"], "a student who has not started yet"
    assert [c["state"] for c in rows["s-li"]["cells"]] == ["passed"]
    assert [row["name"] for row in grid.snapshot()["students"]][0] == "Ada Lovelace", "sorted by name"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'grid.sqlite'}"
    return request.getfixturevalue("postgres_store_url")


def _reports():
    # any character (NUL, controls, lone surrogates: a report is JSON anyone can write), longer than the store keeps
    text = st.text(st.characters(exclude_categories=()), min_size=1, max_size=120)
    return st.lists(st.tuples(st.sampled_from(["ada", "bob", "Иван", "李雷"]), st.sampled_from(["01", "02-работа"]),
                              st.sampled_from(["check-a", "check-b", "проверка"]) | text, st.booleans(),
                              st.text(st.characters(exclude_categories=()), max_size=400)), max_size=25)


def test_a_grid_kept_in_the_store_comes_back_as_it_was_after_a_restart(store_url):
    """Any sequence of reports (names, lessons and sentences in any script, longer than what is
    kept), recorded by one grid, is what a new grid on the same store shows; another workshop's
    grid in the same store is apart."""
    made = {}

    @examples(max_examples=15)
    @given(_reports())
    def check(reports):
        workshop = f"w{len(made)}"
        store = made[workshop] = Store(store_url, workshop)
        first = progress.Grid(store=store)
        for at, (user, lesson, exercise, passed, sentence) in enumerate(reports):
            first.record(user, lesson, exercise, passed, sentence, at=float(at))
        assert first.flush(), "the grid's writer did not finish within 30 s"
        again = progress.Grid(store=Store(store_url, workshop))
        assert again.snapshot()["exercises"] == first.snapshot()["exercises"]
        assert again.snapshot()["students"] == first.snapshot()["students"]
        assert progress.Grid(store=Store(store_url, "another")).snapshot()["students"] == []

    try:
        check()
    finally:
        for store in made.values():
            store.close()


def test_a_pass_in_the_store_stays_a_pass_when_a_grid_that_never_saw_it_reports_a_failure(tmp_path):
    """Two `serve`s on one store (or one whose first read failed): the second grid knows nothing of
    Ada's pass and records her failure; the store keeps the pass, with the new sentence."""
    url = f"sqlite:///{tmp_path / 'grid.sqlite'}"
    first = progress.Grid(store=Store(url, WORKSHOP))
    second = progress.Grid(store=Store(url, WORKSHOP))  # started before the pass was recorded
    first.record("ada", "01", "check-a", True, "ok", at=1)
    assert first.flush()
    second.record("ada", "01", "check-a", False, "no queue", at=2)
    assert second.flush()
    [cell] = progress.Grid(store=Store(url, WORKSHOP)).snapshot()["students"][0]["cells"]
    assert (cell["state"], cell["sentence"]) == ("passed", "no queue")


def test_a_restarted_grid_counts_its_versions_on_from_above_the_old_ones(tmp_path):
    """An open page redraws when the version changes: after a restart it must not repeat one."""
    url = f"sqlite:///{tmp_path / 'grid.sqlite'}"
    first = progress.Grid(store=Store(url, WORKSHOP))
    for at in range(50):
        first.record("ada", "01", f"check-{at}", True, "ok", at=at)
    assert first.flush()
    assert progress.Grid(store=Store(url, WORKSHOP)).version > first.version


def test_a_store_that_fails_costs_the_grid_nothing_but_its_memory_of_a_restart(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'grid.sqlite'}", WORKSHOP)
    grid = progress.Grid(store=store)
    grid.record("ada", "01", "check-a", True, "ok", at=1)
    assert grid.flush()
    with store.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE progress")  # the store breaks under the grid
    grid.record("ada", "01", "check-b", False, "not yet", at=2)
    assert grid.flush(), "a failing store does not hold the writer up"
    assert [c["state"] for c in grid.snapshot()["students"][0]["cells"]] == ["passed", "failing"]
    assert progress.Grid(store=store).snapshot()["students"] == [], "a grid that cannot read the store starts empty"


@pytest.mark.parametrize("body, user_id", [
    (b'{"lesson": "01", "exercise": "a", "passed": true}', None),  # no identity the broker vouched for
    (b"not json", "ada"), (b"[1]", "ada"), (b'{"lesson": "01", "exercise": "a", "passed": "yes"}', "ada"),
    (b'{"lesson": "", "exercise": "a", "passed": true}', "ada"),
])
def test_a_report_without_a_user_id_or_of_the_wrong_shape_is_dropped(body, user_id):
    assert progress.read_report(body, user_id) is None


@pytest.fixture
def service_options():
    return {"instructor_token": TOKEN, "deal_on_register": 0}


@pytest.fixture
def ada(vhost, broker):
    """A broker account of a student, with rights on the test's vhost."""
    user, password = f"ada-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    vhost.api.put_user(user, password)
    vhost.api.grant(vhost.name, user)
    yield user, dataclasses.replace(broker.address, user=user, password=password).url(vhost=vhost.name)
    vhost.api.delete_user(user)


def grid_of(service) -> dict:
    return requests.get(f"{service.url}/api/progress", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5).json()


def test_only_the_instructor_token_opens_the_grid(service):
    for path in ("/progress", "/api/progress", "/progress?token=wrong"):
        assert requests.get(service.url + path, timeout=5).status_code == 403, path
    assert requests.get(f"{service.url}/progress?token={TOKEN}", timeout=5).status_code == 200
    assert requests.get(f"{service.url}/api/progress?token={TOKEN}", timeout=5).json()["students"] == []


def test_a_report_under_another_users_id_is_refused_by_the_broker_and_never_shown(service, vhost, ada):
    user, url = ada
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as refused:
        _publish_as(vhost.url, claimed=user)  # the test's own account (guest) claiming to be Ada
    assert refused.value.reply_code == 406
    reporting.report(url, WORKSHOP, lesson="01-hello-world", exercise="check-declare", passed=True, sentence="ok")
    wait_until(lambda: grid_of(service)["students"], timeout=10, what="Ada's report in the grid")
    assert [s["user"] for s in grid_of(service)["students"]] == [user]


def _publish_as(url: str, *, claimed: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()  # the broker's refusal arrives before the publish returns
        channel.basic_publish("", names.progress_queue(WORKSHOP), b'{"lesson": "01", "exercise": "x", '
                              b'"passed": true}', pika.BasicProperties(user_id=claimed))
    finally:
        if connection.is_open:
            connection.close()


def test_the_grid_fills_live_as_checks_report_with_the_last_failure_on_hover(chromium, service, vhost, ada):
    from playwright.sync_api import expect

    user, url = ada
    context = chromium.new_context(viewport={"width": 1600, "height": 900})
    page = context.new_page()
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        page.goto(f"{service.url}/progress?token={TOKEN}")
        expect(page.locator("#nothing"), "an empty grid at first").to_be_visible(timeout=5_000)
        guest = vhost.url  # the test's own account: a second student
        reporting.report(url, WORKSHOP, lesson="01-hello-world", exercise="check-declare", passed=False,
                        sentence="there is no queue `hello` on the broker yet")
        reporting.report(guest, WORKSHOP, lesson="01-hello-world", exercise="check-declare", passed=True,
                        sentence="the queue `hello` exists")
        reporting.report(url, WORKSHOP, lesson="01-hello-world", exercise="check-publish", passed=True, sentence="ok")
        rows = page.locator("#grid tbody tr")
        expect(rows, "a row per student who reported").to_have_count(2, timeout=5_000)
        mine = page.locator(f"#grid tbody tr[data-user='{user}']")
        declare = mine.locator("td[data-exercise='01-hello-world/check-declare']")
        expect(declare, "Ada failing the declare check").to_have_class("cell failing", timeout=5_000)
        expect(declare, "the failure sentence on hover").to_have_attribute(
            "title", "there is no queue `hello` on the broker yet")
        expect(mine.locator("td[data-exercise='01-hello-world/check-publish']"), "Ada's publish passed").to_have_class(
            "cell passed", timeout=5_000)
        expect(page.locator("#grid tbody tr[data-user='guest'] td[data-exercise='01-hello-world/check-publish']"),
               "guest never tried the publish").to_have_class("cell untried")
        reporting.report(url, WORKSHOP, lesson="01-hello-world", exercise="check-declare", passed=True, sentence="ok")
        expect(declare, "Ada passing it later, live").to_have_class("cell passed", timeout=5_000)
        assert [u for u in requested if "127.0.0.1" not in u] == []
    finally:
        context.close()


def test_a_notebooks_checks_report_their_cell_to_the_grid_under_the_students_account(service, ada, monkeypatch):
    """A real kernel, asked to run two check cells as JupyterLab asks (the cell id in the request's
    metadata), in a room with accounts (WORKSHOP_LIVE_URL): a ✔ and a ✘ reach the grid."""
    from jupyter_client.manager import start_new_kernel

    user, url = ada
    monkeypatch.setenv("WORKSHOP_LIVE_URL", url)
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/ada/01-hello-world.ipynb")
    manager, client = start_new_kernel(kernel_name="python3", startup_timeout=60)
    try:
        for cell_id, code in (("check-declare", 'from grader import lab\nlab.ok("the queue `hello` exists")'),
                              ("check-publish", 'lab.expect(False, "no message in `hello` yet")')):
            request = client.session.msg("execute_request", {"code": code, "silent": False, "store_history": True,
                                                             "user_expressions": {}, "allow_stdin": False,
                                                             "stop_on_error": False}, metadata={"cellId": cell_id})
            client.shell_channel.send(request)
            while client.get_shell_msg(timeout=30)["parent_header"].get("msg_id") != request["header"]["msg_id"]:
                pass  # a late answer to the kernel_info requests of the start
        wait_until(lambda: len(grid_of(service)["exercises"]) == 2, timeout=10, what="both checks in the grid")
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    grid = grid_of(service)
    [row] = grid["students"]
    assert row["user"] == user
    # each report travels on its own, so the two may arrive in either order: the grid keeps arrival order
    cells = {e["exercise"]: (c["state"], c.get("sentence")) for e, c in zip(grid["exercises"], row["cells"])}
    assert cells == {"check-declare": ("passed", ""), "check-publish": ("failing", "no message in `hello` yet")}
    assert [e["lesson"] for e in grid["exercises"]] == ["01-hello-world"] * 2


def test_a_restarted_service_shows_the_grid_where_it_was(service, ada, settings, tmp_path):
    from grader.serve import Service

    user, url = ada
    reporting.report(url, WORKSHOP, lesson="01-hello-world", exercise="check-declare", passed=False, sentence="no queue")
    wait_until(lambda: grid_of(service)["students"], timeout=10, what="Ada's report in the first service's grid")
    before = grid_of(service)
    assert service.service.grid.flush()
    # what a `workshop serve` started again on the same store sees (the first one may run on)
    again = Service(settings, service.service.store.url, instructor_token=TOKEN, deal_on_register=0, grade=False)
    assert again.grid.snapshot()["students"] == before["students"]
    assert again.grid.snapshot()["exercises"] == before["exercises"]
    again.store.close()

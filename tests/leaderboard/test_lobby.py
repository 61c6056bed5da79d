"""While the room fills, in a real Chromium on the page that the real grader feeds: the join
address and its QR code (drawn by the server, nothing from the internet), and the lobby of the
names of students as they register."""

import pytest
import requests

from grader.live.checks import fibonacci
from tests.leaderboard.browser import chromium, left_loopback, open_board, register_class  # noqa: F401
from tests.leaderboard.qr import modules

JOIN_URL = "http://192.0.2.10:8888/lab?token=0123456789abcdef"  # TEST-NET: nothing may ever ask it
WAIT = 5_000  # ms for what the grader and the page do after a registration


@pytest.fixture
def service_options():
    return {"join_url": JOIN_URL, "class_size": 3}


def test_the_join_address_shows_large_with_its_qr_code_drawn_without_the_internet(open_board, service):
    import segno
    from playwright.sync_api import expect

    page = open_board()
    assert requests.get(f"{service.url}/progress", timeout=5).status_code == 404  # no instructor token: no grid
    expect(page.locator("#join .join-url"), "the join address as text").to_have_text(JOIN_URL)
    expect(page.locator("body"), "the join panel large while nobody is there").to_have_class("join-large")
    drawn = modules(page.locator("#join .qr-box").inner_html())
    assert drawn == [list(map(bool, row)) for row in segno.make(JOIN_URL, error="m").matrix]
    box = page.locator("#join svg.qr").bounding_box()
    assert box["width"] >= 400 and box["height"] >= 400, f"a QR code of {box} is small for the back of the room"
    assert left_loopback(page) == [], "the page asked the internet"
    assert page.requested, "no request recorded at all"


def test_the_join_panel_shrinks_once_the_class_is_there_and_its_button_brings_it_back(open_board, service, vhost):
    from playwright.sync_api import expect

    page = open_board()
    large = page.locator("#join svg.qr").bounding_box()["width"]
    register_class(vhost.url, service, ["Ada Lovelace", "Bob", "Cy"])  # the class size
    expect(page.locator("body"), "the join panel small with 3 of 3 there").to_have_class("join-small", timeout=WAIT)
    assert page.locator("#join svg.qr").bounding_box()["width"] < large / 2
    expect(page.locator("#chart"), "the chart, once the panel is small").to_be_visible()
    page.get_by_role("button", name="larger").click()
    expect(page.locator("body"), "the join panel large again, by hand").to_have_class("join-large")


def test_names_appear_in_the_lobby_as_students_register_and_leave_it_when_they_score(open_board, make_student):
    from playwright.sync_api import expect

    page = open_board()
    lobby = page.locator("#lobby-names li")
    expect(page.locator("#lobby-count"), "an empty lobby").to_have_text("nobody yet: be the first")
    ada, bob = make_student("Ada Lovelace"), make_student("Bob")
    ada.register()
    expect(lobby, "Ada in the lobby").to_have_text(["Ada Lovelace"], timeout=WAIT)
    bob.register()
    expect(lobby, "Bob first, the newest, then Ada").to_have_text(["Bob", "Ada Lovelace"], timeout=WAIT)
    expect(page.locator("#lobby-count"), "two registered").to_have_text("2 registered")
    [(_, task)] = ada.tasks(1)
    assert ada.answer(task["n"], fibonacci(task["n"]))["points"] == 1
    expect(lobby, "Ada out of the lobby once she scored").to_have_text(["Bob"], timeout=WAIT)
    expect(page.locator("#lobby-count"), "who is still waiting").to_have_text("2 registered · 1 yet to solve a task")
    assert left_loopback(page) == []

"""The instructor's control panel on a real page in a real Chromium, over the real grader and
broker: freeze the board, rename and remove players, deal, start again; and nobody without the
instructor token can do any of it."""

import json
import uuid

import pika
import pytest
import requests

from grader import names
from grader.lab import wait_until
from tests.leaderboard.browser import chromium, open_board, register_class  # noqa: F401

TOKEN = "instructor-" + uuid.uuid4().hex
WORKSHOP = "summercamp"
ACTIONS = ("freeze", "rename", "remove", "reset", "deal")


@pytest.fixture
def service_options():
    return {"instructor_token": TOKEN, "deal_on_register": 0}


def act(service, action: str, body: dict, token: str | None = TOKEN) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(f"{service.url}/api/admin/{action}", data=json.dumps(body), headers=headers, timeout=10)


def test_without_the_token_nothing_can_be_changed_and_the_panel_does_not_open(service, vhost):
    register_class(vhost.url, service, ["Ada Lovelace"])
    assert requests.get(f"{service.url}/admin", timeout=5).status_code == 403
    assert requests.get(f"{service.url}/admin?token=wrong", timeout=5).status_code == 403
    for action in ACTIONS:
        for token in (None, "wrong", TOKEN[:-1]):
            response = act(service, action, {"slug": "ada-lovelace", "name": "X", "frozen": True,
                                             "confirm": WORKSHOP, "count": 1}, token)
            assert response.status_code == 403, (action, token)
    assert [(s, n) for s, n in service.store.registered()] == [("ada-lovelace", "Ada Lovelace")]


def test_bad_requests_get_a_sentence_and_change_nothing(service, vhost):
    register_class(vhost.url, service, ["Ada Lovelace"])
    for action, body in (("rename", {"slug": "nobody", "name": "X"}), ("rename", {"slug": "ada-lovelace", "name": ""}),
                         ("rename", {"slug": "ada-lovelace", "name": "Аda Lovelace"}),  # a Cyrillic А
                         ("remove", {"slug": "nobody"}), ("reset", {"confirm": "yes"}), ("deal", {"count": 0}),
                         ("deal", {"count": "3"}), ("freeze", {"frozen": "yes"}), ("nothing", {})):
        response = act(service, action, body)
        assert response.status_code in (400, 404), (action, body)
        assert response.json()["ok"] is False and response.json()["message"], (action, body)
    bad = requests.post(f"{service.url}/api/admin/rename", data=b"[1", timeout=5,
                        headers={"Authorization": f"Bearer {TOKEN}"})
    assert bad.status_code == 400
    assert [(s, n) for s, n in service.store.registered()] == [("ada-lovelace", "Ada Lovelace")]


def test_the_panel_renames_removes_deals_and_resets_and_the_board_follows(chromium, open_board, service, vhost):
    from playwright.sync_api import expect

    register_class(vhost.url, service, ["Ada Lovelace", "Bob Bobson"])
    board = open_board()
    expect(board.locator("#board tbody tr"), "both players on the board").to_have_count(2, timeout=10_000)
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    panel = context.new_page()
    try:
        panel.goto(f"{service.url}/admin?token={TOKEN}")
        ada = panel.locator("#players tr[data-slug='ada-lovelace']")
        expect(ada, "Ada on the panel").to_have_count(1, timeout=10_000)
        ada.locator("input.new-name").fill("Augusta Ada King")
        ada.locator("button.rename").click()
        expect(panel.locator("#message"), "the rename's answer").to_contain_text("Augusta Ada King", timeout=10_000)
        expect(board.locator("#board tbody tr[data-slug='ada-lovelace'] td.name"),
               "the board showing the new name").to_have_text("Augusta Ada King", timeout=10_000)

        panel.locator("#players tr[data-slug='bob-bobson'] button.remove").click()
        expect(board.locator("#board tbody tr"), "Bob gone from the board").to_have_count(1, timeout=10_000)
        assert [slug for slug, _ in service.store.registered()] == ["ada-lovelace"]

        panel.locator("#deal-count").fill("2")
        panel.locator("#deal").click()
        expect(panel.locator("#message"), "the deal's answer").to_contain_text("dealt 2 tasks to 1 student",
                                                                              timeout=10_000)
        connection = pika.BlockingConnection(pika.URLParameters(vhost.url))
        queue = names.tasks_queue(WORKSHOP, "ada-lovelace")
        count = connection.channel().queue_declare(queue, passive=True).method.message_count
        connection.close()
        assert count == 2

        panel.locator("#reset-confirm").fill("not the id")
        panel.locator("#reset").click()
        expect(panel.locator("#message"), "a reset refused without the workshop id").to_contain_text(
            f'"confirm": "{WORKSHOP}"', timeout=10_000)
        panel.locator("#reset-confirm").fill(WORKSHOP)
        panel.locator("#reset").click()
        expect(board.locator("#board tbody tr"), "an empty board after the reset").to_have_count(0, timeout=10_000)
        assert service.store.registered() == []
    finally:
        context.close()


def test_a_frozen_board_keeps_what_it_shows_until_it_is_live_again(open_board, service, vhost):
    from playwright.sync_api import expect

    register_class(vhost.url, service, ["Ada Lovelace"])
    board = open_board()
    expect(board.locator("#board tbody tr"), "Ada on the board").to_have_count(1, timeout=10_000)
    assert act(service, "freeze", {"frozen": True}).json()["ok"]
    expect(board.locator("body"), "the board marked frozen").to_have_attribute("data-frozen", "true", timeout=10_000)
    register_class(vhost.url, service, ["Bob Bobson"])
    later = open_board()  # a page opened while frozen shows the frozen board too
    expect(later.locator("#status"), "the frozen state on a new page").to_have_text("frozen by the instructor",
                                                                                   timeout=10_000)
    for page in (board, later):
        expect(page.locator("#board tbody tr"), "still one row while frozen").to_have_count(1)
    wait_until(lambda: len(service.store.registered()) == 2, timeout=10, what="Bob registered in the store")
    assert act(service, "freeze", {"frozen": False}).json()["ok"]
    for page in (board, later):
        expect(page.locator("#board tbody tr"), "both rows once live again").to_have_count(2, timeout=10_000)
        expect(page.locator("body"), "no longer frozen").to_have_attribute("data-frozen", "false")

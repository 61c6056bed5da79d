"""A headless Chromium (Debian's) on the leaderboard, at a projector's size, that records every
request the page makes; and a class of students registered at once.

The page's Content-Security-Policy forbids eval, so these helpers never hand Playwright a string
of JavaScript: they read the page through locators and wait with `expect`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from urllib.parse import quote, urlsplit

import pika
import pytest

from grader import names
from grader.lab import wait_until

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PROJECTOR = {"width": 1920, "height": 1080}
LOOPBACK = {"127.0.0.1", "localhost", "[::1]"}


@pytest.fixture(scope="module")
def chromium():
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("CI needs Debian's chromium (apt-get install chromium) for the browser tests")
        pytest.skip("no /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def open_board(chromium, service):
    """`open_board(query="", viewport=PROJECTOR)`: the leaderboard in a new browser context, once it
    rendered for the first time. Each page records the URLs it requested (`requested`), its
    dialogs, and what the CSP refused; no CSP refusal is allowed."""
    from playwright.sync_api import expect

    contexts = []

    def open_(query: dict | None = None, viewport: dict = PROJECTOR):
        context = chromium.new_context(viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        page.requested, page.dialogs, page.errors = [], [], []
        page.on("request", lambda request: page.requested.append(request.url))
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        page.on("console", lambda message: "Content Security Policy" in message.text
                and page.errors.append(message.text))
        search = "&".join(f"{key}={quote(str(value))}" for key, value in (query or {}).items())
        page.goto(service.url + ("/?" + search if search else "/"))
        expect(page.locator("body"), "the page's first render").to_have_attribute(
            "data-updates", re.compile(r"^\d+$"), timeout=10_000)
        return page

    yield open_
    for context in contexts:
        for page in context.pages:
            assert page.errors == [], page.errors
        context.close()


def left_loopback(page) -> list[str]:
    """The requests of `page` that went anywhere but this machine's loopback."""
    return [url for url in page.requested if urlsplit(url).scheme not in ("data", "about")
            and (urlsplit(url).hostname or "") not in {host.strip("[]") for host in LOOPBACK}]


def register_class(vhost_url: str, service, people: list[str], *, timeout: float = 60) -> None:
    """Register every name of `people` (one connection, each registration confirmed by the broker),
    and wait until the grader has them all in the store. If it does not, say where they are."""
    connection = pika.BlockingConnection(pika.URLParameters(vhost_url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        for name in people:
            channel.basic_publish("", names.REGISTER_QUEUE, json.dumps({"name": name}).encode(), mandatory=True)
    finally:
        connection.close()
    try:
        wait_until(lambda: len(service.store.registered()) >= len(people), timeout=timeout,
                   what=f"the grader registering all {len(people)} students")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; {_where_they_are(vhost_url, service)}") from None


def _where_they_are(vhost_url: str, service) -> str:
    """What the store, the grader and the queue `name` say, for a failure's message (never raises)."""
    try:
        graded = [worker.graded for worker in service.service.workers if hasattr(worker, "graded")]
        connection = pika.BlockingConnection(pika.URLParameters(vhost_url))
        try:
            ok = connection.channel().queue_declare(names.REGISTER_QUEUE, passive=True).method
        finally:
            connection.close()
        return (f"registered: {service.store.registered()}; the grader graded {graded} messages; `name` has "
                f"{ok.message_count} ready and {ok.consumer_count} consumers")
    except Exception as exc:  # noqa: BLE001 - the failure is the timeout; this only adds to it
        return f"(and looking further failed: {exc!r})"

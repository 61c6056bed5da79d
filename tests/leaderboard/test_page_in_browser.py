"""The leaderboard page in a real headless Chromium (Debian's), driven by Playwright."""

import os
import shutil

import pytest

from grader.live.checks import fibonacci

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
XSS = "<img src=x onerror=alert(1)>"


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
def page(chromium, service):
    context = chromium.new_context(viewport={"width": 1600, "height": 900})
    opened = context.new_page()
    opened.dialogs = []
    opened.on("dialog", lambda dialog: (opened.dialogs.append(dialog.message), dialog.dismiss()))
    opened.goto(service.url)
    opened.wait_for_function("window.leaderboardUpdates > 0", timeout=10_000)
    yield opened
    context.close()


def test_a_correct_answer_appears_on_the_open_page_within_two_seconds_without_reload(page, student):
    student.register()
    [(properties, task)] = student.tasks(1)
    page.evaluate("window.sameDocument = true")
    student.send("summercamp.results", {"n": task["n"], "Fn": fibonacci(task["n"]), "name": "Ada Lovelace"})
    page.wait_for_function(
        """() => [...document.querySelectorAll('#board tbody tr')].some(
               tr => tr.dataset.slug === 'ada-lovelace' && tr.querySelector('td.points').textContent === '2')""",
        timeout=2_000,
    )
    assert page.evaluate("window.sameDocument") is True  # no reload happened
    assert "first solver" in page.inner_text("#board tbody tr[data-slug='ada-lovelace']")


def test_a_name_full_of_markup_shows_as_text_and_runs_nothing(page, make_student):
    make_student(XSS).register()
    row = "#board tbody tr[data-slug='img-src-x-onerror-alert-1']"
    page.wait_for_selector(row, timeout=5_000)
    assert page.eval_on_selector(f"{row} td.name", "cell => cell.firstChild.textContent") == XSS
    assert page.eval_on_selector_all("#board img, #legend img", "images => images.length") == 0
    assert page.dialogs == []

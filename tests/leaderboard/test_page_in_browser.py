"""The leaderboard page in a real headless Chromium (Debian's), driven by Playwright.

The page's Content-Security-Policy forbids eval, so the tests never hand Playwright a string of
JavaScript: they read the page through locators and wait with `expect`, on what the page sets
after each render (`<body data-updates=... data-version=...>`, the newest verdict id it shows).
"""

import re

import pytest
import requests

from grader.live.checks import fibonacci
from grader.live.dealer import deal
from tests.leaderboard.browser import chromium  # noqa: F401 - the browser fixture
from tests.leaderboard.conftest import latest_verdict

XSS = "<img src=x onerror=alert(1)>"
FIRST = "★ first solver"


@pytest.fixture
def open_page(chromium, service):
    """Opens the leaderboard in a new browser context, once it rendered for the first time. Each page
    records its dialogs, its navigations after the first, and what the CSP refused."""
    from playwright.sync_api import expect

    contexts = []

    def open_():
        context = chromium.new_context(viewport={"width": 1600, "height": 900})
        contexts.append(context)
        opened = context.new_page()
        opened.dialogs, opened.navigations, opened.errors = [], [], []
        opened.on("dialog", lambda dialog: (opened.dialogs.append(dialog.message), dialog.dismiss()))
        opened.on("console", lambda message: "Content Security Policy" in message.text
                  and opened.errors.append(message.text))
        opened.goto(service.url)
        expect(opened.locator("body"), "the page's first render").to_have_attribute(
            "data-updates", re.compile(r"^\d+$"), timeout=10_000)
        opened.on("framenavigated", lambda frame: opened.navigations.append(frame.url))
        return opened

    yield open_
    for context in contexts:
        for opened in context.pages:
            assert opened.errors == [], opened.errors
        context.close()


@pytest.fixture
def page(open_page):
    return open_page()


def wait_until_current(page, service, *, timeout: float = 10) -> None:
    """Until the page shows the store's newest verdict."""
    from playwright.sync_api import expect

    latest = latest_verdict(service.store)
    expect(page.locator("body"), f"the page showing verdict {latest}").to_have_attribute(
        "data-version", str(latest), timeout=timeout * 1000)


def table(page) -> list[tuple]:
    """The page's table: (slug, rank, name cell, register, fibonacci, points) per row."""
    body = page.locator("#board tbody")
    slugs = [row.get_attribute("data-slug") for row in body.locator("tr").all()]
    columns = [body.locator(f"td.{name}").all_text_contents()
               for name in ("rank", "name", "register", "fibonacci", "points")]
    return list(zip(slugs, *columns))


def expected_table(service) -> list[tuple]:
    rows = requests.get(f"{service.url}/api/leaderboard", timeout=5).json()
    return [(r["slug"], str(r["rank"]), r["name"] + (FIRST if r["first_solver"] else ""), str(r["register"]),
             str(r["fibonacci"]), str(r["points"])) for r in rows]


def test_a_correct_answer_appears_on_the_open_page_within_two_seconds_without_reload(page, student):
    from playwright.sync_api import expect

    student.register()
    [(properties, task)] = student.tasks(1)
    student.send("summercamp.results", {"n": task["n"], "Fn": fibonacci(task["n"]), "name": "Ada Lovelace"})
    row = page.locator("#board tbody tr[data-slug='ada-lovelace']")
    expect(row.locator("td.points"), "Ada's 2 points").to_have_text("2", timeout=2_000)
    expect(row.locator("td.name"), "Ada's first-solver mark").to_contain_text(FIRST, timeout=2_000)
    assert page.navigations == []  # no reload happened


def test_deltas_merge_into_the_same_table_as_the_stores(page, service, make_student, settings):
    ada, bob, cy, dan = (make_student(name) for name in ("Ada Lovelace", "Bob", "Cy", "Dan"))
    tasks = {}
    for one in (ada, bob, cy, dan):
        one.register()
        tasks[one.slug] = [task["n"] for _, task in one.tasks(1)]  # dealt on registration
    wait_until_current(page, service)
    deal(settings, service.store, 2)
    for one in (ada, bob, cy, dan):
        tasks[one.slug] += [task["n"] for _, task in one.tasks(2)]
    for one, count in ((bob, 2), (ada, 3), (cy, 2)):  # Bob and Cy tie on points: Bob got there first
        for n in tasks[one.slug][:count]:
            assert one.answer(n, fibonacci(n))["points"] == 1
    assert dan.answer(tasks[dan.slug][0], fibonacci(tasks[dan.slug][0]) + 1)["points"] == 0
    wait_until_current(page, service)
    assert table(page) == expected_table(service)
    assert [slug for slug, *_ in table(page)] == ["ada-lovelace", "bob", "cy", "dan"]


def test_a_page_that_connects_late_gets_the_full_state(open_page, service, make_student, settings):
    from playwright.sync_api import expect

    students = [make_student(f"Student {i}") for i in range(12)]
    for index, one in enumerate(students):
        one.register()
        for _, task in one.tasks(1)[: index % 2]:  # every other student scores once
            assert one.answer(task["n"], fibonacci(task["n"]))["points"] == 1
    page = open_page()
    wait_until_current(page, service)
    assert table(page) == expected_table(service)
    leaders = [name for _, _, name, *_ in expected_table(service)][:10]
    expect(page.locator("#legend li"), "the top ten in the legend").to_have_text(
        [name.removesuffix(FIRST) for name in leaders], timeout=2_000)
    expect(page.locator("#chart path"), "a line for each of the top ten").to_have_count(10, timeout=2_000)


def test_a_name_full_of_markup_shows_as_text_and_runs_nothing(page, make_student):
    from playwright.sync_api import expect

    make_student(XSS).register()
    row = page.locator("#board tbody tr[data-slug='img-src-x-onerror-alert-1']")
    expect(row.locator("td.name"), "the name as text").to_have_text(XSS, timeout=5_000)
    expect(page.locator("#legend li"), "the name in the legend as text").to_have_text([XSS], timeout=5_000)
    expect(page.locator("#board img, #legend img"), "no image made of the name").to_have_count(0)
    assert page.dialogs == []

"""A class of 60 on a 1920x1080 projector, in a real Chromium on the page the real grader feeds:
every row is shown in turn within a bounded time, `?me=` keeps one's own row in view on every
page, and the search box finds a name."""

import pytest

from tests.leaderboard.browser import chromium, left_loopback, open_board, register_class  # noqa: F401

CLASS = [f"Student {i:02d}" for i in range(60)]
ROTATE = 1.5  # seconds a page stays (?rotate=), short for the test; 10 by default
AT_MOST_PAGES = 3  # 60 rows in at most 3 pages at 1080p: at least 20 rows a page
WAIT = 10_000  # ms for the grader and the page to show the registrations


@pytest.fixture
def service_options():
    return {"deal_on_register": 0}


@pytest.fixture
def board(open_board, service, vhost):
    """Opens the board on the projector, once the whole class is on it."""
    from playwright.sync_api import expect

    register_class(vhost.url, service, CLASS)

    def open_(**query):
        page = open_board({"rotate": ROTATE} | query)
        expect(page.locator("#board tbody tr"), "a row for each of the 60").to_have_count(60, timeout=WAIT)
        return page
    return open_


def test_every_row_of_a_class_of_sixty_is_shown_readably_within_a_bounded_time(board, service):
    from playwright.sync_api import expect

    page = board()
    pages = int(page.locator("#board").get_attribute("data-pages"))
    assert 2 <= pages <= AT_MOST_PAGES, f"{pages} pages for 60 rows"
    bound = (pages + 1) * ROTATE * 1000  # a full turn of the pages, and one more page's time
    for slug, _ in sorted(service.store.registered(), key=lambda row: row[0]):  # ranked by slug: ties
        row = page.locator(f"#board tbody tr[data-slug='{slug}']")
        expect(row, f"{slug}'s row on the screen within a turn of the pages").to_be_in_viewport(
            ratio=1, timeout=bound)
        expect(row.locator("td.name"), f"{slug}'s name in large type").to_have_css("font-size", "24px")
    page.get_by_label("find a name on the board").fill("student")  # all of them; the pages stop turning
    shown = page.locator("#board tbody tr:not(.off)")
    expect(shown, "a screenful of rows").not_to_have_count(0)
    assert shown.count() >= 60 / AT_MOST_PAGES, f"only {shown.count()} rows fit"
    assert all(row.bounding_box()["height"] >= 30 for row in shown.all()), "rows too thin to read"
    assert left_loopback(page) == []


def test_me_marks_ones_own_row_and_keeps_it_in_view_while_the_pages_turn(board):
    from playwright.sync_api import expect

    page = board(me="Student 45")
    mine = page.locator("#board tbody tr[data-slug='student-45']")
    expect(mine, "the row of ?me= marked").to_have_class("me")
    board_ = page.locator("#board")
    seen = set()
    for _ in range(4):  # every page at least once, and the first again
        current = board_.get_attribute("data-page")
        seen.add(current)
        expect(mine, f"Student 45's row in view on page {current}").to_be_in_viewport(ratio=1)
        expect(board_, f"the page after {current}").not_to_have_attribute("data-page", current,
                                                                           timeout=ROTATE * 2000)
    assert len(seen) >= 2, f"the pages did not turn: {seen}"
    expect(page.locator("#board tbody tr.me"), "one row is mine").to_have_count(1)


def test_the_search_box_shows_the_rows_of_the_names_found_and_stops_the_turning(board):
    from playwright.sync_api import expect

    page = board()
    page.get_by_label("find a name on the board").fill("student 5")
    found = page.locator("#board tbody tr:not(.off)")
    expect(found, "the ten students 50 to 59").to_have_count(10)
    expect(found.locator("td.name"), "their names").to_have_text([f"Student 5{i}" for i in range(10)])
    expect(page.locator("#pager"), "how many were found").to_have_text("10 found")
    page.wait_for_timeout(ROTATE * 1000 * 2)  # two turns' time: the found rows stay
    expect(found, "still the ten students 50 to 59").to_have_count(10)
    page.get_by_label("find a name on the board").fill("")
    expect(page.locator("#pager"), "the pages again").to_contain_text("page")

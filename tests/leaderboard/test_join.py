"""The join panel, without a broker: the page as the server fills it, and the flags that set it."""

import re

import pytest
import segno

from grader.cli import build_parser
from grader.leaderboard import join
from grader.leaderboard.web import STATIC
from tests.leaderboard.qr import modules

TEMPLATE = (STATIC / "index.html").read_text(encoding="utf-8")
URL = "http://192.0.2.10:8888/lab?token=a&b=<c>"


def test_the_page_has_the_join_address_as_text_and_a_qr_code_of_it():
    page = join.page(TEMPLATE, join.Join(URL, class_size=30))
    assert 'data-class-size="30"' in page and join.JOIN_MARK not in page
    assert "http://192.0.2.10:8888/lab?token=a&amp;b=&lt;c&gt;" in page and "<c>" not in page
    svg = re.search(r'<svg viewBox="[^"]+" class="qr">.*?</svg>', page).group(0)
    assert modules(svg) == [list(map(bool, row)) for row in segno.make(URL, error="m").matrix]


def test_without_an_address_the_page_has_no_join_panel():
    page = join.page(TEMPLATE, join.Join())
    assert 'id="join"' not in page and 'data-class-size="0"' in page


@pytest.mark.parametrize("url", ["192.0.2.10:8888", "ftp://host/", "http://", "javascript:alert(1)"])
def test_an_address_students_could_not_open_is_refused_with_the_flag_to_fix(url):
    with pytest.raises(join.InvalidJoinUrl, match="--join-url"):
        join.Join(url)


def test_serve_and_up_take_the_join_address_from_the_flag_or_the_environment(monkeypatch):
    monkeypatch.setenv("WORKSHOP_JOIN_URL", "http://hub.example:8000/")
    monkeypatch.setenv("WORKSHOP_CLASS_SIZE", "60")
    serve = build_parser().parse_args(["serve"])
    assert (serve.join_url, serve.class_size) == ("http://hub.example:8000/", 60)
    up = build_parser().parse_args(["up", "--join-url", URL, "--class-size", "12"])
    assert (up.join_url, up.class_size) == (URL, 12)
    monkeypatch.delenv("WORKSHOP_JOIN_URL")
    monkeypatch.delenv("WORKSHOP_CLASS_SIZE")
    assert (build_parser().parse_args(["serve"]).join_url, build_parser().parse_args(["serve"]).class_size) == (None, 0)

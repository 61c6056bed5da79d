"""The join address on the page: the URL students open, and a QR code of it drawn here, offline.

The page is served with the address and the QR code (an inline SVG made by segno) already in it,
so a room without the internet shows them at once, and nothing the page draws comes from a
script: a URL is escaped as text, the SVG is segno's paths.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from urllib.parse import urlsplit

import segno

from grader.errors import WorkshopError

JOIN_MARK = "<!-- join -->"  # where index.html takes the join panel
ROOM_MARK = 'data-class-size="0"'  # on index.html's <body>: how many students the instructor expects


class InvalidJoinUrl(WorkshopError, ValueError):
    """A join address that students could not open."""


@dataclass(frozen=True)
class Join:
    """What the page shows to let students in. `url` None: no join panel. `class_size`: the join
    panel is large until this many students have registered (0: until someone solves a task)."""

    url: str | None = None
    class_size: int = 0

    def __post_init__(self):
        if self.url is not None:
            check_url(self.url)


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidJoinUrl(f"{url!r} is not an address students can open (for example "
                             "http://192.168.1.20:8888/); check --join-url")
    return url


def qr_svg(url: str) -> str:
    """The QR code of `url` as an inline <svg> that scales to its box (a viewBox, no size)."""
    code = segno.make(url, error="m", micro=False)
    return code.svg_inline(omitsize=True, border=2, dark="#000", light="#fff", svgclass="qr",
                           lineclass=None, title=f"QR code of {url}")


def panel(url: str) -> str:
    """The join panel: the address as text and its QR code."""
    shown = html.escape(url, quote=True)
    return (f'<section id="join" class="join" aria-label="join the workshop" data-url="{shown}">'
            f'<div class="qr-box">{qr_svg(url)}</div>'
            f'<div class="join-text"><p class="join-title">Join the workshop</p>'
            f'<p class="join-url"><a href="{shown}">{shown}</a></p>'
            f'<button id="join-toggle" type="button" class="join-toggle">smaller</button></div>'
            f'</section>')


def page(template: str, join: Join) -> str:
    """index.html with the join panel (when there is an address) and the class size in it."""
    filled = template.replace(ROOM_MARK, f'data-class-size="{int(join.class_size)}"', 1)
    return filled.replace(JOIN_MARK, panel(join.url) if join.url else "", 1)

"""The printable sheet of account cards: cut along the lines, hand one to each student.

One self-contained HTML page (no fonts, scripts or images from anywhere), nine cards to an A4
page when printed. Every value is escaped: a name on the roster is never markup.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Protocol

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1rem; }
h1 { font-size: 1.2rem; }
.sheet { display: grid; grid-template-columns: repeat(3, 1fr); gap: 0; }
.card { border: 1px dashed #888; padding: 0.8rem; break-inside: avoid; min-height: 5.5cm; }
.card h2 { font-size: 1.1rem; margin: 0 0 0.4rem; }
.card dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.15rem 0.6rem; margin: 0; }
.card dt { color: #555; }
.card dd { margin: 0; font-family: ui-monospace, monospace; overflow-wrap: anywhere; }
.instructor { background: #fff6d5; }
@media print { body { margin: 0; } h1, .note { display: none; } }
"""


class Card(Protocol):
    name: str
    role: str
    user: str
    password: str
    vhost: str


def render(accounts: Iterable[Card], *, workshop: str, join_url: str = "") -> str:
    cards = "\n".join(_card(account, join_url) for account in accounts)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Accounts for {escape(workshop)}</title><style>{STYLE}</style></head>
<body><h1>Accounts for the workshop {escape(workshop)}</h1>
<p class="note">Print this page and cut along the dashed lines: one card per student. It holds
passwords: do not leave it on a shared screen.</p>
<div class="sheet">
{cards}
</div></body></html>
"""


def _card(account: Card, join_url: str) -> str:
    rows = [("join at", join_url or "the address on the board"), ("user", account.user),
            ("password", account.password), ("your vhost", account.vhost)]
    lines = "".join(f"<dt>{escape(title)}</dt><dd>{escape(value)}</dd>" for title, value in rows)
    extra = ' instructor' if account.role == "instructor" else ''
    return f'<section class="card{extra}"><h2>{escape(account.name)}</h2><dl>{lines}</dl></section>'

"""Self-contained HTML pages for the instructor and the students: one file each, no script, no
request anywhere (the Content-Security-Policy allows only the page's own stylesheet, by its hash).

Everything put into a page goes through `esc`.
"""

from __future__ import annotations

import base64
import hashlib
import html

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; color: #1d2733; margin: 0 auto; max-width: 60rem; padding: 1rem 1.5rem 3rem; }
h1 { margin: .6rem 0 .2rem; font-size: 1.6rem; } h2 { font-size: 1.15rem; margin: 0 0 .5rem; }
.who { color: #4a5868; margin: 0 0 1.2rem; }
section { border: 1px solid #d5dbe3; border-left: 6px solid #2f9e44; border-radius: 6px; padding: .8rem 1rem; margin: 0 0 1rem; }
section.failed { border-left-color: #d9480f; } section.pending { border-left-color: #868e96; }
.points { float: right; font-weight: 600; font-variant-numeric: tabular-nums; }
ul.checks { list-style: none; padding: 0; margin: .4rem 0 0; } ul.checks li { margin: .3rem 0; }
.ok::before { content: "\\2714  "; color: #2f9e44; } .fail::before { content: "\\2718  "; color: #d9480f; }
.wait::before { content: "\\2022  "; color: #868e96; }
.message { display: block; margin: .2rem 0 0 1.4rem; white-space: pre-wrap; }
pre { background: #f4f6f8; border-radius: 4px; padding: .6rem .8rem; overflow-x: auto; font-size: 13px; margin: .4rem 0; }
.raised { color: #d9480f; margin: 0 0 .4rem; } summary { cursor: pointer; color: #4a5868; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #e3e7ec; padding: .25rem .6rem; text-align: right; } th:first-child, td:first-child { text-align: left; }
svg { display: block; max-width: 100%; height: auto; margin: .5rem 0; }
.legend span { margin-right: 1rem; } .note { color: #4a5868; }
"""


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def points(value: float | None) -> str:
    """1.0 -> "1", 0.5 -> "0.5"; None (not graded) -> "–"."""
    return "–" if value is None else f"{value:g}"


def page(title: str, body: str) -> str:
    """A whole HTML document around `body` (already escaped), with the page's stylesheet."""
    digest = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
    policy = f"default-src 'none'; style-src 'sha256-{digest}'; img-src data:; base-uri 'none'; form-action 'none'"
    return (f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{esc(policy)}">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta name="referrer" content="no-referrer">\n'
            f"<title>{esc(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")

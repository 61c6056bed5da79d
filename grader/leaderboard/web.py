"""The leaderboard's web server (tornado): the page, its JSON and CSV, and the live event stream.

Everything the page needs is served from here; nothing is loaded from the internet.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import tornado.web
from tornado.iostream import StreamClosedError

from grader.leaderboard import instructor
from grader.leaderboard.hub import Hub
from grader.leaderboard.join import Join, page
from grader.leaderboard.progress import Grid
from grader.live import standings
from grader.live.store import Store

STATIC = Path(__file__).parent / "static"
SECURITY_HEADERS = {
    # Only our own script and style: a name that sneaks markup into the page cannot run anything.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class Base(tornado.web.RequestHandler):
    def initialize(self, store: Store, hub: Hub):
        self.store, self.hub = store, hub

    def set_default_headers(self):
        for name, value in SECURITY_HEADERS.items():
            self.set_header(name, value)


class Page(Base):
    """index.html, with the join address and its QR code in it (`grader.leaderboard.join`)."""

    def initialize(self, store: Store, hub: Hub, html: bytes):
        super().initialize(store, hub)
        self.html = html

    def get(self):
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        self.write(self.html)


class Leaderboard(Base):
    async def get(self):
        rows = await asyncio.to_thread(standings.leaderboard, self.store)
        self.set_header("Content-Type", "application/json")
        self.write(json.dumps(rows))


class Snapshot(Base):
    async def get(self):
        snapshot = await asyncio.to_thread(standings.snapshot, self.store)
        self.set_header("Content-Type", "application/json")
        self.write(json.dumps(snapshot))


class Export(Base):
    async def get(self):
        rows = await asyncio.to_thread(standings.leaderboard, self.store)
        self.set_header("Content-Type", "text/csv; charset=utf-8")
        self.set_header("Content-Disposition", f'attachment; filename="{self.store.workshop}-leaderboard.csv"')
        self.write(standings.to_csv(rows))


class Events(Base):
    """Server-sent events: a `snapshot` first, then a `delta` with what changed whenever verdicts
    are committed (see `grader.leaderboard.hub`)."""

    async def get(self):
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        queue = self.hub.subscribe()
        try:
            await self.flush()  # the headers: the page knows it is connected
            while True:
                self.write(await queue.get())
                await self.flush()
        except StreamClosedError:
            pass
        finally:
            self.hub.unsubscribe(queue)  # a closed page: the next write raised StreamClosedError


def make_app(store: Store, hub: Hub, join: Join | None = None, *, grid: Grid | None = None,
             instructor_token: str | None = None, deal=None) -> tornado.web.Application:
    """The page and its data; with `instructor_token`, the instructor's pages and actions too
    (`grader.leaderboard.instructor`; `deal(count)` deals more tasks to everyone)."""
    deps = {"store": store, "hub": hub}
    html = page((STATIC / "index.html").read_text(encoding="utf-8"), join or Join()).encode()
    mine = deps | {"grid": grid, "token": instructor_token, "deal": deal, "headers": SECURITY_HEADERS}
    return tornado.web.Application([
        *instructor.routes(mine),
        (r"/", Page, deps | {"html": html}),
        (r"/api/leaderboard", Leaderboard, deps),
        (r"/api/snapshot", Snapshot, deps),
        (r"/export\.csv", Export, deps),
        (r"/events", Events, deps),
        (r"/static/(.*)", tornado.web.StaticFileHandler, {"path": str(STATIC)}),
    ])

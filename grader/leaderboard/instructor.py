"""The instructor's pages and actions, behind the instructor token (`serve --instructor-token`).

`/progress` is the class progress grid. `/admin` is the control panel: freeze the board (pages
keep what they show), rename or remove a player, deal more tasks to everyone, start the live
exercise again from nothing, export the board. The token comes as `?token=` on the pages and
as `Authorization: Bearer <token>` on the actions (the panel's script sends it so); students do
not have it, so they only read. Without a token configured, none of this exists (404).
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Callable
from pathlib import Path

import tornado.web

from grader.leaderboard.hub import Hub
from grader.leaderboard.progress import Grid
from grader.live import admin
from grader.live.store import Store

STATIC = Path(__file__).parent / "static"
MAX_DEAL = 20


class InstructorOnly(tornado.web.RequestHandler):
    def initialize(self, store: Store, hub: Hub, token: str | None, grid: Grid | None = None,
                   deal: Callable[[int], dict] | None = None, headers: dict | None = None):
        self.store, self.hub, self.token, self.grid, self.deal = store, hub, token, grid, deal
        self.headers = headers or {}
        self.set_default_headers()  # tornado's first clear() ran before initialize; an error's clear() runs it again

    def set_default_headers(self):
        for name, value in getattr(self, "headers", {}).items():
            self.set_header(name, value)

    def prepare(self):
        if not self.token:
            raise tornado.web.HTTPError(404, reason="No instructor pages: start serve with --instructor-token")
        given = self.get_query_argument("token", "") or \
            self.request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            raise tornado.web.HTTPError(403, reason="This needs the instructor token")
        self.set_header("Cache-Control", "no-store")

    def write_error(self, status_code: int, **kwargs):
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"ok": False, "message": self._reason}))


class Page(InstructorOnly):
    def initialize(self, page: str, **deps):
        super().initialize(**deps)
        self.page = page

    def write_error(self, status_code: int, **kwargs):  # a person reads this one, in a browser
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(f"{status_code}: {self._reason}. Open the address `workshop up` or `serve` printed, with "
                    "?token=<the instructor token>.\n")

    def get(self):
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.write((STATIC / self.page).read_bytes())


class ProgressData(InstructorOnly):
    def get(self):
        self.set_header("Content-Type", "application/json")
        self.write(json.dumps(self.grid.snapshot() if self.grid is not None else {}))


class Action(InstructorOnly):
    """POST /api/admin/<action> with a JSON body; answers {"ok", "message"}."""

    async def post(self, action: str):
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise tornado.web.HTTPError(400, reason="send a JSON object")
        handler = getattr(self, f"do_{action}", None)
        if handler is None:
            raise tornado.web.HTTPError(404, reason=f"no action {action!r}")
        try:
            message = await handler(body)
        except admin.AdminError as exc:
            raise tornado.web.HTTPError(400, reason=str(exc)) from None
        self.set_header("Content-Type", "application/json")
        self.write(json.dumps({"ok": True, "message": message}))

    async def do_freeze(self, body: dict) -> str:
        frozen = body.get("frozen")
        if not isinstance(frozen, bool):
            raise admin.AdminError('send {"frozen": true} or {"frozen": false}')
        self.hub.freeze(frozen)
        return "the board is frozen: pages keep what they show" if frozen else "the board is live again"

    async def do_rename(self, body: dict) -> str:
        slug, name = _text(body, "slug"), _text(body, "name")
        shown = await asyncio.to_thread(admin.rename, self.store, slug, name)
        self.hub.resync()
        return f"{slug} is now shown as {shown}"

    async def do_remove(self, body: dict) -> str:
        slug = _text(body, "slug")
        await asyncio.to_thread(admin.remove, self.store, slug)
        self.hub.resync()
        return f"{slug} is off the board (they may register again)"

    async def do_reset(self, body: dict) -> str:
        if body.get("confirm") != self.store.workshop:
            raise admin.AdminError(f'to start again from nothing, send {{"confirm": "{self.store.workshop}"}}')
        removed = await asyncio.to_thread(admin.reset, self.store)
        self.hub.resync()
        return f"the board is empty again ({_count(removed, 'player')} removed)"

    async def do_deal(self, body: dict) -> str:
        count = body.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_DEAL:
            raise admin.AdminError(f'"count" is a whole number from 1 to {MAX_DEAL}')
        if self.deal is None:
            raise admin.AdminError("this leaderboard cannot deal tasks")
        dealt = await asyncio.to_thread(self.deal, count)
        tasks, students = sum(map(len, dealt.values())), len(dealt)
        return f"dealt {_count(tasks, 'task')} to {_count(students, 'student')}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _text(body: dict, key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise admin.AdminError(f'"{key}" must be a non-empty string')
    return value.strip()


def routes(deps: dict) -> list[tuple]:
    """The instructor's routes; `deps`: store, hub, token, grid, deal, headers."""
    return [
        (r"/progress", Page, deps | {"page": "progress.html"}),
        (r"/admin", Page, deps | {"page": "admin.html"}),
        (r"/api/progress", ProgressData, deps),
        (r"/api/admin/([a-z]+)", Action, deps),
    ]

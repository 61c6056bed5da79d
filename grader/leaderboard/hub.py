"""Live updates for open pages: a poke ("verdicts were committed") becomes one `delta` event with
the rows that changed, read from the store, pushed to every page.

The hub keeps what the pages show (every student's row, the first solver) and the newest verdict
id it has read. On a poke it reads only what came after that id (`changes.since`): the new
scoring verdicts, for the chart, and the rows of the students they scored for. Pokes within
`WINDOW` seconds make one read. A new page, or one whose queue filled up because it did not keep
up, gets a full `snapshot` first and deltas after it.

Pokes arrive from other threads (the listener on `W.events`); everything else runs on the web
server's asyncio loop, the store reads in worker threads, one at a time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from grader.leaderboard import changes
from grader.live import standings
from grader.live.store import Store

log = logging.getLogger(__name__)

WINDOW = 0.02  # seconds: pokes closer together than this make one read and one event
SAFETY_POLL = 2.0  # read everyone's row this often anyway, in case an event was lost
KEEPALIVE = 15.0  # seconds between comments that keep idle connections open
QUEUE = 64  # events a page may have waiting; a page further behind gets a snapshot instead
MAX_KEYS = 2000  # message ids per event (the benchmark matches its answers with them)
MAX_KEY_LENGTH = 128


def clean_keys(keys: object) -> list[str]:
    """The message ids of an event anyone may publish: strings only, capped in number and length."""
    if not isinstance(keys, list):
        return []
    return [key for key in keys[:MAX_KEYS] if isinstance(key, str) and len(key) <= MAX_KEY_LENGTH]


class Hub:
    def __init__(self, store: Store, *, window: float = WINDOW):
        self.store = store
        self.window = window
        self.subscribers: set[asyncio.Queue] = set()  # pages that have the current state
        self.waiting: set[asyncio.Queue] = set()  # pages that need a snapshot first
        self.loop: asyncio.AbstractEventLoop | None = None
        self.wake: asyncio.Event | None = None
        self.keys: list[str] = []  # message ids of answers graded since the last read
        self.everyone = True  # the next read takes every student's row (the first, and the safety poll)
        self.version: int | None = None  # the newest verdict id read; None until the first read
        self.rows: dict[str, dict] = {}  # slug -> row, as the pages have it
        self.first_solver: str | None = None
        self.frozen = False  # the instructor froze the board: pages keep what they show
        self.logins: dict[str, dict] = {}  # user -> {"user", "name", "at"}: who logged into the room (lobby.py)

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.wake = asyncio.Event()
        loop.create_task(self._run())
        loop.create_task(self._safety_poll())
        loop.create_task(self._keepalive())

    # -- from any thread -----------------------------------------------------------------------

    def poke(self, keys: object = None) -> None:
        """Verdicts were committed (called from the events listener's thread); `keys` is untrusted."""
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self._poked, clean_keys(keys))

    def resync(self) -> None:
        """Everyone's rows changed behind the hub's back (the instructor renamed or removed a
        player, or reset the board): read everything again and send every page a snapshot."""
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self._resync)

    def freeze(self, frozen: bool) -> None:
        """Stop (or start again) the updates of every page; unfreezing sends a fresh snapshot."""
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self._freeze, frozen)

    def login(self, user: str, name: str, at: float) -> None:
        """A student of the room logged in (from the lobby listener's thread)."""
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self._login, user, name, at)

    # -- on the loop ---------------------------------------------------------------------------

    def _login(self, user: str, name: str, at: float) -> None:
        if user in self.logins and self.logins[user]["name"] == name:
            return  # logged in before: the lobby keeps the first arrival
        self.logins[user] = {"user": user, "name": name, "at": at}
        if self._push(_event("lobby", {"logins": list(self.logins.values())})):
            self.wake.set()  # a page that lagged gets a snapshot, which has the lobby

    def _resync(self) -> None:
        self.version, self.rows, self.first_solver, self.everyone = None, {}, None, True
        self.waiting |= self.subscribers
        self.subscribers.clear()
        self.wake.set()

    def _freeze(self, frozen: bool) -> None:
        self.frozen = frozen
        self._resync()

    def subscribe(self) -> asyncio.Queue:
        """A queue of events for a new page; the first is a snapshot."""
        queue: asyncio.Queue = asyncio.Queue(maxsize=QUEUE)
        self.waiting.add(queue)
        self.wake.set()
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self.subscribers.discard(queue)
        self.waiting.discard(queue)

    def _poked(self, keys: list[str]) -> None:
        self.keys.extend(keys)
        del self.keys[:-MAX_KEYS]
        self.wake.set()

    async def _run(self) -> None:
        last = 0.0
        while True:
            await self.wake.wait()
            await asyncio.sleep(max(0.0, last + self.window - time.monotonic()))  # gather the pokes
            self.wake.clear()
            last = time.monotonic()
            keys, self.keys = self.keys, []
            try:
                await self._update(keys)
            except Exception:  # noqa: BLE001 - the store is away for a moment; the safety poll retries
                log.exception("cannot read the store for the leaderboard")
                self.keys[:0] = keys
                del self.keys[:-MAX_KEYS]

    async def _update(self, keys: list[str]) -> None:
        """Read what changed, push it as a delta, and a snapshot to the pages that need one.
        While frozen, nothing is read: new pages get the board as it was when it froze."""
        if self.frozen and self.version is not None:
            if self.waiting:
                await self._send_snapshots(keys)
            return
        everyone, self.everyone = self.everyone, False
        found = await asyncio.to_thread(self._read, everyone)
        rows = [row for row in found.rows if self.rows.get(row["slug"]) != row]
        news = rows or keys or (found.version, found.first_solver) != (self.version, self.first_solver)
        self.rows.update((row["slug"], row) for row in rows)
        self.version, self.first_solver = found.version, found.first_solver
        if found.more:
            self.wake.set()
        if news:
            delta = _event("delta", {"rows": rows, "scored": found.scored, "first_solver": self.first_solver,
                                     "version": self.version, "keys": keys, "sent_at": time.time()})
            self._push(delta)
        if self.waiting:
            await self._send_snapshots(keys)

    def _push(self, event: str) -> bool:
        """`event` to every page; a page that does not keep up starts again from a snapshot (True
        if there is such a page)."""
        lagging = False
        for queue in list(self.subscribers):
            if queue.full():
                _drain(queue)
                self.subscribers.discard(queue)
                self.waiting.add(queue)
                lagging = True
            else:
                queue.put_nowait(event)
        return lagging

    def _read(self, everyone: bool) -> changes.Changes:
        if self.version is None:
            return changes.start(self.store)
        return changes.since(self.store, self.version, everyone=everyone, solver=self.first_solver)

    async def _send_snapshots(self, keys: list[str]) -> None:
        history = await asyncio.to_thread(standings.history, self.store, list(self.rows), until=self.version)
        snapshot = _event("snapshot", {"workshop": self.store.workshop, "rows": list(self.rows.values()),
                                       "first_solver": self.first_solver, "history": history,
                                       "frozen": self.frozen, "logins": list(self.logins.values()),
                                       "version": self.version, "keys": keys, "sent_at": time.time()})
        for queue in list(self.waiting):  # pages that went away meanwhile are no longer here
            _drain(queue)
            queue.put_nowait(snapshot)
            self.waiting.discard(queue)
            self.subscribers.add(queue)

    async def _safety_poll(self) -> None:
        while True:
            await asyncio.sleep(SAFETY_POLL)
            self.everyone = True
            self.wake.set()

    async def _keepalive(self) -> None:
        while True:
            await asyncio.sleep(KEEPALIVE)
            for queue in list(self.subscribers):
                if not queue.full():
                    queue.put_nowait(": keepalive\n\n")


def _event(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def _drain(queue: asyncio.Queue) -> None:
    while not queue.empty():
        queue.get_nowait()

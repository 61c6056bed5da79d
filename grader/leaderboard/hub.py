"""Live updates for open pages: a poke ("verdicts were committed") becomes one fresh snapshot
pushed to every page, at most every `min_interval` seconds however fast the pokes come.

Pokes arrive from other threads (the listener on `W.events`); everything else runs on the
web server's asyncio loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from sqlalchemy import func, select

from grader.live import standings
from grader.live.store import Store, verdicts

log = logging.getLogger(__name__)

MIN_INTERVAL = 0.1  # seconds between two pushes
SAFETY_POLL = 2.0  # look at the store this often anyway, in case an event was lost
KEEPALIVE = 15.0  # seconds between comments that keep idle connections open
MAX_KEYS = 2000


class Hub:
    def __init__(self, store: Store, *, min_interval: float = MIN_INTERVAL):
        self.store = store
        self.min_interval = min_interval
        self.subscribers: set[asyncio.Queue] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.keys: list[str] = []  # message ids of answers graded since the last push
        self.scheduled = False
        self.last_push = 0.0
        self.version = -1  # the newest verdict id the pages have seen

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        loop.create_task(self._safety_poll())
        loop.create_task(self._keepalive())

    # -- from any thread -----------------------------------------------------------------------

    def poke(self, keys: list[str] = ()) -> None:
        """Verdicts were committed (called from the events listener's thread)."""
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self._poked, list(keys))

    # -- on the loop ---------------------------------------------------------------------------

    def subscribe(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=10)
        self.subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self.subscribers.discard(queue)

    def _poked(self, keys: list[str]) -> None:
        self.keys.extend(keys)
        del self.keys[:-MAX_KEYS]
        if not self.scheduled:
            self.scheduled = True
            delay = max(0.0, self.last_push + self.min_interval - time.monotonic())
            self.loop.call_later(delay, lambda: self.loop.create_task(self._push()))

    async def _push(self) -> None:
        keys, self.keys, self.scheduled = self.keys, [], False
        self.last_push = time.monotonic()
        try:
            snapshot, version = await asyncio.to_thread(self._read)
        except Exception:  # noqa: BLE001 - the store is away for a moment; the next poke retries
            log.exception("cannot read the store for the leaderboard")
            return
        self.version = version
        message = _event("update", dict(snapshot, keys=keys, version=version, sent_at=time.time()))
        for queue in list(self.subscribers):
            if queue.full():  # a page that does not keep up gets the newest state only
                _drain(queue)
            queue.put_nowait(message)

    def _read(self) -> tuple[dict, int]:
        return standings.snapshot(self.store), latest_verdict(self.store)

    async def _safety_poll(self) -> None:
        while True:
            await asyncio.sleep(SAFETY_POLL)
            try:
                version = await asyncio.to_thread(latest_verdict, self.store)
            except Exception:  # noqa: BLE001
                continue
            if version != self.version and not self.scheduled:
                self._poked([])

    async def _keepalive(self) -> None:
        while True:
            await asyncio.sleep(KEEPALIVE)
            for queue in list(self.subscribers):
                if not queue.full():
                    queue.put_nowait(": keepalive\n\n")


def latest_verdict(store: Store) -> int:
    with store.engine.connect() as connection:
        return connection.scalar(select(func.coalesce(func.max(verdicts.c.id), 0))
                                 .where(verdicts.c.workshop == store.workshop))


def _event(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def _drain(queue: asyncio.Queue) -> None:
    while not queue.empty():
        queue.get_nowait()

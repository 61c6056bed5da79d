"""`workshop serve`: the instructor's live service in one process.

Threads: the grader (consumes and scores), the chat grader (lesson 11's chat), the dealer
(tasks for newcomers, and more on a timer), the listener (turns committed verdicts into page
updates). The main thread runs the leaderboard's web server. Ctrl+C or SIGTERM stops them all; if one of them dies, all stop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
import signal
import tempfile
import threading
from pathlib import Path

from grader.errors import WorkshopError
from grader.leaderboard.hub import Hub
from grader.leaderboard.join import Join
from grader.leaderboard.listener import Listener
from grader.leaderboard.lobby import LobbyListener
from grader.leaderboard.progress import Grid, ProgressListener
from grader.leaderboard.web import make_app
from grader.live import dealer, fairness
from grader.live.accounts import Room
from grader.live.chatter import ChatGrader
from grader.live.consumer import Grader
from grader.live.dealer import Dealer
from grader.live.demo import run_demo
from grader.live.store import Store
from grader.management import Management
from grader.settings import Settings

log = logging.getLogger(__name__)


class Service:
    """The parts of `workshop serve`, startable and stoppable as one (also from tests)."""

    def __init__(self, settings: Settings, store_url: str, *, port: int = 8000, ip: str = "127.0.0.1",
                 deal_on_register: int = 3, keep_open: int = 0, deal_every: float = 0, deal_count: int = 1,
                 grade: bool = True, allowance: int = fairness.ALLOWANCE, join_url: str | None = None,
                 class_size: int = 0, room: Room | None = None, instructor_token: str | None = None,
                 max_students: int = fairness.MAX_STUDENTS):
        self.settings = settings
        self.join = Join(join_url, class_size)  # the address (and QR code) the page shows students
        self.store = Store(store_url, settings.workshop)
        self.port, self.ip = port, ip
        self.hub = Hub(self.store)
        self.workers = [Listener(settings, self.hub)]
        if room is not None:  # the lobby: who logged into the room's JupyterHub
            self.workers.append(LobbyListener(settings, self.hub, room))
        self.grid, self.instructor_token = (Grid(room, self.store) if instructor_token else None), instructor_token
        if self.grid is not None:  # the class progress grid, for the instructor's eyes only
            self.workers.append(ProgressListener(settings, self.grid))
        if grade:
            self.workers.append(Grader(settings, self.store, limiter=fairness.Limiter(allowance=allowance), room=room,
                                       max_students=max_students))
            self.workers.append(ChatGrader(settings, self.store, room=room))
        if deal_on_register or keep_open or deal_every:
            self.workers.append(Dealer(settings, self.store, on_register=deal_on_register, keep_open=keep_open,
                                       every=deal_every, count=deal_count))
        self.failed = threading.Event()
        self.threads: list[threading.Thread] = []
        self.server = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stopped: asyncio.Event | None = None

    def _run_worker(self, worker) -> None:
        try:
            worker.run()
        except Exception:
            log.exception("%s stopped with an error; stopping the service", type(worker).__name__)
            self.failed.set()

    def request_stop(self) -> None:
        """Stop the service from any thread (Ctrl+C and SIGTERM do the same)."""
        if self.loop is not None and self.stopped is not None:
            self.loop.call_soon_threadsafe(self.stopped.set)

    async def run(self) -> int:
        loop = self.loop = asyncio.get_running_loop()
        stop = self.stopped = asyncio.Event()
        self.hub.start(loop)
        try:
            self.server = make_app(self.store, self.hub, self.join, grid=self.grid,
                                   instructor_token=self.instructor_token,
                                   deal=lambda count: dealer.deal(self.settings, self.store, count),
                                   ).listen(self.port, address=self.ip)
        except OSError as exc:
            raise WorkshopError(f"the leaderboard cannot listen on {self.ip}:{self.port} ({exc.strerror}); "
                                "choose another port with --port") from exc
        for worker in self.workers:
            thread = threading.Thread(target=self._run_worker, args=(worker,), name=type(worker).__name__,
                                      daemon=True)
            thread.start()
            self.threads.append(thread)
        log.info("leaderboard on http://%s:%d/ (workshop %s)", "localhost" if self.ip in ("0.0.0.0", "127.0.0.1")
                 else self.ip, self.port, self.settings.workshop)
        if self.join.url:
            log.info("the page shows students the way in: %s", self.join.url)
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(signum, stop.set)
            except (NotImplementedError, RuntimeError):  # not in the main thread (tests)
                pass
        while not stop.is_set() and not self.failed.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=0.5)
            except TimeoutError:
                pass
        self.shutdown()
        return 1 if self.failed.is_set() else 0

    def shutdown(self) -> None:
        log.info("stopping the service")
        for worker in self.workers:
            worker.stop()
        for thread in self.threads:
            thread.join(timeout=15)
            if thread.is_alive():
                log.warning("%s did not stop within 15 s", thread.name)
        if self.server is not None:
            self.server.stop()
        self.store.close()


def serve(settings: Settings, store_url: str, **options) -> int:
    return asyncio.run(Service(settings, store_url, **options).run())


def demo(settings: Settings, *, port: int = 8001, ip: str = "127.0.0.1", students: int = 12,
         duration: float = 120, seed: int | None = None) -> dict[str, int]:
    """`workshop demo`: a simulated class on a leaderboard of its own, apart from any real workshop.

    It runs on a vhost made for it (`<W>-demo-<random>`, deleted afterwards) with a store of its
    own in a temporary folder, so nothing it sends reaches a real workshop's queues or store.
    Returns the messages sent, by kind."""
    name = f"{settings.workshop}-demo-{secrets.token_hex(3)}"
    api = Management.from_settings(settings)
    api.create_vhost(name)
    try:
        api.grant(name, settings.amqp.user)
        own = dataclasses.replace(settings, rabbitmq_url=settings.amqp.url(vhost=name))
        with tempfile.TemporaryDirectory(prefix="workshop-demo-") as folder:
            store_url = f"sqlite:///{Path(folder) / 'demo.sqlite'}"
            service = Service(own, store_url, port=port, ip=ip, max_students=max(fairness.MAX_STUDENTS, students))
            result: dict[str, int] = {}
            thread = threading.Thread(target=lambda: result.setdefault("status", asyncio.run(service.run())),
                                      name="demo leaderboard", daemon=True)
            thread.start()
            stop = threading.Event()
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda *_: stop.set())
            try:
                print(f"Demo leaderboard: http://{'localhost' if ip in ('0.0.0.0', '127.0.0.1') else ip}:{port}/  "
                      f"(vhost {name}, deleted afterwards; no real workshop is touched)", flush=True)
                return run_demo(own, store_url, students=students, duration=duration, seed=seed, stop=stop)
            finally:
                service.request_stop()
                thread.join(timeout=30)
    finally:
        api.delete_vhost(name)

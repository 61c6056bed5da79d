"""Listens on `W.events` for "verdicts committed" and pokes the hub, so open pages update.

Graders anywhere (one `serve`, or many `workshop grade`) announce their commits there; the page
itself always reads the store, so an event carries no authority, only the news.

`QueueListener` is the same loop for a durable queue of reports (the progress grid's, the lobby's).
"""

from __future__ import annotations

import json
import logging
import threading

from grader import broker, names
from grader.leaderboard.hub import Hub
from grader.settings import Settings

log = logging.getLogger(__name__)


class Listener:
    def __init__(self, settings: Settings, hub: Hub):
        self.settings, self.hub = settings, hub
        self.stopping = threading.Event()
        self.listening = threading.Event()

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        broker.run_connected(self.settings.rabbitmq_url, "leaderboard", self.listen, self.stopping, self.listening)

    def listen(self, connection) -> None:
        channel = connection.channel()
        exchange = names.events_exchange(self.settings.workshop)
        channel.exchange_declare(exchange, exchange_type="fanout", durable=True)
        queue = channel.queue_declare(queue="", exclusive=True).method.queue
        channel.queue_bind(queue, exchange)

        def on_event(ch, method, properties, body):
            try:
                keys = json.loads(body).get("keys")  # the hub keeps only what looks like message ids
            except (ValueError, AttributeError):
                keys = None  # anyone may publish here; a bad event is still news
            self.hub.poke(keys)

        channel.basic_consume(queue=queue, on_message_callback=on_event, auto_ack=True)
        self.listening.set()
        while not self.stopping.is_set():
            connection.process_data_events(time_limit=0.2)


class QueueListener:
    """Reads the durable queue `queue` (at most `limit` messages wait in it; the broker drops the
    oldest) with automatic acks, each message to `handle(properties, body)`, which never raises
    for what a message holds: a worker of `workshop serve`."""

    label = "reports"

    def __init__(self, settings: Settings, queue: str, limit: int):
        self.settings, self.queue, self.limit = settings, queue, limit
        self.stopping = threading.Event()
        self.listening = threading.Event()

    def handle(self, properties, body: bytes) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        broker.run_connected(self.settings.rabbitmq_url, self.label, self.listen, self.stopping, self.listening)

    def listen(self, connection) -> None:
        channel = connection.channel()
        channel.queue_declare(self.queue, durable=True, arguments={"x-max-length": self.limit})
        channel.basic_consume(queue=self.queue, on_message_callback=lambda ch, method, properties, body:
                              self.handle(properties, body), auto_ack=True)
        self.listening.set()
        while not self.stopping.is_set():
            connection.process_data_events(time_limit=0.2)

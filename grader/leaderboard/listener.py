"""Listens on `W.events` for "verdicts committed" and pokes the hub, so open pages update.

Graders anywhere (one `serve`, or many `workshop grade`) announce their commits there; the page
itself always reads the store, so an event carries no authority, only the news.
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

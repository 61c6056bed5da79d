"""The lobby of the room: who has logged in, shown on the page while the room fills.

When a student logs into the room's JupyterHub, its authenticator (grader/classroom/authenticator.py)
publishes a one-line message to `W.lobby` under the student's own broker account, with the
student's user as the message's `user_id`: RabbitMQ refuses a `user_id` that is not the
publisher's own, so a login in the lobby is always that student's. `LobbyListener` hands the
students of the room (their roster name, never what a message says) to the hub, which sends the
pages a `lobby` event. Registration (lesson 10) is another step; the page shows both.
"""

from __future__ import annotations

import time

from grader import names
from grader.leaderboard.hub import Hub
from grader.leaderboard.listener import QueueListener

QUEUE_LIMIT = 1_000  # logins waiting in W.lobby


class LobbyListener(QueueListener):
    label = "lobby"

    def __init__(self, settings, hub: Hub, room):
        super().__init__(settings, names.lobby_queue(settings.workshop), QUEUE_LIMIT)
        self.hub, self.room = hub, room

    def handle(self, properties, body: bytes) -> None:
        user = properties.user_id
        if not isinstance(user, str) or self.room is None:
            return  # no identity the broker vouched for, or no roster to name it
        self.room.refresh()
        name = self.room.students.get(user)
        if name is not None:
            self.hub.login(user, name, time.time())

"""Log into the room's JupyterHub with the broker account on your card: RabbitMQ says yes or no.

Only the accounts of the room (accounts.csv) may log in, and each login is checked by opening an
AMQP connection to the account's own vhost with the name and password typed: the broker is the
source of truth, so a password changed on the broker (`workshop provision --rotate`) changes the
login at once. The instructor's account is the hub's admin; students are not. A student's login
is announced to the leaderboard's lobby (grader/leaderboard/lobby.py) under their own account.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json

import pika
from jupyterhub.auth import Authenticator
from tornado import web
from traitlets import Float, Unicode

from grader import broker, names
from grader.classroom import room as rooms
from grader.errors import BrokerAuthFailed, BrokerUnavailable, VhostNotFound
from grader.settings import AmqpAddress


def broker_accepts(url: str, user: str, password: str, *, timeout: float = 5.0) -> bool:
    """Whether the broker of `url` lets `user` with `password` into the vhost of `url`.
    `BrokerUnavailable` when it does not answer."""
    address = dataclasses.replace(AmqpAddress.parse(url), user=user, password=password)
    try:
        connection = broker.connect(address.url(), timeout=timeout, name=f"room login check: {user}")
    except (BrokerAuthFailed, VhostNotFound):
        return False
    connection.close()
    return True


def announce_login(live_url: str, user: str, password: str, workshop: str, *, timeout: float = 3.0) -> None:
    """Publish "I have logged in" to `W.lobby` on the live vhost of `live_url`, as `user` with
    `password` (the student's own account); raises the broker's errors (the caller logs them: the
    lobby never stops a login)."""
    address = dataclasses.replace(AmqpAddress.parse(live_url), user=user, password=password)
    connection = broker.connect(address.url(), timeout=timeout, name=f"room login: lobby ({user})")
    try:
        connection.channel().basic_publish("", names.lobby_queue(workshop), json.dumps({"login": True}).encode(),
                                           pika.BasicProperties(user_id=user, content_type="application/json"))
    finally:
        if connection.is_open:
            connection.close()


class BrokerAuthenticator(Authenticator):
    room_file = Unicode(help="the room.json that `workshop up --room` wrote").tag(config=True)
    check_timeout = Float(5.0, help="seconds the broker has to answer a login").tag(config=True)

    @property
    def room(self) -> rooms.Room:
        return rooms.load(self.room_file)

    async def authenticate(self, handler, data):
        user = (data.get("username") or "").strip().lower()
        password = data.get("password") or ""
        account = self.room.account(user)
        if account is None or not password:
            self.log.warning("login refused for %r: not an account of this room", user)
            return None
        try:
            accepted = await asyncio.to_thread(broker_accepts, account.lessons_url, user, password,
                                               timeout=self.check_timeout)
        except BrokerUnavailable as exc:
            self.log.error("cannot check the login of %s: %s", user, exc)
            raise web.HTTPError(503, "RabbitMQ does not answer, so no one can log in right now: "
                                     "tell the instructor") from exc
        if not accepted:
            self.log.warning("login refused for %s: the broker refused the password", user)
            return None
        if account.role == "student":
            try:  # the page's lobby: under the student's own account, so the broker vouches for it
                await asyncio.wait_for(asyncio.to_thread(announce_login, account.live_url, user, password,
                                                         self.room.workshop, timeout=self.check_timeout),
                                       timeout=self.check_timeout)  # a blocked broker never holds a login up
            except Exception as exc:  # noqa: BLE001 - the lobby is a nicety; the login goes on
                self.log.warning("could not tell the lobby that %s logged in: %s", user, exc)
        return {"name": user, "admin": account.role == "instructor"}

    def check_allowed(self, username, authentication=None):
        return self.room.account(username) is not None

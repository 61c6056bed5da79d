"""What a notebook's check tells the instructor's progress grid (`grader.leaderboard.progress`).

In a room with accounts (WORKSHOP_LIVE_URL set), every ✔ and ✘ line is also published to the
queue `W.progress`, with the student's broker user as `user_id` (which the broker checks). It is
best effort, in a thread of its own: a check never waits for it and never fails because of it.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

import pika

from grader import names

log = logging.getLogger(__name__)
MAX_TEXT = 300  # characters of a name or a failure sentence kept


def report(url: str, workshop: str, *, lesson: str, exercise: str, passed: bool, sentence: str) -> None:
    """Publish one check's outcome to `W.progress` as the URL's user (its `user_id`). Raises
    whatever pika raises: the notebooks' hook ignores it."""
    parameters = pika.URLParameters(url)
    parameters.socket_timeout = parameters.blocked_connection_timeout = 2
    parameters.connection_attempts = 1
    connection = pika.BlockingConnection(parameters)
    try:
        body = json.dumps({"lesson": lesson, "exercise": exercise, "passed": passed, "sentence": sentence[:MAX_TEXT]})
        connection.channel().basic_publish("", names.progress_queue(workshop), body.encode(), pika.BasicProperties(
            user_id=parameters.credentials.username, content_type="application/json", delivery_mode=1))
    finally:
        connection.close()


def from_notebook(passed: bool, sentence: str) -> None:
    """Report the check of the notebook cell that runs now, in a thread, when this kernel is in a
    room with accounts (WORKSHOP_LIVE_URL set) and its cell has an id (JupyterLab sends it): the
    exercise is the cell id (the nbgrader grade id in the course's notebooks), the lesson the
    notebook's name (JPY_SESSION_NAME). Never raises; the thread swallows what the broker says."""
    from IPython import get_ipython

    from grader.settings import Settings

    live, shell = os.environ.get("WORKSHOP_LIVE_URL"), get_ipython()
    kernel = getattr(shell, "kernel", None) if live else None
    exercise = kernel.get_parent().get("metadata", {}).get("cellId") if kernel is not None else None
    if not exercise:
        return
    lesson = Path(os.environ.get("JPY_SESSION_NAME") or "notebook").stem
    workshop = Settings.from_env().workshop

    def send():
        try:
            report(live, workshop, lesson=lesson, exercise=exercise, passed=passed, sentence=sentence)
        except Exception:  # noqa: BLE001 - a broker away, a refusal: the grid misses one cell
            log.debug("progress report not sent", exc_info=True)

    threading.Thread(target=send, name="progress report", daemon=True).start()

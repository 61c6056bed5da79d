"""Plausible mistakes in lesson 3, and the checks that must catch them.

Each wrong answer is the course's own solution cell with one mistake edited in, so that the rest of
the cell (the given code around the student's part) stays as the student received it.
"""

from functools import partial

from tests.course import autograding
from tests.course.autograding import WrongAnswer

mistake = partial(autograding.mistake, "03-publish-subscribe")


WRONG_ANSWERS = [
    WrongAnswer(
        name="declares logs as a direct exchange",
        cells=mistake("exchange", 'exchange_type="fanout"', 'exchange_type="direct"'),
        fails=frozenset({"check-exchange"}),
    ),
    WrongAnswer(
        name="binds the disk queue to the built-in amq.fanout instead of logs",
        cells=mistake("subscribe", 'channel.queue_bind(exchange="logs", queue=disk_queue)',
                      'channel.queue_bind(exchange="amq.fanout", queue=disk_queue)'),
        fails=frozenset({"check-subscribe", "check-emit", "check-consume"}),
    ),
    WrongAnswer(
        name="declares the subscribers' queues without exclusive=True",
        cells=mistake("subscribe", 'queue="", exclusive=True', 'queue=""'),
        fails=frozenset({"check-subscribe"}),
    ),
    WrongAnswer(
        name="publishes each line to the screen queue through the default exchange",
        cells=mistake("emit", 'channel.basic_publish(exchange="logs", routing_key="",',
                      'channel.basic_publish(exchange="", routing_key=screen_queue,'),
        fails=frozenset({"check-emit", "check-consume"}),
    ),
    WrongAnswer(
        name="publishes the late line before binding the late queue",
        cells={"late": (
            'channel.basic_publish(exchange="logs", routing_key="", body=b"info: a late line")\n'
            'late_queue = channel.queue_declare(queue="", exclusive=True).method.queue\n'
            'channel.queue_bind(exchange="logs", queue=late_queue)\n'
        )},
        fails=frozenset({"check-late"}),
    ),
]

"""Plausible mistakes in lesson 2, and the checks that must catch them.

Each wrong answer is the course's own solution cell with one mistake edited in, so that the rest of
the cell (the given code around the student's part) stays as the student received it.
"""

from functools import partial

from tests.course import autograding
from tests.course.autograding import WrongAnswer

mistake = partial(autograding.mistake, "02-work-queues")


WRONG_ANSWERS = [
    WrongAnswer(
        name="publishes tasks without making them persistent",
        cells=mistake("new-task", "properties=pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent),", ""),
        fails=frozenset({"check-new-task"}),
    ),
    WrongAnswer(
        name="declares task_queue without durable=True",
        cells=mistake("new-task", 'channel.queue_declare(queue="task_queue", durable=True)',
                      'channel.queue_declare(queue="task_queue")'),
        fails=frozenset({"check-new-task"}),
    ),
    WrongAnswer(
        name="the workers never acknowledge their tasks",
        cells=mistake("round-robin", "    ch.basic_ack(delivery_tag=method.delivery_tag)\n", ""),
        fails=frozenset({"check-round-robin"}),
    ),
    WrongAnswer(
        name="the workers answer each finished task with basic_nack(requeue=False), which drops it",
        cells=mistake("round-robin", "ch.basic_ack(delivery_tag=method.delivery_tag)",
                      "ch.basic_nack(delivery_tag=method.delivery_tag, requeue=False)"),
        fails=frozenset({"check-round-robin"}),
    ),
    WrongAnswer(
        name="the doomed worker takes its task with auto_ack=True, so the task dies with it",
        cells=mistake("redelivery", 'basic_get(queue="task_queue", auto_ack=False)',
                      'basic_get(queue="task_queue", auto_ack=True)'),
        fails=frozenset({"check-redelivery"}),
    ),
    WrongAnswer(
        name="sets prefetch_count=1 on the fast worker's channel only",
        cells=mistake("fair-dispatch", "channel_a.basic_qos(prefetch_count=1)\n", ""),
        fails=frozenset({"check-fair-dispatch"}),
    ),
    WrongAnswer(
        name="declares the quorum queue without durable=True, which the broker refuses",
        cells=mistake("quorum", 'queue="quorum_tasks", durable=True,', 'queue="quorum_tasks",'),
        fails=frozenset({"check-quorum"}),
    ),
]

"""Plausible mistakes in lesson 12, and the checks that must catch them."""

from functools import partial

from tests.course import autograding
from tests.course.autograding import WrongAnswer

mistake = partial(autograding.mistake, "12-administration")

WRONG_ANSWERS = [
    WrongAnswer(
        name="gives the program's user the management tag it does not need",
        cells=mistake("user", '{"password": READER_PASSWORD, "tags": ""}',
                      '{"password": READER_PASSWORD, "tags": "management"}'),
        fails=frozenset({"check-user"}),
    ),
    WrongAnswer(
        name="sets a password other than READER_PASSWORD",
        cells=mistake("user", '{"password": READER_PASSWORD, "tags": ""}', '{"password": "reader", "tags": ""}'),
        fails=frozenset({"check-user", "check-refused"}),
    ),
    WrongAnswer(
        name="forgets the anchors: read 'reports' also allows 'old-reports' and 'reports2'",
        cells=mistake("permissions", '"read": "^reports$"', '"read": "reports"'),
        fails=frozenset({"check-permissions"}),
    ),
    WrongAnswer(
        name="gives the reader write rights too",
        cells=mistake("permissions", '{"configure": "^$", "write": "^$", "read": "^reports$"}',
                      '{"configure": "^$", "write": ".*", "read": "^reports$"}'),
        fails=frozenset({"check-permissions", "check-refused"}),
    ),
    WrongAnswer(
        name="a policy that applies to exchanges, so the queue is never bounded",
        cells=mistake("policy", '"apply-to": "queues"', '"apply-to": "exchanges"'),
        fails=frozenset({"check-policy"}),
    ),
    WrongAnswer(
        name="deletes the user but leaves the vhost behind",
        cells=mistake("cleanup", 'vhost_deleted = call("DELETE", f"vhosts/{quote(LESSON_VHOST, safe=\'\')}")',
                      "vhost_deleted = user_deleted"),
        fails=frozenset({"check-cleanup"}),
    ),
    WrongAnswer(
        name="reads the reports without catching the refusals, so the cell stops at the first one",
        cells={"refused": ("reader = pika.BlockingConnection(pika.URLParameters(reader_url))\n"
                           "channel = reader.channel()\n"
                           "method, properties, report = channel.basic_get(queue='reports', auto_ack=True)\n"
                           "channel.queue_declare(queue='mine', durable=True)\n")},
        fails=frozenset({"check-refused"}),
    ),
]

"""Plausible mistakes in lesson 0, and the checks that must catch them.

Each wrong answer is the course's own solution cell with one mistake edited in, so that the rest of
the cell (the given code around the student's part) stays as the student received it.
"""

from functools import partial

from tests.course import autograding
from tests.course.autograding import WrongAnswer

mistake = partial(autograding.mistake, "00-amqp-model")


def _count_the_wrong_thing() -> dict[str, str]:
    """The same mistake on a broker whose API keeps counts (the API's field) and on one that keeps
    none (the passive declare's): the cell reads a count that is not the messages waiting."""
    cells = mistake("count", 'backlog_info["messages"]', 'backlog_info["messages_unacknowledged"]')
    assert ".method.message_count" in cells["count"]
    return {"count": cells["count"].replace(".method.message_count", ".method.consumer_count")}


WRONG_ANSWERS = [
    WrongAnswer(
        name="counts what does not wait: messages_unacknowledged (0), or the consumers over AMQP",
        cells=_count_the_wrong_thing(),
        fails=frozenset({"check-count"}),
    ),
    WrongAnswer(
        name="takes fanout for the exchange type that routes by pattern",
        cells=mistake("types", 'pattern_type = "topic"', 'pattern_type = "fanout"'),
        fails=frozenset({"check-types"}),
    ),
    WrongAnswer(
        name="opens the second channel on a connection of its own",
        cells=mistake("channels", "second = connection.channel()",
                      "second = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL)).channel()"),
        fails=frozenset({"check-channels"}),
    ),
    WrongAnswer(
        name="declares post_office as a fanout exchange",
        cells=mistake("declare", 'exchange="post_office", exchange_type="direct"',
                      'exchange="post_office", exchange_type="fanout"'),
        fails=frozenset({"check-declare"}),
    ),
    WrongAnswer(
        name="binds mailbox with the key 'letters', so the letter is dropped",
        cells=mistake("declare", 'routing_key="letter"', 'routing_key="letters"'),
        fails=frozenset({"check-declare", "check-route"}),
    ),
]

"""Plausible mistakes in lesson 1, and the checks that must catch them."""

from tests.course.autograding import WrongAnswer

WRONG_ANSWERS = [
    WrongAnswer(
        name="publishes to a queue name with a typo, so the message is dropped",
        cells={"publish": 'channel.basic_publish(exchange="", routing_key="helo", body=b"Hello World!")'},
        fails=frozenset({"check-publish", "check-consume"}),
    ),
    WrongAnswer(
        name="publishes the wrong body",
        cells={"publish": 'channel.basic_publish(exchange="", routing_key="hello", body=b"Hello!")'},
        fails=frozenset({"check-publish", "check-consume"}),
    ),
    WrongAnswer(
        name="consumes forever without a time limit, so nbgrader interrupts the cell",
        cells={
            "consume": (
                "received = []\n"
                "def on_message(ch, method, properties, body):\n"
                "    received.append(body)\n"
                "channel.basic_consume(queue='hello', on_message_callback=on_message, auto_ack=True)\n"
                "channel.start_consuming()\n"
            )
        },
        # The message arrives, but the consumer stays registered: the hidden test notices.
        fails=frozenset({"check-consume"}),
    ),
]

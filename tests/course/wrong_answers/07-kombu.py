"""Plausible mistakes in lesson 7 (kombu), and the checks that must catch them."""

from tests.course.autograding import WrongAnswer

WRONG_ANSWERS = [
    WrongAnswer(
        name="declares `number` as a fanout exchange (it still delivers, but is not the direct exchange asked for)",
        cells={
            "declare": (
                'number_exchange = Exchange("number", type="fanout")\n'
                'number_queue = Queue("number", exchange=number_exchange, routing_key="number")\n'
                "number_queue(connection).declare()\n"
            )
        },
        fails=frozenset({"check-declare"}),
    ),
    WrongAnswer(
        name="publishes the bare number instead of the message {'number': n}",
        cells={
            "publish": (
                'producer = connection.Producer(serializer="json")\n'
                "for n in range(1, 11):\n"
                '    producer.publish(n, exchange=number_exchange, routing_key="number", declare=[number_queue])\n'
            )
        },
        fails=frozenset({"check-publish", "check-consume"}),
    ),
    WrongAnswer(
        name="squares and answers but never calls message.ack(), so the numbers return to the queue",
        cells={
            "consume": (
                'squares_queue = Queue("squares")\n'
                "results = []\n"
                "def process_number(body, message):\n"
                '    n = body["number"]\n'
                '    producer.publish({"number": n, "square": n * n}, exchange="", routing_key="squares",\n'
                "                     declare=[squares_queue])\n"
                "    results.append(n * n)\n"
                "with Connection(RABBITMQ_URL) as consumer_connection:\n"
                "    with consumer_connection.Consumer(number_queue, callbacks=[process_number]):\n"
                "        try:\n"
                "            while True:\n"
                "                consumer_connection.drain_events(timeout=0.5)\n"
                "        except socket.timeout:\n"
                "            pass\n"
            )
        },
        fails=frozenset({"check-consume"}),
    ),
]

"""Plausible mistakes in lesson 0, and the checks that must catch them."""

from tests.course.autograding import WrongAnswer

WRONG_ANSWERS = [
    WrongAnswer(
        name="reads messages_unacknowledged, which is 0, instead of the messages waiting",
        cells={
            "count": (
                'response = requests.get(base + "/api/queues/" + vhost_path + "/backlog", auth=auth)\n'
                "backlog_info = response.json()\n"
                'waiting = backlog_info["messages_unacknowledged"]\n'
            )
        },
        fails=frozenset({"check-count"}),
    ),
    WrongAnswer(
        name="takes fanout for the exchange type that routes by pattern",
        cells={
            "types": (
                'exchanges = requests.get(base + "/api/exchanges/" + vhost_path, auth=auth).json()\n'
                'exchange_types = {exchange["type"] for exchange in exchanges}\n'
                'pattern_type = "fanout"\n'
            )
        },
        fails=frozenset({"check-types"}),
    ),
    WrongAnswer(
        name="opens the second channel on a connection of its own",
        cells={
            "channels": (
                "connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))\n"
                "first = connection.channel()\n"
                "second = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL)).channel()\n"
            )
        },
        fails=frozenset({"check-channels"}),
    ),
    WrongAnswer(
        name="declares post_office as a fanout exchange",
        cells={
            "declare": (
                'first.exchange_declare(exchange="post_office", exchange_type="fanout", durable=True)\n'
                'first.queue_declare(queue="mailbox", durable=True)\n'
                'first.queue_bind(queue="mailbox", exchange="post_office", routing_key="letter")\n'
            )
        },
        fails=frozenset({"check-declare"}),
    ),
    WrongAnswer(
        name="binds mailbox with the key 'letters', so the letter is dropped",
        cells={
            "declare": (
                'first.exchange_declare(exchange="post_office", exchange_type="direct", durable=True)\n'
                'first.queue_declare(queue="mailbox", durable=True)\n'
                'first.queue_bind(queue="mailbox", exchange="post_office", routing_key="letters")\n'
            )
        },
        fails=frozenset({"check-declare", "check-route"}),
    ),
]

"""Plausible mistakes in lesson 4, and the checks that must catch them."""

from tests.course.autograding import WrongAnswer

WRONG_ANSWERS = [
    WrongAnswer(
        name="declares direct_logs as a fanout exchange, so every queue gets every line",
        cells={"exchange": 'channel.exchange_declare(exchange="direct_logs", exchange_type="fanout")'},
        fails=frozenset({"check-exchange", "check-emit", "check-receive"}),
    ),
    WrongAnswer(
        name="binds log_problems with 'warn' instead of 'warning', so warnings are dropped",
        cells={
            "bind": (
                'channel.queue_declare(queue="log_errors", durable=True)\n'
                'channel.queue_bind(queue="log_errors", exchange="direct_logs", routing_key="error")\n'
                'channel.queue_declare(queue="log_problems", durable=True)\n'
                'channel.queue_bind(queue="log_problems", exchange="direct_logs", routing_key="warn")\n'
                'channel.queue_bind(queue="log_problems", exchange="direct_logs", routing_key="error")\n'
            )
        },
        fails=frozenset({"check-bind", "check-emit"}),
    ),
    WrongAnswer(
        name="subscribe binds one routing key made of all the severities joined together",
        cells={
            "subscribe": (
                "def subscribe(channel, severities):\n"
                "    if not severities:\n"
                "        raise ValueError('no severity')\n"
                "    queue = channel.queue_declare(queue='', exclusive=True).method.queue\n"
                "    channel.queue_bind(queue=queue, exchange='direct_logs', routing_key=' '.join(severities))\n"
                "    return queue\n"
            )
        },
        fails=frozenset({"check-subscribe", "check-receive"}),
    ),
    WrongAnswer(
        name="subscribe uses a durable named queue instead of a server-named exclusive one",
        cells={
            "subscribe": (
                "def subscribe(channel, severities):\n"
                "    if not severities:\n"
                "        raise ValueError('no severity')\n"
                "    channel.queue_declare(queue='watch', durable=True)\n"
                "    for severity in severities:\n"
                "        channel.queue_bind(queue='watch', exchange='direct_logs', routing_key=severity)\n"
                "    return 'watch'\n"
            )
        },
        fails=frozenset({"check-subscribe"}),
    ),
]

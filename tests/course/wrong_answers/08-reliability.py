"""Plausible mistakes in lesson 8 (reliability), and the checks that must catch them."""

from tests.course.autograding import WrongAnswer

WORKER_THAT_ALWAYS_REQUEUES = """
done = []
failures = []
deadline = time.monotonic() + 1  # the loop would never end by itself: the poison keeps coming back
for method, properties, body in channel.consume("work", inactivity_timeout=0.5):
    if method is None or time.monotonic() > deadline:
        break
    try:
        job = json.loads(body)
    except ValueError:
        failures.append((body, method.redelivered))
        channel.basic_nack(method.delivery_tag, requeue=True)
        continue
    done.append(job["job"])
    channel.basic_ack(method.delivery_tag)
channel.cancel()
"""

WRONG_ANSWERS = [
    WrongAnswer(
        name="declares `work` without dead-letter arguments, so rejected jobs are dropped",
        cells={
            "dlx": (
                'channel.exchange_declare(exchange="work.dlx", exchange_type="direct", durable=True)\n'
                'channel.queue_declare(queue="work.dead", durable=True)\n'
                'channel.queue_bind(queue="work.dead", exchange="work.dlx", routing_key="work.dead")\n'
                'channel.queue_declare(queue="work", durable=True)\n'
            )
        },
        fails=frozenset({"check-dlx", "check-worker"}),
    ),
    WrongAnswer(
        name="requeues the poison message every time (requeue=True), so it never leaves `work`",
        cells={"worker": WORKER_THAT_ALWAYS_REQUEUES},
        fails=frozenset({"check-worker"}),
    ),
    WrongAnswer(
        name="puts the TTL on `work.retry` but no dead-letter arguments, so job 4 expires into nowhere",
        cells={
            "ttl": (
                'channel.queue_declare(queue="work.retry", durable=True, arguments={"x-message-ttl": 500})\n'
                'channel.basic_publish(exchange="", routing_key="work.retry", body=json.dumps({"job": 4}))\n'
            )
        },
        fails=frozenset({"check-ttl"}),
    ),
    WrongAnswer(
        name="limits `work.bounded` without x-overflow, so the default drop-head silently drops the oldest",
        cells={"bounded": 'channel.queue_declare(queue="work.bounded", durable=True, arguments={"x-max-length": 3})\n'},
        fails=frozenset({"check-bounded", "check-confirms"}),
    ),
    WrongAnswer(
        name="publishes without confirm mode, so nothing is ever reported as failed",
        cells={
            "confirms": (
                "confirm_channel = connection.channel()\n"
                "def publish_confirmed(channel, routing_key, body):\n"
                "    try:\n"
                '        channel.basic_publish(exchange="", routing_key=routing_key, body=body,\n'
                "                              properties=pika.BasicProperties(delivery_mode=2), mandatory=True)\n"
                "    except (pika.exceptions.UnroutableError, pika.exceptions.NackError):\n"
                "        return False\n"
                "    return True\n"
                'results = [publish_confirmed(confirm_channel, "work.bounded", f"job {n}".encode()) for n in range(1, 6)]\n'
                'lost = publish_confirmed(confirm_channel, "no.such.queue", b"lost?")\n'
            )
        },
        fails=frozenset({"check-confirms"}),
    ),
]

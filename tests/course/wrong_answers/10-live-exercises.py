"""Plausible mistakes in the live exercises; the notebook talks to a live grader while it runs."""

from tests.course.autograding import WrongAnswer

NEEDS_LIVE_GRADER = True

WRONG_ANSWERS = [
    WrongAnswer(
        name="registers without reply_to, so no feedback ever comes",
        cells={"register": (
            'channel.basic_publish(exchange="", routing_key="name", body=json.dumps({"name": MY_NAME}))\n'
            "[registration] = wait_for_feedback([uuid.uuid4().hex], timeout=2)\n"
        )},
        fails=frozenset({"check-register"}),
    ),
    WrongAnswer(
        name="starts the Fibonacci numbers at 1, 1: every answer is one step off",
        cells={"fib": (
            "def fib(n):\n"
            "    a, b = 1, 1\n"
            "    for _ in range(n):\n"
            "        a, b = b, a + b\n"
            "    return a\n"
        )},
        fails=frozenset({"check-fib", "check-pika-worker", "check-kombu-worker"}),
    ),
    WrongAnswer(
        name="the kombu worker forgets the name, so the grader rejects the answer",
        cells={"kombu-worker": (
            "from kombu import Connection, Queue\n"
            "tasks = []\n"
            "with Connection(RABBITMQ_URL) as conn:\n"
            "    with conn.Consumer(Queue(MY_QUEUE, no_declare=True), callbacks=[lambda b, m: tasks.append((b, m))],\n"
            "                       accept=['json']):\n"
            "        conn.drain_events(timeout=10)\n"
            "    body, message = tasks[0]\n"
            "    correlation_id = message.properties['correlation_id']\n"
            "    conn.Producer(serializer='json').publish({'n': body['n'], 'Fn': fib(body['n'])}, exchange='',\n"
            "        routing_key=message.properties['reply_to'], reply_to=FEEDBACK, correlation_id=correlation_id)\n"
            "    message.ack()\n"
            "[kombu_feedback] = wait_for_feedback([correlation_id])\n"
        )},
        fails=frozenset({"check-kombu-worker"}),
    ),
]

"""Lesson 7, kombu: Connection, Exchange/Queue objects, a JSON Producer, a Consumer, SimpleQueue."""

from tests.course.corpus import makers

L = "07-kombu"

CONNECT = "connection = Connection(RABBITMQ_URL)\nconnection.connect()"
DECLARE = """
number_exchange = Exchange("number", type="direct")
number_queue = Queue("number", exchange=number_exchange, routing_key="number")
number_queue(connection).declare()
"""
PUBLISH = """
producer = connection.Producer(serializer="json")
for n in range(1, 11):
    producer.publish({"number": n}, exchange=number_exchange, routing_key="number", declare=[number_queue])
"""
CONSUME = """
def process_number(body, message):
    n = body["number"]
    square = n * n
    producer.publish({"number": n, "square": square}, exchange="", routing_key="squares", declare=[squares_queue])
    results.append(square)
    message.ack()


with Connection(RABBITMQ_URL) as consumer_connection:
    with consumer_connection.Consumer(number_queue, callbacks=[process_number]):
        try:
            while True:
                consumer_connection.drain_events(timeout=0.5)
        except socket.timeout:
            pass
print(results)
"""
SIMPLE = """
with Connection(RABBITMQ_URL) as reader:
    answers = reader.SimpleQueue("squares")
    try:
        while True:
            message = answers.get(block=True, timeout=0.5)
            total += message.payload["square"]
            message.ack()
    except answers.Empty:
        pass
    answers.close()
print(total)
"""


correct, wrong = makers(L, connect=CONNECT, declare=DECLARE, publish=PUBLISH, consume=CONSUME, simple=SIMPLE)


CORPUS = [
    correct("as the lesson shows it"),
    correct(
        "ensure_connection, explicit Producer and Consumer classes, stdlib queue.Empty",
        connect="""
            connection = Connection(RABBITMQ_URL, connect_timeout=5)
            connection.ensure_connection(max_retries=3)
            print(connection.transport.driver_name)
        """,
        declare="""
            number_exchange = Exchange(name="number", type="direct", durable=True)
            number_queue = Queue(name="number", exchange=number_exchange, routing_key="number", durable=True)
            bound = number_queue.bind(connection.default_channel)
            bound.declare()
        """,
        publish="""
            from kombu import Producer

            producer = Producer(connection.default_channel, serializer="json")
            for number in range(1, 11):
                producer.publish(
                    {"number": number},
                    exchange=number_exchange,
                    routing_key="number",
                    declare=[number_queue],
                    delivery_mode=2,
                )
        """,
        consume="""
            from kombu import Consumer

            def process_number(body, message):
                n = body["number"]
                producer.publish({"number": n, "square": n ** 2}, exchange="", routing_key="squares",
                                 declare=[squares_queue], serializer="json")
                results.append(n ** 2)
                message.ack()

            with Connection(RABBITMQ_URL) as consumer_connection:
                consumer = Consumer(consumer_connection.channel(), queues=[number_queue], callbacks=[process_number],
                                    accept=["json"])
                with consumer:
                    while True:
                        try:
                            consumer_connection.drain_events(timeout=0.5)
                        except TimeoutError:
                            break
        """,
        simple="""
            import queue

            with Connection(RABBITMQ_URL) as conn:
                squares = conn.SimpleQueue("squares")
                while True:
                    try:
                        msg = squares.get(timeout=0.5)
                    except queue.Empty:
                        break
                    total = total + msg.payload["square"]
                    msg.ack()
                squares.close()
        """,
    ),
    correct(
        "exchange named by string, register_callback, SimpleQueue as a context manager",
        publish="""
            producer = connection.Producer(serializer="json")
            numbers = list(range(1, 11))
            for n in numbers:
                producer.publish(dict(number=n), exchange="number", routing_key="number", declare=[number_queue])
        """,
        consume="""
            def process_number(body, message):
                value = int(body["number"])
                producer.publish({"number": value, "square": value * value},
                                 exchange="", routing_key="squares", declare=[squares_queue])
                results.append(value * value)
                message.ack()

            with Connection(RABBITMQ_URL) as consumer_connection:
                consumer = consumer_connection.Consumer([number_queue])
                consumer.register_callback(process_number)
                consumer.consume()
                try:
                    while True:
                        consumer_connection.drain_events(timeout=0.5)
                except socket.timeout:
                    pass
                finally:
                    consumer.cancel()
        """,
        simple="""
            with Connection(RABBITMQ_URL) as conn:
                with conn.SimpleQueue("squares") as q:
                    while True:
                        try:
                            m = q.get(block=True, timeout=0.5)
                        except q.Empty:
                            break
                        total += m.payload["square"]
                        m.ack()
        """,
    ),
    correct(
        "a Consumer with prefetch_count, decoding the body itself, drain_events counted",
        consume="""
            import json as _json

            def process_number(body, message):
                if isinstance(body, (bytes, str)):
                    body = _json.loads(body)
                n = body["number"]
                producer.publish({"number": n, "square": n * n}, exchange="", routing_key="squares",
                                 declare=[squares_queue])
                results.append(n * n)
                message.ack()

            with Connection(RABBITMQ_URL) as consumer_connection:
                with consumer_connection.Consumer(queues=[number_queue], callbacks=[process_number],
                                                  prefetch_count=1):
                    handled = 0
                    while True:
                        try:
                            consumer_connection.drain_events(timeout=0.5)
                            handled += 1
                        except socket.timeout:
                            break
            print("handled", handled)
        """,
    ),
    correct(
        "the queue object declares itself through maybe_bind; sum of payloads at the end",
        declare="""
            number_exchange = Exchange("number", "direct")
            number_queue = Queue("number", number_exchange, routing_key="number")
            number_queue.maybe_bind(connection)
            number_queue.declare()
        """,
        simple="""
            payloads = []
            with Connection(RABBITMQ_URL) as conn:
                simple_queue = conn.SimpleQueue("squares")
                while True:
                    try:
                        message = simple_queue.get(block=True, timeout=0.5)
                    except simple_queue.Empty:
                        break
                    payloads.append(message.payload)
                    message.ack()
                simple_queue.close()
            total = sum(p["square"] for p in payloads)
        """,
    ),
    wrong("never calls connect()", {"check-connect"}, connect="connection = Connection(RABBITMQ_URL)"),
    wrong("number declared as a fanout exchange", {"check-declare"},
          declare=DECLARE.replace('type="direct"', 'type="fanout"')),
    wrong("exchange and queue declared with durable=False", {"check-declare"},
          declare=DECLARE.replace('type="direct")', 'type="direct", durable=False)').replace(
              'routing_key="number")', 'routing_key="number", durable=False)')),
    wrong("publishes the bare number", {"check-publish", "check-consume"},
          publish=PUBLISH.replace('{"number": n}', "n")),
    wrong("publishes with the pickle serializer", {"check-publish", "check-consume"},
          publish=PUBLISH.replace('serializer="json"', 'serializer="pickle"')),
    wrong("publishes the numbers twice", {"check-publish"}, publish=PUBLISH + PUBLISH),
    wrong("the callback never acks", {"check-consume"}, consume=CONSUME.replace("    message.ack()\n", "")),
    wrong("the SimpleQueue reader never acks", {"check-simple"},
          simple=SIMPLE.replace("            message.ack()\n", "")),
    wrong("adds the payload dicts, not the squares", {"check-simple"},
          simple=SIMPLE.replace('total += message.payload["square"]', 'total += message.payload["number"]')),
    wrong("drain_events() without a timeout: consumes forever", {"check-consume"},
          consume=CONSUME.replace("drain_events(timeout=0.5)", "drain_events()")),
]

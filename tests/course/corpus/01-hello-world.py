"""Lesson 1, hello world: connect, declare `hello`, publish once, consume with a bound, close."""

from tests.course.corpus import makers

L = "01-hello-world"

CONNECT = """
connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
channel = connection.channel()
"""
DECLARE = 'channel.queue_declare(queue="hello", durable=True)'
PUBLISH = 'channel.basic_publish(exchange="", routing_key="hello", body="Hello World!")'
CLOSE = "connection.close()"

TUTORIAL_CONSUME = """
def callback(ch, method, properties, body):
    print(" [x] Received %r" % body)
    received.append(body)
    ch.stop_consuming()


channel.basic_consume(queue="hello", on_message_callback=callback, auto_ack=True)
connection.call_later(5, channel.stop_consuming)
print(" [*] Waiting for messages.")
channel.start_consuming()
"""


correct, wrong = makers(L, connect=CONNECT, declare=DECLARE, publish=PUBLISH, consume=TUTORIAL_CONSUME, close=CLOSE)


CORPUS = [
    correct("tutorial style: callback stops itself, call_later as a safety net"),
    correct(
        "consume() generator with inactivity_timeout",
        connect="""
            params = pika.URLParameters(RABBITMQ_URL)
            connection = pika.BlockingConnection(params)
            channel = connection.channel()
            print("channel", channel.channel_number, "open:", channel.is_open)
        """,
        publish='channel.basic_publish(exchange="", routing_key="hello", body=b"Hello World!")',
        consume="""
            for method, properties, body in channel.consume("hello", auto_ack=True, inactivity_timeout=5):
                if method is not None:
                    received.append(body)
                break
            channel.cancel()
            print(received)
        """,
    ),
    correct(
        "basic_get polling loop with a deadline",
        declare='result = channel.queue_declare("hello", durable=True)\nprint(result.method.queue)',
        consume="""
            import time
            deadline = time.time() + 5
            while not received and time.time() < deadline:
                method_frame, header_frame, body = channel.basic_get(queue="hello", auto_ack=True)
                if method_frame:
                    received.append(body)
                else:
                    time.sleep(0.1)
        """,
    ),
    correct(
        "helper functions and a consumer class",
        connect="""
            def open_channel(url):
                conn = pika.BlockingConnection(pika.URLParameters(url))
                return conn, conn.channel()

            connection, channel = open_channel(RABBITMQ_URL)
        """,
        publish="""
            def send(ch, queue, text):
                ch.basic_publish(exchange="", routing_key=queue, body=text.encode("utf-8"))
                print(" [x] Sent %r" % text)

            send(channel, "hello", "Hello World!")
        """,
        consume="""
            class FirstMessage:
                def __init__(self, sink):
                    self.sink = sink

                def __call__(self, ch, method, properties, body):
                    self.sink.append(body)
                    ch.stop_consuming()

            tag = channel.basic_consume(queue="hello", on_message_callback=FirstMessage(received), auto_ack=True)
            timer = connection.call_later(5, channel.stop_consuming)
            channel.start_consuming()
            connection.remove_timeout(timer)
        """,
        close="if connection.is_open:\n    connection.close()\nprint(connection.is_closed)",
    ),
    correct(
        "process_data_events loop with a deadline",
        connect="""
            connection = pika.BlockingConnection(parameters=pika.URLParameters(RABBITMQ_URL))
            channel = connection.channel()
        """,
        declare='channel.queue_declare(queue="hello", durable=True, exclusive=False, auto_delete=False)',
        publish="""
            channel.basic_publish(exchange="", routing_key="hello", body="Hello World!",
                                  properties=pika.BasicProperties(content_type="text/plain"))
        """,
        consume="""
            import time

            def on_message(ch, method, properties, body):
                received.append(body)

            consumer_tag = channel.basic_consume("hello", on_message, auto_ack=True)
            end = time.monotonic() + 5
            while len(received) < 1 and time.monotonic() < end:
                connection.process_data_events(time_limit=0.2)
            channel.basic_cancel(consumer_tag)
        """,
    ),
    wrong("declares hello without durable=True (the classic tutorial)", {"check-declare"},
          declare='channel.queue_declare(queue="hello")'),
    wrong("publishes twice (ran the cell again)", {"check-publish"},
          publish=PUBLISH + "\n" + PUBLISH),
    wrong("typo in the routing key: the message is dropped", {"check-publish", "check-consume"},
          publish='channel.basic_publish(exchange="", routing_key="Hello", body="Hello World!")'),
    wrong("decodes the body: received holds a str, not bytes", {"check-consume"},
          consume=TUTORIAL_CONSUME.replace("received.append(body)", "received.append(body.decode())")),
    wrong("pika 0.x basic_consume(callback, queue=..., no_ack=True)", {"check-consume"},
          consume="""
            def callback(ch, method, properties, body):
                received.append(body)

            channel.basic_consume(callback, queue="hello", no_ack=True)
            channel.start_consuming()
          """),
    wrong("closes the channel, not the connection", {"check-close"}, close="channel.close()"),
    wrong("channel kept in `ch`, not `channel`", {"check-connect"},
          connect="connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))\nch = connection.channel()",
          declare='ch.queue_declare(queue="hello", durable=True)',
          publish='ch.basic_publish(exchange="", routing_key="hello", body="Hello World!")',
          consume=TUTORIAL_CONSUME.replace("channel.", "ch."),
          ),
    wrong("consumes forever: start_consuming without any stop", {"check-consume"},
          consume="""
            def callback(ch, method, properties, body):
                print(" [x] Received %r" % body)
                received.append(body)

            channel.basic_consume(queue="hello", on_message_callback=callback, auto_ack=True)
            channel.start_consuming()
          """),
]

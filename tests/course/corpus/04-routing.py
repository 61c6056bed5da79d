"""Lesson 4, routing: a direct exchange, several bindings, a subscribe() helper, a bounded read."""

from tests.course.corpus import makers

L = "04-routing"

EXCHANGE = 'channel.exchange_declare(exchange="direct_logs", exchange_type="direct")'
BIND = """
channel.queue_declare(queue="log_errors", durable=True)
channel.queue_declare(queue="log_problems", durable=True)
channel.queue_bind(queue="log_errors", exchange="direct_logs", routing_key="error")
for severity in ("warning", "error"):
    channel.queue_bind(queue="log_problems", exchange="direct_logs", routing_key=severity)
"""
EMIT = """
for severity, text in LOGS:
    channel.basic_publish(exchange="direct_logs", routing_key=severity, body=text)
    print(" [x] Sent %r:%r" % (severity, text))
"""
SUBSCRIBE = """
if not severities:
    raise ValueError("give at least one severity")
result = channel.queue_declare(queue="", exclusive=True)
queue_name = result.method.queue
for severity in severities:
    channel.queue_bind(exchange="direct_logs", queue=queue_name, routing_key=severity)
return queue_name
"""
RECEIVE = """
queue = subscribe(channel, ["warning", "error"])
for severity, text in LOGS:
    channel.basic_publish(exchange="direct_logs", routing_key=severity, body=text)


def callback(ch, method, properties, body):
    received.append((method.routing_key, body))
    if len(received) == 2:
        ch.stop_consuming()


channel.basic_consume(queue=queue, on_message_callback=callback, auto_ack=True)
connection.call_later(5, channel.stop_consuming)
channel.start_consuming()
"""


correct, wrong = makers(L, exchange=EXCHANGE, bind=BIND, emit=EMIT, subscribe=SUBSCRIBE, receive=RECEIVE)


CORPUS = [
    correct("tutorial style: start_consuming, stop in the callback, call_later"),
    correct(
        "a table of bindings, positional arguments, the consume() generator",
        exchange='channel.exchange_declare("direct_logs", "direct")',
        bind="""
            BINDINGS = {"log_errors": ["error"], "log_problems": ["warning", "error"]}
            for queue, keys in BINDINGS.items():
                channel.queue_declare(queue, durable=True)
                for key in keys:
                    channel.queue_bind(queue, "direct_logs", routing_key=key)
        """,
        emit="""
            for level, line in LOGS:
                channel.basic_publish("direct_logs", level, line.encode())
        """,
        subscribe="""
            severities = list(severities)
            if len(severities) == 0:
                raise ValueError("no severities")
            name = channel.queue_declare("", exclusive=True).method.queue
            for s in severities:
                channel.queue_bind(name, "direct_logs", s)
            return name
        """,
        receive="""
            mine = subscribe(channel, ["warning", "error"])
            for level, line in LOGS:
                channel.basic_publish("direct_logs", level, line.encode())
            for method, properties, body in channel.consume(mine, auto_ack=True, inactivity_timeout=5):
                if method is None:
                    break
                received.append((method.routing_key, body))
                if len(received) >= 2:
                    break
            channel.cancel()
        """,
    ),
    correct(
        "basic_get loop with a deadline",
        receive="""
            import time

            watch = subscribe(channel, ("warning", "error"))
            for severity, message in LOGS:
                channel.basic_publish(exchange="direct_logs", routing_key=severity, body=message)
            deadline = time.monotonic() + 5
            while len(received) < 2 and time.monotonic() < deadline:
                method, properties, body = channel.basic_get(watch, auto_ack=True)
                if method is None:
                    time.sleep(0.05)
                    continue
                received.append((method.routing_key, body))
        """,
    ),
    correct(
        "process_data_events with a counter, ValueError raised last",
        subscribe="""
            queue = channel.queue_declare(queue="", exclusive=True).method.queue
            bound = 0
            for severity in severities:
                channel.queue_bind(queue=queue, exchange="direct_logs", routing_key=severity)
                bound += 1
            if bound == 0:
                channel.queue_delete(queue=queue)
                raise ValueError("subscribe() needs at least one severity")
            return queue
        """,
        receive="""
            import time

            q = subscribe(channel, ["warning", "error"])
            for sev, txt in LOGS:
                channel.basic_publish(exchange="direct_logs", routing_key=sev, body=txt)

            def on_message(ch, method, properties, body):
                received.append((method.routing_key, body))

            tag = channel.basic_consume(q, on_message, auto_ack=True)
            stop_at = time.monotonic() + 5
            while len(received) < 2 and time.monotonic() < stop_at:
                connection.process_data_events(time_limit=0.1)
            channel.basic_cancel(tag)
        """,
    ),
    correct(
        "emit through a helper, consumer object with a limit",
        emit="""
            def emit_log(severity, message):
                channel.basic_publish(exchange="direct_logs", routing_key=severity, body=message)

            for severity, message in LOGS:
                emit_log(severity, message)
        """,
        receive="""
            class Collector:
                def __init__(self, limit):
                    self.limit = limit

                def __call__(self, ch, method, properties, body):
                    received.append((method.routing_key, body))
                    if len(received) >= self.limit:
                        ch.stop_consuming()

            queue_name = subscribe(channel, severities=["warning", "error"])
            for severity, message in LOGS:
                channel.basic_publish(exchange="direct_logs", routing_key=severity, body=message)
            channel.basic_consume(queue=queue_name, on_message_callback=Collector(2), auto_ack=True)
            timer = connection.call_later(5, channel.stop_consuming)
            channel.start_consuming()
            connection.remove_timeout(timer)
        """,
    ),
    wrong("direct_logs declared as fanout", {"check-exchange", "check-emit", "check-receive"},
          exchange='channel.exchange_declare(exchange="direct_logs", exchange_type="fanout")'),
    wrong("log_problems bound with warning only", {"check-bind", "check-emit"},
          bind=BIND.replace('("warning", "error")', '("warning",)')),
    wrong("binding keys in capitals", {"check-bind", "check-emit"},
          bind=BIND.replace('"error"', '"ERROR"').replace('"warning"', '"WARNING"')),
    wrong("severity and text swapped when publishing", {"check-emit"},
          emit=EMIT.replace("routing_key=severity, body=text", "routing_key=text, body=severity")),
    wrong("subscribe() accepts an empty list", {"check-subscribe"},
          subscribe=SUBSCRIBE.replace('if not severities:\n    raise ValueError("give at least one severity")\n', "")),
    wrong("subscribe() returns the declare result, not the name", {"check-subscribe", "check-receive"},
          subscribe=SUBSCRIBE.replace("return queue_name", "return result")),
    wrong("subscribe() declares a named durable queue", {"check-subscribe"},
          subscribe=SUBSCRIBE.replace('channel.queue_declare(queue="", exclusive=True)',
                                      'channel.queue_declare(queue="my_" + "_".join(severities), durable=True)')),
    wrong("publishes before subscribing", {"check-receive"},
          receive=RECEIVE.replace('queue = subscribe(channel, ["warning", "error"])\n', "").replace(
              "def callback", 'queue = subscribe(channel, ["warning", "error"])\n\n\ndef callback')),
    wrong("decodes the bodies", {"check-receive"}, receive=RECEIVE.replace("body))", "body.decode()))")),
    wrong("subscribes to warning only", {"check-receive"},
          receive=RECEIVE.replace('["warning", "error"]', '["warning"]')),
    wrong("consumes forever: no stop, no time limit", {"check-receive"},
          receive=RECEIVE.replace("connection.call_later(5, channel.stop_consuming)\n", "").replace(
              "    if len(received) == 2:\n        ch.stop_consuming()\n", "")),
]

"""Lesson 8, reliability: dead-lettering, a bounded retry, TTL, length limits, publisher confirms."""

from tests.course.corpus import makers

L = "08-reliability"

DLX = """
channel.exchange_declare(exchange="work.dlx", exchange_type="direct", durable=True)
channel.queue_declare(queue="work.dead", durable=True)
channel.queue_bind(queue="work.dead", exchange="work.dlx", routing_key="work.dead")
channel.queue_declare(queue="work", durable=True, arguments={
    "x-dead-letter-exchange": "work.dlx",
    "x-dead-letter-routing-key": "work.dead",
})
"""
WORKER = """
for method, properties, body in channel.consume("work", inactivity_timeout=0.5):
    if method is None:
        break
    try:
        job = json.loads(body)
    except ValueError:
        failures.append((body, method.redelivered))
        if method.redelivered:
            channel.basic_reject(method.delivery_tag, requeue=False)
        else:
            channel.basic_nack(method.delivery_tag, requeue=True)
        continue
    done.append(job["job"])
    channel.basic_ack(method.delivery_tag)
channel.cancel()
"""
TTL = """
channel.queue_declare(queue="work.retry", durable=True, arguments={
    "x-message-ttl": 500,
    "x-dead-letter-exchange": "",
    "x-dead-letter-routing-key": "work",
})
channel.basic_publish(exchange="", routing_key="work.retry", body=json.dumps({"job": 4}),
                      properties=pika.BasicProperties(content_type="application/json", delivery_mode=2))
"""
BOUNDED = """
channel.queue_declare(queue="work.bounded", durable=True,
                      arguments={"x-max-length": 3, "x-overflow": "reject-publish"})
"""
CONFIRMS = """
confirm_channel = connection.channel()
confirm_channel.confirm_delivery()


def publish_confirmed(channel, routing_key, body):
    try:
        channel.basic_publish(exchange="", routing_key=routing_key, body=body,
                              properties=pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent),
                              mandatory=True)
    except (pika.exceptions.UnroutableError, pika.exceptions.NackError):
        return False
    return True


results = [publish_confirmed(confirm_channel, "work.bounded", b"job %d" % n) for n in range(1, 6)]
lost = publish_confirmed(confirm_channel, "no.such.queue", b"lost?")
print(results, lost)
"""


correct, wrong = makers(L, dlx=DLX, worker=WORKER, ttl=TTL, bounded=BOUNDED, confirms=CONFIRMS)


CORPUS = [
    correct("straight from the text"),
    correct(
        "positional arguments, a handler function, basic_reject for the first retry too",
        dlx="""
            DLX_ARGS = {"x-dead-letter-exchange": "work.dlx", "x-dead-letter-routing-key": "work.dead"}
            channel.exchange_declare("work.dlx", "direct", durable=True)
            channel.queue_declare("work.dead", durable=True)
            channel.queue_bind("work.dead", "work.dlx", "work.dead")
            channel.queue_declare("work", durable=True, arguments=DLX_ARGS)
        """,
        worker="""
            def handle(method, body):
                try:
                    payload = json.loads(body)
                except ValueError:
                    failures.append((body, method.redelivered))
                    channel.basic_reject(delivery_tag=method.delivery_tag, requeue=not method.redelivered)
                    return
                done.append(payload["job"])
                channel.basic_ack(delivery_tag=method.delivery_tag)

            for method, properties, body in channel.consume(queue="work", auto_ack=False, inactivity_timeout=0.5):
                if method is None:
                    break
                handle(method, body)
            channel.cancel()
        """,
        confirms="""
            from pika.exceptions import NackError, UnroutableError

            confirm_channel = connection.channel()
            confirm_channel.confirm_delivery()

            def publish_confirmed(channel, routing_key, body):
                props = pika.BasicProperties(delivery_mode=2)
                try:
                    channel.basic_publish("", routing_key, body, props, mandatory=True)
                    return True
                except UnroutableError:
                    return False
                except NackError:
                    return False

            results = []
            for i in range(1, 6):
                results.append(publish_confirmed(confirm_channel, "work.bounded", f"job {i}".encode()))
            lost = publish_confirmed(confirm_channel, "no.such.queue", b"lost?")
        """,
    ),
    correct(
        "json.JSONDecodeError caught, nack with multiple=False",
        worker="""
            for method, properties, body in channel.consume("work", inactivity_timeout=0.5):
                if not method:
                    break
                try:
                    number = json.loads(body)["job"]
                except json.JSONDecodeError:
                    failures.append((body, method.redelivered))
                    channel.basic_nack(delivery_tag=method.delivery_tag, multiple=False,
                                       requeue=not method.redelivered)
                else:
                    done.append(number)
                    channel.basic_ack(delivery_tag=method.delivery_tag)
            channel.cancel()
        """,
        ttl="""
            retry_args = {"x-message-ttl": 500, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "work"}
            channel.queue_declare("work.retry", durable=True, arguments=retry_args)
            channel.basic_publish("", "work.retry", b'{"job": 4}')
        """,
    ),
    correct(
        "arguments built step by step, overflow by a constant",
        bounded="""
            REJECT = "reject-publish"
            limits = {}
            limits["x-max-length"] = 3
            limits["x-overflow"] = REJECT
            channel.queue_declare("work.bounded", durable=True, arguments=limits)
        """,
        confirms="""
            confirm_channel = connection.channel()
            confirm_channel.confirm_delivery()

            def publish_confirmed(channel, routing_key, body):
                try:
                    channel.basic_publish(
                        exchange="",
                        routing_key=routing_key,
                        body=body,
                        properties=pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent),
                        mandatory=True,
                    )
                except pika.exceptions.UnroutableError:
                    print("unroutable:", body)
                    return False
                except pika.exceptions.NackError:
                    print("nacked:", body)
                    return False
                else:
                    return True

            results = [publish_confirmed(confirm_channel, "work.bounded", ("job %d" % n).encode()) for n in range(1, 6)]
            lost = publish_confirmed(confirm_channel, "no.such.queue", b"lost?")
        """,
    ),
    correct(
        "basic_get loop instead of the consume generator",
        worker="""
            import time

            quiet_since = time.monotonic()
            while time.monotonic() - quiet_since < 0.5:
                method, properties, body = channel.basic_get("work", auto_ack=False)
                if method is None:
                    time.sleep(0.05)
                    continue
                quiet_since = time.monotonic()
                try:
                    done.append(json.loads(body)["job"])
                except ValueError:
                    failures.append((body, method.redelivered))
                    if method.redelivered:
                        channel.basic_reject(method.delivery_tag, requeue=False)
                    else:
                        channel.basic_nack(method.delivery_tag, requeue=True)
                else:
                    channel.basic_ack(method.delivery_tag)
        """,
    ),
    wrong("work dead-letters without the routing key", {"check-dlx", "check-worker"},
          dlx=DLX.replace('    "x-dead-letter-routing-key": "work.dead",\n', "")),
    wrong("work.dlx declared as fanout", {"check-dlx"},
          dlx=DLX.replace('exchange_type="direct"', 'exchange_type="fanout"')),
    wrong("requeues the poison message every time", {"check-worker"},
          worker=WORKER.replace("""        if method.redelivered:
            channel.basic_reject(method.delivery_tag, requeue=False)
        else:
            channel.basic_nack(method.delivery_tag, requeue=True)""",
                                """        channel.basic_nack(method.delivery_tag, requeue=True)""")),
    wrong("rejects the poison message at once, no retry", {"check-worker"},
          worker=WORKER.replace("""        if method.redelivered:
            channel.basic_reject(method.delivery_tag, requeue=False)
        else:
            channel.basic_nack(method.delivery_tag, requeue=True)""",
                                """        channel.basic_reject(method.delivery_tag, requeue=False)""")),
    wrong("consumes with auto_ack=True, then nacks", {"check-worker"},
          worker=WORKER.replace('channel.consume("work", inactivity_timeout=0.5)',
                                'channel.consume("work", auto_ack=True, inactivity_timeout=0.5)')),
    wrong("never acks the good jobs", {"check-worker"},
          worker=WORKER.replace("    channel.basic_ack(method.delivery_tag)\n", "")),
    wrong("TTL given as a string", {"check-ttl"}, ttl=TTL.replace('"x-message-ttl": 500', '"x-message-ttl": "500"')),
    wrong("work.retry without a dead-letter exchange", {"check-ttl"},
          ttl=TTL.replace('    "x-dead-letter-exchange": "",\n    "x-dead-letter-routing-key": "work",\n', "")),
    wrong("length limit without x-overflow (drop-head)", {"check-bounded", "check-confirms"},
          bounded=BOUNDED.replace(', "x-overflow": "reject-publish"', "")),
    wrong("confirm_delivery() forgotten", {"check-confirms"},
          confirms=CONFIRMS.replace("confirm_channel.confirm_delivery()\n", "")),
    wrong("publishes without mandatory=True", {"check-confirms"},
          confirms=CONFIRMS.replace(",\n                              mandatory=True)", ")")),
    wrong("pika 0.x style: uses basic_publish's return value", {"check-confirms"},
          confirms=CONFIRMS.replace("""    try:
        channel.basic_publish(""", """    try:
        return bool(channel.basic_publish(""").replace(
              "mandatory=True)\n", "mandatory=True))\n")),
    wrong("catches UnroutableError only", {"check-confirms"},
          confirms=CONFIRMS.replace("(pika.exceptions.UnroutableError, pika.exceptions.NackError)",
                                    "pika.exceptions.UnroutableError")),
]

"""Lesson 2, work queues: persistent tasks, round-robin with acks, redelivery, prefetch, quorum."""

from tests.course.corpus import makers

L = "02-work-queues"

NEW_TASK = """
channel.queue_declare(queue="task_queue", durable=True)


def new_task(message):
    channel.basic_publish(
        exchange="",
        routing_key="task_queue",
        body=message,
        properties=pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent),
    )
    print(" [x] Sent %r" % message)
"""

ROUND_ROBIN = """
channel_a = connection.channel()
channel_b = connection.channel()


def worker(name):
    def on_task(ch, method, properties, body):
        done.append((name, body.decode()))
        ch.basic_ack(delivery_tag=method.delivery_tag)
    return on_task


channel_a.basic_consume(queue="task_queue", on_message_callback=worker("A"))
channel_b.basic_consume(queue="task_queue", on_message_callback=worker("B"))
for n in range(1, 7):
    new_task("Task %d." % n)
run_until(lambda: len(done) == 6)
channel_a.close()
channel_b.close()
"""

REDELIVERY = """
doomed = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
doomed_channel = doomed.channel()
m, p, b = doomed_channel.basic_get(queue="task_queue", auto_ack=False)
print("the doomed worker took", b)
doomed.close()

for method, properties, body in channel.consume(queue="task_queue", inactivity_timeout=3):
    break
channel.cancel()
if method:
    channel.basic_ack(delivery_tag=method.delivery_tag)
"""

FAIR = """
channel_a.basic_qos(prefetch_count=1)
channel_b.basic_qos(prefetch_count=1)
"""

QUORUM = """
channel.queue_declare(queue="quorum_tasks", durable=True, arguments={"x-queue-type": "quorum"})
channel.basic_publish(exchange="", routing_key="quorum_tasks", body="Seventh message.......",
                      properties=pika.BasicProperties(delivery_mode=2))
"""


correct, wrong = makers(
    L, new_task=NEW_TASK, round_robin=ROUND_ROBIN, redelivery=REDELIVERY, fair_dispatch=FAIR, quorum=QUORUM)


CORPUS = [
    correct("tutorial style: callbacks made by a closure, generator for the redelivery"),
    correct(
        "two named callbacks, delivery_mode=2, next() on the generator",
        new_task="""
            channel.queue_declare("task_queue", durable=True)

            def new_task(message):
                props = pika.BasicProperties(delivery_mode=2)
                channel.basic_publish("", "task_queue", message.encode(), props)
                print("sent", message)
        """,
        round_robin="""
            channel_a = connection.channel()
            channel_b = connection.channel()

            def work_a(ch, method, properties, body):
                done.append(("A", body.decode("utf-8")))
                ch.basic_ack(method.delivery_tag)

            def work_b(ch, method, properties, body):
                done.append(("B", body.decode("utf-8")))
                ch.basic_ack(method.delivery_tag)

            channel_a.basic_consume("task_queue", work_a)
            channel_b.basic_consume("task_queue", work_b)
            for i in range(6):
                new_task(f"Task {i + 1}.")
            run_until(lambda: len(done) == 6)
            channel_a.close()
            channel_b.close()
        """,
        redelivery="""
            doomed = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
            dying = doomed.channel()
            dying.basic_get("task_queue", auto_ack=False)
            doomed.close()

            method, properties, body = next(channel.consume("task_queue", inactivity_timeout=3))
            channel.cancel()
            channel.basic_ack(delivery_tag=method.delivery_tag)
        """,
        fair_dispatch="""
            for worker_channel in (channel_a, channel_b):
                worker_channel.basic_qos(prefetch_count=1)
        """,
    ),
    correct(
        "str.format, a worker table, basic_get retried until the task is back",
        new_task="""
            PERSISTENT = pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent)
            channel.queue_declare(queue="task_queue", durable=True, arguments=None)

            def new_task(message: str) -> None:
                channel.basic_publish(exchange="", routing_key="task_queue", body=message, properties=PERSISTENT)
                print(" [x] Sent {!r}".format(message))
        """,
        round_robin="""
            channel_a, channel_b = connection.channel(), connection.channel()
            workers = {"A": channel_a, "B": channel_b}
            for label, worker_channel in workers.items():
                def callback(ch, method, properties, body, label=label):
                    done.append((label, body.decode()))
                    ch.basic_ack(delivery_tag=method.delivery_tag)
                worker_channel.basic_consume(queue="task_queue", on_message_callback=callback, auto_ack=False)
            for number in range(1, 7):
                new_task("Task {}.".format(number))
            run_until(lambda: len(done) == 6)
            for worker_channel in workers.values():
                worker_channel.close()
        """,
        redelivery="""
            doomed = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
            got = doomed.channel().basic_get(queue="task_queue", auto_ack=False)
            assert got[0] is not None
            doomed.close()

            method = body = None
            for method, properties, body in channel.consume(queue="task_queue", auto_ack=False, inactivity_timeout=3):
                if method is not None:
                    channel.basic_ack(delivery_tag=method.delivery_tag)
                break
            channel.cancel()
        """,
    ),
    correct(
        "basic_qos with keyword arguments spelled out, quorum via a dict of arguments",
        fair_dispatch="""
            channel_a.basic_qos(prefetch_size=0, prefetch_count=1, global_qos=False)
            channel_b.basic_qos(prefetch_size=0, prefetch_count=1, global_qos=False)
        """,
        quorum="""
            quorum_args = {"x-queue-type": "quorum"}
            channel.queue_declare(queue="quorum_tasks", durable=True, arguments=quorum_args)
            channel.basic_publish(
                exchange="",
                routing_key="quorum_tasks",
                body=b"Seventh message.......",
                properties=pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent),
            )
        """,
    ),
    correct(
        "acks in a helper, a callback class, the redelivery read with a callback",
        round_robin="""
            class Worker:
                def __init__(self, name):
                    self.name = name
                    self.channel = connection.channel()
                    self.channel.basic_consume(queue="task_queue", on_message_callback=self.on_task)

                def on_task(self, ch, method, properties, body):
                    done.append((self.name, body.decode()))
                    ch.basic_ack(delivery_tag=method.delivery_tag)

            worker_a, worker_b = Worker("A"), Worker("B")
            channel_a, channel_b = worker_a.channel, worker_b.channel
            for n in range(1, 7):
                new_task("Task %d." % n)
            run_until(lambda: len(done) == 6)
            channel_a.close()
            channel_b.close()
        """,
        redelivery="""
            doomed = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
            doomed.channel().basic_get(queue="task_queue", auto_ack=False)
            doomed.close()

            method = body = None
            for m, props, payload in channel.consume("task_queue", inactivity_timeout=3):
                method, body = m, payload
                break
            requeued = channel.cancel()
            if method is not None:
                channel.basic_ack(method.delivery_tag)
        """,
    ),
    correct(
        "each callback acks on its worker's channel variable, with multiple=True",
        round_robin="""
            channel_a = connection.channel()
            channel_b = connection.channel()

            def on_a(ch, method, properties, body):
                done.append(("A", body.decode()))
                channel_a.basic_ack(delivery_tag=method.delivery_tag, multiple=True)

            def on_b(ch, method, properties, body):
                done.append(("B", body.decode()))
                channel_b.basic_ack(delivery_tag=method.delivery_tag, multiple=True)

            channel_a.basic_consume(queue="task_queue", on_message_callback=on_a, auto_ack=False)
            channel_b.basic_consume(queue="task_queue", on_message_callback=on_b, auto_ack=False)
            for n in range(1, 7):
                new_task(f"Task {n}.")
            run_until(lambda: len(done) == 6)
            channel_a.close()
            channel_b.close()
        """,
    ),
    wrong("new_task publishes transient messages", {"check-new-task"},
          new_task=NEW_TASK.replace(
              "properties=pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent),", "")),
    wrong("task_queue declared without durable=True", {"check-new-task"},
          new_task=NEW_TASK.replace('queue="task_queue", durable=True', 'queue="task_queue"')),
    wrong("workers forget to ack", {"check-round-robin"},
          round_robin=ROUND_ROBIN.replace("        ch.basic_ack(delivery_tag=method.delivery_tag)\n", "")),
    wrong("tasks published before the workers consume", {"check-round-robin"},
          round_robin="""
            for n in range(1, 7):
                new_task("Task %d." % n)
            channel_a = connection.channel()
            channel_b = connection.channel()

            def worker(name):
                def on_task(ch, method, properties, body):
                    done.append((name, body.decode()))
                    ch.basic_ack(delivery_tag=method.delivery_tag)
                return on_task

            channel_a.basic_consume(queue="task_queue", on_message_callback=worker("A"))
            channel_b.basic_consume(queue="task_queue", on_message_callback=worker("B"))
            run_until(lambda: len(done) == 6)
            channel_a.close()
            channel_b.close()
          """),
    wrong("workers keep the bytes: done holds b'Task 1.'", {"check-round-robin"},
          round_robin=ROUND_ROBIN.replace("body.decode()", "body")),
    wrong("auto_ack=True although the exercise asks the workers to acknowledge", {"check-round-robin"},
          round_robin=ROUND_ROBIN.replace(
              "        ch.basic_ack(delivery_tag=method.delivery_tag)\n", "").replace(
              'on_message_callback=worker("A")', 'on_message_callback=worker("A"), auto_ack=True').replace(
              'on_message_callback=worker("B")', 'on_message_callback=worker("B"), auto_ack=True')),
    wrong("the doomed worker takes the task with auto_ack=True", {"check-redelivery"},
          redelivery=REDELIVERY.replace('basic_get(queue="task_queue", auto_ack=False)',
                                        'basic_get(queue="task_queue", auto_ack=True)')),
    wrong("the redelivered task is never acknowledged", {"check-redelivery"},
          redelivery=REDELIVERY.replace("if method:\n    channel.basic_ack(delivery_tag=method.delivery_tag)\n", "")),
    wrong("prefetch set on the setup `channel`, not on the workers' channels", {"check-fair-dispatch"},
          fair_dispatch="channel.basic_qos(prefetch_count=1)"),
    wrong("prefetch_count=2", {"check-fair-dispatch"},
          fair_dispatch="channel_a.basic_qos(prefetch_count=2)\nchannel_b.basic_qos(prefetch_count=2)"),
    wrong("quorum queue declared without durable=True", {"check-quorum"},
          quorum=QUORUM.replace('queue="quorum_tasks", durable=True', 'queue="quorum_tasks"')),
    wrong("x-queue-type misspelled as x-queue_type: a classic queue", {"check-quorum"},
          quorum=QUORUM.replace('"x-queue-type"', '"x-queue_type"')),
]

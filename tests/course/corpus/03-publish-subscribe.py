"""Lesson 3, publish/subscribe: a fanout exchange and temporary server-named queues."""

from tests.course.corpus import makers

L = "03-publish-subscribe"

EXCHANGE = 'channel.exchange_declare(exchange="logs", exchange_type="fanout")'
SUBSCRIBE = """
result = channel.queue_declare(queue="", exclusive=True)
screen_queue = result.method.queue
channel.queue_bind(exchange="logs", queue=screen_queue)
result = channel.queue_declare(queue="", exclusive=True)
disk_queue = result.method.queue
channel.queue_bind(exchange="logs", queue=disk_queue)
"""
EMIT = """
for line in LOG_LINES:
    channel.basic_publish(exchange="logs", routing_key="", body=line)
    print(" [x] Sent %r" % line)
"""
CONSUME = """
def show(ch, method, properties, body):
    on_screen.append(body.decode())


def write(ch, method, properties, body):
    on_disk.append(body.decode())


screen_tag = channel.basic_consume(queue=screen_queue, on_message_callback=show, auto_ack=True)
disk_tag = channel.basic_consume(queue=disk_queue, on_message_callback=write, auto_ack=True)
run_until(lambda: len(on_screen) == 3 and len(on_disk) == 3)
channel.basic_cancel(screen_tag)
channel.basic_cancel(disk_tag)
"""
LATE = """
late_queue = channel.queue_declare(queue="", exclusive=True).method.queue
channel.queue_bind(exchange="logs", queue=late_queue)
channel.basic_publish(exchange="logs", routing_key="", body="info: a late line")
"""


correct, wrong = makers(L, exchange=EXCHANGE, subscribe=SUBSCRIBE, emit=EMIT, consume=CONSUME, late=LATE)


CORPUS = [
    correct("tutorial style: two callbacks, consumer tags cancelled"),
    correct(
        "a subscribe() helper, positional arguments, bytes bodies",
        exchange='channel.exchange_declare("logs", "fanout")',
        subscribe="""
            def temporary_queue():
                name = channel.queue_declare("", exclusive=True).method.queue
                channel.queue_bind(name, "logs")
                return name

            screen_queue = temporary_queue()
            disk_queue = temporary_queue()
        """,
        emit="""
            for line in LOG_LINES:
                channel.basic_publish("logs", "", line.encode("utf-8"))
        """,
        late="""
            def temporary_queue():
                name = channel.queue_declare("", exclusive=True).method.queue
                channel.queue_bind(name, "logs")
                return name

            late_queue = temporary_queue()
            channel.basic_publish("logs", "", b"info: a late line")
        """,
    ),
    correct(
        "one callback factory, a loop over the subscribers, binding key given",
        subscribe="""
            names = []
            for _ in range(2):
                declared = channel.queue_declare(queue="", exclusive=True)
                channel.queue_bind(queue=declared.method.queue, exchange="logs", routing_key="")
                names.append(declared.method.queue)
            screen_queue, disk_queue = names
        """,
        consume="""
            def collector(into):
                return lambda ch, method, properties, body: into.append(body.decode())

            tags = [channel.basic_consume(queue=q, on_message_callback=collector(target), auto_ack=True)
                    for q, target in ((screen_queue, on_screen), (disk_queue, on_disk))]
            run_until(lambda: len(on_screen) >= 3 and len(on_disk) >= 3)
            for tag in tags:
                channel.basic_cancel(tag)
        """,
    ),
    correct(
        "basic_get with auto_ack, no consumer at all",
        consume="""
            for queue, lines in ((screen_queue, on_screen), (disk_queue, on_disk)):
                while len(lines) < 3:
                    method, properties, body = channel.basic_get(queue=queue, auto_ack=True)
                    if method is None:
                        break
                    lines.append(body.decode())
        """,
    ),
    correct(
        "the consume() generator, one queue after the other",
        consume="""
            for queue, lines in ((screen_queue, on_screen), (disk_queue, on_disk)):
                for method, properties, body in channel.consume(queue, auto_ack=True, inactivity_timeout=1):
                    if method is None:
                        break
                    lines.append(body.decode())
                    if len(lines) == 3:
                        break
                channel.cancel()
        """,
    ),
    wrong("subscriber queues also auto_delete: they vanish when the consumers are cancelled",
          {"check-late"},
          subscribe=SUBSCRIBE.replace("exclusive=True", "exclusive=True, auto_delete=True")),
    wrong("exchange declared as direct", {"check-exchange", "check-emit", "check-consume", "check-late"},
          exchange='channel.exchange_declare(exchange="logs", exchange_type="direct")'),
    wrong("queues named by the student", {"check-subscribe"},
          subscribe="""
            screen_queue = "screen"
            disk_queue = "disk"
            for name in (screen_queue, disk_queue):
                channel.queue_declare(queue=name, exclusive=True)
                channel.queue_bind(exchange="logs", queue=name)
          """),
    wrong("server-named but durable instead of exclusive", {"check-subscribe"},
          subscribe=SUBSCRIBE.replace("exclusive=True", "durable=True")),
    wrong("only the screen queue is bound", {"check-subscribe", "check-emit"},
          subscribe=SUBSCRIBE.replace('channel.queue_bind(exchange="logs", queue=disk_queue)\n', "")),
    wrong("publishes through the default exchange to the screen queue", {"check-emit"},
          emit="""
            for line in LOG_LINES:
                channel.basic_publish(exchange="", routing_key=screen_queue, body=line)
          """),
    wrong("emits every line twice (ran the cell again)", {"check-emit"}, emit=EMIT + EMIT),
    wrong("keeps bytes in on_screen and on_disk", {"check-consume"},
          consume=CONSUME.replace("body.decode()", "body")),
    wrong("late line published before the late queue is bound", {"check-late"},
          late="""
            channel.basic_publish(exchange="logs", routing_key="", body="info: a late line")
            late_queue = channel.queue_declare(queue="", exclusive=True).method.queue
            channel.queue_bind(exchange="logs", queue=late_queue)
          """),
    wrong("late queue named `late` and durable, not server-named and exclusive", {"check-late"},
          late="""
            late_queue = "late"
            channel.queue_declare(queue=late_queue, durable=True)
            channel.queue_bind(exchange="logs", queue=late_queue)
            channel.basic_publish(exchange="logs", routing_key="", body="info: a late line")
          """),
]

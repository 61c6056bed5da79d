"""Lesson 13, streams: a stream and its retention, confirms, offsets, two readers, rstream and offset tracking.

Written from the released notebook and the official stream tutorials (a callback consumer driven
by process_data_events, rstream's keyword arguments, an offset stored from the callback), not
from the course's solutions.
"""

from tests.course.corpus import makers

L = "13-streams"

DECLARE = """
channel.queue_declare("readings", durable=True, arguments={
    "x-queue-type": "stream",
    "x-max-age": "7D",
    "x-max-length-bytes": 20000000,
    "x-stream-max-segment-size-bytes": 1000000,
})
"""
PUBLISH = """
confirm_channel = connection.channel()
confirm_channel.confirm_delivery()
for i in range(10):
    confirm_channel.basic_publish("", "readings", b"reading %d" % i, pika.BasicProperties(delivery_mode=2))
"""
READ_FROM = """
def read_stream(channel, offset):
    result = []

    def on_message(ch, method, properties, body):
        result.append((properties.headers["x-stream-offset"], body))
        ch.basic_ack(method.delivery_tag)

    channel.basic_qos(prefetch_count=100)
    tag = channel.basic_consume("readings", on_message, arguments={"x-stream-offset": offset})
    count, quiet_since = 0, time.monotonic()
    while time.monotonic() - quiet_since < 0.3:  # until nothing new came for 0.3 s
        channel.connection.process_data_events(time_limit=0.05)
        if len(result) != count:
            count, quiet_since = len(result), time.monotonic()
    channel.basic_cancel(tag)
    return result


from_seven = read_stream(channel, 7)
everything = read_stream(channel, "first")
"""
TWO_READERS = """
reader_a = connection.channel()
reader_b = connection.channel()
reader_a.basic_qos(prefetch_count=50)
reader_b.basic_qos(prefetch_count=50)


def keep(seen):
    def callback(ch, method, props, body):
        seen.append(body)
        ch.basic_ack(delivery_tag=method.delivery_tag)
    return callback


tag_a = reader_a.basic_consume("readings", keep(seen_a), arguments={"x-stream-offset": "next"})
tag_b = reader_b.basic_consume("readings", keep(seen_b), arguments={"x-stream-offset": "next"})
for i in range(5):
    confirm_channel.basic_publish("", "readings", ("live %d" % i).encode())
start = time.time()
while min(len(seen_a), len(seen_b)) < 5 and time.time() - start < 3:
    connection.process_data_events(time_limit=0.1)
reader_a.basic_cancel(tag_a)
reader_b.basic_cancel(tag_b)
"""
NATIVE_PUBLISH = """
async with Producer(**lab.streams.stream_options()) as producer:
    await producer.create_stream("telemetry", exists_ok=True, arguments={"max-length-bytes": 10000000})
    for i in range(20):
        await producer.send_wait(stream="telemetry", message=AMQPMessage(body=b"t %d" % i))
"""
RESUME = """
async def read_telemetry(limit, name="dashboard"):
    bodies = []
    consumer = Consumer(**lab.streams.stream_options())
    try:
        stored = await consumer.query_offset(stream="telemetry", subscriber_name=name)
        spec = ConsumerOffsetSpecification(offset_type=OffsetType.OFFSET, offset=stored + 1)
    except OffsetNotFound:
        spec = ConsumerOffsetSpecification(offset_type=OffsetType.FIRST, offset=None)

    async def on_message(msg, message_context):
        if len(bodies) >= limit:
            return
        bodies.append(msg.body)
        await message_context.consumer.store_offset(
            stream="telemetry", subscriber_name=name, offset=message_context.offset)

    await consumer.subscribe(stream="telemetry", callback=on_message, decoder=amqp_decoder,
                             offset_specification=spec, subscriber_name=name)
    await until_quiet(bodies, limit)
    await consumer.close()
    return bodies


first = await read_telemetry(12)
second = await read_telemetry(12)
"""

correct, wrong = makers(L, declare=DECLARE, publish=PUBLISH, read_from=READ_FROM, two_readers=TWO_READERS,
                        native_publish=NATIVE_PUBLISH, resume=RESUME)


CORPUS = [
    correct("callback readers driven by process_data_events, the offset stored from the callback"),
    correct(
        "keyword arguments everywhere, the consume() generator, an explicit producer close",
        declare="""
            retention = {"x-max-age": "7D", "x-max-length-bytes": 20 * 1000 * 1000,
                         "x-stream-max-segment-size-bytes": 1000 * 1000}
            channel.queue_declare(queue="readings", durable=True, arguments={"x-queue-type": "stream", **retention})
        """,
        publish="""
            confirm_channel = connection.channel()
            confirm_channel.confirm_delivery()
            for body in [f"reading {i}".encode() for i in range(10)]:
                confirm_channel.basic_publish(exchange="", routing_key="readings", body=body,
                                              properties=pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent))
        """,
        read_from="""
            def read_stream(channel, offset):
                channel.basic_qos(prefetch_count=25)
                pairs = []
                for method, props, body in channel.consume(queue="readings", auto_ack=False, inactivity_timeout=0.3,
                                                           arguments={"x-stream-offset": offset}):
                    if not method:
                        break
                    pairs.append((int(props.headers["x-stream-offset"]), body))
                    channel.basic_ack(delivery_tag=method.delivery_tag)
                channel.cancel()
                return pairs

            from_seven = read_stream(channel, 7)
            everything = read_stream(channel, "first")
        """,
        native_publish="""
            producer = Producer(**lab.streams.stream_options())
            try:
                await producer.create_stream(stream="telemetry", arguments={"max-length-bytes": 10_000_000}, exists_ok=True)
                for i in range(20):
                    await producer.send_wait("telemetry", AMQPMessage(body=("t " + str(i)).encode()))
            finally:
                await producer.close()
        """,
    ),
    correct(
        "a synchronous rstream callback and the offset kept in a dict, stored once at the end",
        resume="""
            async def read_telemetry(limit, name="dashboard"):
                got, last = [], {}
                async with Consumer(**lab.streams.stream_options()) as consumer:
                    try:
                        where = ConsumerOffsetSpecification(OffsetType.OFFSET, 1 + await consumer.query_offset("telemetry", name))
                    except OffsetNotFound:
                        where = ConsumerOffsetSpecification(OffsetType.FIRST)

                    def handle(message, context):
                        if len(got) < limit:
                            got.append(message.body)
                            last["offset"] = context.offset

                    await consumer.subscribe("telemetry", handle, decoder=amqp_decoder, offset_specification=where)
                    await until_quiet(got, limit)
                    if "offset" in last:
                        await consumer.store_offset("telemetry", name, last["offset"])
                return got

            first = await read_telemetry(12)
            second = await read_telemetry(12)
        """,
    ),
    correct(
        "its own waiting with an asyncio.Event instead of until_quiet",
        resume="""
            async def read_telemetry(limit, name="dashboard"):
                out = []
                enough = asyncio.Event()
                newest = None
                async with Consumer(**lab.streams.stream_options()) as consumer:
                    try:
                        resume_at = await consumer.query_offset("telemetry", name) + 1
                        spec = ConsumerOffsetSpecification(OffsetType.OFFSET, resume_at)
                    except OffsetNotFound:
                        spec = ConsumerOffsetSpecification(OffsetType.FIRST)

                    async def on_message(message, context):
                        nonlocal newest
                        if enough.is_set():
                            return
                        out.append(message.body)
                        newest = context.offset
                        if len(out) == limit:
                            enough.set()

                    await consumer.subscribe("telemetry", on_message, decoder=amqp_decoder, offset_specification=spec)
                    try:
                        await asyncio.wait_for(enough.wait(), timeout=1.0)
                    except asyncio.TimeoutError:
                        pass  # fewer than `limit` were there
                    if newest is not None:
                        await consumer.store_offset("telemetry", name, newest)
                return out

            first = await read_telemetry(12)
            second = await read_telemetry(12)
        """,
    ),
    correct(
        "both readers on one loop with a single list of consumer tags, and a stream declared in two steps",
        declare="""
            stream_args = {"x-queue-type": "stream"}
            stream_args["x-max-age"] = "7D"
            stream_args["x-max-length-bytes"] = 20_000_000
            stream_args["x-stream-max-segment-size-bytes"] = 1_000_000
            channel.queue_declare(queue="readings", durable=True, arguments=stream_args)
        """,
        two_readers="""
            reader_a, reader_b = connection.channel(), connection.channel()
            consumers = []
            for ch, target in ((reader_a, seen_a), (reader_b, seen_b)):
                ch.basic_qos(prefetch_count=10)
                consumers.append((ch, ch.basic_consume(
                    queue="readings",
                    on_message_callback=lambda c, m, p, b, target=target: (target.append(b), c.basic_ack(m.delivery_tag)),
                    arguments={"x-stream-offset": "next"},
                )))
            for i in range(5):
                confirm_channel.basic_publish(exchange="", routing_key="readings", body=b"live %d" % i)
            give_up = time.monotonic() + 3
            while time.monotonic() < give_up and not (len(seen_a) == len(seen_b) == 5):
                connection.process_data_events(time_limit=0.1)
            for ch, tag in consumers:
                ch.basic_cancel(tag)
        """,
    ),
    wrong(
        "x-max-age as a number of seconds: the broker wants a string such as '7D'",
        {"check-declare"},
        declare="""
            channel.queue_declare("readings", durable=True, arguments={
                "x-queue-type": "stream",
                "x-max-age": 7 * 24 * 3600,
                "x-max-length-bytes": 20000000,
                "x-stream-max-segment-size-bytes": 1000000,
            })
        """,
    ),
    wrong(
        "read_stream always starts at 'first', whatever offset it is given",
        {"check-read-from"},
        read_from=READ_FROM.replace('arguments={"x-stream-offset": offset}', 'arguments={"x-stream-offset": "first"}'),
    ),
    wrong(
        "read_stream takes messages with basic_get, which a stream refuses",
        {"check-read-from"},
        read_from="""
            def read_stream(channel, offset):
                out = []
                while True:
                    method, props, body = channel.basic_get("readings")
                    if method is None:
                        return out
                    out.append((props.headers["x-stream-offset"], body))
                    channel.basic_ack(method.delivery_tag)

            from_seven = read_stream(channel, 7)
            everything = read_stream(channel, "first")
        """,
    ),
    wrong(
        "both readers start at 'first', so they read the old readings with the live ones",
        {"check-two-readers"},
        two_readers=TWO_READERS.replace('"x-stream-offset": "next"', '"x-stream-offset": "first"'),
    ),
    wrong(
        "stores how many messages it read instead of the offset of the last one",
        {"check-resume"},
        resume=RESUME.replace("offset=message_context.offset)", "offset=len(bodies))"),
    ),
    wrong(
        "resumes at 'next' when an offset is stored: what came while it was away is missed",
        {"check-resume"},
        resume=RESUME.replace("spec = ConsumerOffsetSpecification(offset_type=OffsetType.OFFSET, offset=stored + 1)",
                              "spec = ConsumerOffsetSpecification(offset_type=OffsetType.NEXT, offset=None)"),
    ),
    wrong(
        "keeps every message the broker sends, past the limit",
        {"check-resume"},
        resume=RESUME.replace("        if len(bodies) >= limit:\n            return\n", ""),
    ),
]

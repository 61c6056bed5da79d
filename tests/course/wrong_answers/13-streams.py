"""Plausible mistakes in lesson 13 (streams), and the checks that must catch them."""

from tests.course.autograding import WrongAnswer, mistake

L = "13-streams"

WRONG_ANSWERS = [
    WrongAnswer(
        name="declares `readings` as a classic queue: x-queue-type forgotten",
        cells=mistake(L, "declare", '"x-queue-type": "stream",\n', ""),
        fails=frozenset({"check-declare"}),
    ),
    WrongAnswer(
        name="declares the stream non-durable, which the broker refuses",
        cells=mistake(L, "declare", "durable=True", "durable=False"),
        fails=frozenset({"check-declare", "check-publish"}),
    ),
    WrongAnswer(
        name="publishes without confirm mode",
        cells=mistake(L, "publish", "confirm_channel.confirm_delivery()\n", ""),
        fails=frozenset({"check-publish"}),
    ),
    WrongAnswer(
        name="a stream consumer without a prefetch: the broker closes its channel",
        cells=mistake(L, "read-from", "    channel.basic_qos(prefetch_count=100)\n", ""),
        fails=frozenset({"check-read-from"}),
    ),
    WrongAnswer(
        name="reads the stream with auto_ack=True: the broker closes the whole connection",
        cells=mistake(L, "read-from", 'inactivity_timeout=0.3, arguments=', 'inactivity_timeout=0.3, auto_ack=True, arguments='),
        fails=frozenset({"check-read-from", "check-two-readers"}),
    ),
    WrongAnswer(
        name="resumes at the stored offset itself, so the last message is read twice",
        cells=mistake(L, "resume", 'await consumer.query_offset("telemetry", name) + 1', 'await consumer.query_offset("telemetry", name)'),
        fails=frozenset({"check-resume"}),
    ),
    WrongAnswer(
        name="never stores its offset, so every restart reads from the first message again",
        cells=mistake(L, "resume", '            await consumer.store_offset("telemetry", name, last)\n', "            pass\n"),
        fails=frozenset({"check-resume"}),
    ),
]

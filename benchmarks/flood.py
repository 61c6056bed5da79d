"""The class's feedback while one student floods the grader, beside the same class without the flood.

A `workshop grade` process grades a store seeded with a class of --students and one flooder.
The class answers correct tasks at a steady --rate, each student to their own answers queue
`W.results.<id>` (their tasks' reply_to), each answer with reply_to and its own correlation id;
the latency of an answer is from its publish to its feedback. First the class alone for
--seconds (the baseline), then the same class while another process publishes --flood wrong
answers from one student as fast as it can: into the flooder's own answers queue (a student's
loop gone wrong), then, in a third phase, into the shared `W.results`.

    RABBITMQ_URL=amqp://guest:guest@localhost:5672/%2F python -m benchmarks.flood
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid

import pika
import pika.exceptions

from benchmarks.common import WORKSHOP, environment, fresh_vhost, percentile, seeded_store
from grader import names
from grader.live.checks import fibonacci
from grader.live.queues import declare_answers_queue, declare_protocol


def class_answers(students: int, rate: float, seconds: float, first_task: int) -> list[tuple[str, bytes]]:
    """(queue, body) of correct answers, round-robin over the class, each student to tasks from
    `first_task` on, each to the student's own answers queue."""
    count = int(rate * seconds)
    return [(names.answers_queue(WORKSHOP, f"student-{i % students}"),
             json.dumps({"n": 5 + first_task + i // students, "Fn": fibonacci(5 + first_task + i // students),
                         "name": f"Student {i % students}"}).encode()) for i in range(count)]


def run_class(url: str, bodies: list[tuple[str, bytes]], rate: float) -> list[float]:
    """Publish `bodies` at `rate`; the seconds from each publish to its feedback."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    replies = channel.queue_declare(queue="", exclusive=True).method.queue
    sent: dict[str, float] = {}
    latencies: list[float] = []

    def on_reply(ch, method, properties, body):
        started = sent.pop(properties.correlation_id, None)
        if started is not None:
            latencies.append(time.perf_counter() - started)

    channel.basic_consume(replies, on_reply, auto_ack=True)
    started = time.perf_counter()
    for index, (queue, body) in enumerate(bodies):
        while time.perf_counter() < started + index / rate:
            connection.process_data_events(time_limit=max(0.0, started + index / rate - time.perf_counter()))
        correlation_id = uuid.uuid4().hex
        sent[correlation_id] = time.perf_counter()
        channel.basic_publish("", queue, body, pika.BasicProperties(reply_to=replies, correlation_id=correlation_id))
    deadline = time.perf_counter() + 60
    while sent and time.perf_counter() < deadline:
        connection.process_data_events(time_limit=0.05)
    connection.close()
    if sent:
        print(f"  {len(sent)} answers of the class got no feedback within 60 s")
    return latencies


def flooder_seconds(started: float, flooder: subprocess.Popen) -> float:
    return float(flooder.stdout.read()) if flooder.stdout else time.perf_counter() - started


def wait_for_grader(url: str, queue: str, grader: subprocess.Popen, timeout: float = 30) -> None:
    """Until the grader consumes `queue` (which it declares first)."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    deadline = time.monotonic() + timeout
    while True:
        try:
            if connection.channel().queue_declare(queue, passive=True).method.consumer_count:
                break
        except pika.exceptions.ChannelClosedByBroker:
            pass  # not declared yet
        if grader.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the grader did not consume {queue} within {timeout} s")
        time.sleep(0.1)
    connection.close()


FLOODER = """
import json, sys, time, pika
url, count, queue = sys.argv[1], int(sys.argv[2]), sys.argv[3]
started = time.perf_counter()
connection = pika.BlockingConnection(pika.URLParameters(url))
channel = connection.channel()
body = json.dumps({"n": 5, "Fn": 1, "name": "Flooder"}).encode()
for _ in range(count):
    channel.basic_publish("", queue, body)
connection.close()
print(time.perf_counter() - started)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--rate", type=float, default=100, help="the class's answers per second (default 100)")
    parser.add_argument("--seconds", type=float, default=10, help="each phase (default 10)")
    parser.add_argument("--flood", type=int, default=50_000, help="wrong answers from the flooder (default 50,000)")
    args = parser.parse_args()
    print(f"flood: a class of {args.students} at {args.rate:.0f} answers/s, one student sending {args.flood} wrong "
          f"answers, {environment()}")
    per_phase = int(args.rate * args.seconds) // args.students + 1
    with fresh_vhost() as settings, tempfile.TemporaryDirectory() as tmp:
        store_url = f"sqlite:///{tmp}/flood.sqlite"
        store = seeded_store(store_url, args.students, 6 * per_phase)
        slugs = [f"student-{i}" for i in range(args.students)]
        with store.transaction() as tx:
            tx.register("flooder", "Flooder", time.time())
        store.add_tasks("flooder", {5: "t"}, time.time(), published=True)
        store.close()
        connection = pika.BlockingConnection(pika.URLParameters(settings.rabbitmq_url))
        declare_protocol(connection, settings.workshop)
        for slug in [*slugs, "flooder"]:
            declare_answers_queue(connection, settings.workshop, slug)
        connection.close()
        env = dict(os.environ, RABBITMQ_URL=settings.rabbitmq_url)
        grader = [sys.executable, "-m", "grader", "grade", "--store", store_url, "--workshop", settings.workshop]
        bare = [sys.executable, "-c", BARE, settings.rabbitmq_url, names.results_queue(settings.workshop),
                *(names.answers_queue(settings.workshop, slug) for slug in [*slugs, "flooder"])]
        results = {consumer: measure(settings.rabbitmq_url, command, env, args, per_phase)
                   for consumer, command in (("bare", bare), ("grader", grader))}
    for consumer, figures in results.items():
        print(f"  {CONSUMERS[consumer]}:")
        q50, q99 = (percentile(figures["the class alone"], q) * 1000 for q in (50, 99))
        for phase, latencies in figures.items():
            p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
            ratio = "" if phase == "the class alone" else f"   to alone: p50 {p50 / q50:.1f}x, p99 {p99 / q99:.1f}x"
            print(f"    {phase + ':':36s} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   ({len(latencies)}){ratio}")
    for phase in PHASES:
        bare_p99, grader_p99 = (percentile(results[c][phase], 99) for c in ("bare", "grader"))
        print(f"  grader to bare consumer, {phase}: p99 {grader_p99 / bare_p99:.1f}x")


NICE = ["nice", "-n", "19"] if os.environ.get("FLOOD_NICE") else []
CONSUMERS = {"bare": "a bare consumer that answers at once (what the broker and this machine allow)",
             "grader": "the grader"}
PHASES = {"the class alone": None, "flooding their own answers queue": "flooder",
          "flooding the shared W.results": ""}


def measure(url: str, command: list[str], env: dict, args, per_phase: int) -> dict[str, list[float]]:
    """The class's latencies in each phase, answered by the consumer that `command` starts."""
    workshop = WORKSHOP
    consumer = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    figures = {}
    try:
        wait_for_grader(url, names.answers_queue(workshop, "flooder"), consumer)
        for index, (phase, target) in enumerate(PHASES.items()):
            offset = index * per_phase + (len(PHASES) * per_phase if command[1] == "-m" else 0)
            bodies = class_answers(args.students, args.rate, args.seconds, offset)
            flooder = queue = None
            if target is not None:
                queue = names.answers_queue(workshop, target) if target else names.results_queue(workshop)
                flooder = subprocess.Popen([*NICE, sys.executable, "-c", FLOODER, url, str(args.flood), queue],
                                           stdout=subprocess.PIPE, text=True)
            figures[phase] = run_class(url, bodies, args.rate)
            if flooder is not None:
                flooder.wait(timeout=120)
                wait_for_empty(url, queue)
    finally:
        consumer.terminate()
        consumer.wait(timeout=30)
    return figures


BARE = """
import json, sys, pika
url, shared, *own = sys.argv[1:]
connection = pika.BlockingConnection(pika.URLParameters(url))
channel = connection.channel()
last = []
def on_message(ch, method, properties, body):
    if properties.reply_to:
        ch.basic_publish("", properties.reply_to, b'{"ok": true}',
                         pika.BasicProperties(correlation_id=properties.correlation_id))
    last[:] = [method.delivery_tag]
channel.basic_qos(prefetch_count=600)
channel.basic_consume(shared, on_message)
channel.basic_qos(prefetch_count=50)
for queue in own:
    channel.basic_consume(queue, on_message)
while True:
    connection.process_data_events(time_limit=0.2)
    if last:
        channel.basic_ack(last.pop(), multiple=True)
"""


def wait_for_empty(url: str, queue: str, timeout: float = 300) -> None:
    """Until the grader has drained the flood (before the next phase starts)."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    deadline = time.monotonic() + timeout
    while connection.channel().queue_declare(queue, passive=True).method.message_count:
        if time.monotonic() > deadline:
            raise SystemExit(f"the grader did not drain {queue} within {timeout} s")
        time.sleep(0.2)
    connection.close()


if __name__ == "__main__":
    main()

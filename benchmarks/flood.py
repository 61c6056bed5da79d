"""The class's feedback while one student floods the grader, beside the same class without the flood.

A `workshop grade` process grades a store seeded with a class of --students and one flooder.
The class answers correct tasks at a steady --rate, each answer with reply_to and its own
correlation id; the latency of an answer is from its publish to its feedback. First the class
alone for --seconds (the baseline), then the same class while another process publishes
--flood wrong answers from one student as fast as it can.

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

from benchmarks.common import environment, fresh_vhost, percentile, seeded_store
from grader import names
from grader.live.checks import fibonacci
from grader.live.queues import declare_protocol


def class_answers(students: int, rate: float, seconds: float, first_task: int) -> list[bytes]:
    """Correct answers, round-robin over the class, each student to tasks from `first_task` on."""
    count = int(rate * seconds)
    return [json.dumps({"n": 5 + first_task + i // students, "Fn": fibonacci(5 + first_task + i // students),
                        "name": f"Student {i % students}"}).encode() for i in range(count)]


def run_class(url: str, bodies: list[bytes], rate: float, flooder: subprocess.Popen | None = None) -> list[float]:
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
    results = names.results_queue("bench")
    started = time.perf_counter()
    for index, body in enumerate(bodies):
        while time.perf_counter() < started + index / rate:
            connection.process_data_events(time_limit=max(0.0, started + index / rate - time.perf_counter()))
        correlation_id = uuid.uuid4().hex
        sent[correlation_id] = time.perf_counter()
        channel.basic_publish("", results, body, pika.BasicProperties(reply_to=replies, correlation_id=correlation_id))
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
    """Until the grader consumes `queue`."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    deadline = time.monotonic() + timeout
    while connection.channel().queue_declare(queue, passive=True).method.consumer_count == 0:
        if grader.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the grader did not consume {queue} within {timeout} s")
        time.sleep(0.1)
    connection.close()


FLOODER = """
import json, sys, time, pika
url, count = sys.argv[1], int(sys.argv[2])
started = time.perf_counter()
connection = pika.BlockingConnection(pika.URLParameters(url))
channel = connection.channel()
body = json.dumps({"n": 5, "Fn": 1, "name": "Flooder"}).encode()
for _ in range(count):
    channel.basic_publish("", "bench.results", body)
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
        store = seeded_store(store_url, args.students, 2 * per_phase)
        with store.transaction() as tx:
            tx.register("flooder", "Flooder", time.time())
        store.add_tasks("flooder", {5: "t"}, time.time(), published=True)
        store.close()
        connection = pika.BlockingConnection(pika.URLParameters(settings.rabbitmq_url))
        declare_protocol(connection, settings.workshop)
        connection.close()
        env = dict(os.environ, RABBITMQ_URL=settings.rabbitmq_url)
        grader = subprocess.Popen([sys.executable, "-m", "grader", "grade", "--store", store_url, "--workshop",
                                   settings.workshop], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_grader(settings.rabbitmq_url, names.results_queue(settings.workshop), grader)
            quiet = run_class(settings.rabbitmq_url, class_answers(args.students, args.rate, args.seconds, 0),
                              args.rate)
            flood_started = time.perf_counter()
            flooder = subprocess.Popen([sys.executable, "-c", FLOODER, settings.rabbitmq_url, str(args.flood)],
                                       stdout=subprocess.PIPE, text=True)
            flooded = run_class(settings.rabbitmq_url,
                                class_answers(args.students, args.rate, args.seconds, per_phase), args.rate, flooder)
            flooder.wait(timeout=120)
            print(f"  the flooder sent for {flooder_seconds(flood_started, flooder):.1f} s")
        finally:
            grader.terminate()
            grader.wait(timeout=30)
    q50, q99 = percentile(quiet, 50) * 1000, percentile(quiet, 99) * 1000
    f50, f99 = percentile(flooded, 50) * 1000, percentile(flooded, 99) * 1000
    print(f"  the class alone:          p50 {q50:7.1f} ms   p99 {q99:7.1f} ms   ({len(quiet)} answers)")
    print(f"  the class during a flood: p50 {f50:7.1f} ms   p99 {f99:7.1f} ms   ({len(flooded)} answers)")
    print(f"ratio during the flood to alone: p50 {f50 / q50:.1f}x, p99 {f99 / q99:.1f}x")


if __name__ == "__main__":
    main()

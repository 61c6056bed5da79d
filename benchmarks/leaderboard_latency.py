"""Latency from a student's publish to the leaderboard page's update event, at a steady rate.

`workshop serve` runs as its own process (grader, listener, web server) on a store seeded with
students and tasks. This script publishes correct answers at --rate answers/s, each with its own
message_id, and reads /events like a page would; for each answer, the latency is the time from
its publish to the first event (`snapshot` or `delta`) that lists its id. The baseline, in the
same run, is the broker alone: the same answers at the same rate, from publish to a bare
consumer's callback. It also reports how many events of each kind arrived (a `snapshot` after
the first means the reader fell behind) and the service's memory before and after sending.

    RABBITMQ_URL=amqp://guest:guest@localhost:5672/%2F python -m benchmarks.leaderboard_latency --rate 5000
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import pika
import requests

from benchmarks.common import answers, environment, fresh_vhost, percentile, seeded_store
from grader import names
from grader.live.protocol import MAX_N, MIN_N
from grader.management import Management

TASKS_PER_STUDENT = MAX_N - MIN_N + 1  # n = 5 .. 1000: beyond, more students are seeded


def paced(channel, queue: str, bodies: list[bytes], rate: float, sent: dict[str, float]) -> None:
    """Publish `bodies` at `rate` per second, recording when each message_id left."""
    started = time.perf_counter()
    for index, body in enumerate(bodies):
        due = started + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        message_id = uuid.uuid4().hex
        sent[message_id] = time.time()
        channel.basic_publish("", queue, body, properties=pika.BasicProperties(message_id=message_id))


def broker_baseline(settings, bodies: list[bytes], rate: float) -> list[float]:
    """Publish-to-callback latencies of a bare consumer on its own connection."""
    received: dict[str, float] = {}
    ready = threading.Event()

    def consume():
        connection = pika.BlockingConnection(pika.URLParameters(settings.rabbitmq_url))
        channel = connection.channel()
        channel.queue_declare("bench.latency", durable=True)

        def on_message(ch, method, properties, body):
            received[properties.message_id] = time.time()
            ch.basic_ack(method.delivery_tag)
            if len(received) == len(bodies):
                ch.stop_consuming()

        channel.basic_consume("bench.latency", on_message)
        ready.set()
        channel.start_consuming()
        connection.close()

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    ready.wait(10)
    connection = pika.BlockingConnection(pika.URLParameters(settings.rabbitmq_url))
    sent: dict[str, float] = {}
    paced(connection.channel(), "bench.latency", bodies, rate, sent)
    thread.join(timeout=60)
    connection.close()
    return [received[key] - sent[key] for key in sent if key in received]


def wait_for_listener(settings, timeout: float = 30) -> None:
    """Until the service's listener has bound its queue to `W.events` (else early news is lost)."""
    api = Management.from_settings(settings)
    exchange = names.events_exchange(settings.workshop)
    deadline = time.monotonic() + timeout
    while not any(b["source"] == exchange for b in api.bindings(settings.amqp.vhost)):
        if time.monotonic() > deadline:
            raise SystemExit(f"the service's listener did not bind to {exchange} within {timeout} s")
        time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def read_events(url: str, arrived: dict[str, float], kinds: dict[str, int], hub: list[float],
                stop: threading.Event, connected: threading.Event) -> None:
    """Note when each message id first arrived in an event, count the events by name, and collect
    the hub's part: from each scoring verdict (its time) to the delta that sent it."""
    with requests.get(f"{url}/events", stream=True, timeout=60) as response:
        connected.set()
        for line in response.iter_lines(decode_unicode=True):
            if line.startswith("event:"):
                name = line[6:].strip()
                kinds[name] = kinds.get(name, 0) + 1
            elif line.startswith("data:"):
                now, event = time.time(), json.loads(line[5:])
                for key in event.get("keys", []):
                    arrived.setdefault(key, now)
                hub.extend(event["sent_at"] - at for _slug, at, _total in event.get("scored", []))
            if stop.is_set():
                return


def resident_mb(pid: int) -> float:
    """The resident memory of a process, in MB (Linux)."""
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=500, help="answers per second (default 500)")
    parser.add_argument("--seconds", type=float, default=10, help="how long to send (default 10)")
    parser.add_argument("--students", type=int, help="(default 50, or more when they would run out of tasks)")
    args = parser.parse_args()
    count = int(args.rate * args.seconds)
    args.students = args.students or max(50, -(-count // TASKS_PER_STUDENT))
    tasks = -(-count // args.students)
    if tasks > TASKS_PER_STUDENT:
        parser.error(f"{args.students} students have too few tasks for {count} answers")
    bodies = answers(args.students, tasks)[:count]
    print(f"leaderboard latency: {count} answers at {args.rate:.0f}/s, {environment()}")

    with fresh_vhost() as settings, tempfile.TemporaryDirectory() as tmp:
        baseline = broker_baseline(settings, bodies, args.rate)
        store_url = f"sqlite:///{tmp}/bench.sqlite"
        seeded_store(store_url, args.students, tasks).close()
        port = free_port()
        env = dict(os.environ, RABBITMQ_URL=settings.rabbitmq_url)
        service = subprocess.Popen([sys.executable, "-m", "grader", "serve", "--store", store_url, "--port", str(port),
                                    "--workshop", settings.workshop, "--deal-on-register", "0"], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    requests.get(f"{url}/api/leaderboard", timeout=1)
                    break
                except requests.ConnectionError:
                    if time.monotonic() > deadline or service.poll() is not None:
                        raise SystemExit("workshop serve did not start")
                    time.sleep(0.2)
            arrived: dict[str, float] = {}
            kinds: dict[str, int] = {}
            hub: list[float] = []
            stop, connected = threading.Event(), threading.Event()
            reader = threading.Thread(target=read_events, args=(url, arrived, kinds, hub, stop, connected),
                                      daemon=True)
            reader.start()
            connected.wait(10)
            wait_for_listener(settings)
            memory_before = resident_mb(service.pid)
            connection = pika.BlockingConnection(pika.URLParameters(settings.rabbitmq_url))
            sent: dict[str, float] = {}
            paced(connection.channel(), names.results_queue(settings.workshop), bodies, args.rate, sent)
            deadline = time.monotonic() + 30
            while len(arrived) < len(sent) and time.monotonic() < deadline:
                time.sleep(0.05)
            stop.set()
            memory_after = resident_mb(service.pid)
            connection.close()
        finally:
            service.terminate()
            service.wait(timeout=30)

    page = [arrived[key] - sent[key] for key in sent if key in arrived]
    missing = len(sent) - len(page)
    b50, b99 = percentile(baseline, 50) * 1000, percentile(baseline, 99) * 1000
    p50, p99 = percentile(page, 50) * 1000, percentile(page, 99) * 1000
    print(f"  broker alone (publish -> consumer): p50 {b50:7.1f} ms   p99 {b99:7.1f} ms")
    print(f"  verdict time -> event sent:         p50 {percentile(hub, 50) * 1000:7.1f} ms   "
          f"p99 {percentile(hub, 99) * 1000:7.1f} ms   (the hub's part)")
    print(f"  publish -> page update event:       p50 {p50:7.1f} ms   p99 {p99:7.1f} ms"
          + (f"   ({missing} never arrived)" if missing else ""))
    print(f"  events on the stream: {', '.join(f'{n} {name}' for name, n in sorted(kinds.items()))}; "
          f"service memory {memory_before:.0f} MB before sending, {memory_after:.0f} MB after")
    print(f"ratio to the broker alone: p50 {p50 / b50:.1f}x, p99 {p99 / b99:.1f}x")


if __name__ == "__main__":
    main()

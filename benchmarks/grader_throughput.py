"""Grader throughput beside a bare pika loop, on the same broker, in the same run.

All of them read from quorum queues declared like `W.results`. The baseline is the least a
consumer does: take each message, decode the JSON, check F(n), ack.
Two baselines: the textbook loop that acks every message, and a tuned one that acks every 100
messages at once (multiple=True), as the grader acks a batch. The grader also validates the
protocol, decides against the store, commits the verdicts and only then acks. All read the same
answers from a queue filled beforehand, so that the figure is the consuming side alone. The
grader is measured twice: reading the shared `W.results`, and reading every student's own
answers queue `W.results.<id>` (the tasks' reply_to), 50 messages in flight from each.

    RABBITMQ_URL=amqp://guest:guest@localhost:5672/%2F python benchmarks/grader_throughput.py
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import threading
import time

import pika

from benchmarks.common import answers, environment, fresh_vhost, seeded_store
from benchmarks.phases import Phases
from grader import names
from grader.live import queues
from grader.live.checks import fibonacci
from grader.live.consumer import CAREFUL, PREFETCH, Grader


def fill(settings, queue, bodies: list[bytes], reply_to: str | None = None) -> None:
    """Put `bodies` in `queue` (a name, or a function of the body's index), declared as the grader
    declares `W.results` (a quorum queue with a delivery limit), so that the baselines read from
    the same kind of queue as the grader."""
    route = queue if callable(queue) else (lambda index: queue)
    connection = pika.BlockingConnection(pika.URLParameters(settings.rabbitmq_url))
    queues.declare_protocol(connection, settings.workshop)
    channel = connection.channel()
    for name in {route(index) for index in range(len(bodies))}:
        channel.queue_declare(name, durable=True, arguments=queues.intake_arguments(settings.workshop))
    channel.confirm_delivery()  # every answer in the queue before the clock starts
    properties = pika.BasicProperties(reply_to=reply_to) if reply_to else None
    for index, body in enumerate(bodies):
        channel.basic_publish("", route(index), body, properties=properties)
    connection.close()


def bare_loop(settings, queue: str, count: int, ack_every: int = 1) -> float:
    """Consume, decode, check and ack `count` messages (one ack per `ack_every` messages, with
    multiple=True); seconds taken."""
    connection = pika.BlockingConnection(pika.URLParameters(settings.rabbitmq_url))
    channel = connection.channel()
    channel.basic_qos(prefetch_count=PREFETCH)
    seen = 0

    def on_message(ch, method, properties, body):
        nonlocal seen
        answer = json.loads(body)
        assert answer["Fn"] == fibonacci(answer["n"])
        seen += 1
        if seen % ack_every == 0 or seen == count:
            ch.basic_ack(method.delivery_tag, multiple=ack_every > 1)
        if seen == count:
            ch.stop_consuming()

    started = time.perf_counter()
    channel.basic_consume(queue, on_message)
    channel.start_consuming()
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def grader_run(settings, store, count: int, phases: Phases | None = None) -> float:
    """Start a grader on the filled results queue; the answers it grades per second once past the
    first CAREFUL, which every connection settles one at a time (reported apart). With `phases`,
    its clocks start there too (`grader_run.breakdown` is their report)."""
    grader = Grader(settings, store)
    thread = threading.Thread(target=grader.run, daemon=True)
    thread.start()
    started = time.perf_counter()
    marks = {}
    deadline = time.perf_counter() + 120
    while grader.graded < count:
        if not thread.is_alive():
            raise RuntimeError("the grader stopped")
        if time.perf_counter() > deadline:
            grader.stop()
            raise SystemExit(f"the grader graded {grader.graded} of {count} answers in 120 s")
        if grader.graded >= CAREFUL and "steady" not in marks:
            marks["steady"] = (time.perf_counter(), grader.graded)
            if phases is not None:
                phases.start()
        time.sleep(0.0005)
    ended = time.perf_counter()
    if phases is not None:
        grader_run.breakdown = phases.report(grader.graded - marks["steady"][1])
    grader.stop()
    thread.join()
    at, graded = marks["steady"]
    grader_run.careful_seconds = at - started
    return (count - graded) / (ended - at)


def feedback_queue(settings) -> str:
    """A queue for the grader's replies (not W.*: the grader never replies into those)."""
    connection = pika.BlockingConnection(pika.URLParameters(settings.rabbitmq_url))
    connection.channel().queue_declare("feedback", durable=True)
    connection.close()
    return "feedback"


def shared_round(args, bodies: list[bytes], phases: Phases | None = None) -> tuple[float, float, float]:
    """One round from the shared `W.results` on a fresh vhost and store: the textbook loop's, the
    tuned loop's and the grader's answers per second."""
    with fresh_vhost() as settings, tempfile.TemporaryDirectory() as tmp:
        store = seeded_store(args.store or f"sqlite:///{tmp}/bench.sqlite", args.students, args.tasks)
        fill(settings, "bench.bare", bodies)
        bare = len(bodies) / bare_loop(settings, "bench.bare", len(bodies))
        fill(settings, "bench.bare", bodies)
        tuned = len(bodies) / bare_loop(settings, "bench.bare", len(bodies), ack_every=100)
        reply_to = feedback_queue(settings) if args.reply else None
        fill(settings, names.results_queue(settings.workshop), bodies, reply_to)
        graded = grader_run(settings, store, len(bodies), phases)
        store.close()
    return bare, tuned, graded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--tasks", type=int, default=100, help="answers per student (default 100: 10,000)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--store", help="SQLAlchemy URL (default: a fresh SQLite file per round)")
    parser.add_argument("--reply", action="store_true", help="answers carry reply_to: the grader also replies")
    parser.add_argument("--breakdown", action="store_true",
                        help="then one more round from W.results with clocks around the grader's steps")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    bodies = answers(args.students, args.tasks)
    print(f"grader throughput: {len(bodies)} answers, {args.rounds} rounds, {environment()}")
    bare, tuned, graded, own = [], [], [], []
    for round_ in range(1, args.rounds + 1):
        for figures, figure in zip((bare, tuned, graded), shared_round(args, bodies)):
            figures.append(figure)
        with fresh_vhost() as settings, tempfile.TemporaryDirectory() as tmp:  # each to their own answers queue
            store = seeded_store(args.store or f"sqlite:///{tmp}/bench.sqlite", args.students, args.tasks)
            fill(settings, lambda index: names.answers_queue(settings.workshop, f"student-{index % args.students}"),
                 bodies, feedback_queue(settings) if args.reply else None)
            own.append(grader_run(settings, store, len(bodies)))
            store.close()
        print(f"  round {round_}: bare loop {bare[-1]:7.0f}/s   bare, acks by 100 {tuned[-1]:7.0f}/s   "
              f"grader {graded[-1]:7.0f}/s, from the students' own answers queues {own[-1]:7.0f}/s "
              f"(from its answer {CAREFUL} on; the first {CAREFUL}, connecting included, took "
              f"{grader_run.careful_seconds:.2f} s)")
    b, t, g, o = (statistics.median(figures) for figures in (bare, tuned, graded, own))
    print(f"median: grader {g:.0f} answers/s (verified, committed, acked); bare loop {b:.0f}/s, "
          f"ratio {g / b:.2f}; bare loop acking by 100 {t:.0f}/s, ratio {g / t:.2f}")
    print(f"median: grader reading {args.students} students' own answers queues {o:.0f} answers/s, "
          f"ratio {o / t:.2f} to the bare loop acking by 100")
    if args.breakdown:
        with Phases() as phases:
            _bare_rate, tuned_rate, rate = shared_round(args, bodies, phases)
        print(f"breakdown round: grader {rate:.0f}/s ({1e6 / rate:.0f} us per answer, clocks included); "
              f"the bare loop acking by 100 {tuned_rate:.0f}/s ({1e6 / tuned_rate:.0f} us per answer, all of it pika "
              f"and the JSON check)")
        print(grader_run.breakdown)


if __name__ == "__main__":
    main()

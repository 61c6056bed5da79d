#!/usr/bin/env python
"""Lesson 2, the worker: take tasks from `task_queue` one at a time, work one second per dot, then ack.

Start two or more in separate terminals, then send tasks with new_task.py. Each worker holds at
most one unacknowledged task (prefetch 1), so a free worker gets the next task; if a worker dies
before acknowledging, its task goes to another worker, marked as redelivered.

Runs until Ctrl+C (or until --count tasks are done, or --timeout seconds passed).
The broker comes from RABBITMQ_URL (default amqp://guest:guest@localhost:5672/%2F).
"""

import argparse
import os
import time

import pika

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"
QUEUE = "task_queue"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("RABBITMQ_URL", DEFAULT_URL), help="AMQP URL of the broker")
    parser.add_argument("--count", type=int, default=0, help="stop after this many tasks (0: never)")
    parser.add_argument("--timeout", type=float, default=0, help="stop after this many seconds (0: never)")
    parser.add_argument("--seconds-per-dot", type=float, default=1.0,
                        help="how long one dot of a task takes (default 1; tests use less)")
    args = parser.parse_args()

    try:
        work(args)
    except KeyboardInterrupt:  # Ctrl+C: the connection is closed already; an unfinished task goes back
        print(" [*] Bye", flush=True)


def work(args: argparse.Namespace) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    try:
        channel = connection.channel()
        channel.queue_declare(queue=QUEUE, durable=True)
        channel.basic_qos(prefetch_count=1)  # fair dispatch: one task at a time
        done = 0

        def on_task(ch, method, properties, body):
            nonlocal done
            task = body.decode(errors="replace")
            again = " (redelivered)" if method.redelivered else ""
            print(f" [x] Received {task!r}{again}", flush=True)
            time.sleep(task.count(".") * args.seconds_per_dot)
            print(" [x] Done", flush=True)
            ch.basic_ack(delivery_tag=method.delivery_tag)  # only now may the broker forget the task
            done += 1
            if done == args.count:
                ch.stop_consuming()

        channel.basic_consume(queue=QUEUE, on_message_callback=on_task)
        if args.timeout:
            connection.call_later(args.timeout, channel.stop_consuming)
        print(" [*] Waiting for tasks. To exit press CTRL+C", flush=True)
        channel.start_consuming()
    finally:
        if connection.is_open:
            connection.close()


if __name__ == "__main__":
    main()

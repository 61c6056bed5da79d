#!/usr/bin/env python
"""Lesson 7, the consumer of the remote calculator: square the numbers that arrive, with kombu.

Consumes the queue `number` (bound to the direct exchange `number` with the key `number`), prints
each square, publishes the answer {"number": n, "square": n*n} to the queue `squares` through the
default exchange, and only then acknowledges the number. Start several to share the work.

Runs until Ctrl+C (or until --count numbers were squared, or --timeout seconds passed).
The broker comes from RABBITMQ_URL (default amqp://guest:guest@localhost:5672/%2F).
"""

import argparse
import os
import socket
import time

from kombu import Connection, Exchange, Queue

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"

number_exchange = Exchange("number", type="direct", durable=True)
number_queue = Queue("number", exchange=number_exchange, routing_key="number", durable=True)
squares_queue = Queue("squares", durable=True)  # reached through the default exchange


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("RABBITMQ_URL", DEFAULT_URL), help="AMQP URL of the broker")
    parser.add_argument("--count", type=int, default=0, help="stop after this many numbers (0: never)")
    parser.add_argument("--timeout", type=float, default=0, help="stop after this many seconds (0: never)")
    args = parser.parse_args()

    deadline = time.monotonic() + args.timeout if args.timeout else None
    squared = 0

    with Connection(args.url) as connection:
        producer = connection.Producer(serializer="json")

        def process_number(body, message):
            nonlocal squared
            number = body["number"]
            square = number * number
            print(f" [x] {number} squared is {square}", flush=True)
            producer.publish(
                {"number": number, "square": square},
                exchange="",
                routing_key="squares",
                declare=[squares_queue],
            )
            squared += 1
            if args.count and squared >= args.count:
                # The last one we want: stop deliveries while this message still holds the only
                # prefetch slot, so that no further number arrives before we leave.
                consumer.cancel()
            message.ack()  # after the answer is published: a crash before this means a redelivery

        # prefetch_count=1: one number at a time, so that several consumers share the work fairly
        # (set before consuming starts; `with` starts consuming and cancels at the end).
        consumer = connection.Consumer(number_queue, callbacks=[process_number], prefetch_count=1)
        with consumer:
            print(" [*] Waiting for numbers. To exit press CTRL+C", flush=True)
            try:
                while not (args.count and squared >= args.count):
                    wait = 1.0
                    if deadline is not None:
                        wait = deadline - time.monotonic()
                        if wait <= 0:
                            break
                        wait = min(wait, 1.0)
                    try:
                        connection.drain_events(timeout=wait)
                    except socket.timeout:  # nothing came within `wait`: look at the clock again
                        pass
            except KeyboardInterrupt:
                print(" [*] Bye")
    print(f" [*] Squared {squared} numbers")


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Lesson 3, a subscriber: print every line sent to the fanout exchange `logs` from now on.

Each receiver gets a fresh queue of its own, named by the broker and exclusive to its connection,
bound to `logs`; the broker deletes that queue when the receiver stops. Run several: each gets
every line.

Runs until Ctrl+C (or until --count lines arrived, or --timeout seconds passed).
The broker comes from RABBITMQ_URL (default amqp://guest:guest@localhost:5672/%2F).
"""

import argparse
import os

import pika

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"
EXCHANGE = "logs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("RABBITMQ_URL", DEFAULT_URL), help="AMQP URL of the broker")
    parser.add_argument("--count", type=int, default=0, help="stop after this many lines (0: never)")
    parser.add_argument("--timeout", type=float, default=0, help="stop after this many seconds (0: never)")
    args = parser.parse_args()

    try:
        listen(args)
    except KeyboardInterrupt:  # Ctrl+C: the connection is closed already, and the queue deleted with it
        print(" [*] Bye", flush=True)


def listen(args: argparse.Namespace) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    try:
        channel = connection.channel()
        channel.exchange_declare(exchange=EXCHANGE, exchange_type="fanout")
        queue = channel.queue_declare(queue="", exclusive=True).method.queue
        channel.queue_bind(exchange=EXCHANGE, queue=queue)
        received = 0

        def on_line(ch, method, properties, body):
            nonlocal received
            received += 1
            print(f" [x] {body.decode(errors='replace')!r}", flush=True)
            if received == args.count:
                ch.stop_consuming()

        channel.basic_consume(queue=queue, on_message_callback=on_line, auto_ack=True)
        if args.timeout:
            connection.call_later(args.timeout, channel.stop_consuming)
        print(" [*] Waiting for logs. To exit press CTRL+C", flush=True)
        channel.start_consuming()
    finally:
        if connection.is_open:
            connection.close()


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Lesson 1, the consumer: print every message that arrives in the queue `hello`.

Runs until Ctrl+C (or until --count messages arrived, or --timeout seconds passed).
The broker comes from RABBITMQ_URL (default amqp://guest:guest@localhost:5672/%2F).
"""

import argparse
import os

import pika

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("RABBITMQ_URL", DEFAULT_URL), help="AMQP URL of the broker")
    parser.add_argument("--count", type=int, default=0, help="stop after this many messages (0: never)")
    parser.add_argument("--timeout", type=float, default=0, help="stop after this many seconds (0: never)")
    args = parser.parse_args()

    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    received = 0

    def on_message(ch, method, properties, body):
        nonlocal received
        received += 1
        print(f" [x] Received {body.decode(errors='replace')!r}", flush=True)
        if received == args.count:
            ch.stop_consuming()

    try:  # a Ctrl+C at any moment from here on stops cleanly
        channel = connection.channel()
        channel.queue_declare(queue="hello", durable=True)
        channel.basic_consume(queue="hello", on_message_callback=on_message, auto_ack=True)
        if args.timeout:
            connection.call_later(args.timeout, channel.stop_consuming)
        print(" [*] Waiting for messages. To exit press CTRL+C", flush=True)
        channel.start_consuming()
    except KeyboardInterrupt:
        print(" [*] Bye")
    finally:
        if connection.is_open:
            connection.close()


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Lesson 1, the producer: publish one message to the queue `hello` through the default exchange.

Run `python receive.py` in another terminal first, then `python send.py "Hello World!"`.
The broker comes from RABBITMQ_URL (default amqp://guest:guest@localhost:5672/%2F).
"""

import argparse
import os

import pika

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("message", nargs="?", default="Hello World!", help="the body to send")
    parser.add_argument("--url", default=os.environ.get("RABBITMQ_URL", DEFAULT_URL), help="AMQP URL of the broker")
    args = parser.parse_args()

    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    channel = connection.channel()
    channel.queue_declare(queue="hello", durable=True)
    channel.basic_publish(exchange="", routing_key="hello", body=args.message.encode())
    print(f" [x] Sent {args.message!r}")
    connection.close()


if __name__ == "__main__":
    main()

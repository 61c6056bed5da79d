#!/usr/bin/env python
"""Lesson 2, the producer: publish one task to the durable queue `task_queue`, as a persistent message.

Each dot in the task stands for one second of work:

    python new_task.py "Fifth message....."

The broker comes from RABBITMQ_URL (default amqp://guest:guest@localhost:5672/%2F).
"""

import argparse
import os

import pika

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"
QUEUE = "task_queue"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("words", nargs="*", help='the task, for example "Fifth message....." (default: "Hello World!")')
    parser.add_argument("--url", default=os.environ.get("RABBITMQ_URL", DEFAULT_URL), help="AMQP URL of the broker")
    args = parser.parse_args()
    message = " ".join(args.words) or "Hello World!"

    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()  # basic_publish returns once the broker has the task
        channel.queue_declare(queue=QUEUE, durable=True)
        channel.basic_publish(
            exchange="",
            routing_key=QUEUE,
            body=message.encode(),
            properties=pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent),
        )
        print(f" [x] Sent {message!r}")
    finally:
        connection.close()


if __name__ == "__main__":
    main()

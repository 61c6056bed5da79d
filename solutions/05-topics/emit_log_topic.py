#!/usr/bin/env python
"""Lesson 5, the producer: publish one log line to the topic exchange `topic_logs`.

The routing key is a list of words separated by dots, here <facility>[.<detail>...].<severity>:

    python emit_log_topic.py kern.critical "A critical kernel error"
    python emit_log_topic.py kern.usb.warning "usb 1-1: device descriptor read error"

Queues bound with a matching pattern get the line: `kern.*`, `*.critical`, `kern.#`, `#`, ...
The broker comes from RABBITMQ_URL (default amqp://guest:guest@localhost:5672/%2F).
"""

import argparse
import os

import pika

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"
EXCHANGE = "topic_logs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("routing_key", help="words separated by dots, for example kern.critical")
    parser.add_argument("message", nargs="*", help="the log line (default: Hello World!)")
    parser.add_argument("--url", default=os.environ.get("RABBITMQ_URL", DEFAULT_URL), help="AMQP URL of the broker")
    args = parser.parse_args()
    message = " ".join(args.message) or "Hello World!"

    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    channel = connection.channel()
    channel.exchange_declare(exchange=EXCHANGE, exchange_type="topic")
    channel.basic_publish(exchange=EXCHANGE, routing_key=args.routing_key, body=message.encode())
    print(f" [x] Sent {args.routing_key!r}:{message!r}")
    connection.close()


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Lesson 3, the publisher: send one log line to the fanout exchange `logs`.

Every receive_logs.py running at that moment gets a copy; if none runs, the line is lost.

    python emit_log.py "warning: disk 91% full"

The broker comes from RABBITMQ_URL (default amqp://guest:guest@localhost:5672/%2F).
"""

import argparse
import os

import pika

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"
EXCHANGE = "logs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("words", nargs="*", help='the log line (default: "info: Hello World!")')
    parser.add_argument("--url", default=os.environ.get("RABBITMQ_URL", DEFAULT_URL), help="AMQP URL of the broker")
    args = parser.parse_args()
    message = " ".join(args.words) or "info: Hello World!"

    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    try:
        channel = connection.channel()
        channel.exchange_declare(exchange=EXCHANGE, exchange_type="fanout")
        channel.basic_publish(exchange=EXCHANGE, routing_key="", body=message.encode())
        print(f" [x] Sent {message!r}")
    finally:
        connection.close()


if __name__ == "__main__":
    main()

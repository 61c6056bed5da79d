#!/usr/bin/env python
"""Lesson 4, the producer: publish one log line to the direct exchange `direct_logs`.

The severity (info, warning, error, or any other word) is the routing key, so only the queues
bound with exactly that key get the line. Examples:

    python emit_log_direct.py error "Disk full, writes fail"
    python emit_log_direct.py --mandatory debug "Nobody listens to debug"

With --mandatory the broker hands the message back when no queue is bound for its severity; the
script then says so and exits with status 1.
The broker comes from RABBITMQ_URL (default amqp://guest:guest@localhost:5672/%2F).
"""

import argparse
import os
import sys

import pika
import pika.exceptions

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"
EXCHANGE = "direct_logs"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("severity", help="the routing key, for example info, warning or error")
    parser.add_argument("message", nargs="*", help="the log line (default: Hello World!)")
    parser.add_argument("--mandatory", action="store_true",
                        help="have the broker return the message if no queue is bound for the severity")
    parser.add_argument("--url", default=os.environ.get("RABBITMQ_URL", DEFAULT_URL), help="AMQP URL of the broker")
    args = parser.parse_args()
    message = " ".join(args.message) or "Hello World!"

    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    try:
        channel = connection.channel()
        channel.exchange_declare(exchange=EXCHANGE, exchange_type="direct")
        if args.mandatory:
            channel.confirm_delivery()  # with confirms on, pika raises when a message comes back
        try:
            channel.basic_publish(exchange=EXCHANGE, routing_key=args.severity, body=message.encode(),
                                  mandatory=args.mandatory)
        except pika.exceptions.UnroutableError:
            print(f" [!] No queue is bound to {EXCHANGE!r} with {args.severity!r}: the broker returned "
                  f"{message!r}", file=sys.stderr)
            return 1
        print(f" [x] Sent {args.severity!r}:{message!r}")
        return 0
    finally:
        if connection.is_open:
            connection.close()


if __name__ == "__main__":
    sys.exit(main())

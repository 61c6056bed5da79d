#!/usr/bin/env python
"""Lesson 4, the consumer: print the log lines of the severities you name, and only those.

    python receive_logs_direct.py error                   # errors only
    python receive_logs_direct.py info warning error      # everything

It declares a server-named exclusive queue (it disappears when the script stops) and binds it to
the direct exchange `direct_logs` once per severity. Runs until Ctrl+C (or until --count lines
arrived, or --timeout seconds passed).
The broker comes from RABBITMQ_URL (default amqp://guest:guest@localhost:5672/%2F).
"""

import argparse
import os

import pika

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"
EXCHANGE = "direct_logs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("severities", nargs="+", metavar="severity",
                        help="a severity to receive (info, warning, error, ...); name one or more")
    parser.add_argument("--url", default=os.environ.get("RABBITMQ_URL", DEFAULT_URL), help="AMQP URL of the broker")
    parser.add_argument("--count", type=int, default=0, help="stop after this many lines (0: never)")
    parser.add_argument("--timeout", type=float, default=0, help="stop after this many seconds (0: never)")
    args = parser.parse_args()

    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    channel = connection.channel()
    channel.exchange_declare(exchange=EXCHANGE, exchange_type="direct")
    queue = channel.queue_declare(queue="", exclusive=True).method.queue
    for severity in dict.fromkeys(args.severities):
        channel.queue_bind(queue=queue, exchange=EXCHANGE, routing_key=severity)
    received = 0

    def on_message(ch, method, properties, body):
        nonlocal received
        received += 1
        print(f" [x] {method.routing_key!r}:{body.decode(errors='replace')!r}", flush=True)
        if received == args.count:
            ch.stop_consuming()

    channel.basic_consume(queue=queue, on_message_callback=on_message, auto_ack=True)
    if args.timeout:
        connection.call_later(args.timeout, channel.stop_consuming)
    try:
        # Inside the try: a Ctrl+C right after this line is still a clean stop.
        print(f" [*] Waiting for {', '.join(dict.fromkeys(args.severities))} logs. To exit press CTRL+C", flush=True)
        channel.start_consuming()
    except KeyboardInterrupt:
        print(" [*] Bye")
    finally:
        if connection.is_open:
            connection.close()


if __name__ == "__main__":
    main()

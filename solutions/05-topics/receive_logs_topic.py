#!/usr/bin/env python
"""Lesson 5, the consumer: print the log lines whose routing key matches one of your patterns.

    python receive_logs_topic.py "kern.*" "*.critical"   # kern.<one word>, and <one word>.critical
    python receive_logs_topic.py "kern.#" "#.critical"   # anything from kern, anything critical
    python receive_logs_topic.py "#"                     # everything

Quote the patterns: a shell may expand `*`, and it treats `#` as the start of a comment.
`*` stands for exactly one word, `#` for zero or more words. The script declares a server-named
exclusive queue, binds it to the topic exchange `topic_logs` once per pattern, and runs until
Ctrl+C (or until --count lines arrived, or --timeout seconds passed).
The broker comes from RABBITMQ_URL (default amqp://guest:guest@localhost:5672/%2F).
"""

import argparse
import os

import pika

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"
EXCHANGE = "topic_logs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binding_keys", nargs="+", metavar="binding_key",
                        help='a pattern such as "kern.*" or "#.critical"; name one or more')
    parser.add_argument("--url", default=os.environ.get("RABBITMQ_URL", DEFAULT_URL), help="AMQP URL of the broker")
    parser.add_argument("--count", type=int, default=0, help="stop after this many lines (0: never)")
    parser.add_argument("--timeout", type=float, default=0, help="stop after this many seconds (0: never)")
    args = parser.parse_args()
    binding_keys = list(dict.fromkeys(args.binding_keys))

    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    channel = connection.channel()
    channel.exchange_declare(exchange=EXCHANGE, exchange_type="topic")
    queue = channel.queue_declare(queue="", exclusive=True).method.queue
    for binding_key in binding_keys:
        channel.queue_bind(queue=queue, exchange=EXCHANGE, routing_key=binding_key)
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
        print(f" [*] Waiting for logs matching {' '.join(binding_keys)}. To exit press CTRL+C", flush=True)
        channel.start_consuming()
    except KeyboardInterrupt:
        print(" [*] Bye")
    finally:
        if connection.is_open:
            connection.close()


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Lesson 7, the producer of the remote calculator: send numbers as JSON with kombu.

Publishes the messages {"number": 1}, {"number": 2}, ... through the durable direct exchange
`number` with the routing key `number`; the queue `number` is declared first, so nothing is lost
when no consumer runs yet. Run `python number_consumer.py` in another terminal to get the squares.
The broker comes from RABBITMQ_URL (default amqp://guest:guest@localhost:5672/%2F).
"""

import argparse
import os

from kombu import Connection, Exchange, Queue

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"

number_exchange = Exchange("number", type="direct", durable=True)
number_queue = Queue("number", exchange=number_exchange, routing_key="number", durable=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("RABBITMQ_URL", DEFAULT_URL), help="AMQP URL of the broker")
    parser.add_argument("--count", type=int, default=10, help="send the numbers 1 to COUNT (default 10)")
    args = parser.parse_args()

    with Connection(args.url) as connection:
        producer = connection.Producer(serializer="json")
        try:
            for number in range(1, args.count + 1):
                producer.publish(
                    {"number": number},
                    exchange=number_exchange,
                    routing_key="number",
                    declare=[number_queue],
                    delivery_mode=2,  # persistent (kombu's default, said out loud)
                )
        except KeyboardInterrupt:
            print(f" [*] Interrupted after {number - 1} numbers")
            return
    print(f" [x] Sent the numbers 1 to {args.count}")


if __name__ == "__main__":
    main()

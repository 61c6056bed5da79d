#!/usr/bin/env python
"""Lesson 8: publish with publisher confirms, and say what happened to every message.

Each message is published as persistent, with mandatory=True, on a channel in confirm mode, so
that the broker's answer tells us the truth:

* confirmed:  the broker took responsibility for it (for a durable queue: it is on disk);
* unroutable: no queue matched the routing key (pika raises UnroutableError);
* refused:    the broker nacked it, e.g. a full queue with x-overflow=reject-publish (NackError).

Examples:
    python confirmed_publisher.py '{"job": 1}' '{"job": 2, "fail": true}'
    python confirmed_publisher.py --count 5                  # the jobs {"job": 1} .. {"job": 5}
    python confirmed_publisher.py --routing-key nowhere hi   # reported as unroutable

Exits with status 1 if any message was not confirmed. The broker comes from RABBITMQ_URL
(default amqp://guest:guest@localhost:5672/%2F).
"""

import argparse
import json
import os
import sys

import pika
import pika.exceptions

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"


def publish_confirmed(channel, exchange: str, routing_key: str, body: bytes) -> str:
    """'confirmed', 'unroutable' or 'refused': the broker's answer to one publish."""
    try:
        channel.basic_publish(
            exchange=exchange,
            routing_key=routing_key,
            body=body,
            properties=pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent),
            mandatory=True,
        )
    except pika.exceptions.UnroutableError:
        return "unroutable"
    except pika.exceptions.NackError:
        return "refused"
    return "confirmed"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("messages", nargs="*", help="the bodies to publish (default: --count JSON jobs)")
    parser.add_argument("--url", default=os.environ.get("RABBITMQ_URL", DEFAULT_URL), help="AMQP URL of the broker")
    parser.add_argument("--exchange", default="", help="the exchange (default: the default exchange)")
    parser.add_argument("--routing-key", default="work", help="the routing key (default: work)")
    parser.add_argument("--count", type=int, default=1, help="without messages: publish the jobs 1 to COUNT")
    args = parser.parse_args()
    bodies = args.messages or [json.dumps({"job": n}) for n in range(1, args.count + 1)]

    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    channel = connection.channel()
    channel.confirm_delivery()
    failed = 0
    try:
        for body in bodies:
            outcome = publish_confirmed(channel, args.exchange, args.routing_key, body.encode())
            if outcome == "confirmed":
                print(f" [x] confirmed: {body}")
            elif outcome == "unroutable":
                print(f" [!] unroutable (no queue matches {args.routing_key!r}): {body}")
            else:
                print(f" [!] refused by the broker (nack): {body}")
            failed += outcome != "confirmed"
    except KeyboardInterrupt:
        print(" [*] Interrupted")
        return 0
    finally:
        if connection.is_open:
            connection.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

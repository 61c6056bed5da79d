#!/usr/bin/env python
"""Lesson 9, a consumer: the notifications service congratulates users on their deposits.

It owns the durable queue `notifications`, bound to the topic exchange `bank.events` with `user.*`
(every user event), and knows nothing about the transactions service, which gets its own copy of
each deposit in its own queue. It remembers the event ids it handled during this run, so that a
redelivered event does not notify twice (a real service would keep them in its database, as the
transactions service does). A message that is not a JSON event is rejected without requeue.

Runs until Ctrl+C (or until --count messages were handled, or --timeout seconds passed).
The broker comes from RABBITMQ_URL (default amqp://guest:guest@localhost:5672/%2F).
"""

import argparse
import json
import os

import pika

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"
EXCHANGE = "bank.events"
QUEUE = "notifications"


def notification_for(event: dict) -> str | None:
    """The text to send for `event`, or None when it calls for no notification."""
    if event.get("name") == "UserDeposited":
        return f"to user {event['user_id']}: congratulations on your deposit of {event['amount']}!"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("RABBITMQ_URL", DEFAULT_URL), help="AMQP URL of the broker")
    parser.add_argument("--count", type=int, default=0, help="stop after this many messages (0: never)")
    parser.add_argument("--timeout", type=float, default=0, help="stop after this many seconds (0: never)")
    args = parser.parse_args()

    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    channel = connection.channel()
    channel.exchange_declare(exchange=EXCHANGE, exchange_type="topic", durable=True)
    channel.queue_declare(queue=QUEUE, durable=True)
    channel.queue_bind(queue=QUEUE, exchange=EXCHANGE, routing_key="user.*")
    seen: set[str] = set()
    handled = 0

    def on_message(ch, method, properties, body):
        nonlocal handled
        try:
            event = json.loads(body)
            event_id = event["event_id"]
        except (ValueError, TypeError, KeyError):
            print(f" [!] not an event, rejected: {body[:60]!r}", flush=True)
            ch.basic_reject(method.delivery_tag, requeue=False)
        else:
            text = notification_for(event)
            if event_id in seen:
                print(f" [=] event {event_id} already notified", flush=True)
            elif text:
                print(f" [x] {text}", flush=True)
            else:
                print(f" [-] {event.get('name')}: nothing to notify", flush=True)
            seen.add(event_id)
            ch.basic_ack(method.delivery_tag)
        handled += 1
        if handled == args.count:
            ch.stop_consuming()

    channel.basic_consume(queue=QUEUE, on_message_callback=on_message)
    if args.timeout:
        connection.call_later(args.timeout, channel.stop_consuming)
    print(" [*] Waiting for user events. To exit press CTRL+C", flush=True)
    try:
        channel.start_consuming()
    except KeyboardInterrupt:
        print(" [*] Bye")
    finally:
        if connection.is_open:
            connection.close()


if __name__ == "__main__":
    main()

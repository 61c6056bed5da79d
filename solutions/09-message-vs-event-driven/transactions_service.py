#!/usr/bin/env python
"""Lesson 9, a consumer: the transactions service records every deposit, exactly once.

It owns the durable queue `transactions`, bound to the topic exchange `bank.events` with
`user.deposited`. For each UserDeposited event it records a transaction AND the event's id in one
SQLite transaction, and acknowledges the message only after that commit. An event that was
already handled (a redelivery, or a duplicate publish) is acknowledged without recording it again.
A message that is not a JSON event is rejected without requeue, never retried forever.

Runs until Ctrl+C (or until --count messages were handled, or --timeout seconds passed). The
database is a SQLite file (--db, default transactions.db); the broker comes from RABBITMQ_URL
(default amqp://guest:guest@localhost:5672/%2F).
"""

import argparse
import json
import os
import sqlite3

import pika

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"
EXCHANGE = "bank.events"
QUEUE = "transactions"

SCHEMA = """
CREATE TABLE IF NOT EXISTS transactions (
    id INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    amount INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS handled_events (event_id TEXT PRIMARY KEY);
"""


def record_deposit(db: sqlite3.Connection, event: dict) -> bool:
    """Record the deposit once; False if this event was handled before."""
    with db:
        new = db.execute("INSERT OR IGNORE INTO handled_events (event_id) VALUES (?)", (event["event_id"],))
        if new.rowcount == 0:
            return False
        db.execute("INSERT INTO transactions (event_id, user_id, kind, amount) VALUES (?, ?, 'deposit', ?)",
                   (event["event_id"], event["user_id"], event["amount"]))
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("RABBITMQ_URL", DEFAULT_URL), help="AMQP URL of the broker")
    parser.add_argument("--db", default="transactions.db", help="the service's SQLite file (default: transactions.db)")
    parser.add_argument("--count", type=int, default=0, help="stop after this many messages (0: never)")
    parser.add_argument("--timeout", type=float, default=0, help="stop after this many seconds (0: never)")
    args = parser.parse_args()

    db = sqlite3.connect(args.db)
    db.executescript(SCHEMA)
    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    channel = connection.channel()
    channel.exchange_declare(exchange=EXCHANGE, exchange_type="topic", durable=True)
    channel.queue_declare(queue=QUEUE, durable=True)
    channel.queue_bind(queue=QUEUE, exchange=EXCHANGE, routing_key="user.deposited")
    channel.basic_qos(prefetch_count=10)
    handled = 0

    def on_message(ch, method, properties, body):
        nonlocal handled
        try:
            event = json.loads(body)
            fields = event["event_id"], event["user_id"], event["amount"]
        except (ValueError, TypeError, KeyError):
            print(f" [!] not a deposit event, rejected: {body[:60]!r}", flush=True)
            ch.basic_reject(method.delivery_tag, requeue=False)
        else:
            if record_deposit(db, event):  # committed before the ack below
                print(f" [x] recorded a deposit of {fields[2]} for user {fields[1]} (event {fields[0]})", flush=True)
            else:
                print(f" [=] event {fields[0]} already recorded: acknowledged, nothing done", flush=True)
            ch.basic_ack(method.delivery_tag)
        handled += 1
        if handled == args.count:
            ch.stop_consuming()

    channel.basic_consume(queue=QUEUE, on_message_callback=on_message)
    if args.timeout:
        connection.call_later(args.timeout, channel.stop_consuming)
    print(" [*] Waiting for deposits. To exit press CTRL+C", flush=True)
    try:
        channel.start_consuming()
    except KeyboardInterrupt:
        print(" [*] Bye")
    finally:
        if connection.is_open:
            connection.close()
        db.close()


if __name__ == "__main__":
    main()

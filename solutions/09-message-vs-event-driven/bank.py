#!/usr/bin/env python
"""Lesson 9, the publisher: a tiny bank that records deposits and announces them as events.

    python bank.py open-account 42
    python bank.py deposit 42 100          # records the deposit, then publishes UserDeposited
    python bank.py deposit 42 100 --no-relay   # records it only, as if we crashed after the commit
    python bank.py relay                   # publishes the events still waiting in the outbox

A deposit and its event are written in ONE database transaction (the event into an `outbox`
table). Only after the commit does the relay publish the outbox's events to the topic exchange
`bank.events` (routing key `user.deposited`), as persistent JSON, with publisher confirms, and
mark them sent. So an event never announces a deposit that was rolled back or is not visible yet,
and a crash between the commit and the publish delays the event instead of losing it (it may then
be published twice: the consumers are idempotent).

The bank does not know who listens: it declares only the exchange. The database is a SQLite file
(--db, default bank.db); the broker comes from RABBITMQ_URL
(default amqp://guest:guest@localhost:5672/%2F).
"""

import argparse
import json
import os
import sqlite3
import sys
import uuid
from datetime import datetime, timezone

import pika
import pika.exceptions

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"
EXCHANGE = "bank.events"

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (user_id INTEGER PRIMARY KEY, balance INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS deposits (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES accounts (user_id) DEFERRABLE INITIALLY DEFERRED,
    amount INTEGER NOT NULL CHECK (amount > 0)
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    routing_key TEXT NOT NULL,
    body TEXT NOT NULL,
    published_at TEXT
);
"""


def open_db(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    db.execute("PRAGMA foreign_keys = ON")
    db.executescript(SCHEMA)
    return db


def new_event(name: str, **data) -> dict:
    return {"event_id": str(uuid.uuid4()), "name": name,
            "occurred_at": datetime.now(timezone.utc).isoformat(), **data}


def open_account(db: sqlite3.Connection, user_id: int) -> None:
    with db:
        db.execute("INSERT OR IGNORE INTO accounts (user_id) VALUES (?)", (user_id,))


def deposit(db: sqlite3.Connection, user_id: int, amount: int) -> dict:
    """Record the deposit and its event in one transaction; raises sqlite3.IntegrityError (and
    records nothing) for a missing account or an amount that is not positive."""
    with db:
        cursor = db.execute("INSERT INTO deposits (user_id, amount) VALUES (?, ?)", (user_id, amount))
        db.execute("UPDATE accounts SET balance = balance + ? WHERE user_id = ?", (amount, user_id))
        event = new_event("UserDeposited", user_id=user_id, amount=amount, deposit_id=cursor.lastrowid)
        db.execute("INSERT INTO outbox (event_id, routing_key, body) VALUES (?, ?, ?)",
                   (event["event_id"], "user.deposited", json.dumps(event)))
    return event


def relay(db: sqlite3.Connection, url: str) -> int:
    """Publish the outbox's unsent events in order, each marked sent once the broker confirmed it.
    Returns how many were published."""
    pending = db.execute("SELECT id, routing_key, body FROM outbox WHERE published_at IS NULL ORDER BY id").fetchall()
    if not pending:
        return 0
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.exchange_declare(exchange=EXCHANGE, exchange_type="topic", durable=True)
        channel.confirm_delivery()
        for row_id, routing_key, body in pending:
            event = json.loads(body)
            # Not mandatory: an event that nobody subscribed to yet is not an error.
            channel.basic_publish(
                exchange=EXCHANGE,
                routing_key=routing_key,
                body=body,
                properties=pika.BasicProperties(
                    content_type="application/json",
                    message_id=event["event_id"],
                    type=event["name"],
                    delivery_mode=pika.DeliveryMode.Persistent,
                ),
            )  # returns once the broker confirmed; raises NackError otherwise
            with db:
                db.execute("UPDATE outbox SET published_at = ? WHERE id = ?",
                           (datetime.now(timezone.utc).isoformat(), row_id))
            print(f" [x] published {event['name']} {event['event_id']} ({routing_key})", flush=True)
    finally:
        if connection.is_open:
            connection.close()
    return len(pending)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("RABBITMQ_URL", DEFAULT_URL), help="AMQP URL of the broker")
    parser.add_argument("--db", default="bank.db", help="the bank's SQLite file (default: bank.db)")
    commands = parser.add_subparsers(dest="command", required=True)
    opening = commands.add_parser("open-account", help="open an account")
    opening.add_argument("user_id", type=int)
    depositing = commands.add_parser("deposit", help="deposit an amount, then publish UserDeposited")
    depositing.add_argument("user_id", type=int)
    depositing.add_argument("amount", type=int)
    depositing.add_argument("--no-relay", action="store_true",
                            help="leave the event in the outbox (as if the bank died right after the commit)")
    commands.add_parser("relay", help="publish the events still waiting in the outbox")
    args = parser.parse_args()

    db = open_db(args.db)
    try:
        if args.command == "open-account":
            open_account(db, args.user_id)
            print(f" [x] account {args.user_id} is open")
        elif args.command == "deposit":
            try:
                event = deposit(db, args.user_id, args.amount)
            except sqlite3.IntegrityError as exc:
                print(f" [!] deposit refused ({exc}): is account {args.user_id} open, and the amount "
                      "positive? Nothing was recorded and nothing published.", file=sys.stderr)
                return 1
            print(f" [x] deposited {args.amount} for user {args.user_id} (deposit {event['deposit_id']})")
            if not args.no_relay:
                relay(db, args.url)
        else:
            print(f" [x] relayed {relay(db, args.url)} event(s)")
    except pika.exceptions.NackError:
        print(" [!] the broker refused an event; it stays in the outbox: run `bank.py relay` later",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(" [*] Interrupted; unsent events stay in the outbox")
    finally:
        db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

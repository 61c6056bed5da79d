#!/usr/bin/env python
"""Lesson 13: read a stream over AMQP 0-9-1 from an offset of your choice, and keep reading.

Reading a stream removes nothing: run it twice and both runs read the same messages. Each line
printed is `<offset> <body>`. Ctrl+C stops it (so do --count and --idle).

Examples:
    python receive.py                         # from the first message, then wait for new ones
    python receive.py --offset next           # only what is published from now on
    python receive.py --offset last           # the last chunk written, then new ones
    python receive.py --offset 42             # from offset 42
    python receive.py --since 10m             # what was written in the last 10 minutes (s, m, h, d)
    python receive.py --count 5 --idle 2      # stop after 5 messages, or after 2 s without one

The broker comes from RABBITMQ_URL (default amqp://guest:guest@localhost:5672/%2F).
"""

import argparse
import datetime
import os
import sys

import pika
import pika.exceptions

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def starting_point(offset: str, since: str | None):
    """The value of the x-stream-offset consumer argument."""
    if since:
        amount, unit = since[:-1], since[-1:]
        if not amount.isdigit() or unit not in UNITS:
            raise ValueError(f"--since wants a number and one of s, m, h, d (like 10m), not {since!r}")
        return datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(**{UNITS[unit]: int(amount)})
    if offset in ("first", "last", "next"):
        return offset
    if offset.isdigit():
        return int(offset)
    raise ValueError(f"--offset wants first, last, next or a number, not {offset!r}")


def close(connection) -> None:
    """Close, on a stream. pika's close() first cancels the consumer, and cancelling rejects the
    deliveries pika holds but has not handed over yet (up to the prefetch, when we stop early);
    a stream cannot take a message back, so the broker answers a reject by closing the connection
    (540 NOT_IMPLEMENTED). Nothing is lost (the stream keeps every message, and a reader's place
    is its offset, not its acks), and the connection was closing anyway."""
    try:
        if connection.is_open:
            connection.close()
    except pika.exceptions.ConnectionClosedByBroker as exc:
        if exc.reply_code != 540:
            raise


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stream", default="readings", help="the stream (default: readings)")
    parser.add_argument("--offset", default="first", help="first, last, next or a number (default: first)")
    parser.add_argument("--since", help="start at a time instead: 30s, 10m, 2h, 1d ago")
    parser.add_argument("--count", type=int, default=0, help="stop after this many messages (default: never)")
    parser.add_argument("--idle", type=float, default=0, help="stop after this many seconds without a message")
    args = parser.parse_args()
    try:
        start = starting_point(args.offset, args.since)
    except ValueError as exc:
        parser.error(str(exc))

    connection = pika.BlockingConnection(pika.URLParameters(os.environ.get("RABBITMQ_URL", DEFAULT_URL)))
    channel = connection.channel()
    channel.basic_qos(prefetch_count=100)  # a stream consumer must set one
    read = 0
    print(f"reading {args.stream!r} from {start}; Ctrl+C stops", flush=True)
    try:
        for method, properties, body in channel.consume(args.stream, inactivity_timeout=args.idle or None,
                                                        arguments={"x-stream-offset": start}):
            if method is None:
                break  # --idle seconds without a message
            print(f"{properties.headers['x-stream-offset']} {body.decode(errors='replace')}", flush=True)
            channel.basic_ack(method.delivery_tag)  # deletes nothing: it moves the prefetch window on
            read += 1
            if args.count and read >= args.count:
                break
    except KeyboardInterrupt:
        pass
    except pika.exceptions.ChannelClosedByBroker as exc:
        print(f"the broker refused: {exc.reply_text} (is {args.stream!r} a stream? run send.py first)", file=sys.stderr)
        return 1
    finally:
        close(connection)
    print(f"read {read} message{'s' * (read != 1)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

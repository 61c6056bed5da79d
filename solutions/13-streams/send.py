#!/usr/bin/env python
"""Lesson 13: publish messages to a stream over AMQP 0-9-1, each confirmed by the broker.

The stream is declared first (durable, with the lesson's retention: 7 days, at most 20 MB, in
segments of 1 MB), so the script works on a fresh broker and again on the same one.

Examples:
    python send.py "reading 1" "reading 2"
    python send.py --count 5                      # "message 0" .. "message 4"
    python send.py --stream telemetry --count 3

The broker comes from RABBITMQ_URL (default amqp://guest:guest@localhost:5672/%2F).
"""

import argparse
import os
import sys

import pika
import pika.exceptions

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"
RETENTION = {"x-max-age": "7D", "x-max-length-bytes": 20_000_000, "x-stream-max-segment-size-bytes": 1_000_000}


def declare_stream(channel, name: str) -> None:
    channel.queue_declare(queue=name, durable=True, arguments={"x-queue-type": "stream", **RETENTION})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("messages", nargs="*", help="the bodies to publish, in order")
    parser.add_argument("--count", type=int, default=0, help="publish 'message 0' .. 'message N-1' instead")
    parser.add_argument("--stream", default="readings", help="the stream (default: readings)")
    args = parser.parse_args()
    bodies = args.messages or [f"message {n}" for n in range(args.count)]
    if not bodies:
        parser.error("give messages to publish, or --count N")

    connection = pika.BlockingConnection(pika.URLParameters(os.environ.get("RABBITMQ_URL", DEFAULT_URL)))
    try:
        channel = connection.channel()
        try:
            declare_stream(channel, args.stream)
        except pika.exceptions.ChannelClosedByBroker as exc:
            print(f"cannot declare the stream {args.stream!r}: {exc.reply_text} (is it a queue of another type? "
                  "delete it first)", file=sys.stderr)
            return 1
        channel.confirm_delivery()
        for body in bodies:
            try:
                channel.basic_publish(exchange="", routing_key=args.stream, body=body.encode(),
                                      properties=pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent))
            except pika.exceptions.NackError:
                print(f"refused by the broker: {body!r}", file=sys.stderr)
                return 1
            print(f"confirmed: {body!r}", flush=True)
    except KeyboardInterrupt:
        return 130
    finally:
        if connection.is_open:
            connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""Lesson 8: declare the reliable job topology (the same as in the notebook).

    queue "work"        durable; rejected messages go to the exchange "work.dlx", key "work.dead"
    exchange "work.dlx" direct, durable
    queue "work.dead"   durable, bound to "work.dlx" with "work.dead": the dead letters
    queue "work.retry"  durable, nobody consumes it; messages expire after 500 ms and go back
                        to "work" through the default exchange (a delayed retry)

Queue arguments are fixed when a queue is created: if one of these queues exists with other
arguments, RabbitMQ refuses with PRECONDITION_FAILED (inequivalent arg); --reset deletes them first
(with their messages). The broker comes from RABBITMQ_URL (default amqp://guest:guest@localhost:5672/%2F).
"""

import argparse
import os
import sys

import pika
import pika.exceptions

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"

WORK = "work"
DEAD_LETTER_EXCHANGE = "work.dlx"
DEAD = "work.dead"
RETRY = "work.retry"
RETRY_DELAY_MS = 500

WORK_ARGUMENTS = {"x-dead-letter-exchange": DEAD_LETTER_EXCHANGE, "x-dead-letter-routing-key": DEAD}
RETRY_ARGUMENTS = {"x-message-ttl": RETRY_DELAY_MS, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": WORK}


def declare_topology(channel) -> None:
    """Declare the exchanges, queues and bindings above (idempotent when they already match)."""
    channel.exchange_declare(exchange=DEAD_LETTER_EXCHANGE, exchange_type="direct", durable=True)
    channel.queue_declare(queue=DEAD, durable=True)
    channel.queue_bind(queue=DEAD, exchange=DEAD_LETTER_EXCHANGE, routing_key=DEAD)
    channel.queue_declare(queue=WORK, durable=True, arguments=WORK_ARGUMENTS)
    channel.queue_declare(queue=RETRY, durable=True, arguments=RETRY_ARGUMENTS)


def delete_topology(channel) -> None:
    for queue in (WORK, DEAD, RETRY):
        channel.queue_delete(queue=queue)
    channel.exchange_delete(exchange=DEAD_LETTER_EXCHANGE)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("RABBITMQ_URL", DEFAULT_URL), help="AMQP URL of the broker")
    parser.add_argument("--reset", action="store_true", help="delete the queues and the exchange first")
    args = parser.parse_args()

    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    try:
        channel = connection.channel()
        if args.reset:
            delete_topology(channel)
            print(f" [*] Deleted {WORK}, {DEAD}, {RETRY} and {DEAD_LETTER_EXCHANGE}")
        try:
            declare_topology(channel)
        except pika.exceptions.ChannelClosedByBroker as exc:
            if exc.reply_code != 406:
                raise
            print(f" [!] RabbitMQ refused: {exc.reply_text}", file=sys.stderr)
            print("     A queue exists with other arguments. Run again with --reset to delete and "
                  "redeclare it (its messages are lost).", file=sys.stderr)
            return 1
    finally:
        if connection.is_open:
            connection.close()
    print(f" [x] {WORK} -> {DEAD_LETTER_EXCHANGE} -> {DEAD} (rejected jobs); "
          f"{RETRY} -> {WORK} after {RETRY_DELAY_MS} ms (delayed retries)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

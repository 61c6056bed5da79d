#!/usr/bin/env python
"""Lesson 6, the RPC server: answer Fibonacci requests that arrive in the queue `rpc_queue`.

A request's body is a whole number n (as text); the reply, sent to the queue named in the
request's `reply_to` with the same `correlation_id`, is fib(n) as text. A request that is not a
whole number between 0 and --max-n is rejected (not requeued) and never answered.

Run several servers to share the load: each takes one request at a time (prefetch 1).
Runs until Ctrl+C (or until --count requests were answered, or --timeout seconds passed).
The broker comes from RABBITMQ_URL (default amqp://guest:guest@localhost:5672/%2F).
"""

import argparse
import os

import pika

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"
QUEUE = "rpc_queue"


def fib(n: int) -> int:
    """The n-th Fibonacci number, fib(0) = 0 and fib(1) = 1, in n steps."""
    previous, current = 0, 1
    for _ in range(n):
        previous, current = current, previous + current
    return previous


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("RABBITMQ_URL", DEFAULT_URL), help="AMQP URL of the broker")
    parser.add_argument("--count", type=int, default=0, help="stop after answering this many requests (0: never)")
    parser.add_argument("--timeout", type=float, default=0, help="stop after this many seconds (0: never)")
    parser.add_argument("--max-n", type=int, default=100_000, help="refuse larger n (default: %(default)s)")
    args = parser.parse_args()

    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    channel = connection.channel()
    channel.queue_declare(queue=QUEUE, durable=True)
    channel.basic_qos(prefetch_count=1)
    answered = 0

    def on_request(ch, method, properties, body):
        nonlocal answered
        try:
            n = int(body)
        except ValueError:
            n = -1
        if not 0 <= n <= args.max_n:
            print(f" [!] Refused {body[:40]!r}: not a whole number from 0 to {args.max_n}", flush=True)
            ch.basic_reject(delivery_tag=method.delivery_tag, requeue=False)
            return
        print(f" [.] fib({n})", flush=True)
        if properties.reply_to:
            ch.basic_publish(exchange="", routing_key=properties.reply_to, body=str(fib(n)).encode(),
                             properties=pika.BasicProperties(correlation_id=properties.correlation_id))
        else:
            print(" [!] The request names no reply_to queue: nobody to answer", flush=True)
        ch.basic_ack(delivery_tag=method.delivery_tag)  # after replying: a crash before means a redelivery
        answered += 1
        if answered == args.count:
            ch.stop_consuming()

    channel.basic_consume(queue=QUEUE, on_message_callback=on_request)
    if args.timeout:
        connection.call_later(args.timeout, channel.stop_consuming)
    try:
        # Inside the try: a Ctrl+C right after this line is still a clean stop.
        print(" [x] Awaiting RPC requests. To exit press CTRL+C", flush=True)
        channel.start_consuming()
    except KeyboardInterrupt:
        print(" [*] Bye")
    finally:
        if connection.is_open:
            connection.close()


if __name__ == "__main__":
    main()

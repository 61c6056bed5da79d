#!/usr/bin/env python
"""Lesson 6, the RPC client: ask rpc_server.py for fib(n) and print the answer.

    python rpc_client.py 30               # prints  [.] Got 832040
    python rpc_client.py 30 --timeout 2   # gives up after 2 s without an answer (exit status 1)

The client sends the request to `rpc_queue` with `reply_to` naming its own callback queue (a
server-named exclusive queue) and a fresh `correlation_id`; it keeps only the reply that carries
that id. `FibonacciRpcClient.call` raises TimeoutError when no answer comes in time; the request
then expires in `rpc_queue`, so a server started later does not compute it for nobody.
The broker comes from RABBITMQ_URL (default amqp://guest:guest@localhost:5672/%2F).
"""

import argparse
import os
import sys
import time
import uuid

import pika

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"
QUEUE = "rpc_queue"


class FibonacciRpcClient:
    def __init__(self, url: str):
        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()
        self.callback_queue = self.channel.queue_declare(queue="", exclusive=True).method.queue
        self.channel.basic_consume(queue=self.callback_queue, on_message_callback=self._on_reply, auto_ack=True)
        self._waiting_for = None
        self._answer = None

    def _on_reply(self, ch, method, properties, body):
        if properties.correlation_id == self._waiting_for:
            self._answer = body
        # Anything else is a late reply to an earlier call, or not meant for us: ignore it.

    def call(self, n: int, timeout: float = 5.0) -> int:
        """fib(n) from the server; TimeoutError if no answer arrives within `timeout` seconds."""
        self._waiting_for, self._answer = str(uuid.uuid4()), None
        self.channel.basic_publish(
            exchange="",
            routing_key=QUEUE,
            body=str(n).encode(),
            properties=pika.BasicProperties(reply_to=self.callback_queue, correlation_id=self._waiting_for,
                                            expiration=str(max(1, int(timeout * 1000)))),
        )
        deadline = time.monotonic() + timeout
        while self._answer is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._waiting_for = None
                raise TimeoutError(f"no answer to fib({n}) within {timeout:g} s")
            self.connection.process_data_events(time_limit=remaining)
        return int(self._answer)

    def close(self) -> None:
        if self.connection.is_open:
            self.connection.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", type=int, help="which Fibonacci number to ask for")
    parser.add_argument("--timeout", type=float, default=5.0, help="give up after this many seconds (default: 5)")
    parser.add_argument("--url", default=os.environ.get("RABBITMQ_URL", DEFAULT_URL), help="AMQP URL of the broker")
    args = parser.parse_args()

    client = FibonacciRpcClient(args.url)
    try:
        print(f" [x] Requesting fib({args.n})", flush=True)
        answer = client.call(args.n, timeout=args.timeout)
    except TimeoutError:
        print(f" [!] No answer within {args.timeout:g} s: is rpc_server.py running?", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(" [*] Bye")
        return 0
    finally:
        client.close()
    print(f" [.] Got {answer}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""Lesson 13: read a stream over the stream protocol (rstream) and resume where the last run stopped.

The broker keeps the offset of the last message this reader processed, under its name
(--name), in the stream itself: stop it (Ctrl+C, --count, --idle) and start it again, and it
reads on from the next message, nothing twice and nothing missed. Another --name reads from the
first message. Each line printed is `<offset> <body>`.

Examples:
    python track.py                           # the reader "dashboard" on the stream "readings"
    python track.py --count 3                 # read 3, store the offset, stop
    python track.py --name audit --idle 2     # another reader, from the first; stop after 2 s idle

The broker comes from RABBITMQ_URL (host, user, password and vhost; default
amqp://guest:guest@localhost:5672/%2F) and the stream port from RABBITMQ_STREAM_PORT (default 5552;
the broker needs `rabbitmq-plugins enable rabbitmq_stream`).
"""

import argparse
import asyncio
import os
import signal
import sys
from urllib.parse import unquote, urlsplit

from rstream import Consumer, ConsumerOffsetSpecification, OffsetNotFound, OffsetType, amqp_decoder

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"
STORE_EVERY = 100  # store the offset every this many messages, and when stopping


def stream_options() -> dict:
    url = urlsplit(os.environ.get("RABBITMQ_URL", DEFAULT_URL))
    return {"host": url.hostname or "localhost", "port": int(os.environ.get("RABBITMQ_STREAM_PORT") or 5552),
            "username": unquote(url.username or "guest"), "password": unquote(url.password or "guest"),
            "vhost": unquote(url.path[1:]) if len(url.path) > 1 else "/", "load_balancer_mode": True}


async def track(stream: str, name: str, count: int, idle: float) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, stop.set)  # Ctrl+C: stop cleanly, storing the offset
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    read, last, stored = 0, None, None
    activity = asyncio.Event()
    async with Consumer(**stream_options()) as consumer:
        try:
            stored = await consumer.query_offset(stream, name)
            start = ConsumerOffsetSpecification(OffsetType.OFFSET, stored + 1)
            print(f"{name}: resuming after offset {stored}", flush=True)
        except OffsetNotFound:
            start = ConsumerOffsetSpecification(OffsetType.FIRST)
            print(f"{name}: no offset stored yet, reading from the first message", flush=True)

        async def on_message(message, context):
            nonlocal read, last
            if stop.is_set():
                return  # past the end we chose: not processed, so its offset is not stored
            print(f"{context.offset} {bytes(message.body).decode(errors='replace')}", flush=True)
            read, last = read + 1, context.offset
            activity.set()
            if read % STORE_EVERY == 0:
                await consumer.store_offset(stream, name, last)
            if count and read >= count:
                stop.set()

        await consumer.subscribe(stream, on_message, decoder=amqp_decoder, offset_specification=start)
        while not stop.is_set():
            activity.clear()
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(activity.wait())]
            done, pending = await asyncio.wait(waiters, timeout=idle or None, return_when=asyncio.FIRST_COMPLETED)
            for waiter in pending:
                waiter.cancel()
            if not done:
                break  # --idle seconds without a message
        if last is not None:
            await consumer.store_offset(stream, name, last)
    print(f"{name}: read {read}, stored offset {last if last is not None else stored}", flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stream", default="readings", help="the stream (default: readings)")
    parser.add_argument("--name", default="dashboard", help="the reader's name, under which its offset is kept")
    parser.add_argument("--count", type=int, default=0, help="stop after this many messages (default: never)")
    parser.add_argument("--idle", type=float, default=0, help="stop after this many seconds without a message")
    args = parser.parse_args()
    try:
        return asyncio.run(track(args.stream, args.name, args.count, args.idle))
    except ConnectionError as exc:
        print(f"cannot reach the stream port ({exc}): is the stream plugin on (rabbitmq-plugins enable "
              "rabbitmq_stream), and RABBITMQ_STREAM_PORT right?", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
